"""analysis.funding on real data (expected values hand-computed from the documents' figures, the
arithmetic written out) and on small constructed frames with known answers."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from analysis import fundamentals as F
from analysis import funding as FN
from analysis.data import load_debt_facilities, load_debt_maturities, load_fundamentals

METRICS = F.PANEL_METRICS + ("operating_cash_flow", "capex_cash", "property_and_equipment_gross",
                             "property_and_equipment_net")


@pytest.fixture(scope="module")
def fund():
    return load_fundamentals()


@pytest.fixture(scope="module")
def panel(fund):
    return F.quarterly_panel(fund, "2024Q1", metrics=METRICS)


def _rows(*rows):
    """Constructed fundamentals frame: (period, metric, value, confidence, source)."""
    recs = []
    for i, (period, metric, value, conf, src) in enumerate(rows, start=2):
        y = int(re.search(r"\d{4}", period)[0])
        start, end = {"Q1": ("01-01", "03-31"), "Q2": ("04-01", "06-30"), "Q3": ("07-01", "09-30"),
                      "Q4": ("10-01", "12-31"), "H1": ("01-01", "06-30"), "9M": ("01-01", "09-30"),
                      "FY": ("01-01", "12-31")}[period[-2:] if period[-2] in "QH9" else "FY"]
        recs.append({"line": i, "period": period, "period_start": pd.Timestamp(f"{y}-{start}"),
                     "period_end": pd.Timestamp(f"{y}-{end}"), "published": pd.Timestamp(f"{y + 1}-01-15"),
                     "metric": metric, "value": float(value), "unit": "usd_m", "source_kind": "filing",
                     "source": src, "confidence": conf, "note": None, "undated": False})
    return pd.DataFrame(recs)


# --------------------------------------------------------------------------- funding gap
def test_funding_gap_real_2025q3(panel):
    # Q3-25 PR cash-flow statement, three months: purchase of PP&E 3,278,786; operating cash flow
    # 1,689,134 (thousands) -> gap 3,278.786 - 1,689.134 = 1,589.652
    g = FN.funding_gap(panel).set_index("quarter")
    r = g.loc["2025Q3"]
    assert r["funding_gap"] == pytest.approx(1589.652, abs=1e-6)
    assert not r["derived"] and r["sources"] == "PR_25Q3" and r["confidence"] == "high"


def test_funding_gap_real_derived_2025q2(panel):
    # Q2-25 = 9M - Q1 - Q3 (PR_25Q3 9M, 10-Q Q1): capex 6,249.239 - 1,407.359 - 3,278.786 = 1,563.094;
    # OCF 1,499.051 - 61.168 - 1,689.134 = -251.251; gap = 1,563.094 + 251.251 = 1,814.345
    r = FN.funding_gap(panel).set_index("quarter").loc["2025Q2"]
    assert r["capex_cash"] == pytest.approx(1563.094, abs=1e-6)
    assert r["funding_gap"] == pytest.approx(1814.345, abs=1e-6)
    assert r["derived"] and r["capex_cash_derived"] and r["operating_cash_flow_derived"]


def test_funding_gap_missing_stays_missing(panel):
    g = FN.funding_gap(panel).set_index("quarter")
    # 2026Q1: capex 7,695 (secondary) but no quarterly operating cash flow (only H1-26)
    assert math.isnan(g.loc["2026Q1", "funding_gap"]) and "operating cash flow" in g.loc["2026Q1", "reason"].lower()
    assert math.isnan(g.loc["2024Q4", "funding_gap"])


def test_funding_gap_constructed_derivation_flags():
    fund = _rows(("2025Q1", "operating_cash_flow", 10, "high", "A"), ("2025H1", "operating_cash_flow", 25, "high", "B"),
                 ("2025Q1", "capex_cash", 40, "high", "A"), ("2025Q2", "capex_cash", 50, "high", "C"),
                 ("2025Q1", "revenue", 1, "high", "A"), ("2025Q2", "revenue", 1, "high", "C"))
    p = F.quarterly_panel(fund, "2025Q1", metrics=("revenue", "operating_cash_flow", "capex_cash"))
    g = FN.funding_gap(p).set_index("quarter")
    assert g.loc["2025Q1", "funding_gap"] == 30 and not g.loc["2025Q1", "derived"]
    # Q2 OCF = H1 25 - Q1 10 = 15 (derived); gap = 50 - 15 = 35
    assert g.loc["2025Q2", "funding_gap"] == 35
    assert g.loc["2025Q2", "operating_cash_flow_derived"] and not g.loc["2025Q2", "capex_cash_derived"]


def test_period_gap_and_financing_real(fund):
    # Q3-25 PR nine months: capex 6,249.239, OCF 1,499.051 -> gap 4,750.188; debt proceeds 7,562.686
    # - repayments 2,978.850 = 4,583.836 net; IPO 1,422.619 + over-allotment 67.669 = 1,490.288
    f = FN.gap_financing(fund, "2025-9M")
    assert f["funding_gap"] == pytest.approx(4750.188, abs=1e-6)
    assert f["net_debt_raised"] == pytest.approx(4583.836, abs=1e-6)
    assert f["equity_raised"] == pytest.approx(1490.288, abs=1e-6)
    assert f["debt_share_of_gap"] == pytest.approx(4583.836 / 4750.188, rel=1e-12)
    v = FN.funding_gap_verdict(f)
    assert v.answer == "debt" and v.period == "2025-9M" and "96%" in v.sentence  # 4,583.836 / 4,750.188 = 96.5%


def test_financing_missing_lines_are_not_zero(fund):
    f = FN.gap_financing(fund, "FY2025")  # no FY2025 debt flows in the data
    assert math.isnan(f["net_debt_raised"]) and math.isnan(f["equity_raised"])
    assert FN.funding_gap_verdict(f).answer == "insufficient data"


def test_funding_verdict_leads_with_the_newest_gap_real(fund, check_headline):
    # newest gap: 2026H1 (Q2-26 PR via PHYS: capex 14,117, OCF 3,660 -> 10,457), whose debt flows are not in
    # the data; the latest period with both: 2025-9M (PR_25Q3), not 2025Q3 (same end, shorter)
    latest, context = FN.latest_gap_financing(fund, ["2025Q3", "2025-9M", "FY2025", "2026H1"])
    assert latest["period"] == "2026H1" and latest["funding_gap"] == pytest.approx(14117 - 3660)
    assert context["period"] == "2025-9M"
    v = FN.funding_gap_verdict(latest, context)
    # the answer is for the period the data support, and names it; the newest gap's financing is said to be unknown
    assert v.answer == "debt, in 2025-9M" and v.conclusive and v.period == "2026H1; financing 2025-9M"
    assert v.sentence.startswith("In 2026H1 cash capex of $14.1bn exceeded operating cash flow of $3.7bn by $10.5bn; "
                                 "how it was financed is not in the data")
    assert "In 2025-9M, the latest period whose debt flows are in the data" in v.sentence and "96%" in v.sentence
    check_headline(v, "net new debt covered 96% of the $4.8bn gap",
                   "2026H1 gap $10.5bn (capex $14.1bn, operating cash flow $3.7bn), financing unknown")
    assert v.lead.startswith("Debt, in 2025-9M: net new debt covered 96%")
    assert v.evidence["context_period"] == "2025-9M" and v.evidence["funding_gap"] == pytest.approx(10457)
    # as of 2025-11-10 the newest gap is the nine months, whose financing is known: no context
    latest, context = FN.latest_gap_financing(load_fundamentals("2025-11-10"), ["2025Q3", "2025-9M"])
    assert latest["period"] == "2025-9M" and context is None
    check_headline(FN.funding_gap_verdict(latest), "2025-9M gap $4.8bn (capex $6.2bn, operating cash flow $1.5bn)",
                   "net new debt covered 96%, IPO equity 31%")


def test_funding_verdict_constructed(check_headline):
    base = {"period": "P", "capex_cash": 150.0, "operating_cash_flow": 50.0, "funding_gap": 100.0,
            "net_debt_raised": 30.0, "equity_raised": 60.0, "debt_share_of_gap": 0.3, "equity_share_of_gap": 0.6,
            "reason": None}
    assert FN.funding_gap_verdict(base).answer == "equity"
    assert FN.funding_gap_verdict({**base, "equity_raised": 10.0, "equity_share_of_gap": 0.1}).answer == "mixed"
    surplus = FN.funding_gap_verdict({**base, "operating_cash_flow": 155.0, "funding_gap": -5.0})
    assert surplus.answer == "not applicable"
    check_headline(surplus, "P operating cash flow $0.2bn covered cash capex $0.1bn")
    # the newest period's financing unknown: the answer comes from the context period, marked as such
    unknown = {**base, "period": "Q", "net_debt_raised": float("nan"), "equity_raised": float("nan"),
               "debt_share_of_gap": float("nan"), "equity_share_of_gap": float("nan"), "reason": "no flows"}
    ctx = {**base, "net_debt_raised": 80.0, "debt_share_of_gap": 0.8}
    v = FN.funding_gap_verdict(unknown, ctx)
    assert v.answer == "debt, in P" and v.period == "Q; financing P"
    check_headline(v, "Q gap $0.1bn", "financing unknown", "net new debt covered 80% of the $0.1bn gap")
    mixed = FN.funding_gap_verdict(unknown, {**ctx, "debt_share_of_gap": 0.3, "equity_share_of_gap": 0.1})
    assert mixed.answer == "mixed, in P" and not mixed.conclusive
    # no older period to fall back on: insufficient data, and the headline still states the gap
    none = FN.funding_gap_verdict(unknown)
    assert none.answer == "insufficient data"
    check_headline(none, "Q gap $0.1bn (capex $0.1bn, operating cash flow $0.1bn); its financing is not in the data")
    missing = FN.funding_gap_verdict({**unknown, "funding_gap": float("nan")})
    assert missing.answer == "insufficient data" and "Q" in check_headline(missing)


# --------------------------------------------------------------------------- debt stack and maturities
def test_debt_stack_latest_full_table_and_weighted_rate():
    st = FN.debt_stack(load_debt_facilities())
    assert set(st["as_of"]) == {pd.Timestamp("2025-06-30")}  # R41: the latest full table
    w = FN.weighted_effective_rate(st)
    # R41 at 2025-06-30: (1,782.5 x 15 + 4,953.967 x 11 + 2,000 x 10 + 450 x 7 + 1,728.388 x 9.5
    #                     + 256.63 x 12) / 11,171.485 = 11.089%
    num = 1782.5 * 15 + 4953.967 * 11 + 2000 * 10 + 450 * 7 + 1728.388 * 9.5 + 256.63 * 12
    assert w["rate"] == pytest.approx(num / 11171.485 / 100, rel=1e-12)
    assert w["principal_total"] == pytest.approx(11171.485, abs=1e-6)


def test_maturities_real_and_next_four_quarters():
    mat = load_debt_maturities()
    s = FN.debt_maturities(mat, "2025-06-30")
    assert list(s["due"]) == ["rest of 2025", "2026", "2027", "2028", "2029", "after 2029"]
    assert s["share_of_total"].sum() == pytest.approx(1.0, abs=1e-9)
    n = FN.maturities_next_four_quarters(s)
    # mid-year: a range, rest of 2025 986.052 to 986.052 + 4,218.457 = 5,204.509
    assert not n["exact"] and math.isnan(n["value"])
    assert (n["low"], n["high"]) == (pytest.approx(986.052), pytest.approx(5204.509))
    y = FN.maturities_next_four_quarters(FN.debt_maturities(mat))  # 2025-12-31 (10-K via RR)
    assert y["exact"] and y["value"] == 6708


def test_next_four_quarters_empty_schedule():
    n = FN.maturities_next_four_quarters(pd.DataFrame(columns=FN.MATURITY_COLUMNS))
    assert math.isnan(n["value"]) and n["sources"] is None


# --------------------------------------------------------------------------- marginal cost
def test_marginal_cost_real_by_hand():
    m, tab = FN.marginal_cost_of_debt(load_debt_facilities(), sofr_pct=4.0)
    # window 2025-07-25..2026-05-18 without convertibles; DDTL 5.0 has no rate (left out):
    # (1,750 x 9.00 + 3,000 x (4 + 4.25) + 2,600 x (4 + 4.00) + 8,500 x (4 + 2.25) + 1,000 x 9.75) / 16,850
    num = 1750 * 9.0 + 3000 * 8.25 + 2600 * 8.0 + 8500 * 6.25 + 1000 * 9.75
    assert m["value"] == pytest.approx(num / 16850 / 100, rel=1e-12)
    assert m["amount_weighted"] == 16850 and m["confidence"] == "low"
    assert tab.set_index("facility").loc["ddtl_5_0", "reason"] == "ddtl_5_0: no rate in the data"
    assert "convertible_notes_2031" not in set(tab["facility"])
    m2, tab2 = FN.marginal_cost_of_debt(load_debt_facilities(), sofr_pct=4.0, include_convertibles=True)
    assert "convertible_notes_2031" in set(tab2["facility"]) and m2["value"] < m["value"]


def test_new_debt_leaves_out_facilities_dated_only_by_a_balance_sheet():
    # as of 2025-11-10: the Q1-25 10-Q (published 2025-05-14) describes DDTL 1.0 (July 2023), DDTL 2.0 (May 2024)
    # and the revolver at its 2025-03-31 balance sheet: no issue date, not new debt. New: the 2031 notes (8-K,
    # 2025-07-25), DDTL 2.1 (8-K of 2025-09-29; its rate from the Q3-25 release) and DDTL 3.0 (the Q3-25 release
    # says only that it closed in the quarter)
    fac = load_debt_facilities("2025-11-10")
    kinds = {(r["facility"], r["source"]): FN.date_kind(r) for _, r in fac[fac["measure"] == "commitment"].iterrows()}
    assert kinds[("ddtl_1_0", "10Q_25Q1")] == "balance sheet" and kinds[("ddtl_2_1", "8K_DDTL21")] == "event"
    assert kinds[("ddtl_3_0", "PR_25Q3")] == "quarter"
    m, tab = FN.marginal_cost_of_debt(fac, sofr_pct=4.0)
    assert list(tab["facility"]) == ["senior_notes_2031", "ddtl_2_1", "ddtl_3_0"]
    assert list(tab["raised"]) == ["2025-07-25", "2025-09-29", "in 2025Q3"]
    assert m["window"] == "2025-07-25 to 2025-09-30"


def test_marginal_cost_needs_a_stated_sofr():
    with pytest.raises(ValueError):
        FN.marginal_cost_of_debt(load_debt_facilities(), sofr_pct=None)


def test_marginal_cost_constructed():
    fac = pd.DataFrame({"as_of": pd.to_datetime(["2024-01-01", "2025-01-01", "2025-06-01"]),
                        "facility": ["ddtl_1_0", "ddtl_3_0", "senior_notes_2031"],
                        "measure": ["commitment", "commitment", "issued"], "amount_usd_m": [100.0, 300.0, 100.0],
                        "rate_kind": ["sofr_margin", "sofr_margin", "stated"], "rate_pct": [9.0, 2.0, 10.0],
                        "rate_high_pct": np.nan, "source": ["A", "B", "C"], "confidence": "high"})
    m, tab = FN.marginal_cost_of_debt(fac, sofr_pct=5.0, window_days=200)
    # only the last two fall within 200 days: (300 x 7% + 100 x 10%) / 400 = 7.75%
    assert list(tab["facility"]) == ["ddtl_3_0", "senior_notes_2031"]
    assert m["value"] == pytest.approx(0.0775, abs=1e-12)


# --------------------------------------------------------------------------- returns on capital
def test_roic_real_2025q1(panel):
    r = FN.returns_on_capital(panel, (6, 5, 4), computing_share_of_da=1.0)
    q = r[(r["quarter"] == "2025Q1") & (r["capital_basis"] == "average_net_ppe")].set_index("useful_life")
    # Q1-25 10-Q: operating income -27.470, D&A 443.497; net PP&E 11,914.774 (2024-12-31) and
    # 14,210.992 (2025-03-31), average 13,062.883.
    avg = (11914.774 + 14210.992) / 2
    assert q.loc[6.0, "roic_annualised"] == pytest.approx(4 * -27.470 / avg, rel=1e-9)
    # 4 years: D&A x 6/4 = 665.2455; operating income -27.470 - 221.7485 = -249.2185
    assert q.loc[4.0, "roic_annualised"] == pytest.approx(4 * (-27.470 - 443.497 * 0.5) / avg, rel=1e-9)
    g = r[(r["quarter"] == "2025Q1") & (r["capital_basis"] == "average_gross_ppe")].set_index("useful_life")
    assert g.loc[5.0, "roic_annualised"] == pytest.approx(4 * (-27.470 - 443.497 * 0.2) / ((12880.005 + 15610.549) / 2),
                                                          rel=1e-9)
    # 2025Q2: no PP&E at 2025-06-30 in the data -> missing with a reason, not zero
    q2 = r[(r["quarter"] == "2025Q2") & (r["capital_basis"] == "average_net_ppe")]
    assert q2["roic_annualised"].isna().all() and q2["reason"].str.lower().str.contains("net property and equipment").all()
    # closing basis at 2025-09-30: 4 x 51.850 / 20,659.181
    c = r[(r["quarter"] == "2025Q3") & (r["capital_basis"] == "closing_net_ppe") & (r["useful_life"] == 6.0)]
    assert c["roic_annualised"].iloc[0] == pytest.approx(4 * 51.850 / 20659.181, rel=1e-9)


def test_roic_verdict_real(panel):
    from analysis import unit_economics as U

    r = FN.returns_on_capital(panel, (6, 5, 4), computing_share_of_da=1.0)
    rates = U.ratio_table(panel)["effective_interest_rate"]
    v = FN.returns_on_capital_verdict(r, rates)
    # the latest quarter with returns and a rate is 2025Q3 (PP&E at 2025-09-30 but not at 2025-06-30: the closing
    # balance), not 2025Q1 (the latest with an average): 4 x 51.850 / 20,659.181 = 1.00%; at 4 years
    # 4 x (51.850 - 630.5 x 0.5) / 20,659.181 = -5.1%; against the rate of the same quarter
    assert v.answer == "below cost of debt" and v.period == "2025Q3"
    assert v.evidence["capital_basis"] == "closing_net_ppe"
    assert v.evidence["roic_6y"] == pytest.approx(4 * 51.850 / 20659.181, rel=1e-9)
    assert v.evidence["cost_of_debt"] == rates["2025Q3"]
    assert v.headline.startswith("in 2025Q3, annualised return on closing net PP&E 1.0% at 6 years, -5.1% at 4, ")
    assert v.headline.endswith(f"against that quarter's {100 * rates['2025Q3']:.1f}% effective rate")
    # as of 2025-11-10 the same quarter and basis (the Q3-25 release gave PP&E), with that note's own rate
    p = F.quarterly_panel(load_fundamentals("2025-11-10"), "2024Q1", metrics=tuple(dict.fromkeys(F.PANEL_METRICS + FN.ROIC_METRICS)))
    v = FN.returns_on_capital_verdict(FN.returns_on_capital(p, (6, 5, 4), computing_share_of_da=1.0),
                                      U.ratio_table(p)["effective_interest_rate"])
    assert v.period == "2025Q3" and v.evidence["capital_basis"] == "closing_net_ppe"


def test_roic_verdict_constructed(check_headline):
    roic = pd.DataFrame({"quarter": ["Q"] * 3, "useful_life": [6.0, 5.0, 4.0], "capital_basis": "average_net_ppe",
                         "roic_annualised": [0.12, 0.08, 0.03]})
    rate = lambda x: pd.Series({"Q": x})  # noqa: E731
    v = FN.returns_on_capital_verdict(roic, rate(0.10))
    assert v.answer == "above only at the reported life"
    check_headline(v, "in Q, annualised return on average net PP&E 12.0% at 6 years, 3.0% at 4, against that quarter's 10.0% "
                      "effective rate")
    assert FN.returns_on_capital_verdict(roic, rate(0.02)).answer == "above cost of debt"
    assert FN.returns_on_capital_verdict(roic, rate(0.20)).answer == "below cost of debt"
    # only a rate of the same quarter counts: none for Q -> no verdict
    assert FN.returns_on_capital_verdict(roic, pd.Series({"P": 0.20})).answer == "insufficient data"
    assert FN.returns_on_capital_verdict(roic, rate(float("nan"))).answer == "insufficient data"
    # a later quarter on the closing basis only wins over an earlier average, and names its basis
    later = pd.concat([roic, roic.assign(quarter="R", capital_basis="closing_net_ppe")])
    v = FN.returns_on_capital_verdict(later, pd.Series({"Q": 0.10, "R": 0.10}))
    assert v.period == "R" and "closing net PP&E" in v.headline and "no opening balance" in v.sentence


# --------------------------------------------------------------------------- liquidity and dilution
def test_liquidity_fy2025(fund):
    gap = FN.period_funding_gap(fund, ["FY2025"]).iloc[0].to_dict()
    liq = FN.liquidity(fund, FN.debt_maturities(load_debt_maturities()), gap, "2025-12-31")
    # 10-K via RR / CLAIMS: cash incl. restricted 4,130 + undrawn 3,700 = 7,830 available;
    # 2026 maturities 6,708 + FY2025 gap (10,309 - 3,058 = 7,251) = 13,959 needs
    assert liq.attrs["available"] == 7830 and liq.attrs["needs"] == 13959
    assert liq.attrs["coverage"] == pytest.approx(7830 / 13959, rel=1e-12)
    cash = liq.set_index("item").loc["cash and cash equivalents"]
    assert math.isnan(cash["value"]) and "not in the data at 2025-12-31" in cash["note"]


def test_liquidity_mid_year_range_and_half_year_gap():
    # as of 2025-11-10 the latest schedule is at 2025-06-30 (R41): the next four quarters fall due between the rest
    # of 2025 (986.052) and that plus 2026 (986.052 + 4,218.457): bounds, shown as such, with their confidence
    f = load_fundamentals("2025-11-10")
    p = F.quarterly_panel(f, "2024Q1", metrics=("operating_cash_flow", "capex_cash"))
    gap = FN.funding_gap(p)
    # 2025H1 is not reported; its quarters are: 2025Q1 (10-Q: 1,407.359 - 61.218) + 2025Q2 (derived 9M - Q1 - Q3)
    h1 = FN.gap_from_quarters(gap, "2025H1")
    g = gap.set_index("quarter")["funding_gap"]
    assert h1["funding_gap"] == pytest.approx(g["2025Q1"] + g["2025Q2"], rel=1e-12) and h1["derived"]
    assert h1["parts"] == "2025Q1 + 2025Q2*"
    assert math.isnan(FN.gap_from_quarters(gap, "FY2024")["funding_gap"])  # 2024Q4 not in the data: not summed
    liq = FN.liquidity(f, FN.debt_maturities(load_debt_maturities("2025-11-10")), h1, "2025-06-30").set_index("item")
    due = liq.loc["principal due in the next four quarters"]
    assert math.isnan(due["value"]) and (due["low"], due["high"]) == (pytest.approx(986.052), pytest.approx(5204.509))
    assert "at least the rest of 2025, at most the rest of 2025 plus all of 2026" in due["note"]
    assert "(low)" not in due["note"] and "(high)" not in due["note"]
    row = liq.loc["funding gap, 2025H1"]
    assert row["value"] == pytest.approx(h1["funding_gap"]) and "2025Q1 + 2025Q2* (derived)" in row["note"]
    assert "part-year" in row["note"]
    # a missing figure has no confidence
    assert pd.isna(liq.loc["undrawn facilities", "confidence"]) and math.isnan(liq.loc["undrawn facilities", "value"])


def test_share_counts_and_convertible_shares(fund):
    s = FN.share_counts(fund).set_index("date")
    # Q1-25 10-Q cover: 361,875,093 A + 118,102,040 B + 0 C "as of 2025-05-07", dated at that count date (not at the
    # 2025-03-31 balance sheet of the quarter the 10-Q covers, which is kept beside it)
    assert s.loc[pd.Timestamp("2025-05-07"), "total"] == 361875093 + 118102040
    assert s.loc[pd.Timestamp("2025-05-07"), "period_end"] == pd.Timestamp("2025-03-31")
    assert math.isnan(s.loc[pd.Timestamp("2025-12-31"), "total"])  # no Class C count at FY2025
    # $2,250m / $107.80 = 20,871,985.2 shares
    assert FN.convertible_shares(2250.0, 107.80) == pytest.approx(2250e6 / 107.80, rel=1e-12)
    assert math.isnan(FN.convertible_shares(2250.0, float("nan")))
