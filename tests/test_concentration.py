"""Tests for analysis.concentration: HHI bounds, revenue shares, backlog shares, scenarios.

Hand-worked cases state their arithmetic in comments; real-data cases name the filing or
release each expected value comes from.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import concentration as C
from analysis.backlog import backlog_panel, backlog_wide, measure_series
from analysis.data import load_contracts, load_customers, load_fundamentals, load_sources
from analysis.fundamentals import quarterly_panel
from analysis.unit_economics import ratio_table

PIT = "2025-11-10"  # the Q3-25 results day: a point-in-time build


# ---- HHI arithmetic: hand-worked cases ---------------------------------------------------

def test_pack_hand_cases():
    # 23 points into parts of at most 10: 10 + 10 + 3 -> 100 + 100 + 9 = 209
    assert C.pack_max_sum_squares(23, 10) == pytest.approx(209)
    # exact multiple: 10 + 10 -> 200
    assert C.pack_max_sum_squares(20, 10) == pytest.approx(200)
    # remainder below the cap: one part of 5 -> 25
    assert C.pack_max_sum_squares(5, 10) == pytest.approx(25)
    assert C.pack_max_sum_squares(0, 10) == 0
    with pytest.raises(ValueError):
        C.pack_max_sum_squares(5, 0)


def test_hhi_bounds_62_15_rest_undisclosed():
    # FY2024 shape: 62% + 15% disclosed, 23% undisclosed, 10% threshold.
    # lower: 62^2 + 15^2 = 3,844 + 225 = 4,069 (the 23% spread over many tiny customers -> 0)
    # upper: the 23% packed as 10 + 10 + 3 (each undisclosed customer is below 10%; the bound
    #        is the limit as the two packed customers approach 10%): 4,069 + 100 + 100 + 9 = 4,278
    b = C.hhi_bounds_from_shares([62, 15])
    assert b["lower"] == pytest.approx(4069)
    assert b["upper"] == pytest.approx(4278)
    assert b["remainder_pct"] == pytest.approx(23)
    assert b["cap_pct"] == pytest.approx(10)
    # effective numbers: 10,000 / 4,069 = 2.4576...; 10,000 / 4,278 = 2.3375...
    assert b["effective_n_max"] == pytest.approx(2.45760629, rel=1e-8)
    assert b["effective_n_min"] == pytest.approx(2.33754091, rel=1e-8)
    # no completeness assumption and no rank information: the 23% may be one customer:
    # 4,069 + 23^2 = 4,598
    assert b["upper_unrestricted"] == pytest.approx(4598)


def test_hhi_bounds_cap_is_smallest_disclosed_when_below_threshold():
    # a period disclosing a customer at 8% has a threshold of at most 8%:
    # lower = 50^2 + 8^2 = 2,564; remainder 42 = 5 x 8 + 2 -> 5 x 64 + 4 = 324; upper = 2,888
    b = C.hhi_bounds_from_shares([50, 8])
    assert b["cap_pct"] == pytest.approx(8)
    assert b["lower"] == pytest.approx(2564)
    assert b["upper"] == pytest.approx(2888)


def test_hhi_bounds_ranked_top_three():
    # 2026Q2 shape: top three 36, 26, 10 (ranked); remainder 28 -> 10 + 10 + 8
    # lower = 1,296 + 676 + 100 = 2,072; upper = 2,072 + 100 + 100 + 64 = 2,336; the ranked
    # third customer already caps the rest at 10, so the unrestricted bound is the same.
    b = C.hhi_bounds_from_shares([36, 26, 10], rank_cap_pct=10)
    assert (b["lower"], b["upper"], b["upper_unrestricted"]) == pytest.approx((2072, 2336, 2336))


def test_hhi_bounds_block():
    # 'top three = 73%' with only a 35% customer disclosed: the other two share 38% (each <= 35).
    # block lower: equal split 19 + 19 -> 722; block upper: 35 + 3 -> 1,225 + 9 = 1,234.
    # remainder 27, cap = min(10, 35, 38/2) = 10 -> 10 + 10 + 7 -> 249.
    # lower = 1,225 + 722 = 1,947; upper = 1,225 + 1,234 + 249 = 2,708
    b = C.hhi_bounds_from_shares([35], blocks=[(38, 2, 35)])
    assert b["lower"] == pytest.approx(1947)
    assert b["upper"] == pytest.approx(2708)


def test_equal_customers_effective_number_is_their_count():
    # four customers of 25% each: HHI = 4 x 625 = 2,500 both ways; effective number = 4
    b = C.hhi_bounds_from_shares([25, 25, 25, 25])
    assert b["lower"] == b["upper"] == pytest.approx(2500)
    assert b["effective_n_max"] == b["effective_n_min"] == pytest.approx(4)


def test_hhi_rejects_overfull_disclosure():
    with pytest.raises(ValueError):
        C.hhi_bounds_from_shares([70, 40])


def test_bounds_contain_true_hhi_property():
    """Construct many true customer lists, disclose those at or above the threshold, check that
    the true HHI lies in [lower, upper] and that lower <= upper <= upper_unrestricted."""
    rng = np.random.default_rng(20251110)
    for _ in range(2000):
        n_big = int(rng.integers(0, 4))
        big = rng.uniform(10, 45, size=n_big)
        if big.sum() > 95:
            big *= 95 / big.sum()
            big = big[big >= 10]
        rest = 100 - big.sum()
        # split the rest into small customers below 10% (and below the smallest big one)
        cap = min([10.0] + list(big)) - 1e-9
        small = []
        while rest > 1e-9:
            x = min(rest, float(rng.uniform(0.01, cap)))
            small.append(x)
            rest -= x
        true = np.concatenate([big, small])
        true_hhi = float((true ** 2).sum())
        disclosed = sorted((x for x in true if x >= 10), reverse=True)
        b = C.hhi_bounds_from_shares(disclosed)
        assert b["lower"] <= true_hhi + 1e-6
        assert true_hhi <= b["upper"] + 1e-6
        assert b["lower"] <= b["upper"] <= b["upper_unrestricted"] + 1e-9
        assert b["effective_n_max"] >= b["effective_n_min"]
        if disclosed:  # with nothing disclosed the lower bound is 0 and the number unbounded
            assert b["effective_n_max"] * b["lower"] == pytest.approx(10_000)
        else:
            assert b["lower"] == 0 and b["effective_n_max"] == math.inf
        assert b["effective_n_min"] * b["upper"] == pytest.approx(10_000)


def test_antitrust_reading():
    # 2023 US Merger Guidelines: > 1,800 highly; 1,000-1,800 moderately; < 1,000 un-
    assert C.antitrust_reading(4069, 4278) == "highly concentrated"
    assert C.antitrust_reading(1200, 1500) == "moderately concentrated"
    assert C.antitrust_reading(256, 1072) == "unconcentrated to moderately concentrated"
    assert C.antitrust_reading(500, 900) == "unconcentrated"
    assert C.antitrust_reading(1225, 1850) == "moderately concentrated to highly concentrated"


# ---- revenue shares: constructed rows ------------------------------------------------------

def _rows(period, items, published="2025-03-03"):
    return pd.DataFrame([{
        "line": i + 2, "period": period, "published": pd.Timestamp(published), "customer": c,
        "measure": "revenue_share", "value": float(v), "unit": "pct", "source_kind": "secondary",
        "source": "X", "note": "", "undated": False} for i, (c, v) in enumerate(items)])


def test_aggregate_derives_second_customer():
    d = C.resolve_period(_rows("FY2024", [("Microsoft", 62), ("top two customers", 77)]))
    second = [c for c in d.customers if c["derived"]]
    assert len(second) == 1 and second[0]["share_pct"] == pytest.approx(15) and second[0]["rank"] == 2
    assert d.rank_cap_pct == pytest.approx(15)


def test_aggregate_conflict_is_flagged_not_used():
    d = C.resolve_period(_rows("FY2024", [("Microsoft", 62), ("Customer B", 15), ("top two customers", 90)]))
    assert not any(c["derived"] for c in d.customers)
    assert d.aggregates[0]["check"].startswith("conflict")
    assert any("90%" in n for n in d.notes)


def test_aggregate_rows_are_not_customers():
    df = pd.concat([_rows("FY2023", [("Microsoft", 35), ("Customer B", 17), ("Customer C", 21),
                                     ("top three customers", 73)]),
                    _rows("2024Q1", [("Customer A", 33)])])
    rs = C.revenue_shares(df)
    assert "top three customers" not in set(rs["customer"])
    assert set(rs["basis"]) == {"annual", "quarterly"}
    # labels are period-specific: 'Customer A' of 2024Q1 is not merged with any FY2023 label
    assert rs.loc[rs["customer"] == "Customer A", "period"].tolist() == ["2024Q1"]
    with pytest.raises(ValueError):
        C.resolve_period(df)  # two periods are never resolved together


# ---- revenue shares and HHI: real data -------------------------------------------------------

@pytest.fixture(scope="module")
def sources():
    return load_sources()


#: VN, the only document in the data with the S-1's shares, quotes the Q1-26 10-Q: it exists from
#: 2026-05-08 (sources.csv), so a note as of PIT has no FY2024 shares at all
VN_DATE = "2026-05-08"


def test_fy2024_shares_are_absent_before_the_document_that_gives_them(sources):
    rs = C.revenue_shares(load_customers(PIT), sources)
    assert rs[rs["period"] == "FY2024"].empty


def test_fy2024_point_in_time_derives_second_from_top_two(sources):
    # S-1 (via VN, published 2025-03-03): Microsoft 62% of 2024 revenue, top two 77%. The 10-K's
    # Customer B 15% row has no verified date, so a point-in-time build must derive it: 77 - 62.
    h = C.hhi_table(load_customers(VN_DATE), sources).set_index("period")
    rs = C.revenue_shares(load_customers(VN_DATE), sources)
    fy24 = rs[rs["period"] == "FY2024"]
    assert fy24["derived"].tolist() == [False, True]
    assert fy24["share"].tolist() == pytest.approx([0.62, 0.15])
    assert h.at["FY2024", "hhi_lower"] == pytest.approx(4069)
    assert h.at["FY2024", "hhi_upper"] == pytest.approx(4278)
    assert h.at["FY2024", "top2_share"] == pytest.approx(0.77)
    assert h.at["FY2024", "reading"] == "highly concentrated"


def test_fy2023_top_three_consistent_full_build(sources):
    # 10-K FY2025 (via XN/RR): top three 73% = Microsoft 35% + 17% + 21%.
    # lower = 1,225 + 289 + 441 = 1,955; upper adds 27% packed as 10 + 10 + 7 -> 249: 2,204
    h = C.hhi_table(load_customers(), sources).set_index("period")
    assert h.at["FY2023", "hhi_lower"] == pytest.approx(1955)
    assert h.at["FY2023", "hhi_upper"] == pytest.approx(2204)
    assert "consistent" in h.at["FY2023", "notes"]
    assert h.at["FY2023", "top2_share"] == pytest.approx(0.56)  # 35 + 21


def test_hhi_table_honours_as_of_and_orders(sources):
    h = C.hhi_table(load_customers(PIT), sources)
    assert not {"FY2025", "2026Q1", "2026Q2"} & set(h["period"])
    assert (h["hhi_lower"] <= h["hhi_upper"]).all()
    assert (h["hhi_upper"] <= h["hhi_upper_unrestricted"]).all()
    # a period with a single disclosed customer has no determinable top-2 share
    row = h.set_index("period").loc["2025Q1"]
    assert math.isnan(row["top2_share"]) and "top-2" in row["reason"]


def test_latest_top_share(sources):
    # point in time: the Q2-25 10-Q's 'approximately 71%' is read only in VN, a document of
    # 2026-05-08, so the 2025-11-10 note has the Q1-25 10-Q's Customer A, 72% (10Q_25Q1, 2025-05-14)
    pit = C.latest_top_share(C.hhi_table(load_customers(PIT), sources))
    assert (pit["period"], pit["top1_share"]) == ("2025Q1", pytest.approx(0.72))
    assert (C.hhi_table(load_customers(VN_DATE), sources).set_index("period").at["2025Q2", "top1_share"]
            == pytest.approx(0.71))
    # full build: Q2-26 10-Q 'approximately 36%, 26%, and 10%' (via PHYS)
    full = C.latest_top_share(C.hhi_table(load_customers(), sources))
    assert (full["period"], full["top1_share"]) == ("2026Q2", pytest.approx(0.36))


# ---- backlog shares -------------------------------------------------------------------------

def test_openai_2025_total_equals_its_three_contracts():
    # Q3-25 PR: 'up to approximately $6.5 billion deal, bringing total commitments to up to
    # approximately $22.4 billion' = $11.9B (March MSA) + $4.0B (May) + $6.5B (September)
    k = load_contracts()
    rows = k[(k["counterparty"] == "OpenAI") & (k["announced"].dt.year == 2025)]
    assert sorted(rows["value_usd_m"]) == [4000, 6500, 11900]
    t = C.contracts_total(k, "OpenAI", "2025-01-01", "2025-12-31")
    assert t["n"] == 3
    assert t["value"] == pytest.approx(rows["value_usd_m"].sum())
    assert t["value"] == pytest.approx(22400)


def test_contracts_total_excludes_acquisitions_and_missing():
    k = load_contracts()
    assert math.isnan(C.contracts_total(k, "Core Scientific")["value"])  # acquisition, not backlog
    assert math.isnan(C.contracts_total(k, "Nobody")["value"])


def _backlog(items):
    return pd.DataFrame([{"quarter": q, "value": v, "source": "B", "confidence": "high",
                          "published": pd.Timestamp("2026-01-01")} for q, v in items])


def test_backlog_shares_use_contracts_dated_on_or_before_quarter_end():
    k = pd.DataFrame([
        {"line": 2, "announced": pd.Timestamp("2025-09-30"), "counterparty": "A", "kind": "customer_contract", "value_usd_m": 100.0, "source": "S1"},
        {"line": 3, "announced": pd.Timestamp("2025-10-01"), "counterparty": "A", "kind": "customer_contract", "value_usd_m": 50.0, "source": "S2"},
        {"line": 4, "announced": pd.Timestamp("2025-07-01"), "counterparty": "B", "kind": "capacity_agreement", "value_usd_m": 40.0, "source": "S3"},
        {"line": 5, "announced": pd.Timestamp("2025-08-01"), "counterparty": "C", "kind": "acquisition_all_stock", "value_usd_m": 900.0, "source": "S4"},
        {"line": 6, "announced": pd.NaT, "counterparty": "D", "kind": "customer_contract", "value_usd_m": 70.0, "source": "S5"},
    ])
    sh = C.backlog_shares(k, _backlog([("2025Q3", 1000.0), ("2025Q4", 1000.0)])).set_index(["quarter", "counterparty"])
    # Q3: A's contract on the quarter end counts (inclusive), the 1 October one does not
    assert sh.at[("2025Q3", "A"), "contracts_usd_m"] == 100
    assert sh.at[("2025Q3", "A"), "share"] == pytest.approx(0.10)
    assert sh.at[("2025Q4", "A"), "contracts_usd_m"] == 150  # cumulative
    assert sh.at[("2025Q3", "B"), "share"] == pytest.approx(0.04)
    assert "C" not in sh.index.get_level_values(1)  # acquisitions are not backlog
    assert "D" not in sh.index.get_level_values(1)  # undated: never assigned to a quarter
    assert sh.at[("2025Q3", "A"), "rank"] == 1
    assert C.undated_contracts(k)["counterparty"].tolist() == ["D"]


@pytest.fixture(scope="module")
def full_frames():
    fund = load_fundamentals()
    return fund, backlog_panel(fund), load_contracts(), load_customers()


def test_backlog_shares_real(full_frames):
    fund, bp, k, cu = full_frames
    sh = C.backlog_shares(k, measure_series(bp, "revenue_backlog")).set_index(["quarter", "counterparty"])
    # 2025Q3: OpenAI $22.4B of the $55.6B revenue backlog (Q3-25 PR) = 40.3% (TradingKey's
    # 'about 40%', claim C14)
    assert sh.at[("2025Q3", "OpenAI"), "share"] == pytest.approx(22400 / 55600)
    assert sh.at[("2025Q3", "OpenAI"), "share"] == pytest.approx(0.40, abs=0.01)
    # Meta's $21B expansion was announced 2026-04-09: not in 2026Q1, in 2026Q2
    assert sh.at[("2026Q1", "Meta"), "contracts_usd_m"] == 14200
    assert sh.at[("2026Q2", "Meta"), "contracts_usd_m"] == 14200 + 21000
    for (q, _cp), r in sh.iterrows():
        assert r["last_announced"] <= C._quarter_end(q)
    # Jane Street's $6B has no announcement date: listed, never placed in a quarter
    assert "Jane Street" not in sh.index.get_level_values(1)
    assert C.undated_contracts(k)["counterparty"].tolist() == ["Jane Street"]


def test_backlog_statements_and_top(full_frames):
    fund, bp, k, cu = full_frames
    st = C.backlog_statements(cu).set_index(["period", "subject"])
    # Q3-25 call: 'no single customer represents more than approximately 35%' (an upper bound)
    assert st.at[("2025Q3", "largest customer"), "share"] == pytest.approx(0.35)
    assert st.at[("2025Q3", "largest customer"), "bound"] == "upper"
    assert st.at[("2025Q3", "investment-grade customers"), "bound"] == "lower"
    top = C.backlog_top(C.backlog_shares(k, measure_series(bp, "revenue_backlog")),
                        C.backlog_statements(cu)).set_index("quarter")
    assert top.at["2025Q3", "top_counterparty"] == "OpenAI"
    assert top.at["2025Q3", "company_largest_share"] == pytest.approx(0.35)
    # (22.4 + 14.2 + 6.3) / 55.6
    assert top.at["2025Q3", "named_share"] == pytest.approx(42900 / 55600)


def test_backlog_shares_honour_as_of():
    fund = load_fundamentals(PIT)
    sh = C.backlog_shares(load_contracts(PIT), measure_series(backlog_panel(fund), "revenue_backlog"))
    assert sh["quarter"].max() == "2025Q3"
    assert (sh["last_announced"] <= pd.Timestamp(PIT)).all()


# ---- scenarios ------------------------------------------------------------------------------

def test_twelve_month_share_rule():
    # 24-month share spread evenly over 24 months: 36% -> 18% in the first 12
    assert C.twelve_month_share(0.36) == pytest.approx(0.18)


def test_exposure_scenario_hand_case():
    # exposure 1,000; backlog 10,000; half lost; 40% due within 24 months -> 20% within 12;
    # quarterly operating income 50, interest 100; contribution margin 0.8.
    # lost = 500; NTM revenue at risk = 500 x 0.2 = 100; backlog after = 9,500;
    # NTM operating income change = -100 x 0.8 = -80, i.e. -20 a quarter;
    # coverage 50/100 = 0.5 -> (50 - 20)/100 = 0.3; revenue at risk / annual interest = 100/400
    r = C.exposure_scenario(1000, 10000, 0.5, "loss", 0.4, 50, 100, 0.8)
    assert r["value_lost"] == pytest.approx(500)
    assert r["ntm_revenue_at_risk"] == pytest.approx(100)
    assert r["backlog_after"] == pytest.approx(9500)
    assert r["backlog_change_share"] == pytest.approx(-0.05)
    assert r["operating_income_change_ntm"] == pytest.approx(-80)
    assert r["interest_coverage_before"] == pytest.approx(0.5)
    assert r["interest_coverage_after"] == pytest.approx(0.3)
    assert r["revenue_at_risk_to_interest"] == pytest.approx(0.25)
    d = C.exposure_scenario(1000, 10000, 0.5, "deferral", 0.4, 50, 100, 0.8)
    assert d["backlog_after"] == pytest.approx(10000)  # deferred value stays in the backlog
    assert d["ntm_revenue_at_risk"] == pytest.approx(100)
    with pytest.raises(ValueError):
        C.exposure_scenario(1000, 10000, 0.5, "cancel", 0.4, 50, 100, 0.8)
    with pytest.raises(ValueError):
        C.exposure_scenario(1000, 10000, 1.5, "loss", 0.4, 50, 100, 0.8)


def test_timing_split_prefers_backlog_then_rpo():
    w = pd.DataFrame({"quarter": ["2025Q1", "2025Q3", "2026Q1"],
                      "revenue_backlog_within_24m_share": [np.nan, np.nan, 0.36],
                      "rpo_within_24m_share": [0.58, np.nan, np.nan]})
    assert C.timing_split(w, "2026Q2")["share"] == pytest.approx(0.36)
    t = C.timing_split(w, "2025Q3")
    assert t["share"] == pytest.approx(0.58) and t["quarter_used"] == "2025Q1"
    assert t["measure"].startswith("RPO")
    assert math.isnan(C.timing_split(w, "2024Q4")["share"])


def test_run_scenario_point_in_time():
    fund = load_fundamentals(PIT)
    panel = quarterly_panel(fund, "2024Q1")
    bp = backlog_panel(fund)
    st = C.backlog_statements(load_customers(PIT))
    s = C.run_scenario(load_contracts(PIT), bp, panel, ratio_table(panel), "OpenAI", 1.0, "loss", 1.0, st)
    assert s.reason == ""
    assert s.inputs["quarter"] == "2025Q3"
    t = s.table.set_index("key")
    assert t.at["exposure", "announced contracts"] == pytest.approx(22400)
    # company statement caps any single customer at ~35% of $55.6B = $19.46B
    assert t.at["exposure", "capped at company statement"] == pytest.approx(0.35 * 55600)
    # no revenue-backlog split by 2025Q3: the Q1-25 10-Q RPO split (58% within 24 months) is used
    assert s.inputs["timing_share_24m"] == pytest.approx(0.58)
    assert s.inputs["timing_quarter"] == "2025Q1"
    # coverage before = Q3-25 operating income 51.85 / interest 310.555 (Q3-25 PR)
    assert t.at["interest_coverage_before", "announced contracts"] == pytest.approx(51.85 / 310.555)
    w = backlog_wide(bp)
    assert "2026Q1" not in set(w["quarter"])


def test_run_scenario_unknown_customer_gives_reason():
    fund = load_fundamentals(PIT)
    panel = quarterly_panel(fund, "2024Q1")
    s = C.run_scenario(load_contracts(PIT), backlog_panel(fund), panel, ratio_table(panel), "Microsoft", 1.0)
    assert "Microsoft" in s.reason and s.table.shape[1] == 3  # key, figure, unit only


def test_period_threshold_changes_the_upper_bound_only():
    # with a 5% threshold for FY2024, the 23% remainder packs as 5+5+5+5+3: 4 x 25 + 9 = 109
    # -> upper 4,069 + 109 = 4,178; the lower bound is unchanged
    df = _rows("FY2024", [("Microsoft", 62), ("top two customers", 77)])
    h = C.hhi_table(df, thresholds={"FY2024": 5}).iloc[0]
    assert h["hhi_lower"] == pytest.approx(4069)
    assert h["hhi_upper"] == pytest.approx(4178)
    assert h["cap_share"] == pytest.approx(0.05)


def test_duplicate_rows_prefer_higher_confidence_and_note_conflict():
    df = _rows("FY2025", [("Microsoft", 67), ("Microsoft", 65)])
    df.loc[1, "source"] = "LOWSRC"
    registry = pd.DataFrame({"id": ["X", "LOWSRC"], "default_confidence": ["medium", "low"]})
    d = C.resolve_period(df, registry)
    assert [c["share_pct"] for c in d.customers] == [67]
    assert any("65%" in n and "67%" in n for n in d.notes)


def test_timing_split_takes_the_newest_disclosure_backlog_first_at_a_tie():
    # the 2026Q2 RPO split (41%, Q2-26 10-Q) is newer than the 2026Q1 revenue-backlog split (36%)
    w = pd.DataFrame({"quarter": ["2026Q1", "2026Q2"], "revenue_backlog_within_24m_share": [0.36, np.nan],
                      "rpo_within_24m_share": [np.nan, 0.41]})
    t = C.timing_split(w, "2026Q2")
    assert t["share"] == pytest.approx(0.41) and t["quarter_used"] == "2026Q2" and t["measure"].startswith("RPO")
    both = w.assign(revenue_backlog_within_24m_share=[0.36, 0.40])
    assert C.timing_split(both, "2026Q2")["share"] == pytest.approx(0.40)  # same quarter: revenue backlog


def test_recognised_revenue_bounds_openai_real():
    """OpenAI is never named in a revenue-share disclosure, so its recognised revenue is bounded:
    FY2025 Microsoft 67% named (10-K via XN), so another customer had at most 33% of FY2025
    revenue 5,131 (RR); 2026Q1 Customer A 45% unnamed (VN): at most 45% of 2,078; 2026Q2 top
    customer 36% unnamed (PHYS): at most 36% of 2,575. Lower bound 0."""
    fund = load_fundamentals()
    shares = C.revenue_shares(load_customers(), load_sources())
    b = C.recognised_revenue_bounds("OpenAI", shares, fund, quarterly_panel(fund), "2025Q1", "2026Q2")
    assert list(b["periods"]["period"]) == ["FY2025", "2026Q1", "2026Q2"]
    assert b["low"] == 0
    assert b["high"] == pytest.approx(0.33 * 5131 + 0.45 * 2078 + 0.36 * 2575)
    named = C.recognised_revenue_bounds("Microsoft", shares, fund, quarterly_panel(fund), "2025Q1", "2025Q4")
    assert named["low"] == named["high"] == pytest.approx(0.67 * 5131)


def test_guided_ntm_revenue_hand_worked():
    """Guidance in force after the Q2-26 results (2026-08-11, PHYS): Q3-26 3,450-3,600 (mid 3,525),
    FY2026 12,400-13,200 (mid 12,800); reported 2026Q1 2,078 (RR), 2026Q2 2,575 (PHYS). Q4 =
    12,800 - 2,078 - 2,575 - 3,525 = 4,622; 2027Q1-Q2 held at 4,622 (assumption)."""
    from analysis.backlog import guidance_history

    fund = load_fundamentals()
    n = C.guided_ntm_revenue(guidance_history(fund, "revenue"), quarterly_panel(fund), "2026Q2")
    q = n["quarters"].set_index("quarter")["revenue"]
    assert q["2026Q3"] == pytest.approx(3525) and q["2026Q4"] == pytest.approx(12800 - 2078 - 2575 - 3525)
    assert n["value"] == pytest.approx(3525 + 3 * (12800 - 2078 - 2575 - 3525))
    assert (n["guided_quarters"], n["assumed_quarters"]) == (2, 2)
    # on 2025-11-10: FY2025 guidance 5,050-5,150 (TR_25Q3) less 9M revenue leaves Q4; no 2026 guidance yet
    f10 = load_fundamentals(PIT)
    n10 = C.guided_ntm_revenue(guidance_history(f10, "revenue"), quarterly_panel(f10), "2025Q3")
    q4 = 5100 - (981.632 + 1212.788 + 1364.676)
    assert n10["quarters"].set_index("quarter").at["2025Q4", "revenue"] == pytest.approx(q4, abs=1e-6)
    assert n10["value"] == pytest.approx(4 * q4, abs=1e-6) and n10["assumed_quarters"] == 3


def test_openai_scenario_uses_remaining_value_and_guidance():
    from analysis.backlog import guidance_history

    fund = load_fundamentals()
    panel = quarterly_panel(fund)
    shares = C.revenue_shares(load_customers(), load_sources())
    s = C.run_scenario(load_contracts(), backlog_panel(fund), panel, ratio_table(panel), "OpenAI", 1.0, "loss", 1.0,
                       C.backlog_statements(load_customers()), fund=fund, revenue_shares=shares,
                       guidance=guidance_history(fund, "revenue"))
    t = s.table.set_index("key")
    assert t.at["exposure", "remaining value (upper bound)"] == pytest.approx(22_400)
    assert t.at["exposure", "remaining value (lower bound)"] == pytest.approx(22_400 - s.inputs["recognised"]["high"])
    # next-12-month revenue from the backlog is the guided figure, below the even-spread rule
    assert t.at["ntm_revenue_from_backlog", "remaining value (upper bound)"] == pytest.approx(s.inputs["ntm"]["value"])
    assert s.inputs["ntm"]["value"] < s.inputs["even_spread_share"] * 104_000
    tab = s.inputs["table"]
    assert {"input", "value", "unit", "quarter", "source", "kind"} == set(tab.columns)
    assert tab.set_index("input").at["Revenue backlog", "quarter"] == "2026Q2"


def test_shares_at_the_microsoft_lease_events():
    """E01 (TD Cowen, 2025-02-21) and E02 (2025-03-26) originate with MSFT: Microsoft was 62% of
    FY2024 revenue (S-1 via VN, public 2025-03-03) and the largest customer 72% of 2025Q1 revenue
    (Q1-25 10-Q, public 2025-05-14)."""
    from analysis.data import load_events

    shares = C.revenue_shares(load_customers(), load_sources())
    t = C.shares_at_events(load_events(), shares, {"Microsoft": "MSFT"})
    assert set(t["event_id"]) == {"E01", "E02"}
    e2 = t[t["event_id"] == "E02"].set_index("period")
    assert e2.at["FY2024", "share"] == pytest.approx(0.62) and e2.at["FY2024", "who"] == "named"
    assert e2.at["FY2024", "public_at_event"]
    assert e2.at["2025Q1", "share"] == pytest.approx(0.72) and e2.at["2025Q1", "who"] == "largest customer"
    assert not t[t["event_id"] == "E01"].set_index("period").at["FY2024", "public_at_event"]
