"""The plausible-range table (analysis.data.ranges): complete, consistent with the units, and
with bounds that hold for the real data by a wide margin (they catch slips, not surprises)."""

from __future__ import annotations

import pytest

from analysis.data import load_fundamentals, ranges
from analysis.data import schema as S


def test_every_metric_has_a_unit_the_fundamentals_file_accepts():
    """schema.METRIC_UNITS is read from METRIC_RANGES: each range's unit must be one the `unit`
    column of fundamentals.csv allows (a claims-only unit such as 'fraction' would make every
    row of that metric invalid), and each range gives its reason."""
    unit_col = next(c for c in S.FUNDAMENTALS.columns if c.name == "unit")
    bad = {m: u for m, u in S.METRIC_UNITS.items() if u not in unit_col.choices}
    assert not bad, f"units fundamentals.csv does not accept: {bad}"
    assert all(rng.why.strip() for rng in ranges.METRIC_RANGES.values())


def test_unlisted_metric_has_no_range():
    with pytest.raises(KeyError):
        ranges.metric_range("a_new_metric")


@pytest.mark.parametrize("rng,x,ok", [
    (ranges.FLOW, 0, True), (ranges.FLOW, -0.001, False), (ranges.FLOW, 1e6, True), (ranges.FLOW, 1.0001e6, False),
    (ranges.PRICE, 0, False), (ranges.PRICE, 0.01, True), (ranges.SHARE_PCT, 100, True), (ranges.SHARE_PCT, 100.5, False),
    (ranges.RETURN, -1, True), (ranges.RETURN, -1.01, False), (ranges.RETURN, 25.0, True),
])
def test_bounds_are_inclusive_unless_open(rng, x, ok):
    assert (rng.problem(x) is None) is ok


def test_problem_text_names_bound_unit_and_reason():
    text = ranges.FLOW.problem(-1364.676)
    assert text.startswith("a number >= 0 (usd_m within [0, 1e+06]: ") and "cannot be negative" in text
    assert ranges.PRICE.problem(0).startswith("a positive number (usd within (0, 1e+06]")


def test_real_figures_sit_well_inside_their_ranges():
    """Upper bounds are at least 10x the largest real figure: only a unit slip reaches them."""
    df = load_fundamentals()
    for metric, g in df.groupby("metric"):
        rng = ranges.metric_range(metric)
        assert (g["unit"] == rng.unit).all(), metric
        assert all(rng.problem(v) is None for v in g["value"]), metric
        if rng.hi is not None and rng.unit in ("usd_m", "count", "mw"):
            assert g["value"].abs().max() * 10 <= rng.hi, metric
        assert g["value"].notna().all()
