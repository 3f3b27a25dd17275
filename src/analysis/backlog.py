"""Backlog conversion: backlog/RPO panel, roll-forward, contract ledger, guidance history, delay scenario.

Two measures are kept strictly apart everywhere in this module:

- **revenue backlog** (`basis="revenue_backlog"`): company-defined, RPO plus other committed
  amounts (e.g. the NVIDIA capacity agreement, OpenAI before its accounting was settled);
- **RPO** (`basis="rpo"`): remaining performance obligations under ASC 606.

No function adds, subtracts or compares one with the other; a roll-forward is computed for one
measure at a time. Money in USD millions, shares of a balance as fractions (0.58 = 58%), dates as
``datetime64``, quarters as labels ``"2025Q3"`` (calendar = fiscal quarters). Balance-sheet values
at 31 December are filed under the fiscal year (``FY2025``); they are mapped to the Q4 column here
(one cell per quarter: a figure filed under both ``FY2025`` and ``2025Q4`` is one candidate set,
never counted twice). Where several sources give a figure for the same cell, the one with the
highest confidence is used (then source kind: filing > press release > transcript > secondary >
news; then the earliest publication, undated last; then file line: the rule of
`analysis.fundamentals.best_figures`); the others are listed in ``alternatives`` with their values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .labels import metric_label
from .precision import is_approximate, ratio_unit, rounding_unit, sum_unit

CONF_RANK = {"high": 3, "medium": 2, "low": 1}
KIND_RANK = {"filing": 5, "press_release": 4, "transcript": 3, "secondary": 2, "news": 1}
DAYS_PER_YEAR = 365.25
DAYS_PER_QUARTER = DAYS_PER_YEAR / 4
#: Verdict wording of the delay scenario (a convention of this note): revenue shifted out of a
#: quarter below SHIFT_SMALL of a quarter's revenue is "a small part", below SHIFT_MATERIAL
#: "a material part", otherwise "a large part" (fractions).
SHIFT_SMALL = 0.05
SHIFT_MATERIAL = 0.25

# metric in fundamentals.csv -> (basis, column name in the wide panel, unit after conversion)
BACKLOG_METRICS: dict[str, tuple[str, str, str]] = {
    "revenue_backlog": ("revenue_backlog", "revenue_backlog", "usd_m"),
    "revenue_backlog_within_24m_pct": ("revenue_backlog", "revenue_backlog_within_24m_share", "fraction"),
    "revenue_backlog_within_48m_pct": ("revenue_backlog", "revenue_backlog_within_48m_share", "fraction"),
    "rpo_total": ("rpo", "rpo_total", "usd_m"),
    "rpo_within_24m_pct": ("rpo", "rpo_within_24m_share", "fraction"),
    "rpo_months_25_48_pct": ("rpo", "rpo_months_25_48_share", "fraction"),
}
MEASURES = {"revenue_backlog": "revenue_backlog", "rpo": "rpo_total"}


# ---- quarter labels ----------------------------------------------------------------------

def quarter_label(ts) -> str:
    """Timestamp -> calendar quarter label: 2025-09-30 -> '2025Q3'."""
    ts = pd.Timestamp(ts)
    return f"{ts.year}Q{(ts.month - 1) // 3 + 1}"


def shift_quarter(label: str, n: int) -> str:
    """'2025Q3' shifted by n quarters: ('2025Q3', 1) -> '2025Q4'; ('2025Q1', -1) -> '2024Q4'."""
    y, q = int(label[:4]), int(label[-1])
    k = y * 4 + (q - 1) + n
    return f"{k // 4}Q{k % 4 + 1}"


def quarter_end(label: str) -> pd.Timestamp:
    """Last day of a quarter label: '2025Q3' -> 2025-09-30."""
    return pd.Period(label, freq="Q").end_time.normalize()


# ---- picking one figure per cell -----------------------------------------------------------

def _rank_frame(rows: pd.DataFrame) -> pd.DataFrame:
    r = rows.assign(
        _conf=rows["confidence"].map(CONF_RANK).fillna(0),
        _kind=rows["source_kind"].map(KIND_RANK).fillna(0),
        _dated=rows["published"].notna().astype(int),
    )
    return r.sort_values(["_conf", "_kind", "_dated", "published", "line"],
                         ascending=[False, False, False, True, True], na_position="last")


def _plain(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.3f}"


def _alternatives(ranked: pd.DataFrame, unit_scale: float = 1.0) -> str:
    rest = ranked.iloc[1:]
    return "; ".join(
        f"{r.source} {_plain(r.value * unit_scale)} ({r.confidence}, {r.period})" for r in rest.itertuples()
    )


def stock_rows(fund: pd.DataFrame, metrics) -> pd.DataFrame:
    """Rows of balance-type (stock) `metrics` with a `quarter` column = quarter of `period_end`.

    A year-end figure filed under ``FY2025`` lands in ``2025Q4``, like one filed under ``2025Q4``.
    """
    rows = fund[fund["metric"].isin(list(metrics))].copy()
    rows["quarter"] = [quarter_label(t) for t in rows["period_end"]]
    return rows


def backlog_panel(fund: pd.DataFrame) -> pd.DataFrame:
    """Backlog and RPO by quarter, long format: one row per (quarter, metric), best source.

    `fund` = `load_fundamentals(as_of=...)`. Columns: quarter, period_end, basis
    ('revenue_backlog' = company-defined, 'rpo' = ASC 606), metric (name in fundamentals.csv),
    column (name in `backlog_wide`), value (USD m; `_pct` metrics converted to fractions),
    unit ('usd_m' or 'fraction'), filed_under (period of the chosen row, e.g. 'FY2025'), source,
    source_kind, confidence, published, undated, n_sources, alternatives (other sources' values,
    in the source's unit), sources_agree (all candidates equal), note, approximate (the note marks
    the figure as approximate, e.g. 'about $104B'), rounding_unit (its precision in the value's
    unit, 0 when exact: `analysis.precision`).
    """
    rows = stock_rows(fund, BACKLOG_METRICS)
    out = []
    for (q, metric), g in rows.groupby(["quarter", "metric"], sort=True):
        ranked = _rank_frame(g)
        best = ranked.iloc[0]
        basis, col, unit = BACKLOG_METRICS[metric]
        scale = 0.01 if unit == "fraction" else 1.0
        out.append({
            "quarter": q, "period_end": quarter_end(q), "basis": basis, "metric": metric, "column": col,
            "value": float(best["value"]) * scale, "unit": unit, "filed_under": best["period"],
            "source": best["source"], "source_kind": best["source_kind"], "confidence": best["confidence"],
            "published": best["published"], "undated": bool(best["undated"]),
            "n_sources": int(len(ranked)), "alternatives": _alternatives(ranked),
            "sources_agree": bool((ranked["value"] == best["value"]).all()),
            "note": best["note"] if isinstance(best["note"], str) else "",
            "approximate": is_approximate(best["note"]),
            "rounding_unit": rounding_unit(float(best["value"]) * scale, is_approximate(best["note"]),
                                           max_unit=1000.0 if unit == "usd_m" else 0.0),
        })
    cols = ["quarter", "period_end", "basis", "metric", "column", "value", "unit", "filed_under", "source",
            "source_kind", "confidence", "published", "undated", "n_sources", "alternatives",
            "sources_agree", "note", "approximate", "rounding_unit"]
    df = pd.DataFrame(out, columns=cols)
    return df.sort_values(["basis", "metric", "quarter"]).reset_index(drop=True)


def backlog_wide(panel: pd.DataFrame, with_sources: bool = True) -> pd.DataFrame:
    """The panel as one row per quarter (column 'quarter'): revenue_backlog (USD m) and its
    timing shares, then rpo_total (USD m) and its timing shares (fractions); with `with_sources`,
    a `<column>_source` and `<column>_confidence` after each value. Missing cells stay NaN."""
    quarters = sorted(panel["quarter"].unique())
    out = pd.DataFrame({"quarter": quarters})
    for metric, (_, col, _) in BACKLOG_METRICS.items():
        sub = panel[panel["metric"] == metric].set_index("quarter")
        out[col] = out["quarter"].map(sub["value"]).astype(float)
        if with_sources:
            out[col + "_source"] = out["quarter"].map(sub["source"]).astype(object)
            out[col + "_confidence"] = out["quarter"].map(sub["confidence"]).astype(object)
    return out


TIMING_WINDOWS = {  # metric -> (window label, years the window spans)
    "revenue_backlog_within_24m_pct": ("months 1-24", 2.0),
    "revenue_backlog_within_48m_pct": ("months 1-48", 4.0),
    "rpo_within_24m_pct": ("months 1-24", 2.0),
    "rpo_months_25_48_pct": ("months 25-48", 2.0),
}


def timing_amounts(panel: pd.DataFrame) -> pd.DataFrame:
    """Disclosed timing shares turned into amounts, each against its own measure's balance.

    One row per (quarter, timing metric) with a balance of the same basis and quarter: quarter,
    basis, window, share (fraction), balance (USD m), amount = share x balance (USD m), per_year =
    amount / years in the window (USD m a year), sources (share; balance, each id once), confidence
    (lowest), derived (always True: computed here, not reported). Sorted by quarter, measure, window.
    """
    rows = []
    for r in panel[panel["metric"].isin(list(TIMING_WINDOWS))].itertuples():
        bal = panel[(panel["metric"] == MEASURES[r.basis]) & (panel["quarter"] == r.quarter)]
        if bal.empty:
            continue
        b = bal.iloc[0]
        window, yrs = TIMING_WINDOWS[r.metric]
        amount = r.value * float(b["value"])
        rows.append({"quarter": r.quarter, "basis": r.basis, "window": window, "share": r.value,
                     "balance": float(b["value"]), "amount": amount, "per_year": amount / yrs,
                     "sources": "; ".join(dict.fromkeys([r.source, b["source"]])),
                     "confidence": _min_conf(r.confidence, b["confidence"]), "derived": True})
    out = pd.DataFrame(rows, columns=["quarter", "basis", "window", "share", "balance", "amount", "per_year",
                                      "sources", "confidence", "derived"])
    return out.sort_values(["quarter", "basis", "window"], kind="stable").reset_index(drop=True)


def measure_series(panel: pd.DataFrame, basis: str) -> pd.DataFrame:
    """One measure's balances by quarter: quarter, value (USD m), source, confidence, published,
    rounding_unit (0 when exact).

    `basis` = 'revenue_backlog' or 'rpo'. Only that measure's rows are returned."""
    if basis not in MEASURES:
        raise ValueError(f"basis must be one of {sorted(MEASURES)}, not {basis!r}")
    sub = panel[(panel["basis"] == basis) & (panel["metric"] == MEASURES[basis])]
    if "rounding_unit" not in sub.columns:
        sub = sub.assign(rounding_unit=0.0)
    return sub[["quarter", "value", "source", "confidence", "published", "rounding_unit"]].reset_index(drop=True)


def stock_figure(fund: pd.DataFrame, metric: str, quarter: str, fallback_back: int = 0) -> dict:
    """Best figure of a stock `metric` (e.g. contracted_power_mw) at the end of `quarter`.

    With `fallback_back` > 0, the latest earlier quarter (up to that many back) is used when the
    quarter itself has none; the dict says which quarter was used. Keys: value, unit, quarter,
    source, source_kind, confidence, published, note, reason (why missing; '' when found).
    """
    rows = stock_rows(fund, [metric])
    for k in range(0, fallback_back + 1):
        q = shift_quarter(quarter, -k)
        g = rows[rows["quarter"] == q]
        if len(g):
            b = _rank_frame(g).iloc[0]
            return {"value": float(b["value"]), "unit": b["unit"], "quarter": q, "source": b["source"],
                    "source_kind": b["source_kind"], "confidence": b["confidence"],
                    "published": b["published"], "note": b["note"] if isinstance(b["note"], str) else "",
                    "reason": ""}
    return {"value": math.nan, "unit": None, "quarter": None, "source": None, "source_kind": None,
            "confidence": None, "published": pd.NaT, "note": "",
            "reason": f"no {metric} at or up to {fallback_back} quarters before {quarter}"}


# ---- roll-forward ---------------------------------------------------------------------------

def revenue_frame(panel) -> pd.DataFrame:
    """Quarterly revenue with provenance from an `analysis.fundamentals.quarterly_panel` Panel.

    Returns quarter, revenue (USD m), revenue_source, revenue_confidence, revenue_derived."""
    vals = panel.values["revenue"]
    prov = panel.provenance[panel.provenance["metric"] == "revenue"].set_index("quarter")
    out = pd.DataFrame({"quarter": [str(q) for q in vals.index], "revenue": vals.to_numpy(dtype=float)})
    out["revenue_source"] = out["quarter"].map(prov["source"]).astype(object)
    out["revenue_confidence"] = out["quarter"].map(prov["confidence"]).astype(object)
    out["revenue_derived"] = out["quarter"].map(prov["derived"]).fillna(False).astype(bool)
    return out


def _min_conf(*levels) -> str | None:
    ranks = [CONF_RANK[c] for c in levels if isinstance(c, str) and c in CONF_RANK]
    if len(ranks) < len(levels):
        return None
    inv = {v: k for k, v in CONF_RANK.items()}
    return inv[min(ranks)]


def rollforward(panel: pd.DataFrame, revenue: pd.DataFrame, basis: str = "revenue_backlog") -> pd.DataFrame:
    """Backlog roll-forward for one measure (`basis` 'revenue_backlog' or 'rpo'), by quarter.

    `revenue`: quarter, revenue (USD m), revenue_source, revenue_confidence, revenue_derived
    (see `revenue_frame`). For each quarter t with a balance:

    - bookings = backlog(t) - backlog(t-1) + revenue(t): implied gross bookings, USD m (it nets
      out cancellations, re-measurements and contract changes, so it is *implied*, not reported);
    - book_to_bill = bookings / revenue(t) (ratio);
    - coverage_years = backlog(t) / (4 x revenue(t)) (years of current quarterly revenue);
    - conversion = revenue(t) / backlog(t-1) (fraction of the opening balance recognised in a quarter).

    backlog(t-1) must be the immediately preceding quarter; when it or revenue(t) is missing the
    measures are NaN and `reason` says why (never filled). `confidence` = lowest of the inputs.
    `<x>_unit` columns: the precision each figure carries from approximate balances (USD m for
    balances and bookings, the figure's own unit for ratios; 0 = exact; `analysis.precision`).
    """
    bal = measure_series(panel, basis).set_index("quarter")
    rev = revenue.set_index("quarter")
    rows = []
    for q in sorted(bal.index):
        p = shift_quarter(q, -1)
        b = float(bal.at[q, "value"])
        has_prev = p in bal.index
        bp = float(bal.at[p, "value"]) if has_prev else math.nan
        has_rev = q in rev.index and pd.notna(rev.at[q, "revenue"])
        r = float(rev.at[q, "revenue"]) if has_rev else math.nan
        reasons = []
        if not has_prev:
            reasons.append(f"no {metric_label(basis)} balance at {p}")
        if not has_rev:
            reasons.append(f"no revenue for {q}")
        bookings = b - bp + r
        u_b = float(bal.at[q, "rounding_unit"])
        u_p = float(bal.at[p, "rounding_unit"]) if has_prev else 0.0
        rows.append({
            "quarter": q, "basis": basis, "backlog": b, "backlog_source": bal.at[q, "source"],
            "backlog_confidence": bal.at[q, "confidence"],
            "backlog_prev": bp, "backlog_prev_source": bal.at[p, "source"] if has_prev else None,
            "backlog_prev_confidence": bal.at[p, "confidence"] if has_prev else None,
            "revenue": r, "revenue_source": rev.at[q, "revenue_source"] if has_rev else None,
            "revenue_confidence": rev.at[q, "revenue_confidence"] if has_rev else None,
            "revenue_derived": bool(rev.at[q, "revenue_derived"]) if has_rev else False,
            "bookings": bookings,
            "book_to_bill": bookings / r if has_rev and r != 0 else math.nan,
            "coverage_years": b / (4 * r) if has_rev and r > 0 else math.nan,
            "conversion": r / bp if has_prev and bp > 0 else math.nan,
            "confidence": _min_conf(bal.at[q, "confidence"],
                                    bal.at[p, "confidence"] if has_prev else None,
                                    rev.at[q, "revenue_confidence"] if has_rev else None),
            "reason": "; ".join(reasons),
            "backlog_unit": u_b, "backlog_prev_unit": u_p,
            "bookings_unit": sum_unit(u_b, u_p),
            "book_to_bill_unit": ratio_unit(bookings / r if has_rev and r else math.nan,
                                            (bookings, sum_unit(u_b, u_p))),
            "coverage_unit": ratio_unit(b / (4 * r) if has_rev and r > 0 else math.nan, (b, u_b)),
            "conversion_unit": ratio_unit(r / bp if has_prev and bp > 0 else math.nan, (bp, u_p)),
        })
    cols = ["quarter", "basis", "backlog", "backlog_source", "backlog_confidence", "backlog_prev",
            "backlog_prev_source", "backlog_prev_confidence", "revenue", "revenue_source",
            "revenue_confidence", "revenue_derived", "bookings", "book_to_bill", "coverage_years",
            "conversion", "confidence", "reason", "backlog_unit", "backlog_prev_unit", "bookings_unit",
            "book_to_bill_unit", "coverage_unit", "conversion_unit"]
    return pd.DataFrame(rows, columns=cols)


def latest_complete(rf: pd.DataFrame, col: str = "book_to_bill") -> pd.Series | None:
    """The latest roll-forward row where `col` is not missing (None if there is none)."""
    ok = rf[rf[col].notna()]
    return None if ok.empty else ok.iloc[-1]


# ---- contract ledger ------------------------------------------------------------------------

BOOKING_KINDS = ("customer_contract", "capacity_agreement")


@dataclass
class ContractLedger:
    """Announced contracts against implied bookings.

    by_quarter: quarter, bookings (implied, USD m), bookings_confidence, announced_usd_m (sum of
    dated customer/capacity contracts announced in the quarter), n_contracts, counterparties,
    explained_share (announced / bookings, fraction; NaN when bookings are missing or <= 0).
    contracts: each dated booking-type contract with its quarter of announcement.
    undated: booking-type contracts without an announced date (never placed in a quarter).
    other: rows that are not bookings (acquisitions, terminations).
    """

    by_quarter: pd.DataFrame
    contracts: pd.DataFrame
    undated: pd.DataFrame
    other: pd.DataFrame
    sources: list = field(default_factory=list)


def contract_ledger(contracts: pd.DataFrame, rf: pd.DataFrame) -> ContractLedger:
    """Announced customer contracts by quarter of announcement vs implied bookings of `rf`.

    `contracts` = `load_contracts(as_of=...)` (values are 'up to' amounts, USD m); `rf` = a
    `rollforward` table (one basis). A contract's quarter is the quarter of its `announced` date,
    which can differ from the quarter it was signed and booked (see each row's `note`). Contracts
    with no announced date are listed in `undated`, never guessed into a quarter.
    """
    c = contracts.copy()
    keep = ["announced", "counterparty", "kind", "value_usd_m", "source", "source_kind", "note"]
    is_booking = c["kind"].isin(BOOKING_KINDS)
    dated = c[is_booking & c["announced"].notna()].copy()
    dated["quarter"] = [quarter_label(t) for t in dated["announced"]]
    dated = dated[["quarter", *keep]].sort_values("announced").reset_index(drop=True)
    undated = c[is_booking & c["announced"].isna()][keep].reset_index(drop=True)
    other = c[~is_booking][keep].reset_index(drop=True)

    quarters = sorted(set(rf["quarter"]) | set(dated["quarter"]))
    bk = rf.set_index("quarter")
    rows = []
    for q in quarters:
        g = dated[dated["quarter"] == q]
        ann = float(g["value_usd_m"].sum()) if len(g) else 0.0
        b = float(bk.at[q, "bookings"]) if q in bk.index else math.nan
        rows.append({
            "quarter": q, "bookings": b,
            "bookings_confidence": bk.at[q, "confidence"] if q in bk.index else None,
            "announced_usd_m": ann, "n_contracts": int(len(g)),
            "counterparties": ", ".join(f"{r.counterparty} ({r.source})" for r in g.itertuples()),
            "explained_share": ann / b if pd.notna(b) and b > 0 else math.nan,
        })
    by_q = pd.DataFrame(rows, columns=["quarter", "bookings", "bookings_confidence", "announced_usd_m",
                                       "n_contracts", "counterparties", "explained_share"])
    srcs = list(dict.fromkeys([*dated["source"], *undated["source"]]))
    return ContractLedger(by_quarter=by_q, contracts=dated, undated=undated, other=other, sources=srcs)


# ---- guidance -------------------------------------------------------------------------------

def guidance_history(fund: pd.DataFrame, metric: str = "revenue", actuals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every guidance range for `metric` by guided period and publication date, vs the outcome.

    `fund` = `load_fundamentals(as_of=...)` (so only guidance public by `as_of` is seen); rows
    `<metric>_guidance_low/high` are paired by (period, published); when several sources gave the
    same bound on the same day the highest-confidence one is used. `actuals`: period, actual
    (USD m), actual_source, actual_confidence, actual_derived (e.g. from `actuals_for`); outcomes
    not yet public are NaN. Columns: period, published, low, high, mid (USD m), source,
    confidence, revision (mid minus the previous guidance mid for the same period, USD m; NaN
    for the first), revision_kind ('initial'; 'unchanged' = same range; else 'cut'/'raised' by the mid;
    'narrowed/widened' = same mid),
    is_latest (last guidance for the period), actual..., outcome ('below', 'within', 'above'
    the range; '' when no actual), surprise_vs_mid (actual / mid - 1, fraction).
    """
    g = fund[fund["metric"].isin([f"{metric}_guidance_low", f"{metric}_guidance_high"])
             & fund["published"].notna()].copy()
    g["bound"] = np.where(g["metric"].str.endswith("_low"), "low", "high")
    rows = []
    for (period, pub), grp in g.groupby(["period", "published"], sort=True):
        rec = {"period": period, "published": pub}
        srcs, confs = [], []
        for bound in ("low", "high"):
            sub = grp[grp["bound"] == bound]
            if sub.empty:
                rec[bound] = math.nan
                continue
            b = _rank_frame(sub).iloc[0]
            rec[bound] = float(b["value"])
            srcs.append(b["source"])
            confs.append(b["confidence"])
        rec["mid"] = (rec["low"] + rec["high"]) / 2
        rec["source"] = ", ".join(dict.fromkeys(srcs))
        rec["confidence"] = _min_conf(*confs) if confs else None
        rec["period_end"] = grp["period_end"].iloc[0]
        rows.append(rec)
    cols = ["period", "period_end", "published", "low", "high", "mid", "source", "confidence"]
    df = pd.DataFrame(rows, columns=cols).sort_values(["period_end", "period", "published"]).reset_index(drop=True)
    prev_mid = df.groupby("period")["mid"].shift(1)
    prev_low = df.groupby("period")["low"].shift(1)
    prev_high = df.groupby("period")["high"].shift(1)
    df["revision"] = df["mid"] - prev_mid
    kind = []
    for r, pm, pl, ph in zip(df.itertuples(), prev_mid, prev_low, prev_high, strict=True):
        if pd.isna(pm):
            kind.append("initial")
        elif r.low == pl and r.high == ph:
            kind.append("unchanged")
        elif r.mid < pm:
            kind.append("cut")
        elif r.mid > pm:
            kind.append("raised")
        else:
            kind.append("narrowed/widened")
    df["revision_kind"] = kind
    df["is_latest"] = ~df.duplicated("period", keep="last")
    if actuals is None:
        actuals = pd.DataFrame(columns=["period", "actual", "actual_source", "actual_confidence", "actual_derived"])
    a = actuals.set_index("period")
    for c in ("actual", "actual_source", "actual_confidence", "actual_derived"):
        df[c] = df["period"].map(a[c]) if len(a) else pd.Series([None] * len(df), dtype=object)
    df["actual"] = df["actual"].astype(float)
    df["outcome"] = [
        "" if pd.isna(x) else ("below" if x < lo else ("above" if x > hi else "within"))
        for x, lo, hi in zip(df["actual"], df["low"], df["high"], strict=True)
    ]
    df["surprise_vs_mid"] = df["actual"] / df["mid"] - 1
    return df


def guidance_as_of(history: pd.DataFrame, period: str, date) -> pd.Series | None:
    """The guidance for `period` in force on `date`: the last one published on or before it."""
    h = history[(history["period"] == period) & (history["published"] <= pd.Timestamp(date))]
    return None if h.empty else h.iloc[-1]


def actuals_for(fund: pd.DataFrame, periods, metric: str = "revenue") -> pd.DataFrame:
    """Outcomes for guided `periods` via `analysis.fundamentals.figure` (best confidence; FY or
    quarter as filed; derived Q4 marked). Returns period, actual (USD m), actual_source,
    actual_confidence, actual_derived, actual_reason; missing outcomes are NaN with a reason."""
    from .fundamentals import best_figures, figure

    best = best_figures(fund)
    rows = []
    for p in dict.fromkeys(periods):
        f = figure(fund, metric, p, best=best)
        v = f.get("value")
        rows.append({"period": p, "actual": math.nan if v is None else float(v), "actual_source": f.get("source"),
                     "actual_confidence": f.get("confidence"), "actual_derived": bool(f.get("derived") or False),
                     "actual_reason": f.get("reason") or ""})
    return pd.DataFrame(rows, columns=["period", "actual", "actual_source", "actual_confidence",
                                       "actual_derived", "actual_reason"])


# ---- delay scenario -----------------------------------------------------------------------------

@dataclass
class DelayScenario:
    """A scenario built on stated assumptions (see `assumptions`), not a forecast.

    table: one row per quarter after the start: quarter_offset (1 = first affected quarter),
    quarter (label, if a start quarter was given), delay_days_in_quarter, affected_revenue_base
    (USD m a quarter the affected contracts would recognise on time), revenue_shifted (USD m moved
    out of the quarter), revenue_shifted_cum, interest_during_delay (USD m of interest carried on
    the affected share of debt while the capacity earns nothing), shifted_share_of_revenue
    (fraction of `reference_revenue`), label ('scenario').
    totals: affected_backlog (USD m), affected_revenue_base (USD m a quarter), revenue_shifted (USD m,
    whole delay), revenue_shifted_in_window (USD m, within the quarters of `table`),
    interest_during_delay (USD m, whole delay), recovered_after_quarter (quarter offset after which
    the shifted revenue is recognised again, at the end of the term).
    assumptions: the parameters as given, with the recognition rule and the label.
    """

    table: pd.DataFrame
    totals: dict
    assumptions: dict


def delay_scenario(delay_days: float, affected_share: float, contract_term_years: float, backlog: float,
                   effective_rate: float, debt: float, n_quarters: int = 4, start_quarter: str | None = None,
                   reference_revenue: float = math.nan, label: str = "scenario") -> DelayScenario:
    """Revenue shifted by a delivery delay under straight-line recognition, and interest meanwhile.

    Assumptions (stated in the output): a share `affected_share` (fraction) of `backlog` (USD m)
    is recognised straight-line over `contract_term_years` from the start of quarter 1; a delay of
    `delay_days` moves the whole recognition window later by that many days, so each quarter k
    (k = 1..n_quarters, each DAYS_PER_QUARTER = 365.25/4 days long) loses
    base x clip((delay_days - (k-1) x Q) / Q, 0, 1) of revenue, where base = affected backlog /
    (4 x term); the total shifted (base x delay_days / Q) is recognised after the original term
    ends, not lost (take-or-pay contracts assumed intact). Meanwhile the debt financing the
    affected capacity (`affected_share` x `debt`, USD m) accrues interest at `effective_rate`
    (annual fraction) for the delayed days in each quarter. `reference_revenue` (USD m, e.g. the
    last reported quarter's revenue) gives `shifted_share_of_revenue` = revenue_shifted / it.
    """
    if delay_days < 0 or not 0 <= affected_share <= 1 or contract_term_years <= 0:
        raise ValueError("delay_days >= 0, 0 <= affected_share <= 1 and contract_term_years > 0 required")
    affected = affected_share * backlog
    base = affected / (4 * contract_term_years)
    q = DAYS_PER_QUARTER
    term_quarters = 4 * contract_term_years
    rows, cum = [], 0.0
    for k in range(1, n_quarters + 1):
        days = float(np.clip(delay_days - (k - 1) * q, 0, q))
        in_term = (k - 1) < term_quarters
        shifted = base * days / q if in_term else 0.0
        cum += shifted
        interest = affected_share * debt * effective_rate * days / DAYS_PER_YEAR
        rows.append({"quarter_offset": k, "quarter": shift_quarter(start_quarter, k - 1) if start_quarter else None,
                     "delay_days_in_quarter": days, "affected_revenue_base": base if in_term else 0.0,
                     "revenue_shifted": shifted, "revenue_shifted_cum": cum,
                     "interest_during_delay": interest,
                     "shifted_share_of_revenue": shifted / reference_revenue if reference_revenue > 0 else math.nan,
                     "label": label})
    table = pd.DataFrame(rows)
    total_shift = base * min(delay_days, term_quarters * q) / q
    totals = {
        "affected_backlog": affected, "affected_revenue_base": base,
        "revenue_shifted": total_shift,
        "revenue_shifted_in_window": float(table["revenue_shifted"].sum()),
        "interest_during_delay": affected_share * debt * effective_rate * delay_days / DAYS_PER_YEAR,
        "recovered_after_quarter": int(math.ceil(term_quarters)),
    }
    assumptions = {"delay_days": delay_days, "affected_share": affected_share,
                   "contract_term_years": contract_term_years, "backlog_usd_m": backlog,
                   "effective_rate": effective_rate, "debt_usd_m": debt, "n_quarters": n_quarters,
                   "start_quarter": start_quarter, "reference_revenue_usd_m": reference_revenue,
                   "recognition": "straight-line over the term",
                   "label": label}
    return DelayScenario(table=table, totals=totals, assumptions=assumptions)


def denton_affected_share(fund: pd.DataFrame, quarter: str, site_mw: float, fallback_back: int = 4) -> dict:
    """Default affected share = `site_mw` / contracted power at the end of `quarter` (fraction).

    Contracted power comes from `contracted_power_mw` (best source; latest earlier quarter when
    the quarter has none, up to `fallback_back` back). Returns share, site_mw, contracted_mw,
    contracted_quarter, source, confidence, lower_bound (the contracted figure was stated as
    'more than X': the share is then an upper bound), reason.
    """
    f = stock_figure(fund, "contracted_power_mw", quarter, fallback_back=fallback_back)
    lower = "lower bound" in f["note"] or "more than" in f["note"]
    share = site_mw / f["value"] if pd.notna(f["value"]) and f["value"] > 0 else math.nan
    return {"share": share, "site_mw": site_mw, "contracted_mw": f["value"], "contracted_quarter": f["quarter"],
            "source": f["source"], "confidence": f["confidence"], "lower_bound": lower, "reason": f["reason"]}


def reported_delay(fund: pd.DataFrame) -> dict | None:
    """The latest reported delivery delay in `fund` (metrics delay_days and delay_site_power_mw,
    published by the note's date): delay_days, site_mw, site (the site's name as the data note
    opens with it, e.g. 'Denton, Texas campus'; None when it does not), period, published, source,
    confidence, note; None when the data hold none (a point-in-time note before the report)."""
    d = fund[fund["metric"].isin(["delay_days", "delay_site_power_mw"])]
    if d.empty or not (d["metric"] == "delay_days").any():
        return None
    last = d[d["metric"] == "delay_days"].sort_values(["published", "line"], na_position="first").iloc[-1]
    same = d[(d["source"] == last["source"]) & (d["period"] == last["period"])].set_index("metric")
    mw = same["value"].get("delay_site_power_mw", math.nan)
    note = last["note"] if isinstance(last["note"], str) else ""
    site = re.match(r"^\s*([^:;(]+?\b(?:campus|site|data cent(?:er|re)))\b", note)
    return {"delay_days": float(last["value"]), "site_mw": float(mw), "period": last["period"],
            "site": site.group(1).strip() if site else None,
            "published": last["published"], "source": last["source"], "confidence": last["confidence"],
            "note": last["note"] if isinstance(last["note"], str) else "", "undated": bool(last["undated"])}


SCENARIO_INPUT_COLUMNS = ["input", "value", "unit", "quarter", "source", "kind"]


def scenario_inputs(fund: pd.DataFrame, panel: pd.DataFrame, qpanel, ratios: pd.DataFrame, site_mw: float,
                    quarter: str | None = None, affected_share: float | None = None) -> dict:
    """Inputs of the delay scenario, all at one common quarter, each with its source.

    `panel` = `backlog_panel(fund)`; `qpanel` = `analysis.fundamentals.quarterly_panel(fund)`;
    `ratios` = `analysis.unit_economics.ratio_table(qpanel)`. The scenario quarter (the delay starts
    in the next one) is `quarter`, or by default the latest quarter in which every input exists:
    revenue backlog, revenue, contracted power (unless `affected_share` is given), the effective
    interest rate and the debt balance it was computed on (principal, or the carrying amount:
    `analysis.unit_economics.debt_basis`). One quarter for every input: nothing is mixed.
    `affected_share` None = `site_mw` / contracted power at that quarter (see
    `denton_affected_share`). Returns quarter, rate_quarter (the same quarter), backlog (revenue
    backlog, USD m), backlog_source, backlog_confidence, backlog_unit (precision, 0 = exact),
    reference_revenue (USD m), revenue_source, debt (USD m), debt_basis, debt_source,
    debt_confidence, effective_rate (fraction), rate_sources, rate_confidence, undated_inputs,
    affected_share, share_basis, sources (all ids), inputs (table: input, value, unit, quarter,
    source, kind 'data'), reason ('' when complete, else what is missing), latest_by_input (input
    -> latest quarter it exists for at the note's date), limited_by (the inputs that hold the basis
    at `quarter` although others exist later, with why: `_basis_limits`), last_reported_quarter,
    last_reported_revenue (USD m) and its source (the newest quarter with revenue).
    """
    from .unit_economics import debt_basis, ratio_provenance

    rb = measure_series(panel, "revenue_backlog").set_index("quarter")
    power = set(stock_rows(fund, ["contracted_power_mw"])["quarter"])
    rate = ratios["effective_interest_rate"] if "effective_interest_rate" in ratios else pd.Series(dtype=float)
    rev = qpanel.values["revenue"]

    def complete(q):
        return (q in rb.index and (affected_share is not None or q in power)
                and pd.notna(rate.get(q, math.nan)) and pd.notna(rev.get(q, math.nan)))

    if quarter is None:
        ok = [q for q in sorted(set(rb.index) | set(rev.index)) if complete(q)]
        if not ok:
            return {"quarter": None, "inputs": pd.DataFrame(columns=SCENARIO_INPUT_COLUMNS),
                    "reason": "no quarter has a revenue backlog, revenue, contracted power, debt and an "
                              "effective interest rate together"}
        quarter = ok[-1]
    missing = [] if quarter in rb.index else ["revenue backlog"]
    if pd.isna(rev.get(quarter, math.nan)):
        missing.append("revenue")
    share_basis = None
    if affected_share is None:
        share_basis = denton_affected_share(fund, quarter, site_mw, fallback_back=0)
        affected_share = share_basis["share"]
        if share_basis["reason"]:
            missing.append("contracted power")
    basis, debt_metric = debt_basis(qpanel, quarter)
    has_rate = pd.notna(rate.get(quarter, math.nan)) and debt_metric is not None
    if not has_rate:
        missing.append("debt at both quarter ends (for the effective rate)")
    debt_rec = qpanel.record(quarter, debt_metric) if has_rate else {}
    rate_prov = (ratio_provenance(qpanel, "effective_interest_rate", quarter) if has_rate
                 else {"sources": [], "confidence": None, "undated": False})
    rev_rec = qpanel.record(quarter, "revenue")
    out = {
        "quarter": quarter, "rate_quarter": quarter,
        "backlog": float(rb.at[quarter, "value"]) if quarter in rb.index else math.nan,
        "backlog_source": rb.at[quarter, "source"] if quarter in rb.index else None,
        "backlog_confidence": rb.at[quarter, "confidence"] if quarter in rb.index else None,
        "backlog_unit": float(rb.at[quarter, "rounding_unit"]) if quarter in rb.index else 0.0,
        "reference_revenue": float(rev.get(quarter, math.nan)), "revenue_source": rev_rec.get("source"),
        "debt": float(qpanel.values.at[quarter, debt_metric]) if has_rate else math.nan, "debt_basis": basis,
        "debt_source": debt_rec.get("source"), "debt_confidence": debt_rec.get("confidence"),
        "effective_rate": float(rate[quarter]) if has_rate else math.nan,
        "rate_sources": list(rate_prov["sources"]), "rate_confidence": rate_prov["confidence"],
        "undated_inputs": bool(rate_prov["undated"] or debt_rec.get("undated") or rev_rec.get("undated")),
        "affected_share": affected_share, "share_basis": share_basis,
        "reason": ("missing at " + quarter + ": " + ", ".join(missing)) if missing else "",
    }
    ids = [out["backlog_source"], out["debt_source"], out["revenue_source"], *out["rate_sources"],
           share_basis["source"] if share_basis else None]
    out["sources"] = [s for s in dict.fromkeys(x for i in ids if i for x in str(i).split(";"))]
    rows = [("Revenue backlog", out["backlog"], "usd_m", quarter, out["backlog_source"]),
            ("Revenue (reference for the shifted share)", out["reference_revenue"], "usd_m", quarter,
             out["revenue_source"]),
            (f"Debt ({basis or 'n/a'}), quarter end", out["debt"], "usd_m", quarter, out["debt_source"]),
            ("Effective interest rate (annualised)", out["effective_rate"], "fraction", quarter,
             "; ".join(out["rate_sources"]) or None)]
    if share_basis:
        rows.append(("Contracted power" + (" (stated as a lower bound)" if share_basis["lower_bound"] else ""),
                     share_basis["contracted_mw"], "mw", share_basis["contracted_quarter"], share_basis["source"]))
    out["inputs"] = pd.DataFrame([(*r, "data") for r in rows], columns=SCENARIO_INPUT_COLUMNS)
    latest = _latest_by_input(rb, rev, rate, qpanel, power if share_basis is not None else None)
    out["latest_by_input"] = latest
    out["limited_by"] = _basis_limits(quarter, latest, qpanel)
    rq = [q for q in rev.index if pd.notna(rev.get(q))]
    out["last_reported_quarter"] = max(rq) if rq else None
    out["last_reported_revenue"] = float(rev[out["last_reported_quarter"]]) if rq else math.nan
    out["last_reported_revenue_source"] = qpanel.record(out["last_reported_quarter"], "revenue").get("source") if rq else None
    return out


def _latest_by_input(rb: pd.DataFrame, rev: pd.Series, rate: pd.Series, qpanel, power: set | None) -> dict:
    """Latest quarter in which each delay-scenario input exists (the data at the note's date)."""
    from .unit_economics import DEBT_BASES

    def last(quarters):
        q = sorted(x for x in quarters if x)
        return q[-1] if q else None

    v = qpanel.values
    debt_q = [q for q in v.index for _, m in DEBT_BASES if m in v.columns and pd.notna(v.at[q, m])]
    out = {"revenue backlog": last(rb.index), "revenue": last(q for q in rev.index if pd.notna(rev.get(q))),
           "debt": last(debt_q), "effective interest rate": last(q for q in rate.index if pd.notna(rate.get(q)))}
    if power is not None:
        out["contracted power"] = last(power)
    return out


def _basis_limits(quarter: str, latest: dict, qpanel) -> list[dict]:
    """The inputs that hold the scenario's basis quarter back: those whose latest quarter is the
    basis while another input exists later. Each: input, latest (quarter), newer (inputs that exist
    later, with their quarters), why (a clause: what is missing after the basis)."""
    from .unit_economics import DEBT_BASES

    newer = {k: q for k, q in latest.items() if q and q > quarter}
    if not newer:
        return []
    out = []
    for k, q in latest.items():
        if q != quarter:
            continue
        why = "no later figure is in the data at this note's date"
        if k == "effective interest rate":
            v = qpanel.values
            gaps = [g for g in (shift_quarter(quarter, i) for i in range(1, 9)) if g <= max(newer.values())
                    and g in v.index and all(pd.isna(v.at[g, m]) for _, m in DEBT_BASES if m in v.columns)]
            why = ("it needs the debt on one basis at both ends of a quarter"
                   + (f" and the data hold no debt balance at the end of {', '.join(gaps)}" if gaps else
                      f", which the data do not give on one basis after {quarter}"))
        out.append({"input": k, "latest": q, "newer": newer, "why": why})
    return out


def first_scenario_quarter(basis_quarter: str, last_reported_quarter: str | None) -> str:
    """First quarter of a scenario sized at `basis_quarter`: the quarter after the last quarter with
    reported revenue (a reported quarter is never a scenario quarter), and never before the quarter
    after the basis."""
    last = max(q for q in (basis_quarter, last_reported_quarter) if q)
    return shift_quarter(last, 1)


# ---- coverage, timing and the conversion verdict -----------------------------------------------

def coverage_and_due(panel: pd.DataFrame, revenue: pd.DataFrame) -> dict | None:
    """Backlog coverage two ways, for one measure at one quarter: years of revenue at the quarter's
    run rate, and the share due within 24 months against that run rate.

    Uses the latest quarter in which one measure (revenue backlog preferred to RPO at the same
    quarter) has both its balance and its disclosed 24-month share, and revenue exists.
    Returns quarter, basis, measure (words), balance (USD m), balance_unit (precision), share_24m
    (fraction), due_24m (USD m), due_per_year (USD m a year, the 24-month amount over two years),
    run_rate (4 x quarterly revenue, USD m), coverage_years (balance / run_rate), due_to_run_rate
    (due_per_year / run_rate, x), sources; None when no quarter has them all.
    """
    rev = revenue.set_index("quarter")
    cands = []
    for basis, col in (("revenue_backlog", "revenue_backlog_within_24m_pct"), ("rpo", "rpo_within_24m_pct")):
        bal = measure_series(panel, basis).set_index("quarter")
        sh = panel[panel["metric"] == col].set_index("quarter")
        for q in sorted(set(bal.index) & set(sh.index)):
            if q in rev.index and pd.notna(rev.at[q, "revenue"]) and rev.at[q, "revenue"] > 0:
                cands.append((q, 0 if basis == "revenue_backlog" else 1, basis, bal.loc[q], sh.loc[q]))
    if not cands:
        return None
    q, _, basis, b, sh = sorted(cands, key=lambda c: (c[0], -c[1]))[-1]
    run = 4 * float(rev.at[q, "revenue"])
    bal, share = float(b["value"]), float(sh["value"])
    due = share * bal
    return {"quarter": q, "basis": basis, "measure": "revenue backlog" if basis == "revenue_backlog" else "RPO",
            "balance": bal, "balance_unit": float(b["rounding_unit"]), "share_24m": share, "due_24m": due,
            "due_per_year": due / 2, "run_rate": run, "coverage_years": bal / run, "due_to_run_rate": due / 2 / run,
            "sources": list(dict.fromkeys([b["source"], sh["source"], *str(rev.at[q, "revenue_source"]).split(";")])),
            "confidence": _min_conf(b["confidence"], sh["confidence"], rev.at[q, "revenue_confidence"])}


def latest_guidance_change(guidance: pd.DataFrame | None) -> pd.Series | None:
    """The fiscal-year revenue guidance change (cut or raise) given on the latest guidance date,
    i.e. with the latest results: a row of `guidance_history`, or None when that date changed no
    fiscal-year range."""
    if guidance is None or guidance.empty:
        return None
    last = guidance[guidance["published"] == guidance["published"].max()]
    ch = last[last["period"].str.startswith("FY") & last["revision_kind"].isin(["cut", "raised"])]
    return None if ch.empty else ch.iloc[-1]


def conversion_verdict(cd: dict | None, rf: pd.DataFrame | None = None, guidance: pd.DataFrame | None = None):
    """How fast the backlog turns into revenue, as a `Verdict` (`backlog_conversion`).

    `cd` = `coverage_and_due` (the latest quarter with a balance and its 24-month share); `rf` = the
    revenue-backlog `rollforward` (coverage in years of run rate, book-to-bill). Answer 'needs faster
    delivery' when the amount due within 24 months, spread over those two years, exceeds the annual
    run rate of the same quarter (revenue has to grow to deliver it on schedule), 'within the run
    rate' otherwise, 'not measurable' without a timing disclosure. The sentence gives both readings
    of coverage, each with its quarter: years of run rate (latest quarter) and the share due within
    24 months (latest quarter that disclosed it; said so when it is an earlier one); with
    `guidance` (`guidance_history`), the fiscal-year revenue guidance change that came with the
    latest results (`latest_guidance_change`).
    """
    from .report import fmt
    from .verdicts import Verdict

    key = "backlog_conversion"
    cov = latest_complete(rf, "coverage_years") if rf is not None and len(rf) else None
    if cd is None and cov is None:
        return Verdict(key, "not measurable", "How fast the backlog converts cannot be measured: no quarter has both a "
                       "backlog balance and its disclosed share due within 24 months.",
                       headline="no quarter has both a backlog balance and its share due within 24 months")
    btb = None
    if rf is not None and len(rf):
        ok = rf[rf["book_to_bill"].notna()]
        btb = ok.iloc[-1] if len(ok) else None
    if cov is None or (cd is not None and cov["quarter"] <= cd["quarter"]):
        x = cd["due_to_run_rate"]
        answer = "needs faster delivery" if x > 1 else "within the run rate"
        u = cd["balance_unit"]
        due = (f"{fmt.pct(cd['share_24m'], 0)} of it falls due within 24 months: "
               f"{fmt.about(cd['due_per_year'], u, 'usd_bn')} a year, {fmt.ratio(x, 1)} the annualised revenue of "
               f"{fmt.usd_bn(cd['run_rate'])}"
               + (", so revenue has to grow that much to deliver it on time" if x > 1 else
                  ", which the current run rate already covers"))
        yrs = fmt.about(cd['coverage_years'], ratio_unit(cd['coverage_years'], (cd['balance'], u)), 'years')
        s = (f"The {cd['quarter']} {cd['measure']} of {fmt.about(cd['balance'], u, 'usd_bn')} equals "
             f"{yrs} of revenue at that quarter's run rate, but {due}.")
        head = (f"{cd['quarter']} {cd['measure']} {fmt.about(cd['balance'], u, 'usd_bn')}, {yrs} of revenue; "
                f"{fmt.pct(cd['share_24m'], 0)} due within 24 months, {fmt.ratio(x, 1)} the run rate a year")
        ev = {k: cd[k] for k in ("quarter", "basis", "balance", "share_24m", "due_per_year", "run_rate",
                                 "coverage_years", "due_to_run_rate")}
        period = cd["quarter"]
    else:
        # the newest balance has no split by due date: an older split of another balance (or of the
        # other measure) says nothing about it, so no ratio is given and no answer is drawn
        answer = "not measurable"
        cu = cov.get("coverage_unit", 0)
        bal = fmt.about(cov['backlog'], cov.get('backlog_unit', 0), 'usd_bn')
        yrs = fmt.about(cov['coverage_years'], cu, 'years')
        s = (f"The {cov['quarter']} revenue backlog of {bal} equals {yrs} of revenue at that quarter's run rate, but "
             f"no split by due date was disclosed for {cov['quarter']}, so how much of it falls due within 24 months, "
             "and whether the run rate covers that, is not known"
             + (f"; the latest split, of the {cd['quarter']} {cd['measure']}, describes a different balance and is "
                "not applied to it." if cd is not None else "."))
        head = (f"{cov['quarter']} revenue backlog {bal}, {yrs} of revenue; no split by due date "
                f"disclosed for {cov['quarter']}")
        ev = {"quarter": cov["quarter"], "basis": "revenue_backlog", "balance": float(cov["backlog"]),
              "coverage_years": float(cov["coverage_years"]),
              "timing_quarter": cd["quarter"] if cd is not None else None}
        period = cov["quarter"]
    g = latest_guidance_change(guidance)
    if g is not None:
        prev = guidance[(guidance["period"] == g["period"]) & (guidance["published"] < g["published"])].iloc[-1]
        s = (s[:-1] + f"; with the {quarter_label(g['published'] - pd.offsets.QuarterEnd(1))} results the {g['period']} "
             f"revenue guidance was {g['revision_kind']} to {fmt.usd_bn(g['low'], 2)}-{fmt.usd_bn(g['high'], 2)} from "
             f"{fmt.usd_bn(prev['low'], 2)}-{fmt.usd_bn(prev['high'], 2)}.")
    if g is not None:
        ev.update(guidance_period=g["period"], guidance_change=g["revision_kind"], guidance_mid_change=float(g["revision"]))
    if cov is not None:
        ev.update(coverage_quarter=cov["quarter"], coverage_years_latest=float(cov["coverage_years"]))
    if btb is not None:
        ev.update(book_to_bill=float(btb["book_to_bill"]), book_to_bill_quarter=btb["quarter"])
    return Verdict(key, answer, s, evidence=ev, period=period, headline=head)
