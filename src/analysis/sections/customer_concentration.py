"""Section 03: who the revenue and the backlog come from, and what losing one counterparty costs.

Items: `summary`, `shares_chart`, `hhi_table`, `hhi_text`, `events_text`, `backlog_table`,
`backlog_text`, `scenario_inputs`, `scenario_table`, `scenario_text`,
`verdict:customer_concentration`.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.patches import Patch

from .. import concentration as C
from ..backlog import backlog_panel, guidance_history, measure_series
from ..data import load_contracts, load_customers, load_events, load_fundamentals, load_sources
from ..fundamentals import quarterly_panel
from ..report import exhibits, fmt, style
from ..unit_economics import key_figure_row, ratio_table
from .base import Section
from .common import source_line, value_text

NOTEBOOK = "03_customer_concentration"


def build(as_of="latest", scenario_customer=None, scenario_share_lost=1.0, scenario_mode="loss",
          contribution_margin=1.0, scenario_quarter=None, customer_tickers=None) -> Section:
    """Customer concentration as of `as_of`. Scenario parameters are ASSUMPTIONS (see the notebook);
    `scenario_customer` None = the largest named backlog counterparty of the latest quarter by
    announced contract value, the measure the verdict names (`concentration.scenario_counterparty`);
    `customer_tickers` maps a customer to the event origin that stands for it ({'Microsoft': 'MSFT'})."""
    customer_tickers = dict(customer_tickers or {"Microsoft": "MSFT"})
    sec = Section(NOTEBOOK, {"as_of": as_of, "scenario_customer": scenario_customer,
                             "scenario_share_lost": scenario_share_lost, "scenario_mode": scenario_mode,
                             "contribution_margin": contribution_margin, "scenario_quarter": scenario_quarter,
                             "customer_tickers": customer_tickers})
    registry, customers = load_sources(), load_customers(as_of=as_of)
    contracts, fund = load_contracts(as_of=as_of), load_fundamentals(as_of=as_of)
    qpanel = quarterly_panel(fund)
    ratios = ratio_table(qpanel)
    bpanel = backlog_panel(fund)
    c = {"sec": sec, "registry": registry, "share_lost": scenario_share_lost,
         "mode": scenario_mode, "cm": contribution_margin, "qpanel": qpanel}
    c["shares"] = shares = C.revenue_shares(customers, registry)
    c["hhi"] = hhi = C.hhi_table(customers, registry)
    c["latest"] = C.latest_top_share(hhi)
    c["bshares"] = C.backlog_shares(contracts, measure_series(bpanel, "revenue_backlog"))
    c["statements"] = statements = C.backlog_statements(customers)
    c["btop"] = C.backlog_top(c["bshares"], statements)
    c["pick"] = C.scenario_counterparty(c["btop"], scenario_customer)
    c["share_unit"] = float(c["btop"]["top_share_unit"].iloc[-1]) if len(c["btop"]) else 0.0
    c["customer"] = scenario_customer = c["pick"]["customer"]
    c["undated"] = C.undated_contracts(contracts)
    c["events"] = C.shares_at_events(load_events(as_of=as_of), shares, customer_tickers)
    guid = guidance_history(fund, "revenue")
    kw = {"fund": fund, "revenue_shares": shares, "guidance": guid}
    rb = measure_series(bpanel, "revenue_backlog").set_index("quarter")
    c["scen"] = scen = C.run_scenario(contracts, bpanel, qpanel, ratios, scenario_customer, scenario_share_lost,
                                      scenario_mode, contribution_margin, statements, scenario_quarter, **kw)
    c["backlog_unit"] = float(rb["rounding_unit"].get(scen.inputs.get("quarter"), 0.0)) if not scen.reason else 0.0
    c["gm"] = gm = C.gross_margin(qpanel, scen.inputs["coverage_quarter"]) if not scen.reason else None
    c["scen_gm"] = (C.run_scenario(contracts, bpanel, qpanel, ratios, scenario_customer, scenario_share_lost, scenario_mode,
                                   gm["value"], statements, scenario_quarter, **kw)
                    if gm is not None and pd.notna(gm["value"]) else None)
    sec.data.update({k: c[k] for k in ("shares", "hhi", "bshares", "btop", "events", "scen")})
    _record(c)
    sec.verdict(C.concentration_verdict(hhi, shares, c["btop"]))
    sec.text("summary", _summary(c))
    sec.exhibit("shares_chart", _shares_chart(c))
    sec.exhibit("hhi_table", _hhi_table(c))
    sec.text("hhi_text", _hhi_text(c))
    sec.text("events_text", _events_text(c))
    _backlog_items(c)
    _scenario_items(c)
    return sec


# ---------------------------------------------------------------------------- results
def _record(c) -> None:
    sec, shares, hhi, latest, bshares, btop, scen = (c[k] for k in ("sec", "shares", "hhi", "latest", "bshares", "btop",
                                                                      "scen"))
    sec.table("revenue_shares", shares[["period", "basis", "period_end", "customer", "rank", "share", "derived", "reason",
                                        "source", "confidence", "undated"]], {"share": "fraction", "period_end": "date"})
    sec.table("hhi_bounds", hhi[["period", "basis", "period_end", "n_disclosed", "disclosed_share", "remainder_share",
                                 "cap_share", "top1_share", "top2_share", "hhi_lower", "hhi_upper", "hhi_upper_unrestricted",
                                 "effective_n_max", "effective_n_min", "reading", "reason", "notes", "source", "undated"]],
              {"period_end": "date", "n_disclosed": "count", "disclosed_share": "fraction", "remainder_share": "fraction",
               "cap_share": "fraction", "top1_share": "fraction", "top2_share": "fraction", "hhi_lower": "index",
               "hhi_upper": "index", "hhi_upper_unrestricted": "index", "effective_n_max": "count",
               "effective_n_min": "count"})
    sec.table("backlog_shares", bshares, {"quarter_end": "date", "contracts_usd_m": "usd_m", "n_contracts": "count",
                                          "last_announced": "date", "revenue_backlog": "usd_m", "share": "fraction",
                                          "rank": "count", "backlog_unit": "usd_m", "share_unit": "fraction"})
    sec.table("backlog_top", btop, {"revenue_backlog": "usd_m", "backlog_unit": "usd_m", "top_share": "fraction",
                                    "top_share_unit": "fraction", "named_share_unit": "fraction", "named_share": "fraction",
                                    "company_largest_share": "fraction"})
    sec.table("backlog_statements", c["statements"], {"share": "fraction", "published": "date"})
    sec.table("undated_contracts", c["undated"][["counterparty", "kind", "value_usd_m", "source"]], {"value_usd_m": "usd_m"})
    sec.table("shares_at_events", c["events"], {"share": "fraction", "day0": "date", "published": "date"})
    src = latest["source"].split(";")
    sec.value("top_customer_share_latest", latest["top1_share"], "fraction",
              f"Largest customer's share of revenue, {latest['period']}", src, period=latest["period"])
    sec.value("top_customer_period_latest", latest["period"], "text", "Period of the latest revenue-share disclosure")
    top = shares[shares["period"] == latest["period"]].sort_values("share", ascending=False)["customer"].iloc[0]
    if not C._is_label(top):  # a name ('Microsoft'), not a period-specific label ('Customer A')
        sec.value("top_customer_latest", top, "text", f"Largest customer, {latest['period']}", src)
    sec.value("hhi_lower_latest", latest["hhi_lower"], "index", f"HHI lower bound, {latest['period']}", src,
              period=latest["period"])
    sec.value("hhi_upper_latest", latest["hhi_upper"], "index", f"HHI upper bound, {latest['period']}", src,
              period=latest["period"])
    sec.value("periods_highly_concentrated_lower", int((hhi["hhi_lower"] > C.HHI_HIGH).sum()), "count",
              f"Disclosed periods whose HHI lower bound exceeds {fmt.num(C.HHI_HIGH, 0)}")
    sec.value("periods_disclosed", len(hhi), "count", "Periods with a revenue-share disclosure")
    if len(btop):
        lb = btop.iloc[-1]
        bsrc = bshares[bshares["quarter"] == lb["quarter"]]
        sec.value("backlog_top_share_latest", lb["top_share"], "fraction",
                  f"Largest counterparty's announced contracts / revenue backlog, {lb['quarter']} ({lb['top_counterparty']})",
                  [s for x in [*bsrc["contract_source"], *bsrc["backlog_source"]] for s in x.split(";")], period=lb["quarter"])
        sec.value("backlog_top_counterparty_latest", lb["top_counterparty"], "text",
                  f"Largest named backlog counterparty, {lb['quarter']}")
    kind = c["registry"].set_index("id")["source_kind"]
    sec.table("key_figures", pd.DataFrame([key_figure_row(
        "Largest customer's share of revenue", latest["period"], latest["top1_share"], "fraction",
        [{"source": s, "source_kind": kind.get(s), "confidence": c["registry"].set_index("id")["default_confidence"].get(s),
          "derived": False} for s in src])]), {})
    sec.table("scenario", scen.table)
    if scen.reason:
        sec.value("scenario_reason", scen.reason, "text", "Why the scenario could not be computed")
        return
    x = scen.table.set_index("key").iloc[:, 2]
    ss, si = scen.inputs["sources"].split(";"), scen.inputs
    sec.table("scenario_inputs", si["table"].assign(value=si["table"]["value"].astype(object)), {})
    sec.value("scenario_quarter", si["quarter"], "text", "Scenario quarter")
    sec.value("scenario_ntm_revenue_at_risk", x["ntm_revenue_at_risk"], "usd_m",
              f"Next-12-month revenue at risk, {c['customer']} {c['mode']} of {c['share_lost']:g}", ss, period=si["quarter"])
    sec.value("scenario_backlog_after", x["backlog_after"], "usd_m", "Revenue backlog after the scenario", ss,
              period=si["quarter"])
    sec.value("scenario_revenue_at_risk_to_interest", x["revenue_at_risk_to_interest"], "ratio",
              "Revenue at risk / annualised interest", ss, period=si["coverage_quarter"])
    sec.value("scenario_interest_coverage_after", x["interest_coverage_after"], "ratio",
              f"Interest coverage after the scenario (contribution margin {c['cm']:g})", ss, period=si["coverage_quarter"])
    sec.value("scenario_ntm_revenue", si["ntm"].get("value"), "usd_m", "Next-12-month revenue implied by guidance",
              si["ntm"].get("sources") or [], period=si["quarter"])
    rec = si["recognised"]
    if rec is not None:
        sec.value("scenario_recognised_high", rec["high"], "usd_m",
                  f"Revenue recognised from {c['customer']} to {si['quarter']}, upper bound", rec["sources"])


# ---------------------------------------------------------------------------- prose and exhibits
def _src(c, ids) -> str:
    return source_line(ids, c["registry"])


def _summary(c) -> str:
    hhi, latest = c["hhi"], c["latest"]
    ann, qtr = hhi[hhi["basis"] == "annual"], hhi[hhi["basis"] == "quarterly"]
    lo, hi = hhi.loc[hhi["top1_share"].idxmin()], hhi.loc[hhi["top1_share"].idxmax()]
    t = (f"CoreWeave names only customers that pay at least {fmt.num(C.THRESHOLD_PCT, 0)}% of revenue, so its "
         f"concentration is known only from those few. Across the {len(hhi)} periods with a disclosure ({len(ann)} years "
         f"and {len(qtr)} quarters, never mixed), the largest customer's share ranged from {fmt.pct(lo['top1_share'], 0)} "
         f"({lo['period']}) to {fmt.pct(hi['top1_share'], 0)} ({hi['period']}); in the latest period, {latest['period']}, "
         f"it was {fmt.pct(latest['top1_share'], 0)}.")
    if len(ann):
        a0, a1 = ann.iloc[0], ann.iloc[-1]
        t += (f" In the annual figures the largest customer went from {fmt.pct(a0['top1_share'], 0)} of revenue in "
              f"{a0['period']} to {fmt.pct(a1['top1_share'], 0)} in {a1['period']}.")
    return t


def _shares_chart(c):
    shares, hhi, latest = c["shares"], c["hhi"], c["latest"]
    panels = [(b, shares[shares["basis"] == b]) for b in ("annual", "quarterly")]
    panels = [(b, s) for b, s in panels if len(s)]
    fig, axes = style.figure(1, len(panels), figsize=(7.0, 3.4), sharey=True, squeeze=False,
                             gridspec_kw={"width_ratios": [max(s["period"].nunique(), 1) for _, s in panels]})
    names, fill, hatch = ["Largest disclosed", "Second", "Third"], [style.GREYS[0], style.GREYS[1], "white"], ["", "", "..."]
    for ax, (basis, s) in zip(axes[0], panels, strict=True):
        periods = list(dict.fromkeys(s.sort_values("period_end")["period"]))
        for i, p in enumerate(periods):
            g = s[s["period"] == p].sort_values("share", ascending=False).head(3)
            for j, r in enumerate(g.itertuples()):
                x = i + (j - 1) * 0.26
                ax.bar(x, r.share * 100, width=0.26, color="white" if r.derived else fill[j], edgecolor=style.INK,
                       linewidth=0.6, hatch="///" if r.derived else hatch[j])
                ax.text(x, r.share * 100 + 1, f"{r.share * 100:.0f}", ha="center", va="bottom", fontsize=6.5)
        q = basis == "quarterly"
        ax.set_xticks(range(len(periods)), periods, rotation=30 if q else 0, ha="right" if q else "center")
        ax.set_title("Quarters" if q else "Fiscal years")
        ax.set_ylim(0, 100)
    axes[0][0].set_ylabel("Share of revenue, %")
    handles = [Patch(facecolor=f, edgecolor=style.INK, hatch=h, linewidth=0.6, label=n)
               for f, h, n in zip(fill, hatch, names, strict=True)]
    if shares["derived"].any():
        handles.append(Patch(facecolor="white", edgecolor=style.INK, hatch="///", linewidth=0.6,
                             label="Derived from an aggregate"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), bbox_to_anchor=(0.5, 0.0))
    lo, hi = hhi["top1_share"].min(), hhi["top1_share"].max()
    return exhibits.figure(
        fig, title=(f"One customer paid between {fmt.pct(lo, 0)} and {fmt.pct(hi, 0)} of revenue in every disclosed period; "
                    f"{latest['period']}: {fmt.pct(latest['top1_share'], 0)}"),
        source=_src(c, shares["source"]),
        notes=("Disclosed customers by size within each period (labels such as 'Customer A' are period-specific; years "
               "and quarters are shown apart). White hatched bars are derived from an aggregate ('top two customers') "
               "minus the disclosed customers."
               + (" Some bars rest on rows whose publication date is not verified (full build only)."
                  if shares["undated"].any() else "")))


def _hhi_table(c):
    hhi = c["hhi"]
    n_high = int((hhi["hhi_lower"] > C.HHI_HIGH).sum())
    h = lambda v: fmt.num(v, 0)  # noqa: E731
    p0 = lambda v: fmt.pct(v, 0)  # noqa: E731
    t = hhi.assign(eff=[f"{fmt.num(a, 1)} to {fmt.num(b, 1)}" for a, b in zip(hhi["effective_n_min"],
                                                                              hhi["effective_n_max"], strict=True)],
                   flag=["date not verified" if u else "" for u in hhi["undated"]])[
        ["period", "basis", "disclosed_share", "top1_share", "top2_share", "hhi_lower", "hhi_upper",
         "hhi_upper_unrestricted", "eff", "reading", "source", "flag"]]
    return exhibits.table(
        t.rename(columns={"period": "Period", "basis": "Basis", "disclosed_share": "Disclosed", "top1_share": "Top 1",
                          "top2_share": "Top 2", "hhi_lower": "HHI lower", "hhi_upper": "HHI upper",
                          "hhi_upper_unrestricted": "HHI upper, no completeness", "eff": "Effective customers",
                          "reading": f"Reading ({C.GUIDELINES})", "source": "Source", "flag": "Flag"}),
        title=(f"Even the lower bound of the HHI is above {fmt.num(C.HHI_HIGH, 0)} ('highly concentrated') in {n_high} of "
               f"{len(hhi)} disclosed periods"),
        source=_src(c, hhi["source"]),
        formats={"Disclosed": p0, "Top 1": p0, "Top 2": p0, "HHI lower": h, "HHI upper": h, "HHI upper, no completeness": h},
        notes=("HHI on the 0-10,000 scale. Lower bound: the undisclosed remainder spread over many small customers (adds "
               "almost nothing). Upper bound: the remainder packed into customers just under the "
               f"{fmt.num(C.THRESHOLD_PCT, 0)}% disclosure threshold (never above the smallest disclosed customer); it "
               "assumes every customer at or above the threshold is disclosed. 'No completeness' drops that assumption "
               "and caps the remainder only by what the rows themselves imply. Effective customers = 10,000 / HHI for the "
               f"two bounds. Reading: {C.GUIDELINES}, above {fmt.num(C.HHI_HIGH, 0)} highly, {fmt.num(C.HHI_MODERATE, 0)}-"
               f"{fmt.num(C.HHI_HIGH, 0)} moderately concentrated. Top 2 is n/a where only one customer was disclosed."))


def _hhi_text(c) -> str:
    hhi, latest, shares = c["hhi"], c["latest"], c["shares"]
    n_high = int((hhi["hhi_lower"] > C.HHI_HIGH).sum())
    lat = hhi.set_index("period").loc[latest["period"]]
    gap = hhi[hhi["hhi_upper_unrestricted"] > hhi["hhi_upper"] + 0.5]
    t = (f"In {latest['period']} the HHI lies between {fmt.num(lat['hhi_lower'], 0)} and {fmt.num(lat['hhi_upper'], 0)}: "
         f"the revenue behaves as if it came from {fmt.num(lat['effective_n_min'], 1)} to {fmt.num(lat['effective_n_max'], 1)} "
         "equal customers. The lower bound needs no assumption about the customers left undisclosed, because any split of "
         "the remainder only adds to it; ")
    if n_high == len(hhi):
        t += "it alone places every disclosed period in the 'highly concentrated' band."
    else:
        low = hhi[hhi["hhi_lower"] <= C.HHI_HIGH]
        upper = low[low["hhi_upper"] > C.HHI_HIGH]
        never = low[low["hhi_upper"] <= C.HHI_HIGH]
        parts = ([f"{_and(list(upper['period']))} {'reaches' if len(upper) == 1 else 'reach'} it only on the upper "
                  "bound"] if len(upper) else []) + (
                 [f"{_and(list(never['period']))} {'does' if len(never) == 1 else 'do'} not reach it even on the upper "
                  f"bound ({', '.join(fmt.num(v, 0) for v in never['hhi_upper'])})"] if len(never) else [])
        t += f"it alone places {n_high} of {len(hhi)} periods in the 'highly concentrated' band; " + "; ".join(parts) + "."
    if len(gap):
        g = gap.loc[gap["hhi_upper_unrestricted"].idxmax()]
        t += (f" In {len(gap)} of {len(hhi)} periods ({', '.join(gap['period'])}) the upper bound rests on the filing "
              "listing every customer at or above the threshold, which the rows collected here cannot confirm; without that "
              f"assumption the upper bound rises, at most to {fmt.num(g['hhi_upper_unrestricted'], 0)} ({g['period']}). None "
              "of this moves the lower bound.")
    for r in shares[shares["derived"]].itertuples():
        t += f" The {r.period} second customer ({fmt.pct(r.share, 0)}) is derived: {r.reason}."
    return t


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _cite(c, source, published) -> str:
    """'VN, dated 2026-05-08; the figure public 2025-03-03' when the document is later than the
    figure it quotes (its own date from the source registry), else '10Q_25Q1, public 2025-05-14'."""
    dated = c["registry"].set_index("id")["date"].get(source)
    if dated is not None and pd.notna(dated) and pd.notna(published) and pd.Timestamp(dated) != pd.Timestamp(published):
        return f"{source}, a document dated {fmt.date(dated)}; the figure public {fmt.date(published)}"
    return f"{source}, public {fmt.date(published)}"


def _events_text(c) -> str:
    ev = c["events"]
    if ev.empty:
        return ""
    cust = ev["customer"].iloc[0]
    days = ev.drop_duplicates("event_id")
    evs = ", ".join(f"{r.event_id} ({fmt.date(r.day0)})" for r in days.itertuples())
    parts = []
    for r in ev.drop_duplicates(["period", "share", "source"]).itertuples():
        who = cust if r.who == "named" else f"the largest customer ({r.label})"
        late = [e for e in ev.loc[(ev["period"] == r.period) & ~ev["public_at_event"], "event_id"]]
        parts.append(f"{who} paid {fmt.pct(r.share, 0)} of {r.period} revenue [{_cite(c, r.source, r.published)}"
                     + (f", after {', '.join(dict.fromkeys(late))}" if late else "") + "]")
    n = len(days)
    most = bool((ev["share"] > 0.5).all())
    count = {1: "One event", 2: "Two events", 3: "Three events", 4: "Four events"}.get(n, f"{n} events")
    return (f"{count} of the event study (the overview's events table) "
            f"{'originates' if n == 1 else 'originate'} with {cust}, not with CoreWeave: {evs}. At the time, "
            + "; ".join(parts) + ". "
            + (f"News about {cust}'s data-centre demand was therefore news about most of CoreWeave's revenue, which is "
               "how the sector-contagion section should read those days." if most else ""))


def _share(row, which: str) -> str:
    """A backlog share of `backlog_top` ('top' or 'named') in whole percent, 'about' when the backlog
    it divides by is approximate."""
    return fmt.about(row[f"{which}_share"], row[f"{which}_share_unit"], "pct", 0)


def _backlog_items(c) -> None:
    sec, bshares, btop, statements, undated = (c[k] for k in ("sec", "bshares", "btop", "statements", "undated"))
    if bshares.empty:
        sec.text("backlog_table", "No named contract is dated on or before a quarter with a revenue-backlog figure by the note's date.")
        sec.text("backlog_text", "")
        return
    # a share of an approximate backlog is printed to the precision it carries ('about 34%'), the
    # backlog itself as 'about 104,000': the 'about' rule of the whole note
    cells = bshares.assign(text=[fmt.about(v, u, "pct", 1) for v, u in zip(bshares["share"], bshares["share_unit"],
                                                                             strict=True)])
    piv = cells.pivot(index="quarter", columns="counterparty", values="text")
    order = list(bshares.groupby("counterparty")["contracts_usd_m"].max().sort_values(ascending=False).index)
    piv = piv[order].fillna(fmt.NA).reset_index()
    bt = btop.set_index("quarter")
    piv["Named total"] = [fmt.about(bt.at[q, "named_share"], bt.at[q, "named_share_unit"], "pct", 1) for q in piv["quarter"]]
    piv["Backlog, USD m"] = [fmt.about(bt.at[q, "revenue_backlog"], bt.at[q, "backlog_unit"], "num", 0)
                             for q in piv["quarter"]]
    piv["Company: largest customer"] = [
        (("at most " if b == "upper" else "about ") + fmt.pct(s, 0)) if isinstance(b, str) else ""
        for s, b in zip(piv["quarter"].map(bt["company_largest_share"]), piv["quarter"].map(bt["company_bound"]),
                        strict=True)]
    lq = btop.iloc[-1]
    und = ", ".join(f"{r.counterparty} {fmt.usd_bn(r.value_usd_m)} [{r.source}]" for r in undated.itertuples())
    sec.exhibit("backlog_table", exhibits.table(
        piv.rename(columns={"quarter": "Quarter"}),
        title=(f"{lq['top_counterparty']}'s announced contracts equal {_share(lq, 'top')} of the {lq['quarter']} "
               f"revenue backlog; the named counterparties together {_share(lq, 'named')}"),
        source=_src(c, [*bshares["contract_source"], *bshares["backlog_source"], *btop["company_source"].dropna()]),
        notes=("Share = counterparty's customer contracts and capacity agreements announced on or before the quarter end "
               "('up to' amounts, cumulative, part possibly already recognised as revenue) / that quarter's revenue backlog "
               "(RPO plus other committed amounts). A contract signed in one quarter but announced after its end counts "
               "from the next quarter. " + (f"Not placed in any quarter (no announcement date): {und}. " if und else "")
               + "Company column: management's own statement for that quarter. 'about': the backlog is given "
               "approximately, and so is a share of it.")))
    first, last = btop.iloc[0], btop.iloc[-1]
    t = (f"Measured by announced contract values, the largest counterparty's share of the revenue backlog went from "
         f"{_share(first, 'top')} ({first['top_counterparty']}, {first['quarter']}) to "
         f"{_share(last, 'top')} ({last['top_counterparty']}, {last['quarter']}).")
    for r in btop[btop["company_largest_share"].notna()].itertuples():
        above = r.company_bound == "upper" and r.top_share > r.company_largest_share
        t += (f" For {r.quarter} the company said its largest customer was "
              f"{'at most' if r.company_bound == 'upper' else 'about'} {fmt.pct(r.company_largest_share, 0)} of the backlog "
              f"[{r.company_source}]; the contract arithmetic gives {_share(r._asdict(), 'top')} for {r.top_counterparty}"
              + (", above the company's ceiling: the 'up to' values and revenue already recognised overstate what remains."
                 if above else "."))
    for r in statements[~statements["subject"].str.lower().str.startswith("largest customer")].itertuples():
        t += (f" In {r.period} management also said {r.subject} were "
              f"{'more than' if r.bound == 'lower' else ('less than' if r.bound == 'upper' else 'about')} "
              f"{fmt.pct(r.share, 0)} of the backlog [{r.source}].")
    sec.text("backlog_text", t)


def _scenario_items(c) -> None:
    sec, scen = c["sec"], c["scen"]
    if scen.reason:
        sec.text("scenario_text", f"The exposure scenario for {c['customer'] or 'a named counterparty'} cannot be "
                                  f"computed: {scen.reason}.")
        sec.text("scenario_inputs", "")
        sec.text("scenario_table", "")
        return
    si, st = scen.inputs, scen.table
    tab = si["table"]
    rounding = [c["backlog_unit"] if i == "Revenue backlog" else 0.0 for i in tab["input"]]
    sec.exhibit("scenario_inputs", exhibits.table(
        pd.DataFrame({"Input": tab["input"], "Value": [value_text(v, u, r) for v, u, r in zip(tab["value"], tab["unit"],
                                                                                            rounding, strict=True)],
                      "Period": tab["quarter"].fillna(""),
                      "Source": tab["source"].fillna("").str.replace(";", ", ").str.replace(",  ", ", "), "Kind": tab["kind"]}),
        title=f"The exposure scenario takes each input at the newest quarter it exists for, up to {si['quarter']}",
        source=_src(c, list(tab["source"].dropna())),
        notes=("USD millions unless stated. Kind: data = read in data/; derived = computed here from the data; guidance = "
               "management's ranges in force at the note's date (midpoints); assumption = a parameter of this note.")))
    cases = [k for k in st.columns if k not in ("key", "figure", "unit")]
    cell = {"usd_m": lambda x: fmt.num(x, 0), "fraction": lambda x: fmt.pct(x, 1), "ratio": lambda x: fmt.ratio(x, 2)}
    approx = {"backlog_before", "backlog_after"} if c["backlog_unit"] else set()
    show = pd.DataFrame({"Figure": st["figure"]})
    for k in cases:
        show[k[0].upper() + k[1:]] = [fmt.about(v, c["backlog_unit"], "num", 0) if key in approx else cell[u](v)
                                      for key, v, u in zip(st["key"], st[k], st["unit"], strict=True)]
    a = st.set_index("key")[cases[0]]
    verb = "loses" if c["mode"] == "loss" else "defers"
    sec.exhibit("scenario_table", exhibits.table(
        show, title=(f"If {c['customer']} {verb} {fmt.pct(c['share_lost'], 0)} of its remaining contract value, "
                     f"{fmt.usd_bn(a['ntm_revenue_at_risk'])} of next-twelve-month revenue is at risk, "
                     f"{fmt.ratio(a['revenue_at_risk_to_interest'], 1)} a year's interest"),
        source=_src(c, [si["sources"]]),
        notes=(f"Scenario at {si['quarter']}: the value "
               + ("is lost and leaves the backlog. " if c["mode"] == "loss" else
                  "is deferred beyond the next twelve months and stays in the backlog. ")
               + "Remaining value = contract value less revenue recognised "
               "from the customer to date, which no disclosure gives: the two columns bound it (lower bound 0; upper bound "
               "from the revenue-share disclosures, see the inputs). Next-12-month revenue from the backlog is the revenue "
               "the guidance in force implies, and the customer's value is assumed to convert at the company-wide pace; "
               f"operating income falls by revenue at risk x contribution margin {fmt.num(c['cm'], 2)}, spread over four "
               f"quarters; coverage and interest are those of {si['coverage_quarter']} (interest annualised x 4). "
               + ("'Capped at company statement' limits the exposure to management's stated ceiling for the largest "
                  "customer's share of the backlog. " if "capped at company statement" in cases else "") + "USD millions.")))
    sec.text("scenario_text", _scenario_text(c))


def _ntm_words(ntm) -> str:
    """'the next quarter at its guidance midpoint, the second at what the FY2026 midpoint leaves after
    reported revenue, and the two after that held at that level (an assumption)': no quarter label,
    since these quarters lie after the note's date."""
    ords = ["the next quarter", "the second", "the third", "the fourth"]
    parts, q = [], ntm["quarters"].reset_index(drop=True)
    for i, r in q.iterrows():
        if r["kind"] == "assumption":
            n = len(q) - i
            parts.append(("the last" if n == 1 else f"the {['', '', 'two', 'three'][n]} after that")
                         + " held at that level (an assumption)")
            break
        fy = r["basis"].split(" guidance")[0]
        parts.append(f"{ords[i]} at " + ("its guidance midpoint" if not fy.startswith("FY") else
                                          f"what the {fy} midpoint leaves after reported revenue"))
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def _pick_text(c) -> str:
    """Why the scenario removes this counterparty: the verdict's measure, or a parameter."""
    p = c["pick"]
    share = f"{fmt.about(p['largest_share'], c['share_unit'], 'pct', 0)} of the {p['quarter']} revenue backlog"
    if p["rule"] == "largest":
        return (f"The scenario removes {p['customer']}, the largest named counterparty by announced contract value, "
                f"the measure of the verdict below ({share}).")
    if p["customer"] == p["largest"]:
        return (f"The scenario removes {p['customer']}, set by a parameter of this note; it is also the largest named "
                f"counterparty by announced contract value ({share}).")
    return (f"The scenario removes {p['customer']}, set by a parameter of this note; by announced contract value, the "
            f"measure of the verdict below, the largest named counterparty is {p['largest']} ({share}).")


def _scenario_text(c) -> str:
    scen, gm, scen_gm = c["scen"], c["gm"], c["scen_gm"]
    si = scen.inputs
    a = scen.table.set_index("key")
    k0 = [k for k in a.columns if k not in ("figure", "unit")][0]
    x = a[k0]
    rev_q = float(c["qpanel"].values.at[si["coverage_quarter"], "revenue"])
    ntm, rec = si["ntm"], si["recognised"]
    t = _pick_text(c) + (f" It takes {c['customer']}'s announced contracts at {si['quarter']}, "
                         f"{fmt.usd_bn(si['exposure_usd_m'])} ('up to' amounts)")
    if rec is not None:
        t += (f"; the revenue already recognised from them is not disclosed, but the revenue-share disclosures bound it at "
              f"no more than {fmt.usd_bn(rec['high'])}, so the remaining value lies between "
              f"{fmt.usd_bn(si['exposure_usd_m'] - rec['high'])} and {fmt.usd_bn(si['exposure_usd_m'] - rec['low'])}")
    t += (f", against a revenue backlog of {fmt.about(x['backlog_before'], c['backlog_unit'], 'usd_bn')}. "
          + (f"Losing {fmt.pct(c['share_lost'], 0)} of it cuts the backlog by up to {fmt.pct(-x['backlog_change_share'], 0)}. "
             if c["mode"] == "loss" else
             f"Deferring {fmt.pct(c['share_lost'], 0)} of it leaves the backlog unchanged but moves revenue out of the next "
             "twelve months. "))
    if pd.notna(ntm.get("value")):
        even = si["even_spread_share"] * x["backlog_before"]
        t += (f"Next-twelve-month revenue is taken from the guidance in force: {fmt.usd_bn(ntm['value'])}, with "
              f"{_ntm_words(ntm)}; that is {fmt.ratio(ntm['value'] / (4 * rev_q), 1)} the annualised "
              f"{si['coverage_quarter']} revenue. ")
        # an even spread of the 24-month share is a comparison only for a split of the same quarter's balance
        if si["timing_quarter"] == si["quarter"]:
            t += (f"Spreading the disclosed 24-month share of the backlog evenly would give {fmt.usd_bn(even)}, "
                  + ("more than the guidance allows: deliveries ramp up, so the early months carry less than an even "
                     "share. " if even > ntm["value"] else "no more than the guidance. "))
    else:
        t += (f"No guidance covers the next quarters ({ntm.get('reason')}); the 24-month share is spread evenly, which "
              "overstates the first year if deliveries ramp up. ")
    t += (f"Next-twelve-month revenue falls by up to {fmt.usd_bn(x['ntm_revenue_at_risk'])} "
          f"({fmt.pct(-x['ntm_revenue_change_share'], 0)}), against {fmt.usd_bn(x['annual_interest_run_rate'])} of annualised "
          f"interest. With a contribution margin of {fmt.num(c['cm'], 2)}, quarterly interest coverage would go from "
          f"{fmt.ratio(x['interest_coverage_before'])} to {fmt.ratio(x['interest_coverage_after'])}")
    if scen_gm is not None:
        g = scen_gm.table.set_index("key")[k0]
        t += (f"; at the {gm['quarter']} gross margin of {fmt.pct(gm['value'], 0)} (only cost of revenue saved; the newest "
              f"quarter with cost of revenue) it would be {fmt.ratio(g['interest_coverage_after'])}")
    return t + "."
