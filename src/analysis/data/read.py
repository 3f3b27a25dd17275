"""Read a raw CSV into typed records, validating every cell against its schema.

Each record keeps `_line`, the 1-based physical line of the file it came from (header = line 1),
so every later rule can name the exact line.
"""

from __future__ import annotations

import csv
import math
import re
from datetime import date
from pathlib import Path

import pandas as pd

from ..errors import DataValidationError, display_path
from . import schema as S

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")


def parse_date(text: str) -> date:
    """Parse an ISO date YYYY-MM-DD (raises ValueError)."""
    if not _DATE_RE.match(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def parse_partial_date(text: str) -> tuple[date, str]:
    """Parse YYYY-MM-DD or YYYY-MM; a month-only date counts from the month's last day.

    Returns (date, precision) with precision 'day' or 'month'. A figure dated only by month is
    treated as public at the end of that month, the earliest date we can be sure of.
    """
    if _DATE_RE.match(text):
        return date.fromisoformat(text), "day"
    if _MONTH_RE.match(text):
        y, m = int(text[:4]), int(text[5:7])
        end = (pd.Timestamp(year=y, month=m, day=1) + pd.offsets.MonthEnd(0)).date()
        return end, "month"
    raise ValueError(text)


_EXPECT = {
    "date": "an ISO date YYYY-MM-DD",
    "pdate": "an ISO date YYYY-MM-DD or a month YYYY-MM",
    "float": "a number",
    "int": "a whole number",
}


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
        raise DataValidationError(file, line, col.name, value, "one of: " + ", ".join(col.choices))
    if col.pattern is not None and not re.fullmatch(col.pattern, value):
        raise DataValidationError(file, line, col.name, value, f"text matching /{col.pattern}/")
    if col.positive and out <= 0:
        raise DataValidationError(file, line, col.name, value, "a positive number")
    if col.min is not None and out < col.min:
        raise DataValidationError(file, line, col.name, value, f"a number >= {col.min:g}")
    if col.max is not None and out > col.max:
        raise DataValidationError(file, line, col.name, value, f"a number <= {col.max:g}")
    return out


def read_records(path: Path, sch: S.Schema) -> list[dict]:
    """Rows of `path` as dicts of typed values (+ `_line`), after per-cell and key checks."""
    file = display_path(path)
    if not path.exists():
        raise DataValidationError(file, None, None, None, "the file to exist (run `make vendor`?)")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DataValidationError(file, 1, None, "", "a header line") from None
        names = [c.name for c in sch.columns]
        missing = [n for n in names if n not in header]
        if missing:
            raise DataValidationError(file, 1, missing[0], ",".join(header),
                                      "a header with columns " + ",".join(names))
        idx = {n: header.index(n) for n in names}
        records = []
        seen: dict[tuple, int] = {}
        start = reader.line_num + 1
        for row in reader:
            line = start
            start = reader.line_num + 1
            if not row:
                continue
            if len(row) != len(header):
                raise DataValidationError(file, line, None, ",".join(row),
                                          f"{len(header)} fields like the header, got {len(row)}")
            rec = {"_line": line}
            for col in sch.columns:
                rec[col.name] = _cell(row[idx[col.name]].strip(), col, file, line)
            if sch.key:
                k = tuple(rec[c] for c in sch.key)
                if k in seen:
                    raise DataValidationError(
                        file, line, "+".join(sch.key), "|".join(map(str, k)),
                        f"a unique key; same key as line {seen[k]}")
                seen[k] = line
            records.append(rec)
    return records


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
