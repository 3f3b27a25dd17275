"""Section 02: how the backlog turns into revenue, guidance against outcomes, and what a delay costs.

Items: `summary`, `backlog_chart`, `rollforward_text`, `rollforward_table`, `rpo_table`,
`timing_table`, `contracts_table`, `guidance_text`, `guidance_chart`, `guidance_table`,
`delay_text`, `delay_inputs`, `delay_table`, `verdict:backlog_conversion`, `verdict_notes`.
"""

from __future__ import annotations

import math

import matplotlib.ticker as mticker
import pandas as pd

from .. import backlog as B
from ..data import as_of_date, load_contracts, load_fundamentals, load_sources
from ..data.rules import period_bounds
from ..fundamentals import quarterly_panel
from ..labels import metric_label
from ..precision import is_approximate, ratio_unit
from ..report import exhibits, fmt, style
from ..unit_economics import key_figure_row, ratio_table
from .base import Section
from .common import iso_dates, source_line, tag, value_text

NOTEBOOK = "02_backlog_conversion"


def build(as_of="latest", first_quarter="2024Q1", delay_days=None, site_mw=None, affected_share=None,
          contract_term_years=5, scenario_quarter=None, scenario_quarters=4) -> Section:
    """Backlog conversion as of `as_of`. `delay_days` / `site_mw` None = the latest delivery delay
    reported in the data at `as_of` (none: no scenario); numbers are ASSUMPTIONS. `affected_share`
    None = site MW / contracted power. `contract_term_years`: straight-line term (ASSUMPTION)."""
    sec = Section(NOTEBOOK, {"as_of": as_of, "first_quarter": first_quarter, "delay_days": delay_days,
                             "site_mw": site_mw, "affected_share": affected_share,
                             "contract_term_years": contract_term_years, "scenario_quarter": scenario_quarter,
                             "scenario_quarters": scenario_quarters})
    fund = load_fundamentals(as_of=as_of)
    c = {"sec": sec, "fund": fund, "registry": load_sources(), "first_quarter": first_quarter,
         "term": contract_term_years, "n_quarters": scenario_quarters}
    c["qpanel"] = qpanel = quarterly_panel(fund)
    c["ratios"] = ratio_table(qpanel)
    c["panel"] = panel = B.backlog_panel(fund)
    c["wide"] = B.backlog_wide(panel)
    c["timing"] = B.timing_amounts(panel)
    c["revenue"] = revenue = B.revenue_frame(qpanel)
    c["rf"] = B.rollforward(panel, revenue, basis="revenue_backlog")
    c["rf_rpo"] = B.rollforward(panel, revenue, basis="rpo")
    c["ledger"] = B.contract_ledger(load_contracts(as_of=as_of), c["rf"])
    periods = B.guidance_history(fund, "revenue")["period"]
    c["guid"] = B.guidance_history(fund, "revenue", actuals=B.actuals_for(fund, periods))
    c["cd"] = B.coverage_and_due(panel, revenue)
    c["delay"] = _delay(c, delay_days, site_mw, affected_share, scenario_quarter)
    sec.data.update({k: c[k] for k in ("panel", "rf", "rf_rpo", "guid", "cd", "delay", "timing")})
    _record(c)
    sec.verdict(B.conversion_verdict(c["cd"], c["rf"], c["guid"]))
    sec.text("summary", _summary(c))
    sec.exhibit("backlog_chart", _backlog_chart(c))
    sec.text("rollforward_text", _rollforward_text(c))
    sec.exhibit("rollforward_table", _rollforward_table(c))
    sec.exhibit("rpo_table", _rpo_table(c))
    if len(c["timing"]):
        sec.exhibit("timing_table", _timing_table(c))
    else:
        sec.text("timing_table", "No split of the backlog by due date is disclosed in the data at this note's date.")
    sec.exhibit("contracts_table", _contracts_table(c))
    sec.text("guidance_text", _guidance_text(c))
    if len(c["guid"]):
        sec.exhibit("guidance_chart", _guidance_chart(c))
        sec.exhibit("guidance_table", _guidance_table(c))
    else:  # no guidance public yet (the note as of the first results day): the text says so
        sec.text("guidance_chart", "")
        sec.text("guidance_table", "")
    _delay_items(c)
    sec.text("verdict_notes", _verdict_notes(c))
    return sec


# ---------------------------------------------------------------------------- delay scenario
def _delay(c, delay_days, site_mw, affected_share, scenario_quarter) -> dict:
    """The delay scenario's facts (data or parameters), inputs at one quarter, and the result."""
    rep = B.reported_delay(c["fund"])
    days = delay_days if delay_days is not None else (rep["delay_days"] if rep else None)
    mw = site_mw if site_mw is not None else (rep["site_mw"] if rep else None)
    out = {"reported": rep, "delay_days": days, "site_mw": mw,
           "days_kind": "data" if delay_days is None else "assumption",
           "mw_kind": "data" if site_mw is None else "assumption", "si": None, "scen": None, "start": None, "reason": ""}
    if days is None or (mw is None and affected_share is None):
        out["reason"] = "no delivery delay had been sized in public at this note's date"
        return out
    si = B.scenario_inputs(c["fund"], c["panel"], c["qpanel"], c["ratios"], site_mw=mw if mw is not None else math.nan,
                           quarter=scenario_quarter, affected_share=affected_share)
    out["si"] = si
    if si.get("quarter") is None or si["reason"]:
        out["reason"] = si["reason"]
        return out
    out["start"] = B.first_scenario_quarter(si["quarter"], si["last_reported_quarter"])
    out["scen"] = B.delay_scenario(days, si["affected_share"], c["term"], si["backlog"], si["effective_rate"], si["debt"],
                                   n_quarters=c["n_quarters"], start_quarter=out["start"],
                                   reference_revenue=si["reference_revenue"])
    return out


def _days_text(d) -> str:
    """The delay in days, 'about' only when its source gives it approximately."""
    rep = d["reported"]
    approx = d["days_kind"] == "data" and rep is not None and is_approximate(rep["note"])
    return ("about " if approx else "") + f"{fmt.num(d['delay_days'], 0)} days"


def _basis_text(si) -> str:
    """Why the company figures are taken at the basis quarter: which inputs exist later, and which
    do not and why ('' when every input's latest quarter is the basis)."""
    lim = si.get("limited_by") or []
    if not lim:
        return ""
    by_q: dict[str, list[str]] = {}
    for k, q in sorted(lim[0]["newer"].items(), key=lambda kv: kv[1], reverse=True):
        by_q.setdefault(q, []).append(k)
    later = ", ".join(f"{_and(ks)} for {q}" for q, ks in by_q.items())
    held = "; ".join(f"the {x['input']} only up to {x['latest']}, since {x['why']}" for x in lim)
    return (f": the data give the {later}, but {held}. A newer figure of one input is never combined with older "
            "figures of the others")


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _delay_items(c) -> None:
    sec, d = c["sec"], c["delay"]
    if d["scen"] is None:
        sec.text("delay_text", f"*No scenario in this note:* {d['reason']} (in days and megawatts of a site). The "
                               "guidance history above is the measure of any delay that was public.")
        return
    si, scen, rep = d["si"], d["scen"], d["reported"]
    tot, sb, start = scen.totals, si["share_basis"], d["start"]
    from_data = rep is not None and d["days_kind"] == "data"
    who = (f"a delay of {_days_text(d)} in {rep['period']} at the {fmt.num(d['site_mw'], 0)} MW {rep['site'] or 'site'}, "
           f"as reported on {fmt.date(rep['published'])} [{rep['source']}],"
           if from_data else f"an assumed delay of {_days_text(d)}")
    share = (f"{fmt.pct(si['affected_share'])} of the revenue backlog: the site's power over contracted power of "
             f"{fmt.num(sb['contracted_mw'], 0)} MW [{sb['source']}]"
             + (" (stated as a lower bound, so the share is an upper bound)" if sb["lower_bound"] else "")
             if sb else f"{fmt.pct(si['affected_share'])} of the revenue backlog (an assumption)")
    lrq = si["last_reported_quarter"]
    past = from_data and rep["period"] <= lrq
    when = (f"The delay is placed in the quarters after the last one with reported revenue ({lrq}), from {start}"
            + (f": the reported delay hit {rep['period']}, whose revenue is already reported, so the scenario asks what a "
               "delay of the same size would cost from now on. " if past else ". "))
    sec.text("delay_text", (
        f"*Scenario, not a forecast.* It applies {who} to {share}. Every company figure (revenue backlog, revenue, debt, "
        f"effective interest rate{', contracted power' if sb else ''}) is taken at one quarter, {si['quarter']} (table "
        f"below), the latest in which all of them exist{_basis_text(si)}. {when}Recognised straight-line over {fmt.years(c['term'], 0)}, the "
        f"affected contracts would bring {fmt.usd_m(tot['affected_revenue_base'])} a quarter; the delay moves the whole "
        f"recognition window later, so {fmt.usd_m(tot['revenue_shifted'])} of revenue leaves the coming quarters and "
        f"returns after the end of the term, provided the contracts hold. Meanwhile the debt behind that capacity, the same "
        f"share of the {fmt.usd_bn(si['debt'])} of debt ({si['debt_basis']}) at the {fmt.pct(si['effective_rate'])} "
        f"effective rate, costs {fmt.usd_m(tot['interest_during_delay'])} of interest during the delay."
        + (" Some inputs have no verified publication date." if si.get("undated_inputs") else "")))
    rows = si["inputs"].copy()
    event = f"{rep['period']} event, reported {fmt.date(rep['published'])}" if from_data else None
    extra = [("Delay", _days_text(d), "days", event if d["days_kind"] == "data" else None,
              rep["source"] if from_data else None, d["days_kind"])]
    if sb:
        extra.append(("Site power", d["site_mw"], "mw", event if d["mw_kind"] == "data" else None,
                      rep["source"] if rep and d["mw_kind"] == "data" else None, d["mw_kind"]))
    extra.append(("Contract term, straight-line recognition", c["term"], "years", None, None, "assumption"))
    rows = pd.concat([rows, pd.DataFrame(extra, columns=rows.columns)], ignore_index=True)
    rounding = [si["backlog_unit"] if i == "Revenue backlog" else 0.0 for i in rows["input"]]
    show = pd.DataFrame({"Input": rows["input"], "Value": [value_text(v, u, r) for v, u, r in zip(rows["value"], rows["unit"],
                                                                                                 rounding, strict=True)],
                         "Quarter": rows["quarter"].fillna(""),
                         "Source": rows["source"].fillna("").str.replace("; ", ", ").str.replace(";", ", "),
                         "Kind": rows["kind"]})
    sec.exhibit("delay_inputs", exhibits.table(
        show, title=(f"The delay scenario takes every company figure at {si['quarter']}"
                     + (f"; the delay is the one reported on {fmt.date(rep['published'])}" if from_data else "")),
        source=source_line(list(rows["source"].dropna()), c["registry"]),
        notes=("USD millions unless stated. Kind: data = read in data/ at the quarter shown (for the delay and the site, "
               "the quarter of the event and the date it was reported); assumption = a parameter of this note.")))
    t = scen.table[["quarter", "delay_days_in_quarter", "affected_revenue_base", "revenue_shifted",
                    "shifted_share_of_revenue", "interest_during_delay", "label"]]
    col = f"Shifted / {si['quarter']} revenue"
    sec.exhibit("delay_table", exhibits.table(
        t.rename(columns={"quarter": "Quarter", "delay_days_in_quarter": "Delay days in quarter",
                          "affected_revenue_base": "Affected revenue on time", "revenue_shifted": "Revenue shifted out",
                          "shifted_share_of_revenue": col, "interest_during_delay": "Interest during delay",
                          "label": "Label"}),
        title=(f"Scenario: the delay on {fmt.pct(si['affected_share'])} of the backlog shifts "
               f"{fmt.usd_m(tot['revenue_shifted'])} of revenue while {fmt.usd_m(tot['interest_during_delay'])} of "
               "interest accrues"),
        source=source_line([*si["sources"], rep["source"] if rep else None], c["registry"]),
        formats={"Delay days in quarter": lambda v: fmt.num(v, 1), "Affected revenue on time": fmt.num,
                 "Revenue shifted out": fmt.num, col: fmt.pct, "Interest during delay": fmt.num},
        notes=(f"USD millions. Scenario quarters, not reported figures: they start after {lrq}, the last quarter with "
               f"reported revenue. Every amount is sized on {si['quarter']} figures, and the shifted revenue is set "
               f"against the revenue reported for {si['quarter']}. Quarters of {fmt.num(B.DAYS_PER_QUARTER, 2)} days; "
               "debt allocated to the affected capacity in proportion to its share of the backlog; contracts assumed to "
               "survive the delay (shifted revenue is deferred, not lost).")))


# ---------------------------------------------------------------------------- results
def _record(c) -> None:
    sec, panel, rf, d = c["sec"], c["panel"], c["rf"], c["delay"]
    wide, rpo = c["wide"], panel[panel["metric"] == "rpo_total"].sort_values("quarter")
    sec.table("backlog", wide, {k: ("fraction" if k.endswith("_share") else "usd_m") for k in wide.columns
                                if k != "quarter" and not k.endswith(("_source", "_confidence"))})
    sec.table("backlog_panel", iso_dates(panel.drop(columns=["period_end"])), {"rounding_unit": "usd_m"})
    sec.table("backlog_timing", c["timing"], {"share": "fraction", "balance": "usd_m", "amount": "usd_m", "per_year": "usd_m"})
    units = {"backlog": "usd_m", "backlog_prev": "usd_m", "revenue": "usd_m", "bookings": "usd_m", "book_to_bill": "ratio",
             "coverage_years": "years", "conversion": "fraction", "bookings_unit": "usd_m"}
    sec.table("rollforward", rf, units)
    sec.table("rollforward_rpo", c["rf_rpo"], units)
    led = c["ledger"]
    sec.table("contract_ledger", led.by_quarter, {"bookings": "usd_m", "announced_usd_m": "usd_m", "explained_share": "fraction"})
    sec.table("contracts_dated", iso_dates(led.contracts), {"value_usd_m": "usd_m"})
    sec.table("contracts_undated", iso_dates(led.undated), {"value_usd_m": "usd_m"})
    sec.table("guidance_history", iso_dates(c["guid"]), {"low": "usd_m", "high": "usd_m", "mid": "usd_m", "revision": "usd_m",
                                                         "actual": "usd_m", "surprise_vs_mid": "fraction"})
    scen = d["scen"]
    sec.table("delay_scenario", scen.table if scen is not None else pd.DataFrame(columns=["quarter"]),
              {"delay_days_in_quarter": "days", "affected_revenue_base": "usd_m", "revenue_shifted": "usd_m",
               "revenue_shifted_cum": "usd_m", "interest_during_delay": "usd_m", "shifted_share_of_revenue": "fraction"}
              if scen is not None else {})
    if d["si"] is not None and "inputs" in d["si"]:
        sec.table("delay_inputs", d["si"]["inputs"].assign(value=d["si"]["inputs"]["value"].astype(object)), {})
    btb = B.latest_complete(rf, "book_to_bill")

    def srcs(r):
        return [r["backlog_source"], r["backlog_prev_source"], *str(r["revenue_source"]).split(";")]

    if btb is not None:
        sec.value("book_to_bill_latest", btb["book_to_bill"], "ratio", f"Book-to-bill (revenue backlog), {btb['quarter']}",
                  srcs(btb), period=btb["quarter"])
        sec.value("bookings_latest", btb["bookings"], "usd_m", f"Implied gross bookings, {btb['quarter']}", srcs(btb),
                  period=btb["quarter"])
        sec.value("conversion_latest", btb["conversion"], "fraction", f"Revenue / opening backlog, {btb['quarter']}",
                  srcs(btb)[1:], period=btb["quarter"])
    else:
        sec.value("book_to_bill_latest", None, "ratio", "Book-to-bill (revenue backlog): no quarter with both balances")
    cov = B.latest_complete(rf, "coverage_years")
    if cov is not None:
        sec.value("coverage_years_latest", cov["coverage_years"], "years",
                  f"Revenue backlog / annualised quarterly revenue, {cov['quarter']}",
                  [cov["backlog_source"], *str(cov["revenue_source"]).split(";")], period=cov["quarter"])
    else:
        sec.value("coverage_years_latest", None, "years", "Backlog coverage: no quarter with backlog and revenue")
    cd = c["cd"]
    if cd is not None:
        for name, val, unit, label in [
            ("due_24m_share_latest", cd["share_24m"], "fraction", f"Share of {cd['measure']} due within 24 months"),
            ("due_24m_per_year_latest", cd["due_per_year"], "usd_m", f"{cd['measure']} due within 24 months, a year"),
            ("due_24m_to_run_rate_latest", cd["due_to_run_rate"], "ratio",
             f"{cd['measure']} due within 24 months a year / annualised revenue"),
            ("coverage_years_timing_quarter", cd["coverage_years"], "years", f"{cd['measure']} / annualised revenue")]:
            sec.value(name, val, unit, f"{label}, {cd['quarter']}", cd["sources"], period=cd["quarter"])
    rb = panel[panel["metric"] == "revenue_backlog"].sort_values("quarter")
    b = rb.iloc[-1]
    sec.value("backlog_latest", b["value"], "usd_m", f"Revenue backlog, end of {b['quarter']}", [b["source"]], period=b["quarter"])
    sec.value("backlog_latest_quarter", b["quarter"], "text", "Quarter of the latest revenue backlog")
    sec.value("backlog_latest_approximate", bool(b["approximate"]), "text", "The latest revenue backlog is an approximate figure")
    r = rpo.iloc[-1]
    sec.value("rpo_latest", r["value"], "usd_m", f"RPO, end of {r['quarter']}", [r["source"]], period=r["quarter"])
    sec.table("key_figures", _key_figures(c, b, r, cov), {})
    _record_delay(sec, d, c)


def _key_figures(c, b, r, cov) -> pd.DataFrame:
    kind = c["registry"].set_index("id")["source_kind"]

    def rec(src, conf, derived=False):
        return {"source": src, "source_kind": kind.get(src), "confidence": conf, "derived": derived}

    rows = [key_figure_row("Revenue backlog (quarter end)", b["quarter"], b["value"], "usd_m",
                           [rec(b["source"], b["confidence"])], b["rounding_unit"]),
            key_figure_row("RPO (quarter end)", r["quarter"], r["value"], "usd_m", [rec(r["source"], r["confidence"])],
                           r["rounding_unit"])]
    if cov is not None:
        rows.append(key_figure_row("Backlog in years of run-rate revenue", cov["quarter"], cov["coverage_years"],
                                   "years", [rec(cov["backlog_source"], cov["backlog_confidence"], True),
                                             rec(str(cov["revenue_source"]).split(";")[0], cov["revenue_confidence"],
                                                 bool(cov["revenue_derived"]))], cov["coverage_unit"]))
    cd = c["cd"]
    if cd is not None:
        rows.append(key_figure_row(f"Share of {cd['measure']} due within 24 months", cd["quarter"], cd["share_24m"],
                                   "fraction", [rec(s, cd["confidence"]) for s in cd["sources"][:1]]))
    return pd.DataFrame(rows)


def _record_delay(sec, d, c) -> None:
    rep = d["reported"]
    if rep is not None:
        sec.value("delay_days", rep["delay_days"], "days", "Reported delivery delay (latest report)", [rep["source"]],
                  period=rep["period"])
        sec.value("delay_site_mw", rep["site_mw"], "text", "Power of the delayed site (latest report), MW", [rep["source"]],
                  period=rep["period"])
    si, scen = d["si"], d["scen"]
    if scen is None:
        sec.value("delay_scenario_reason", d["reason"], "text", "Why the delay scenario is not computed")
        for name in ("delay_affected_share", "delay_revenue_shifted", "delay_interest", "delay_scenario_quarter",
                     "delay_rate_quarter", "delay_effective_rate", "delay_debt", "delay_shifted_share_first_quarter",
                     "delay_scenario_start", "delay_basis_limited_by"):
            sec.value(name, None, "text", "Delay scenario not computed (see delay_scenario_reason)")
        return
    tot, sb, first = scen.totals, si["share_basis"], scen.table.iloc[0]
    sec.value("delay_affected_share", si["affected_share"], "fraction", "Delay scenario: affected share of backlog",
              [sb["source"]] if sb else [], period=si["quarter"])
    sec.value("delay_revenue_shifted", tot["revenue_shifted"], "usd_m", "Delay scenario: revenue shifted (total)", si["sources"])
    sec.value("delay_interest", tot["interest_during_delay"], "usd_m", "Delay scenario: interest during the delay", si["sources"])
    sec.value("delay_scenario_quarter", si["quarter"], "text", "Delay scenario: quarter of every company input")
    sec.value("delay_scenario_start", d["start"], "text",
              "Delay scenario: first scenario quarter (after the last quarter with reported revenue)")
    sec.value("delay_basis_limited_by", "; ".join(x["input"] for x in si.get("limited_by") or []) or None, "text",
              "Delay scenario: inputs that hold the basis quarter back although others exist later")
    sec.value("delay_rate_quarter", si["rate_quarter"], "text", "Delay scenario: quarter of the debt and rate inputs")
    sec.value("delay_effective_rate", si["effective_rate"], "fraction", "Delay scenario: effective interest rate",
              si["rate_sources"], period=si["quarter"])
    sec.value("delay_debt", si["debt"], "usd_m", f"Delay scenario: debt ({si['debt_basis']})", [si["debt_source"]],
              period=si["quarter"])
    sec.value("delay_shifted_share_first_quarter", first["shifted_share_of_revenue"], "fraction",
              f"Delay scenario: revenue shifted out of {first['quarter']} / {si['quarter']} revenue", si["sources"])


# ---------------------------------------------------------------------------- prose and exhibits
def _summary(c) -> str:
    panel, revenue = c["panel"], c["revenue"]
    rb = panel[panel["metric"] == "revenue_backlog"].sort_values("quarter")
    rpo = panel[panel["metric"] == "rpo_total"].sort_values("quarter")
    b0, b1, r1 = rb.iloc[0], rb.iloc[-1], rpo.iloc[-1]
    rev = revenue.set_index("quarter")["revenue"]
    v0, v1 = rev.get(b0["quarter"], math.nan), rev.get(b1["quarter"], math.nan)
    return (f"CoreWeave reports two backlog measures, kept apart throughout this section: the **revenue backlog**, a "
            f"company-defined figure that adds other committed amounts to the contract balance, and **remaining "
            f"performance obligations** (RPO) under ASC 606. The revenue backlog was {fmt.usd_bn(b0['value'])} at the end "
            f"of {b0['quarter']} [{b0['source']}] and {fmt.about(b1['value'], b1['rounding_unit'], 'usd_bn')} at the end of "
            f"{b1['quarter']} [{b1['source']}]; quarterly revenue over the same quarters went from {fmt.usd_bn(v0, 2)} to "
            f"{fmt.usd_bn(v1, 2)}. RPO was {fmt.about(r1['value'], r1['rounding_unit'], 'usd_bn')} at the end of "
            f"{r1['quarter']} [{r1['source']}]. A figure its source gives only approximately is printed rounded, with "
            f"'about', and so are the figures derived from it.")


def _backlog_chart(c):
    panel, revenue, wide = c["panel"], c["revenue"], c["wide"]
    rb = panel[panel["metric"] == "revenue_backlog"].sort_values("quarter")
    rpo = panel[panel["metric"] == "rpo_total"].sort_values("quarter")
    rev = revenue.set_index("quarter")["revenue"]
    quarters = sorted(q for q in set(wide["quarter"]) | set(revenue["quarter"]) if q >= c["first_quarter"])
    x = list(range(len(quarters)))
    fig, ax = style.figure()
    ax2 = ax.twinx()
    ax2.bar(x, [rev.get(q, math.nan) / 1000 for q in quarters], color=style.GREYS[5], width=0.6,
            label="Quarterly revenue (right)", zorder=1)
    ax2.set_ylabel("Quarterly revenue, USD bn")
    ax2.spines["right"].set_visible(True)
    ax2.grid(False)
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    for sub, lab, mk, ls, col in ((rb, "Revenue backlog (company-defined)", "o", "-", style.GREYS[0]),
                                  (rpo, "RPO (ASC 606)", "s", "--", style.GREYS[1])):
        s = sub.set_index("quarter")
        # one point per quarter, NaN where the quarter has no figure: the line breaks there, never
        # bridging a missing quarter
        ax.plot(x, [s.at[q, "value"] / 1000 if q in s.index else math.nan for q in quarters], linestyle=ls, color=col,
                label=lab)
        xs = [i for i, q in enumerate(quarters) if q in s.index]
        ys = [s.at[quarters[i], "value"] / 1000 for i in xs]
        ax.scatter(xs, ys, marker=mk, s=22, zorder=3, edgecolors=col,
                   facecolors=["white" if s.at[quarters[i], "confidence"] == "low" else col for i in xs])
    ax.set_xticks(x, quarters)
    ax.set_ylabel("Backlog / RPO, USD bn")
    ax.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left")
    b0, b1 = rb.iloc[0], rb.iloc[-1]
    v0, v1 = rev.get(b0["quarter"], math.nan), rev.get(b1["quarter"], math.nan)
    und = panel[panel["undated"] & panel["metric"].isin(["revenue_backlog", "rpo_total"])]
    return exhibits.figure(
        fig, in_flow=True, title=(f"Revenue backlog grew {fmt.ratio(b1['value'] / b0['value'], 1)} from {b0['quarter']} to {b1['quarter']}; "
                    f"quarterly revenue grew {fmt.ratio(v1 / v0, 1)}"),
        source=source_line([*rb["source"], *rpo["source"], *revenue.loc[revenue["quarter"].isin(quarters), "revenue_source"]],
                           c["registry"]),
        notes=("Hollow markers: figures of low confidence; filled markers: high or medium confidence (the levels of the "
               "key-figures table: high = the filing or press release itself, medium = a transcript or a secondary "
               "document quoting a filing, low = news, aggregators, approximations or conflicting sources). Year-end balances are filed under the fiscal year and shown at Q4. A quarter without "
               "a figure is left blank and the line breaks there; an RPO figure is never used in place of a "
               "revenue-backlog figure."
               + (" Publication date not verified (so left out of every note as of a date): "
                  + ", ".join(f"{metric_label(r.metric)} {r.quarter} [{r.source}]" for r in und.itertuples()) + "."
                  if len(und) else "")))


def _rollforward_text(c) -> str:
    rf, cd = c["rf"], c["cd"]
    btb, cov = B.latest_complete(rf, "book_to_bill"), B.latest_complete(rf, "coverage_years")
    conv = rf[rf["conversion"].notna()]
    t = ("Implied gross bookings are the change in backlog plus the revenue recognised in the quarter; they net out "
         "cancellations and re-measurements, so they are an inference from two balances, not a reported figure. ")
    if btb is not None:
        t += (f"In {btb['quarter']} they were {fmt.about(btb['bookings'], btb['bookings_unit'], 'usd_bn')}, "
              f"{fmt.about(btb['book_to_bill'], btb['book_to_bill_unit'], 'ratio', 1)} that quarter's revenue (confidence "
              f"of the weakest input: {btb['confidence']}). ")
    if cov is not None:
        t += (f"Coverage can be read two ways. In years of run-rate revenue, the {cov['quarter']} revenue backlog equals "
              f"{fmt.about(cov['coverage_years'], cov['coverage_unit'], 'years')} of revenue at the {cov['quarter']} "
              f"quarterly rate. ")
    if cd is not None:
        same = cov is not None and cov["quarter"] == cd["quarter"]
        t += (f"By due date, {fmt.pct(cd['share_24m'], 0)} of the {cd['quarter']} {cd['measure']} falls due within 24 "
              f"months, {fmt.about(cd['due_per_year'], cd['balance_unit'], 'usd_bn')} a year, {fmt.ratio(cd['due_to_run_rate'], 1)} "
              f"the {cd['quarter']} annualised revenue"
              + (": the long coverage hides a front-loaded schedule. " if same and cd["due_to_run_rate"] > 1 else
                 f" ({cd['quarter']} is the latest quarter with a split by due date). " if not same else ". "))
    if len(conv) >= 2:
        c0, c1 = conv.iloc[0], conv.iloc[-1]
        t += (f"The share of the opening backlog recognised as revenue within a quarter "
              f"{'fell' if c1['conversion'] < c0['conversion'] else 'rose'} from {fmt.pct(c0['conversion'])} "
              f"({c0['quarter']}) to {fmt.pct(c1['conversion'])} ({c1['quarter']}).")
    return t


def _rf_cells(rf: pd.DataFrame, measure: str) -> pd.DataFrame:
    about = lambda col, unit, style, d=1: [fmt.about(v, u, style, d) if pd.notna(v) else fmt.NA  # noqa: E731
                                           for v, u in zip(rf[col], rf[unit], strict=True)]
    return pd.DataFrame({
        "Quarter": rf["quarter"], measure: about("backlog", "backlog_unit", "num", 0),
        f"Prior {measure.lower() if measure == 'Backlog' else measure}": about("backlog_prev", "backlog_prev_unit", "num", 0),
        "Revenue": [fmt.num(v, 1) if pd.notna(v) else fmt.NA for v in rf["revenue"]],
        "Implied bookings": about("bookings", "bookings_unit", "num", 0),
        "Book-to-bill": about("book_to_bill", "book_to_bill_unit", "ratio", 2),
        "Coverage (years)": [fmt.about(v, u, "num", 1) for v, u in zip(rf["coverage_years"], rf["coverage_unit"], strict=True)],
        "Conversion (quarter)": [fmt.pct(v) for v in rf["conversion"]]})


def _rollforward_table(c):
    rf = c["rf"]
    t = _rf_cells(rf, "Backlog")
    t["Sources: backlog / prior / revenue"] = [
        f"{tag(a, b)} / {tag(x, y)} / {tag(e, f, g)}" for a, b, x, y, e, f, g in zip(
            rf["backlog_source"], rf["backlog_confidence"], rf["backlog_prev_source"], rf["backlog_prev_confidence"],
            rf["revenue_source"], rf["revenue_confidence"], rf["revenue_derived"], strict=True)]
    t["Missing because"] = rf["reason"]
    btb, cov = B.latest_complete(rf, "book_to_bill"), B.latest_complete(rf, "coverage_years")
    title = ("Revenue-backlog roll-forward" if btb is None else
             f"Implied bookings were {fmt.about(btb['book_to_bill'], btb['book_to_bill_unit'], 'ratio', 1)} revenue in "
             f"{btb['quarter']}; the backlog covers {fmt.about(cov['coverage_years'], cov['coverage_unit'], 'years')} of "
             "current revenue")
    return exhibits.table(
        t, title=title, source=source_line([*rf["backlog_source"], *rf["revenue_source"]], c["registry"]),
        notes=("USD millions. Revenue backlog (company-defined) only. Implied bookings = backlog(t) - backlog(t-1) + "
               "revenue(t); book-to-bill = bookings / revenue; coverage = backlog / (4 x quarterly revenue); conversion = "
               "revenue(t) / backlog(t-1). 'about': the source gives the balance as approximate, so the figure and those "
               "derived from it are rounded to its precision. '*' = derived figure (e.g. Q4 = FY - 9M)."))


def _rpo_table(c):
    rf = c["rf_rpo"]
    t = _rf_cells(rf, "RPO")
    t["RPO source"] = [tag(s, k) for s, k in zip(rf["backlog_source"], rf["backlog_confidence"], strict=True)]
    t["Missing because"] = rf["reason"]
    r_btb = B.latest_complete(rf, "book_to_bill")
    last = rf.iloc[-1]
    return exhibits.table(
        t, title=(f"On the ASC 606 measure, RPO rose to {fmt.about(last['backlog'], last['backlog_unit'], 'usd_bn')} by "
                  f"{last['quarter']}" + (f"; implied RPO bookings were "
                                          f"{fmt.about(r_btb['book_to_bill'], r_btb['book_to_bill_unit'], 'ratio', 1)} "
                                          f"revenue in {r_btb['quarter']}" if r_btb is not None else "")),
        source=source_line([*rf["backlog_source"], *rf["revenue_source"]], c["registry"]),
        notes="USD millions. RPO (ASC 606) only, never combined with the revenue backlog. Same definitions as above.")


def _timing_table(c):
    timing = c["timing"]
    t = timing.assign(measure=timing["basis"].map({"revenue_backlog": "revenue backlog", "rpo": "RPO"}))
    t = t[["quarter", "measure", "window", "share", "balance", "amount", "per_year", "sources", "confidence"]]
    last = timing.sort_values("quarter").iloc[-1]
    return exhibits.table(
        t.rename(columns={"quarter": "Quarter", "measure": "Measure", "window": "Window", "share": "Share",
                          "balance": "Balance", "amount": "Amount (derived)", "per_year": "Per year (derived)",
                          "sources": "Sources", "confidence": "Confidence"}),
        title=(f"The latest disclosed timing: {fmt.pct(last['share'], 0)} of the {last['quarter']} "
               f"{'revenue backlog' if last['basis'] == 'revenue_backlog' else 'RPO'} falls in {last['window']}, "
               f"{fmt.usd_bn(last['per_year'])} a year"),
        source=source_line(list(timing["sources"]), c["registry"]),
        formats={"Share": lambda v: fmt.pct(v, 0), "Balance": lambda v: fmt.num(v, 0),
                 "Amount (derived)": lambda v: fmt.num(v, 0), "Per year (derived)": lambda v: fmt.num(v, 0)},
        notes="USD millions. Each share applies to its own measure's balance at the same date; amounts are derived here.")


def _contracts_table(c):
    led, rf = c["ledger"], c["rf"]
    bq = led.by_quarter
    has = bq[bq["explained_share"].notna()]
    bu = rf.set_index("quarter")["bookings_unit"]
    unit = bq["quarter"].map(bu).fillna(0.0)
    share_unit = [ratio_unit(x, (b, u)) for x, b, u in zip(bq["explained_share"], bq["bookings"], unit, strict=True)]
    bq = bq.assign(bookings=[fmt.about(b, u, "num", 0) for b, u in zip(bq["bookings"], unit, strict=True)],
                   explained_share=[fmt.about(x, u, "pct", 0) for x, u in zip(bq["explained_share"], share_unit,
                                                                                 strict=True)])
    # the quarter the note's date falls in is shown as such: its contracts so far, not the quarter's
    cutoff = as_of_date(c["sec"].as_of)
    bq = bq.assign(quarter=[f"{q} (to date)" if cutoff is not None and pd.Timestamp(period_bounds(q)[1]) > cutoff
                            else q for q in bq["quarter"]])
    t = bq.rename(columns={"quarter": "Quarter", "bookings": "Implied bookings", "bookings_confidence": "Confidence",
                           "announced_usd_m": "Announced contracts (up to)", "n_contracts": "Count",
                           "counterparties": "Contracts [source]", "explained_share": "Announced / implied"})
    und = "; ".join(f"{r.counterparty} {fmt.usd_bn(r.value_usd_m)} [{r.source}]" for r in led.undated.itertuples())
    notes = ("USD millions. Contracts are placed in the quarter they were announced, which can follow the quarter they "
             "were signed; values are 'up to' amounts. Acquisitions are not bookings and are left out. Implied bookings "
             "on the revenue-backlog measure." + (f" Not placed in any quarter (no announced date): {und}." if und else ""))
    if len(has):
        hi, lo = has.loc[has["explained_share"].idxmax()], has.loc[has["explained_share"].idxmin()]
        txt = {q: t.set_index("Quarter").at[q, "Announced / implied"] for q in (hi["quarter"], lo["quarter"])}
        title = (f"Announced 'up to' contract values range from {txt[lo['quarter']]} of implied bookings "
                 f"({lo['quarter']}) to {txt[hi['quarter']]} ({hi['quarter']}): announcements and bookings "
                 f"often fall in different quarters" if hi["explained_share"] > 1 or lo["explained_share"] == 0 else
                 (f"Announced contracts explain {txt[lo['quarter']]} to {txt[hi['quarter']]} of implied bookings per quarter"
                  if len(has) > 1 else
                  f"Announced contracts explain {txt[hi['quarter']]} of implied bookings in {hi['quarter']}"))
    else:
        title = "Announced contracts by quarter (no quarter has both contracts and implied bookings)"
    return exhibits.table(t, title=title, source=source_line([*led.sources, *rf["backlog_source"]], c["registry"]),
                          formats={"Announced contracts (up to)": lambda v: fmt.num(v, 0)}, notes=notes)


def _guidance_text(c) -> str:
    guid = c["guid"]
    cuts, done = guid[guid["revision_kind"] == "cut"], guid[guid["outcome"] != ""]
    t = ""
    if len(cuts):
        x = cuts.iloc[-1]
        prev = guid[(guid["period"] == x["period"]) & (guid["published"] < x["published"])].iloc[-1]
        t += (f"On {fmt.date(x['published'])} CoreWeave cut its {x['period']} revenue guidance to "
              f"{fmt.usd_bn(x['low'], 2)}-{fmt.usd_bn(x['high'], 2)} from {fmt.usd_bn(prev['low'], 2)}-"
              f"{fmt.usd_bn(prev['high'], 2)} (given {fmt.date(prev['published'])}) [{x['source']}; {prev['source']}], a "
              f"cut of {fmt.usd_m(-x['revision'], 0)} at the midpoint. ")
        if pd.notna(x["actual"]):
            t += (f"The outcome, {fmt.usd_bn(x['actual'], 2)} [{x['actual_source']}], was {x['outcome']} the cut range "
                  f"and {fmt.pct(x['surprise_vs_mid'], 1, sign=True)} against its midpoint. ")
    if len(done):
        n_ok = int((done["outcome"] != "below").sum())
        t += (f"Of {len(done)} guidance range{'s' if len(done) != 1 else ''} with a reported outcome, {n_ok} "
              f"{'was' if n_ok == 1 else 'were'} met or beaten and {len(done) - n_ok} missed.")
    return t or "No revenue guidance is in the data at this note's date."


def _guidance_chart(c):
    guid = c["guid"]
    fy, qq = guid[guid["period"].str.startswith("FY")], guid[~guid["period"].str.startswith("FY")]
    fy_periods = list(dict.fromkeys(fy["period"]))
    widths = [max(1, (fy["period"] == p).sum()) for p in fy_periods] + ([max(2, qq["period"].nunique())] if len(qq) else [])
    fig, axes = style.figure(1, len(widths), gridspec_kw={"width_ratios": widths}, squeeze=False)
    axes = list(axes[0])
    for ax, p in zip(axes, fy_periods, strict=False):
        gp = fy[fy["period"] == p]
        for j, r in enumerate(gp.itertuples()):
            ax.vlines(j, r.low / 1000, r.high / 1000, color=style.GREYS[1], linewidth=9)
        act = gp["actual"].dropna()
        if len(act):
            ax.axhline(act.iloc[0] / 1000, color=style.ACCENT, linestyle="--", linewidth=1.2, label="Outcome")
        ax.set_xticks(range(len(gp)), [pd.Timestamp(d).strftime("%b\n%Y") for d in gp["published"]], fontsize=7)
        ax.set_xlim(-0.6, len(gp) - 0.4)
        ax.set_title(f"{p}, given on", fontsize=8)
        ax.margins(y=0.25)
        ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%.2f"))
    axes[0].set_ylabel("Revenue, USD bn")
    if len(qq):
        ax = axes[-1]
        periods = list(dict.fromkeys(qq["period"]))
        for i, p in enumerate(periods):
            gp = qq[qq["period"] == p]
            for r in gp.itertuples():
                ax.vlines(i, r.low / 1000, r.high / 1000, color=style.GREYS[1], linewidth=9)
            act = gp["actual"].dropna()
            if len(act):
                ax.hlines(act.iloc[0] / 1000, i - 0.4, i + 0.4, color=style.ACCENT, linestyle="--", linewidth=1.2,
                          label="Outcome" if not ax.get_legend_handles_labels()[0] else None)
        ax.set_xticks(range(len(periods)), [p.replace("Q", "\nQ") for p in periods], fontsize=7)
        ax.set_xlim(-0.6, len(periods) - 0.4)
        ax.set_title("Quarters (guidance given one quarter ahead)", fontsize=8)
        ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%.1f"))
        ax.margins(y=0.15)
    hl = axes[-1].get_legend_handles_labels()
    axes[-1].legend(*(hl if hl[0] else axes[0].get_legend_handles_labels()), loc="upper left")
    cuts, done = guid[guid["revision_kind"] == "cut"], guid[guid["outcome"] != ""]
    if len(cuts) and pd.notna(cuts.iloc[-1]["actual"]):
        x = cuts.iloc[-1]
        title = (f"{x['period']} revenue guidance was cut on {fmt.date(x['published'])}; the outcome "
                 f"({fmt.usd_bn(x['actual'], 2)}) landed {x['outcome']} the cut range")
    elif len(cuts):
        x = cuts.iloc[-1]
        title = (f"{x['period']} revenue guidance was cut on {fmt.date(x['published'])} to {fmt.usd_bn(x['low'], 2)}-"
                 f"{fmt.usd_bn(x['high'], 2)}; the outcome is not yet reported")
    elif len(done):
        title = (f"{int((done['outcome'] != 'below').sum())} of {len(done)} revenue guidance range"
                 f"{'s' if len(done) != 1 else ''} with an outcome {'was' if len(done) == 1 else 'were'} met or beaten")
    else:
        title = "Revenue guidance ranges by publication date (no outcome reported yet)"
    low = guid[guid["confidence"] == "low"]
    low_txt = (" Low-confidence ranges (secondary or news reports of the calls): "
               + ", ".join(f"{r.period} given {fmt.date(r.published)} [{r.source}]" for r in low.itertuples()) + "."
               if len(low) else "")
    return exhibits.figure(fig, title=title, source=source_line([*guid["source"], *guid["actual_source"].dropna()], c["registry"]),
                           notes=("Bars: guidance ranges (low-high); fiscal-year panels by the month the range was given; "
                                  "dashed line: reported outcome." + low_txt))


def _guidance_table(c):
    guid = c["guid"]
    t = guid.assign(src=[tag(s, k) for s, k in zip(guid["source"], guid["confidence"], strict=True)],
                    act_src=[tag(s, k, d) for s, k, d in zip(guid["actual_source"], guid["actual_confidence"],
                                                             guid["actual_derived"].fillna(False), strict=True)])
    t = t[["period", "published", "low", "high", "revision", "revision_kind", "src", "actual", "outcome", "act_src"]]
    return exhibits.table(
        t.rename(columns={"period": "Period", "published": "Given on", "low": "Low", "high": "High",
                          "revision": "Change in midpoint", "revision_kind": "Revision", "src": "Source",
                          "actual": "Outcome", "outcome": "Outcome vs range", "act_src": "Outcome source"}),
        title=_guidance_title(guid),
        source=source_line([*guid["source"], *guid["actual_source"].dropna()], c["registry"]),
        formats={"Low": lambda v: fmt.num(v, 0), "High": lambda v: fmt.num(v, 0),
                 "Change in midpoint": lambda v: fmt.num(v, 0), "Outcome": fmt.num},
        notes="USD millions. One row per guidance date; a guidance figure is shown only from the day it was given.")


def _guidance_title(guid) -> str:
    """'11 revenue guidance ranges for 7 periods, 1 of them a cut' (none / n of them cuts)."""
    n, cuts = len(guid), int((guid["revision_kind"] == "cut").sum())
    tail = ("none of them a cut" if cuts == 0 else f"{'it' if n == 1 else '1 of them'} a cut" if cuts == 1
            else f"{cuts} of them cuts")
    return (f"{n} revenue guidance range{'s' if n != 1 else ''} for {guid['period'].nunique()} "
            f"period{'s' if guid['period'].nunique() != 1 else ''}, {tail}")


def _verdict_notes(c) -> str:
    guid, rf, scen = c["guid"], c["rf"], c["delay"]["scen"]
    out = ""
    cuts = guid[guid["revision_kind"] == "cut"]
    if len(cuts):
        x = cuts.iloc[-1]
        qc = B.shift_quarter(B.quarter_label(x["published"]), -1)
        rc = rf.set_index("quarter").loc[qc] if qc in set(rf["quarter"]) else None
        out += f"The {fmt.date(x['published'])} cut to {x['period']} revenue guidance came with the {qc} results"
        if rc is not None and pd.notna(rc["book_to_bill"]):
            out += (f", in which the revenue backlog rose to {fmt.about(rc['backlog'], rc['backlog_unit'], 'usd_bn')} and "
                    f"implied bookings were {fmt.about(rc['book_to_bill'], rc['book_to_bill_unit'], 'ratio', 1)} revenue: "
                    + ("the shortfall was in turning contracts into revenue, not in signing them" if rc["book_to_bill"] > 1
                       else "bookings had also fallen below revenue"))
        out += f"; the year ended {x['outcome']} the reduced range. " if x["outcome"] else ". "
    if scen is not None:
        si, tot, first = c["delay"]["si"], scen.totals, scen.table.iloc[0]
        if pd.notna(first["shifted_share_of_revenue"]):
            size = ("a small part" if first["shifted_share_of_revenue"] < B.SHIFT_SMALL else
                    "a material part" if first["shifted_share_of_revenue"] < B.SHIFT_MATERIAL else "a large part")
            lrq, lrr = si["last_reported_quarter"], si["last_reported_revenue"]
            out += (f"In the delay scenario the revenue moved out of {first['quarter']}, the first quarter after the last "
                    f"reported one, is {size} ({fmt.pct(first['shifted_share_of_revenue'])}) of the revenue reported for "
                    f"{si['quarter']}, the quarter it is sized on"
                    + (f" ({fmt.pct(first['revenue_shifted'] / lrr)} of the {fmt.usd_m(lrr)} reported for {lrq}, the "
                       "latest quarter)" if lrq != si["quarter"] and lrr > 0 else "") + "; ")
        if tot["revenue_shifted"] > 0:
            out += (f"the revenue comes back at the end of the term, but the interest does not: it equals "
                    f"{fmt.pct(tot['interest_during_delay'] / tot['revenue_shifted'])} of the deferred revenue, a cost that "
                    "grows with every further day of delay.")
    return out.strip()

