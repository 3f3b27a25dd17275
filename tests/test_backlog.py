"""Tests for analysis.backlog: golden arithmetic on filed figures, hand-worked constructed cases.

Golden figures (all USD millions) and where they come from, as stored in data/fundamentals.csv:
- revenue backlog 2025Q3 = 55,600: CoreWeave Q3-25 press release [PR_25Q3], high confidence.
- revenue backlog 2025Q2 = 30,100: FINTOOL and MarketScreener [FINTOOL, MSCREEN], both low.
- revenue 2025Q3 = 1,364.676 (USD thousands in the release): [PR_25Q3], high.
- RPO 2024-12-31 = 15,100 (S-1 via [VN]); RPO 2025-03-31 = 14,700 (Q1-25 10-Q [10Q_25Q1]);
  revenue 2025Q1 = 981.632 (Q1-25 10-Q [10Q_25Q1]).
- FY2025 revenue guidance: 5,150-5,350 on 2025-08-12 ([USSA], low), 5,050-5,150 on 2025-11-10
  ([TR_25Q3], medium); 4,900-5,100 on 2025-05-14 ([WSCN], low).
- contracted power 2025-09-30 = 2,900 MW ([PR_25Q3], high); 2026-03-31 'more than 3.5 GW' ([TR_26Q1]).
- contracts announced in 2025Q3 (contracts.csv): NVIDIA 6,300, OpenAI 6,500, Meta 14,200.
Tolerance: 1e-6 USD m for sums of filed figures (exact arithmetic on the stored decimals).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis import backlog as B
from analysis.data import load_contracts, load_fundamentals

TOL = 1e-6
QDAYS = 365.25 / 4


@pytest.fixture(scope="module")
def fund():
    return load_fundamentals()


@pytest.fixture(scope="module")
def panel(fund):
    return B.backlog_panel(fund)


def filed_revenue(fund, quarters):
    """Quarterly revenue exactly as filed (high-confidence quarter rows only), for golden tests
    that must not depend on the quarterly panel of analysis.fundamentals."""
    r = fund[(fund["metric"] == "revenue") & fund["period"].isin(quarters) & (fund["confidence"] == "high")]
    assert set(r["period"]) == set(quarters)
    return pd.DataFrame({"quarter": r["period"].to_numpy(), "revenue": r["value"].to_numpy(),
                         "revenue_source": r["source"].to_numpy(), "revenue_confidence": r["confidence"].to_numpy(),
                         "revenue_derived": False})


# ---- panel ----------------------------------------------------------------------------------

def test_panel_golden_values_and_sources(panel):
    rb = panel[panel["metric"] == "revenue_backlog"].set_index("quarter")
    assert rb.at["2025Q3", "value"] == 55_600 and rb.at["2025Q3", "source"] == "PR_25Q3"
    assert rb.at["2025Q3", "confidence"] == "high"
    assert rb.at["2025Q2", "value"] == 30_100 and rb.at["2025Q2", "confidence"] == "low"
    assert rb.at["2025Q2", "source"] in ("FINTOOL", "MSCREEN") and rb.at["2025Q2", "n_sources"] == 2
    rpo = panel[panel["metric"] == "rpo_total"].set_index("quarter")
    assert rpo.at["2025Q1", "value"] == 14_700 and rpo.at["2025Q1", "source"] == "10Q_25Q1"
    # timing shares converted from pct (58) to fractions
    share = panel[(panel["metric"] == "rpo_within_24m_pct") & (panel["quarter"] == "2025Q1")]["value"].item()
    assert share == pytest.approx(0.58, abs=1e-12)


def test_year_end_balances_map_to_q4_once(panel):
    # revenue backlog at 2025-12-31 is filed under both 2025Q4 (TR_25Q4) and FY2025 (RR): one cell
    rb = panel[(panel["metric"] == "revenue_backlog") & (panel["quarter"] == "2025Q4")]
    assert len(rb) == 1 and rb["value"].item() == 66_800 and rb["n_sources"].item() == 2
    assert not (panel["quarter"].str.startswith("FY")).any()
    assert not panel.duplicated(["quarter", "metric"]).any()
    # RPO at 2025-12-31 exists only under FY2025 and lands in 2025Q4
    rpo = panel[(panel["metric"] == "rpo_total") & (panel["quarter"] == "2025Q4")]
    assert rpo["value"].item() == 60_700 and rpo["filed_under"].item() == "FY2025"


def test_highest_confidence_wins_and_alternative_is_shown(fund):
    # constructed: the filed 2025Q3 backlog row plus a conflicting low-confidence news row
    row = fund[(fund["metric"] == "revenue_backlog") & (fund["period"] == "2025Q3")].copy()
    fake = row.assign(value=50_000.0, source="MSCREEN", source_kind="news", confidence="low", line=99_999)
    p = B.backlog_panel(pd.concat([fake, row], ignore_index=True))
    assert p["value"].item() == 55_600 and p["source"].item() == "PR_25Q3"
    assert "MSCREEN 50,000 (low" in p["alternatives"].item()
    assert not p["sources_agree"].item()


def test_as_of_excludes_q3_backlog():
    # the Q3-25 release (2025-11-10) is not public on 2025-11-09
    p = B.backlog_panel(load_fundamentals(as_of="2025-11-09"))
    rb = p[p["metric"] == "revenue_backlog"]
    assert "2025Q3" not in set(rb["quarter"]) and rb["quarter"].max() == "2025Q2"
    assert (p["published"] <= pd.Timestamp("2025-11-09")).all()
    p2 = B.backlog_panel(load_fundamentals(as_of="2025-11-10"))
    assert "2025Q3" in set(p2.loc[p2["metric"] == "revenue_backlog", "quarter"])


# ---- roll-forward ---------------------------------------------------------------------------

def test_rollforward_golden_2025q3(fund, panel):
    rf = B.rollforward(panel, filed_revenue(fund, ["2025Q1", "2025Q2", "2025Q3"])).set_index("quarter")
    r = rf.loc["2025Q3"]
    assert r["bookings"] == pytest.approx(55_600 - 30_100 + 1_364.676, abs=TOL)
    assert r["book_to_bill"] == pytest.approx((55_600 - 30_100 + 1_364.676) / 1_364.676, abs=TOL)
    assert r["coverage_years"] == pytest.approx(55_600 / (4 * 1_364.676), abs=TOL)
    assert r["conversion"] == pytest.approx(1_364.676 / 30_100, abs=TOL)
    assert (r["backlog_source"], r["revenue_source"]) == ("PR_25Q3", "PR_25Q3")
    assert r["backlog_prev_confidence"] == "low" and r["confidence"] == "low"  # weakest input
    # 2025Q2 = 30,100 - 25,900 + 1,212.788 (PR_25Q1 backlog, PR_25Q2 revenue)
    assert rf.loc["2025Q2", "bookings"] == pytest.approx(30_100 - 25_900 + 1_212.788, abs=TOL)


def test_rpo_and_backlog_never_mixed(fund, panel):
    rev = filed_revenue(fund, ["2025Q1", "2025Q2", "2025Q3"])
    rf = B.rollforward(panel, rev, basis="revenue_backlog").set_index("quarter")
    # no revenue backlog is filed for 2024-12-31; the RPO of 15,100 there must not stand in
    assert math.isnan(rf.loc["2025Q1", "bookings"]) and "2024Q4" in rf.loc["2025Q1", "reason"]
    assert math.isnan(rf.loc["2025Q1", "conversion"])
    rb_vals = set(panel.loc[panel["metric"] == "revenue_backlog", "value"])
    assert set(rf["backlog"]) <= rb_vals
    assert set(rf["backlog_prev"].dropna()) <= rb_vals
    # the RPO roll-forward uses RPO only: 2025Q1 = 14,700 - 15,100 + 981.632
    rr = B.rollforward(panel, rev, basis="rpo").set_index("quarter")
    assert rr.loc["2025Q1", "bookings"] == pytest.approx(14_700 - 15_100 + 981.632, abs=TOL)
    assert set(rr["basis"]) == {"rpo"} and set(rf["basis"]) == {"revenue_backlog"}
    # every panel row's metric belongs to its basis
    for m, b in zip(panel["metric"], panel["basis"], strict=True):
        assert m.startswith("rpo") == (b == "rpo")
    # constructed: with only RPO rows there is no revenue-backlog roll-forward at all
    only_rpo = B.backlog_panel(fund[fund["metric"] == "rpo_total"])
    assert B.rollforward(only_rpo, rev, basis="revenue_backlog").empty
    with pytest.raises(ValueError):
        B.measure_series(panel, "both")


def test_rollforward_missing_revenue_is_nan_not_zero(panel):
    rev = pd.DataFrame({"quarter": ["2025Q2"], "revenue": [1_212.788], "revenue_source": ["PR_25Q2"],
                        "revenue_confidence": ["high"], "revenue_derived": [False]})
    rf = B.rollforward(panel, rev).set_index("quarter")
    assert math.isnan(rf.loc["2025Q3", "bookings"]) and "no revenue for 2025Q3" in rf.loc["2025Q3", "reason"]
    assert math.isnan(rf.loc["2025Q3", "coverage_years"])


# ---- contract ledger ------------------------------------------------------------------------

def test_contract_ledger(fund, panel):
    rf = B.rollforward(panel, filed_revenue(fund, ["2025Q1", "2025Q2", "2025Q3"]))
    led = B.contract_ledger(load_contracts(), rf)
    q3 = led.by_quarter.set_index("quarter").loc["2025Q3"]
    assert q3["announced_usd_m"] == pytest.approx(6_300 + 6_500 + 14_200, abs=TOL)
    assert q3["n_contracts"] == 3
    assert q3["explained_share"] == pytest.approx(27_000 / (55_600 - 30_100 + 1_364.676), abs=TOL)
    # Jane Street has no announced date: listed apart, in no quarter
    assert list(led.undated["counterparty"]) == ["Jane Street"]
    assert "Jane Street" not in " ".join(led.by_quarter["counterparties"])
    # acquisitions are not bookings
    assert set(led.other["kind"]) == {"acquisition_all_stock", "acquisition_terminated"}
    assert "Core Scientific" not in " ".join(led.by_quarter["counterparties"])
    # point in time: the undated contract is dropped by the loader, the Meta 2026 deal not yet known
    led2 = B.contract_ledger(load_contracts(as_of="2025-11-10"), rf)
    assert led2.undated.empty and led2.contracts["announced"].max() <= pd.Timestamp("2025-11-10")


# ---- guidance -------------------------------------------------------------------------------

def test_guidance_picked_by_publication_date(fund):
    h = B.guidance_history(fund, "revenue")
    g = B.guidance_as_of(h, "FY2025", "2025-08-12")
    assert (g["low"], g["high"], g["source"]) == (5_150, 5_350, "USSA")
    g = B.guidance_as_of(h, "FY2025", "2025-11-10")
    assert (g["low"], g["high"], g["source"]) == (5_050, 5_150, "TR_25Q3")
    g = B.guidance_as_of(h, "FY2025", "2025-08-11")
    assert (g["low"], g["high"]) == (4_900, 5_100)
    assert B.guidance_as_of(h, "FY2025", "2025-05-13") is None
    fy = h[h["period"] == "FY2025"].set_index("published")
    assert fy.loc[pd.Timestamp("2025-11-10"), "revision_kind"] == "cut"
    assert fy.loc[pd.Timestamp("2025-11-10"), "revision"] == pytest.approx((5_050 + 5_150) / 2 - (5_150 + 5_350) / 2)
    assert fy.loc[pd.Timestamp("2025-08-12"), "revision_kind"] == "raised"
    assert fy["is_latest"].sum() == 1 and fy.loc[pd.Timestamp("2025-11-10"), "is_latest"]


def test_guidance_honours_as_of():
    h = B.guidance_history(load_fundamentals(as_of="2025-11-09"), "revenue")
    fy = h[h["period"] == "FY2025"]
    assert fy["published"].max() == pd.Timestamp("2025-08-12") and fy["is_latest"].iloc[-1]


def test_guidance_outcome_constructed(fund):
    h = B.guidance_history(fund, "revenue", actuals=pd.DataFrame({
        "period": ["FY2025"], "actual": [5_100.0], "actual_source": ["X"], "actual_confidence": ["high"],
        "actual_derived": [False]}))
    fy = h[h["period"] == "FY2025"].set_index("published")
    # 5,100 is within 5,050-5,150 and 4,900-5,100 (inclusive), below 5,150-5,350
    assert list(fy["outcome"]) == ["within", "below", "within"]
    assert fy.loc[pd.Timestamp("2025-08-12"), "surprise_vs_mid"] == pytest.approx(5_100 / 5_250 - 1)
    assert (h.loc[h["period"] != "FY2025", "outcome"] == "").all()


# ---- delay scenario -------------------------------------------------------------------------

def test_zero_delay_shifts_nothing():
    s = B.delay_scenario(0, 0.5, 5, 55_600, 0.09, 14_205.268)
    assert (s.table["revenue_shifted"] == 0).all() and (s.table["interest_during_delay"] == 0).all()
    assert s.totals["revenue_shifted"] == 0 and s.totals["interest_during_delay"] == 0
    assert set(s.table["label"]) == {"scenario"}


def test_full_share_one_quarter_delay_shifts_one_quarter_of_revenue():
    # 100% of a 4,000 backlog over 5 years: 200 a quarter recognised straight-line
    s = B.delay_scenario(QDAYS, 1.0, 5, 4_000, 0.10, 1_000, n_quarters=3, start_quarter="2025Q4")
    t = s.table.set_index("quarter")
    assert t.loc["2025Q4", "revenue_shifted"] == pytest.approx(4_000 / (4 * 5), abs=TOL)
    assert t.loc["2025Q4", "revenue_shifted"] == pytest.approx(t.loc["2025Q4", "affected_revenue_base"], abs=TOL)
    assert t.loc["2026Q1", "revenue_shifted"] == 0 and t.loc["2026Q2", "revenue_shifted"] == 0
    assert s.totals["interest_during_delay"] == pytest.approx(1_000 * 0.10 / 4, abs=TOL)
    assert s.totals["recovered_after_quarter"] == 20


def test_partial_delay_hand_worked():
    # 60 days, 9% of 55,600 over 5 years: base = 0.09 * 55,600 / 20 = 250.2 a quarter;
    # quarter 1 loses 250.2 * 60 / 91.3125; interest = 0.09 * 10,000 * 0.08 * 60 / 365.25
    s = B.delay_scenario(60, 0.09, 5, 55_600, 0.08, 10_000, n_quarters=2)
    assert s.table["revenue_shifted"].iloc[0] == pytest.approx(250.2 * 60 / QDAYS, abs=TOL)
    assert s.table["revenue_shifted"].iloc[1] == 0
    assert s.totals["interest_during_delay"] == pytest.approx(0.09 * 10_000 * 0.08 * 60 / 365.25, abs=TOL)
    # 120 days spill into quarter 2 for 120 - 91.3125 days
    s2 = B.delay_scenario(120, 0.09, 5, 55_600, 0.08, 10_000, n_quarters=3)
    assert list(s2.table["delay_days_in_quarter"]) == pytest.approx([QDAYS, 120 - QDAYS, 0])
    assert s2.table["revenue_shifted"].iloc[1] == pytest.approx(250.2 * (120 - QDAYS) / QDAYS, abs=TOL)
    assert s2.totals["revenue_shifted"] == pytest.approx(250.2 * 120 / QDAYS, abs=TOL)


def test_delay_scenario_rejects_bad_parameters():
    with pytest.raises(ValueError):
        B.delay_scenario(-1, 0.1, 5, 1, 0.1, 1)
    with pytest.raises(ValueError):
        B.delay_scenario(10, 1.5, 5, 1, 0.1, 1)


def test_denton_share_from_contracted_power(fund):
    d = B.denton_affected_share(fund, "2025Q3", 260)
    assert d["share"] == pytest.approx(260 / 2_900) and d["source"] == "PR_25Q3" and not d["lower_bound"]
    # no contracted power is filed for 2026Q2: the latest earlier quarter (2026Q1, '>3.5 GW') is used
    d = B.denton_affected_share(fund, "2026Q2", 260)
    assert d["contracted_quarter"] == "2026Q1" and d["share"] == pytest.approx(260 / 3_500) and d["lower_bound"]
    d = B.denton_affected_share(fund, "2024Q4", 260, fallback_back=0)
    assert math.isnan(d["share"]) and d["reason"]


def test_quarter_labels():
    assert B.shift_quarter("2025Q1", -1) == "2024Q4" and B.shift_quarter("2025Q4", 1) == "2026Q1"
    assert B.quarter_label(pd.Timestamp("2025-12-31")) == "2025Q4"
    assert B.quarter_end("2025Q3") == pd.Timestamp("2025-09-30")


def test_scenario_inputs_at_one_quarter(fund, panel):
    from analysis.fundamentals import quarterly_panel
    from analysis.unit_economics import ratio_table

    qp = quarterly_panel(fund)
    ratios = ratio_table(qp)
    si = B.scenario_inputs(fund, panel, qp, ratios, site_mw=260, quarter="2025Q3")
    assert si["backlog"] == 55_600 and si["backlog_source"] == "PR_25Q3"
    assert si["affected_share"] == pytest.approx(260 / 2_900) and si["share_basis"]["source"] == "PR_25Q3"
    # debt principal 2025-09-30 (SEC R97) and the rate: 4 x Q3 interest / mean(Q2, Q3 principal)
    assert si["debt"] == pytest.approx(14_205.268, abs=TOL) and si["debt_basis"] == "principal"
    assert si["effective_rate"] == pytest.approx(4 * 310.555 / ((11_171.485 + 14_205.268) / 2), abs=1e-9)
    assert {"PR_25Q3", "SEC_R97_25Q3", "SEC_R41"} <= set(si["sources"]) and si["reason"] == ""
    assert si["rate_quarter"] == "2025Q3" and si["reference_revenue"] == pytest.approx(1_364.676)
    # every input of the table is at the scenario quarter: no quarter is mixed
    assert set(si["inputs"]["quarter"]) == {"2025Q3"}
    # a given share is used as given, with no contracted-power basis
    si2 = B.scenario_inputs(fund, panel, qp, ratios, site_mw=260, quarter="2025Q3", affected_share=0.25)
    assert si2["affected_share"] == 0.25 and si2["share_basis"] is None
    # default quarter: the latest quarter in which backlog, revenue, contracted power, debt and rate all
    # exist; full build: 2025Q4 (no 2026 quarter has debt at both ends, 2026Q2 has no contracted power)
    si4 = B.scenario_inputs(fund, panel, qp, ratios, site_mw=260)
    assert si4["quarter"] == "2025Q4" and si4["rate_quarter"] == "2025Q4" and set(si4["inputs"]["quarter"]) == {"2025Q4"}
    # on 2025-11-10 the 2025-09-30 principal (10-Q, 2025-11-13) is not yet public: the Q3 rate and
    # debt are on the carrying amount of the press release (3,712.177 + 10,322.757), same quarter
    f10 = load_fundamentals(as_of="2025-11-10")
    qp10 = quarterly_panel(f10)
    si3 = B.scenario_inputs(f10, B.backlog_panel(f10), qp10, ratio_table(qp10), site_mw=260)
    assert (si3["quarter"], si3["rate_quarter"]) == ("2025Q3", "2025Q3") and si3["reason"] == ""
    assert si3["backlog"] == 55_600 and si3["affected_share"] == pytest.approx(260 / 2_900)
    assert si3["debt"] == pytest.approx(3_712.177 + 10_322.757, abs=TOL) and si3["debt_basis"] == "carrying amount"


def test_reported_delay_is_dated_data(fund):
    # WSJ report of 2025-12-15 (event E18) via TheMinerMag 2025-12-16 [MINERMAG_WSJ]: about 60 days
    # at the 260 MW Denton campus; not public on 2025-11-10 (the Q3-25 call gave no size)
    d = B.reported_delay(fund)
    assert (d["delay_days"], d["site_mw"], d["source"]) == (60, 260, "MINERMAG_WSJ")
    assert d["site"] == "Denton, Texas campus"
    assert d["published"] == pd.Timestamp("2025-12-15")
    assert B.reported_delay(load_fundamentals(as_of="2025-11-10")) is None
    assert B.reported_delay(load_fundamentals(as_of="2025-12-15")) is None  # read in a 2025-12-16 document


def test_actuals_for_guided_periods(fund):
    a = B.actuals_for(fund, ["2025Q3", "2026Q3"]).set_index("period")
    assert a.loc["2025Q3", "actual"] == pytest.approx(1_364.676, abs=TOL)  # PR_25Q3
    assert math.isnan(a.loc["2026Q3", "actual"]) and a.loc["2026Q3", "actual_reason"]  # no Q3-26 results


def test_timing_amounts_use_their_own_balance(panel):
    t = B.timing_amounts(panel)
    rb = t[(t["basis"] == "revenue_backlog") & (t["quarter"] == "2026Q1") & (t["window"] == "months 1-24")]
    # Q1-26 call [TR_26Q1]: 36% of the 99,400 revenue backlog within 24 months
    assert rb["amount"].item() == pytest.approx(0.36 * 99_400, abs=TOL)
    assert rb["per_year"].item() == pytest.approx(0.36 * 99_400 / 2, abs=TOL)
    # Q1-25 10-Q: 58% of RPO 14,700 within 24 months (not of the 25,900 revenue backlog)
    rp = t[(t["basis"] == "rpo") & (t["quarter"] == "2025Q1") & (t["window"] == "months 1-24")]
    assert rp["amount"].item() == pytest.approx(0.58 * 14_700, abs=TOL)
    assert t["derived"].all()


def test_scenario_share_of_reference_revenue():
    s = B.delay_scenario(QDAYS, 1.0, 5, 4_000, 0.1, 1_000, n_quarters=1, reference_revenue=800)
    assert s.table["shifted_share_of_revenue"].iloc[0] == pytest.approx(200 / 800)
    s = B.delay_scenario(QDAYS, 1.0, 5, 4_000, 0.1, 1_000, n_quarters=1)
    assert math.isnan(s.table["shifted_share_of_revenue"].iloc[0])


def test_scenario_basis_says_which_input_holds_it_back(fund, panel):
    # full data: revenue backlog 104,000 [PHYS], revenue 2,575 [PHYS] and debt (carrying, 35,068) exist for
    # 2026Q2, contracted power 'more than 3.5 GW' [TR_26Q1] for 2026Q1, but no debt balance for 2026-03-31:
    # the effective rate (debt at both ends of a quarter) stops at 2025Q4, which therefore is the basis
    from analysis.fundamentals import quarterly_panel
    from analysis.unit_economics import ratio_table

    qp = quarterly_panel(fund)
    si = B.scenario_inputs(fund, panel, qp, ratio_table(qp), site_mw=260)
    assert si["quarter"] == "2025Q4"
    assert si["latest_by_input"] == {"revenue backlog": "2026Q2", "revenue": "2026Q2", "debt": "2026Q2",
                                     "effective interest rate": "2025Q4", "contracted power": "2026Q1"}
    assert [x["input"] for x in si["limited_by"]] == ["effective interest rate"]
    assert "no debt balance at the end of 2026Q1" in si["limited_by"][0]["why"]
    assert (si["last_reported_quarter"], si["last_reported_revenue"]) == ("2026Q2", pytest.approx(2_575))
    # as of 2026-02-26 (Q4-25 results) the 2025-12-31 debt is not yet public: debt and rate hold the basis at 2025Q3
    f = load_fundamentals("2026-02-26")
    qf = quarterly_panel(f)
    sf = B.scenario_inputs(f, B.backlog_panel(f), qf, ratio_table(qf), site_mw=260)
    assert sf["quarter"] == "2025Q3" and sf["last_reported_quarter"] == "2025Q4"
    assert {x["input"] for x in sf["limited_by"]} == {"debt", "effective interest rate"}
    # every input at its latest quarter: nothing holds the basis back
    assert B._basis_limits("2025Q4", {"a": "2025Q4", "b": "2025Q4"}, qp) == []


def test_scenario_quarters_start_after_the_last_reported_revenue():
    # a basis at 2025Q4 while 2026Q1 and 2026Q2 revenue are reported: the scenario starts in 2026Q3, never
    # in a reported quarter
    assert B.first_scenario_quarter("2025Q4", "2026Q2") == "2026Q3"
    assert B.first_scenario_quarter("2025Q3", "2025Q3") == "2025Q4"
    assert B.first_scenario_quarter("2025Q3", None) == "2025Q4"


def test_timing_table_rows_sorted_and_each_source_once(panel):
    t = B.timing_amounts(panel)
    assert list(t["quarter"]) == sorted(t["quarter"])
    # the Q1-26 call gave both the 36% share and the 99,400 balance: one id, not 'TR_26Q1; TR_26Q1'
    assert set(t.loc[t["quarter"] == "2026Q1", "sources"]) == {"TR_26Q1"}
    assert not any(len(s.split("; ")) != len(set(s.split("; "))) for s in t["sources"])
