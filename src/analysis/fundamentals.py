"""Best-confidence reported figures and the quarterly panel built from them.

Input: `fund = analysis.data.load_fundamentals(as_of)` (long frame, one reported figure a row;
money in USD millions, `pct` as 0..100, dates as datetime64). Nothing here estimates or fills a
figure: a quarter that is only reported inside a cumulative period (H1, 9M, FY) is *derived* by
subtraction (e.g. Q4 = FY - 9M), marked `derived=True` with the arithmetic in `derived_from`,
and given the confidence of its weakest parent. Missing stays NaN with a `reason`.

Selection rule (`best_figures`), per (period, metric):
  1. highest `confidence` (high > medium > low);
  1b. then the less rounded figure (more significant digits: 1,572 beats a call's "$1.6 billion"
     = 1,600; 2,078 beats 2,100): among equally confident sources, a rounded restatement carries
     less information than the exact figure;
  2. then `source_kind` rank: filing > press_release > transcript > secondary > news;
  3. then earliest `published` (undated rows last);
  4. then file order (`line`), so the choice is deterministic.
The other rows for the same cell are listed in `alternatives` (value, source, kind, confidence).

Quarter resolution (`figure`, `quarterly_panel`):
  * flow metrics (income-statement and cash-flow lines, additive over time): the reported quarter
    competes with every derivation `cumulative - (prefix cumulative) - (other reported quarters)`
    (Q2 = H1 - Q1; Q2 = 9M - Q1 - Q3; Q3 = 9M - H1; Q4 = FY - 9M; Q4 = FY - H1 - Q3;
    Q4 = FY - Q1 - Q2 - Q3; ...). Parents are reported figures only (no chains). The
    highest-confidence candidate wins; ties go to the reported figure, then to the derivation with
    fewer parents (so Q4 = FY - 9M is preferred to FY - Q1 - Q2 - Q3). A derived figure's
    `published` is its latest parent's (it could be computed only then), `undated` if any parent is.
  * stock metrics (balances at a date: debt, cash, RPO, backlog, power, share counts): the figure
    for a quarter is a figure at that quarter's end, whatever the period label; year-end balances
    are filed under `FY<year>` (data/FUNDAMENTALS.md), so '2025Q4' resolves to the FY2025 row.
  * other metrics (percentages, averages, lives): exact period label only.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .labels import metric_label

CONFIDENCE_RANK = {"high": 3, "medium": 2, "low": 1}
SOURCE_KIND_RANK = {"filing": 5, "press_release": 4, "transcript": 3, "secondary": 2, "news": 1}
KIND_ABBREV = {"filing": "F", "press_release": "PR", "transcript": "T", "secondary": "S", "news": "N"}
CONF_ABBREV = {"high": "H", "medium": "M", "low": "L"}

# Additive over time: a quarter may be derived from cumulative periods.
FLOW_METRICS = frozenset({
    "revenue", "revenue_us", "cost_of_revenue", "technology_and_infrastructure",
    "sales_and_marketing", "general_and_administrative", "operating_expenses_total",
    "operating_income", "adjusted_operating_income", "adjusted_ebitda", "adjusted_net_income",
    "net_income", "interest_expense", "interest_expense_debt_total", "capitalized_interest",
    "cash_interest_paid_net", "depreciation_and_amortization", "stock_based_compensation",
    "operating_cash_flow", "investing_cash_flow", "capex_cash", "capex_company",
    "capex_noncash_oem_reduction", "proceeds_from_debt", "repayments_of_debt", "ipo_net_proceeds",
    "ipo_overallotment_net_proceeds", "contractual_interest_expense",
})
_STOCK_PREFIXES = ("debt_", "cash_", "restricted_cash_", "rpo_", "revenue_backlog",
                   "shares_outstanding_")
_STOCK_EXTRA = frozenset({"marketable_securities", "construction_in_progress",
                          "senior_notes_2030_fair_value", "senior_notes_2031_fair_value",
                          "undrawn_debt_availability", "active_power_mw", "contracted_power_mw",
                          "property_and_equipment_gross", "property_and_equipment_net",
                          "revolver_capacity", "revolver_available"})
_EXCLUDED_SUFFIXES = ("_guidance_low", "_guidance_high", "_target")

#: Composite balances: name -> alternative component sets, in order of preference. At a quarter
#: end the composite is the reported total (a one-metric set) or the sum of a complete set of
#: components (marked derived, arithmetic in `derived_from`); the highest-confidence candidate
#: wins, ties go to the earlier set. Debt at its carrying amount (net of unamortised discount and
#: issuance costs): current + non-current, or recourse/non-recourse x current/non-current (the
#: split of the 2026 releases).
COMPOSITES: dict[str, tuple[tuple[str, ...], ...]] = {
    "debt_carrying_total": (
        ("debt_total_net",),
        ("debt_current", "debt_noncurrent"),
        ("debt_recourse_current", "debt_recourse_noncurrent", "debt_nonrecourse_current",
         "debt_nonrecourse_noncurrent"),
    ),
}

PANEL_METRICS = (
    "revenue", "cost_of_revenue", "technology_and_infrastructure", "sales_and_marketing",
    "general_and_administrative", "operating_income", "adjusted_operating_income",
    "adjusted_ebitda", "interest_expense", "net_income", "depreciation_and_amortization",
    "debt_principal_total", "debt_carrying_total", "cash_and_equivalents",
)

BEST_COLUMNS = ["period", "period_start", "period_end", "metric", "value", "unit", "source",
                "source_kind", "confidence", "published", "undated", "derived", "derived_from",
                "alternatives", "line"]
PROVENANCE_COLUMNS = ["quarter", "metric", "value", "source", "source_kind", "confidence",
                      "published", "undated", "derived", "derived_from", "alternatives", "reason"]

_Q_RE = re.compile(r"^(?P<y>\d{4})Q(?P<q>[1-4])$")
# cumulative period label -> number of quarters it covers from Q1
_CUM = {"H1": 2, "9M": 3, "FY": 4}


def is_stock(metric: str) -> bool:
    """True for balance (point-in-time) metrics: debt, cash, RPO, backlog, power, share counts."""
    return metric.startswith(_STOCK_PREFIXES) or metric in _STOCK_EXTRA


def is_flow(metric: str) -> bool:
    """True for additive flow metrics (income-statement and cash-flow lines)."""
    return metric in FLOW_METRICS


def is_excluded(metric: str) -> bool:
    """Guidance ranges and targets: one row per publication date, never reduced to one figure."""
    return metric.endswith(_EXCLUDED_SUFFIXES)


def _cum_label(year: int, n: int) -> str:
    return {2: f"{year}H1", 3: f"{year}-9M", 4: f"FY{year}"}[n]


def quarter_label(year: int, q: int) -> str:
    return f"{year}Q{q}"


def parse_quarter(label: str) -> tuple[int, int]:
    """'2025Q3' -> (2025, 3); ValueError otherwise."""
    m = _Q_RE.match(str(label))
    if not m:
        raise ValueError(f"not a quarter label like '2025Q3': {label!r}")
    return int(m["y"]), int(m["q"])


def quarter_end(label: str) -> pd.Timestamp:
    """Last day of a calendar quarter: '2025Q3' -> 2025-09-30."""
    y, q = parse_quarter(label)
    return pd.Timestamp(year=y, month=3 * q, day=1) + pd.offsets.MonthEnd(0)


def quarter_range(first: str, last: str) -> list[str]:
    """Inclusive list of quarter labels from `first` to `last`."""
    y, q = parse_quarter(first)
    ly, lq = parse_quarter(last)
    out = []
    while (y, q) <= (ly, lq):
        out.append(quarter_label(y, q))
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


def previous_quarter(label: str) -> str:
    y, q = parse_quarter(label)
    return quarter_label(y - 1, 4) if q == 1 else quarter_label(y, q - 1)


# --------------------------------------------------------------------------- best figures
def _rank_frame(df: pd.DataFrame) -> pd.DataFrame:
    pub = df["published"]
    return df.assign(
        _conf=-df["confidence"].map(CONFIDENCE_RANK).fillna(0).astype(int),
        _prec=-df["value"].map(significant_digits),
        _kind=-df["source_kind"].map(SOURCE_KIND_RANK).fillna(0).astype(int),
        _undated=pub.isna().astype(int),
        _pub=pub.fillna(pd.Timestamp.max.normalize()),
    ).sort_values(["period", "metric", "_conf", "_prec", "_kind", "_undated", "_pub", "line"], kind="stable")


def significant_digits(v) -> int:
    """Significant digits of a stored value (data carry at most 3 decimals): 1600 -> 2, 1572 -> 4."""
    if v is None or not np.isfinite(v) or v == 0:
        return 0
    digits = f"{abs(float(v)):.3f}".replace(".", "").lstrip("0").rstrip("0")
    return len(digits)


def _num(v) -> str:
    """Exact short text of a stored value (data carry at most 3 decimals): 1633.457, 1915."""
    return f"{float(v):.3f}".rstrip("0").rstrip(".")


def best_figures(fund: pd.DataFrame) -> pd.DataFrame:
    """One row per (period, metric) with the highest-confidence reported figure.

    `fund` is `analysis.data.load_fundamentals(as_of)`. Ties: the less rounded figure, then source_kind rank (filing >
    press_release > transcript > secondary > news), then earliest `published` (undated last),
    then file line. Guidance ranges (`*_guidance_low/high`) and targets (`*_target`) are left out
    (one row per publication date; read them from `fund`). Columns: period, period_start,
    period_end, metric, value (in `unit`), unit, source (sources.csv id), source_kind,
    confidence, published, undated, derived (always False here), derived_from (None),
    alternatives (the other rows of the cell as text, or None), line.
    """
    df = fund[~fund["metric"].map(is_excluded)]
    if "undated" not in df.columns:
        df = df.assign(undated=df["published"].isna())
    if "line" not in df.columns:
        df = df.assign(line=np.arange(1, len(df) + 1))
    ranked = _rank_frame(df).dropna(subset=["period", "metric"])
    keep = ["period", "period_start", "period_end", "metric", "value", "unit", "source", "source_kind",
            "confidence", "published", "undated", "line"]
    out = []
    # ranked is sorted by (period, metric) first: each cell's rows are consecutive, best first
    for _cell, grp in itertools.groupby(ranked[keep].to_dict("records"), key=lambda r: (r["period"], r["metric"])):
        top, *rest = grp
        top.update(derived=False, derived_from=None, alternatives=_alt_text(rest))
        out.append(top)
    res = pd.DataFrame(out, columns=BEST_COLUMNS)
    res["value"] = res["value"].astype(float)
    res["derived"] = res["derived"].astype(bool)
    res["undated"] = res["undated"].astype(bool)
    for c in ("derived_from", "alternatives"):
        res[c] = pd.Series([_text(v) for v in res[c]], index=res.index, dtype=object)
    res.attrs = dict(fund.attrs)
    return res.reset_index(drop=True)


def _alt_text(rows: list[dict]) -> str | None:
    """The other rows of a cell (records, best first) as text: value (source, kind, confidence); ..."""
    if not rows:
        return None
    return "; ".join(f"{_num(r['value'])} ({r['source']}, {r['source_kind']}, {r['confidence']})" for r in rows)


# --------------------------------------------------------------------------- resolution
def _text(v) -> str | None:
    """None for missing (None/NaN), else the string."""
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def _empty(metric: str, quarter: str, reason: str) -> dict:
    return {"quarter": quarter, "metric": metric, "value": np.nan, "source": None,
            "source_kind": None, "confidence": None, "published": pd.NaT, "undated": False,
            "derived": False, "derived_from": None, "alternatives": None, "reason": reason}


def _from_row(row, quarter: str) -> dict:
    return {"quarter": quarter, "metric": row["metric"], "value": float(row["value"]),
            "source": row["source"], "source_kind": row["source_kind"],
            "confidence": row["confidence"], "published": row["published"],
            "undated": bool(row["undated"]), "derived": False, "derived_from": None,
            "alternatives": row["alternatives"], "reason": None}


class _Cells:
    """The rows of a `best_figures` frame as records by metric, read once for many resolutions."""

    def __init__(self, best: pd.DataFrame):
        self.best = best
        self.by_metric: dict[str, list[dict]] = {}
        for r in best.to_dict("records"):
            self.by_metric.setdefault(r["metric"], []).append(r)

    def lookup(self, metric: str) -> dict:
        """{period: record} of one metric."""
        return {r["period"]: r for r in self.by_metric.get(metric, ())}


def _stock_rank(r: dict) -> tuple:
    """`_rank_frame`'s order within one metric and date: confidence, precision, source kind,
    dated before undated, earliest published, file line."""
    pub = r["published"]
    undated = pd.isna(pub)
    return (-CONFIDENCE_RANK.get(r["confidence"], 0), -significant_digits(r["value"]),
            -SOURCE_KIND_RANK.get(r["source_kind"], 0), int(undated),
            pd.Timestamp.max.normalize() if undated else pub, r["line"])


def _flow_candidates(rows: dict, year: int, q: int) -> list[tuple[list, list]]:
    """Derivations of quarter q: (plus parents, minus parents), parents = best-figure rows."""
    out = []
    quarters = {k: rows.get(quarter_label(year, k)) for k in range(1, 5)}
    for n in (2, 3, 4):
        if n < q or (cum := rows.get(_cum_label(year, n))) is None:
            continue
        for k in (0, 2, 3):  # prefix covered by a cumulative period (0 = none)
            if k >= q or k >= n:
                continue
            prefix = rows.get(_cum_label(year, k)) if k else None
            if k and prefix is None:
                continue
            rest = [j for j in range(k + 1, n + 1) if j != q]
            if any(quarters[j] is None for j in rest):
                continue
            minus = ([prefix] if prefix is not None else []) + [quarters[j] for j in rest]
            if not minus:
                continue
            out.append(([cum], minus))
    # the same parent set can arise twice (e.g. k=0 and n=1 never; keep unique by periods)
    seen, uniq = set(), []
    for plus, minus in out:
        key = tuple(r["period"] for r in plus + minus)
        if key not in seen:
            seen.add(key)
            uniq.append((plus, minus))
    return uniq


def _derived_record(metric: str, quarter: str, plus: list, minus: list) -> dict:
    parents = plus + minus
    value = sum(float(r["value"]) for r in plus) - sum(float(r["value"]) for r in minus)
    conf = min((r["confidence"] for r in parents), key=lambda c: CONFIDENCE_RANK.get(c, 0))
    kind = min((r["source_kind"] for r in parents), key=lambda k: SOURCE_KIND_RANK.get(k, 0))
    pubs = [r["published"] for r in parents]
    undated = any(bool(r["undated"]) or pd.isna(r["published"]) for r in parents)
    text = " - ".join(f"{r['period']} {_num(r['value'])} ({r['source']}, {r['confidence']})"
                      for r in parents)
    return {"quarter": quarter, "metric": metric, "value": value,
            "source": ";".join(dict.fromkeys(r["source"] for r in parents)),
            "source_kind": kind, "confidence": conf,
            "published": pd.NaT if undated else max(pubs), "undated": undated,
            "derived": True, "derived_from": text, "alternatives": None, "reason": None,
            "_nparents": len(parents)}


def _resolve_flow(rows: dict, metric: str, quarter: str) -> dict:
    year, q = parse_quarter(quarter)
    cands = []
    if (r := rows.get(quarter)) is not None:
        rec = _from_row(r, quarter)
        rec["_nparents"] = 0
        cands.append(rec)
    for plus, minus in _flow_candidates(rows, year, q):
        cands.append(_derived_record(metric, quarter, plus, minus))
    if not cands:
        have = sorted(p for p in rows if p.startswith(str(year)) or p == f"FY{year}")
        reason = (f"{metric_label(metric, capital=True)} {quarter}: not reported, and not derivable"
                  + (f" (available {year} periods: {', '.join(have)})" if have
                     else f" (no {year} figures)"))
        return _empty(metric, quarter, reason)
    cands.sort(key=lambda c: (-CONFIDENCE_RANK.get(c["confidence"], 0), c["derived"],
                              c["_nparents"]))
    best = cands[0]
    others = [c for c in cands[1:]]
    alt = [best["alternatives"]] if _text(best["alternatives"]) else []
    for c in others:
        tag = "derived " + c["derived_from"] if c["derived"] else f"{c['source']}, {c['confidence']}"
        alt.append(f"{_num(c['value'])} ({tag})")
    best["alternatives"] = "; ".join(alt) if alt else None
    best.pop("_nparents", None)
    return best


def _resolve_stock(cells: _Cells, metric: str, quarter: str) -> dict:
    end = quarter_end(quarter)
    sub = [r for r in cells.by_metric.get(metric, ()) if r["period_end"] == end]
    if not sub:
        y, q = parse_quarter(quarter)
        where = f" (year-end balances are filed under FY{y}; none found)" if q == 4 else ""
        return _empty(metric, quarter, f"{metric_label(metric, capital=True)} at {end.date().isoformat()}: not reported{where}")
    top, *rest = sorted(sub, key=_stock_rank)
    rec = _from_row(top, quarter)
    extra = _alt_text(rest)
    rec["alternatives"] = "; ".join(x for x in (_text(top["alternatives"]), extra) if x) or None
    rec["period"] = top["period"]
    return rec


def _resolve_composite(cells: _Cells, metric: str, quarter: str) -> dict:
    """A composite balance (`COMPOSITES`) at the end of `quarter`: the best complete candidate."""
    cands = []
    for i, parts in enumerate(COMPOSITES[metric]):
        recs = [_resolve_stock(cells, m, quarter) for m in parts]
        if any(pd.isna(r["value"]) for r in recs):
            continue
        if len(recs) == 1:
            rec = dict(recs[0], metric=metric)
            rec["derived_from"] = f"{parts[0]} (reported total)"
        else:
            rec = _derived_record(metric, quarter, recs, [])
            rec["derived_from"] = " + ".join(
                f"{m} {_num(r['value'])} ({r['source']}, {r['confidence']})" for m, r in zip(parts, recs, strict=True))
        rec["_rank"] = (-CONFIDENCE_RANK.get(rec["confidence"], 0), i)
        cands.append(rec)
    if not cands:
        names = "; ".join(" + ".join(p) for p in COMPOSITES[metric])
        return _empty(metric, quarter, f"{metric} at {quarter_end(quarter).date().isoformat()}: "
                      f"no complete set of components ({names})")
    cands.sort(key=lambda c: c["_rank"])
    best_rec = cands[0]
    others = [f"{_num(c['value'])} ({c['derived_from']})" for c in cands[1:]]
    best_rec["alternatives"] = "; ".join(others) if others else None
    for c in cands:
        c.pop("_rank", None)
        c.pop("_nparents", None)
    return best_rec


def _resolve(best: pd.DataFrame | _Cells, metric: str, period: str) -> dict:
    cells = best if isinstance(best, _Cells) else _Cells(best)
    if metric in COMPOSITES:
        if _Q_RE.match(str(period)):
            return _resolve_composite(cells, metric, period)
        return _empty(metric, period, f"{metric}: composite balances resolve at quarter ends only")
    if is_excluded(metric):
        return _empty(metric, period, f"{metric_label(metric, capital=True)} is a guidance or target series "
                      "(one figure per publication date), not one figure per period")
    if _Q_RE.match(str(period)):
        if is_stock(metric):
            return _resolve_stock(cells, metric, period)
        rows = cells.lookup(metric)
        if is_flow(metric):
            return _resolve_flow(rows, metric, period)
        if (r := rows.get(period)) is not None:
            return _from_row(r, period)
        return _empty(metric, period, f"{metric_label(metric, capital=True)} {period}: not reported")
    rows = cells.lookup(metric)
    if (r := rows.get(period)) is not None:
        return _from_row(r, period)
    if not rows:
        as_of = cells.best.attrs.get("as_of")
        when = f" published on or before {as_of}" if as_of else ""
        return _empty(metric, period, f"{metric_label(metric, capital=True)}: no figure in the data{when}")
    return _empty(metric, period, f"{metric_label(metric, capital=True)} {period}: not reported")


def figure(fund: pd.DataFrame, metric: str, period: str, best: pd.DataFrame | None = None) -> dict:
    """The best figure for one metric and period, with provenance.

    `period`: '2025Q3', 'FY2024', '2025H1', '2025-9M'. Quarters of flow metrics may be derived
    from cumulative periods (see module doc); stock metrics at a quarter end resolve to the figure
    at that date whatever its label ('2025Q4' -> FY2025 row). Returns a dict with keys value
    (float in `unit`, None when missing), unit, source, source_kind, confidence, published,
    derived, derived_from, undated, alternatives, period (label of the row used), reason (why it
    is missing; None otherwise). Pass `best=best_figures(fund)` to avoid recomputing it.
    """
    best = best_figures(fund) if best is None else best
    rec = _resolve(best, metric, period)
    units = best.loc[best["metric"] == metric, "unit"]
    out = {
        "value": None if pd.isna(rec["value"]) else float(rec["value"]),
        "unit": units.iloc[0] if len(units) else ("usd_m" if metric in COMPOSITES else None),
        "source": rec["source"], "source_kind": rec["source_kind"],
        "confidence": rec["confidence"],
        "published": None if pd.isna(rec["published"]) else rec["published"],
        "derived": bool(rec["derived"]), "derived_from": rec["derived_from"],
        "undated": bool(rec["undated"]), "alternatives": rec["alternatives"],
        "period": rec.get("period", period if rec["source"] else None),
        "reason": rec["reason"],
    }
    return out


# --------------------------------------------------------------------------- panel
@dataclass
class Panel:
    """Quarterly panel.

    values: DataFrame indexed by quarter label ('2024Q1', ...), one column per metric, USD m,
        NaN when missing. provenance: long DataFrame (quarter, metric, value, source, source_kind,
        confidence, published, undated, derived, derived_from, alternatives, reason).
    opening: stock metrics at the end of the quarter before the first row (for averages), as a
        provenance frame of the same shape (quarter = that previous quarter).
    """

    values: pd.DataFrame
    provenance: pd.DataFrame
    opening: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROVENANCE_COLUMNS))
    as_of: str | None = None

    def record(self, quarter: str, metric: str) -> dict:
        """Provenance of one cell as a dict (looks in `opening` for the quarter before row 1)."""
        for frame in (self.provenance, self.opening):
            hit = frame[(frame["quarter"] == quarter) & (frame["metric"] == metric)]
            if len(hit):
                return hit.iloc[0].to_dict()
        return _empty(metric, quarter, f"{metric} {quarter}: outside the panel")

    def derived_mask(self) -> pd.DataFrame:
        """Boolean frame like `values`: True where the cell is a derived figure."""
        return self._pivot("derived").fillna(False).astype(bool)

    def undated_mask(self) -> pd.DataFrame:
        """Boolean frame like `values`: True where a cell rests on a figure with no verified date."""
        return self._pivot("undated").fillna(False).astype(bool)

    def confidence(self) -> pd.DataFrame:
        return self._pivot("confidence")

    def source_kind(self) -> pd.DataFrame:
        return self._pivot("source_kind")

    def _pivot(self, col: str) -> pd.DataFrame:
        p = self.provenance.pivot(index="quarter", columns="metric", values=col)
        return p.reindex(index=self.values.index, columns=self.values.columns)


def _frame(records: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(records, columns=PROVENANCE_COLUMNS)
    df["value"] = df["value"].astype(float)
    df["derived"] = df["derived"].astype(bool)
    df["undated"] = df["undated"].astype(bool)
    df["published"] = pd.to_datetime(df["published"])
    for c in ("source", "source_kind", "confidence", "derived_from", "alternatives", "reason"):
        df[c] = pd.Series([_text(v) for v in df[c]], index=df.index, dtype=object)
    return df


def last_quarter(best: pd.DataFrame, metric: str = "revenue") -> str | None:
    """Latest quarter for which `metric` is reported or derivable (None when none is)."""
    labels = []
    cells = _Cells(best)
    for p in best.loc[best["metric"] == metric, "period"]:
        if _Q_RE.match(p):
            labels.append(parse_quarter(p))
        elif p.startswith("FY"):
            labels.append((int(p[2:]), 4))
    if not labels:
        return None
    for y, q in sorted(set(labels), reverse=True):
        if not pd.isna(_resolve(cells, metric, quarter_label(y, q))["value"]):
            return quarter_label(y, q)
    return None


def quarterly_panel(fund: pd.DataFrame, first_quarter: str = "2024Q1", last: str | None = None,
                    metrics=PANEL_METRICS) -> Panel:
    """Quarterly panel from `fund = load_fundamentals(as_of)`, first_quarter to the latest quarter
    with revenue (or `last`).

    Values in USD millions; one row per calendar quarter; NaN + reason in `provenance` where a
    figure is neither reported nor derivable. Flow quarters may be derived (Q2 = H1 - Q1,
    Q4 = FY - 9M, Q4 = FY - Q1 - Q2 - Q3, ...; `derived=True`, confidence = weakest parent);
    stock metrics (debt, cash) at Q4 come from the FY row (balance at 31 December).
    """
    parse_quarter(first_quarter)
    best = best_figures(fund)
    last = last or last_quarter(best) or first_quarter
    quarters = quarter_range(first_quarter, last)
    cells = _Cells(best)
    records = [_resolve(cells, m, q) for q in quarters for m in metrics]
    prov = _frame([{k: r.get(k) for k in PROVENANCE_COLUMNS} for r in records])
    values = (prov.pivot(index="quarter", columns="metric", values="value")
              .reindex(index=quarters, columns=list(metrics)).astype(float))
    values.index.name = "quarter"
    values.columns.name = None
    prev = previous_quarter(first_quarter)
    opening = _frame([{k: r.get(k) for k in PROVENANCE_COLUMNS}
                      for r in (_resolve(cells, m, prev) for m in metrics if is_stock(m))])
    as_of = fund.attrs.get("as_of")
    return Panel(values=values, provenance=prov, opening=opening, as_of=as_of)


def marker(source_kind, confidence, derived: bool = False) -> str:
    """Short provenance marker for tables: 'PR/H', 'F/H', 'T/M', 'S/L'; derived adds '*'.

    F = filing, PR = press release, T = call transcript, S = secondary, N = news;
    H/M/L = high/medium/low confidence. Empty string when there is no figure.
    """
    if source_kind is None or (not isinstance(source_kind, str) and pd.isna(source_kind)):
        return ""
    return (f"{KIND_ABBREV.get(source_kind, source_kind)}/{CONF_ABBREV.get(confidence, '?')}"
            + ("*" if derived else ""))


def markers(panel: Panel) -> pd.DataFrame:
    """Frame like `panel.values` holding `marker()` strings for every cell ('' when missing)."""
    kinds, confs, der = panel.source_kind(), panel.confidence(), panel.derived_mask()
    out = pd.DataFrame(index=panel.values.index, columns=panel.values.columns, dtype=object)
    for c in out.columns:
        out[c] = [marker(k, f, d) for k, f, d in zip(kinds[c], confs[c], der[c], strict=True)]
    return out


PRIMARY_KINDS = ("filing", "press_release")


def publication_cutoffs(fund: pd.DataFrame) -> dict:
    """Latest publication dates in `fund` (already filtered to the note's as-of date).

    Returns {"filing_cutoff": latest `published` of a filing or press-release figure,
    "figures_cutoff": latest `published` of any company figure}, as Timestamps (None when none).
    Undated rows do not count.
    """
    dated = fund.dropna(subset=["published"])
    primary = dated[dated["source_kind"].isin(PRIMARY_KINDS)]
    return {"filing_cutoff": primary["published"].max() if len(primary) else None,
            "figures_cutoff": dated["published"].max() if len(dated) else None}
