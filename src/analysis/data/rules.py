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


def check_debt_facility_rows(records, file):
    """An amount for principal/commitment/issued rows and none for 'terms' rows; a rate kind with
    every rate and a rate with every rate kind; a range's high end at or above its low end."""
    for r in records:
        amount = r["amount_usd_m"]
        if r["measure"] == "terms" and amount is not None:
            raise DataValidationError(file, r["_line"], "amount_usd_m", amount,
                                      "no amount for measure 'terms' (rate and maturity only)")
        if r["measure"] != "terms" and amount is None:
            raise DataValidationError(file, r["_line"], "amount_usd_m", "",
                                      f"an amount (USD m) for measure '{r['measure']}'")
        if (r["rate_kind"] is None) != (r["rate_pct"] is None):
            col = "rate_kind" if r["rate_kind"] is None else "rate_pct"
            raise DataValidationError(file, r["_line"], col, "", "rate_kind and rate_pct given together")
        high = r["rate_high_pct"]
        if high is not None and (r["rate_pct"] is None or high < r["rate_pct"]):
            raise DataValidationError(file, r["_line"], "rate_high_pct", high,
                                      "the high end of a rate range, >= rate_pct")


MATURITY_TOLERANCE_USD_M = 1.0  # sources rounded to USD millions (a 10-K via a secondary) still add up


def check_maturity_schedule(records, file):
    """'year' buckets name their year, other buckets none; one schedule (as_of, source) has at
    most one total, and its buckets add up to it within `MATURITY_TOLERANCE_USD_M`."""
    groups: dict = {}
    for r in records:
        if (r["bucket"] in ("year", "remaining_year")) != (r["year"] is not None):
            raise DataValidationError(file, r["_line"], "year", "" if r["year"] is None else r["year"],
                                      "a year for buckets 'year' and 'remaining_year' only")
        groups.setdefault((r["as_of"], r["source"]), []).append(r)
    for rows in groups.values():
        totals = [r for r in rows if r["bucket"] == "total"]
        if len(totals) > 1:
            raise DataValidationError(file, totals[1]["_line"], "bucket", "total",
                                      "one total per schedule (as_of, source)")
        if totals:
            parts = sum(r["amount_usd_m"] for r in rows if r["bucket"] != "total")
            tot = totals[0]["amount_usd_m"]
            if abs(parts - tot) > MATURITY_TOLERANCE_USD_M:
                raise DataValidationError(file, totals[0]["_line"], "amount_usd_m", tot,
                                          f"the sum of the schedule's buckets ({parts:.3f})")


# Rules that need only the file's own records, by the name used in `Schema.checks`.
FILE_RULES = {
    "period_dates": check_period_dates,
    "metric_unit": check_metric_unit,
    "day0_after_announced": check_day0_after_announced,
    "date_order": check_date_order,
    "bar_sanity": check_bar_sanity,
    "debt_facility_rows": check_debt_facility_rows,
    "maturity_schedule": check_maturity_schedule,
}
# Rules that need another file (sources.csv, the price files); the loaders apply them.
CROSS_FILE_RULES = {
    "source_exists": check_source_exists,
    "ticker_has_prices": check_ticker_has_prices,
}
