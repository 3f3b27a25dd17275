"""Figures a point-in-time note leaves out because the only document that gives them came later.

A figure public on the as-of date but read by us only in a later (or undated) document is not
used by the loaders (`analysis.data`, `later_source_excluded` / `undated_source_excluded`). The
note says so once, in its data section: which figure, for which periods, and why, without
printing the value or naming the later document (both would leak what was not public yet).
"""

from __future__ import annotations

import pandas as pd

from .data import (
    as_of_date,
    load_contracts,
    load_customers,
    load_debt_facilities,
    load_debt_maturities,
    load_financings,
    load_fundamentals,
)
from .data.rules import period_bounds
from .labels import measure_label, metric_label
from .report import fmt

REASON_LATER = "later document"
REASON_UNDATED = "undated document"

COLUMNS = ["file", "figure", "period", "published", "reason", "lines"]


def _excluded(df: pd.DataFrame, full: pd.DataFrame) -> pd.DataFrame:
    later = set(df.attrs.get("later_source_excluded", []))
    undated = set(df.attrs.get("undated_source_excluded", []))
    out = full[full["line"].isin(later | undated)].copy()
    out["reason"] = [REASON_LATER if n in later else REASON_UNDATED for n in out["line"]]
    return out


def _base_metric(metric: str) -> str:
    for suffix in ("_low", "_high"):
        if metric.endswith("_guidance" + suffix):
            return metric[: -len(suffix)]
    return metric


def _guidance_label(metric: str) -> str:
    if metric.endswith("_guidance"):
        return metric_label(metric[: -len("_guidance")]) + " guidance"
    return metric_label(metric)


def withheld_figures(as_of, data_dir=None) -> pd.DataFrame:
    """One row per figure (file + what + period) that exists in the data, was public on `as_of`,
    and is absent from the `as_of` loaders only because its document is later or undated; a
    figure with another usable row for the same key is not listed. Columns: file, figure (label
    in prose), period, published (first publication date), reason ('later document' or
    'undated document'), lines (file lines). Empty for `as_of` None/'latest'."""
    if as_of_date(as_of) is None:
        return pd.DataFrame(columns=COLUMNS)
    rows = []

    fund, fund_all = load_fundamentals(as_of, data_dir), load_fundamentals(None, data_dir)
    ex = _excluded(fund, fund_all)
    have = {(_base_metric(m), p) for m, p in zip(fund["metric"], fund["period"], strict=True)}
    for (metric, period), g in ex.groupby([ex["metric"].map(_base_metric), "period"], sort=False):
        if (metric, period) not in have:
            rows.append(("fundamentals.csv", _guidance_label(metric), period, g))

    cust, cust_all = load_customers(as_of, data_dir), load_customers(None, data_dir)
    ex = _excluded(cust, cust_all)
    have = set(zip(cust["customer"], cust["measure"], cust["period"], strict=True))
    for (customer, measure, period), g in ex.groupby(["customer", "measure", "period"], sort=False):
        if (customer, measure, period) not in have:
            rows.append(("customers.csv", f"{customer}: {measure_label(measure)}", period, g))

    for file, loader, who in (("contracts.csv", load_contracts, "counterparty"),
                              ("financings.csv", load_financings, "holder")):
        df, full = loader(as_of, data_dir), loader(None, data_dir)
        ex = _excluded(df, full)
        have = set(zip(df[who], df["kind"], strict=True))
        for (name, kind), g in ex.groupby([who, "kind"], sort=False):
            if (name, kind) not in have:
                rows.append((file, f"{name}: {str(kind).replace('_', ' ')}", None, g))

    for file, loader, key, what in (
            ("debt_facilities.csv", load_debt_facilities, ["facility", "measure", "as_of"],
             lambda k: f"{str(k[0]).replace('_', ' ')} debt: {k[1]}"),
            ("debt_maturities.csv", load_debt_maturities, ["bucket", "year", "as_of"],
             lambda k: "scheduled debt principal payments")):
        df, full = loader(as_of, data_dir), loader(None, data_dir)
        ex = _excluded(df, full)
        have = set(map(tuple, df[key].astype(str).to_numpy()))
        for k, g in ex.groupby(key, sort=False):
            if tuple(map(str, k)) not in have:
                rows.append((file, what(k), f"at {pd.Timestamp(k[2]).date().isoformat()}", g))

    out = [{"file": f, "figure": what, "period": period,
            "published": g[g.columns.intersection(["published", "announced"])[0]].min(),
            "reason": REASON_LATER if (g["reason"] == REASON_LATER).any() else REASON_UNDATED,
            "lines": sorted(int(x) for x in g["line"])} for f, what, period, g in rows]
    return pd.DataFrame(out, columns=COLUMNS)


def _periods(ps) -> str:
    """Period codes in time order (by period end, then start): '2024Q2, FY2024, 2025Q2'; dates
    ('at 2025-06-30') after them."""
    ps = [p for p in dict.fromkeys(ps) if isinstance(p, str) and p]
    codes = sorted((p for p in ps if not p.startswith("at ")), key=lambda p: period_bounds(p)[::-1])
    return ", ".join([*codes, *sorted(p for p in ps if p.startswith("at "))])


def withheld_sentence(withheld: pd.DataFrame, as_of) -> str | None:
    """The data section's paragraph naming each withheld figure and why (markdown, data text
    escaped), or None when nothing is withheld. Names periods and the as-of date only: no value, no later date, no id of
    a later document."""
    if withheld is None or withheld.empty:
        return None
    day = as_of_date(as_of).date().isoformat()
    parts = []
    for reason, why in ((REASON_LATER, f"the only document in the data that gives them was written after {day}"),
                        (REASON_UNDATED, "the only document in the data that gives them is undated, so nothing "
                                         f"shows it existed on {day}")):
        sub = withheld[withheld["reason"] == reason]
        if sub.empty:
            continue
        items = []
        for figure, g in sub.groupby("figure", sort=False):
            per = _periods(g["period"])
            items.append(f"{fmt.text(figure)} ({per})" if per else fmt.text(figure))
        n = len(sub)
        parts.append(f"{n} figure{'s' if n != 1 else ''} public by {day} {'are' if n != 1 else 'is'} left out "
                     f"because {why}: " + "; ".join(items) + ".")
    return "**Figures left out.** " + " ".join(parts) + " They enter the note from the date of that document on."
