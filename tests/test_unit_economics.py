"""Tests for analysis.unit_economics: golden ratios from the filings, missing -> NaN + reason,
effective rate, depreciation-life restatement and break-even life (hand-worked)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import fundamentals as F
from analysis import unit_economics as U
from analysis.data import load_fundamentals

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden" / "unit_economics.yaml").read_text())


@pytest.fixture(scope="module")
def panel():
    return F.quarterly_panel(load_fundamentals())


@pytest.fixture(scope="module")
def ratios(panel):
    return U.ratio_table(panel)


def _panel(rows: dict) -> F.Panel:
    """Hand-built panel: {quarter: {metric: value}}; missing metrics are NaN with a reason."""
    values = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(F.PANEL_METRICS))
    values.index.name = "quarter"
    recs = []
    for q in values.index:
        for m in values.columns:
            v = values.at[q, m]
            recs.append({"quarter": q, "metric": m, "value": v, "source": None if pd.isna(v) else "X",
                         "source_kind": None if pd.isna(v) else "filing",
                         "confidence": None if pd.isna(v) else "high", "published": pd.NaT,
                         "undated": False, "derived": False, "derived_from": None,
                         "alternatives": None,
                         "reason": f"{m} {q}: not in the test panel" if pd.isna(v) else None})
    return F.Panel(values=values.astype(float), provenance=pd.DataFrame(recs))


@pytest.mark.parametrize("g", GOLDEN["ratios"], ids=lambda g: f"{g['ratio']}-{g['quarter']}")
def test_golden_ratios(g):
    fund = load_fundamentals(None if g["as_of"] == "latest" else g["as_of"])
    r = U.ratio_table(F.quarterly_panel(fund))
    assert r.at[g["quarter"], g["ratio"]] == pytest.approx(g["value"], abs=g["tolerance"]), g["note"]


def test_columns(ratios):
    for c in U.RATIO_COLUMNS:
        assert c in ratios.columns
    assert "reasons" in ratios.columns


def test_every_nan_ratio_has_a_reason(ratios):
    n_nan = 0
    for q in ratios.index:
        for c in U.RATIO_COLUMNS:
            if np.isnan(ratios.at[q, c]):
                n_nan += 1
                assert c in ratios.at[q, "reasons"], (q, c)
            else:
                assert c not in ratios.at[q, "reasons"], (q, c)
    assert n_nan > 0  # the real data has gaps (2024 debt, 2026Q1 D&A)
    assert len(U.reasons_frame(ratios)) == n_nan


def test_missing_input_gives_nan_not_zero():
    p = _panel({"2025Q1": {"revenue": 100.0, "interest_expense": 10.0},
                "2025Q2": {"revenue": 120.0, "operating_income": 6.0, "interest_expense": 12.0}})
    r = U.ratio_table(p)
    assert np.isnan(r.at["2025Q1", "operating_margin"])
    assert "operating_income missing" in r.at["2025Q1", "reasons"]["operating_margin"]
    assert "not in the test panel" in r.at["2025Q1", "reasons"]["operating_margin"]
    assert np.isnan(r.at["2025Q1", "interest_coverage"])
    assert r.at["2025Q2", "operating_margin"] == pytest.approx(0.05)
    assert r.at["2025Q2", "interest_coverage"] == pytest.approx(0.5)
    assert r.at["2025Q2", "interest_burden"] == pytest.approx(0.1)
    # no D&A anywhere -> (interest + D&A)/revenue missing, never interest/revenue
    assert np.isnan(r.at["2025Q2", "interest_and_da_to_revenue"])


def test_real_missing_da_2026q1(ratios):
    # Q1-26 D&A is not in the data: the ratio is missing with the reason, not interest/revenue
    assert np.isnan(ratios.at["2026Q1", "interest_and_da_to_revenue"])
    assert "depreciation and amortisation" in ratios.at["2026Q1", "reasons"]["interest_and_da_to_revenue"]


def test_effective_rate_hand_worked():
    # 4 x 30 / ((1000 + 1400) / 2) = 0.1; margin 6/120 = 0.05 -> margin-to-rate 0.5
    p = _panel({"2025Q1": {"revenue": 100.0, "debt_principal_total": 1000.0},
                "2025Q2": {"revenue": 120.0, "operating_income": 6.0, "interest_expense": 30.0,
                           "debt_principal_total": 1400.0}})
    r = U.ratio_table(p)
    assert r.at["2025Q2", "effective_interest_rate"] == pytest.approx(0.1)
    assert r.at["2025Q2", "margin_to_interest_rate"] == pytest.approx(0.5)
    # 2025Q1: no opening balance (2024Q4) -> NaN with the missing quarter named
    assert np.isnan(r.at["2025Q1", "effective_interest_rate"])
    assert "2024Q4" in r.at["2025Q1", "reasons"]["effective_interest_rate"]


def test_effective_rate_on_one_debt_basis_as_of():
    # Q3-25 total principal was published in the 10-Q on 2025-11-13 (SEC_R97_25Q3); the PR of
    # 2025-11-10 gave the carrying amount (current 3,712.177 + non-current 10,322.757), so a build
    # as of 2025-11-12 computes the Q3 rate on the carrying amount at both ends (Q2: net total
    # 11,051.501, SEC_R41), never principal at one end and carrying amount at the other.
    r = U.ratio_table(F.quarterly_panel(load_fundamentals("2025-11-12")))
    assert r.at["2025Q3", "operating_margin"] == pytest.approx(51.85 / 1364.676)
    assert r.at["2025Q3", "effective_interest_rate"] == pytest.approx(
        4 * 310.555 / ((11051.501 + 3712.177 + 10322.757) / 2), rel=1e-12)
    assert r.at["2025Q3", "effective_rate_basis"] == "carrying amount"
    r2 = U.ratio_table(F.quarterly_panel(load_fundamentals("2025-11-13")))
    # 4 x 310.555 / ((11,171.485 + 14,205.268) / 2)  (SEC_R41, SEC_R97_25Q3)
    assert r2.at["2025Q3", "effective_interest_rate"] == pytest.approx(
        4 * 310.555 / ((11171.485 + 14205.268) / 2), rel=1e-12)
    assert r2.at["2025Q3", "effective_rate_basis"] == "principal"


def test_effective_rate_missing_when_no_basis_has_both_ends():
    p = _panel({"2025Q1": {"revenue": 100, "operating_income": 5, "interest_expense": 10,
                           "debt_principal_total": 400},
                "2025Q2": {"revenue": 100, "operating_income": 5, "interest_expense": 10,
                           "debt_carrying_total": 500}})
    r = U.ratio_table(p)
    assert np.isnan(r.at["2025Q2", "effective_interest_rate"]) and r.at["2025Q2", "effective_rate_basis"] is None
    assert "2025Q2" in r.at["2025Q2", "reasons"]["effective_interest_rate"]


def test_as_of_before_release_has_no_quarter():
    r = U.ratio_table(F.quarterly_panel(load_fundamentals("2025-11-09")))
    assert "2025Q3" not in r.index


def test_ratio_provenance(panel):
    pv = U.ratio_provenance(panel, "effective_interest_rate", "2025Q1")
    assert pv["sources"] == ["10Q_25Q1"] and pv["confidence"] == "high" and not pv["derived"]
    pv4 = U.ratio_provenance(panel, "operating_margin", "2024Q4")
    assert pv4["derived"] and pv4["confidence"] == "medium"


# ----------------------------------------------------------------------------- depreciation
def test_sensitivity_reported_life_reproduces_operating_income(panel):
    s = U.depreciation_sensitivity(panel, (6, 5, 4, 3), computing_share_of_da=0.7, reported_life=6)
    at6 = s[s["useful_life"] == 6].set_index("quarter")
    ok = at6["operating_income"].notna() & at6["depreciation_and_amortization"].notna()
    assert ok.sum() >= 6
    assert (at6.loc[ok, "operating_income_restated"] == at6.loc[ok, "operating_income"]).all()
    assert (at6.loc[ok, "da_restated"] == at6.loc[ok, "depreciation_and_amortization"]).all()
    oi = panel.values["operating_income"]
    assert (at6.loc[ok, "operating_income_restated"] == oi[at6.index[ok]]).all()


def test_sensitivity_hand_worked_2025q3(panel):
    # Q3-25 (PR_25Q3): operating income 51.850, D&A 630.479, revenue 1,364.676
    s = U.depreciation_sensitivity(panel, (5, 3), computing_share_of_da=1.0, reported_life=6,
                                   quarters=["2025Q3"]).set_index("useful_life")
    assert s.at[5.0, "operating_income_restated"] == pytest.approx(51.85 - 630.479 * (6 / 5 - 1))
    assert s.at[3.0, "operating_income_restated"] == pytest.approx(51.85 - 630.479)
    assert s.at[3.0, "operating_margin_restated"] == pytest.approx((51.85 - 630.479) / 1364.676)
    half = U.depreciation_sensitivity(panel, (3,), computing_share_of_da=0.5, reported_life=6,
                                      quarters=["2025Q3"])
    assert half["operating_income_restated"].iloc[0] == pytest.approx(51.85 - 0.5 * 630.479)


def test_restated_da_formula():
    assert U.restated_da(100.0, 6, computing_share_of_da=1.0, reported_life=6) == 100.0
    assert U.restated_da(100.0, 3, computing_share_of_da=1.0, reported_life=6) == pytest.approx(200.0)
    assert U.restated_da(100.0, 4, computing_share_of_da=0.5, reported_life=6) == pytest.approx(125.0)
    assert U.restated_da(100.0, 3, computing_share_of_da=0.0, reported_life=6) == 100.0


def test_computing_share_is_required_and_checked(panel):
    with pytest.raises(TypeError):
        U.depreciation_sensitivity(panel, (6, 5))  # no default: it is an assumption
    with pytest.raises(TypeError):
        U.break_even_life(panel)
    with pytest.raises(ValueError):
        U.depreciation_sensitivity(panel, (6, 5), computing_share_of_da=1.5)


def test_break_even_life(panel):
    # L* = 6 / (1 + 51.85 / (1.0 x 630.479)) for Q3-25; at L* restated operating income is zero
    be = U.break_even_life(panel, computing_share_of_da=1.0, reported_life=6).set_index("quarter")
    life = be.at["2025Q3", "break_even_life"]
    assert life == pytest.approx(6 / (1 + 51.85 / 630.479))
    da_new = U.restated_da(630.479, life, computing_share_of_da=1.0, reported_life=6)
    assert 51.85 - (da_new - 630.479) == pytest.approx(0.0, abs=1e-9)
    # a quarter with an operating loss needs a longer life than the reported one
    assert be.at["2025Q1", "break_even_life"] > 6
    assert be.at["2025Q1", "profitable_at_reported_life"] is False
    # 2026Q1: no D&A in the data -> NaN with reason
    assert np.isnan(be.at["2026Q1", "break_even_life"]) and be.at["2026Q1", "reason"]


def test_break_even_no_finite_life():
    p = _panel({"2025Q1": {"revenue": 100.0, "operating_income": -60.0,
                           "depreciation_and_amortization": 100.0}})
    be = U.break_even_life(p, computing_share_of_da=0.5, reported_life=6)
    assert np.isnan(be["break_even_life"].iloc[0])
    assert "no finite useful life" in be["reason"].iloc[0]


def test_sensitivity_table_shape(panel):
    s = U.depreciation_sensitivity(panel, (6, 5, 4, 3), computing_share_of_da=1.0)
    b = U.break_even_life(panel, computing_share_of_da=1.0)
    t = U.sensitivity_table(s, b)
    assert list(t.columns[:5]) == ["quarter", "margin_6y", "margin_5y", "margin_4y", "margin_3y"]
    row = t.set_index("quarter").loc["2025Q3"]
    assert row["margin_6y"] == pytest.approx(51.85 / 1364.676)
    assert row["margin_5y"] > row["margin_4y"] > row["margin_3y"]


def test_key_figures_each_at_its_latest_quarter():
    from analysis.data import load_fundamentals
    from analysis.fundamentals import quarterly_panel
    from analysis.unit_economics import key_figures, ratio_table

    # as of 2025-11-13: Q3-25 press release (PR_25Q3): revenue 1,364.676; operating income 51.85;
    # interest 310.555; debt principal 14,205.268 at 2025-09-30 (XBRL R97 of the Q3-25 10-Q)
    panel = quarterly_panel(load_fundamentals("2025-11-13"))
    kf = key_figures(panel, ratio_table(panel)).set_index("label")
    assert kf.at["Revenue", "value"] == pytest.approx(1364.676) and kf.at["Revenue", "period"] == "2025Q3"
    assert kf.at["Revenue", "sources"] == "PR_25Q3" and kf.at["Revenue", "confidence"] == "high"
    assert kf.at["Operating margin", "value"] == pytest.approx(51.85 / 1364.676)
    assert kf.at["Coverage: operating income / interest", "value"] == pytest.approx(51.85 / 310.555)
    assert kf.at["Coverage: adjusted EBITDA / interest", "value"] == pytest.approx(838.124 / 310.555)
    assert kf.at["Debt principal (quarter end)", "period"] == "2025Q3"
    assert kf.at["Debt principal (quarter end)", "value"] == pytest.approx(14205.268)
    assert kf.at["Debt principal (quarter end)", "source_kind"] == "filing"
    # before the 10-Q the newest debt is the Q3 carrying amount of the press release (derived:
    # current 3,712.177 + non-current 10,322.757), not the stale 2025Q2 principal
    p2 = quarterly_panel(load_fundamentals("2025-11-10"))
    kf2 = key_figures(p2, ratio_table(p2)).set_index("label")
    assert "Debt principal (quarter end)" not in kf2.index
    d = kf2.loc["Debt, carrying amount (quarter end)"]
    assert d["period"] == "2025Q3" and d["derived"] and d["value"] == pytest.approx(3712.177 + 10322.757)


def test_key_figures_take_the_newer_component_based_debt():
    """Fixture: principal at the 2025 year end, then only the four carrying-amount components of
    2026Q2 (recourse / non-recourse x current / non-current, as in the Q2-26 release): the table
    shows the newer component sum, marked derived, with its own period. CONSTRUCTED values."""
    rows = [("FY2025", "debt_principal_total", 100.0, "2026-02-26"), ("2025Q3", "debt_principal_total", 80.0, "2025-11-13"),
            ("2026Q2", "debt_recourse_current", 10.0, "2026-08-11"), ("2026Q2", "debt_recourse_noncurrent", 60.0, "2026-08-11"),
            ("2026Q2", "debt_nonrecourse_current", 5.0, "2026-08-11"), ("2026Q2", "debt_nonrecourse_noncurrent", 45.0, "2026-08-11"),
            ("2026Q2", "revenue", 50.0, "2026-08-11"), ("2026Q2", "operating_income", 1.0, "2026-08-11"),
            ("2026Q2", "interest_expense", 4.0, "2026-08-11"), ("FY2025", "revenue", 150.0, "2026-02-26")]
    fund = pd.DataFrame([{"period": p, "metric": m, "value": v, "published": pd.Timestamp(d), "unit": "usd_m",
                          "source": "X", "source_kind": "filing", "confidence": "high", "note": "", "undated": False}
                         for p, m, v, d in rows])
    fund["period_start"] = [pd.Timestamp(f"{p[2:]}-01-01") if p.startswith("FY") else
                            pd.Period(p, freq="Q").start_time for p in fund["period"]]
    fund["period_end"] = [pd.Timestamp(f"{p[2:]}-12-31") if p.startswith("FY") else
                          pd.Period(p, freq="Q").end_time.normalize() for p in fund["period"]]
    fund["line"] = range(2, len(fund) + 2)
    panel = F.quarterly_panel(fund, first_quarter="2025Q3")
    kf = U.key_figures(panel, U.ratio_table(panel))
    debt = kf[kf["label"].str.startswith("Debt")]
    assert len(debt) == 1
    d = debt.iloc[0]
    assert d["label"] == "Debt, carrying amount (quarter end)" and d["period"] == "2026Q2"
    assert d["value"] == pytest.approx(120.0) and bool(d["derived"])
    assert kf.set_index("label").at["Revenue", "period"] == "2026Q2"
