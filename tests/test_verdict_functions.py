"""Verdict functions of sections 01-03 on CONSTRUCTED inputs whose answer is known by
construction (each case says why), plus their reading of the real data.

The synthetic panels and tables below are made up to put each answer on either side of its
threshold; none of it is data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import backlog as B
from analysis import concentration as C
from analysis import fundamentals as F
from analysis import unit_economics as U
from analysis.data import load_fundamentals
from analysis.verdicts import NO_CONCLUSION


def _ratios(rows: dict) -> pd.DataFrame:
    """A ratio table with the columns the verdicts read: {quarter: {column: value}}."""
    cols = ["operating_margin", "effective_interest_rate", "margin_to_interest_rate", "interest_coverage",
            "ebitda_interest_coverage"]
    df = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=cols).astype(float)
    df["margin_to_interest_rate"] = df["operating_margin"] / df["effective_interest_rate"]
    df["effective_rate_basis"] = ["principal" if pd.notna(x) else None for x in df["effective_interest_rate"]]
    df.index.name = "quarter"
    return df


# ---- margin against the cost of debt (Luria) ------------------------------------------------------

@pytest.mark.parametrize("margin, rate, answer", [
    (0.04, 0.10, "holds"),          # 0.4 of the rate: below half
    (-0.02, 0.10, "holds"),         # a negative margin is below any positive rate
    (0.07, 0.10, "holds in part"),  # 0.7 of the rate: below, not below half
    (0.12, 0.10, "does not hold"),  # above the rate
])
def test_luria_answer_follows_margin_over_rate(margin, rate, answer, check_headline):
    r = _ratios({"2025Q3": {"operating_margin": margin, "effective_interest_rate": rate,
                            "interest_coverage": 0.2, "ebitda_interest_coverage": 2.5}})
    v = U.luria_verdict(r)
    assert v.answer == answer and v.period == "2025Q3" and v.key == "margin_vs_cost_of_debt"
    assert "2025Q3" in v.sentence and "2.50x" in v.sentence and f"{100 * rate:.1f}%" in v.sentence
    # the headline opens with its quarter, so every figure in it (coverage included) carries it
    h = check_headline(v, f"operating margin {100 * margin:.1f}%", f"the {100 * rate:.1f}% effective rate",
                       "covered interest 2.50x",
                       {"holds": "below half", "holds in part": "below the rate, not below half",
                        "does not hold": "above the rate"}[answer])
    assert h.startswith("in 2025Q3 ")


def test_luria_uses_the_latest_quarter_with_both_and_says_so():
    # 2026Q1 has a margin but no rate: the test quarter is 2025Q4, and the sentence says why
    r = _ratios({"2025Q3": {"operating_margin": 0.09, "effective_interest_rate": 0.10},
                 "2025Q4": {"operating_margin": 0.02, "effective_interest_rate": 0.10, "interest_coverage": -0.1,
                            "ebitda_interest_coverage": 2.0},
                 "2026Q1": {"operating_margin": 0.20}})
    v = U.luria_verdict(r)
    assert v.period == "2025Q4" and "latest quarter with debt at both quarter ends" in v.sentence
    assert v.headline.startswith("in 2025Q4 (latest quarter with a rate) ") and "2026Q1" not in v.headline
    assert v.evidence["quarters_below"] == 1 and v.evidence["quarters_with_rate"] == 2
    assert "did not cover it at all" in v.sentence  # negative operating coverage


def test_luria_names_the_period_of_newer_coverage(check_headline):
    # 2026Q2 has coverage but no rate (debt not at both ends): the test stays at 2025Q4, whose coverage the
    # headline gives under that quarter; the sentence adds 2026Q2's coverage with its own period and says why
    r = _ratios({"2025Q4": {"operating_margin": -0.057, "effective_interest_rate": 0.087, "interest_coverage": -0.23,
                            "ebitda_interest_coverage": 2.31},
                 "2026Q2": {"operating_margin": -0.019, "interest_coverage": -0.08, "ebitda_interest_coverage": 2.36}})
    v = U.luria_verdict(r)
    h = check_headline(v, "adjusted EBITDA covered interest 2.31x")
    assert h.startswith("in 2025Q4 (latest quarter with a rate) operating margin -5.7% against the 8.7% effective")
    assert "2.36x" not in h
    assert "In 2026Q2, the latest quarter reported, adjusted EBITDA covered net interest 2.36x; it has no effective " \
           "rate" in v.sentence
    assert v.evidence["newer_coverage_quarter"] == "2026Q2"


def test_luria_not_measurable_without_a_rate(check_headline):
    v = U.luria_verdict(_ratios({"2025Q3": {"operating_margin": 0.04}}))
    assert v.answer in NO_CONCLUSION and v.period is None
    check_headline(v, "no quarter has both")


# ---- depreciation life (Chanos) -------------------------------------------------------------------

def _sens(margins_by_quarter: dict, be: dict) -> pd.DataFrame:
    rows = [{"quarter": q, **{f"margin_{L:g}y": m for L, m in ms.items()}, "break_even_life": be[q],
             "derived": False, "reason": None} for q, ms in margins_by_quarter.items()]
    return pd.DataFrame(rows)


CHANGE = {"previous": 5.0, "current": 6.0, "effective": pd.Timestamp("2023-01-01"), "sources": ["X"], "undated": False}


@pytest.mark.parametrize("m6, m5, answer", [
    (0.04, -0.05, "rests on the life"),         # a profit at six years, a loss at five
    (0.15, 0.06, "partly"),               # a profit at both
    (-0.02, -0.13, "loss at either life"),
])
def test_depreciation_answer_follows_the_sign_at_each_life(m6, m5, answer, check_headline):
    sw = _sens({"2026Q2": {6: m6, 5: m5, 4: m5 - 0.1}}, {"2026Q2": 5.5})
    v = U.depreciation_verdict(sw, 6, CHANGE)
    assert v.answer == answer and v.evidence["compare_life"] == 5
    assert "five years until 2023" in v.sentence  # the 2023 change is stated from the data
    check_headline(v, f"margin {100 * m6:.1f}% at the six-year life (five until 2023)",
                   f"{100 * m5:.1f}% at five years (2026Q2)")
    assert ("break-even at 5.5 years" in v.headline) == (answer != "loss at either life")


def test_depreciation_loss_quarter_adds_the_latest_profitable_quarter():
    sw = _sens({"2025Q3": {6: 0.038, 5: -0.054}, "2026Q2": {6: -0.019, 5: -0.127}},
               {"2025Q3": 5.5, "2026Q2": 6.2})
    v = U.depreciation_verdict(sw, 6, CHANGE)
    assert v.period == "2026Q2" and "in 2025Q3, the latest quarter with an operating profit" in v.sentence
    assert v.headline.endswith("(2026Q2); 2025Q3 (last profit): 3.8%, -5.4% at five")
    assert "10.8 pp lower" in v.sentence  # -1.9% vs -12.7%: a gap in percentage points


def test_depreciation_without_history_compares_with_the_next_shorter_tested_life():
    sw = _sens({"2025Q3": {6: 0.04, 5: -0.05, 4: -0.2}}, {"2025Q3": 5.5})
    v = U.depreciation_verdict(sw, 6, None)
    assert v.evidence["compare_life"] == 5 and "until" not in v.sentence


@pytest.mark.parametrize("m6, m5, answer", [(0.038, -0.054, "rests on the life"), (0.15, 0.06, "partly"),
                                             (-0.02, -0.13, "loss at either life")])
def test_depreciation_with_an_assumed_life_says_so(m6, m5, answer, check_headline):
    # no dated statement of the life in the data (the 2025-11-10 note): the six years are a parameter, so the
    # verdict is conditional on them and never states as fact that the margin rests on "the six-year GPU life"
    sw = _sens({"2025Q3": {6: m6, 5: m5, 4: m5 - 0.1}}, {"2025Q3": 5.5})
    v = U.depreciation_verdict(sw, 6, None, life_assumed=True)
    assert v.answer == f"{answer}, if six years" and v.conclusive == (answer != "not measurable")
    check_headline(v, "at six years (assumed)", "at five years (2025Q3)")
    assert v.sentence.startswith("If the reported life is six years (assumed: no dated statement in the data), ")
    assert "the six-year GPU life" not in v.sentence and v.evidence["life_assumed"]


def test_life_change_from_the_data():
    # data/fundamentals.csv: 5 years for FY2022, 6 from FY2023 (10-K quotes via PHYS and RR)
    ch = U.life_change(U.useful_life_history(load_fundamentals()))
    assert (ch["previous"], ch["current"]) == (5, 6) and ch["effective"] == pd.Timestamp("2023-01-01")
    assert U.life_change(U.useful_life_history(load_fundamentals("2025-11-10"))) is None  # undated rows


# ---- backlog conversion ---------------------------------------------------------------------------

def _cd(balance, share, revenue_q, quarter="2026Q2"):
    return {"quarter": quarter, "basis": "rpo", "measure": "RPO", "balance": balance, "balance_unit": 0.0,
            "share_24m": share, "due_24m": share * balance, "due_per_year": share * balance / 2,
            "run_rate": 4 * revenue_q, "coverage_years": balance / (4 * revenue_q),
            "due_to_run_rate": share * balance / 2 / (4 * revenue_q), "sources": ["X"], "confidence": "high"}


def test_conversion_answer_compares_the_24_month_amount_with_the_run_rate(check_headline):
    # 40% of 100,000 over two years = 20,000 a year against a run rate of 4 x 2,500 = 10,000: 2.0x
    v = B.conversion_verdict(_cd(100_000, 0.40, 2_500))
    assert v.answer == "needs faster delivery" and "10.0 years" in v.sentence and "2.0x" in v.sentence
    check_headline(v, "2026Q2 RPO $100.0bn, 10.0 years of revenue", "40% due within 24 months, 2.0x the run rate")
    check_headline(B.conversion_verdict(None), "no quarter")
    # 10% of 100,000 = 5,000 a year against 10,000: within the run rate
    assert B.conversion_verdict(_cd(100_000, 0.10, 2_500)).answer == "within the run rate"
    assert B.conversion_verdict(None).answer in NO_CONCLUSION


def test_conversion_gives_no_ratio_when_the_newest_balance_has_no_split():
    # a 2025Q1 RPO split (58% of $14.7bn) says nothing about the 2025Q3 revenue backlog: no ratio, no answer
    rf = pd.DataFrame({"quarter": ["2025Q3"], "backlog": [55_600.0], "coverage_years": [10.2], "book_to_bill": [np.nan],
                       "backlog_unit": [0.0], "coverage_unit": [0.0]})
    v = B.conversion_verdict(_cd(14_700, 0.58, 981.6, quarter="2025Q1"), rf)
    assert v.answer == "not measurable" and not v.conclusive and v.period == "2025Q3"
    assert "58%" not in v.sentence + v.headline and "1.1x" not in v.sentence + v.headline
    assert v.headline == "2025Q3 revenue backlog $55.6bn, 10.2 years of revenue; no split by due date disclosed for 2025Q3"
    assert "the latest split, of the 2025Q1 RPO, describes a different balance and is not applied to it" in v.sentence


@pytest.mark.parametrize("as_of, quarter", [("2025-11-10", "2025Q3"), ("2026-02-26", "2025Q4")])
def test_conversion_on_real_data_before_a_split_of_the_latest_balance(as_of, quarter):
    # as of these dates the only 24-month split in the data is the 2025Q1 RPO's (10-Q Q1-25: 58% of $14.7bn);
    # the latest balances (2025Q3: PR_25Q3 $55.6bn; 2025Q4: TR_25Q4 about $66.8bn) have none
    fund = load_fundamentals(as_of)
    panel = B.backlog_panel(fund)
    rev = B.revenue_frame(F.quarterly_panel(fund))
    cd = B.coverage_and_due(panel, rev)
    assert (cd["quarter"], cd["basis"], cd["share_24m"]) == ("2025Q1", "rpo", pytest.approx(0.58))
    v = B.conversion_verdict(cd, B.rollforward(panel, rev), B.guidance_history(fund))
    assert v.answer == "not measurable" and v.period == quarter
    assert v.headline.endswith(f"no split by due date disclosed for {quarter}") and "58%" not in v.headline


def test_coverage_and_due_real_2026q2():
    # Q2-26 10-Q quoted by PHYS: RPO $103.7bn, 41% within 24 months; revenue 2026Q2 2,575 (PHYS)
    fund = load_fundamentals()
    cd = B.coverage_and_due(B.backlog_panel(fund), B.revenue_frame(F.quarterly_panel(fund)))
    assert (cd["quarter"], cd["basis"]) == ("2026Q2", "rpo")
    assert cd["due_per_year"] == pytest.approx(0.41 * 103_700 / 2)
    assert cd["due_to_run_rate"] == pytest.approx(0.41 * 103_700 / 2 / (4 * 2_575))


# ---- customer concentration -------------------------------------------------------------------------

def _hhi(lower, upper, top1, period="2026Q2"):
    return pd.DataFrame([{"period": period, "basis": "quarterly", "period_end": pd.Timestamp("2026-06-30"),
                          "hhi_lower": lower, "hhi_upper": upper, "top1_share": top1}])


@pytest.mark.parametrize("lower, answer", [(2100.0, "highly concentrated"), (1200.0, "moderately concentrated"),
                                           (600.0, "unconcentrated")])
def test_concentration_answer_is_the_guidelines_band_of_the_lower_bound(lower, answer, check_headline):
    v = C.concentration_verdict(_hhi(lower, 5000.0, 0.3))
    assert v.answer == answer and "2026Q2" in v.sentence
    check_headline(v, f"largest customer 30% of 2026Q2 revenue, HHI at least {lower:,.0f}")


def test_concentration_names_the_customer_only_when_disclosed():
    sh = pd.DataFrame({"period": ["2026Q2", "2026Q2"], "customer": ["Microsoft", "Customer B"], "share": [0.6, 0.2]})
    assert "Microsoft" in C.concentration_verdict(_hhi(4000.0, 4500.0, 0.6), sh).sentence
    btop = pd.DataFrame({"quarter": ["2026Q2"], "top_counterparty": ["Meta"], "top_share": [0.34]})
    assert C.concentration_verdict(_hhi(4000.0, 4500.0, 0.6), sh, btop).headline == (
        "largest customer Microsoft 60% of 2026Q2 revenue, HHI at least 4,000; Meta's contracts up to 34% of the "
        "2026Q2 backlog")
    sh2 = sh.assign(customer=["Customer A", "Customer B"])
    assert "Customer A" not in C.concentration_verdict(_hhi(4000.0, 4500.0, 0.6), sh2).sentence


def test_conversion_adds_the_guidance_change_of_the_latest_results():
    # FY2025 revenue guidance 5,150-5,350 (2025-08-12, USSA) cut to 5,050-5,150 with the Q3-25 results
    # (2025-11-10, TR_25Q3): the as-of-2025-11-10 verdict says so
    fund = load_fundamentals("2025-11-10")
    panel = B.backlog_panel(fund)
    rev = B.revenue_frame(F.quarterly_panel(fund))
    v = B.conversion_verdict(B.coverage_and_due(panel, rev), B.rollforward(panel, rev), B.guidance_history(fund))
    assert "with the 2025Q3 results the FY2025 revenue guidance was cut to $5.05bn-$5.15bn from $5.15bn-$5.35bn" in v.sentence
    assert v.evidence["guidance_change"] == "cut" and v.evidence["guidance_mid_change"] == pytest.approx(-150)
    # a guidance date that changes no fiscal-year range adds nothing
    g = B.guidance_history(load_fundamentals("2025-08-13"))
    assert B.latest_guidance_change(g[g["period"] == "2025Q3"]) is None


def test_unit_economics_verdicts_hold_at_every_results_date():
    """The headline bound holds at each results date in the data (`make history` builds a note as
    of each): in 2025 the six-year life is an assumption and a loss quarter names its last profit."""
    from analysis import params as P
    from analysis import paths
    from analysis.history import dates
    from analysis.sections import unit_economics

    declared = P.declared_parameters()
    days = dates()
    assert len(days) >= 6
    for day in days:  # with the parameters `make history` gives that note (params/history/<date>.yaml)
        params = P.load(paths.ROOT / "params" / "history" / f"{day}.yaml", declared)
        inject = P.notebook_params(params, "01_unit_economics", declared["01_unit_economics"])
        sec = unit_economics.build(**inject)  # a headline over the bound raises
        assert "verdict:depreciation_life" in sec.names(), day
