"""Section 07: press claims checked against filings, contracts and prices.

Items: `summary`, `counts_table`, `outlets` (one table per outlet, with its heading),
`differ_table`, `ledger_table`, `unverifiable_table`.
"""

from __future__ import annotations

import pandas as pd

from .. import claims as C
from ..data import load_claims
from ..report import exhibits, fmt
from .base import Markdown, Section
from .common import plural

NOTEBOOK = "07_claims_ledger"
CLAIMS_LINE = "data/claims.yaml (press articles, in our own words)"
REL = {"approx": "\u2248", "below": "<", "above": ">", "equals": "="}


def build(as_of="latest", tolerance_scale=1.0) -> Section:
    """The claims ledger as of `as_of`; `tolerance_scale` multiplies every 'approx' tolerance."""
    data = C.load_claim_data(as_of)
    sec = Section(NOTEBOOK, {"as_of": as_of, "tolerance_scale": tolerance_scale})
    sec.results.as_of = None if data.as_of is None else fmt.date(data.as_of)
    checks = C.evaluate_claims(load_claims(as_of), data, tolerance_scale=tolerance_scale)
    verdicts = C.claim_verdicts(checks)
    counts = C.verdict_counts(verdicts, checks)
    all_ids = sorted({s for x in checks["sources"].dropna() for s in x.split("; ")})
    actuals = "Actuals: " + exhibits.sources_line(all_ids, data.sources) + (
        "; where each price row came from: data/prices/PROVENANCE.md." if any(
            s.startswith(exhibits.PRICES_PREFIX) for s in all_ids) else ".")
    c = {"sec": sec, "data": data, "checks": checks, "verdicts": verdicts, "counts": counts,
         "n": counts.set_index("verdict")["claims"].to_dict(), "differ": C.differing_checks(checks),
         "outlets": C.outlet_summary(verdicts), "actuals": actuals,
         "scope": "in data/claims.yaml" if data.as_of is None else f"published by {fmt.date(data.as_of)}"}
    sec.data.update(checks=checks, verdicts=verdicts)
    sec.table("claims", checks)  # stated, actual, tolerance, difference: in the row's unit column
    sec.table("claim_verdicts", verdicts, {"n_checks": "count", "n_confirmed": "count", "n_differs": "count",
                                           "n_not_verifiable": "count"})
    sec.table("verdict_counts", counts, {"claims": "count", "checks": "count", "share_of_claims": "fraction",
                                         **{c: "count" for c in C.CHECK_COUNT_COLUMNS.values()}})
    sec.value("claims_total", len(verdicts), "count", "Press claims checked", all_ids)
    sec.value("checks_total", len(checks), "count", "Checks of press claims", all_ids)
    for v in C.CLAIM_VERDICTS:
        sec.value("claims_" + v.replace(" ", "_"), c["n"][v], "count", f"Press claims: {v}",
                  sorted({s for x in verdicts.loc[verdicts["verdict"] == v, "sources"].dropna() for s in x.split("; ")}))
    sec.text("summary", _summary(c))
    sec.exhibit("counts_table", _counts_table(c) if len(verdicts) else [])
    sec.exhibit("outlets", _outlet_tables(c))
    sec.exhibit("differ_table", _differ_table(c))
    sec.exhibit("ledger_table", _ledger_table(c))
    sec.exhibit("unverifiable_table", _unverifiable_table(c))
    return sec


def _na(v) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


def show_value(v, unit) -> str:
    """A stated or actual value in its unit ('n/a' when missing)."""
    if _na(v):
        return fmt.NA
    return {"usd": fmt.usd, "usd_m": lambda x: fmt.usd_m(x, 1), "fraction": lambda x: fmt.pct(x, 2),
            "ratio": lambda x: fmt.ratio(x, 2), "years": lambda x: fmt.years(x, 0), "date": fmt.date}.get(unit, str)(v)


def show_difference(v, unit) -> str:
    """actual - stated: percentage points for ratios and returns, days for dates."""
    if _na(v):
        return ""
    sign = "+" if v > 0 else ""
    if unit == "fraction":
        return sign + fmt.pp(v, 2)
    if unit == "date":
        return f"{v:+.0f} days"
    if unit == "years":
        return f"{v:+.0f} years"
    return sign + show_value(v, unit)


def show_stated(r) -> str:
    """'≈ $1,364.7m (±$10.0m)', '< 10.00%' for a check row."""
    if r.measure == "none":
        return ""
    s = f"{REL[r.relation]} {show_value(r.stated, r.unit)}"
    if r.relation == "approx":
        s += f" (\u00b1{fmt.pp(r.tolerance, 2) if r.unit == 'fraction' else show_value(r.tolerance, r.unit)})"
    return s


def _gap_text(g) -> str:
    return (f"{g.check}, stated {show_stated(g)}, data {show_value(g.actual, g.unit)}, "
            f"{fmt.pct(g.relative_difference, 0)} away from the stated figure")


def _summary(c) -> str:
    n, verdicts, checks, outlets = c["n"], c["verdicts"], c["checks"], c["outlets"]
    k = len(verdicts)
    if k == 0:
        return f"No press claim {c['scope']}: the ledger is empty."
    parts = claim_count_words(n)
    lead = ("Most" if n["confirmed"] / k > 0.5 else "Fewer than half") + " of the press claims hold up."
    t = (f"{lead} We checked {plural(k, 'press claim', 'press claims')} {c['scope']} from "
         f"{plural(len(outlets), 'outlet', 'outlets')} ({plural(len(checks), 'check', 'checks')} against filings, contracts "
         f"and prices): " + (", ".join(parts[:-1]) + " and " if len(parts) > 1 else "") + parts[-1] + ". The claims are listed by outlet, newest "
         "article first; then come the checks that differ, every check with its stated and actual value, and the checks "
         "the data cannot settle. Gaps on ratios and returns are given in percentage points, never as a percentage of a "
         "small base.")
    g = C.widest_gap(c["differ"])
    if g is not None:
        t += f" The widest gap on an amount is in {g.claim_id} ({g.outlet}, {fmt.date(g.published)}): {_gap_text(g)}."
    return t


#: a claim verdict in the summary sentence ('4 only partly verifiable (...)')
CLAIM_VERDICT_WORDS = {
    "confirmed": "confirmed by the data",
    C.CONFIRMED_EARLIER: "confirmed only on the trading session before the date the outlet gave",
    "differs": "differ",
    "partly verifiable": "only partly verifiable (some checks confirmed, the rest not checkable)",
    "not verifiable": "not verifiable with the bundled data",
}


def claim_count_words(n: dict) -> list[str]:
    """'21 confirmed by the data', '4 differ', ... for every claim verdict with claims, in
    `claims.CLAIM_VERDICTS` order: the counts add up to the number of claims."""
    out = []
    for v in C.CLAIM_VERDICTS:
        if n.get(v):
            words = "differs" if v == "differs" and n[v] == 1 else CLAIM_VERDICT_WORDS[v]
            out.append(f"{n[v]} {words}")
    return out


#: a check verdict in the counts table ('7 differ')
CHECK_VERDICT_WORDS = {"confirmed": "confirmed", C.CONFIRMED_EARLIER: "confirmed on an earlier session",
                       "differs": "differ", "not verifiable": "not verifiable"}


def check_results_words(row: dict) -> str:
    """'5 confirmed, 4 not verifiable' from a `verdict_counts` row (check verdicts with checks only)."""
    parts = []
    for v, col in C.CHECK_COUNT_COLUMNS.items():
        k = int(row.get(col) or 0)
        if k:
            parts.append(f"{k} {'differs' if v == 'differs' and k == 1 else CHECK_VERDICT_WORDS[v]}")
    return ", ".join(parts)


def _counts_table(c):
    counts, n, k = c["counts"], c["n"], len(c["verdicts"])
    counts = counts[counts["claims"] > 0]
    total = {"verdict": "all claims", "claims": k, "share_of_claims": 1.0, "checks": len(c["checks"]),
             **{col: int(counts[col].sum()) for col in C.CHECK_COUNT_COLUMNS.values()}}
    rows = [*counts.to_dict("records"), total]
    t = pd.DataFrame({"Claim verdict": [r["verdict"] for r in rows], "Claims": [r["claims"] for r in rows],
                      "Share of claims": [fmt.pct(r["share_of_claims"], 0) for r in rows],
                      "Their checks": [r["checks"] for r in rows],
                      "How those checks came out": [check_results_words(r) for r in rows]})
    t["How those checks came out"] = t["How those checks came out"].astype(object)
    return exhibits.table(t, title=f"{fmt.pct(n['confirmed'] / k, 0)} of the claims are confirmed, "
                                   f"{fmt.pct(n['differs'] / k, 0)} differ",
                          source="Claims ledger below; " + CLAIMS_LINE + ".",
                          notes="One row per claim verdict; a claim has one or more checks. Claims and Share of claims "
                                "count claims; Their checks counts every check of those claims, and the last column "
                                "says how each of them came out. A claim is confirmed when all its checks are; "
                                "confirmed on an earlier session when a price matches only on the trading session "
                                "before the date the outlet gave; it differs when any check differs; partly verifiable "
                                "when some checks are confirmed and the rest cannot be checked; not verifiable when no "
                                "check can be.")


def _outlet_tables(c) -> list:
    by_claim, out = C.claims_by_outlet(c["verdicts"]), []
    if len(c["outlets"]):
        out.append(Markdown("### Claims by outlet"))
    for o in c["outlets"].itertuples():
        g = by_claim[by_claim["outlet"] == o.outlet]
        t = pd.DataFrame({"Id": g["claim_id"], "Claim (in our words)": g["claim"],
                          "Checks": [C.check_tally(r.n_checks, r.n_confirmed, r.n_differs, r.n_not_verifiable)
                                     for r in g.itertuples()], "Verdict": g["verdict"]})
        tail = [x for x in (f"{o.differs} {'differs' if o.differs == 1 else 'differ'}" if o.differs else "",
                            f"{o.partly_verifiable} partly verifiable" if o.partly_verifiable else "",
                            f"{o.not_verifiable} not verifiable" if o.not_verifiable else "") if x]
        title = (f"{o.outlet}, {fmt.date(o.published)}: "
                 + (f"the claim is {g['verdict'].iloc[0]}" if o.claims == 1 else
                    f"{o.confirmed} of {o.claims} claims confirmed" + ("; " + ", ".join(tail) if tail else "")))
        out.append(exhibits.table(t, title=title, source=f"{CLAIMS_LINE}; verdicts from the checks in the tables below."))
    return out


def _differ_table(c) -> list:
    differ, verdicts = c["differ"], c["verdicts"]
    if differ.empty:
        return []
    order = {cid: i for i, cid in enumerate(C.claims_by_outlet(verdicts)["claim_id"])}
    d = differ.assign(_o=differ["claim_id"].map(order)).sort_values(["_o", "check_no"])
    t = pd.DataFrame({"Id": d["claim_id"], "Check": d["check"],
                      "Stated": [show_stated(r) for r in d.itertuples()],
                      "Actual": [show_value(r.actual, r.unit) for r in d.itertuples()],
                      "Difference": [show_difference(r.difference, r.unit) for r in d.itertuples()],
                      "Relative gap": ["" if u in C.ABSOLUTE_GAP_UNITS else (fmt.pct(x, 0) if not _na(x) else fmt.NA)
                                       for x, u in zip(d["relative_difference"], d["unit"], strict=True)],
                      "Sources": [exhibits.source_cell(r.sources or "") for r in d.itertuples()]})
    title = (f"{plural(len(d), 'check differs', 'checks differ')} from the data, in "
             f"{plural(d['claim_id'].nunique(), 'claim', 'claims')}")
    g = C.widest_gap(differ)
    if g is not None:
        title += f"; the widest gap on an amount is {g.claim_id}'s {g.check} ({fmt.pct(g.relative_difference, 0)})"
    return [Markdown("### Checks that differ"), exhibits.table(
        t, title=title, source=c["actuals"].removeprefix("Actuals: ").removesuffix("."),
        notes=("Difference = actual - stated (percentage points for returns and ratios, days for dates). Relative gap = "
               "|difference| / |stated|, for amounts only: for a ratio or a return the difference in percentage points is "
               "the gap (a percentage of a near-zero ratio would mislead), for a date the difference in days."))]


def _ledger_table(c) -> list:
    checks = c["checks"]
    if checks.empty:
        return []
    rows = C.ledger_rows(checks)
    t = pd.DataFrame({"Id": rows["claim_id"], "Check": rows["check"],
                      "Stated": [show_stated(r) for r in rows.itertuples()],
                      "Actual": [show_value(r.actual, r.unit) if r.verdict != "not verifiable" else fmt.NA
                                 for r in rows.itertuples()],
                      "Verdict": rows["verdict"], "Difference": [show_difference(r.difference, r.unit) for r in rows.itertuples()],
                      "Sources": ["" if _na(s) else exhibits.source_cell(s) for s in rows["sources"]]})
    spans = C.adj_close_only_spans(c["data"].prices)
    adj = ("; ".join(f"{r.ticker} {fmt.date(r.start)} to {fmt.date(r.end)}" for r in spans.itertuples())
           if len(spans) else "none")
    k = checks["verdict"].value_counts().to_dict()
    n = len(checks)
    early = k.get(C.CONFIRMED_EARLIER, 0)
    n_diff, n_nv = k.get("differs", 0), k.get("not verifiable", 0)
    return [Markdown("### Every check"), exhibits.table(
        t, title=(f"{k.get('confirmed', 0)} of {plural(n, 'check', 'checks')} confirm the press figure, "
                  + (f"{early} only on an earlier session, " if early else "")
                  + f"{n_diff} {'differs' if n_diff == 1 else 'differ'} and {n_nv} cannot be checked"),
        source="Claims: " + CLAIMS_LINE + ". " + c["actuals"],
        notes=("Same order as the claims above. Stated: the press figure with the relation tested (\u2248 within the "
               "tolerance shown, < below, > above). Difference = actual - stated (percentage points for returns and "
               "ratios). Returns are close-to-close, not dividend-adjusted, except where only a dividend-adjusted close "
               f"exists ({adj}). A date that is not a trading day is never moved: the check is not verifiable, and the "
               "table below says why."))]


def _unverifiable_table(c) -> list:
    u = C.not_verifiable_checks(c["checks"])
    if u.empty:
        return []
    t = pd.DataFrame({"Id": u["claim_id"], "Check": u["check"], "Why it cannot be checked": u["reason"]})
    return [exhibits.table(
        t, title=(f"{plural(len(u), 'check', 'checks')} in {plural(u['claim_id'].nunique(), 'claim', 'claims')} cannot be "
                  "settled with the bundled data"),
        source=CLAIMS_LINE + "; data/ (prices, fundamentals, contracts) at the note's date.")]
