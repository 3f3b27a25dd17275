"""Vendor the shared raw data into the repo's data/ folder, validated, with a fresh manifest.

    python -m analysis.data.vendor [--from ../shared/data] [--data-dir data]

data/ is the project's own: it is extended in place from primary documents. Vendoring takes in
what changed in the source folder (default: `shared/data` beside the repo) since the last
vendoring, and never overwrites a file of data/ that changed locally since then.

`data/VENDORED.sha256` records the checksum of every source file as last taken in. File by file:
- unchanged in the source since that record: data/'s copy is kept as it is (local edits stay);
- changed in the source, data/'s copy unchanged since the record: the source's copy is taken in;
- changed on both sides (or no record yet, and the two differ): a conflict. Vendoring is then
  refused as a whole, naming the files, and data/ is left untouched: merge them by hand, then
  run `python -m analysis.data.manifest write`;
- removed from the source: removed from data/ unless changed locally (then a conflict too);
- present only in data/ and never vendored: kept.

The result is staged next to data/, validated with the loaders, given its MANIFEST.sha256 and the
new record, then swapped in place of data/. Invalid input is refused and data/ is left
untouched. Unchanged files keep their modification time, so `make` rebuilds only what depends on
a file that really changed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .. import paths
from ..errors import DataValidationError, display_path
from . import manifest

_SKIP = (manifest.MANIFEST_NAME, manifest.VENDORED_NAME, "__pycache__")


class VendorError(Exception):
    """Vendoring refused; `errors` holds the DataValidationErrors (paths in the source folder),
    `conflicts` the files of data/ changed locally that vendoring would overwrite or remove."""

    def __init__(self, message: str, errors: list[DataValidationError] | None = None,
                 conflicts: list[str] | None = None):
        self.errors = errors or []
        self.conflicts = conflicts or []
        super().__init__(message)


def default_source() -> Path:
    """The shared data folder beside the repository: `<repo>/../shared/data`."""
    return paths.ROOT.parent / "shared" / "data"


def _ignore(_dir, names):
    return [n for n in names if n in _SKIP or n.startswith(".")]


def _relocate(err: DataValidationError, staged: Path, source: Path) -> DataValidationError:
    """The same error, naming the file in the source folder instead of the staging copy."""
    try:
        rel = Path(err.file).resolve().relative_to(staged.resolve())
    except ValueError:
        return err
    return DataValidationError(display_path(source / rel), err.line, err.column, err.value,
                               err.expected)


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """Relative paths added, removed, modified and unchanged between two {path: sha256} maps."""
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "modified": sorted(r for r in set(before) & set(after) if before[r] != after[r]),
        "unchanged": sorted(r for r in set(before) & set(after) if before[r] == after[r]),
    }


def recorded(data_dir) -> dict[str, str]:
    """{relative path: sha256} of the source files as last vendored into `data_dir` (its
    VENDORED.sha256); empty when there is no record (nothing can then be taken as unchanged)."""
    root = Path(data_dir)
    if not (root / manifest.VENDORED_NAME).is_file():
        return {}
    return manifest.read(root, manifest.VENDORED_NAME)


def plan(record: dict[str, str], local: dict[str, str], source: dict[str, str]) -> dict[str, list[str]]:
    """File-level three-way plan from {path: sha256} maps: the last vendoring `record`, the
    `local` data/ and the `source` folder.

    take: source copy goes in (new upstream, or changed upstream and unchanged locally);
    keep: data/'s copy stays (unchanged upstream, identical on both sides, or local only);
    remove: removed upstream and unchanged locally;
    conflict: changed locally since the record and changed (or removed) upstream differently.
    A file of data/ absent from the record counts as changed locally.
    """
    out: dict[str, list[str]] = {"take": [], "keep": [], "remove": [], "conflict": []}
    for rel in sorted(set(local) | set(source)):
        rec, loc, src = record.get(rel), local.get(rel), source.get(rel)
        if src is None:
            if loc is None:
                continue
            out["keep" if rec is None else ("remove" if loc == rec else "conflict")].append(rel)
        elif loc is None or loc == src:
            out["take" if loc is None else "keep"].append(rel)
        elif src == rec:
            out["keep"].append(rel)  # upstream unchanged: the local edit stays
        elif loc == rec:
            out["take"].append(rel)
        else:
            out["conflict"].append(rel)
    return out


def vendor(source=None, data_dir=None) -> dict[str, list[str]]:
    """Take the changes of `source` (default `default_source()`) since the last vendoring into
    `data_dir` (default data/), validated, with a fresh manifest and record; return the change
    lists of data/ (see `diff`) plus `kept_local` (files changed locally and kept).

    Raises VendorError, leaving `data_dir` untouched, when the source is missing, any file fails
    its loader (or is neither documentation nor read by a loader), or a file changed locally
    since the last vendoring would be overwritten or removed (`conflicts` names them).
    """
    from .validate import validate_all  # imports pandas: only when vendoring

    src = Path(source) if source is not None else default_source()
    dest = Path(data_dir) if data_dir is not None else paths.data_dir()
    if not src.is_dir():
        raise VendorError(f"no data folder to vendor at {display_path(src)}")
    if dest.exists() and src.resolve() == dest.resolve():
        raise VendorError(f"source and destination are the same folder: {display_path(src)}")
    source_sums = manifest.compute(src)
    before = manifest.compute(dest) if dest.is_dir() else {}
    steps = plan(recorded(dest) if dest.is_dir() else {}, before, source_sums)
    if steps["conflict"]:
        names = ", ".join(display_path(dest / rel) for rel in steps["conflict"])
        raise VendorError(
            f"refused to vendor {display_path(src)}: {len(steps['conflict'])} file(s) of "
            f"{display_path(dest)} changed since the last vendoring and changed in the source too: "
            f"{names}; merge them by hand, then run `python -m analysis.data.manifest write`; "
            f"{display_path(dest)} left untouched", conflicts=steps["conflict"])
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-vendor-", dir=dest.parent))
    try:
        new = staging / dest.name
        shutil.copytree(src, new, ignore=_ignore, copy_function=shutil.copyfile)
        for rel in steps["remove"]:
            (new / rel).unlink(missing_ok=True)
        for rel in steps["keep"]:  # data/'s own copy (a local edit, or a local-only file)
            (new / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(dest / rel, new / rel)
        for d in [new, *(p for p in new.rglob("*") if p.is_dir())]:
            os.chmod(d, 0o755)  # the source may be read-only; data/ must stay replaceable
        errors = validate_all(new)
        if errors:
            raise VendorError(
                f"refused to vendor {display_path(src)}: {len(errors)} problem(s); "
                f"{display_path(dest)} left untouched",
                [_relocate(e, new, src) for e in errors])
        manifest.write(new)
        (new / manifest.VENDORED_NAME).write_text(manifest.format_manifest(source_sums),
                                                  encoding="utf-8", newline="\n")
        after = manifest.read(new)
        changes = diff(before, after)
        changes["kept_local"] = sorted(r for r in steps["keep"] if source_sums.get(r) != before.get(r))
        for rel in [*changes["unchanged"], manifest.MANIFEST_NAME, manifest.VENDORED_NAME]:
            old = dest / rel
            if old.is_file() and old.read_bytes() == (new / rel).read_bytes():
                st = old.stat()
                os.utime(new / rel, ns=(st.st_atime_ns, st.st_mtime_ns))
        if dest.exists():
            os.replace(dest, staging / (dest.name + ".old"))
        os.replace(new, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return changes


def main(argv=None) -> int:
    """CLI entry point; returns the exit code (0 = vendored, 1 = refused)."""
    ap = argparse.ArgumentParser(prog="python -m analysis.data.vendor",
                                 description="Copy the shared data into data/, validated.")
    ap.add_argument("--from", dest="source", default=None,
                    help="source folder (default: shared/data beside the repo)")
    ap.add_argument("--data-dir", default=None, help="destination (default: data/ of the repo)")
    args = ap.parse_args(argv)
    src = Path(args.source) if args.source else default_source()
    dest = Path(args.data_dir) if args.data_dir else paths.data_dir()
    try:
        changes = vendor(src, dest)
    except VendorError as exc:
        for err in exc.errors:
            print(f"error: {err}", file=sys.stderr)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from .validate import plausibility_warnings

    for w in plausibility_warnings(dest):
        print(f"warning: {w} (not an error: check the figure against its source)", file=sys.stderr)
    n = {k: len(v) for k, v in changes.items()}
    print(f"vendored {display_path(src)} -> {display_path(dest)}: {n['added']} added, "
          f"{n['removed']} removed, {n['modified']} modified, {n['unchanged']} unchanged")
    for mark, key in (("+", "added"), ("-", "removed"), ("~", "modified")):
        for rel in changes[key]:
            print(f"  {mark} {rel}")
    for rel in changes["kept_local"]:
        print(f"  = {rel} (changed in data/ since the last vendoring, unchanged in the source: kept)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
