"""Funding and capital structure: the funding gap, the debt stack, maturities, the cost of new
debt, liquidity, returns on capital and dilution.

Inputs are the loaders' frames (`load_fundamentals`, `load_debt_facilities`,
`load_debt_maturities`, `load_financings`) and `analysis.fundamentals.Panel` objects. Money is in
USD millions, rates in percent (0..100) where a column name ends in `_pct` and as fractions
(0.09 = 9%) elsewhere, share counts as numbers of shares. Nothing is estimated or filled: a
missing input gives a missing output (NaN, never zero) with the reason, and quarters that are
derived by subtraction (Q2 = H1 - Q1, Q4 = FY - 9M) keep the `derived` flag of
`analysis.fundamentals`. Assumptions (SOFR, the share of D&A that is computing equipment) are
parameters with no default taken from data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import fundamentals as F
from . import unit_economics as U
from .data import schema as S
from .data.rules import period_bounds
from .labels import metric_label

GAP_METRICS = ("operating_cash_flow", "capex_cash")
ROIC_METRICS = ("revenue", "operating_income", "depreciation_and_amortization",
                "property_and_equipment_gross", "property_and_equipment_net")
LIQUIDITY_METRICS = ("cash_and_equivalents", "cash_and_restricted_cash", "restricted_cash_current",
                     "restricted_cash_noncurrent", "marketable_securities", "revolver_available",
                     "undrawn_debt_availability", "debt_current", "debt_recourse_current",
                     "debt_nonrecourse_current")
SHARE_METRICS = ("shares_outstanding_class_a", "shares_outstanding_class_b", "shares_outstanding_class_c")

#: facility rows that are newest facilities' terms: measures that carry a new facility's rate
NEW_FACILITY_MEASURES = ("issued", "commitment")
CONVERTIBLES = ("convertible_notes_2031", "convertible_notes_2032")


def _isnan(x) -> bool:
    return x is None or (isinstance(x, float | np.floating) and math.isnan(float(x)))


def _min_conf(levels) -> str | None:
    levels = [c for c in levels if isinstance(c, str) and c in S.CONFIDENCE_RANK]
    return min(levels, key=S.CONFIDENCE_RANK.__getitem__) if levels else None


def _ids(*sources) -> str | None:
    out = []
    for s in sources:
        if isinstance(s, str):
            out += [x for x in s.replace(";", " ").split() if x]
    return "; ".join(dict.fromkeys(out)) or None


# --------------------------------------------------------------------------- funding gap
GAP_COLUMNS = ["quarter", "operating_cash_flow", "capex_cash", "funding_gap",
               "operating_cash_flow_derived", "capex_cash_derived", "derived", "sources",
               "confidence", "reason"]


def funding_gap(panel: F.Panel) -> pd.DataFrame:
    """Quarterly funding gap (USD m): capex_cash - operating_cash_flow.

    `panel` must hold `operating_cash_flow` and `capex_cash` (cash purchases of property and
    equipment, positive). A positive gap is cash the quarter's investment needed beyond what
    operations generated, to be financed by debt, equity or cash on hand; a negative gap is a
    surplus. Derived quarters (Q2 = 9M - Q1 - Q3, Q4 = FY - 9M) come from the panel with their
    flags (`*_derived`, and `derived` if either is). Missing input -> NaN gap and a reason.
    Columns: `GAP_COLUMNS`.
    """
    for m in GAP_METRICS:
        if m not in panel.values.columns:
            raise KeyError(f"funding_gap needs panel metric {m!r}")
    der = panel.derived_mask()
    rows = []
    for q in panel.values.index:
        ocf, capex = panel.values.at[q, "operating_cash_flow"], panel.values.at[q, "capex_cash"]
        recs = [panel.record(q, m) for m in GAP_METRICS]
        miss = [m for m, v in zip(GAP_METRICS, (ocf, capex), strict=True) if _isnan(v)]
        rows.append({
            "quarter": q, "operating_cash_flow": ocf, "capex_cash": capex,
            "funding_gap": np.nan if miss else capex - ocf,
            "operating_cash_flow_derived": bool(der.at[q, "operating_cash_flow"]),
            "capex_cash_derived": bool(der.at[q, "capex_cash"]),
            "derived": bool(der.at[q, "operating_cash_flow"] or der.at[q, "capex_cash"]),
            "sources": _ids(*(r.get("source") for r in recs)),
            "confidence": _min_conf(r.get("confidence") for r in recs) if not miss else None,
            "reason": "; ".join(panel.record(q, m).get("reason") or f"{metric_label(m, capital=True)} {q} missing"
                                for m in miss) or None,
        })
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def period_funding_gap(fund: pd.DataFrame, periods) -> pd.DataFrame:
    """The funding gap over reported periods (e.g. 'FY2025', '2026H1', '2025-9M'), from the best
    figures as reported (no derivation). Columns as `funding_gap` with `period` for `quarter`."""
    best = F.best_figures(fund)
    rows = []
    for p in periods:
        figs = {m: F.figure(fund, m, p, best=best) for m in GAP_METRICS}
        ocf, capex = (figs[m]["value"] for m in GAP_METRICS)
        miss = [m for m in GAP_METRICS if figs[m]["value"] is None]
        rows.append({
            "period": p, "operating_cash_flow": np.nan if ocf is None else ocf,
            "capex_cash": np.nan if capex is None else capex,
            "funding_gap": np.nan if miss else capex - ocf,
            "operating_cash_flow_derived": figs["operating_cash_flow"]["derived"],
            "capex_cash_derived": figs["capex_cash"]["derived"],
            "derived": any(f["derived"] for f in figs.values()),
            "sources": _ids(*(f["source"] for f in figs.values())),
            "confidence": None if miss else _min_conf(f["confidence"] for f in figs.values()),
            "reason": "; ".join(figs[m]["reason"] or f"{metric_label(m, capital=True)} {p} missing" for m in miss) or None,
        })
    return pd.DataFrame(rows, columns=["period", *GAP_COLUMNS[1:]])


def gap_from_quarters(gap: pd.DataFrame, period: str) -> dict:
    """The funding gap of a reported period (e.g. '2025H1') summed from the quarters of `gap` (a
    `funding_gap` table) that make it up, when every one of them has both figures; marked derived
    (a sum of quarters, some themselves derived by subtraction: `parts` says which). Never
    interpolated: a missing quarter gives NaN and the reason. Returns a `period_funding_gap`-like
    dict with `parts` (e.g. '2025Q1 + 2025Q2*')."""
    start, end = period_bounds(period)
    qs = [q for q in pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq="Q").strftime("%YQ%q")]
    sub = gap.set_index("quarter").reindex(qs)
    miss = [q for q in qs if _isnan(sub.at[q, "funding_gap"])]
    parts = " + ".join(q + ("*" if not _isnan(sub.at[q, "funding_gap"]) and bool(sub.at[q, "derived"]) else "")
                       for q in qs)
    if miss:
        return {"period": period, "operating_cash_flow": np.nan, "capex_cash": np.nan, "funding_gap": np.nan,
                "derived": True, "sources": None, "confidence": None, "parts": parts,
                "reason": f"funding gap {period}: not reported, and {', '.join(miss)} not in the data to sum"}
    return {"period": period, "operating_cash_flow": float(sub["operating_cash_flow"].sum()),
            "capex_cash": float(sub["capex_cash"].sum()), "funding_gap": float(sub["funding_gap"].sum()),
            "derived": True, "sources": _ids(*sub["sources"]), "confidence": _min_conf(sub["confidence"]),
            "parts": parts, "reason": None}


FINANCING_METRICS = ("proceeds_from_debt", "repayments_of_debt", "ipo_net_proceeds",
                     "ipo_overallotment_net_proceeds")


def gap_financing(fund: pd.DataFrame, period: str) -> dict:
    """How the funding gap of `period` was financed, from the cash-flow statement (USD m).

    Returns {period, funding_gap, net_debt_raised (= proceeds_from_debt - repayments_of_debt),
    equity_raised (IPO + over-allotment, net, both as reported for the period), debt_share_of_gap,
    equity_share_of_gap (fractions of the gap), sources, confidence, reason}. A line not reported
    for the period gives NaN with the reason, never zero.
    """
    gap = period_funding_gap(fund, [period]).iloc[0]
    best = F.best_figures(fund)
    figs = {m: F.figure(fund, m, period, best=best) for m in FINANCING_METRICS}
    proceeds, repay = figs["proceeds_from_debt"]["value"], figs["repayments_of_debt"]["value"]
    net_debt = np.nan if proceeds is None or repay is None else proceeds - repay
    ipo, over = figs["ipo_net_proceeds"]["value"], figs["ipo_overallotment_net_proceeds"]["value"]
    equity = np.nan if ipo is None or over is None else ipo + over
    g = gap["funding_gap"]
    reasons = [r for r in (gap["reason"],) if isinstance(r, str)]
    reasons += [figs[m]["reason"] for m in ("proceeds_from_debt", "repayments_of_debt") if figs[m]["value"] is None]
    if _isnan(equity):
        reasons.append(f"equity raised {period}: not reported in the cash-flow lines held in data/")
    ok = not _isnan(g) and g > 0
    return {
        "period": period, "capex_cash": gap["capex_cash"], "operating_cash_flow": gap["operating_cash_flow"],
        "funding_gap": g, "net_debt_raised": net_debt, "equity_raised": equity,
        "debt_share_of_gap": net_debt / g if ok and not _isnan(net_debt) else np.nan,
        "equity_share_of_gap": equity / g if ok and not _isnan(equity) else np.nan,
        "sources": _ids(gap["sources"], *(f["source"] for f in figs.values())),
        "confidence": _min_conf([gap["confidence"], *(f["confidence"] for f in figs.values() if f["value"] is not None)]),
        "reason": "; ".join(reasons) or None,
    }


# --------------------------------------------------------------------------- debt stack
STACK_COLUMNS = ["as_of", "facility", "principal", "rate_kind", "rate_pct", "rate_high_pct", "maturity",
                 "source", "confidence", "note"]


def debt_stack(facilities: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """Principal outstanding by facility at one balance-sheet date (USD m), with the rate and
    maturity the same document states. `as_of` None = the latest date that has at least two
    facilities' principal (a full debt table, not a single-facility disclosure). Facilities with
    zero principal are kept (a repaid loan shows as 0, as the document shows a dash)."""
    p = facilities[facilities["measure"] == "principal"]
    if as_of is None:
        counts = p.groupby("as_of")["facility"].nunique()
        full = counts[counts >= 2]
        if full.empty:
            return pd.DataFrame(columns=STACK_COLUMNS)
        as_of = full.index.max()
    sub = p[p["as_of"] == pd.Timestamp(as_of)]
    out = sub.rename(columns={"amount_usd_m": "principal"})[STACK_COLUMNS]
    return out.sort_values("principal", ascending=False).reset_index(drop=True)


def debt_stack_history(facilities: pd.DataFrame) -> pd.DataFrame:
    """Principal by facility (rows) and balance-sheet date (columns), USD m; NaN where the data
    hold no figure for that facility and date (not zero)."""
    p = facilities[facilities["measure"] == "principal"]
    return p.pivot_table(index="facility", columns="as_of", values="amount_usd_m", aggfunc="first")


def weighted_effective_rate(stack: pd.DataFrame) -> dict:
    """Principal-weighted effective rate of a `debt_stack` (fraction): sum(principal x rate) /
    sum(principal) over facilities with an effective rate; a range (9-10%) counts at its midpoint.
    Returns {rate, principal_covered, principal_total, as_of, sources}; NaN when no facility has one."""
    s = stack[(stack["principal"] > 0)]
    eff = s[s["rate_kind"] == "effective"]
    mid = eff["rate_pct"].where(eff["rate_high_pct"].isna(), (eff["rate_pct"] + eff["rate_high_pct"]) / 2)
    covered = float(eff["principal"].sum())
    rate = float((eff["principal"] * mid).sum() / covered / 100.0) if covered > 0 else np.nan
    return {"rate": rate, "principal_covered": covered, "principal_total": float(s["principal"].sum()),
            "as_of": stack["as_of"].max() if len(stack) else pd.NaT,
            "sources": _ids(*stack["source"])}


# --------------------------------------------------------------------------- maturities
MATURITY_COLUMNS = ["as_of", "due", "year", "amount_usd_m", "share_of_total", "source", "confidence"]


def debt_maturities(maturities: pd.DataFrame, as_of=None) -> pd.DataFrame:
    """The contractual schedule of future principal payments at one date (USD m): due ('rest of
    2025', '2026', ..., 'after 2029'), amount, share of the schedule's total (fraction).
    `as_of` None = the latest schedule. Columns: `MATURITY_COLUMNS`."""
    if maturities.empty:
        return pd.DataFrame(columns=MATURITY_COLUMNS)
    as_of = maturities["as_of"].max() if as_of is None else pd.Timestamp(as_of)
    g = maturities[maturities["as_of"] == as_of]
    total = g.loc[g["bucket"] == "total", "amount_usd_m"]
    tot = float(total.iloc[0]) if len(total) else float(g["amount_usd_m"].sum())
    parts = g[g["bucket"] != "total"].copy()
    last_year = int(parts["year"].dropna().max()) if parts["year"].notna().any() else None
    labels = []
    for b, y in zip(parts["bucket"], parts["year"], strict=True):
        labels.append(f"rest of {int(y)}" if b == "remaining_year" else
                      (str(int(y)) if b == "year" else f"after {last_year}" if last_year else "thereafter"))
    parts["due"] = labels
    parts["share_of_total"] = parts["amount_usd_m"] / tot if tot > 0 else np.nan
    parts["year"] = parts["year"].astype("Int64")
    return parts[MATURITY_COLUMNS].reset_index(drop=True)


def maturities_next_four_quarters(schedule: pd.DataFrame) -> dict:
    """Principal due in the four quarters after the schedule's date (USD m).

    The debt notes give calendar years. At a year-end date the next four quarters are exactly the
    next calendar year: value = that year's amount (exact). At another date the four quarters span
    the rest of this year and part of the next, which the schedule does not split: the answer is a
    range (bounds, not confidence levels): low = rest of this year, high = rest of this year + all of
    next year, value NaN.
    Returns {as_of, value, low, high, exact, basis, sources, confidence}.
    """
    if schedule.empty:
        return {"as_of": pd.NaT, "value": np.nan, "low": np.nan, "high": np.nan, "exact": False,
                "basis": "no maturity schedule in the data", "sources": None, "confidence": None}
    d = pd.Timestamp(schedule["as_of"].iloc[0])
    src, conf = _ids(*schedule["source"]), _min_conf(schedule["confidence"])
    amounts = dict(zip(schedule["due"], schedule["amount_usd_m"], strict=True))
    nxt = str(d.year + 1)
    if d.month == 12 and d.day == 31:
        v = amounts.get(nxt, np.nan)
        return {"as_of": d, "value": v, "low": v, "high": v, "exact": True,
                "basis": f"calendar {nxt} of the schedule at {d.date().isoformat()}", "sources": src, "confidence": conf}
    rest = amounts.get(f"rest of {d.year}", np.nan)
    high = rest + amounts.get(nxt, np.nan)
    return {"as_of": d, "value": np.nan, "low": rest, "high": high, "exact": False,
            "basis": (f"at least the rest of {d.year}, at most the rest of {d.year} plus all of {nxt}: the schedule "
                      "is by calendar year"),
            "sources": src, "confidence": conf}


# --------------------------------------------------------------------------- cost of new debt
MARGINAL_COLUMNS = ["as_of", "raised", "facility", "measure", "amount_usd_m", "rate_kind", "rate_pct", "all_in_rate",
                    "source", "confidence", "reason"]


#: a row published more than this many days after its date states terms at a period end (a 10-Q,
#: a results release), not on the day of the event (an 8-K is due within four business days)
EVENT_REPORT_DAYS = 7


def _quarter_label(d) -> str:
    d = pd.Timestamp(d)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def date_kind(row) -> str:
    """How a debt_facilities row is dated: 'event' (the day of the issue or commitment: the row is
    not dated at a quarter end, or was published within `EVENT_REPORT_DAYS` of its date),
    'balance sheet' (a filing's terms at its balance-sheet date: a 10-Q or 10-K describing a
    facility it may have entered years before), or 'quarter' (a results release or a secondary
    report stating that the facility was raised in the quarter ended on that date)."""
    d, pub = pd.Timestamp(row["as_of"]), row.get("published")
    quarter_end = d.month in (3, 6, 9, 12) and d == d + pd.offsets.MonthEnd(0)
    if not quarter_end or (not _isnan(pub) and pd.notna(pub)
                           and (pd.Timestamp(pub) - d).days <= EVENT_REPORT_DAYS):
        return "event"
    return "balance sheet" if row["source_kind"] == "filing" else "quarter"


def new_facilities(facilities: pd.DataFrame, window_days: int = 365, include_convertibles: bool = False) -> pd.DataFrame:
    """Facilities raised (issued or committed) within `window_days` before the latest such date,
    one row per facility (the latest row that states a rate, else the latest row). Only rows with a
    dated issue or commitment count (`date_kind` 'event', or 'quarter': raised within the quarter
    ended on that date); a facility a periodic filing describes at its balance-sheet date has no
    issue date in the data and is not new debt. Convertibles are left out unless asked: their cash
    coupon (1.75%) is not their cost (the conversion option is part of the price). Columns: those
    of `facilities` (`source`: every source of the facility's rows in the window), `date_kind`, and
    `raised` (the issue date as text: the earliest event date of the facility in the window, else
    'in <quarter>')."""
    new = facilities[facilities["measure"].isin(NEW_FACILITY_MEASURES)]
    if not include_convertibles:
        new = new[~new["facility"].isin(CONVERTIBLES)]
    if new.empty:
        return new.assign(date_kind=pd.Series(dtype=object), raised=pd.Series(dtype=object))
    new = new.assign(date_kind=[date_kind(r) for _, r in new.iterrows()])
    new = new[new["date_kind"] != "balance sheet"]
    if new.empty:
        return new.assign(raised=pd.Series(dtype=object))
    end = new["as_of"].max()
    new = new[new["as_of"] >= end - pd.Timedelta(days=window_days)]
    events = new[new["date_kind"] == "event"].groupby("facility")["as_of"].min()
    srcs = new.sort_values("as_of").groupby("facility")["source"].agg(lambda s: "; ".join(dict.fromkeys(s)))
    new = new.assign(_has_rate=new["rate_pct"].notna()).sort_values(["facility", "_has_rate", "as_of"])
    out = new.groupby("facility", sort=False).tail(1).drop(columns="_has_rate").sort_values("as_of")
    out = out.assign(source=out["facility"].map(srcs),
                     raised=[pd.Timestamp(events[f]).date().isoformat() if f in events.index
                             else f"in {_quarter_label(d)}" for f, d in zip(out["facility"], out["as_of"], strict=True)])
    return out.reset_index(drop=True)


def marginal_cost_of_debt(facilities: pd.DataFrame, *, sofr_pct: float, window_days: int = 365,
                          include_convertibles: bool = False) -> tuple[dict, pd.DataFrame]:
    """All-in rate of the newest facilities (fraction), weighted by amount.

    New facilities: `new_facilities(...)`. All-in rate: the stated coupon of a note, or
    `sofr_pct` + the SOFR margin of a term loan (`sofr_pct`, percent, is an ASSUMPTION: the data
    hold no SOFR series). A facility with no rate in the data is listed with its reason and left
    out of the average. Returns ({value, amount_weighted, n_facilities, window, sources,
    confidence, sofr_pct, reason}, per-facility table with columns `MARGINAL_COLUMNS`).
    """
    if sofr_pct is None or not (0 <= float(sofr_pct) <= 20):
        raise ValueError(f"sofr_pct must be a percent in [0, 20], got {sofr_pct!r}")
    new = new_facilities(facilities, window_days, include_convertibles)
    rows = []
    for r in new.itertuples():
        rate, why = np.nan, None
        if r.rate_kind == "stated":
            rate = r.rate_pct / 100.0
        elif r.rate_kind == "sofr_margin":
            rate = (float(sofr_pct) + r.rate_pct) / 100.0
        elif r.rate_kind == "effective":
            rate = r.rate_pct / 100.0
        else:
            why = f"{r.facility}: no rate in the data"
        rows.append({"as_of": r.as_of, "raised": r.raised, "facility": r.facility, "measure": r.measure,
                     "amount_usd_m": r.amount_usd_m,
                     "rate_kind": r.rate_kind, "rate_pct": r.rate_pct, "all_in_rate": rate, "source": r.source,
                     "confidence": r.confidence, "reason": why})
    tab = pd.DataFrame(rows, columns=MARGINAL_COLUMNS)
    ok = tab[tab["all_in_rate"].notna() & tab["amount_usd_m"].notna()]
    w = float(ok["amount_usd_m"].sum())
    value = float((ok["amount_usd_m"] * ok["all_in_rate"]).sum() / w) if w > 0 else np.nan
    window = (f"{tab['as_of'].min().date().isoformat()} to {tab['as_of'].max().date().isoformat()}"
              if len(tab) else None)
    return ({"value": value, "amount_weighted": w, "n_facilities": len(ok), "window": window,
             "sources": _ids(*ok["source"]), "confidence": _min_conf(ok["confidence"]), "sofr_pct": float(sofr_pct),
             "reason": None if w > 0 else "no new facility with a rate in the data"}, tab)


# --------------------------------------------------------------------------- liquidity
def latest_figure(fund: pd.DataFrame, metric: str, on=None, best: pd.DataFrame | None = None) -> dict:
    """The best figure of a balance-sheet metric at date `on` (None = its latest date), with
    provenance: {metric, date, value, source, confidence, period, reason}."""
    best = F.best_figures(fund) if best is None else best
    sub = best[best["metric"] == metric]
    if on is not None:
        sub = sub[sub["period_end"] == pd.Timestamp(on)]
    if sub.empty:
        when = f" at {pd.Timestamp(on).date().isoformat()}" if on is not None else ""
        return {"metric": metric, "date": pd.NaT if on is None else pd.Timestamp(on), "value": np.nan, "source": None,
                "confidence": None, "period": None, "reason": f"{metric_label(metric)}: not in the data{when}"}
    top = sub.sort_values("period_end").iloc[-1]
    return {"metric": metric, "date": top["period_end"], "value": float(top["value"]), "source": top["source"],
            "confidence": top["confidence"], "period": top["period"], "reason": None}


def liquidity(fund: pd.DataFrame, schedule: pd.DataFrame, gap_last_year: dict, on) -> pd.DataFrame:
    """Liquidity at one balance-sheet date `on` against what falls due in the next four quarters.

    Rows (USD m, each with its date, source and confidence): cash and equivalents; cash including
    restricted cash; undrawn facilities (as the data state them); principal due in the next four
    quarters (`maturities_next_four_quarters` of `schedule`, the schedule at `on`); the funding
    gap of the year to `on` (`gap_last_year`, a `period_funding_gap` row or a `gap_from_quarters`
    dict) as the need of the next year if it repeats. Then `available` = cash incl. restricted +
    undrawn, `needs` = maturities + gap (only when the gap covers a full year), `coverage` =
    available / needs (ratio). Maturities known only as a range give `low` and `high` (bounds). Restricted cash is not
    all usable (some secures the DDTL facilities): the row says so. Missing -> NaN, never 0.
    """
    on = pd.Timestamp(on)
    best = F.best_figures(fund)
    rows = []

    def add(item, rec, note="", low=np.nan, high=np.nan):
        v = rec.get("value")
        known = not _isnan(v) or not _isnan(low)
        rows.append({"item": item, "date": rec.get("date"), "value": v, "low": low, "high": high,
                     "source": rec.get("source") or rec.get("sources"),
                     "confidence": rec.get("confidence") if known else None,  # no confidence for a missing value
                     "note": note or rec.get("reason")})

    add("cash and cash equivalents", latest_figure(fund, "cash_and_equivalents", on, best))
    cr = latest_figure(fund, "cash_and_restricted_cash", on, best)
    add("cash incl. restricted cash", cr, "restricted cash partly secures the DDTL facilities")
    und = latest_figure(fund, "undrawn_debt_availability", on, best)
    add("undrawn facilities", und)
    nxt = maturities_next_four_quarters(schedule)
    add("principal due in the next four quarters", {"date": nxt["as_of"], "value": nxt["value"], "sources": nxt["sources"],
                                                    "confidence": nxt["confidence"]}, nxt["basis"],
        low=np.nan if nxt["exact"] else nxt["low"], high=np.nan if nxt["exact"] else nxt["high"])
    p = gap_last_year.get("period")
    start, end = period_bounds(p) if p else (None, None)
    full_year = p is not None and (end - start).days >= 360
    g = gap_last_year.get("funding_gap", np.nan)
    how = ("cash capex less operating cash flow"
           + (f", summed from {gap_last_year['parts']} (derived)" if gap_last_year.get("parts") else ""))
    add("funding gap" + (f", {p}" if p else ""),
        {"date": on, "value": g, "sources": gap_last_year.get("sources"), "confidence": gap_last_year.get("confidence"),
         "reason": gap_last_year.get("reason")},
        (f"{how}; the next year's need if it repeats" if full_year else
         f"{how}; a part-year, so not a year's need and left out of the coverage" if not _isnan(g) else
         gap_last_year.get("reason") or f"{how}: not in the data"))
    avail = cr["value"] + und["value"] if not (_isnan(cr["value"]) or _isnan(und["value"])) else np.nan
    needs = (nxt["value"] + g if full_year and not (_isnan(nxt["value"]) or _isnan(g)) else np.nan)
    df = pd.DataFrame(rows, columns=["item", "date", "value", "low", "high", "source", "confidence", "note"])
    summary = {"available": avail, "needs": needs,
               "coverage": avail / needs if not (_isnan(avail) or _isnan(needs)) and needs > 0 else np.nan}
    df.attrs.update(summary)
    return df


# --------------------------------------------------------------------------- returns on capital
ROIC_COLUMNS = ["quarter", "useful_life", "operating_income", "operating_income_restated", "capital_basis",
                "capital_start", "capital_end", "capital", "roic_annualised", "derived", "reason"]
CAPITAL_BASES = {"average_gross_ppe": "property_and_equipment_gross", "average_net_ppe": "property_and_equipment_net",
                 "closing_net_ppe": "property_and_equipment_net"}


def returns_on_capital(panel: F.Panel, useful_lives=(6, 5, 4), *, computing_share_of_da: float,
                       reported_life: float = 6) -> pd.DataFrame:
    """Operating return on capital by quarter and useful life, annualised (fraction).

    Definition: roic_annualised = 4 x operating_income_restated / capital, where
    operating_income_restated is the quarter's GAAP operating income (pre-tax, pre-interest)
    restated for a useful life L of computing equipment by `unit_economics.depreciation_sensitivity`
    (L = reported_life reproduces the reported figure), and capital is the average of the
    quarter's opening and closing property and equipment, gross (before accumulated depreciation)
    or net, both as reported (`capital_basis` average_gross_ppe / average_net_ppe); where an
    opening balance is missing, `closing_net_ppe` (capital = the closing net balance) is given as
    a separate basis, never mixed into the averages. The capital base is not restated for the shorter
    life: a shorter life would also lower net PP&E (more accumulated depreciation), so the net
    ratios at L < reported_life understate the size of the change. PP&E includes construction in
    progress that earns nothing yet. Not tax-effected (no NOPAT): a pre-tax operating return.
    `computing_share_of_da` (fraction of D&A that is computing equipment) is an ASSUMPTION with no
    default. A quarter missing an input gives NaN and the reason. Columns: `ROIC_COLUMNS`.
    """
    for m in ROIC_METRICS:
        if m not in panel.values.columns:
            raise KeyError(f"returns_on_capital needs panel metric {m!r}")
    sens = U.depreciation_sensitivity(panel, useful_lives, computing_share_of_da=computing_share_of_da,
                                      reported_life=reported_life)
    rows = []
    for r in sens.itertuples():
        for basis, metric in CAPITAL_BASES.items():
            start = panel.record(F.previous_quarter(r.quarter), metric)["value"]
            end = panel.values.at[r.quarter, metric]
            if basis.startswith("closing"):
                avg, why = (end, None) if not _isnan(end) else (np.nan, f"{metric} missing at the end of {r.quarter}")
            else:  # average of opening and closing balances (the helper is generic over the metric)
                avg, why = U.average_debt(panel, r.quarter, metric)
            reasons = [x for x in (r.reason, why) if isinstance(x, str)]
            roic = (4.0 * r.operating_income_restated / avg
                    if not reasons and not _isnan(avg) and avg > 0 else np.nan)
            rows.append({"quarter": r.quarter, "useful_life": r.useful_life, "operating_income": r.operating_income,
                         "operating_income_restated": r.operating_income_restated, "capital_basis": basis,
                         "capital_start": np.nan if start is None else start, "capital_end": end,
                         "capital": avg, "roic_annualised": roic, "derived": bool(r.derived),
                         "reason": "; ".join(reasons) or None})
    return pd.DataFrame(rows, columns=ROIC_COLUMNS)


# --------------------------------------------------------------------------- dilution
def share_counts(fund: pd.DataFrame) -> pd.DataFrame:
    """Shares outstanding by class at each date the data hold (cover-page counts; balance-sheet
    counts are separate metrics and not mixed in). A cover page counts the shares at its own
    "as of" date (in the row's note, e.g. 2025-05-07 for the 10-Q of the quarter ended
    2025-03-31), not at the balance-sheet date: `date` is that count date (the period end when the
    note gives none), `period_end` the balance-sheet date of the filing's period.
    Columns: date, period_end, class_a, class_b, class_c, total (NaN unless all three classes are
    given at that date), sources, confidence, note."""
    from .valuation_inputs import _AS_OF_RE

    sub = fund[fund["metric"].isin(SHARE_METRICS)]
    rows = []
    for end, g in sub.groupby("period_end"):
        best = {m: F._rank_frame(g[g["metric"] == m]).iloc[0] for m in SHARE_METRICS if (g["metric"] == m).any()}
        vals = {m: float(best[m]["value"]) if m in best else np.nan for m in SHARE_METRICS}
        dates = {pd.Timestamp(x.group(1)) for b in best.values()
                 if isinstance(b["note"], str) and (x := _AS_OF_RE.search(b["note"]))}
        rows.append({"date": dates.pop() if len(dates) == 1 else end, "period_end": end,
                     "class_a": vals[SHARE_METRICS[0]], "class_b": vals[SHARE_METRICS[1]],
                     "class_c": vals[SHARE_METRICS[2]],
                     "total": sum(vals.values()) if not any(_isnan(v) for v in vals.values()) else np.nan,
                     "sources": _ids(*(b["source"] for b in best.values())),
                     "confidence": _min_conf(b["confidence"] for b in best.values()),
                     "note": "; ".join(str(b["note"]) for b in best.values() if isinstance(b["note"], str))})
    return pd.DataFrame(rows, columns=["date", "period_end", "class_a", "class_b", "class_c", "total", "sources",
                                       "confidence", "note"])


def convertible_shares(principal_usd_m: float, conversion_price_usd: float) -> float:
    """Class A shares issuable if convertible notes of `principal_usd_m` (USD m) all converted at
    `conversion_price_usd` (USD per share): principal x 1e6 / price. Ignores capped calls (which
    offset dilution up to their cap) and cash settlement (the issuer may settle in cash)."""
    if _isnan(principal_usd_m) or _isnan(conversion_price_usd) or conversion_price_usd <= 0:
        return np.nan
    return principal_usd_m * 1e6 / conversion_price_usd


# --------------------------------------------------------------------------- verdicts
#: the gap counts as debt-funded when net new debt covers at least this share of it
DEBT_MAJORITY = 0.5


def period_order(period: str) -> tuple:
    """Sort key of a reported period: by end date, then length (of two periods ending together,
    the longer one sorts last, as the one that says more)."""
    start, end = period_bounds(period)
    return end, end - start


def latest_gap_financing(fund: pd.DataFrame, periods) -> tuple[dict | None, dict | None]:
    """The financing of the newest funding gap, and the older period that gives context.

    `periods`: reported period codes ('2025Q3', '2025-9M', 'FY2025', '2026H1'). Returns
    (latest, context), each a `gap_financing` dict or None: `latest` is the period that ends last
    among those with a funding gap (a tie goes to the longer period); `context` is, when the
    latest period's debt flows are not in the data, the period that ends last among those with
    both a gap and its debt flows (None when `latest` has them, or no period does).
    """
    fins = [gap_financing(fund, p) for p in sorted(dict.fromkeys(periods), key=period_order)]
    with_gap = [f for f in fins if not _isnan(f["funding_gap"])]
    if not with_gap:
        return None, None
    latest = with_gap[-1]
    if not _isnan(latest["net_debt_raised"]):
        return latest, None
    known = [f for f in with_gap if not _isnan(f["net_debt_raised"])]
    return latest, (known[-1] if known else None)


def _split(f: dict) -> str:
    """The answer word of a known financing split: debt, equity or mixed."""
    d, e = f["debt_share_of_gap"], f["equity_share_of_gap"]
    return "debt" if d >= DEBT_MAJORITY else ("equity" if not _isnan(e) and e >= DEBT_MAJORITY else "mixed")


_FUNDED = {"debt": "mainly with debt", "equity": "mainly with equity", "mixed": "by a mix of sources"}


def funding_gap_verdict(financing: dict, context: dict | None = None):
    """Verdict 'funding_gap', led by the newest period with a funding gap (`financing`, a
    `gap_financing` dict; see `latest_gap_financing`).

    When that period's debt flows are in the data: 'debt' when net new debt covers at least
    `DEBT_MAJORITY` of a positive gap, 'equity' when equity does and debt does not, 'mixed'
    otherwise. When they are not, the answer is for `context` (the latest older period whose gap
    and debt flows are both known) and names it ('debt, in 2025-9M'), and the headline says that
    the newest period's financing is not in the data; without such a period, 'insufficient data'. 'not applicable' when operating
    cash flow covered capex; 'insufficient data' when the gap is missing.
    """
    from .report import fmt
    from .verdicts import Verdict

    p, g = financing["period"], financing["funding_gap"]
    keys = ("capex_cash", "operating_cash_flow", "funding_gap", "net_debt_raised", "equity_raised",
            "debt_share_of_gap", "equity_share_of_gap")
    ev = {"period": p} | {k: financing.get(k) for k in keys}
    if _isnan(g):
        return Verdict("funding_gap", "insufficient data",
                       f"The funding gap of {p} is not known: {financing['reason']}.", ev, p,
                       headline=f"cash capex or operating cash flow of {p} not in the data")
    c, o = financing["capex_cash"], financing["operating_cash_flow"]
    gap_words = f"{p} gap {fmt.usd_bn(g)} (capex {fmt.usd_bn(c)}, operating cash flow {fmt.usd_bn(o)})"
    if g <= 0:
        return Verdict("funding_gap", "not applicable",
                       f"In {p} operating cash flow of {fmt.usd_bn(o)} covered cash capex of {fmt.usd_bn(c)} "
                       f"(gap {fmt.usd_bn(g)}).", ev, p,
                       headline=f"{p} operating cash flow {fmt.usd_bn(o)} covered cash capex {fmt.usd_bn(c)}")

    def split_text(f, lead):
        e = f["equity_share_of_gap"]
        eq = f" and equity {fmt.pct(e, 0)} ({fmt.usd_bn(f['equity_raised'])}, IPO)" if not _isnan(e) else ""
        return (f"{lead}net new debt of {fmt.usd_bn(f['net_debt_raised'])} covered {fmt.pct(f['debt_share_of_gap'], 0)} "
                f"of it{eq}: the gap was funded {_FUNDED[_split(f)]}")

    first = (f"In {p} cash capex of {fmt.usd_bn(c)} exceeded operating cash flow of {fmt.usd_bn(o)} by "
             f"{fmt.usd_bn(g)}")
    if not _isnan(financing["net_debt_raised"]):
        answer = _split(financing)
        e = financing["equity_share_of_gap"]
        head = (f"{gap_words}; net new debt covered {fmt.pct(financing['debt_share_of_gap'], 0)}"
                + (f", IPO equity {fmt.pct(e, 0)}" if not _isnan(e) else ""))
        return Verdict("funding_gap", answer, split_text(financing, first + "; ") + ".", ev, p, headline=head)
    unknown = "; how it was financed is not in the data (its debt and equity flows are not held)"
    ok = (context is not None and not _isnan(context["funding_gap"]) and context["funding_gap"] > 0
          and not _isnan(context["net_debt_raised"]))
    if not ok:
        return Verdict("funding_gap", "insufficient data", first + unknown + ", nor for any earlier period.", ev, p,
                       headline=f"{gap_words}; its financing is not in the data")
    cp = context["period"]
    ev |= {"context_period": cp} | {f"context_{k}": context[k] for k in keys}
    answer = f"{_split(context)}, in {cp}"
    sentence = (first + unknown + ". " + split_text(context, f"In {cp}, the latest period whose debt flows are in the "
                f"data, cash capex exceeded operating cash flow by {fmt.usd_bn(context['funding_gap'])}; ") + ".")
    head = (f"net new debt covered {fmt.pct(context['debt_share_of_gap'], 0)} of the "
            f"{fmt.usd_bn(context['funding_gap'])} gap; {gap_words}, financing unknown")
    return Verdict("funding_gap", answer, sentence, ev, f"{p}; financing {cp}", headline=head)


#: capital bases of the returns verdict, in order of preference within a quarter
ROIC_BASIS_ORDER = ("average_net_ppe", "average_gross_ppe", "closing_net_ppe")


def returns_on_capital_verdict(roic: pd.DataFrame, rates: pd.Series, basis_order=ROIC_BASIS_ORDER,
                               reported_life: float = 6):
    """Verdict 'returns_on_capital' from `returns_on_capital(...)`, against the effective interest
    rate of the same quarter (`rates`: quarter -> fraction, e.g. `ratio_table(...)
    ["effective_interest_rate"]`).

    The quarter is the latest with a return at every life (on any capital basis) and a rate; in
    it, the basis is the first of `basis_order` with a return at every life (the average of opening
    and closing balances where both are in the data, else the closing balance). Answer: 'below
    cost of debt' when the return is below the rate at every life, 'above only at the reported
    life', 'above cost of debt' at every life, 'mixed', or 'insufficient data'."""
    from .report import fmt
    from .verdicts import Verdict

    rates = pd.Series(rates, dtype=float).dropna()
    full = (roic.groupby(["quarter", "capital_basis"])["roic_annualised"]
            .apply(lambda s: len(s) > 0 and s.notna().all()))
    full = full[full]
    qs = sorted({q for q, _ in full.index} & set(rates.index))
    if not qs:
        return Verdict("returns_on_capital", "insufficient data",
                       "No quarter has operating income, D&A and PP&E to compute returns on capital at every life "
                       "together with an effective interest rate in the same quarter.", {}, None,
                       headline="no quarter has returns on PP&E at every life and an effective rate")
    q = qs[-1]
    basis = next(b for b in basis_order if (q, b) in full.index)
    cost_of_debt = float(rates[q])
    sub = roic[(roic["capital_basis"] == basis)]
    g = sub[sub["quarter"] == q].set_index("useful_life")["roic_annualised"]
    lives = sorted(g.index)
    ev = ({f"roic_{int(L)}y": float(g[L]) for L in lives}
          | {"cost_of_debt": cost_of_debt, "quarter": q, "capital_basis": basis})
    above = {L: g[L] >= cost_of_debt for L in lives}
    if not any(above.values()):
        answer = "below cost of debt"
    elif all(above.values()):
        answer = "above cost of debt"
    elif above.get(float(reported_life)) and not any(v for L, v in above.items() if L < reported_life):
        answer = "above only at the reported life"
    else:
        answer = "mixed"
    parts = ", ".join(f"{fmt.pct(g[L], 1)} at {int(L)} years" for L in sorted(lives, reverse=True))
    what = {"below cost of debt": "below the cost of debt at every life",
            "above cost of debt": "above the cost of debt at every life",
            "above only at the reported life": f"above the cost of debt only at the reported {int(reported_life)}-year life",
            "mixed": "above the cost of debt at some lives only"}[answer]
    basis_text = {"average_net_ppe": "average net PP&E", "average_gross_ppe": "average gross PP&E",
                  "closing_net_ppe": "closing net PP&E"}[basis]
    why = (" (no opening balance in the data for an average)" if basis.startswith("closing") else "")
    later = sorted({x for x, _ in full.index if x > q})
    lo, hi = max(lives), min(lives)
    head = (f"in {q}, annualised return on {basis_text} {fmt.pct(g[lo], 1)} at {int(lo)} years, {fmt.pct(g[hi], 1)} at "
            f"{int(hi)}, against that quarter's {fmt.pct(cost_of_debt, 1)} effective rate")
    return Verdict("returns_on_capital", answer,
                   f"In {q}, the latest quarter with PP&E in the data" + (" that also has an effective rate" if later else "")
                   + f", annualised operating income over {basis_text}{why} was {parts}: {what} "
                   f"({fmt.pct(cost_of_debt, 1)}, the effective interest rate of the same quarter).", ev, q,
                   headline=head)
