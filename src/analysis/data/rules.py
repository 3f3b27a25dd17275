"""Rules across the cells of a row, across rows, and across files; plausibility warnings.

A rule raises `DataValidationError` (file, line, column, value, expectation). A figure that is
inside its range but jumps against its neighbours is not an error: `neighbour_jumps` returns
`DataWarning`s, which the data checks print and the build goes on.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from ..errors import DataValidationError
from . import ranges
from . import schema as S

#: consecutive price rows at most this many calendar days apart: the longest US market closure
#: since 1933 (after 11 September 2001) ran from a Monday to the next Monday
MAX_PRICE_GAP_DAYS = 7
#: a close this many times above (or below 1/x of) both the previous and the next close is flagged
PRICE_SPIKE = 3.0


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


def check_value_range(records, file):
    """Each figure within its metric's plausible range (`ranges.METRIC_RANGES`)."""
    for r in records:
        problem = ranges.metric_range(r["metric"]).problem(r["value"])
        if problem is not None:
            raise DataValidationError(file, r["_line"], "value", r["value"], f"{r['metric']}: {problem}")


def check_not_after_snapshot(records, file, columns, snapshot: date | None, what: str):
    """Dates in `columns` on or before the data's snapshot date (a month-only date counts from
    its first day here: it may be the snapshot's own month). `what` explains the snapshot."""
    if snapshot is None:
        return
    for r in records:
        for col in columns:
            v = r[col]
            if v is None:
                continue
            if isinstance(v, tuple):  # partial date: (month end or day, precision)
                d, precision = v
                shown = d.isoformat()[:7] if precision == "month" else d.isoformat()
                if precision == "month":
                    d = d.replace(day=1)
            else:
                d, shown = v, v.isoformat()
            if d > snapshot:
                raise DataValidationError(file, r["_line"], col, shown,
                                          f"a date on or before {what} ({snapshot.isoformat()})")


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
    """Dates increase, with no gap longer than an exchange closure (MAX_PRICE_GAP_DAYS)."""
    prev = None
    for r in records:
        if prev is not None and r["date"] <= prev:
            raise DataValidationError(file, r["_line"], "date", r["date"].isoformat(),
                                      f"dates in increasing order (after {prev.isoformat()})")
        if prev is not None and r["date"] > prev + timedelta(days=MAX_PRICE_GAP_DAYS):
            raise DataValidationError(
                file, r["_line"], "date", r["date"].isoformat(),
                f"the next trading day after {prev.isoformat()}: at most {MAX_PRICE_GAP_DAYS} "
                "calendar days later (missing weekdays are exchange holidays; no US closure was longer)")
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


def missing_prices_text(ticker, tickers, prices_dir=None) -> str:
    """Expectation for a ticker without a price file; names the missing file."""
    where = f"{prices_dir}/{ticker}.csv" if prices_dir else f"prices/{ticker}.csv"
    return (f"a ticker with a price file ({where} does not exist; price files: "
            + ", ".join(sorted(tickers)) + ")")


def check_ticker_has_prices(records, file, tickers, prices_dir=None):
    for r in records:
        if r["ticker"] not in tickers:
            raise DataValidationError(file, r["_line"], "ticker", r["ticker"],
                                      missing_prices_text(r["ticker"], tickers, prices_dir))


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
    "value_range": check_value_range,
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


# ---- plausibility warnings ------------------------------------------------------------------

@dataclass(frozen=True)
class DataWarning:
    """A figure inside its range that looks implausible against its neighbours (not an error)."""

    file: str
    line: int
    column: str
    value: object
    message: str

    def __str__(self) -> str:
        return f"{self.file}, line {self.line}, column '{self.column}': {self.value!r} {self.message}"


def _quarter_index(code: str) -> int | None:
    m = S.PERIOD_RE.match(code)
    return int(m["qy"]) * 4 + int(m["q"]) - 1 if m and m["qy"] else None


def _quarter_code(i: int) -> str:
    return f"{i // 4}Q{i % 4 + 1}"


def quarter_jumps(records, file, factor: float | None = None) -> list[DataWarning]:
    """Quarterly figures of metrics that cannot be negative, `factor` (default: the metric's
    `Range.jump`) times above, or below 1/factor of, every adjacent quarter that has the metric
    (the adjacent quarter's median across sources). Annual figures are not compared (a young
    company grows more than 10x a year)."""
    by_metric: dict[str, dict[int, list]] = {}
    for r in records:
        q = _quarter_index(r["period"])
        rng = ranges.metric_range(r["metric"])
        if q is None or rng.lo is None or rng.lo < 0:
            continue
        by_metric.setdefault(r["metric"], {}).setdefault(q, []).append(r)
    out = []
    for metric, quarters in sorted(by_metric.items()):
        f = factor or ranges.metric_range(metric).jump
        ref = {q: statistics.median(r["value"] for r in rows) for q, rows in quarters.items()}
        for q, rows in sorted(quarters.items()):
            nbrs = {n: ref[n] for n in (q - 1, q + 1) if n in ref and ref[n] > 0}
            if not nbrs:
                continue
            for r in rows:
                v = r["value"]
                if v <= 0:
                    continue
                up, down = v / max(nbrs.values()), min(nbrs.values()) / v
                if up >= f or down >= f:
                    size = f"{up:.3g}x" if up >= f else f"1/{down:.3g} of"
                    adj = ", ".join(f"{_quarter_code(n)}: {nbrs[n]:g}" for n in sorted(nbrs))
                    out.append(DataWarning(file, r["_line"], "value", v,
                                           f"({metric}, {r['period']}) is {size} the adjacent "
                                           f"quarter(s) ({adj}): a unit slip or a typo?"))
    return out


def price_spikes(records, file, factor: float = PRICE_SPIKE) -> list[DataWarning]:
    """Closes (or adj_closes where close is absent) `factor` times above, or below 1/factor of,
    both the previous and the next row's: a one-day spike that reverts is a typo, not a market."""
    col = [("close" if r["close"] is not None else "adj_close") for r in records]
    px = [r[c] for r, c in zip(records, col, strict=True)]
    out = []
    for i in range(1, len(records) - 1):
        a, b, c = px[i - 1], px[i], px[i + 1]
        if a is None or b is None or c is None:
            continue
        up = b / a >= factor and b / c >= factor
        if up or (a / b >= factor and c / b >= factor):
            size = (lambda x: f"{x:.3g}x") if up else (lambda x: f"1/{1 / x:.3g} of")
            out.append(DataWarning(file, records[i]["_line"], col[i], b,
                                   f"is {size(b / a)} the previous row's ({a:g}) and {size(b / c)} "
                                   f"the next row's ({c:g}): a one-day spike, a typo?"))
    return out
