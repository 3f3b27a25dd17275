"""Customer concentration: revenue shares, HHI bounds, backlog shares, exposure scenarios.

Units: shares are fractions (0.62 = 62%) in every returned table; the HHI is on the
0-10,000 scale (shares in percent, squared and summed); money in USD millions.

**Revenue concentration.** `customers.csv` (measure `revenue_share`) gives, per period, the
shares of the customers the filing names or labels ('Microsoft', 'Customer A', 'top customer',
...) and sometimes an aggregate ('top two customers'). Labels are period-specific (Customer A of
2024Q1 need not be Customer A of 2025Q1); annual (FY) and quarterly periods are kept apart.
Aggregate rows are constraints, not customers: 'top two = 77%' with one disclosed 62% customer
derives the second at 15% (marked `derived`), and 'top three = 73%' with all three disclosed
checks their sum.

**HHI bounds.** Only customers at or above a disclosure threshold (10% of revenue under
ASC 280-10-50-42, unless a period discloses otherwise) are named, so the HHI is not observed.
With disclosed shares d_i (percent) and an undisclosed remainder r = 100 - sum(d_i):

* lower bound = sum(d_i^2): the remainder spread over n tiny customers adds r^2/n -> 0. This is
  an infimum (approached, not attained) and needs no assumption about what was left out: any
  other split of the remainder only adds.
* upper bound: maximise sum(x_j^2) subject to sum(x_j) = r and 0 <= x_j <= c, where the cap c is
  the disclosure threshold (each undisclosed customer is below it), never more than the smallest
  disclosed customer. The objective is convex, so its maximum over this polytope is at a vertex;
  a vertex has at most one coordinate strictly between 0 and c. Hence the maximum packs
  k = floor(r / c) customers at c and one at r - k*c: upper = sum(d_i^2) + k*c^2 + (r - k*c)^2.
  Undisclosed customers are strictly below the threshold, so with c = threshold the bound is a
  supremum (the limit as each packed customer approaches the threshold from below), reported at
  its limit value.
  This bound assumes the period's disclosure lists every customer at or above the threshold.
  `hhi_upper_unrestricted` drops that assumption and caps the undisclosed customers only by what
  the rows themselves imply (the smallest customer of a known top-k; else the whole remainder).
* effective number of customers = 10,000 / HHI, for both bounds (the lower HHI gives the larger
  number).

**Backlog concentration** (`backlog_shares`): for each quarter with a revenue-backlog figure,
the cumulative value of a counterparty's customer contracts and capacity agreements *announced
on or before the quarter end* divided by that quarter's revenue backlog. Contract values are
'up to' amounts, and part of them may already have been recognised as revenue, so these shares
overstate what remains in the backlog; the company's own statements (measure
`revenue_backlog_share`) are shown beside them. Contracts with no announcement date are not
assigned to any quarter (listed by `undated_contracts`).

**Exposure scenarios** (`exposure_scenario`): loss or deferral of a share of one counterparty's
contract value at a quarter; the effect on the backlog, on next-twelve-months revenue under the
backlog timing split, and on interest coverage. Assumptions are arguments and are labelled in
the output.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Default disclosure threshold, percent of revenue (ASC 280-10-50-42: each customer >= 10%).
THRESHOLD_PCT = 10.0
#: Name of the standard whose HHI thresholds are used (US DOJ/FTC, Merger Guidelines, 18 Dec 2023).
GUIDELINES = "2023 US Merger Guidelines"
#: 2023 US Merger Guidelines: HHI above 1,800 = highly concentrated; 1,000-1,800 moderately.
HHI_HIGH = 1800.0
HHI_MODERATE = 1000.0
#: Verdict wording (a convention of this note, not a standard): the largest customer's quarterly
#: revenue share at least this far (fraction, 0.10 = 10 pp) below its peak reads as "broadening".
BROADENING_DROP = 0.10
#: Verdict wording: backlog and revenue top shares within this distance (fraction, 0.05 = 5 pp)
#: read as "about as concentrated".
SIMILAR_SHARE = 0.05
#: Tolerance (percentage points) when checking an aggregate against the sum of its members:
#: the disclosures are rounded ('approximately 36%'), so each member carries up to 0.5 pp.
ROUNDING_PP = 0.5
#: Contract kinds that add to the revenue backlog (acquisitions do not).
BACKLOG_KINDS = ("customer_contract", "capacity_agreement")

_RANK_LABELS = {
    "largest customer": 1, "largest customer (unnamed)": 1, "top customer": 1,
    "second customer": 2, "second largest customer": 2, "third customer": 3,
    "third largest customer": 3,
}
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5}
_AGGREGATE_RE = re.compile(r"^top (?P<n>two|three|four|five|\d+) customers$")
_PERIOD_RE = re.compile(r"^(FY(?P<fy>\d{4})|(?P<qy>\d{4})Q(?P<q>[1-4]))$")


# ---- small helpers -----------------------------------------------------------------------

def period_basis(period: str) -> str | None:
    """'annual' for FY2024, 'quarterly' for 2024Q1, None for other period codes (H1, 9M)."""
    m = _PERIOD_RE.match(str(period))
    if not m:
        return None
    return "annual" if m.group("fy") else "quarterly"


def period_end(period: str) -> pd.Timestamp:
    """Last day of a period code: FY2024 -> 2024-12-31, 2025Q3 -> 2025-09-30."""
    m = _PERIOD_RE.match(str(period))
    if not m:
        raise ValueError(f"not an annual or quarterly period code: {period!r}")
    if m.group("fy"):
        return pd.Timestamp(int(m.group("fy")), 12, 31)
    return pd.Period(f"{m.group('qy')}Q{m.group('q')}", freq="Q").end_time.normalize()


def aggregate_size(label: str) -> int | None:
    """N for an aggregate label 'top N customers' ('top two customers' -> 2), else None."""
    m = _AGGREGATE_RE.match(str(label).strip().lower())
    if not m:
        return None
    n = m.group("n")
    return _NUMBER_WORDS.get(n) or int(n)


def label_rank(label: str) -> int | None:
    """Rank stated by a label ('top customer' -> 1, 'second customer' -> 2), else None."""
    return _RANK_LABELS.get(str(label).strip().lower())


def _join(ids) -> str:
    out = []
    for s in ids:
        for part in str(s).split(";"):
            part = part.strip()
            if part and part.lower() != "nan" and part not in out:
                out.append(part)
    return ";".join(out)


# ---- HHI arithmetic ----------------------------------------------------------------------

def pack_max_sum_squares(total_pct: float, cap_pct: float) -> float:
    """Largest sum of squares of non-negative parts of `total_pct`, each at most `cap_pct`.

    Packs floor(total/cap) parts at the cap and one part with the rest (see module docstring
    for why this vertex is the maximum). Percent in, percent^2 out. `cap_pct` <= 0 with a
    positive total is infeasible and raises.
    """
    if total_pct <= 0:
        return 0.0
    if not cap_pct > 0:
        raise ValueError(f"cannot pack {total_pct} into parts of at most {cap_pct}")
    k = math.floor(total_pct / cap_pct + 1e-12)
    rest = max(total_pct - k * cap_pct, 0.0)
    return k * cap_pct**2 + rest**2


def hhi_bounds_from_shares(shares_pct, threshold_pct: float = THRESHOLD_PCT,
                           rank_cap_pct: float | None = None, blocks=()) -> dict:
    """HHI bounds (0-10,000) from disclosed individual shares in percent.

    `blocks`: (total_pct, n_members, member_cap_pct) for groups whose total is known but not
    their members (e.g. 'top three = 73%' with one member disclosed): the members contribute at
    least total^2/n (equal split) and at most the packed maximum under their cap.
    `rank_cap_pct`: an upper limit on any undisclosed customer implied by ranked rows.
    Returns lower, upper (every customer >= threshold disclosed), upper_unrestricted,
    remainder_pct, cap_pct, effective_n_max (=10,000/lower), effective_n_min (=10,000/upper).
    """
    d = [float(x) for x in shares_pct]
    if any(x < 0 for x in d):
        raise ValueError("shares must be non-negative")
    known = sum(x * x for x in d)
    block_total = sum(b[0] for b in blocks)
    block_lower = sum(b[0] ** 2 / b[1] for b in blocks)
    block_upper = sum(pack_max_sum_squares(b[0], b[2]) for b in blocks)
    remainder = 100.0 - sum(d) - block_total
    if remainder < -ROUNDING_PP * (len(d) + len(blocks) + 1):
        raise ValueError(f"disclosed shares sum to {100 - remainder:.1f}% > 100%")
    remainder = max(remainder, 0.0)
    caps = [threshold_pct] + d + [b[0] / b[1] for b in blocks]
    if rank_cap_pct is not None:
        caps.append(rank_cap_pct)
    cap = min(caps) if remainder > 0 else threshold_pct
    ucaps = [remainder] + ([rank_cap_pct] if rank_cap_pct is not None else [])
    ucap = min(ucaps) if remainder > 0 else 0.0
    lower = known + block_lower
    upper = known + block_upper + pack_max_sum_squares(remainder, cap)
    upper_unres = known + block_upper + (pack_max_sum_squares(remainder, ucap) if remainder > 0 else 0.0)
    upper_unres = max(upper_unres, upper)
    return {
        "lower": lower, "upper": upper, "upper_unrestricted": upper_unres,
        "remainder_pct": remainder, "cap_pct": cap if remainder > 0 else np.nan,
        "effective_n_max": 10_000 / lower if lower > 0 else np.inf,
        "effective_n_min": 10_000 / upper if upper > 0 else np.inf,
    }


def antitrust_reading(lower: float, upper: float) -> str:
    """Reading of an HHI interval under the 2023 US Merger Guidelines thresholds."""
    def band(h):
        return "highly" if h > HHI_HIGH else ("moderately" if h >= HHI_MODERATE else "un")
    lo, hi = band(lower), band(upper)
    if lo == hi:
        return f"{lo}concentrated" if lo == "un" else f"{lo} concentrated"
    return f"{lo}{'' if lo == 'un' else ' '}concentrated to {hi} concentrated"


# ---- revenue concentration ---------------------------------------------------------------

@dataclass
class PeriodDisclosure:
    """One period's resolved revenue-share disclosure (shares in percent)."""

    period: str
    customers: list = field(default_factory=list)  # dicts: customer, share_pct, rank, derived, reason, source, confidence, published, undated
    aggregates: list = field(default_factory=list)  # dicts: customer, n, share_pct, source, check
    blocks: list = field(default_factory=list)  # (total_pct, n, cap_pct)
    rank_cap_pct: float | None = None
    notes: list = field(default_factory=list)


def _confidence_map(sources: pd.DataFrame | None) -> dict:
    if sources is None:
        return {}
    return dict(zip(sources["id"], sources["default_confidence"], strict=True))


_CONF_RANK = {"high": 3, "medium": 2, "low": 1}


def _pick(rows: pd.DataFrame, conf: dict) -> tuple[pd.Series, str | None]:
    """One row from duplicates of a (period, customer): highest source confidence, dated before
    undated, latest published. Returns the row and a conflict note if the values differ."""
    r = rows.assign(_c=[_CONF_RANK.get(conf.get(s), 0) for s in rows["source"]],
                    _d=~rows["undated"].astype(bool))
    r = r.sort_values(["_c", "_d", "published"], ascending=False, na_position="last")
    best = r.iloc[0].copy()
    best["source"] = _join([best["source"]] + [s for s, v in zip(r["source"], r["value"], strict=True)
                                               if v == best["value"]])
    note = None
    if r["value"].nunique() > 1:
        note = (f"sources differ for {best['customer']}: "
                + ", ".join(f"{v:g}% [{s}]" for s, v in zip(r["source"], r["value"], strict=True))
                + f"; kept {best['value']:g}%")
    return best, note


def resolve_period(rows: pd.DataFrame, sources: pd.DataFrame | None = None) -> PeriodDisclosure:
    """Resolve one period's revenue_share rows into customers, aggregates and constraints.

    Duplicate rows for a customer: the highest source confidence wins (registry `sources`), then
    dated over undated, then the latest published; differing values are noted. Aggregates
    'top N customers': with N members disclosed, their sum is checked (tolerance 0.5 pp per
    rounded figure) and ranks 1..N are set; with N-1 disclosed, the missing member is derived
    (`derived=True`); with fewer, the unknown members form a block bounded as a group. A share
    above 50% is necessarily rank 1.
    """
    periods = rows["period"].unique()
    if len(periods) != 1:
        raise ValueError(f"resolve_period needs one period, got {list(periods)}")
    conf = _confidence_map(sources)
    out = PeriodDisclosure(period=str(periods[0]))
    sizes = [aggregate_size(c) for c in rows["customer"]]
    indiv = rows[[s is None for s in sizes]]
    aggs = rows[[s is not None for s in sizes]]
    for _, grp in indiv.groupby("customer", sort=False):
        r, note = _pick(grp, conf)
        if note:
            out.notes.append(note)
        out.customers.append({
            "customer": r["customer"], "share_pct": float(r["value"]), "rank": label_rank(r["customer"]),
            "derived": False, "reason": "", "source": r["source"], "confidence": conf.get(r["source"].split(";")[0]),
            "published": r["published"], "undated": bool(r["undated"]),
        })
    out.customers.sort(key=lambda c: (-c["share_pct"], c["rank"] or 99))
    # a share above 50% is necessarily the largest
    if out.customers and out.customers[0]["share_pct"] > 50 and out.customers[0]["rank"] is None:
        out.customers[0]["rank"] = 1
    block_caps = []
    for _, grp in aggs.groupby("customer", sort=False):
        a, note = _pick(grp, conf)
        if note:
            out.notes.append(note)
        n = aggregate_size(a["customer"])
        total = float(a["value"])
        members = out.customers[:n]
        known = sum(c["share_pct"] for c in members)
        tol = ROUNDING_PP * (len(members) + 1)
        rec = {"customer": a["customer"], "n": n, "share_pct": total, "source": a["source"],
               "published": a["published"], "undated": bool(a["undated"]), "check": ""}
        if len(members) == n:
            if abs(known - total) <= tol:
                rec["check"] = f"consistent: disclosed members sum to {known:g}%"
                for i, c in enumerate(members):
                    c["rank"] = c["rank"] or i + 1
            else:
                rec["check"] = f"conflict: disclosed members sum to {known:g}%, aggregate {total:g}%"
                out.notes.append(f"{a['customer']} = {total:g}% but members sum to {known:g}% (members kept)")
        elif len(members) == n - 1:
            missing = total - known
            smallest = min((c["share_pct"] for c in members), default=100.0)
            if missing < -tol or missing > smallest + tol:
                rec["check"] = f"conflict: implies a member of {missing:g}%"
                out.notes.append(f"{a['customer']} = {total:g}% implies a member of {missing:g}% (not used)")
            else:
                missing = max(missing, 0.0)
                for i, c in enumerate(members):
                    c["rank"] = c["rank"] or i + 1
                out.customers.append({
                    "customer": f"customer ranked {n} (derived)", "share_pct": missing, "rank": n,
                    "derived": True,
                    "reason": f"{a['customer']} {total:g}% minus disclosed {known:g}%",
                    "source": _join([a["source"]] + [c["source"] for c in members]),
                    "confidence": conf.get(a["source"]), "published": a["published"],
                    "undated": bool(a["undated"]) or any(c["undated"] for c in members),
                })
                rec["check"] = f"used to derive the customer ranked {n}: {missing:g}%"
        else:
            rest = total - known
            k = n - len(members)
            cap = min((c["share_pct"] for c in members), default=rest)
            out.blocks.append((rest, k, cap))
            rec["check"] = f"{k} undisclosed members share {rest:g}% (bounded as a block)"
            block_caps.append(rest / k)  # the block's smallest member is at most its average
        out.aggregates.append(rec)
    out.customers.sort(key=lambda c: (-c["share_pct"], c["rank"] or 99))
    # rank cap: every customer outside a known top-k is at most the k-th share
    ranks = sorted(c["rank"] for c in out.customers if c["rank"])
    k = 0
    while k < len(ranks) and ranks[k] == k + 1:
        k += 1
    if k:
        out.rank_cap_pct = out.customers[k - 1]["share_pct"]
    for avg in block_caps:  # everyone outside a top-N is at most its smallest member
        out.rank_cap_pct = avg if out.rank_cap_pct is None else min(out.rank_cap_pct, avg)
    return out


def _revenue_rows(customers: pd.DataFrame) -> pd.DataFrame:
    df = customers[customers["measure"] == "revenue_share"]
    return df[[period_basis(p) is not None for p in df["period"]]]


def resolve_all(customers: pd.DataFrame, sources: pd.DataFrame | None = None) -> list[PeriodDisclosure]:
    """Resolved revenue-share disclosures (`load_customers(as_of)`) for every annual and
    quarterly period: annual periods first, each group in period-end order."""
    df = _revenue_rows(customers)
    out = [resolve_period(g, sources) for _, g in df.groupby("period", sort=False)]
    out.sort(key=lambda d: (period_basis(d.period), period_end(d.period)))
    return out


def revenue_shares(customers: pd.DataFrame, sources: pd.DataFrame | None = None) -> pd.DataFrame:
    """Individual customers' revenue shares by period, aggregates resolved.

    Columns: period, basis ('annual'/'quarterly'), period_end, customer (period-specific label),
    rank (1 = largest, where known), share (fraction), derived, reason, source, confidence,
    published, undated. Aggregate rows ('top two customers') are not customers and are not here.
    """
    rows = []
    for d in resolve_all(customers, sources):
        for c in d.customers:
            rows.append({"period": d.period, "basis": period_basis(d.period),
                         "period_end": period_end(d.period), "customer": c["customer"],
                         "rank": c["rank"], "share": c["share_pct"] / 100, "derived": c["derived"],
                         "reason": c["reason"], "source": c["source"], "confidence": c["confidence"],
                         "published": c["published"], "undated": c["undated"]})
    cols = ["period", "basis", "period_end", "customer", "rank", "share", "derived", "reason",
            "source", "confidence", "published", "undated"]
    out = pd.DataFrame(rows, columns=cols)
    out["rank"] = out["rank"].astype("Int64")
    return out


def hhi_table(customers: pd.DataFrame, sources: pd.DataFrame | None = None,
              thresholds: dict | None = None) -> pd.DataFrame:
    """HHI bounds by period (0-10,000), with top-1/top-2 shares and effective numbers.

    `thresholds` maps period -> disclosure threshold in percent (default 10 for all).
    Columns: period, basis, period_end, n_disclosed, disclosed_share, remainder_share,
    cap_share (the cap used for the upper bound), top1_share, top2_share, hhi_lower, hhi_upper,
    hhi_upper_unrestricted, effective_n_max (=10,000/hhi_lower), effective_n_min
    (=10,000/hhi_upper), reading (2023 Merger Guidelines bands on [lower, upper]), reason
    (why a top share is missing), notes, source, undated.
    """
    thresholds = dict(thresholds or {})
    rows = []
    for d in resolve_all(customers, sources):
        t = float(thresholds.get(d.period, THRESHOLD_PCT))
        shares = [c["share_pct"] for c in d.customers]
        b = hhi_bounds_from_shares(shares, t, d.rank_cap_pct, d.blocks)
        agg = {a["n"]: a["share_pct"] for a in d.aggregates if not a["check"].startswith("conflict")}
        top, reasons = {}, []
        for k in (1, 2):
            if len(shares) >= k:
                top[k] = sum(shares[:k])
            elif k in agg:
                top[k] = agg[k]
            else:
                top[k] = np.nan
                reasons.append(f"top-{k} share not determinable: {len(shares)} customer(s) at or above "
                               f"the {t:g}% threshold disclosed")
        notes = list(d.notes) + [f"{a['customer']} {a['share_pct']:g}%: {a['check']}" for a in d.aggregates]
        srcs = _join([c["source"] for c in d.customers] + [a["source"] for a in d.aggregates])
        rows.append({
            "period": d.period, "basis": period_basis(d.period), "period_end": period_end(d.period),
            "n_disclosed": len(shares), "disclosed_share": (100 - b["remainder_pct"]) / 100,
            "remainder_share": b["remainder_pct"] / 100, "cap_share": b["cap_pct"] / 100,
            "top1_share": top[1] / 100, "top2_share": top[2] / 100,
            "hhi_lower": b["lower"], "hhi_upper": b["upper"],
            "hhi_upper_unrestricted": b["upper_unrestricted"],
            "effective_n_max": b["effective_n_max"], "effective_n_min": b["effective_n_min"],
            "reading": antitrust_reading(b["lower"], b["upper"]),
            "reason": "; ".join(reasons), "notes": "; ".join(notes), "source": srcs,
            "undated": any(c["undated"] for c in d.customers) or any(a["undated"] for a in d.aggregates),
        })
    return pd.DataFrame(rows)


def latest_top_share(hhi: pd.DataFrame) -> pd.Series:
    """The row of `hhi_table` for the latest period end (a quarter wins a tie with a year)."""
    if hhi.empty:
        raise ValueError("no revenue-share disclosures")
    h = hhi.assign(_q=(hhi["basis"] == "quarterly").astype(int))
    return h.sort_values(["period_end", "_q"]).iloc[-1].drop(labels="_q")


# ---- backlog concentration ---------------------------------------------------------------

def _quarter_end(label: str) -> pd.Timestamp:
    return pd.Period(label, freq="Q").end_time.normalize()


def gross_margin(panel, quarter: str) -> dict:
    """1 - cost_of_revenue / revenue at the latest quarter on or before `quarter` that has both
    (fraction), from a `quarterly_panel`. Returns value, quarter, source, reason."""
    v = panel.values
    ok = v[(v.index <= quarter) & v["revenue"].notna() & v["cost_of_revenue"].notna()
           & (v["revenue"] > 0)]
    if ok.empty:
        return {"value": np.nan, "quarter": None, "source": None,
                "reason": f"no quarter on or before {quarter} with revenue and cost of revenue"}
    q = ok.index[-1]
    src = _join([panel.record(q, "revenue")["source"] or "", panel.record(q, "cost_of_revenue")["source"] or ""])
    return {"value": 1 - float(ok.at[q, "cost_of_revenue"]) / float(ok.at[q, "revenue"]),
            "quarter": q, "source": src, "reason": ""}


def backlog_contracts(contracts: pd.DataFrame) -> pd.DataFrame:
    """Contracts that add to the revenue backlog: kinds customer_contract / capacity_agreement
    with a value (USD m, 'up to' amounts); acquisitions and terminations are left out."""
    return contracts[contracts["kind"].isin(BACKLOG_KINDS) & contracts["value_usd_m"].notna()]


def undated_contracts(contracts: pd.DataFrame) -> pd.DataFrame:
    """Backlog-type contracts with no announcement date: never assigned to a quarter."""
    c = backlog_contracts(contracts)
    return c[c["announced"].isna()].reset_index(drop=True)


def contracts_total(contracts: pd.DataFrame, counterparty: str, start=None, end=None) -> dict:
    """Sum of a counterparty's dated backlog-type contract values announced in [start, end].

    `contracts` = `load_contracts(as_of)`; dates inclusive (None = open); the counterparty name
    matches case-insensitively. Returns value (USD m; NaN when no contract matches or one of them
    has no value, never counted as zero), n, lines (contracts.csv lines), sources (ids),
    announced (list of ISO dates), values (USD m, one per contract), reason (why value is NaN).
    """
    c = contracts[contracts["kind"].isin(BACKLOG_KINDS)]  # valueless rows kept: they make the sum missing
    c = c[(c["counterparty"].str.casefold() == str(counterparty).casefold()) & c["announced"].notna()]
    if start is not None:
        c = c[c["announced"] >= pd.Timestamp(start)]
    if end is not None:
        c = c[c["announced"] <= pd.Timestamp(end)]
    span = f"{'' if start is None else pd.Timestamp(start).date().isoformat()}..{'' if end is None else pd.Timestamp(end).date().isoformat()}"
    reason = None
    if c.empty:
        reason = f"no contract with {counterparty} announced {span} in the data"
    elif c["value_usd_m"].isna().any():
        bad = ", ".join(t.date().isoformat() for t in c.loc[c["value_usd_m"].isna(), "announced"])
        reason = f"a {counterparty} contract has no value (announced {bad})"
    return {"value": float(c["value_usd_m"].sum()) if reason is None else np.nan, "n": int(len(c)),
            "lines": [int(x) for x in c["line"]], "sources": list(dict.fromkeys(c["source"])),
            "announced": [t.date().isoformat() for t in c["announced"]],
            "values": [float(v) for v in c["value_usd_m"]], "reason": reason}


def backlog_shares(contracts: pd.DataFrame, backlog: pd.DataFrame) -> pd.DataFrame:
    """Named counterparties' cumulative contract values as shares of each quarter's backlog.

    `backlog`: quarter, value (revenue backlog, USD m), source, confidence (e.g.
    `analysis.backlog.measure_series(backlog_panel(fund), "revenue_backlog")`). Rule: for each
    quarter with a backlog figure, sum each counterparty's backlog-type contracts announced on or
    before the quarter end and divide by that quarter's backlog. Contract values are 'up to'
    amounts and part may already be recognised, so the shares overstate what remains; a contract
    signed in a quarter but announced after its end counts from the next quarter.
    Columns: quarter, quarter_end, counterparty, contracts_usd_m, n_contracts, last_announced,
    revenue_backlog (USD m), share (fraction), rank (1 = largest in the quarter), contract_source,
    contract_lines, backlog_source, backlog_confidence, backlog_unit (the backlog's rounding unit,
    USD m, 0 = exact; from `backlog`'s rounding_unit column when it has one) and share_unit (the
    precision the share carries from it, a fraction: `analysis.precision.ratio_unit`).
    """
    from .precision import ratio_unit

    c = backlog_contracts(contracts)
    c = c[c["announced"].notna()]
    rows = []
    for b in backlog.dropna(subset=["value"]).itertuples(index=False):
        end = _quarter_end(b.quarter)
        sub = c[c["announced"] <= end]
        for cp, g in sub.groupby("counterparty", sort=True):
            total = float(g["value_usd_m"].sum())
            unit = float(getattr(b, "rounding_unit", 0.0) or 0.0)
            share = total / float(b.value) if b.value > 0 else np.nan
            rows.append({
                "quarter": b.quarter, "quarter_end": end, "counterparty": cp,
                "contracts_usd_m": total, "n_contracts": int(len(g)),
                "last_announced": g["announced"].max(), "revenue_backlog": float(b.value),
                "share": share,
                "contract_source": _join(g["source"]),
                "contract_lines": ";".join(str(int(x)) for x in g["line"]),
                "backlog_source": b.source, "backlog_confidence": b.confidence,
                "backlog_unit": unit, "share_unit": ratio_unit(share, (float(b.value), unit)),
            })
    cols = ["quarter", "quarter_end", "counterparty", "contracts_usd_m", "n_contracts",
            "last_announced", "revenue_backlog", "share", "rank", "contract_source",
            "contract_lines", "backlog_source", "backlog_confidence", "backlog_unit", "share_unit"]
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "rank"])
    if out.empty:
        return pd.DataFrame(columns=cols)
    out = out.sort_values(["quarter", "contracts_usd_m"], ascending=[True, False], kind="stable")
    out["rank"] = out.groupby("quarter").cumcount() + 1
    return out[cols].reset_index(drop=True)


def backlog_statements(customers: pd.DataFrame) -> pd.DataFrame:
    """The company's own backlog-concentration statements (measure revenue_backlog_share).

    Columns: period, quarter (period-end quarter: FY2024 -> 2024Q4), subject (e.g. 'largest
    customer'), share (fraction), bound ('upper' / 'lower' when the note says so, else
    'approximate'), statement (the quoted note), source, published, undated.
    """
    s = customers[customers["measure"] == "revenue_backlog_share"]
    rows = []
    for r in s.itertuples(index=False):
        note = r.note if isinstance(r.note, str) else ""
        bound = "upper" if "upper bound" in note else ("lower" if "lower bound" in note else "approximate")
        end = period_end(r.period) if period_basis(r.period) else pd.NaT
        rows.append({"period": r.period, "quarter": pd.Period(end, freq="Q").strftime("%YQ%q") if pd.notna(end) else None,
                     "subject": r.customer, "share": r.value / 100, "bound": bound,
                     "statement": note, "source": r.source, "published": r.published,
                     "undated": bool(r.undated)})
    return pd.DataFrame(rows, columns=["period", "quarter", "subject", "share", "bound", "statement",
                                       "source", "published", "undated"])


def backlog_top(shares: pd.DataFrame, statements: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per quarter: the top counterparty's computed share, all named counterparties' share, and
    the company's statement about its largest customer for the same quarter (if any).

    Columns: quarter, revenue_backlog (USD m), backlog_unit (its rounding unit, 0 = exact),
    top_counterparty, top_share, top_share_unit (precision of the share, a fraction), named_share
    (sum over named counterparties; can exceed what remains because values are 'up to' and partly
    recognised), named_share_unit, company_largest_share, company_bound, company_source.
    """
    from .precision import ratio_unit

    rows = []
    for q, g in shares.groupby("quarter", sort=True):
        top = g.sort_values("rank").iloc[0]
        unit = float(top.get("backlog_unit", 0.0) or 0.0)
        named = float(g["share"].sum())
        rec = {"quarter": q, "revenue_backlog": float(top["revenue_backlog"]), "backlog_unit": unit,
               "top_counterparty": top["counterparty"], "top_share": float(top["share"]),
               "top_share_unit": ratio_unit(float(top["share"]), (float(top["revenue_backlog"]), unit)),
               "named_share": named, "named_share_unit": ratio_unit(named, (float(top["revenue_backlog"]), unit)),
               "company_largest_share": np.nan, "company_bound": None, "company_source": None}
        if statements is not None and len(statements):
            st = statements[(statements["quarter"] == q)
                            & statements["subject"].str.lower().str.startswith("largest customer")]
            if len(st):
                s = st.iloc[0]
                rec.update(company_largest_share=float(s["share"]), company_bound=s["bound"],
                           company_source=s["source"])
        rows.append(rec)
    return pd.DataFrame(rows, columns=["quarter", "revenue_backlog", "backlog_unit", "top_counterparty", "top_share",
                                       "top_share_unit", "named_share", "named_share_unit", "company_largest_share",
                                       "company_bound", "company_source"])


# ---- exposure scenarios ------------------------------------------------------------------

def scenario_counterparty(btop: pd.DataFrame, customer: str | None = None) -> dict:
    """Which counterparty the exposure scenario removes, and why.

    `btop` = `backlog_top(...)`. With `customer` None, the largest named counterparty of the latest
    quarter by announced contract value as a share of the revenue backlog: the measure the
    `concentration_verdict` names, so the scenario and the verdict speak of the same counterparty.
    Returns customer (None when no quarter has a named counterparty), rule ('largest' or
    'parameter'), quarter, largest (the largest counterparty then), largest_share (fraction).
    """
    last = btop.iloc[-1] if btop is not None and len(btop) else None
    largest = last["top_counterparty"] if last is not None else None
    out = {"quarter": last["quarter"] if last is not None else None, "largest": largest,
           "largest_share": float(last["top_share"]) if last is not None else float("nan")}
    if customer is None:
        return {**out, "customer": largest, "rule": "largest"}
    return {**out, "customer": customer, "rule": "parameter"}


SCENARIO_MODES = ("loss", "deferral")


def twelve_month_share(within_24m_share: float) -> float:
    """Share of a backlog recognised in the next 12 months, from its 24-month share.

    Assumption (labelled wherever used): the 24-month share is recognised evenly over the 24
    months, so the 12-month share is half of it.
    """
    return within_24m_share / 2


def timing_split(wide: pd.DataFrame, quarter: str) -> dict:
    """The backlog timing split to use at `quarter` (fraction within 24 months).

    `wide` = `analysis.backlog.backlog_wide(backlog_panel(fund))`. The newest split disclosed on or
    before `quarter`, of either measure; at the same quarter the revenue-backlog split is preferred
    to the RPO split (used as a proxy, and labelled so). Returns share, measure, quarter_used,
    source, confidence, reason.
    """
    w = wide[wide["quarter"] <= quarter].sort_values("quarter")
    found = []
    for pref, (col, measure) in enumerate((("revenue_backlog_within_24m_share", "revenue backlog"),
                                           ("rpo_within_24m_share", "RPO, as a proxy for the revenue backlog"))):
        if col not in w.columns:
            continue
        ok = w[w[col].notna()]
        if len(ok):
            r = ok.iloc[-1]
            found.append((r["quarter"], -pref, {"share": float(r[col]), "measure": measure, "quarter_used": r["quarter"],
                                                "source": r.get(col + "_source"), "confidence": r.get(col + "_confidence"),
                                                "reason": ""}))
    if found:
        return sorted(found, key=lambda f: (f[0], f[1]))[-1][2]
    return {"share": np.nan, "measure": None, "quarter_used": None, "source": None,
            "confidence": None, "reason": f"no backlog or RPO timing split disclosed by {quarter}"}


def recognised_revenue_bounds(customer: str, shares: pd.DataFrame, fund: pd.DataFrame, panel, start_quarter: str,
                              end_quarter: str) -> dict:
    """Bounds on the revenue recognised from `customer` from `start_quarter` to `end_quarter`
    (inclusive), from the revenue-share disclosures alone (USD m).

    Periods: a fiscal year with an annual disclosure is taken whole (its revenue from
    `analysis.fundamentals.figure`); other quarters one by one (revenue from the quarterly `panel`).
    In each period the customer's share is: its disclosed share where it is named (both bounds);
    else at most the largest share it could hold without being a named other customer: the largest
    unnamed disclosed share, or the undisclosed remainder (at most the smallest disclosed share);
    with no disclosure, at most all revenue. The lower bound is 0 where it is not named. A start
    quarter inside a disclosed year takes the whole year (a looser, still valid, upper bound).
    Returns low, high (USD m), periods (table: period, revenue, share_low, share_high, low, high,
    basis, sources), sources.
    """
    from .fundamentals import figure, parse_quarter, quarter_range

    rows, years_done = [], set()
    by_period = {p: g for p, g in shares.groupby("period")}
    for q in quarter_range(start_quarter, end_quarter):
        y, _ = parse_quarter(q)
        fy = f"FY{y}"
        if fy in by_period:
            if y in years_done:
                continue
            years_done.add(y)
            f = figure(fund, "revenue", fy)
            period, rev, rsrc = fy, f["value"], f["source"]
        elif q in by_period or q in panel.values.index:
            period, rev = q, panel.values["revenue"].get(q, np.nan)
            rsrc = panel.record(q, "revenue").get("source") if q in panel.values.index else None
        else:
            continue
        g = by_period.get(period)
        named = g[g["customer"].str.casefold() == customer.casefold()] if g is not None else pd.DataFrame()
        if g is None:
            lo_s, hi_s, basis = 0.0, 1.0, "no disclosure for the period: at most all revenue"
        elif len(named):
            lo_s = hi_s = float(named["share"].iloc[0])
            basis = "named in the disclosure"
        else:
            unnamed = g[g["customer"].map(_is_label)]
            remainder = max(0.0, 1.0 - float(g["share"].sum()))
            cap_rem = min(remainder, float(g["share"].min())) if len(g) else 1.0
            hi_s = max([cap_rem, *unnamed["share"].astype(float)])
            lo_s = 0.0
            basis = ("could be an unnamed disclosed customer" if len(unnamed) and hi_s > cap_rem
                     else "at most the undisclosed remainder")
        srcs = _join([rsrc or "", *(g["source"] if g is not None else [])])
        rows.append({"period": period, "revenue": rev, "share_low": lo_s, "share_high": hi_s,
                     "low": lo_s * rev if pd.notna(rev) else np.nan, "high": hi_s * rev if pd.notna(rev) else np.nan,
                     "basis": basis, "sources": srcs})
    t = pd.DataFrame(rows, columns=["period", "revenue", "share_low", "share_high", "low", "high", "basis", "sources"])
    missing = t["revenue"].isna().any()
    return {"low": float(t["low"].sum()) if not missing else np.nan,
            "high": float(t["high"].sum()) if not missing else np.nan, "periods": t,
            "sources": _join(t["sources"]).split(";") if len(t) else [],
            "reason": "revenue missing for " + ", ".join(t.loc[t["revenue"].isna(), "period"]) if missing else ""}


def _is_label(name: str) -> bool:
    """True for a period-specific label ('Customer A', 'top customer', 'second customer'), False for
    a name ('Microsoft')."""
    n = str(name).strip().lower()
    return n.startswith("customer ") or label_rank(n) is not None or n.startswith("customer ranked")


def guided_ntm_revenue(guidance: pd.DataFrame, panel, quarter: str) -> dict:
    """Revenue of the four quarters after `quarter` implied by the guidance in force (USD m).

    `guidance` = `analysis.backlog.guidance_history(fund, "revenue")` (only what was public at
    the note's date). A quarter with its own guidance takes its midpoint; the other quarters of a
    guided fiscal year share evenly what the fiscal-year midpoint leaves after the reported and
    quarterly-guided quarters; quarters beyond the guidance are held at the last guided quarter's
    level (an assumption, stated in `basis`). Returns value, guided_quarters, assumed_quarters,
    quarters (table), basis (words), sources; value NaN with `reason` when no guidance covers
    the first quarter after `quarter`.
    """
    from .backlog import shift_quarter

    latest = guidance[guidance["is_latest"]] if "is_latest" in guidance.columns else guidance
    mids = dict(zip(latest["period"], latest["mid"], strict=True))
    src = dict(zip(latest["period"], latest["source"], strict=True))
    given = dict(zip(latest["period"], latest["published"], strict=True))
    rev = panel.values["revenue"]
    nxt = [shift_quarter(quarter, k) for k in range(1, 5)]
    level, rows, srcs = {}, [], []
    for q in nxt:
        y = q[:4]
        if q in mids:
            level[q] = (mids[q], f"{q} guidance midpoint (given {pd.Timestamp(given[q]).date().isoformat()})")
            srcs.append(src[q])
        elif f"FY{y}" in mids:
            fyq = [f"{y}Q{k}" for k in range(1, 5)]
            known = sum(float(rev[x]) for x in fyq if x in rev.index and pd.notna(rev[x]) and x <= quarter)
            guided = sum(mids[x] for x in fyq if x in mids and x > quarter)
            rest = [x for x in fyq if x > quarter and x not in mids]
            if any(x <= quarter and (x not in rev.index or pd.isna(rev[x])) for x in fyq):
                continue
            level[q] = ((mids[f"FY{y}"] - known - guided) / len(rest),
                        f"FY{y} guidance midpoint (given {pd.Timestamp(given[f'FY{y}']).date().isoformat()}) less "
                        f"reported and quarterly-guided revenue, over {len(rest)} quarter{'s' if len(rest) > 1 else ''}")
            srcs.append(src[f"FY{y}"])
    if nxt[0] not in level:
        return {"value": np.nan, "guided_quarters": 0, "assumed_quarters": 0, "quarters": pd.DataFrame(),
                "basis": "", "sources": [], "reason": f"no revenue guidance for {nxt[0]} at the note's date"}
    last = None
    for q in nxt:
        if q in level:
            last = level[q][0]
            rows.append({"quarter": q, "revenue": level[q][0], "basis": level[q][1], "kind": "guidance"})
        else:
            rows.append({"quarter": q, "revenue": last, "basis": "held at the last guided quarter's level (assumption)",
                         "kind": "assumption"})
    t = pd.DataFrame(rows)
    n_g = int((t["kind"] == "guidance").sum())
    return {"value": float(t["revenue"].sum()), "guided_quarters": n_g, "assumed_quarters": 4 - n_g, "quarters": t,
            "basis": "; ".join(dict.fromkeys(t["basis"])), "sources": list(dict.fromkeys(
                x.strip() for s_ in srcs for x in str(s_).split(","))), "reason": ""}


def exposure_scenario(exposure_usd_m: float, backlog_usd_m: float, share_lost: float, mode: str,
                      within_24m_share: float, operating_income_q: float,
                      interest_expense_q: float, contribution_margin: float,
                      twelve_month_share_override: float | None = None) -> dict:
    """Effect of losing (or deferring) a share of one counterparty's contract value.

    Inputs in USD m (quarterly operating income and interest expense of the scenario quarter),
    fractions for shares. Rules, each an assumption:
    * lost = share_lost x exposure. 'loss' removes it from the backlog; 'deferral' keeps it in the
      backlog but moves its next-twelve-months revenue beyond twelve months.
    * next-twelve-months (NTM) revenue at risk = lost x twelve_month_share(within_24m_share): the
      counterparty's value converts at the company-wide backlog pace, the 24-month share spread
      evenly; `twelve_month_share_override` (e.g. guided NTM revenue / backlog) replaces that rule.
    * operating income change (NTM) = -(revenue at risk x contribution_margin); spread evenly over
      four quarters, it lowers quarterly coverage by (revenue at risk x margin / 4) / interest.
    * annual interest = 4 x the quarter's interest expense (run-rate).
    Returns a dict of figures (USD m, fractions, ratios) named as in `scenario_table`.
    """
    if mode not in SCENARIO_MODES:
        raise ValueError(f"mode must be one of {SCENARIO_MODES}, not {mode!r}")
    if not 0 <= share_lost <= 1:
        raise ValueError("share_lost must be a fraction in [0, 1]")
    lost = share_lost * exposure_usd_m
    ntm = (twelve_month_share(within_24m_share) if twelve_month_share_override is None
           else float(twelve_month_share_override))
    at_risk = lost * ntm
    backlog_after = backlog_usd_m - lost if mode == "loss" else backlog_usd_m
    ntm_base = backlog_usd_m * ntm
    annual_interest = 4 * interest_expense_q
    oi_change = -at_risk * contribution_margin
    cov = operating_income_q / interest_expense_q if interest_expense_q > 0 else np.nan
    cov_after = ((operating_income_q + oi_change / 4) / interest_expense_q
                 if interest_expense_q > 0 else np.nan)
    return {
        "exposure": exposure_usd_m, "value_lost": lost,
        "backlog_before": backlog_usd_m, "backlog_after": backlog_after,
        "backlog_change_share": (backlog_after / backlog_usd_m - 1) if backlog_usd_m > 0 else np.nan,
        "twelve_month_share": ntm, "ntm_revenue_from_backlog": ntm_base,
        "ntm_revenue_at_risk": at_risk,
        "ntm_revenue_change_share": -at_risk / ntm_base if ntm_base > 0 else np.nan,
        "annual_interest_run_rate": annual_interest,
        "revenue_at_risk_to_interest": at_risk / annual_interest if annual_interest > 0 else np.nan,
        "operating_income_change_ntm": oi_change,
        "interest_coverage_before": cov, "interest_coverage_after": cov_after,
    }


#: row order, label and unit of the scenario table
SCENARIO_ROWS = (
    ("exposure", "Counterparty contract value remaining at the quarter", "usd_m"),
    ("value_lost", "Value lost or deferred", "usd_m"),
    ("backlog_before", "Revenue backlog, reported", "usd_m"),
    ("backlog_after", "Revenue backlog after the scenario", "usd_m"),
    ("backlog_change_share", "Change in backlog", "fraction"),
    ("twelve_month_share", "Share of backlog recognised in the next 12 months", "fraction"),
    ("ntm_revenue_from_backlog", "Next-12-month revenue from backlog", "usd_m"),
    ("ntm_revenue_at_risk", "Next-12-month revenue at risk", "usd_m"),
    ("ntm_revenue_change_share", "Change in next-12-month revenue from backlog", "fraction"),
    ("annual_interest_run_rate", "Interest expense, annual run-rate (4 x quarter)", "usd_m"),
    ("revenue_at_risk_to_interest", "Revenue at risk / annual interest", "ratio"),
    ("operating_income_change_ntm", "Operating income change, next 12 months (assumption)", "usd_m"),
    ("interest_coverage_before", "Interest coverage, quarter (operating income / interest)", "ratio"),
    ("interest_coverage_after", "Interest coverage after the scenario", "ratio"),
)


def scenario_table(cases: dict) -> pd.DataFrame:
    """Scenario figures as a table: one row per figure, one column per case.

    `cases` maps a case name (e.g. 'announced contracts') to an `exposure_scenario` dict.
    Columns: key, figure (label), unit, then one column per case.
    """
    rows = []
    for key, label, unit in SCENARIO_ROWS:
        rec = {"key": key, "figure": label, "unit": unit}
        for name, res in cases.items():
            rec[name] = res.get(key, np.nan)
        rows.append(rec)
    return pd.DataFrame(rows)


@dataclass
class Scenario:
    """An exposure scenario: `table` (see `scenario_table`), the `inputs` it used (quarter,
    timing split, coverage quarter, assumptions, sources) and `reason` when it cannot be run."""

    table: pd.DataFrame
    inputs: dict
    reason: str = ""


EXPOSURE_INPUT_COLUMNS = ["input", "value", "unit", "quarter", "source", "kind"]


def run_scenario(contracts: pd.DataFrame, backlog_long: pd.DataFrame, panel, ratios: pd.DataFrame,
                 customer: str, share_lost: float, mode: str = "loss",
                 contribution_margin: float = 1.0, statements: pd.DataFrame | None = None,
                 quarter: str | None = None, *, fund: pd.DataFrame | None = None,
                 revenue_shares: pd.DataFrame | None = None, guidance: pd.DataFrame | None = None) -> Scenario:
    """Exposure scenario for `customer` at `quarter` from the loaded frames.

    `backlog_long` = `analysis.backlog.backlog_panel(fund)`; `panel` =
    `analysis.fundamentals.quarterly_panel(fund, ...)`; `ratios` =
    `analysis.unit_economics.ratio_table(panel)`; `statements` = `backlog_statements(customers)`.
    `quarter` defaults to the latest quarter with a revenue backlog in which the customer has
    announced contracts. Each input is taken at the newest quarter it exists for on or before the
    scenario quarter, and `inputs['table']` says which (input, value, unit, quarter, source, kind).

    Exposure = the customer's remaining contract value: cumulative 'up to' contract value less the
    revenue recognised from it to date. With `fund` and `revenue_shares` (`revenue_shares()`), the
    recognised revenue is bounded by `recognised_revenue_bounds` and two cases are run, 'remaining
    value (upper bound)' (value less the lower bound of recognised revenue) and 'remaining value
    (lower bound)' (less its upper bound); without them one case, 'announced contracts'. When the
    company stated a largest-customer share of the backlog for the quarter, 'capped at company
    statement' caps the first case at that share of the backlog.
    Next-twelve-month revenue: with `guidance` (`analysis.backlog.guidance_history`), the revenue the
    guidance in force implies (`guided_ntm_revenue`), as a share of the backlog; else half the
    24-month share (even spread). Interest coverage is taken at the newest quarter with it.
    """
    from .backlog import backlog_wide, measure_series, quarter_end

    series = measure_series(backlog_long, "revenue_backlog")
    shares = backlog_shares(contracts, series)
    mine = shares[shares["counterparty"] == customer]
    inputs = {"customer": customer, "share_lost": share_lost, "mode": mode,
              "contribution_margin": contribution_margin}
    if quarter is not None:
        mine = mine[mine["quarter"] == quarter]
    if mine.empty:
        known = sorted(shares["counterparty"].unique())
        return Scenario(scenario_table({}), inputs,
                        f"no announced contracts of {customer!r} dated on or before a quarter with a "
                        f"revenue backlog{' (' + quarter + ')' if quarter else ''}; counterparties "
                        f"with contracts: {', '.join(known) or 'none'}")
    row = mine.sort_values("quarter").iloc[-1]
    q = row["quarter"]
    timing = timing_split(backlog_wide(backlog_long), q)
    cov = ratios["interest_coverage"].dropna()
    cov = cov[cov.index <= q]
    if cov.empty or pd.isna(timing["share"]):
        why = timing["reason"] or f"no interest coverage on or before {q}"
        return Scenario(scenario_table({}), {**inputs, "quarter": q}, why)
    cq = cov.index[-1]
    oi = float(panel.values.at[cq, "operating_income"])
    ie = float(panel.values.at[cq, "interest_expense"])
    backlog = float(row["revenue_backlog"])
    value = float(row["contracts_usd_m"])
    ntm = {"value": np.nan, "reason": "no guidance passed"}
    if guidance is not None:
        from .backlog import shift_quarter

        ntm = guided_ntm_revenue(guidance, panel, q)
        del shift_quarter
    even = twelve_month_share(timing["share"])
    override = ntm["value"] / backlog if pd.notna(ntm["value"]) and backlog > 0 else None
    bounds = None
    if fund is not None and revenue_shares is not None:
        c = backlog_contracts(contracts)
        c = c[(c["counterparty"] == customer) & c["announced"].notna() & (c["announced"] <= quarter_end(q))]
        starts = [pd.Timestamp(x) for x in c["start"].dropna()] + list(c["announced"])
        first = min(starts)
        from .fundamentals import quarter_label

        bounds = recognised_revenue_bounds(customer, revenue_shares, fund, panel,
                                           quarter_label(first.year, (first.month - 1) // 3 + 1), q)
        if not bounds["reason"]:
            cases_exposure = {"remaining value (upper bound)": value - bounds["low"],
                              "remaining value (lower bound)": value - bounds["high"]}
        else:
            bounds, cases_exposure = None, {"announced contracts": value}
    else:
        cases_exposure = {"announced contracts": value}
    cases = {name: exposure_scenario(max(x, 0.0), backlog, share_lost, mode, timing["share"], oi, ie,
                                     contribution_margin, override) for name, x in cases_exposure.items()}
    statement = None
    if statements is not None and len(statements):
        st = statements[(statements["quarter"] == q)
                        & statements["subject"].str.lower().str.startswith("largest customer")]
        if len(st):
            statement = st.iloc[0].to_dict()
            cap = statement["share"] * backlog
            first_case = next(iter(cases_exposure.values()))
            cases["capped at company statement"] = exposure_scenario(
                min(first_case, cap), backlog, share_lost, mode, timing["share"], oi, ie, contribution_margin, override)
    srcs = _join([row["contract_source"], row["backlog_source"], timing["source"] or "",
                  panel.record(cq, "operating_income")["source"] or "",
                  panel.record(cq, "interest_expense")["source"] or "",
                  statement["source"] if statement else "",
                  *(ntm.get("sources") or []), *((bounds or {}).get("sources") or [])])
    t = [("Contract value announced by the quarter end ('up to')", value, "usd_m", q, row["contract_source"], "data"),
         ("Revenue backlog", backlog, "usd_m", q, row["backlog_source"], "data")]
    if bounds is not None:
        per = ", ".join(bounds["periods"]["period"])
        t.append(("Revenue recognised from the customer to date, bounds (derived)",
                  f"{bounds['low']:,.0f} to {bounds['high']:,.0f}", "usd_m", per, ";".join(bounds["sources"]),
                  "derived"))
    t.append(("Share of backlog due within 24 months (" + timing["measure"] + ")", timing["share"], "fraction",
              timing["quarter_used"], timing["source"], "data"))
    if override is not None:
        t.append(("Next-12-month revenue implied by guidance", ntm["value"], "usd_m",
                  "next four quarters", ";".join(ntm["sources"]),
                  "guidance" if ntm["assumed_quarters"] == 0 else "guidance + assumption"))
    t += [("Operating income (quarter)", oi, "usd_m", cq, panel.record(cq, "operating_income")["source"], "data"),
          ("Interest expense, net (quarter)", ie, "usd_m", cq, panel.record(cq, "interest_expense")["source"], "data"),
          ("Contribution margin of the lost revenue", contribution_margin, "fraction", None, None, "assumption"),
          ("Share of the contract value lost or deferred", share_lost, "fraction", None, None, "assumption")]
    if statement:
        t.append(("Company statement: largest customer's share of the backlog", statement["share"], "fraction",
                  statement["quarter"], statement["source"], "data"))
    inputs.update(quarter=q, exposure_usd_m=value, contract_lines=row["contract_lines"],
                  revenue_backlog=backlog,
                  backlog_source=row["backlog_source"], backlog_confidence=row["backlog_confidence"],
                  timing_share_24m=timing["share"], timing_measure=timing["measure"],
                  timing_quarter=timing["quarter_used"], coverage_quarter=cq,
                  operating_income_q=oi, interest_expense_q=ie, statement=statement, sources=srcs,
                  recognised=bounds, ntm=ntm, even_spread_share=even,
                  twelve_month_share=override if override is not None else even,
                  table=pd.DataFrame(t, columns=EXPOSURE_INPUT_COLUMNS))
    return Scenario(scenario_table(cases), inputs)


# ---- verdict and events ------------------------------------------------------------------

def concentration_verdict(hhi: pd.DataFrame, revenue_shares_: pd.DataFrame | None = None,
                          btop: pd.DataFrame | None = None):
    """Who the revenue and the backlog come from, as a `Verdict` (`customer_concentration`).

    The answer is the 2023 US Merger Guidelines band of the *lower* HHI bound of the latest
    revenue-share disclosure ('highly concentrated', 'moderately concentrated', 'unconcentrated'),
    the only statistic here with a standard threshold and no assumption about undisclosed
    customers; 'not measurable' without a disclosure. The sentence names the largest customer
    where the disclosure does, and adds the largest counterparty's announced contracts as a share
    of the revenue backlog of the latest quarter (`backlog_top`: 'up to' amounts, part possibly
    recognised, so an overstatement).
    """
    from .report import fmt
    from .verdicts import Verdict

    key = "customer_concentration"
    if hhi is None or hhi.empty:
        return Verdict(key, "not measurable", "Customer concentration cannot be measured: the data hold no "
                       "revenue-share disclosure.", headline="the data hold no revenue-share disclosure")
    lat = latest_top_share(hhi)
    lo = float(lat["hhi_lower"])
    band = "highly" if lo > HHI_HIGH else ("moderately" if lo >= HHI_MODERATE else "un")
    answer = "unconcentrated" if band == "un" else f"{band} concentrated"
    who, short = "the largest customer", "largest customer"
    if revenue_shares_ is not None and len(revenue_shares_):
        top = revenue_shares_[revenue_shares_["period"] == lat["period"]].sort_values("share", ascending=False)
        if len(top) and not _is_label(top["customer"].iloc[0]):
            who = f"the largest customer, {top['customer'].iloc[0]},"
            short = f"largest customer {top['customer'].iloc[0]}"
    s = (f"Revenue is {answer}: in {lat['period']} {who} paid {fmt.pct(lat['top1_share'], 0)} of revenue and the "
         f"HHI was at least {fmt.num(lo, 0)} ({GUIDELINES}: above {fmt.num(HHI_HIGH, 0)} is highly concentrated)")
    head = f"{short} {fmt.pct(lat['top1_share'], 0)} of {lat['period']} revenue, HHI at least {fmt.num(lo, 0)}"
    ev = {"period": lat["period"], "top1_share": float(lat["top1_share"]), "hhi_lower": lo,
          "hhi_upper": float(lat["hhi_upper"])}
    if btop is not None and len(btop):
        b = btop.iloc[-1]
        share = fmt.about(b["top_share"], float(b.get("top_share_unit", 0.0) or 0.0), "pct", 0)
        s += (f"; in the backlog, {b['top_counterparty']}'s announced contracts equal {share} of "
              f"the {b['quarter']} revenue backlog, an upper figure since they are 'up to' amounts, partly recognised")
        head += f"; {b['top_counterparty']}'s contracts up to {share} of the {b['quarter']} backlog"
        ev.update(backlog_quarter=b["quarter"], backlog_top_counterparty=b["top_counterparty"],
                  backlog_top_share=float(b["top_share"]))
    return Verdict(key, answer, s + ".", evidence=ev, period=lat["period"], headline=head)


def shares_at_events(events: pd.DataFrame, revenue_shares_: pd.DataFrame, customer_tickers: dict) -> pd.DataFrame:
    """A customer's revenue share around events that originate with that customer.

    `customer_tickers` maps a customer name (as in customers.csv, e.g. 'Microsoft') to the event
    origin that stands for it (its ticker, 'MSFT'). For each event whose `origin` is such a ticker:
    the latest annual period ending before the event, and the quarter containing it; in each, the
    customer's share where it is named, else the largest customer's share (labelled as such).
    Columns: event_id, day0, description, customer, period, share, who ('named' / 'largest
    customer'), label, source, published (when the share became public), public_at_event
    (published on or before day 0).
    """
    rows = []
    by_ticker = {t: c for c, t in customer_tickers.items()}
    sh = revenue_shares_
    for e in events.itertuples():
        cust = by_ticker.get(e.origin)
        if cust is None:
            continue
        day = pd.Timestamp(e.day0)
        q = f"{day.year}Q{(day.month - 1) // 3 + 1}"
        prior_fy = sh[(sh["basis"] == "annual") & (sh["period_end"] < day)]
        periods = ([prior_fy.sort_values("period_end")["period"].iloc[-1]] if len(prior_fy) else []) + [q]
        for per in periods:
            g = sh[sh["period"] == per].sort_values("share", ascending=False)
            if g.empty:
                continue
            named = g[g["customer"].str.casefold() == cust.casefold()]
            r = named.iloc[0] if len(named) else g.iloc[0]
            pub = r["published"]
            rows.append({"event_id": e.event_id, "day0": day, "description": e.description, "customer": cust, "period": per,
                         "share": float(r["share"]), "who": "named" if len(named) else "largest customer",
                         "label": r["customer"], "source": r["source"], "published": pub,
                         "public_at_event": bool(pd.notna(pub) and pd.Timestamp(pub) <= day)})
    return pd.DataFrame(rows, columns=["event_id", "day0", "description", "customer", "period", "share", "who", "label",
                                       "source", "published", "public_at_event"])
