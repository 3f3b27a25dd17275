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
