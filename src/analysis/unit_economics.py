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
from .labels import metric_label

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
    return rec.get("reason") or f"{metric_label(metric, capital=True)} {quarter} missing"


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
        return np.nan, f"{metric_label(metric, capital=True)} missing at the end of {' and '.join(miss)} ({reasons})"
    return (start + end) / 2.0, None


#: Debt balances the effective rate may use, in order of preference (the same basis at both ends).
DEBT_BASES = (("principal", "debt_principal_total"), ("carrying amount", "debt_carrying_total"))


def debt_basis(panel: Panel, quarter: str) -> tuple[str | None, str | None]:
    """(basis, metric) of the debt balance the effective rate of `quarter` uses: principal when
    it exists at both quarter ends, else the carrying amount when that does (never one of each);
    (None, None) when neither does."""
    for basis, metric in DEBT_BASES:
        if metric in panel.values.columns and not _isnan(average_debt(panel, quarter, metric)[0]):
            return basis, metric
    return None, None


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
    basis, debt_metric = debt_basis(panel, q)
    avg, avg_why = average_debt(panel, q, debt_metric or "debt_principal_total")
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
        miss = [n for n, x in (("interest expense", intr), ("depreciation and amortisation", da))
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
    4 x quarterly interest_expense / mean(debt at the previous and current quarter end)
    (annualised; `interest_expense` is the income-statement line "interest expense, net", i.e.
    after capitalised interest; debt = principal, or the carrying amount where principal is not
    at both ends: `debt_basis`, recorded in `effective_rate_basis`); margin_to_interest_rate = operating_margin /
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
    out["effective_rate_basis"] = pd.Series(
        [debt_basis(panel, q)[0] if not _isnan(out.at[q, "effective_interest_rate"]) else None for q in v.index],
        index=v.index, dtype=object)
    out["reasons"] = pd.Series(reasons, index=v.index, dtype=object)
    out.index.name = "quarter"
    return out


def ratio_provenance(panel: Panel, ratio: str, quarter: str) -> dict:
    """Sources, weakest confidence and derived flag behind one ratio cell.

    Returns {"sources": [ids], "confidence": lowest of the inputs, "derived": any input derived,
    "undated": any input undated}. Inputs include the previous quarter's debt for rates (on the
    basis `debt_basis` chose).
    """
    from .fundamentals import CONFIDENCE_RANK

    debt_metric = debt_basis(panel, quarter)[1] or "debt_principal_total"
    inputs = [debt_metric if m == "debt_principal_total" else m for m in RATIO_INPUTS[ratio]]
    cells = [(quarter, m) for m in inputs]
    if debt_metric in inputs:
        cells.append((previous_quarter(quarter), debt_metric))
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


KEY_FIGURE_COLUMNS = ["label", "period", "value", "unit", "source_kind", "confidence", "sources", "derived",
                      "rounding"]
_KIND_RANK = {"filing": 5, "press_release": 4, "transcript": 3, "secondary": 2, "news": 1}


def key_figure_row(label: str, period, value, unit: str, recs, rounding: float = 0.0) -> dict:
    """One key-figures row with the provenance of its inputs `recs` (dicts with source, source_kind,
    confidence, derived): source kind and confidence are the weakest of the inputs; `derived`
    when any input is derived (or `recs` has several balances summed); `rounding`: the precision
    of an approximate figure in its unit (0 = exact; `analysis.precision`)."""
    from .fundamentals import CONFIDENCE_RANK

    recs = [r for r in recs if r.get("source")]
    srcs = list(dict.fromkeys(s for r in recs for s in str(r["source"]).split(";") if s))
    confs = [r["confidence"] for r in recs if r.get("confidence")]
    kinds = [r["source_kind"] for r in recs if r.get("source_kind")]
    return {"label": label, "period": period, "value": value, "unit": unit,
            "source_kind": min(kinds, key=lambda k: _KIND_RANK.get(k, 0)) if kinds else None,
            "confidence": min(confs, key=lambda c: CONFIDENCE_RANK.get(c, 0)) if confs else None,
            "sources": "; ".join(srcs), "derived": any(bool(r.get("derived")) for r in recs),
            "rounding": float(rounding or 0.0)}


#: Front-page key figures of this section: (label, kind, name); kind "metric" = a panel figure,
#: "ratio" = a `ratio_table` column.
KEY_FIGURES = (
    ("Revenue", "metric", "revenue"),
    ("Operating margin", "ratio", "operating_margin"),
    ("Interest expense, net", "metric", "interest_expense"),
    ("Coverage: operating income / interest", "ratio", "interest_coverage"),
    ("Coverage: adjusted EBITDA / interest", "ratio", "ebitda_interest_coverage"),
    ("Effective interest rate", "ratio", "effective_interest_rate"),
)


def latest_debt(panel: Panel) -> dict | None:
    """The newest quarter-end debt balance: principal or carrying amount, whichever is newer
    (principal when both exist at that date). Returns quarter, value (USD m), basis ('principal' /
    'carrying amount'), metric, record (provenance of the cell); None when neither exists."""
    best = None
    for basis, metric in DEBT_BASES:
        if metric not in panel.values.columns:
            continue
        s = panel.values[metric].dropna()
        if len(s) and (best is None or str(s.index[-1]) > best["quarter"]):
            q = str(s.index[-1])
            best = {"quarter": q, "value": float(s.iloc[-1]), "basis": basis, "metric": metric,
                    "record": panel.record(q, metric)}
    return best


def key_figures(panel: Panel, ratios: pd.DataFrame) -> pd.DataFrame:
    """Front-page key figures, each at the latest quarter that figure exists for (so a figure is
    never older than the data allow, and quarters can differ between rows: the period column says
    which). Rows: `KEY_FIGURES`, then debt at the newest quarter end (`latest_debt`: a carrying
    amount summed from its components is marked derived). Columns: KEY_FIGURE_COLUMNS; source kind
    and confidence are the weakest of each figure's inputs."""
    rows = []
    for label, kind, name in KEY_FIGURES:
        col = panel.values[name] if kind == "metric" else ratios[name]
        s = col.dropna()
        if s.empty:
            continue
        q = str(s.index[-1])
        if kind == "metric":
            recs = [panel.record(q, name)]
            unit = "usd_m"
        else:
            prov = ratio_provenance(panel, name, q)
            recs = [panel.record(q, m) for m in RATIO_INPUTS[name] if m != "debt_principal_total"]
            recs += [{"source": ";".join(prov["sources"]), "derived": prov["derived"],
                      "confidence": prov["confidence"]}]
            unit = RATIO_UNITS[name]
            if name == "effective_interest_rate":
                label = f"{label}, on {ratios.at[q, 'effective_rate_basis']}"
        rows.append(key_figure_row(label, q, float(s.iloc[-1]), unit, recs))
    d = latest_debt(panel)
    if d is not None:
        rec = d["record"]
        label = ("Debt principal (quarter end)" if d["basis"] == "principal"
                 else "Debt, carrying amount (quarter end)")
        rows.append(key_figure_row(label, d["quarter"], d["value"], "usd_m", [rec]))
    return pd.DataFrame(rows, columns=KEY_FIGURE_COLUMNS)


# --------------------------------------------------------------------------- verdicts
def _words(n: float) -> str:
    """Whole years in words for prose (3 -> 'three'); other values as numbers."""
    names = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
    return names.get(int(n), f"{n:g}") if float(n).is_integer() else f"{n:g}"


def luria_verdict(ratios: pd.DataFrame, threshold: float = HALF_RATE):
    """Luria's argument (operating margin below the cost of debt) as a `Verdict`.

    Tested in the latest quarter with both an operating margin and an effective interest rate
    (`margin_vs_cost_of_debt`): answer 'holds' when the margin is below `threshold` x the rate
    (a negative margin included), 'holds in part' when below the rate but not that far,
    'does not hold' when at or above it, 'not measurable' when no quarter has both. The sentence
    also states interest coverage by operating income and by adjusted EBITDA in the same quarter,
    and how many quarters with a rate had the margin below `threshold` x the rate; when a newer
    quarter has coverage but no rate, its coverage is given with its own period and the reason the
    test quarter is older. The headline names the test quarter first, so every figure in it
    carries that period.
    """
    from .verdicts import Verdict

    key = "margin_vs_cost_of_debt"
    q = latest_quarter(ratios, ["operating_margin", "effective_interest_rate"])
    if q is None:
        return Verdict(key, "not measurable",
                       "Whether the operating margin is above the cost of debt cannot be measured: no quarter in the "
                       "data has both an operating margin and debt at both quarter ends.",
                       headline="no quarter has both an operating margin and an effective interest rate")
    from .report import fmt

    om, er = ratios.at[q, "operating_margin"], ratios.at[q, "effective_interest_rate"]
    mr = ratios.at[q, "margin_to_interest_rate"]
    cov, ecov = ratios.at[q, "interest_coverage"], ratios.at[q, "ebitda_interest_coverage"]
    n_below, n_rate = quarters_below(ratios, "margin_to_interest_rate", threshold)
    basis = ratios.at[q, "effective_rate_basis"]
    if om < 0 or mr < threshold:
        answer, rel = "holds", "below half" if threshold == HALF_RATE else f"below {threshold:g} times"
        short = "below half" if threshold == HALF_RATE else f"below {threshold:g} times the rate"
    elif mr < 1:
        answer, rel, short = "holds in part", "below, though not below half,", "below the rate, not below half"
    else:
        answer, rel, short = "does not hold", "above", "above the rate"
    later = [x for x in ratios.index[ratios["operating_margin"].notna()] if x > q]
    when = f"in {q}" + (", the latest quarter with debt at both quarter ends," if later else ",")
    s = (f"Luria's point {answer}: {when} the operating margin ({fmt.pct(om)}) was {rel} the effective interest rate "
         f"on debt ({fmt.pct(er)}, on its {basis})")
    s += f", as in {n_below} of {n_rate} quarters with a rate" if n_rate > 1 else ""
    if not _isnan(ecov):
        s += f"; adjusted EBITDA covered net interest {fmt.ratio(ecov)}"
        if not _isnan(cov):
            s += (" while operating income did not cover it at all" if cov < 0 else
                  f" and operating income {fmt.ratio(cov)}")
    # a newer quarter with coverage but no rate: its coverage is stated with its own period, and why
    # the test quarter is older
    cq = latest_quarter(ratios, ["ebitda_interest_coverage"])
    newer_cov = cq if cq is not None and cq > q else None
    if newer_cov:
        s += (f". In {newer_cov}, the latest quarter reported, adjusted EBITDA covered net interest "
              f"{fmt.ratio(ratios.at[newer_cov, 'ebitda_interest_coverage'])}; it has no effective rate, because debt is "
              "not in the data at both of its quarter ends on one basis")
    s += "."
    head = f"in {q}" + (" (latest quarter with a rate)" if later else "")
    head += f" operating margin {fmt.pct(om)} against the {fmt.pct(er)} effective rate, {short}"
    if not _isnan(ecov):
        head += f"; adjusted EBITDA covered interest {fmt.ratio(ecov)}"
    return Verdict(key, answer, s, headline=head, period=q, evidence={
        "quarter": q, "operating_margin": om, "effective_interest_rate": er, "rate_basis": basis,
        "margin_to_interest_rate": mr, "interest_coverage": cov, "ebitda_interest_coverage": ecov,
        "quarters_below": n_below, "quarters_with_rate": n_rate, "threshold": threshold,
        "newer_coverage_quarter": newer_cov,
        "newer_ebitda_interest_coverage": ratios.at[newer_cov, "ebitda_interest_coverage"] if newer_cov else None})


def useful_life_history(fund: pd.DataFrame) -> pd.DataFrame:
    """The useful life of computing equipment by period (metric gpu_useful_life_years): period,
    period_start, life (years), source, confidence, published, undated; one row a period (best
    source), in period order. Empty when the data (at the note's date) have none."""
    from .fundamentals import best_figures

    b = best_figures(fund)
    b = b[b["metric"] == "gpu_useful_life_years"].sort_values("period_start")
    return b.rename(columns={"value": "life"})[
        ["period", "period_start", "life", "source", "confidence", "published", "undated"]].reset_index(drop=True)


def life_change(history: pd.DataFrame) -> dict | None:
    """The latest change of the useful life in `useful_life_history`: previous and current life
    (years), `effective` (start of the first period at the current life), sources; None when the
    history shows no change (or is empty)."""
    if len(history) < 2:
        return None
    h = history.reset_index(drop=True)
    for i in range(len(h) - 1, 0, -1):
        if h.at[i, "life"] != h.at[i - 1, "life"]:
            return {"previous": float(h.at[i - 1, "life"]), "current": float(h.at[i, "life"]),
                    "effective": h.at[i, "period_start"], "sources": list(dict.fromkeys([h.at[i - 1, "source"],
                                                                                       h.at[i, "source"]])),
                    "undated": bool(h.at[i - 1, "undated"] or h.at[i, "undated"])}
    return None


def depreciation_verdict(sens_wide: pd.DataFrame, reported_life: float, change: dict | None = None,
                         computing_share_of_da: float = 1.0, compare_life: float | None = None,
                         life_assumed: bool = False):
    """Chanos's argument (the six-year GPU life flatters the margin) as a `Verdict`.

    Read in the latest quarter with a break-even life in `sens_wide` (`sensitivity_table`),
    comparing the margin at `reported_life` with the margin at `compare_life` (default: the life
    before the last change, `change['previous']`, else the longest tested life below the reported
    one). Answer (`depreciation_life`, "how much of the margin rests on the life"): 'rests on the life'
    (a profit at the reported life, a loss at the comparison life), 'partly' (a profit at both),
    'loss at either life' (already a loss at the reported life), 'not measurable'. When the latest
    quarter is a loss, the sentence adds the latest profitable quarter. `life_assumed`: the
    reported life is a parameter, not a dated statement in the data; the answer is then qualified
    ('rests on the life, if six years') and headline and sentence say the life is assumed.
    """
    from .report import fmt
    from .verdicts import Verdict

    key = "depreciation_life"
    sw = sens_wide.set_index("quarter") if len(sens_wide) else sens_wide
    ok = sw[sw["break_even_life"].notna()] if len(sw) else sw
    tested = sorted(float(c[len("margin_"):-1]) for c in sw.columns if str(c).startswith("margin_")) if len(sw) else []
    if compare_life is None:
        prev = change["previous"] if change else None
        shorter = [x for x in tested if x < reported_life]
        compare_life = prev if prev in tested else (max(shorter) if shorter else None)
    if ok.empty or compare_life is None:
        return Verdict(key, "not measurable",
                       "How much of the margin rests on the GPU useful life cannot be measured: no quarter has operating "
                       "income and D&A, or no shorter life is tested.",
                       headline="no quarter has operating income and D&A, or no shorter life is tested")
    q = str(ok.index[-1])
    mc, mr = f"margin_{compare_life:g}y", f"margin_{reported_life:g}y"
    m_rep, m_cmp, be = ok.at[q, mr], ok.at[q, mc], ok.at[q, "break_even_life"]
    six = _words(reported_life)
    assumed = "assumed: no dated statement in the data"
    life_txt = f"the {six}-year GPU life"
    if change and change["current"] == reported_life:
        life_txt += f" ({_words(change['previous'])} years until {pd.Timestamp(change['effective']).year})"
    share = ("" if computing_share_of_da == 1 else
             f", with {fmt.pct(computing_share_of_da, 0)} of D&A treated as computing equipment")
    at_cmp = f"at {_words(compare_life)} years"
    if life_assumed:
        head = f"margin {fmt.pct(m_rep)} at {six} years (assumed)"  # the sentence says why
    else:
        head = f"margin {fmt.pct(m_rep)} at the {six}-year life"
        if change and change["current"] == reported_life:
            head += f" ({_words(change['previous'])} until {pd.Timestamp(change['effective']).year})"
    head += f", {fmt.pct(m_cmp)} at {_words(compare_life)} years ({q})"
    cond = f"If the reported life is {six} years ({assumed}), " if life_assumed else ""
    if m_rep > 0 and m_cmp <= 0:
        answer = "rests on the life"
        s = (f"{cond}Chanos's point holds for {q}: its {fmt.pct(m_rep)} operating margin "
             + ("rests on that life; " if life_assumed else f"rests on {life_txt}; ")
             + f"{at_cmp} it would be {fmt.pct(m_cmp)}, and operating income breaks even at a {fmt.num(be, 1)}-year "
             f"life{share}.")
    elif m_rep > 0:
        answer = "partly"
        s = (f"{cond}Chanos's point holds only in part for {q}: {at_cmp} instead of "
             + ("that life" if life_assumed else life_txt) + f" the {fmt.pct(m_rep)} "
             f"operating margin would fall to {fmt.pct(m_cmp)}, still a profit; operating income breaks even at a "
             f"{fmt.num(be, 1)}-year life{share}.")
    else:
        answer = "loss at either life"
        subject = "that life" if life_assumed else life_txt
        s = (f"{cond}{subject[0].upper() if not cond else subject[0]}{subject[1:]} flatters the margin: in {q} it was "
             f"already negative ({fmt.pct(m_rep)}), and {at_cmp} it would be {fmt.pct(m_cmp)}, "
             f"{fmt.pp(m_rep - m_cmp)} lower{share}")
        prof = ok[ok[mr] > 0]
        if len(prof):
            pq = str(prof.index[-1])
            s += (f"; in {pq}, the latest quarter with an operating profit, the {fmt.pct(prof.at[pq, mr])} margin "
                  + (f"turns to {fmt.pct(prof.at[pq, mc])}" if prof.at[pq, mc] <= 0 else f"falls to {fmt.pct(prof.at[pq, mc])}")
                  + f" {at_cmp}")
            head += f"; {pq} (last profit): {fmt.pct(prof.at[pq, mr])}, {fmt.pct(prof.at[pq, mc])} at {_words(compare_life)}"
        s += "."
    if answer != "loss at either life":
        head += f"; break-even at {fmt.num(be, 1)} years"
    if life_assumed:
        answer += f", if {six} years"
    return Verdict(key, answer, s, headline=head, period=q, evidence={
        "quarter": q, "reported_life": reported_life, "compare_life": compare_life, "margin_reported_life": m_rep,
        "margin_compare_life": m_cmp, "break_even_life": be, "computing_share_of_da": computing_share_of_da,
        "previous_life": change["previous"] if change else None, "life_assumed": bool(life_assumed),
        "life_changed": pd.Timestamp(change["effective"]).date().isoformat() if change else None})
