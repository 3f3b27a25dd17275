"""Rules across the cells of a row, across rows, and across files."""

from __future__ import annotations

from datetime import date

import pandas as pd

from ..errors import DataValidationError
from . import schema as S


def period_bounds(code: str) -> tuple[date, date]:
    """Calendar start and end of a period code (FY2025, 2025Q3, 2025H1, 2025-9M)."""
    m = S.PERIOD_RE.match(code)
    if not m:
        raise ValueError(code)
    if m["fy"]:
        y = int(m["fy"])
        return date(y, 1, 1), date(y, 12, 31)
    if m["qy"]:
        y, q = int(m["qy"]), int(m["q"])
        start = date(y, 3 * q - 2, 1)
        end = (pd.Timestamp(start) + pd.offsets.QuarterEnd(0)).date()
        return start, end
    if m["hy"]:
        y = int(m["hy"])
        return date(y, 1, 1), date(y, 6, 30)
    y = int(m["ny"])
    return date(y, 1, 1), date(y, 9, 30)


def check_period_dates(records, file):
    for r in records:
        start, end = period_bounds(r["period"])
        for col, want in (("period_start", start), ("period_end", end)):
            if r[col] != want:
                raise DataValidationError(file, r["_line"], col, r[col].isoformat(),
                                          f"{want.isoformat()} for period {r['period']}")


def check_metric_unit(records, file):
    for r in records:
        want = S.METRIC_UNITS[r["metric"]]
        if r["unit"] != want:
            raise DataValidationError(file, r["_line"], "unit", r["unit"],
                                      f"'{want}' for metric {r['metric']}")


def check_source_exists(records, file, source_ids):
    for r in records:
        if r["source"] not in source_ids:
            raise DataValidationError(file, r["_line"], "source", r["source"],
                                      "a source id listed in sources.csv")


def check_day0_after_announced(records, file):
    for r in records:
        if r["day0"] < r["announced"]:
            raise DataValidationError(file, r["_line"], "day0", r["day0"].isoformat(),
                                      f"a date on or after announced ({r['announced'].isoformat()})")


def check_date_order(records, file):
    prev = None
    for r in records:
        if prev is not None and r["date"] <= prev:
            raise DataValidationError(file, r["_line"], "date", r["date"].isoformat(),
                                      f"dates in increasing order (after {prev.isoformat()})")
        prev = r["date"]


def check_bar_sanity(records, file):
    for r in records:
        o, h, lo, c = r["open"], r["high"], r["low"], r["close"]
        if c is None and r["adj_close"] is None:
            raise DataValidationError(file, r["_line"], "close", "", "a close or an adj_close")
        if h is not None and lo is not None and h < lo:
            raise DataValidationError(file, r["_line"], "high", h, f"high >= low ({lo})")
        for col, v in (("close", c), ("open", o)):
            if v is None:
                continue
            if lo is not None and v < lo * (1 - 1e-9):
                raise DataValidationError(file, r["_line"], col, v, f"{col} within [low, high]: >= low ({lo})")
            if h is not None and v > h * (1 + 1e-9):
                raise DataValidationError(file, r["_line"], col, v, f"{col} within [low, high]: <= high ({h})")


def check_ticker_has_prices(records, file, tickers):
    for r in records:
        if r["ticker"] not in tickers:
            raise DataValidationError(file, r["_line"], "ticker", r["ticker"],
                                      "a ticker with a price file prices/<TICKER>.csv: " + ", ".join(sorted(tickers)))


# Rules that need only the file's own records, by the name used in `Schema.checks`.
FILE_RULES = {
    "period_dates": check_period_dates,
    "metric_unit": check_metric_unit,
    "day0_after_announced": check_day0_after_announced,
    "date_order": check_date_order,
    "bar_sanity": check_bar_sanity,
}
# Rules that need another file (sources.csv, the price files); the loaders apply them.
CROSS_FILE_RULES = {
    "source_exists": check_source_exists,
    "ticker_has_prices": check_ticker_has_prices,
}
