"""Read a raw CSV into typed records, validating every cell against its schema.

Each record keeps `_line`, the 1-based physical line of the file where its row starts (header =
line 1; a quoted field spanning several lines moves the following rows down accordingly), so
every later rule can name the exact line. Structural problems (missing file, empty file, header
with missing/extra/duplicate columns, wrong field count, unbalanced quotes, bad encoding) are
reported the same way as bad cells: one `DataValidationError` with file, line, column, value and
what was expected.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
from datetime import date
from pathlib import Path

import pandas as pd

from ..errors import DataValidationError, display_path
from . import schema as S

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")


@functools.lru_cache(maxsize=16384)  # price files repeat the same dates across tickers
def parse_date(text: str) -> date:
    """Parse an ISO date YYYY-MM-DD (raises ValueError)."""
    if not _DATE_RE.match(text):
        raise ValueError(text)
    return date.fromisoformat(text)


@functools.lru_cache(maxsize=4096)
def parse_partial_date(text: str) -> tuple[date, str]:
    """Parse YYYY-MM-DD or YYYY-MM; a month-only date counts from the month's last day.

    Returns (date, precision) with precision 'day' or 'month'. A figure dated only by month is
    treated as public at the end of that month, the earliest date we can be sure of.
    """
    if _DATE_RE.match(text):
        return date.fromisoformat(text), "day"
    if _MONTH_RE.match(text):
        y, m = int(text[:4]), int(text[5:7])
        if not 1 <= m <= 12:
            raise ValueError(text)
        end = (pd.Timestamp(year=y, month=m, day=1) + pd.offsets.MonthEnd(0)).date()
        return end, "month"
    raise ValueError(text)


_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")

_EXPECT = {
    "date": "an ISO date YYYY-MM-DD",
    "pdate": "an ISO date YYYY-MM-DD or a month YYYY-MM",
    "float": "a number",
    "int": "a whole number",
}


def _choices_text(choices: tuple[str, ...]) -> str:
    if len(choices) <= 12:
        return "one of: " + ", ".join(choices)
    return (f"one of the {len(choices)} known values (" + ", ".join(choices[:6])
            + ", ...; see analysis/data/schema.py)")


def _cell(value: str, col: S.Col, file: str, line: int):
    if value == "":
        if col.required:
            raise DataValidationError(file, line, col.name, value, f"a value ({_EXPECT.get(col.kind, 'text')})")
        return None
    try:
        if col.kind == "date":
            out = parse_date(value)
        elif col.kind == "pdate":
            out = parse_partial_date(value)
        elif col.kind == "float":
            out = float(value)
            if not math.isfinite(out):
                raise ValueError(value)
        elif col.kind == "int":
            out = int(value)
        else:
            out = value
    except ValueError:
        raise DataValidationError(file, line, col.name, value, _EXPECT[col.kind]) from None
    if col.choices is not None and out not in col.choices:
        raise DataValidationError(file, line, col.name, value, _choices_text(col.choices))
    if col.pattern is not None and not re.fullmatch(col.pattern, value):
        raise DataValidationError(file, line, col.name, value, f"text matching /{col.pattern}/")
    if col.positive and out <= 0:
        raise DataValidationError(file, line, col.name, value, "a positive number")
    if col.min is not None and out < col.min:
        raise DataValidationError(file, line, col.name, value, f"a number >= {col.min:g}")
    if col.max is not None and out > col.max:
        raise DataValidationError(file, line, col.name, value, f"a number <= {col.max:g}")
    if col.range is not None and (problem := col.range.problem(out)) is not None:
        raise DataValidationError(file, line, col.name, value, problem)
    return out


def read_text(path: Path) -> str:
    """The text of a data file (UTF-8, optional BOM), or a DataValidationError naming the problem."""
    return decode(read_bytes(path), path)


def read_bytes(path: Path) -> bytes:
    path = Path(path)
    if not path.is_file():
        what = "a directory" if path.is_dir() else None
        raise DataValidationError(display_path(path), None, None, what,
                                  "the file to exist (run `make vendor`)")
    return path.read_bytes()


def decode(raw: bytes, path) -> str:
    """Decode UTF-8 (a leading BOM is dropped); bad bytes are reported with their line."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start: exc.end]
        raise DataValidationError(display_path(path), line, None, bad, "UTF-8 text") from None


def _quote_problem(text: str) -> tuple[int, str]:
    """(0-based field index, problem) of the first quoting error in the row starting `text`."""
    field, i, n = 0, 0, len(text)
    at_start = True
    while i < n:
        ch = text[i]
        if at_start and ch == '"':
            j = i + 1
            while True:
                k = text.find('"', j)
                if k < 0:
                    return field, "a closing quote for the quoted field opened here"
                if k + 1 < n and text[k + 1] == '"':
                    j = k + 2
                    continue
                break
            i = k + 1
            if i < n and text[i] not in ",\r\n":
                return field, "a comma or line end right after a closing quote"
            at_start = False
            continue
        if ch == ",":
            field, at_start = field + 1, True
        elif ch in "\r\n":
            break
        else:
            at_start = False
        i += 1
    return field, "well-formed CSV quoting"


def read_records(path: Path, sch: S.Schema, text: str | None = None) -> list[dict]:
    """Rows of `path` as dicts of typed values (+ `_line`), after per-cell and key checks.

    `text` is the file's content when the caller has already read it.
    """
    file = display_path(path)
    if text is None:
        text = read_text(Path(path))
    names = [c.name for c in sch.columns]
    if not text.strip():
        raise DataValidationError(file, 1, None, "", "a header line: " + ",".join(names))
    lines = _LINE_RE.findall(text)  # physical lines as csv counts them (\n, \r\n or \r)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error:
        field, expected = _quote_problem(text)
        raise DataValidationError(file, 1, f"field {field + 1}", lines[0].rstrip("\r\n"),
                                  expected) from None
    _check_header(header, names, file)
    idx = {n: header.index(n) for n in names}
    records = []
    seen: dict[tuple, int] = {}
    start = reader.line_num + 1
    while True:
        line = start
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            field, expected = _quote_problem("".join(lines[line - 1:]))
            column = header[field] if field < len(header) else f"field {field + 1}"
            raise DataValidationError(file, line, column, lines[line - 1].rstrip("\r\n"),
                                      expected) from None
        start = reader.line_num + 1
        if not row:
            continue  # blank line
        if len(row) != len(header):
            raw = "".join(lines[line - 1: reader.line_num]).rstrip("\r\n")
            if len(row) < len(header):
                column = header[len(row)]
                expected = (f"{len(header)} fields like the header, got {len(row)}: "
                            f"no field for column '{column}'")
            else:
                column = f"field {len(header) + 1}"
                expected = (f"{len(header)} fields like the header, got {len(row)}: "
                            "a value beyond the last column (unquoted comma?)")
            raise DataValidationError(file, line, column, raw, expected)
        rec = {"_line": line}
        for col in sch.columns:
            rec[col.name] = _cell(row[idx[col.name]].strip(), col, file, line)
        if sch.key:
            k = tuple(rec[c] for c in sch.key)
            if k in seen:
                raw_key = "|".join(row[idx[c]].strip() for c in sch.key)
                raise DataValidationError(
                    file, line, "+".join(sch.key), raw_key,
                    f"a unique ({', '.join(sch.key)}); same as line {seen[k]}")
            seen[k] = line
        records.append(rec)
    if not records:
        raise DataValidationError(file, 2, None, "", "at least one data row after the header")
    return records


def _check_header(header: list[str], names: list[str], file: str) -> None:
    got = ",".join(header)
    want = "a header with exactly the columns " + ",".join(names)
    for i, h in enumerate(header):
        if h in header[:i]:
            raise DataValidationError(file, 1, h, got, want + f" (column '{h}' appears twice)")
    missing = [n for n in names if n not in header]
    if missing:
        raise DataValidationError(file, 1, missing[0], got, want + f" (missing '{missing[0]}')")
    extra = [h for h in header if h not in names]
    if extra:
        raise DataValidationError(file, 1, extra[0], got, want + f" (unexpected '{extra[0]}')")


def to_frame(records: list[dict], sch: S.Schema) -> pd.DataFrame:
    """Typed DataFrame from records; dates become datetime64, partial dates add `<col>_precision`."""
    cols = [c.name for c in sch.columns]
    df = pd.DataFrame.from_records(records, columns=["_line", *cols])
    for col in sch.columns:
        if col.kind == "date":
            df[col.name] = pd.to_datetime(df[col.name])
        elif col.kind == "pdate":
            vals = df[col.name]
            df[col.name + "_precision"] = [v[1] if v else None for v in vals]
            df[col.name] = pd.to_datetime([v[0] if v else None for v in vals])
        elif col.kind in ("float", "int"):
            df[col.name] = pd.to_numeric(df[col.name], errors="raise").astype("float64")
        else:
            df[col.name] = df[col.name].astype(object)
    return df
