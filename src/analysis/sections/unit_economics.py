"""Section 01: operating margin against the cost of debt, and what the GPU life does to it.

Items: `summary`, `panel_table`, `margin_chart`, `interest_chart`, `depreciation_table`,
`verdict:margin_vs_cost_of_debt`, `verdict:depreciation_life`, `verdict_notes`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fundamentals as F
from .. import unit_economics as U
from ..data import load_fundamentals, load_sources
from ..report import exhibits, fmt, style
from .base import Section
from .common import source_line

NOTEBOOK = "01_unit_economics"
FUND = "data/fundamentals.csv: "
PANEL_COLS = ["revenue", "operating_income", "interest_expense", "depreciation_and_amortization"]


def build(as_of="latest", first_quarter="2024Q1", useful_lives=(6, 5, 4, 3), reported_life=None,
          computing_share_of_da=1.0) -> Section:
    """Unit economics as of `as_of`. `reported_life` None = the useful life the data state (at
    `as_of`); a number is an assumption (used when the data hold no dated figure)."""
    lives = [float(x) for x in useful_lives]
    sec = Section(NOTEBOOK, {"as_of": as_of, "first_quarter": first_quarter, "useful_lives": lives,
                             "reported_life": reported_life, "computing_share_of_da": computing_share_of_da})
    fund = load_fundamentals(as_of)
    registry = load_sources()
    panel = F.quarterly_panel(fund, first_quarter=first_quarter)
    ratios = U.ratio_table(panel)
    history = U.useful_life_history(fund)
    change = U.life_change(history)
    life_from_data = float(history["life"].iloc[-1]) if len(history) else None
    life = life_from_data if reported_life is None else float(reported_life)
    if life is None:
        raise ValueError(f"{NOTEBOOK}: the data as of {as_of} hold no useful life of computing equipment; "
                         "set the parameter reported_life (an assumption, labelled as such in the note)")
    if life not in lives:
        lives = [life, *lives]
    sens = U.depreciation_sensitivity(panel, lives, computing_share_of_da=computing_share_of_da, reported_life=life)
    sw = U.sensitivity_table(sens, U.break_even_life(panel, computing_share_of_da=computing_share_of_da,
                                                     reported_life=life))
    sec.data.update(fund=fund, panel=panel, ratios=ratios, sensitivity=sw, life_history=history)
    ctx = {"sec": sec, "panel": panel, "ratios": ratios, "registry": registry, "lives": lives, "life": life,
           "share": computing_share_of_da, "sw": sw, "sens": sens, "history": history, "change": change,
           "life_from_data": life_from_data, "fund": fund}
    _record(ctx)
    luria = sec.verdict(U.luria_verdict(ratios))
    life_assumed = life_from_data is None or reported_life is not None
    sec.verdict(U.depreciation_verdict(sw, life, change, computing_share_of_da, life_assumed=life_assumed))
    latest = U.latest_quarter(ratios, ["operating_margin"])
    sec.text("summary", _summary(panel, ratios, latest))
    sec.exhibit("panel_table", _panel_table(panel, ratios, registry))
    sec.exhibit("margin_chart", _margin_chart(panel, ratios, registry))
    sec.exhibit("interest_chart", _interest_chart(panel, registry))
    sec.exhibit("depreciation_table", _depreciation_table(ctx))
    sec.text("verdict_notes", _verdict_notes(ratios, luria, ctx))
    return sec


# ---------------------------------------------------------------------------- results
def _srcs(panel, quarters, metrics):
    p = panel.provenance
    p = p[p["quarter"].isin(list(quarters)) & p["metric"].isin(list(metrics))]
    return list(dict.fromkeys(s for x in p["source"].dropna() for s in x.split(";")))


def _record(c) -> None:
    sec, panel, ratios, sw, lives = c["sec"], c["panel"], c["ratios"], c["sw"], c["lives"]
    v = panel.values
    usd = lambda cols: {k: "usd_m" for k in cols}  # noqa: E731
    for name, metrics, cols, units in [
        ("operating_margin", ["revenue", "operating_income", "adjusted_operating_income", "adjusted_ebitda"],
         ["operating_margin", "adjusted_operating_margin", "ebitda_margin"], {}),
        ("interest_coverage", ["interest_expense", "operating_income", "adjusted_operating_income", "adjusted_ebitda"],
         ["interest_coverage", "adjusted_interest_coverage", "ebitda_interest_coverage", "interest_burden"], {}),
        ("effective_interest_rate", ["interest_expense", "debt_principal_total", "debt_carrying_total"],
         ["effective_interest_rate"], {}),
        ("margin_to_interest_rate", [], ["operating_margin", "effective_interest_rate", "margin_to_interest_rate"], {}),
        ("interest_and_da_to_revenue", ["interest_expense", "depreciation_and_amortization", "revenue"],
         ["interest_and_da_to_revenue"], {}),
    ]:
        t = U.results_table(panel, ratios, metrics, cols)
        if name == "effective_interest_rate":
            t["effective_rate_basis"] = [ratios.at[q, "effective_rate_basis"] for q in t["quarter"]]
        sec.table(name, t, {**usd(metrics), **{k: U.RATIO_UNITS[k] for k in cols}, **units})
    sec.table("depreciation_sensitivity", sw,
              {**{k: "fraction" for k in sw.columns if k.startswith("margin_")}, "break_even_life": "years"})
    sec.table("depreciation_sensitivity_long", c["sens"],
              {"useful_life": "years", "computing_share_of_da": "fraction", "reported_life": "years", "revenue": "usd_m",
               "depreciation_and_amortization": "usd_m", "da_restated": "usd_m", "operating_income": "usd_m",
               "operating_income_restated": "usd_m", "operating_margin": "fraction", "operating_margin_restated": "fraction"})
    be = U.break_even_life(panel, computing_share_of_da=c["share"], reported_life=c["life"])
    sec.table("break_even_life", be, {"break_even_life": "years", "operating_income": "usd_m",
                                      "depreciation_and_amortization": "usd_m", "computing_share_of_da": "fraction",
                                      "reported_life": "years"})
    prov = panel.provenance
    sec.table("panel_provenance", prov.assign(published=prov["published"].dt.strftime("%Y-%m-%d").astype(object)),
              {"value": "usd_m"})
    h = c["history"]
    sec.table("useful_life_history", h.assign(period_start=h["period_start"].dt.strftime("%Y-%m-%d").astype(object),
                                              published=h["published"].dt.strftime("%Y-%m-%d").astype(object)),
              {"life": "years"})
    sec.value("computing_share_of_da", c["share"], "fraction",
              "ASSUMPTION (parameter, not data): share of D&A that is computing equipment")
    srcs = list(dict.fromkeys(h["source"])) if c["life_from_data"] is not None else []
    sec.value("reported_life", c["life"], "years",
              "Useful life behind reported D&A" + (" (data)" if c["life_from_data"] is not None and
                                                   sec.params["reported_life"] is None else " (ASSUMPTION: parameter)"),
              srcs)
    if c["change"]:
        ch = c["change"]
        sec.value("previous_life", ch["previous"], "years", "Useful life of computing equipment before the last change",
                  ch["sources"])
        sec.value("life_change_date", ch["effective"], "date", "Date the current useful life took effect", ch["sources"])
    sec.table("key_figures", U.key_figures(panel, ratios), {})
    for name, when in F.publication_cutoffs(c["fund"]).items():
        sec.value(name, when, "date", {"filing_cutoff": "Latest filing or press release used",
                                       "figures_cutoff": "Latest company figure used (any source)"}[name])
    latest = U.latest_quarter(ratios, ["operating_margin"])
    sec.value("latest_quarter", latest, "text", "Latest quarter with revenue and operating income")
    for name, unit, label, metric in [
        ("latest_revenue", "usd_m", "Revenue", "revenue"),
        ("latest_operating_income", "usd_m", "Operating income", "operating_income"),
        ("latest_interest_expense", "usd_m", "Interest expense, net", "interest_expense"),
        ("latest_depreciation_and_amortization", "usd_m", "Depreciation and amortization", "depreciation_and_amortization"),
    ]:
        sec.value(name, v.at[latest, metric] if latest else None, unit, f"{label}, {latest}",
                  _srcs(panel, [latest], [metric]) if latest else [], period=latest)
    for k in U.RATIO_COLUMNS:
        sec.value(f"latest_{k}", ratios.at[latest, k] if latest else None, U.RATIO_UNITS[k], f"{k}, {latest}",
                  U.ratio_provenance(panel, k, latest)["sources"] if latest else [], period=latest)
    lq = U.latest_quarter(ratios, ["operating_margin", "effective_interest_rate"])
    sec.value("luria_quarter", lq, "text", "Latest quarter with both operating margin and effective interest rate")
    for k in ("operating_margin", "adjusted_operating_margin", "effective_interest_rate", "margin_to_interest_rate",
              "interest_coverage", "ebitda_interest_coverage"):
        sec.value(f"luria_{k}", ratios.at[lq, k] if lq else None, U.RATIO_UNITS[k], f"{k}, {lq}",
                  U.ratio_provenance(panel, k, lq)["sources"] if lq else [], period=lq)
    n_below, n_rate = U.quarters_below(ratios, "margin_to_interest_rate", U.HALF_RATE)
    sec.value("quarters_margin_below_half_rate", n_below, "count", "Quarters with operating margin below half the effective rate")
    sec.value("quarters_with_rate", n_rate, "count", "Quarters with an effective interest rate")
    swi = sw.set_index("quarter") if len(sw) else sw
    ok = swi[swi["break_even_life"].notna()] if len(swi) else swi
    chanos_q = str(ok.index[-1]) if len(ok) else None
    sec.value("chanos_quarter", chanos_q, "text", "Latest quarter with a break-even life")
    dsrc = ["operating_income", "depreciation_and_amortization", "revenue"]
    if chanos_q:
        sec.value("latest_break_even_life", swi.at[chanos_q, "break_even_life"], "years",
                  f"Break-even useful life, {chanos_q}", _srcs(panel, [chanos_q], dsrc[:2]), period=chanos_q)
        for L in lives:
            sec.value(f"latest_margin_at_{L:g}y", swi.at[chanos_q, f"margin_{L:g}y"], "fraction",
                      f"Operating margin at a {L:g}-year life, {chanos_q}", _srcs(panel, [chanos_q], dsrc), period=chanos_q)
    prof = swi[swi["break_even_life"] < c["life"]] if len(swi) else swi
    pq = str(prof.index[-1]) if len(prof) else None
    sec.value("profitable_quarter", pq, "text", "Latest quarter with an operating profit at the reported life")
    if pq:
        sec.value("profitable_break_even_life", swi.at[pq, "break_even_life"], "years", f"Break-even useful life, {pq}",
                  _srcs(panel, [pq], dsrc[:2]), period=pq)
        for L in lives:
            sec.value(f"profitable_margin_at_{L:g}y", swi.at[pq, f"margin_{L:g}y"], "fraction",
                      f"Operating margin at a {L:g}-year life, {pq}", _srcs(panel, [pq], dsrc), period=pq)


# ---------------------------------------------------------------------------- prose and exhibits
def _summary(panel, ratios, latest) -> str:
    v = panel.values
    if latest is None:
        return "No quarter reported by the note's date has both revenue and operating income, so the unit economics cannot be measured."
    om, cov, ecov = (ratios.at[latest, k] for k in ("operating_margin", "interest_coverage", "ebitda_interest_coverage"))
    ida = ratios.at[latest, "interest_and_da_to_revenue"]
    ida_txt = (f"Interest and depreciation together took {fmt.pct(ida)} of revenue." if not np.isnan(ida) else
               f"Interest plus depreciation cannot be set against revenue for {latest}: "
               f"{ratios.at[latest, 'reasons'].get('interest_and_da_to_revenue')}.")
    return (f"In {latest} CoreWeave reported revenue of {fmt.usd_m(v.at[latest, 'revenue'])} and operating income of "
            f"{fmt.usd_m(v.at[latest, 'operating_income'])}, an operating margin of {fmt.pct(om)}, against net interest "
            f"expense of {fmt.usd_m(v.at[latest, 'interest_expense'])}: operating income covered interest "
            f"{fmt.ratio(cov)} and adjusted EBITDA {fmt.ratio(ecov)}. {ida_txt} The panel runs from {v.index[0]} to "
            f"{v.index[-1]}; figures that exist only inside half-year, nine-month or full-year totals are derived by "
            f"subtraction and marked with an asterisk, and every figure carries its source kind and confidence.")


def _panel_table(panel, ratios, registry):
    v, der, marks, undated = panel.values, panel.derived_mask(), F.markers(panel), panel.undated_mask()

    def cell(q, m, f):
        x = v.at[q, m]
        return fmt.NA if np.isnan(x) else f"{f(x)} {marks.at[q, m]}{'†' if undated.at[q, m] else ''}"

    def debt_cell(q):
        for m, tag in (("debt_principal_total", ""), ("debt_carrying_total", " c")):
            if not np.isnan(v.at[q, m]):
                return cell(q, m, lambda x: fmt.num(x, 0)) + tag
        return fmt.NA

    def rcell(q, k, f):
        x = ratios.at[q, k]
        if np.isnan(x):
            return fmt.NA
        p = U.ratio_provenance(panel, k, q)
        return f"{f(x)}{'*' if p['derived'] else ''}{'†' if p['undated'] else ''}"

    num = lambda x: fmt.num(x, 1)  # noqa: E731
    qs = list(v.index)
    t = pd.DataFrame({
        "Quarter": [f"{q}{' *' if der.loc[q, PANEL_COLS].any() else ''}" for q in qs],
        "Revenue": [cell(q, "revenue", num) for q in qs], "Operating income": [cell(q, "operating_income", num) for q in qs],
        "Interest, net": [cell(q, "interest_expense", num) for q in qs],
        "D&A": [cell(q, "depreciation_and_amortization", num) for q in qs],
        "Debt (end)": [debt_cell(q) for q in qs],
        "Op. margin": [rcell(q, "operating_margin", fmt.pct) for q in qs],
        "Coverage": [rcell(q, "interest_coverage", fmt.ratio) for q in qs],
        "EBITDA cov.": [rcell(q, "ebitda_interest_coverage", fmt.ratio) for q in qs],
        "Eff. rate": [rcell(q, "effective_interest_rate", fmt.pct) for q in qs],
        "(Int.+D&A)/rev.": [rcell(q, "interest_and_da_to_revenue", fmt.pct) for q in qs],
    })
    n_neg, n_om = U.quarters_below(ratios, "operating_margin", 0.0)
    om = ratios["operating_margin"]
    return exhibits.table(
        t, title=(f"Operating margin ranged from {fmt.pct(om.min())} to {fmt.pct(om.max())} between {qs[0]} and {qs[-1]}, "
                  f"with operating losses in {n_neg} of {n_om} quarters"),
        source=source_line(_srcs(panel, qs, [*PANEL_COLS, "debt_principal_total", "debt_carrying_total",
                                             "adjusted_ebitda"]), registry, FUND),
        notes=("USD millions. Marker after each figure: source kind (F filing, PR press release, T call transcript, "
               "S secondary, N news) / confidence (H high, M medium, L low); * derived (e.g. Q4 = FY - 9M; Q2 = 9M - Q1 - "
               "Q3; a carrying amount summed from its components), confidence = weakest parent; "
               + ("† publication date not verified (used in full builds only); " if undated.to_numpy().any() else "")
               + ("a ratio with * or † uses such an input. " if undated.to_numpy().any() else
                  "a ratio with * uses such an input. ")
               + "Debt: principal, or 'c' = carrying amount (net of discount "
               "and issuance costs) where principal is not in the data. Interest = income-statement 'interest expense, "
               "net' (after capitalised interest). EBITDA cov. = adjusted EBITDA / interest. Effective rate = 4 x "
               "quarterly interest / average debt at the two quarter ends, on one basis (principal at both ends, else "
               "carrying amount at both). n/a = not in the data or not derivable (never zero)."))


def _margin_chart(panel, ratios, registry):
    qs = list(panel.values.index)
    x = np.arange(len(qs))
    om, er = ratios["operating_margin"], ratios["effective_interest_rate"]
    fig, ax = style.figure()
    ax.plot(x, om.to_numpy(), marker="o", label="Operating margin", color=style.GREYS[0])
    ax.plot(x, er.to_numpy(), marker="s", label="Effective interest rate (annualised)", color=style.GREYS[1], linestyle="--")
    ax.plot(x, (er * U.HALF_RATE).to_numpy(), label="Half the effective rate", color=style.GREYS[2], linestyle=":")
    dq = [i for i, q in enumerate(qs) if U.ratio_provenance(panel, "operating_margin", q)["derived"] and not np.isnan(om.iloc[i])]
    if dq:
        ax.plot(x[dq], om.to_numpy()[dq], linestyle="none", marker="o", markerfacecolor="white", color=style.GREYS[0],
                label="Derived quarter (hollow)")
    ax.axhline(0, color=style.INK, linewidth=0.6)
    ax.set_xticks(x, qs)
    ax.yaxis.set_major_formatter(lambda y, _: fmt.pct(y, 0))
    ax.set_ylabel("Fraction of revenue / of debt (annualised)")
    ax.legend(loc="best")
    lq = U.latest_quarter(ratios, ["operating_margin", "effective_interest_rate"])
    n_below, n_rate = U.quarters_below(ratios, "margin_to_interest_rate", U.HALF_RATE)
    if lq:
        mr = ratios.at[lq, "margin_to_interest_rate"]
        rel = "below half" if mr < U.HALF_RATE else ("below" if mr < 1 else "above")
        title = (f"In {lq} the operating margin ({fmt.pct(om[lq])}) was {rel} the effective interest rate "
                 f"({fmt.pct(er[lq])}); it was below half the rate in {n_below} of {n_rate} quarters with a rate")
    else:
        title = "No quarter reported by the note's date has both an operating margin and an effective interest rate"
    no_rate = [q for q in qs if np.isnan(er.loc[q])]
    return exhibits.figure(
        fig, title=title,
        source=source_line(_srcs(panel, qs, ["revenue", "operating_income", "interest_expense", "debt_principal_total",
                                             "debt_carrying_total"]), registry, FUND),
        notes=("Effective rate missing where debt is not in the data at both quarter ends on one basis"
               + (f" (no rate for {', '.join(no_rate)})" if no_rate else "") + "."))


def _interest_chart(panel, registry):
    v, der = panel.values, panel.derived_mask()
    qs = list(v.index)
    x = np.arange(len(qs))
    fig, ax = style.figure()
    w = 0.38
    ax.bar(x - w / 2, v["interest_expense"].to_numpy(), w, label="Interest expense, net", color=style.GREYS[0])
    ax.bar(x + w / 2, v["operating_income"].to_numpy(), w, label="Operating income", color="white",
           edgecolor=style.GREYS[0], hatch=style.HATCHES[1])
    ax.axhline(0, color=style.INK, linewidth=0.6)
    ax.set_xticks(x, [q + ("*" if der.loc[q, ["interest_expense", "operating_income"]].any() else "") for q in qs])
    ax.set_ylabel("USD millions")
    ax.legend(loc="upper left")
    both = v[["interest_expense", "operating_income"]].dropna()
    exceeds = int((both["interest_expense"] > both["operating_income"]).sum())
    title = f"Net interest expense exceeded operating income in {exceeds} of {len(both)} quarters with both figures"
    if len(both):
        q0, q1 = both.index[0], both.index[-1]
        title += (f"; interest rose from {fmt.usd_m(both.at[q0, 'interest_expense'])} in {q0} to "
                  f"{fmt.usd_m(both.at[q1, 'interest_expense'])} in {q1}")
    return exhibits.figure(fig, title=title,
                           source=source_line(_srcs(panel, qs, ["interest_expense", "operating_income"]), registry, FUND),
                           notes="* quarter with a derived figure (e.g. Q4 = FY - 9M). Missing bars = not in the data.")


def _depreciation_table(c):
    sw, lives, life, share = c["sw"], c["lives"], c["life"], c["share"]
    t = pd.DataFrame({"Quarter": [q + (" *" if d else "") for q, d in zip(sw["quarter"], sw["derived"], strict=True)]})
    for L in lives:
        t[f"Margin, {L:g}-year life" + (" (reported)" if L == life else "")] = sw[f"margin_{L:g}y"].to_numpy()
    t["Break-even life (years)"] = sw["break_even_life"].to_numpy()
    fmts = {k: fmt.pct for k in t.columns if k.startswith("Margin")}
    fmts["Break-even life (years)"] = lambda y: fmt.num(y, 1)
    swi = sw.set_index("quarter")
    prof = swi[swi["break_even_life"] < life]
    if len(prof):
        pq = str(prof.index[-1])
        assumed = c["life_from_data"] is None or c["sec"].params["reported_life"] is not None
        title = (f"With {fmt.pct(share, 0)} of D&A treated as computing equipment, operating income in {pq}, the latest "
                 f"quarter with an operating profit, falls to zero at a {fmt.num(swi.at[pq, 'break_even_life'], 1)}-year "
                 f"life, against the {'assumed ' if assumed else ''}reported {fmt.num(life, 0)} years")
    elif len(swi):
        title = (f"Every quarter with D&A had an operating loss at the reported {fmt.num(life, 0)}-year life; a shorter "
                 f"life deepens it")
    else:
        title = "No quarter reported by the note's date has operating income and D&A to restate"
    h, ch = c["history"], c["change"]
    if ch:
        life_note = (f"The data record the useful life of computing equipment as {fmt.num(ch['previous'], 0)} years until "
                     f"{fmt.date(ch['effective'])} and {fmt.num(ch['current'], 0)} years from then "
                     f"[{', '.join(ch['sources'])}" + (", publication dates not verified" if ch["undated"] else "") + "]. ")
    elif len(h):
        life_note = f"The data record a {fmt.num(h['life'].iloc[-1], 0)}-year life [{h['source'].iloc[-1]}]. "
    else:
        life_note = (f"The data published by this note's date hold no dated statement of the useful life: the "
                     f"{fmt.num(life, 0)}-year reported life is an ASSUMPTION (a parameter of this note). ")
    return exhibits.table(
        t, title=title, formats=fmts,
        source=source_line(_srcs(c["panel"], sw["quarter"], ["revenue", "operating_income", "depreciation_and_amortization"]),
                           c["registry"], FUND) + "; restatement: this note's assumptions (below)",
        notes=(life_note + f"ASSUMPTIONS (parameters of this note, not data): {fmt.pct(share, 0)} of D&A is computing "
               "equipment; straight-line depreciation, no salvage value, unchanged gross asset base and every "
               f"asset inside its life, so restated D&A = D&A x [(1 - share) + share x {fmt.num(life, 0)} / life]; revenue, "
               "interest and other costs unchanged. A shorter life would leave older assets fully depreciated, so short-life "
               "restatements overstate D&A for an older fleet. Break-even life above the reported life: the quarter already "
               "had an operating loss. * derived input."))


def _verdict_notes(ratios, luria, c) -> str:
    if luria.period is None:
        return ""
    q = luria.period
    aom, er = ratios.at[q, "adjusted_operating_margin"], ratios.at[q, "effective_interest_rate"]
    adj = ("" if np.isnan(aom) else
           f"The company's non-GAAP adjusted operating margin ({fmt.pct(aom)}) was {'above' if aom > er else 'below'} "
           f"the rate in {q}. ")
    p = U.ratio_provenance(c["panel"], "margin_to_interest_rate", q)
    basis = (f"The test rests on figures whose weakest confidence is {p['confidence']}"
             + (", some derived" if p["derived"] else "") + (", some with unverified publication dates" if p["undated"] else "")
             + ". ")
    return (adj + basis + "The effective rate uses the income-statement interest expense, which is net of capitalised "
            "interest; interest before capitalisation is larger, so this measure understates the cost of the debt "
            "rather than overstating it. How much of the depreciation argument holds depends on the economic life of "
            "the GPUs, which the data do not measure; the table above gives the margin for each life so the reader "
            "can choose.")
