"""Vendor the shared raw data into the repo's data/ folder, validated, with a fresh manifest.

    python -m analysis.data.vendor [--from ../shared/data] [--data-dir data]

Copies the source folder (default: `shared/data` beside the repo) into a temporary folder next
to data/, validates every file there with the loaders, writes its MANIFEST.sha256, then swaps it
in place of data/ (files removed upstream disappear). Invalid input is refused and data/ is left
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

_SKIP = (manifest.MANIFEST_NAME, "__pycache__")


class VendorError(Exception):
    """Vendoring refused; `errors` holds the DataValidationErrors (paths in the source folder)."""

    def __init__(self, message: str, errors: list[DataValidationError] | None = None):
        self.errors = errors or []
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


def vendor(source=None, data_dir=None) -> dict[str, list[str]]:
    """Replace `data_dir` (default data/) by a validated copy of `source` (default
    `default_source()`) plus its manifest; return the change lists (see `diff`).

    Raises VendorError, leaving `data_dir` untouched, when the source is missing or any file
    fails its loader (or is neither documentation nor read by a loader).
    """
    from .validate import validate_all  # imports pandas: only when vendoring

    src = Path(source) if source is not None else default_source()
    dest = Path(data_dir) if data_dir is not None else paths.data_dir()
    if not src.is_dir():
        raise VendorError(f"no data folder to vendor at {display_path(src)}")
    if dest.exists() and src.resolve() == dest.resolve():
        raise VendorError(f"source and destination are the same folder: {display_path(src)}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-vendor-", dir=dest.parent))
    try:
        new = staging / dest.name
        shutil.copytree(src, new, ignore=_ignore, copy_function=shutil.copyfile)
        for d in [new, *(p for p in new.rglob("*") if p.is_dir())]:
            os.chmod(d, 0o755)  # the source may be read-only; data/ must stay replaceable
        errors = validate_all(new)
        if errors:
            raise VendorError(
                f"refused to vendor {display_path(src)}: {len(errors)} problem(s); "
                f"{display_path(dest)} left untouched",
                [_relocate(e, new, src) for e in errors])
        manifest.write(new)
        before = manifest.compute(dest) if dest.is_dir() else {}
        after = manifest.read(new)
        changes = diff(before, after)
        for rel in [*changes["unchanged"], manifest.MANIFEST_NAME]:
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
