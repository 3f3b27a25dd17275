"""Helpers for the data tests: edit one cell / line of a CSV copy, keeping its line endings."""

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
    raise LookupError(prefix)


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
    ending = ls[line - 1][len(body):] or "\n"
    buf = io.StringIO()
    csv.writer(buf, lineterminator=ending).writerow(row)
    ls[line - 1] = buf.getvalue()
    write_lines(path, ls)
    return old
