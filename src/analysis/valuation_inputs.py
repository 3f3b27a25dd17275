"""Which share count, debt and cash an enterprise value uses: each input is the newest figure the
data hold on the note's date, stated with the date it refers to, its basis and its confidence.
`analysis.valuation` does the arithmetic; this module only chooses and describes, and estimates
nothing: a share count missing a class is a lower bound, never completed.

Rules
- Shares: the newest of (a) cover-page counts by class, dated at the cover's "as of" date (in the
  row's note; else the period end), and (b) the quarterly weighted-average basic shares (all
  classes, an average over the quarter, dated at the quarter end). A count that lacks a class is
  a lower bound of the shares outstanding at its date; the latest figure stated for each missing
  class is returned beside it (`missing`), never added in. The latest complete count (Class
  A + B + C) and the latest weighted average are returned too, for comparison.
- Debt: the newest balance-sheet date with a debt total; at that date the principal (what is
  owed) is preferred to the carrying amount (principal net of unamortised discount and issuance
  costs, `fundamentals.COMPOSITES`).
- Cash: the newest balance-sheet date with a cash figure; at that date cash and cash equivalents
  (unrestricted, free to repay debt) is preferred to cash including restricted cash (part of
  which secures the delayed-draw loans).
- The earlier basis, kept to show what the stale inputs did: debt principal and cash including
  restricted cash at the latest date with both.

A figure is a dict: value, date (Timestamp the figure refers to), basis (reader text), metric,
period (label of the data row), sources ('; '-joined ids), confidence, bound ('exact', 'lower
bound' or 'average'), unit (rounding unit from `analysis.precision`, 0 when exact), undated (the
publication date is not verified), derived, derived_from, missing (for shares: the classes
absent at that date, each {class, value, date, sources, confidence}).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import fundamentals as F
from .precision import is_approximate, rounding_unit, sum_unit

#: class suffix of fundamentals.csv metrics -> letter used in prose
SHARE_CLASSES = {"class_a": "A", "class_b": "B", "class_c": "C"}
SHARE_METRICS = {f"shares_outstanding_{k}": k for k in SHARE_CLASSES}
WEIGHTED_METRIC = "weighted_avg_shares_basic"
#: coarsest unit an approximate share count is stated in here ('1.0 亿' = 100m to a tenth of 亿)
SHARE_MAX_UNIT = 1e7
#: at one balance-sheet date, in order of preference: (metric, basis in reader words)
DEBT_PREFERENCE = (("debt_principal_total", "principal"), ("debt_carrying_total", "carrying amount"))
CASH_PREFERENCE = (("cash_and_equivalents", "cash and cash equivalents"),
                   ("cash_and_restricted_cash", "cash incl. restricted cash"))
#: the earlier basis: one common date with both of these
EARLIER_BASIS = (DEBT_PREFERENCE[0], CASH_PREFERENCE[1])
_CONF = {"high": 3, "medium": 2, "low": 1}
_Q_RE = re.compile(r"^\d{4}Q[1-4]$")
_AS_OF_RE = re.compile(r"as of (\d{4}-\d{2}-\d{2})")


def _na(x) -> bool:
    return x is None or (not isinstance(x, str) and pd.isna(x))


def _min_conf(levels) -> str | None:
    levels = [c for c in levels if isinstance(c, str)]
    return min(levels, key=lambda c: _CONF.get(c, 0)) if levels else None


def _ids(values) -> str:
    out = []
    for v in values:
        if isinstance(v, str):
            out += [s.strip() for s in v.split(";") if s.strip()]
    return "; ".join(dict.fromkeys(out))


def classes_of(fig: dict | None) -> tuple:
    """The share classes a share figure covers (all three for a weighted average)."""
    return tuple(fig.get("classes", ())) if fig else ()


def classes_text(classes) -> str:
    """('class_a', 'class_b') -> 'Class A + B'."""
    return "Class " + " + ".join(SHARE_CLASSES[c] for c in classes) if classes else "no class"


# --------------------------------------------------------------------------- shares
SHARE_COLUMNS = ["date", *SHARE_CLASSES, "shares", "classes", "complete", "missing", "sources", "confidence",
                 "approximate", "unit", "undated", "published", "period"]


def share_counts_by_date(fund: pd.DataFrame) -> pd.DataFrame:
    """Cover-page share counts by class at each date the data hold (`fund` = load_fundamentals(as_of)).

    One row per date (the cover's 'as of' date from the row note, else the period end): class_a,
    class_b, class_c (shares; NaN when that class is not given at that date), shares (sum of the
    classes given), classes (the classes given, e.g. ('class_a', 'class_b')), complete (all three
    given), missing (the absent classes), sources, confidence (the weakest), approximate (a note
    marks one as approximate), unit (rounding unit of the sum, shares), undated (a row without a
    verified publication date), published (latest), period (label of the rows). Sorted by date.
    """
    sub = fund[fund["metric"].isin(SHARE_METRICS)]
    if sub.empty:
        return pd.DataFrame(columns=SHARE_COLUMNS)
    ranked = F._rank_frame(sub)
    best = ranked.groupby(["period", "metric"], sort=False).head(1)
    best = best.assign(_date=[pd.Timestamp(m.group(1)) if isinstance(n, str) and (m := _AS_OF_RE.search(n)) else e
                              for n, e in zip(best["note"], best["period_end"], strict=True)])
    rows = []
    for date, g in best.groupby("_date", sort=True):
        vals = {k: np.nan for k in SHARE_CLASSES}
        for r in g.itertuples():
            vals[SHARE_METRICS[r.metric]] = float(r.value)
        given = tuple(k for k in SHARE_CLASSES if not _na(vals[k]))
        approx = [is_approximate(n) for n in g["note"]]
        units = [rounding_unit(v, a, SHARE_MAX_UNIT) for v, a in zip(g["value"], approx, strict=True)]
        rows.append({"date": pd.Timestamp(date), **vals, "shares": float(sum(vals[k] for k in given)),
                     "classes": given, "complete": len(given) == len(SHARE_CLASSES),
                     "missing": tuple(k for k in SHARE_CLASSES if k not in given),
                     "sources": _ids(g["source"]), "confidence": _min_conf(g["confidence"]),
                     "approximate": any(approx), "unit": sum_unit(*units),
                     "undated": bool(g["published"].isna().any()), "published": g["published"].max(),
                     "period": "; ".join(dict.fromkeys(g["period"]))})
    return pd.DataFrame(rows, columns=SHARE_COLUMNS)


def _count_figure(row, counts: pd.DataFrame) -> dict:
    """A figure dict from one `share_counts_by_date` row; for an incomplete count, the latest
    figure stated for each missing class (at any earlier or later date in `counts`)."""
    missing = []
    for k in row["missing"]:
        have = counts[counts[k].notna()]
        if len(have):
            last = have.iloc[-1]
            missing.append({"class": k, "value": float(last[k]), "date": last["date"], "sources": last["sources"],
                            "confidence": last["confidence"]})
        else:
            missing.append({"class": k, "value": np.nan, "date": pd.NaT, "sources": None, "confidence": None})
    return {"value": float(row["shares"]), "date": row["date"], "kind": "count",
            "basis": f"{classes_text(row['classes'])}, count at {row['date'].date().isoformat()}",
            "metric": "shares_outstanding", "period": row["period"], "sources": row["sources"],
            "confidence": row["confidence"], "bound": "exact" if row["complete"] else "lower bound",
            "unit": float(row["unit"]), "undated": bool(row["undated"]), "derived": len(row["classes"]) > 1,
            "derived_from": " + ".join(f"Class {SHARE_CLASSES[k]} {row[k]:,.0f}" for k in row["classes"]),
            "approximate": bool(row["approximate"]), "missing": missing, "classes": tuple(row["classes"])}


def latest_weighted_average(fund: pd.DataFrame) -> dict | None:
    """Weighted-average basic shares of the latest quarter in the data (all classes: the filings
    compute loss per share on the classes combined), as a figure dict dated at the quarter end
    (bound 'average'); None when no quarter has one."""
    sub = fund[(fund["metric"] == WEIGHTED_METRIC) & fund["period"].astype(str).str.match(_Q_RE)]
    if sub.empty:
        return None
    ranked = F._rank_frame(sub)
    best = ranked.groupby("period", sort=False).head(1).sort_values("period_end")
    r = best.iloc[-1]
    return {"value": float(r["value"]), "date": pd.Timestamp(r["period_end"]), "kind": "average",
            "basis": f"weighted-average basic shares of {r['period']} (all classes)", "metric": WEIGHTED_METRIC,
            "period": r["period"], "sources": r["source"], "confidence": r["confidence"], "bound": "average",
            "unit": rounding_unit(float(r["value"]), is_approximate(r["note"]), SHARE_MAX_UNIT),
            "undated": bool(pd.isna(r["published"])), "derived": False, "derived_from": None,
            "approximate": is_approximate(r["note"]), "missing": [], "classes": tuple(SHARE_CLASSES)}


def share_bases(fund: pd.DataFrame) -> dict:
    """The share figures an enterprise value can rest on: {'newest', 'complete', 'average'} ->
    figure dict or None. 'newest' is the newest of the counts and the weighted average (a count
    wins a tie); 'complete' the latest count with all three classes; 'average' the latest
    quarterly weighted average."""
    counts = share_counts_by_date(fund)
    figs = [_count_figure(r, counts) for _, r in counts.iterrows()]
    complete = [f for f in figs if f["bound"] == "exact"]
    avg = latest_weighted_average(fund)
    cands = figs + ([avg] if avg else [])
    newest = max(cands, key=lambda f: (f["date"], f["kind"] == "count")) if cands else None
    return {"newest": newest, "complete": complete[-1] if complete else None, "average": avg}


# --------------------------------------------------------------------------- debt and cash
def _quarter(date) -> str:
    d = pd.Timestamp(date)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def _is_quarter_end(d) -> bool:
    d = pd.Timestamp(d)
    return d.month in (3, 6, 9, 12) and d == d + pd.offsets.MonthEnd(0)


def _parts(metric: str) -> set[str]:
    return {m for s in F.COMPOSITES.get(metric, ((metric,),)) for m in s}


def balance_figure(fund: pd.DataFrame, metric: str, basis: str, date, best: pd.DataFrame | None = None) -> dict | None:
    """`metric` at the balance-sheet date `date` as a figure dict (None when not in the data)."""
    best = F.best_figures(fund) if best is None else best
    rec = F.figure(fund, metric, _quarter(date), best)
    if rec["value"] is None:
        return None
    row = fund[(fund["metric"] == metric) & (fund["period"] == rec["period"]) & (fund["source"] == rec["source"])]
    approx = bool(len(row)) and is_approximate(row["note"].iloc[0])
    return {"value": float(rec["value"]), "date": pd.Timestamp(date), "kind": "balance", "basis": basis,
            "metric": metric, "period": rec["period"], "sources": _ids([rec["source"]]),
            "confidence": rec["confidence"], "bound": "exact",
            "unit": rounding_unit(float(rec["value"]), approx), "undated": bool(rec["undated"]),
            "derived": bool(rec["derived"]), "derived_from": rec["derived_from"], "approximate": approx,
            "missing": []}


def newest_balance(fund: pd.DataFrame, preference, best: pd.DataFrame | None = None) -> dict | None:
    """The newest quarter-end figure among `preference` ((metric, basis), ...): the latest date
    with any of them; at that date the first in order of preference."""
    best = F.best_figures(fund) if best is None else best
    names = set().union(*(_parts(m) for m, _ in preference))
    dates = sorted({pd.Timestamp(d) for d in best.loc[best["metric"].isin(names), "period_end"]
                    if not _na(d) and _is_quarter_end(d)}, reverse=True)
    for d in dates:
        for metric, basis in preference:
            fig = balance_figure(fund, metric, basis, d, best)
            if fig is not None:
                return fig
    return None


def common_balance(fund: pd.DataFrame, pair=EARLIER_BASIS, best: pd.DataFrame | None = None) -> dict | None:
    """{'debt', 'cash'} at the latest quarter end with both `pair` metrics ((metric, basis) x 2);
    None when no date has both."""
    best = F.best_figures(fund) if best is None else best
    (dm, db), (cm, cb) = pair
    dates = sorted({pd.Timestamp(d) for d in best.loc[best["metric"].isin(_parts(dm)), "period_end"]
                    if not _na(d) and _is_quarter_end(d)}
                   & {pd.Timestamp(d) for d in best.loc[best["metric"].isin(_parts(cm)), "period_end"]
                      if not _na(d) and _is_quarter_end(d)}, reverse=True)
    for d in dates:
        debt, cash = balance_figure(fund, dm, db, d, best), balance_figure(fund, cm, cb, d, best)
        if debt is not None and cash is not None:
            return {"debt": debt, "cash": cash}
    return None


def balance_bases(fund: pd.DataFrame) -> dict:
    """{'newest': {'debt', 'cash'} (each the newest figure, possibly at different dates; a value
    is None when absent), 'earlier': `common_balance` (or None)}."""
    best = F.best_figures(fund)
    return {"newest": {"debt": newest_balance(fund, DEBT_PREFERENCE, best),
                       "cash": newest_balance(fund, CASH_PREFERENCE, best)},
            "earlier": common_balance(fund, EARLIER_BASIS, best)}


def same_figure(a: dict | None, b: dict | None) -> bool:
    """True when two figure dicts are the same input (metric, date and value)."""
    return (a is not None and b is not None and a["metric"] == b["metric"] and a["date"] == b["date"]
            and a["value"] == b["value"])
