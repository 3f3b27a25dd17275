"""Checksum manifest of the raw data: `data/MANIFEST.sha256`, in `sha256sum` format.

    python -m analysis.data.manifest write   [--data-dir DIR]   record every file of data/
    python -m analysis.data.manifest verify  [--data-dir DIR] [--checksums-only]
                                                                check data/ against it

The manifest lists every file under data/ except itself: `<sha256>  <path relative to data/>`,
sorted by path (so `cd data && sha256sum -c MANIFEST.sha256` also works). `verify()` is fast
(hashing only; pandas is not imported). On a mismatch it runs the loaders that read the changed
file, so a corrupted file is reported with the loader's file/line/column/value/expectation; a
change that still validates is refused too, because raw data is immutable.

The `verify` command then runs every validator (`validate.report`: domain checks, cross-file
references, plausibility warnings; 1-2 s), because matching checksums prove only that the data
is what was recorded, not that it is valid: a manifest rewritten after an edit (`manifest
write`) or a deleted file that another file still cites must stop the build too.
`--checksums-only` skips that step.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

from ..errors import DataValidationError, display_path

MANIFEST_NAME = "MANIFEST.sha256"
# what `make vendor` last took in from ../shared/data (analysis.data.vendor): not a data file either
VENDORED_NAME = "VENDORED.sha256"
_NOT_DATA = (MANIFEST_NAME, VENDORED_NAME)
_HINT = ("data/ changes only on purpose: if the change is intended, run "
         "`python -m analysis.data.manifest write`")


def _dir(data_dir) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    from .. import paths

    return paths.data_dir()


def data_files(data_dir=None) -> list[str]:
    """Every file under `data_dir` as a path relative to it (forward slashes), sorted; the
    manifest and the vendoring record excluded."""
    root = _dir(data_dir)
    out = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            if rel not in _NOT_DATA:
                out.append(rel)
    return sorted(out)


def sha256_file(path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def compute(data_dir=None) -> dict[str, str]:
    """{relative path: sha256} of every data file (manifest excluded), sorted by path."""
    root = _dir(data_dir)
    return {rel: sha256_file(root / rel) for rel in data_files(root)}


def format_manifest(hashes: dict[str, str]) -> str:
    """The manifest text: one `<sha256>  <path>` line per file, sorted by path."""
    return "".join(f"{hashes[rel]}  {rel}\n" for rel in sorted(hashes))


def write(data_dir=None) -> Path:
    """Write `<data_dir>/MANIFEST.sha256` for the files now in `data_dir` (atomic); its path.

    An up-to-date manifest is left as it is (same bytes, same modification time)."""
    root = _dir(data_dir)
    path = root / MANIFEST_NAME
    text = format_manifest(compute(root))
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return path
    tmp = root / (MANIFEST_NAME + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    os.replace(tmp, path)
    return path


def read(data_dir=None, name: str = MANIFEST_NAME) -> dict[str, str]:
    """{relative path: sha256} from the manifest (or another checksum list of `data_dir` in the
    same format, `name`); a malformed line raises DataValidationError."""
    path = _dir(data_dir) / name
    file = display_path(path)
    if not path.is_file():
        raise DataValidationError(file, None, None, None,
                                  "the checksum manifest to exist (run `make vendor`)")
    out: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, sep, rel = line.partition("  ")
        rel = rel.lstrip("*")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise DataValidationError(file, n, "sha256", line, "'<64 hex digits>  <path>' (sha256sum format)")
        if not rel or rel in out:
            raise DataValidationError(file, n, "path", rel, "a path listed once")
        out[rel] = digest
    return out


def _loader_error(rel: str, root: Path, skip_own: bool = False) -> DataValidationError | None:
    """The first error of the loaders reading `rel` (pandas imported only here)."""
    from .validate import loaders_for

    for _name, fn in loaders_for(rel)[1 if skip_own else 0:]:
        try:
            fn(root)
        except DataValidationError as exc:
            return exc
    return None


def verify(data_dir=None) -> list[str]:
    """Problems of `data_dir` against its manifest, one message each; empty when all files match."""
    root = _dir(data_dir)
    try:
        recorded = read(root)
    except DataValidationError as exc:
        return [str(exc)]
    actual = compute(root)
    manifest = display_path(root / MANIFEST_NAME)
    problems = []
    for rel in sorted(set(recorded) | set(actual)):
        old, new = recorded.get(rel), actual.get(rel)
        if old == new:
            continue
        shown = display_path(root / rel)
        if new is None:
            msg = f"{shown} is missing (listed in {manifest}): {_HINT}"
            err = _loader_error(rel, root, skip_own=True)
        elif old is None:
            msg = f"{shown} is not in {manifest} (added since the manifest was written): {_HINT}"
            err = _loader_error(rel, root)
        else:
            msg = (f"{shown} changed since the manifest was written (checksum {new[:12]}..., "
                   f"{manifest} has {old[:12]}...): {_HINT}")
            err = _loader_error(rel, root)
        if err is not None:
            msg = f"{err}\n  because: {msg}"
        problems.append(msg)
    return problems


def main(argv=None) -> int:
    """CLI entry point; returns the exit code (0 = ok, 1 = problems)."""
    ap = argparse.ArgumentParser(prog="python -m analysis.data.manifest",
                                 description="Write or verify data/MANIFEST.sha256.")
    ap.add_argument("command", choices=("write", "verify"))
    ap.add_argument("--data-dir", default=None, help="data folder (default: data/ of the repo)")
    ap.add_argument("--checksums-only", action="store_true",
                    help="verify: compare checksums only, do not run the validators")
    args = ap.parse_args(argv)
    root = _dir(args.data_dir)
    if args.command == "write":
        path = write(root)
        print(f"wrote {display_path(path)} ({len(read(root))} files)")
        return 0
    problems = verify(root)
    if not problems:
        print(f"{display_path(root)}: {len(read(root))} files match {MANIFEST_NAME}")
        if args.checksums_only:
            return 0
        from .validate import report

        return 1 if report(root, sys.stderr) else 0
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    print(f"data check failed: {len(problems)} problem(s) in {display_path(root)}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
