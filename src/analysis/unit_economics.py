"""Margins, interest coverage, the effective cost of debt, and depreciation-life restatements.

Inputs are `analysis.fundamentals.Panel` objects (values in USD millions, one row a calendar
quarter). Ratios are fractions (0.038 = 3.8%) or multiples (x). A ratio is NaN when an input is
missing or the denominator is zero or not meaningful, and the reason is kept (never a zero).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .fundamentals import Panel, previous_quarter

#: Luria's test of margin against the cost of debt: the operating margin below this fraction of
#: the effective interest rate (0.5 = "less than half the rate") is read as the argument holding.
HALF_RATE = 0.5

RATIO_COLUMNS = (
    "operating_margin", "adjusted_operating_margin", "ebitda_margin", "interest_burden",
    "interest_coverage", "adjusted_interest_coverage", "ebitda_interest_coverage",
    "effective_interest_rate", "margin_to_interest_rate", "interest_and_da_to_revenue",
)
RATIO_UNITS = {
    "operating_margin": "fraction", "adjusted_operating_margin": "fraction",
    "ebitda_margin": "fraction", "interest_burden": "fraction", "interest_coverage": "ratio",
    "adjusted_interest_coverage": "ratio", "ebitda_interest_coverage": "ratio",
    "effective_interest_rate": "fraction", "margin_to_interest_rate": "ratio",
    "interest_and_da_to_revenue": "fraction",
}
# ratio -> metrics it is built from (for provenance: sources, confidence, derived)
RATIO_INPUTS = {
    "operating_margin": ("operating_income", "revenue"),
    "adjusted_operating_margin": ("adjusted_operating_income", "revenue"),
    "ebitda_margin": ("adjusted_ebitda", "revenue"),
    "interest_burden": ("interest_expense", "revenue"),
    "interest_coverage": ("operating_income", "interest_expense"),
    "adjusted_interest_coverage": ("adjusted_operating_income", "interest_expense"),
    "ebitda_interest_coverage": ("adjusted_ebitda", "interest_expense"),
    "effective_interest_rate": ("interest_expense", "debt_principal_total"),
    "margin_to_interest_rate": ("operating_income", "revenue", "interest_expense",
                                "debt_principal_total"),
    "interest_and_da_to_revenue": ("interest_expense", "depreciation_and_amortization", "revenue"),
}


def _isnan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _ratio(num, den, what: str, num_name: str, den_name: str, positive_den: bool = True):
    """num / den, or (NaN, reason)."""
    if _isnan(num) or _isnan(den):
        miss = [n for n, v in ((num_name, num), (den_name, den)) if _isnan(v)]
        return np.nan, f"{what}: {' and '.join(miss)} missing"
    if den == 0 or (positive_den and den < 0):
        return np.nan, f"{what}: {den_name} is {den:g} (not a positive denominator)"
    return num / den, None


def _cell_reason(panel: Panel, quarter: str, metric: str) -> str:
    rec = panel.record(quarter, metric)
    return rec.get("reason") or f"{metric} {quarter} missing"


def average_debt(panel: Panel, quarter: str, metric: str = "debt_principal_total"):
    """Mean of `metric` at the end of the previous quarter and of `quarter` (USD m), or
    (NaN, reason) when either end is missing. Uses `panel.opening` for the first row."""
    prev = previous_quarter(quarter)
    vals = panel.values[metric]
    end = vals.get(quarter, np.nan)
    start = vals.get(prev, np.nan) if prev in vals.index else panel.record(prev, metric)["value"]
    start = np.nan if start is None else float(start)
    if _isnan(end) or _isnan(start):
        miss = [q for q, v in ((prev, start), (quarter, end)) if _isnan(v)]
        reasons = "; ".join(_cell_reason(panel, q, metric) for q in miss)
        return np.nan, f"{metric} missing at the end of {' and '.join(miss)} ({reasons})"
    return (start + end) / 2.0, None


def _quarter_ratios(panel: Panel, q: str) -> tuple[dict, dict]:
    """Ratios of one quarter and the reasons for the missing ones."""
    g = panel.values.loc[q]
    r, why = {}, {}


    def put(name, pair, r=r, why=why, q=q):
        r[name] = pair[0]
        if pair[1]:
            why[name] = f"{q} {pair[1]}"

    rev, oi, aoi = g.get("revenue"), g.get("operating_income"), g.get("adjusted_operating_income")
    ebitda, intr, da = g.get("adjusted_ebitda"), g.get("interest_expense"), g.get(
        "depreciation_and_amortization")
    put("operating_margin", _ratio(oi, rev, "operating margin", "operating_income", "revenue"))
    put("adjusted_operating_margin", _ratio(aoi, rev, "adjusted operating margin",
                                            "adjusted_operating_income", "revenue"))
    put("ebitda_margin", _ratio(ebitda, rev, "EBITDA margin", "adjusted_ebitda", "revenue"))
    put("interest_burden", _ratio(intr, rev, "interest burden", "interest_expense", "revenue"))
    put("interest_coverage", _ratio(oi, intr, "interest coverage", "operating_income",
                                    "interest_expense"))
    put("adjusted_interest_coverage", _ratio(aoi, intr, "adjusted interest coverage",
                                             "adjusted_operating_income", "interest_expense"))
    put("ebitda_interest_coverage", _ratio(ebitda, intr, "EBITDA interest coverage",
                                           "adjusted_ebitda", "interest_expense"))
    avg, avg_why = average_debt(panel, q)
    if avg_why:
        put("effective_interest_rate", (np.nan, "effective interest rate: " + avg_why))
    else:
        er, er_why = _ratio(intr, avg, "effective interest rate", "interest_expense",
                            "average debt principal")
        put("effective_interest_rate", (4.0 * er if not _isnan(er) else er, er_why))
    om, er = r["operating_margin"], r["effective_interest_rate"]
    if _isnan(om) or _isnan(er):
        miss = [n for n, x in (("operating margin", om), ("effective interest rate", er))
                if _isnan(x)]
        put("margin_to_interest_rate", (np.nan, f"margin-to-rate: {' and '.join(miss)} missing"))
    else:
        put("margin_to_interest_rate", _ratio(om, er, "margin-to-rate", "operating margin",
                                              "effective interest rate"))
    if _isnan(intr) or _isnan(da):
        num = np.nan
        miss = [n for n, x in (("interest_expense", intr), ("depreciation_and_amortization", da))
                if _isnan(x)]
        put("interest_and_da_to_revenue",
            (np.nan, f"(interest + D&A) / revenue: {' and '.join(miss)} missing"))
    else:
        num = intr + da
        put("interest_and_da_to_revenue", _ratio(num, rev, "(interest + D&A) / revenue",
                                                 "interest + D&A", "revenue"))
    for name in list(why):
        missing = [m for m in RATIO_INPUTS[name] if m != "debt_principal_total"
                   and _isnan(g.get(m))]
        if missing:
            why[name] += " [" + "; ".join(_cell_reason(panel, q, m) for m in missing) + "]"
    return r, why


def ratio_table(panel: Panel) -> pd.DataFrame:
    """Quarterly ratios from a `Panel`, indexed by quarter.

    Columns (fractions unless noted): operating_margin = operating_income / revenue;
    adjusted_operating_margin; ebitda_margin = adjusted_ebitda / revenue; interest_burden =
    interest_expense / revenue; interest_coverage = operating_income / interest_expense (x);
    adjusted_interest_coverage (x); ebitda_interest_coverage (x); effective_interest_rate =
    4 x quarterly interest_expense / mean(debt_principal_total at the previous and current
    quarter end) (annualised; `interest_expense` is the income-statement line "interest expense,
    net", i.e. after capitalised interest); margin_to_interest_rate = operating_margin /
    effective_interest_rate (x); interest_and_da_to_revenue = (interest_expense +
    depreciation_and_amortization) / revenue. `reasons` holds, per row, a dict ratio -> why it is
    NaN (empty dict when every ratio exists).
    """
    v = panel.values
    rows, reasons = [], []
    for q in v.index:
        r, why = _quarter_ratios(panel, q)
        rows.append(r)
        reasons.append(why)
    out = pd.DataFrame(rows, index=v.index, columns=list(RATIO_COLUMNS)).astype(float)
    out["reasons"] = pd.Series(reasons, index=v.index, dtype=object)
    out.index.name = "quarter"
    return out


def ratio_provenance(panel: Panel, ratio: str, quarter: str) -> dict:
    """Sources, weakest confidence and derived flag behind one ratio cell.

    Returns {"sources": [ids], "confidence": lowest of the inputs, "derived": any input derived,
    "undated": any input undated}. Inputs include the previous quarter's debt for rates.
    """
    from .fundamentals import CONFIDENCE_RANK

    cells = [(quarter, m) for m in RATIO_INPUTS[ratio]]
    if "debt_principal_total" in RATIO_INPUTS[ratio]:
        cells.append((previous_quarter(quarter), "debt_principal_total"))
    recs = [panel.record(q, m) for q, m in cells]
    recs = [r for r in recs if r.get("source")]
    sources = []
    for r in recs:
        sources.extend(s for s in str(r["source"]).split(";") if s)
    confs = [r["confidence"] for r in recs if r.get("confidence")]
    return {
        "sources": list(dict.fromkeys(sources)),
        "confidence": min(confs, key=lambda c: CONFIDENCE_RANK.get(c, 0)) if confs else None,
        "derived": any(bool(r.get("derived")) for r in recs),
        "undated": any(bool(r.get("undated")) for r in recs),
    }


def reasons_frame(ratios: pd.DataFrame) -> pd.DataFrame:
    """Long frame (quarter, ratio, reason) of every NaN ratio in a `ratio_table`."""
    out = []
    for q, d in ratios["reasons"].items():
        for k, why in (d or {}).items():
            out.append({"quarter": q, "ratio": k, "reason": why})
    return pd.DataFrame(out, columns=["quarter", "ratio", "reason"])


# --------------------------------------------------------------------------- depreciation life
def restated_da(da: float, useful_life: float, *, computing_share_of_da: float,
                reported_life: float = 6) -> float:
    """D&A (USD m) restated for another useful life of computing equipment.

    Assumptions (each a parameter or stated here): straight-line depreciation, no salvage value,
    the same gross computing-equipment base, and every asset still inside its depreciable life
    under both lives (so the charge scales as reported_life / useful_life); only the share
    `computing_share_of_da` of D&A is computing equipment, the rest is unchanged:
        D&A' = D&A x [(1 - s) + s x reported_life / useful_life].
    With a shorter life some older assets would already be fully depreciated, so for a fleet
    older than the new life this overstates D&A'.
    """
    _check_share(computing_share_of_da)
    if useful_life <= 0 or reported_life <= 0:
        raise ValueError("useful lives must be positive (years)")
    s = computing_share_of_da
    return da * ((1.0 - s) + s * reported_life / useful_life)


def _check_share(s) -> None:
    if s is None or not (0.0 <= float(s) <= 1.0):
        raise ValueError(f"computing_share_of_da must be a fraction in [0, 1], got {s!r}")


def depreciation_sensitivity(panel: Panel, useful_lives=(6, 5, 4, 3), *,
                             computing_share_of_da: float, reported_life: float = 6,
                             quarters=None) -> pd.DataFrame:
    """Operating income and margin restated for other useful lives of computing equipment.

    For each quarter with D&A, operating income and revenue (USD m) and each life L (years):
    da_restated = `restated_da(da, L, ...)`, operating_income_restated = operating_income -
    (da_restated - da), operating_margin_restated = operating_income_restated / revenue.
    At L = reported_life the restatement reproduces the reported operating income exactly.
    `computing_share_of_da` (fraction of D&A that is computing equipment) is an assumption with
    no default: the caller must state it. Interest, revenue and other costs are unchanged.
    Long frame: quarter, useful_life, computing_share_of_da, reported_life, revenue,
    depreciation_and_amortization, da_restated, operating_income, operating_income_restated,
    operating_margin, operating_margin_restated, derived (any input derived), reason.
    """
    _check_share(computing_share_of_da)
    v = panel.values
    der = panel.derived_mask()
    qs = list(v.index) if quarters is None else list(quarters)
    out = []
    for q in qs:
        rev = v.at[q, "revenue"]
        oi = v.at[q, "operating_income"]
        da = v.at[q, "depreciation_and_amortization"]
        miss = [m for m, x in (("revenue", rev), ("operating_income", oi),
                               ("depreciation_and_amortization", da)) if _isnan(x)]
        derived = bool(der.loc[q, ["revenue", "operating_income",
                                   "depreciation_and_amortization"]].any())
        for life in useful_lives:
            rec = {"quarter": q, "useful_life": float(life),
                   "computing_share_of_da": float(computing_share_of_da),
                   "reported_life": float(reported_life), "revenue": rev,
                   "depreciation_and_amortization": da, "operating_income": oi,
                   "derived": derived}
            if miss:
                rec.update(da_restated=np.nan, operating_income_restated=np.nan,
                           operating_margin=(oi / rev if not _isnan(oi) and not _isnan(rev)
                                             and rev > 0 else np.nan),
                           operating_margin_restated=np.nan,
                           reason="; ".join(_cell_reason(panel, q, m) for m in miss))
            else:
                if life == reported_life:
                    da_new, oi_new = da, oi  # identity: no arithmetic round-trip
                else:
                    da_new = restated_da(da, life, computing_share_of_da=computing_share_of_da,
                                         reported_life=reported_life)
                    oi_new = oi - (da_new - da)
                rec.update(da_restated=da_new, operating_income_restated=oi_new,
                           operating_margin=oi / rev if rev > 0 else np.nan,
                           operating_margin_restated=oi_new / rev if rev > 0 else np.nan,
                           reason=None if rev > 0 else f"{q}: revenue not positive")
            out.append(rec)
    cols = ["quarter", "useful_life", "computing_share_of_da", "reported_life", "revenue",
            "depreciation_and_amortization", "da_restated", "operating_income",
            "operating_income_restated", "operating_margin", "operating_margin_restated",
            "derived", "reason"]
    df = pd.DataFrame(out, columns=cols)
    df["reason"] = pd.Series([r if isinstance(r, str) else None for r in df["reason"]],
                             index=df.index, dtype=object)
    return df


def break_even_life(panel: Panel, *, computing_share_of_da: float, reported_life: float = 6,
                    quarters=None) -> pd.DataFrame:
    """Useful life (years) of computing equipment at which a quarter's operating income is zero.

    Same assumptions as `restated_da`. Solving operating_income - D&A x s x (reported_life / L - 1)
    = 0 gives L* = reported_life / (1 + operating_income / (s x D&A)). L* < reported_life: the
    quarter stays profitable down to L*; L* > reported_life: the quarter already has an operating
    loss and would need a longer life to break even. NaN + reason when inputs are missing, s = 0,
    or no positive life breaks even (loss larger than the computing share of D&A).
    Columns: quarter, break_even_life, operating_income, depreciation_and_amortization,
    computing_share_of_da, reported_life, profitable_at_reported_life, derived, reason.
    """
    _check_share(computing_share_of_da)
    v = panel.values
    der = panel.derived_mask()
    qs = list(v.index) if quarters is None else list(quarters)
    s = float(computing_share_of_da)
    out = []
    for q in qs:
        oi = v.at[q, "operating_income"]
        da = v.at[q, "depreciation_and_amortization"]
        miss = [m for m, x in (("operating_income", oi), ("depreciation_and_amortization", da))
                if _isnan(x)]
        rec = {"quarter": q, "operating_income": oi, "depreciation_and_amortization": da,
               "computing_share_of_da": s, "reported_life": float(reported_life),
               "profitable_at_reported_life": (None if _isnan(oi) else bool(oi > 0)),
               "derived": bool(der.loc[q, ["operating_income",
                                           "depreciation_and_amortization"]].any()),
               "break_even_life": np.nan, "reason": None}
        if miss:
            rec["reason"] = "; ".join(_cell_reason(panel, q, m) for m in miss)
        elif s == 0 or da <= 0:
            rec["reason"] = f"{q}: no computing-equipment D&A to restate (share x D&A = 0)"
        else:
            k = 1.0 + oi / (s * da)
            if k <= 0:
                rec["reason"] = (f"{q}: operating loss ({oi:g}) exceeds the computing share of "
                                 f"D&A ({s * da:g}); no finite useful life breaks even")
            else:
                rec["break_even_life"] = reported_life / k
        out.append(rec)
    cols = ["quarter", "break_even_life", "operating_income", "depreciation_and_amortization",
            "computing_share_of_da", "reported_life", "profitable_at_reported_life", "derived",
            "reason"]
    df = pd.DataFrame(out, columns=cols)
    df["break_even_life"] = df["break_even_life"].astype(float)
    df["profitable_at_reported_life"] = df["profitable_at_reported_life"].astype(object)
    df["reason"] = df["reason"].astype(object)
    return df


def sensitivity_table(sens: pd.DataFrame, breakeven: pd.DataFrame) -> pd.DataFrame:
    """Wide table: one row a quarter, operating margin (fraction) under each life
    (columns `margin_<L>y`), plus break_even_life (years) and derived / reason columns."""
    if sens.empty:
        return pd.DataFrame(columns=["quarter", "break_even_life", "derived", "reason"])
    wide = sens.pivot(index="quarter", columns="useful_life", values="operating_margin_restated")
    wide.columns = [f"margin_{life:g}y" for life in wide.columns]
    order = list(dict.fromkeys(sens["useful_life"]))
    wide = wide[[f"margin_{life:g}y" for life in order]]
    be = breakeven.set_index("quarter")
    wide = wide.reindex(list(dict.fromkeys(sens["quarter"])))
    wide["break_even_life"] = be["break_even_life"].reindex(wide.index)
    der = sens.groupby("quarter", sort=False)["derived"].any()
    wide["derived"] = der.reindex(wide.index).astype(bool) | be["derived"].reindex(wide.index).astype(bool)
    reason = sens.groupby("quarter", sort=False)["reason"].first()
    wide["reason"] = [r if isinstance(r, str) else (b if isinstance(b, str) else None)
                      for r, b in zip(reason.reindex(wide.index), be["reason"].reindex(wide.index),
                                      strict=True)]
    wide.index.name = "quarter"
    return wide.reset_index()


def latest_quarter(ratios: pd.DataFrame, columns=("operating_margin",)) -> str | None:
    """Latest quarter (index label) where every ratio in `columns` exists; None when none does."""
    ok = ratios[list(columns)].notna().all(axis=1)
    return str(ok[ok].index[-1]) if ok.any() else None


def quarters_below(ratios: pd.DataFrame, column: str = "margin_to_interest_rate",
                   threshold: float = HALF_RATE) -> tuple[int, int]:
    """(quarters where `column` < threshold, quarters where `column` exists)."""
    s = ratios[column].dropna()
    return int((s < threshold).sum()), int(len(s))


def results_table(panel: Panel, ratios: pd.DataFrame, metrics=(), ratio_columns=()) -> pd.DataFrame:
    """Flat table for the results file: quarter; for each metric its value (USD m) and
    `<metric>_source` / `_confidence` / `_derived`; for each ratio its value and `<ratio>_reason`
    (None when present)."""
    rows = []
    for q in panel.values.index:
        r = {"quarter": q}
        for m in metrics:
            rec = panel.record(q, m)
            r[m] = panel.values.at[q, m]
            r[f"{m}_source"] = rec.get("source")
            r[f"{m}_confidence"] = rec.get("confidence")
            r[f"{m}_derived"] = bool(rec.get("derived"))
        for c in ratio_columns:
            r[c] = ratios.at[q, c]
            r[f"{c}_reason"] = (ratios.at[q, "reasons"] or {}).get(c)
        rows.append(r)
    return pd.DataFrame(rows)


KEY_FIGURE_COLUMNS = ["label", "period", "value", "unit", "source_kind", "confidence", "sources", "derived"]


def key_figures(panel: Panel, ratios: pd.DataFrame, quarter: str | None) -> pd.DataFrame:
    """Front-page key figures for `quarter` with each figure's own provenance.

    Rows: revenue, operating margin, interest expense (USD m), interest coverage (x), and debt
    principal at the latest quarter end on or before `quarter` that has one (balances are often
    disclosed later or less often). Columns: KEY_FIGURE_COLUMNS; source_kind / confidence are the
    weakest of the figure's inputs; `derived` marks a derived quarter. Empty frame when `quarter`
    is None.
    """
    from .fundamentals import CONFIDENCE_RANK

    if quarter is None:
        return pd.DataFrame(columns=KEY_FIGURE_COLUMNS)
    kind_rank = {"filing": 5, "press_release": 4, "transcript": 3, "secondary": 2, "news": 1}

    def cell(label, q, metric, value, unit, recs):
        recs = [r for r in recs if r.get("source")]
        srcs = list(dict.fromkeys(s for r in recs for s in str(r["source"]).split(";") if s))
        confs = [r["confidence"] for r in recs if r.get("confidence")]
        kinds = [r["source_kind"] for r in recs if r.get("source_kind")]
        return {"label": label, "period": q, "value": value, "unit": unit,
                "source_kind": min(kinds, key=lambda k: kind_rank.get(k, 0)) if kinds else None,
                "confidence": min(confs, key=lambda c: CONFIDENCE_RANK.get(c, 0)) if confs else None,
                "sources": "; ".join(srcs), "derived": any(bool(r.get("derived")) for r in recs)}

    rows = []
    for label, metric in (("Revenue", "revenue"), ("Interest expense, net", "interest_expense")):
        rows.append(cell(label, quarter, metric, panel.values.at[quarter, metric], "usd_m",
                         [panel.record(quarter, metric)]))
    for label, ratio in (("Operating margin", "operating_margin"), ("Interest coverage", "interest_coverage")):
        recs = [panel.record(quarter, m) for m in RATIO_INPUTS[ratio]]
        rows.append(cell(label, quarter, ratio, ratios.at[quarter, ratio], RATIO_UNITS[ratio], recs))
    debt = panel.values.loc[:quarter, "debt_principal_total"].dropna()
    if len(debt):
        q = str(debt.index[-1])
        rows.append(cell("Debt principal (quarter end)", q, "debt_principal_total", debt.iloc[-1], "usd_m",
                         [panel.record(q, "debt_principal_total")]))
    return pd.DataFrame(rows, columns=KEY_FIGURE_COLUMNS)
