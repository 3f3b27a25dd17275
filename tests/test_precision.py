"""analysis.precision: the precision a figure carries from its source (hand-worked cases)."""

from __future__ import annotations

import pytest

from analysis import precision as P
from analysis.report import fmt


def test_approximate_notes():
    assert P.is_approximate("CEO: 'CoreWeave has reached $50 billion in RPO' (approximate; ...)")
    assert P.is_approximate("'about $104B'") and P.is_approximate("~$30.1B")
    assert not P.is_approximate("Q2-26 10-Q quote: 41% over the initial 24 months")
    assert not P.is_approximate("") and not P.is_approximate(None)


@pytest.mark.parametrize("value, unit", [(50_000, 1000), (30_100, 100), (104_000, 1000), (1_364.7, 1), (7, 1)])
def test_rounding_unit_of_an_approximate_figure(value, unit):
    assert P.rounding_unit(value, True) == unit
    assert P.rounding_unit(value, False) == 0


def test_derived_precision():
    # RPO bookings 2025Q3: 50,000 (about, unit 1,000) - 30,100 + 1,364.7 -> unit 1,000: "about 21,000"
    u = P.sum_unit(1000, 0, 0)
    assert u == 1000 and fmt.about(50_000 - 30_100 + 1_364.676, u) == "about 21,000"
    # book-to-bill 21,264.7 / 1,364.7 = 15.6 known to 1,000 / 21,264.7 = 4.7% -> unit 1 -> "about 16x"
    bb = (50_000 - 30_100 + 1_364.676) / 1_364.676
    assert P.ratio_unit(bb, (21_264.676, 1000)) == 1 and fmt.about(bb, 1, "ratio") == "about 16x"
    assert fmt.about(50_000, 1000, "usd_bn") == "about $50bn" and fmt.about(103_700, 0, "usd_bn") == "$103.7bn"
