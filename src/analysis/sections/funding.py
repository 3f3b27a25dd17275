"""Section 06: funding and capital structure (the funding gap, the debt stack and its maturities,
the cost of new debt, liquidity, returns on capital, dilution), plus the valuation block
(`analysis.sections.valuation`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fundamentals as F
from .. import funding as FN
from .. import unit_economics as U
from ..data import (
    as_of_date,
    load_debt_facilities,
    load_debt_maturities,
    load_fundamentals,
    load_sources,
)
from ..data.rules import period_bounds
from ..report import exhibits, fmt, style
from . import valuation as VS
from .base import Section

NOTEBOOK = "06_funding"
METRICS = F.PANEL_METRICS + ("operating_cash_flow", "capex_cash", "property_and_equipment_gross",
                             "property_and_equipment_net")
CUMULATIVE_PERIODS = ("2025-9M", "FY2025", "2026H1")
#: periods whose debt flows (cash-flow statement) are in the data, latest first
FINANCING_PERIODS = ("2025-9M", "2025Q3")


def _ended(periods, as_of) -> tuple[str, ...]:
    """The periods that had ended by `as_of` (all for 'latest'): a note never names a later one."""
    cutoff = as_of_date(as_of)
    return tuple(p for p in periods if cutoff is None or pd.Timestamp(period_bounds(p)[1]) <= cutoff)
FACILITY_NAMES = {
    "ddtl_1_0": "DDTL 1.0", "ddtl_2_0": "DDTL 2.0", "ddtl_2_1": "DDTL 2.1 tranche", "ddtl_3_0": "DDTL 3.0",
    "ddtl_4_0": "DDTL 4.0", "ddtl_5_0": "DDTL 5.0", "term_loan_2024": "2024 term loan", "revolver": "Revolver",
    "oem_financing": "OEM financing", "magnetar_loan": "Magnetar loan", "senior_notes_2030": "2030 senior notes",
    "senior_notes_2031": "2031 senior notes (9.000%)", "senior_notes_2031_b": "2031 senior notes (9.750%)",
    "convertible_notes_2031": "2031 convertible notes", "convertible_notes_2032": "2032 convertible notes",
}


def _na(x) -> bool:
    return x is None or (not isinstance(x, str) and pd.isna(x))


def _src_line(ids, registry) -> str:
    ids = [s for x in ids if isinstance(x, str) for s in x.replace(";", " ").split()]
    return exhibits.sources_line(list(dict.fromkeys(ids)), registry)


def build(as_of="latest", first_quarter="2024Q1", useful_lives=(6, 5, 4), computing_share_of_da=1.0,
          reported_life=6, sofr_pct=4.0, new_debt_window_days=365, ticker="CRWV", tax_rate=0.21,
          terminal_growth=0.0, conversion_years=(4, 5, 6), discount_spreads_pp=(0, 2, 4)) -> Section:
    """Compute the funding section and the valuation block as of `as_of`.

    Assumptions (parameters, never data): `computing_share_of_da` (fraction of D&A that is
    computing equipment), `sofr_pct` (percent, for SOFR-margin loans), `tax_rate`,
    `terminal_growth`, `conversion_years` and `discount_spreads_pp` (percentage points over the
    marginal cost of debt) of the reverse DCF."""
    params = {"as_of": as_of, "first_quarter": first_quarter, "useful_lives": list(useful_lives),
              "computing_share_of_da": computing_share_of_da, "reported_life": reported_life, "sofr_pct": sofr_pct,
              "new_debt_window_days": new_debt_window_days, "ticker": ticker, "tax_rate": tax_rate,
              "terminal_growth": terminal_growth, "conversion_years": list(conversion_years),
              "discount_spreads_pp": list(discount_spreads_pp)}
    sec = Section(NOTEBOOK, params)
    fund = load_fundamentals(as_of=as_of)
    fac = load_debt_facilities(as_of=as_of)
    mat = load_debt_maturities(as_of=as_of)
    reg = load_sources()
    panel = F.quarterly_panel(fund, first_quarter, metrics=METRICS)
    ratios = U.ratio_table(panel)
    sec.data.update(fund=fund, facilities=fac, maturities=mat, panel=panel, ratios=ratios)

    _gap(sec, fund, panel, reg)
    _debt(sec, fund, fac, mat, ratios, panel, reg, sofr_pct, new_debt_window_days)
    _roic(sec, panel, ratios, useful_lives, computing_share_of_da, reported_life, reg)
    _dilution(sec, fund, fac, reg)
    VS.add(sec, fund=fund, panel=panel, ratios=ratios, reg=reg, ticker=ticker, as_of=as_of, tax_rate=tax_rate,
           terminal_growth=terminal_growth, conversion_years=conversion_years, discount_spreads_pp=discount_spreads_pp)
    return sec


# --------------------------------------------------------------------------- funding gap
def _oem_note(fund) -> str:
    """The capex later reclassified as non-cash OEM financing, as far as it was public by the note's date."""
    rows = fund[fund["metric"] == "capex_noncash_oem_reduction"].sort_values("period")
    return "".join(f"{r.period} capex includes {fmt.usd_m(r.value, 0)} later treated as non-cash OEM financing "
                   f"[{r.source}]. " for r in rows.itertuples())


def _gap(sec, fund, panel, reg) -> None:
    gap = FN.funding_gap(panel)
    cum = FN.period_funding_gap(fund, _ended(CUMULATIVE_PERIODS, sec.as_of))
    sec.data.update(gap=gap, gap_cumulative=cum)
    money = {c: "usd_m" for c in ("operating_cash_flow", "capex_cash", "funding_gap")}
    sec.table("funding_gap", gap, money)
    sec.table("funding_gap_cumulative", cum, money)
    have = gap.dropna(subset=["funding_gap"])
    for p in _ended(FINANCING_PERIODS, sec.as_of):
        f = FN.gap_financing(fund, p)
        sec.value(f"net_debt_raised_{p.replace('-', '_')}", f["net_debt_raised"], "usd_m",
                  f"Net new debt (proceeds less repayments), {p}", (f["sources"] or "").split("; "), period=p)
    # the verdict leads with the newest period that has a funding gap (cumulative or quarter)
    latest, context = FN.latest_gap_financing(fund, _ended(CUMULATIVE_PERIODS + FINANCING_PERIODS, sec.as_of))
    sec.data.update(financing=latest, financing_context=context)
    if latest is None:
        from ..verdicts import Verdict

        v = sec.verdict(Verdict("funding_gap", "insufficient data",
                                "No reported period had both cash capex and operating cash flow in the data by the "
                                "note's date, so there is no funding gap to split by source.",
                                headline="no reported period has both cash capex and operating cash flow"))
    else:
        v = sec.verdict(FN.funding_gap_verdict(latest, context))
    if len(have):
        last = have.iloc[-1]
        sec.value("funding_gap_latest", last["funding_gap"], "usd_m", f"Funding gap, {last['quarter']}",
                  (last["sources"] or "").split("; "), period=last["quarter"])
    total = have["funding_gap"].sum() if len(have) else np.nan
    cum_text = "; ".join(f"{r.period}: {fmt.usd_bn(r.funding_gap)} ({fmt.usd_bn(r.capex_cash)} capex against "
                         f"{fmt.usd_bn(r.operating_cash_flow)} operating cash flow)"
                         for r in cum.itertuples() if not _na(r.funding_gap))
    sec.text("gap_summary", (
        f"Cash capex exceeded operating cash flow in {int((have['funding_gap'] > 0).sum())} of the "
        f"{len(have)} quarters for which both are known"
        + (f", by {fmt.usd_bn(total)} in total ({have['quarter'].iloc[0]} to {have['quarter'].iloc[-1]}, "
           "not every quarter in between is known)" if len(have) else "")
        + (f". Over reported cumulative periods: {cum_text}." if cum_text else ".")
        + "\n\n" + sec.items[f"verdict:{v.key}"]))
    tbl = pd.DataFrame({
        "Quarter": gap["quarter"],
        "Operating cash flow": [fmt.usd_m(x, 0) + ("*" if d else "") if not _na(x) else fmt.NA
                                for x, d in zip(gap["operating_cash_flow"], gap["operating_cash_flow_derived"], strict=True)],
        "Cash capex": [fmt.usd_m(x, 0) + ("*" if d else "") if not _na(x) else fmt.NA
                       for x, d in zip(gap["capex_cash"], gap["capex_cash_derived"], strict=True)],
        "Funding gap": [fmt.usd_m(x, 0) for x in gap["funding_gap"]],
        "Confidence": [c or "" for c in gap["confidence"]],
        "Sources": [s or "" for s in gap["sources"]],
    })
    sec.exhibit("gap_table", exhibits.table(
        tbl, title=(f"Cash capex ran ahead of operating cash flow by {fmt.usd_bn(total)} over the quarters with "
                    "both figures" if len(have) else "Quarterly funding gap: no quarter has both figures"),
        source=_src_line(gap["sources"], reg) + ".",
        notes=("Funding gap = cash purchases of property and equipment - net cash from operating activities, "
               "per calendar quarter (positive = financed by debt, equity or cash). * = derived by subtraction "
               "(Q2 = 9M - Q1 - Q3, Q4 = FY - 9M), confidence of the weakest parent. "
               + _oem_note(fund) + "n/a = not in the data (see data/FUNDAMENTALS.md).")))
    g = gap.dropna(subset=["funding_gap"])
    pos = list(g["funding_gap"] > 0)
    run = next((i for i in range(len(pos)) if all(pos[i:])), None)
    chart_title = (f"Capex has outgrown operating cash flow in every quarter with both figures since {g['quarter'].iloc[run]}"
                   if run is not None and len(g) - run >= 2 else "Cash capex against operating cash flow by quarter")
    fig, ax = style.figure()
    x = np.arange(len(g))
    ax.bar(x - 0.2, g["capex_cash"] / 1000, width=0.4, label="Cash capex", color="#404040")
    ax.bar(x + 0.2, g["operating_cash_flow"] / 1000, width=0.4, label="Operating cash flow", color="#a0a0a0")
    ax.set_xticks(x, [q + ("*" if d else "") for q, d in zip(g["quarter"], g["derived"], strict=True)])
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("USD bn, per quarter")
    ax.legend(loc="upper left")
    sec.exhibit("gap_chart", exhibits.figure(
        fig, title=chart_title, source=_src_line(g["sources"], reg) + ".",
        notes="Quarters with both figures only (gaps in the sequence are quarters not in the data); "
              "* = derived by subtraction."))
    every = sorted(dict.fromkeys(_ended(CUMULATIVE_PERIODS + FINANCING_PERIODS, sec.as_of)), key=FN.period_order)
    shown = [f for f in (FN.gap_financing(fund, p) for p in every) if not _na(f["funding_gap"])]
    if not shown:
        sec.text("financing_table", "")  # the verdict above says why
        return
    fin_rows = [{"Period": f["period"], "Funding gap": fmt.usd_m(f["funding_gap"], 0),
                 "Net new debt": fmt.usd_m(f["net_debt_raised"], 0),
                 "Debt share of gap": fmt.pct(f["debt_share_of_gap"], 0),
                 "Equity raised (IPO)": fmt.usd_m(f["equity_raised"], 0),
                 "Equity share of gap": fmt.pct(f["equity_share_of_gap"], 0),
                 "Sources": f["sources"] or ""} for f in shown]
    known = [f for f in shown if not _na(f["net_debt_raised"]) and f["funding_gap"] > 0]
    split = context or latest  # the period whose financing the verdict reads
    title = "How the funding gap was financed"
    if split is not None and not _na(split["debt_share_of_gap"]):
        title = f"Net new debt covered {fmt.pct(split['debt_share_of_gap'], 0)} of the {split['period']} funding gap"
        if context is not None:
            title += f"; how the {latest['period']} gap was financed is not in the data"
    last_flows = max((period_bounds(f["period"])[1] for f in known), default=None)
    sec.exhibit("financing_table", exhibits.table(
        pd.DataFrame(fin_rows), title=title,
        source=_src_line([r["Sources"] for r in fin_rows], reg) + ".",
        notes=("Net new debt = proceeds from issuance of debt - repayments of debt (cash-flow statement). Shares can "
               "exceed 100%: the excess went to cash. Equity: IPO and over-allotment proceeds, net of underwriting; "
               "n/a where the period's cash-flow lines are not in the data."
               + (f" Debt flows after {last_flows.isoformat()} are not in the data." if last_flows else ""))))


# --------------------------------------------------------------------------- debt, maturities, cost, liquidity
def _debt(sec, fund, fac, mat, ratios, panel, reg, sofr_pct, window_days) -> None:
    stack = FN.debt_stack(fac)
    w = FN.weighted_effective_rate(stack)
    sec.data.update(stack=stack)
    sec.table("debt_stack", stack.assign(facility_name=stack["facility"].map(FACILITY_NAMES)),
              {"principal": "usd_m", "rate_pct": "pct_points", "rate_high_pct": "pct_points"})
    sec.value("weighted_effective_rate", w["rate"], "fraction",
              "Principal-weighted effective rate of the debt table", (w["sources"] or "").split("; "),
              period=fmt.date(w["as_of"]))
    totals = {q: panel.values.at[q, "debt_principal_total"] for q in panel.values.index}
    last_total_q = max((q for q, x in totals.items() if not _na(x)), default=None)
    stack_tbl = pd.DataFrame({
        "Facility": stack["facility"].map(FACILITY_NAMES),
        "Principal": [fmt.usd_m(x, 0) for x in stack["principal"]],
        "Effective rate": [(f"{r:g}-{h:g}%" if not _na(h) else f"{r:g}%") if not _na(r) else fmt.NA
                           for r, h in zip(stack["rate_pct"], stack["rate_high_pct"], strict=True)],
        "Maturity": stack["maturity"].fillna(fmt.NA),
    })
    sec.exhibit("debt_stack", exhibits.table(
        stack_tbl, title=(f"At {fmt.date(w['as_of'])} debt principal of {fmt.usd_bn(w['principal_total'])} cost "
                          f"{fmt.pct(w['rate'], 1)} on average, by the filing's effective rates"),
        source=_src_line(stack["source"], reg) + ".",
        notes=(f"The latest debt table by facility in the data is at {fmt.date(w['as_of'])}; later filings are known "
               f"only as totals (total principal {fmt.usd_bn(totals[last_total_q])} at {last_total_q}). "
               "Average = principal-weighted effective rate, a 9-10% range at its midpoint."
               if last_total_q else "Average = principal-weighted effective rate.")))
    # maturities
    sched = FN.debt_maturities(mat)
    nxt = FN.maturities_next_four_quarters(sched)
    sec.data.update(schedule=sched, next_four_quarters=nxt)
    sec.table("debt_maturities", sched, {"amount_usd_m": "usd_m", "share_of_total": "fraction"})
    sec.value("maturities_next_four_quarters", nxt["value"], "usd_m",
              "Principal due in the four quarters after the schedule date", (nxt["sources"] or "").split("; "),
              period=nxt["basis"])
    if not len(sched):
        sec.text("maturities", "No maturity schedule is in the data at the note's date.")
    else:
        sec.exhibit("maturities", exhibits.table(
            pd.DataFrame({"Due": sched["due"], "Principal": [fmt.usd_m(x, 0) for x in sched["amount_usd_m"]],
                          "Share of total": [fmt.pct(x, 0) for x in sched["share_of_total"]]}),
            title=(f"{fmt.usd_bn(nxt['value'])} of principal falls due in the four quarters after "
                   f"{fmt.date(nxt['as_of'])}" if nxt["exact"] else
                   f"Between {fmt.usd_bn(nxt['low'])} and {fmt.usd_bn(nxt['high'])} of principal falls due in the four "
                   f"quarters after {fmt.date(nxt['as_of'])}"),
            source=_src_line(sched["source"], reg) + f" (confidence: {nxt['confidence']}).",
            notes=(f"Contractual principal by calendar year, as of {fmt.date(nxt['as_of'])} (debt note of the filing). "
                   "Later schedules are not in the data.")))
    # cost of new debt
    marg, newtab = FN.marginal_cost_of_debt(fac, sofr_pct=sofr_pct, window_days=window_days)
    q_rate = ratios["effective_interest_rate"].dropna()
    avg_q = q_rate.index[-1] if len(q_rate) else None
    avg_rate = q_rate.iloc[-1] if len(q_rate) else np.nan
    avg_basis, avg_metric = U.debt_basis(panel, avg_q) if avg_q else (None, None)
    avg_src = U.ratio_provenance(panel, "effective_interest_rate", avg_q)["sources"] if avg_q else []
    sec.data.update(marginal=marg, new_facilities=newtab, average_rate=(avg_q, avg_rate))
    # facilities described only at a filing's balance-sheet date inside the window: not new debt, said so
    cand = fac[fac["measure"].isin(FN.NEW_FACILITY_MEASURES) & ~fac["facility"].isin(FN.CONVERTIBLES)]
    lo = newtab["as_of"].max() - pd.Timedelta(days=window_days) if len(newtab) else None
    old_fac = ", ".join(dict.fromkeys(
        FACILITY_NAMES[r["facility"]] for _, r in cand.iterrows()
        if lo is not None and FN.date_kind(r) == "balance sheet" and r["as_of"] >= lo
        and r["facility"] not in set(newtab["facility"])))
    sec.value("marginal_cost_of_debt", marg["value"], "fraction",
              f"Amount-weighted all-in rate of facilities raised {marg['window']} (SOFR {sofr_pct:g}%, an assumption)",
              (marg["sources"] or "").split("; "), period=marg["window"])
    sec.value("average_cost_of_debt", avg_rate, "fraction",
              f"Effective interest rate (4 x interest expense / average debt, on {avg_basis}), {avg_q}", avg_src,
              period=avg_q)
    sec.table("new_facilities", newtab, {"amount_usd_m": "usd_m", "rate_pct": "pct_points", "all_in_rate": "fraction"})
    diff = marg["value"] - avg_rate if not (_na(marg["value"]) or _na(avg_rate)) else np.nan
    sec.value("marginal_minus_table_rate", marg["value"] - w["rate"], "fraction",
              "Marginal cost of debt minus the debt table's weighted effective rate",
              sorted(set((marg["sources"] or "").split("; ")) | set((w["sources"] or "").split("; "))) ,
              period=f"{marg['window']} vs {fmt.date(w['as_of'])}")
    sec.exhibit("cost_of_debt", exhibits.table(
        pd.DataFrame({"Facility": newtab["facility"].map(FACILITY_NAMES), "Raised": newtab["raised"],
                      "Amount": [fmt.usd_m(x, 0) for x in newtab["amount_usd_m"]],
                      "Rate": [(f"SOFR + {r:g}%" if k == "sofr_margin" else f"{r:g}% {k}") if not _na(r) else fmt.NA
                               for r, k in zip(newtab["rate_pct"], newtab["rate_kind"], strict=True)],
                      "All-in": [fmt.pct(x, 2) for x in newtab["all_in_rate"]],
                      "Confidence": newtab["confidence"], "Source": newtab["source"]}),
        title=("No new facility with a stated rate in the data before the note's date" if _na(marg["value"]) else
               f"New debt costs about {fmt.pct(marg['value'], 1)}, against {fmt.pct(w['rate'], 1)} on the "
               f"{fmt.date(w['as_of'])} debt table"
               + (f" and a {fmt.pct(avg_rate, 1)} effective interest rate, on {avg_basis}, in {avg_q}"
                  if not _na(diff) else "")),
        source=_src_line(newtab["source"], reg) + "; average: " + _src_line(avg_src, reg) + ".",
        notes=(f"Facilities issued or committed {marg['window']} (within {window_days} days of the newest), convertible "
               f"notes excluded (a convertible's cash coupon is not its cost). Raised: the date of the issue or "
               "commitment; 'in <quarter>' where a results release says only that it was raised in that quarter. "
               + (f"Facilities a periodic filing describes only at its balance-sheet date ({old_fac}) have no issue "
                  "date in the data and are not counted as new debt. " if old_fac else "")
               + f"All-in = coupon, or SOFR + margin with SOFR = "
               f"{sofr_pct:g}% (ASSUMPTION: no SOFR series in the data). Weighted by facility size (commitments, "
               "not amounts drawn). Facilities with no rate in the data are listed and left out of the average. "
               "Averages: the principal-weighted effective rate of the latest debt table by facility; and the effective "
               "interest rate of the key figures: 4 x quarterly interest expense, net (after capitalised interest and "
               "interest income) / average debt at the two quarter ends, on one basis (principal at both, else the "
               f"carrying amount at both; in {avg_q}, {avg_basis}).")))
    # liquidity, on the schedule's date
    on = sched["as_of"].iloc[0] if len(sched) else None
    if on is None:
        sec.text("liquidity", "Liquidity is set against the maturity schedule, which is not in the data at the note's date.")
    else:
        period = _period_ending(on)
        gap_rows = FN.period_funding_gap(fund, [period]) if period else pd.DataFrame()
        gap_rec = gap_rows.iloc[0].to_dict() if len(gap_rows) else {"period": None, "funding_gap": np.nan}
        if period and _na(gap_rec["funding_gap"]):  # not reported for the period: the sum of its quarters, if all known
            gap_rec = FN.gap_from_quarters(sec.data["gap"], period)
        liq = FN.liquidity(fund, sched, gap_rec, on)
        sec.data["liquidity"] = liq
        sec.table("liquidity", liq.assign(date=[fmt.date(d) for d in liq["date"]]), {"value": "usd_m"})
        sec.value("liquidity_coverage", liq.attrs["coverage"], "ratio",
                  "(cash incl. restricted + undrawn) / (next four quarters' maturities + last year's funding gap)",
                  sorted({s for x in liq["source"].dropna() for s in x.split("; ")}), period=fmt.date(on))
        sec.exhibit("liquidity", exhibits.table(
            pd.DataFrame({"Item": liq["item"], "Date": [fmt.date(d) for d in liq["date"]],
                          "USD m": [fmt.usd_m(x, 0) if not _na(x) or _na(lo) else
                                    f"{fmt.usd_m(lo, 0)} to {fmt.usd_m(hi, 0)}"
                                    for x, lo, hi in zip(liq["value"], liq["low"], liq["high"], strict=True)],
                          "Confidence": liq["confidence"].fillna(""),
                          "Note": liq["note"].fillna("")}),
            title=(f"At {fmt.date(on)} cash and undrawn facilities covered {fmt.ratio(liq.attrs['coverage'], 2)} of a "
                   "year's maturities plus a repeat of the year's funding gap" if not _na(liq.attrs["coverage"]) else
                   f"Liquidity at {fmt.date(on)}: not every component is in the data"),
            source=_src_line(liq["source"], reg) + ".",
            notes=("All rows at one balance-sheet date (the latest maturity schedule's). Available = cash incl. "
                   "restricted + undrawn facilities; needs = principal due in the next four quarters + the funding gap "
                   "of the year to that date. Coverage below 1x means new financing is needed within the year."
                   + (" '$A to $B': a range (the schedule's calendar years do not split at that date)."
                      if liq["low"].notna().any() else "")
                   + (" Confidence is blank where the figure is not in the data."
                      if (liq["value"].isna() & liq["low"].isna()).any() else ""))))


def _period_ending(d) -> str | None:
    d = pd.Timestamp(d)
    return {(12, 31): f"FY{d.year}", (6, 30): f"{d.year}H1", (9, 30): f"{d.year}-9M"}.get((d.month, d.day))


# --------------------------------------------------------------------------- returns on capital
def _life_basis(fund, reported_life) -> str:
    """Where the reported life comes from: the data public on the note's date (with the latest
    change of life they show), or an assumption where they give none."""
    h = U.useful_life_history(fund)
    if not len(h):
        return "an ASSUMPTION: the data of the note's date give no useful life"
    ch = U.life_change(h)
    if ch is not None and ch["current"] == reported_life:
        return (f"the life since {fmt.date(ch['effective'])[:4]}; {fmt.num(ch['previous'], 0)} years before "
                f"[{', '.join(ch['sources'])}]")
    last = h.iloc[-1]
    return (f"the life the data state [{last['source']}]" if float(last["life"]) == reported_life
            else f"an ASSUMPTION: the data state {fmt.num(float(last['life']), 0)} years [{last['source']}]")


def _roic(sec, panel, ratios, lives, share, reported_life, reg) -> None:
    roic = FN.returns_on_capital(panel, lives, computing_share_of_da=share, reported_life=reported_life)
    sec.data["roic"] = roic
    sec.table("roic", roic, {"operating_income": "usd_m", "operating_income_restated": "usd_m",
                             "capital_start": "usd_m", "capital_end": "usd_m", "capital": "usd_m",
                             "roic_annualised": "fraction", "useful_life": "years"})
    full = roic.dropna(subset=["roic_annualised"])
    v = sec.verdict(FN.returns_on_capital_verdict(roic, ratios["effective_interest_rate"],
                                                  reported_life=reported_life))
    q, basis = v.evidence.get("quarter"), v.evidence.get("capital_basis", "average_net_ppe")
    srcs = sorted({s for qq in full["quarter"].unique()
                   for m in ("operating_income", "depreciation_and_amortization", "property_and_equipment_net",
                             "property_and_equipment_gross") if panel.record(qq, m)["source"]
                   for s in panel.record(qq, m)["source"].split(";")})
    basis_words = {"average_gross_ppe": "average gross PP&E", "average_net_ppe": "average net PP&E",
                   "closing_net_ppe": "closing net PP&E"}
    for life in lives:
        x = full[(full["quarter"] == q) & (full["capital_basis"] == basis) & (full["useful_life"] == life)]
        sec.value(f"roic_{int(life)}y", x["roic_annualised"].iloc[0] if len(x) else np.nan, "fraction",
                  f"Annualised operating income at a {int(life)}-year life / {basis_words[basis]}", srcs, period=q)
    piv = full.pivot_table(index=["quarter", "capital_basis"], columns="useful_life", values="roic_annualised")
    piv = piv.reindex(columns=sorted(piv.columns, reverse=True)).reset_index()
    basis_names = {"average_gross_ppe": "average gross PP&E", "average_net_ppe": "average net PP&E",
                   "closing_net_ppe": "closing net PP&E"}
    tbl = pd.DataFrame({"Quarter": piv["quarter"], "Capital": piv["capital_basis"].map(basis_names)})
    for c in piv.columns[2:]:
        tbl[f"{int(c)}-year life"] = [fmt.pct(x, 1) for x in piv[c]]
    tbl["Effective interest rate"] = [fmt.pct(ratios.at[qq, "effective_interest_rate"], 1) if qq in ratios.index
                                      else fmt.NA for qq in piv["quarter"]]
    sec.text("roic_summary", sec.items[f"verdict:{v.key}"])
    sec.exhibit("roic", exhibits.table(
        tbl, title={"below cost of debt": "Returns on PP&E stay below the effective interest rate at every life",
                    "above cost of debt": "Returns on PP&E stay above the effective interest rate at every life",
                    "above only at the reported life": f"Returns on PP&E clear the interest rate only at the {int(reported_life)}-year life",
                    }.get(v.answer, "Annualised operating return on PP&E at each useful life"),
        source=_src_line(srcs, reg) + ".",
        notes=(f"Annualised operating return = 4 x quarterly operating income / capital. Operating income restated "
               f"for a useful life of computing equipment of L years: D&A x {reported_life}/L for the share "
               f"{fmt.pct(share, 0)} of D&A taken as computing equipment (ASSUMPTION), the reported figure at "
               f"{reported_life} years ({_life_basis(sec.data['fund'], reported_life)}). Capital: property and equipment as reported "
               "(including construction in progress), the average of the quarter's opening and closing balances, or "
               "the closing balance where no opening one is in the data (a separate row). Pre-tax; not restated "
               "for the lower net PP&E a shorter life would leave. Quarters without PP&E in the data are omitted.")))


# --------------------------------------------------------------------------- dilution
def _dilution(sec, fund, fac, reg) -> None:
    shares = FN.share_counts(fund)
    sec.data["shares"] = shares
    sec.table("share_counts", shares.assign(date=[fmt.date(d) for d in shares["date"]],
                                            period_end=[fmt.date(d) for d in shares["period_end"]]),
              {c: "count" for c in ("class_a", "class_b", "class_c", "total")})
    conv = fac[(fac["facility"].isin(FN.CONVERTIBLES)) & (fac["measure"] == "issued")]
    best = F.best_figures(fund)
    price = FN.latest_figure(fund, "convertible_notes_2031_conversion_price", None, best)
    rows = []
    for r in conv.itertuples():
        p = price["value"] if r.facility == "convertible_notes_2031" else np.nan
        n = FN.convertible_shares(r.amount_usd_m, p)
        rows.append({"Instrument": FACILITY_NAMES[r.facility], "Principal": fmt.usd_m(r.amount_usd_m, 0),
                     "Conversion price": fmt.usd(p), "Shares on conversion": fmt.num(n / 1e6, 1) + "m" if not _na(n)
                     else fmt.NA, "Sources": "; ".join(x for x in (r.source, price["source"] if not _na(p) else None) if x),
                     "Confidence": "low" if not _na(p) and price["confidence"] == "low" else r.confidence})
        sec.value(f"{r.facility}_shares_on_conversion", n, "count", f"Class A shares if the {FACILITY_NAMES[r.facility]} "
                  "all converted", [r.source, price["source"]], period=fmt.date(r.as_of))
    eq = []
    for m, label in (("ipo_net_proceeds", "IPO, net of underwriting"),
                     ("ipo_overallotment_net_proceeds", "Over-allotment, net of underwriting")):
        f = FN.latest_figure(fund, m, None, best)
        eq.append({"Equity raised": label, "USD m": fmt.usd_m(f["value"], 0), "Period": f["period"] or fmt.NA,
                   "Source": f["source"] or "", "Confidence": f["confidence"] or ""})
    from ..data import load_financings
    finc = load_financings(as_of=sec.as_of)
    nv = finc[finc["kind"] == "equity_investment"]
    for r in nv.itertuples():
        eq.append({"Equity raised": f"{r.holder} investment", "USD m": fmt.usd_m(r.value_usd_m, 0),
                   "Period": fmt.date(r.announced)[:7] if not _na(r.announced) else fmt.NA,
                   "Source": r.source, "Confidence": "medium" if r.source_kind == "transcript" else ""})
    counts = shares.dropna(subset=["total"])
    last = counts.iloc[-1] if len(counts) else None
    sh_tbl = pd.DataFrame({"Count date": [fmt.date(d) for d in shares["date"]],
                           "Balance-sheet date": [fmt.date(d) for d in shares["period_end"]],
                           "Class A": [fmt.num(x / 1e6, 1) + "m" if not _na(x) else fmt.NA for x in shares["class_a"]],
                           "Class B": [fmt.num(x / 1e6, 1) + "m" if not _na(x) else fmt.NA for x in shares["class_b"]],
                           "Class C": [fmt.num(x / 1e6, 1) + "m" if not _na(x) else fmt.NA for x in shares["class_c"]],
                           "Total": [fmt.num(x / 1e6, 1) + "m" if not _na(x) else fmt.NA for x in shares["total"]],
                           "Confidence": shares["confidence"], "Sources": shares["sources"]})
    sec.exhibit("share_counts", exhibits.table(
        sh_tbl, title=(f"{fmt.num(last['total'] / 1e6, 1)}m shares of all classes at the latest full count, "
                       f"on {fmt.date(last['date'])}" if last is not None else "Share counts by class"),
        source=_src_line(shares["sources"], reg) + ".",
        notes=("Counts as the sources give them. Count date: the date a filing's cover page counts the shares at (it "
               "follows the balance-sheet date of the period the filing covers, shown beside it); where a source gives "
               "no such date, the balance-sheet date. " + " ".join(f"The {fmt.date(r.date)} row is low confidence (an approximation from a "
                                         "secondary report)" + ("; it has no Class C count." if _na(r.class_c) else ".")
                                         for r in shares.itertuples() if r.confidence == "low")
               + " Later cover-page counts are not in the data.")))
    if not rows:
        sec.text("converts", "No convertible notes had been issued by the note's date.")
    else:
        sec.exhibit("converts", exhibits.table(
            pd.DataFrame(rows), title="Convertible notes and the shares they could become",
            source=_src_line([r["Sources"] for r in rows], reg) + ".",
            notes=("Shares on conversion = principal / conversion price, before the capped calls bought with part of the "
                   "proceeds and before cash settlement, both of which reduce dilution. The conversion price is a news "
                   "report of the pricing (low confidence); the indenture's conversion rate is not in the data.")))
    sec.exhibit("equity_raised", exhibits.table(
        pd.DataFrame(eq), title="Equity raised since the IPO",
        source=_src_line([r["Source"] for r in eq], reg) + ".",
        notes="Cash-flow statement lines (net of underwriting)" + "".join(
            f"; for the {r.holder} investment, {_src_line([r.source], reg)} (exact date not verified)"
            for r in nv.itertuples()) + "."))
