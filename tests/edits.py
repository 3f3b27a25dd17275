"""Edit text files in place, keeping their line endings (data, parameter and notebook copies).

Lines are physical lines, 1-based, with their endings; CSV rows are one-line rows. Every test
that breaks or changes a copy of a file uses these, so an edit means the same everywhere.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path


def lines(path: Path) -> list[str]:
    """Physical lines with their endings (the data files use only \\n or \\r\\n)."""
    return Path(path).read_bytes().decode("utf-8").splitlines(keepends=True)


def write_lines(path: Path, out: list[str]) -> None:
    Path(path).write_bytes("".join(out).encode("utf-8"))


def line_of(path: Path, prefix: str) -> int:
    """1-based number of the first line starting with `prefix`."""
    for n, text in enumerate(lines(path), start=1):
        if text.startswith(prefix):
            return n
    raise LookupError(f"no line starting with {prefix!r} in {path}")


def text_line(path: Path, needle: str, after: int = 0) -> int:
    """1-based number of the first line after line `after` containing `needle`."""
    for n, text in enumerate(lines(path), start=1):
        if n > after and needle in text:
            return n
    raise LookupError(f"no line with {needle!r} in {path}")


def row_line(path: Path, **key) -> int:
    """1-based line of the first CSV row whose columns equal `key`."""
    ls = lines(path)
    header = next(csv.reader([ls[0]]))
    for n, text in enumerate(ls[1:], start=2):
        row = dict(zip(header, next(csv.reader([text])), strict=False))
        if all(row.get(k) == v for k, v in key.items()):
            return n
    raise LookupError(f"{path}: no row with {key}")


def edit_line(path: Path, line: int, change) -> str:
    """Replace `line` by change(old line, ending included); returns the new line."""
    ls = lines(path)
    ls[line - 1] = change(ls[line - 1])
    write_lines(path, ls)
    return ls[line - 1]


def replace_in_line(path: Path, line: int, old: str, new: str) -> str:
    """Replace the first `old` on `line` by `new` (`old` must be there)."""
    def change(text: str) -> str:
        assert old in text, (path, line, old, text)
        return text.replace(old, new, 1)

    return edit_line(path, line, change)


def append_line(path: Path, text: str) -> None:
    ls = lines(path)
    if ls and not ls[-1].endswith("\n"):
        ls[-1] += "\n"
    write_lines(path, [*ls, text + "\n"])


def get_cell(path: Path, line: int, column: str) -> str:
    ls = lines(path)
    header = next(csv.reader([ls[0]]))
    return next(csv.reader([ls[line - 1]]))[header.index(column)]


def set_cell(path: Path, line: int, column: str, value: str) -> str:
    """Set `column` on physical `line` (a one-line row) to `value`; return the old value."""
    ls = lines(path)
    header = next(csv.reader([ls[0]]))
    row = next(csv.reader([ls[line - 1]]))
    old = row[header.index(column)]
    row[header.index(column)] = value
    body = ls[line - 1].rstrip("\r\n")
    buf = io.StringIO()
    csv.writer(buf, lineterminator=ls[line - 1][len(body):] or "\n").writerow(row)
    ls[line - 1] = buf.getvalue()
    write_lines(path, ls)
    return old
