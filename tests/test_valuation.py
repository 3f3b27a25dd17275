"""analysis.valuation: closed forms checked by hand and by brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analysis import valuation as V


def test_market_and_enterprise_value():
    # 479,977,133 shares (Q1-25 10-Q cover, A + B + C) x $100 = $47,997.7m
    mv = V.market_value(479_977_133, 100.0)
    assert mv == pytest.approx(47_997.7133, rel=1e-12)
    assert V.enterprise_value(mv, 21_615.0, 4_130.0) == pytest.approx(mv + 21_615.0 - 4_130.0)
    assert math.isnan(V.market_value(float("nan"), 100.0))
    assert math.isnan(V.enterprise_value(mv, float("nan"), 0.0))


def test_multiple_refuses_non_positive_denominators():
    assert V.multiple(100.0, 50.0) == 2.0
    assert math.isnan(V.multiple(100.0, -5.0)) and math.isnan(V.multiple(100.0, 0.0))


def test_pv_of_revenue_closed_form():
    # 2 years of 100 at 10%, then a flat perpetuity of 100: 100/1.1 + 100/1.21 + 100/0.1/1.21
    pv = V.present_value_of_revenue([100.0, 100.0], 0.10, 0.0)
    assert pv == pytest.approx(100 / 1.1 + 100 / 1.21 + 1000 / 1.21, rel=1e-12)
    assert pv == pytest.approx(1000.0, rel=1e-12)  # a flat stream from year 1 is a perpetuity
    assert math.isnan(V.present_value_of_revenue([1.0], 0.05, 0.05))


def test_implied_margin_solves_the_valuation():
    path = V.backlog_revenue_path(10_000.0, 4)
    assert list(path) == [2500.0] * 4
    m = V.implied_operating_margin(5_000.0, path, discount_rate=0.09, tax_rate=0.21)
    # brute force: discounted after-tax operating income at margin m equals EV
    t = np.arange(1, 401)
    flows = m * (1 - 0.21) * 2500.0 / 1.09 ** t
    assert flows.sum() == pytest.approx(5_000.0, rel=1e-6)
    # flat revenue from year 1: m = EV x r / ((1 - tax) x R) = 5,000 x 0.09 / (0.79 x 2,500)
    assert m == pytest.approx(5000 * 0.09 / (0.79 * 2500), rel=1e-12)
    more = V.implied_operating_margin(5_000.0, path, discount_rate=0.09, tax_rate=0.21, capex_to_deliver=1_000.0)
    assert more == pytest.approx(m * 6 / 5, rel=1e-12)


def test_sensitivity_grid_monotone():
    s = V.implied_margin_sensitivity(50_000.0, 100_000.0, discount_rates=[0.07, 0.09, 0.11],
                                     conversion_years=[4, 5, 6], tax_rate=0.21)
    assert len(s) == 9
    g = s.pivot(index="discount_rate", columns="conversion_years", values="implied_margin")
    assert (g.diff(axis=0).iloc[1:] > 0).all().all()  # a higher discount rate needs a higher margin
    assert (g.diff(axis=1).iloc[:, 1:] > 0).all().all()  # slower conversion: lower revenue a year
    assert math.isnan(V.implied_operating_margin(float("nan"), [1.0], discount_rate=0.1, tax_rate=0.2))


# --------------------------------------------------------------------------- the section's valuation block
def _vals(sec):
    return {k: v["value"] for k, v in sec.results.to_dict()["values"].items()}


@pytest.fixture(scope="module")
def nov10():
    from analysis.sections import funding

    return funding.build(as_of="2025-11-10")


@pytest.fixture(scope="module")
def latest():
    from analysis.sections import funding

    return funding.build(as_of="latest")


def test_as_of_enterprise_value_on_newest_and_earlier_inputs(nov10):
    v = _vals(nov10)
    close = 105.61  # CRWV close on 2025-11-10 (stored as 105.61000061: a float32 source, hence rel=1e-8)
    # newest: Q3-25 weighted-average basic shares 497,886 thousand (PR_25Q3); carrying debt 3,712.177 + 10,322.757
    # and cash and cash equivalents 1,894.399 at 2025-09-30 (Q3-25 PR balance sheet)
    mv = 497_886_000 * close / 1e6
    assert v["market_value"] == pytest.approx(mv, rel=1e-8)
    assert v["enterprise_value"] == pytest.approx(mv + 3_712.177 + 10_322.757 - 1_894.399, rel=1e-8)
    # earlier basis: 479,977,133 shares (2025-05-07 cover), principal 11,171.485 (R41) and cash incl. restricted
    # 2,053.583 at 2025-06-30
    assert v["enterprise_value_earlier_basis"] == pytest.approx(
        479_977_133 * close / 1e6 + 11_171.485 - 2_053.583, rel=1e-8)
    assert v["enterprise_value"] > v["enterprise_value_earlier_basis"]
    tbl = nov10.results.to_dict()["tables"]["enterprise_value_bases"]
    assert tbl["rows"][0][tbl["columns"].index("basis")] == "Newest of each input"
    assert len(tbl["rows"]) == 4  # the average is the newest share figure: not listed twice


def test_latest_headline_is_a_stated_lower_bound(latest):
    v = _vals(latest)
    close = 82.08  # CRWV close on 2026-10-09, the last price in data/
    # about 448m Class A + about 100m Class B at 2025-12-31 (RR); carrying debt 35,068 and cash 5,524 at 2026-06-30
    assert v["enterprise_value"] == pytest.approx(548e6 * close / 1e6 + 35_068 - 5_524, rel=1e-12)
    assert v["enterprise_value_earlier_basis"] == pytest.approx(479_977_133 * close / 1e6 + 21_615 - 4_130,
                                                                rel=1e-12)
    text = str(latest.items["valuation_summary"])
    assert "Class C is not given at that date" in text and "lower bound" in text
    assert "2026-06-30" in text and "2025-12-31" in text
    grid = latest.data["valuation"]["grid"]
    mid = grid[(grid["conversion_years"] == 5) & np.isclose(grid["discount_rate"], grid["discount_rate"].min())]
    assert mid["implied_margin"].iloc[0] == pytest.approx(v["implied_operating_margin"], rel=1e-12)
    # every cell of the EV table resting on the incomplete count is marked as a bound
    ex = latest.items["enterprise_value_bases"].data["table"]
    for row in ex["rows"]:
        if "lower bound" in row[1]:
            assert row[3].startswith("≥")
