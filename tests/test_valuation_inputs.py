"""analysis.valuation_inputs: which share count, debt and cash the enterprise value uses.

Real-data expectations are typed from the documents (named beside each); the rules (newest date,
preference at a date, lower bound for a missing class, no double listing) are checked on small
frames where the answer is known by construction."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import valuation_inputs as VI
from analysis.data import load_fundamentals


@pytest.fixture(scope="module")
def latest():
    return load_fundamentals()


@pytest.fixture(scope="module")
def nov10():
    return load_fundamentals(as_of="2025-11-10")


def _frame(rows):
    """A fundamentals-like frame from (period, period_end, published, metric, value, source, confidence, note)."""
    df = pd.DataFrame(rows, columns=["period", "period_end", "published", "metric", "value", "source", "confidence",
                                     "note"])
    df["period_end"] = pd.to_datetime(df["period_end"])
    df["published"] = pd.to_datetime(df["published"])
    df["period_start"] = df["period_end"] - pd.offsets.QuarterBegin(startingMonth=1)
    return df.assign(line=np.arange(1, len(df) + 1), unit="count", source_kind="filing",
                     undated=df["published"].isna())


def test_cover_counts_by_date(latest):
    c = VI.share_counts_by_date(latest)
    may = c[c["date"] == pd.Timestamp("2025-05-07")].iloc[0]
    # Q1-25 10-Q cover: 361,875,093 Class A + 118,102,040 Class B + 0 Class C, as of May 7, 2025
    assert may["shares"] == 361_875_093 + 118_102_040 + 0
    assert may["complete"] and may["confidence"] == "high" and may["unit"] == 0
    fy = c[c["date"] == pd.Timestamp("2025-12-31")].iloc[0]
    assert not fy["complete"] and fy["missing"] == ("class_c",)
    # "~448M" Class A + "约 1.0 亿" Class B: approximate, known to the ten million at best
    assert fy["shares"] == 548e6 and fy["approximate"] and fy["unit"] == 1e7 and fy["undated"]


def test_latest_share_bases(latest):
    b = VI.share_bases(latest)
    new = b["newest"]
    assert new["date"] == pd.Timestamp("2025-12-31") and new["bound"] == "lower bound"
    assert new["confidence"] == "low"
    (miss,) = new["missing"]  # Class C, last stated as 0 on the 2025-05-07 cover
    assert miss["class"] == "class_c" and miss["value"] == 0 and miss["date"] == pd.Timestamp("2025-05-07")
    assert b["complete"]["value"] == 479_977_133 and b["complete"]["bound"] == "exact"
    # Q3-25 press release: weighted-average shares, basic, three months to 2025-09-30: 497,886 thousand
    assert b["average"]["value"] == 497_886_000 and b["average"]["period"] == "2025Q3"
    assert b["average"]["bound"] == "average"


def test_as_of_share_bases_use_only_public_figures(nov10):
    b = VI.share_bases(nov10)
    # the 2025-12-31 approximations are not public on 2025-11-10; the Q3 average (PR of 2025-11-10) is
    # newer than the 2025-05-07 cover count
    assert b["newest"]["kind"] == "average" and b["newest"]["date"] == pd.Timestamp("2025-09-30")
    assert b["complete"]["date"] == pd.Timestamp("2025-05-07")


def test_latest_balance_bases(latest):
    b = VI.balance_bases(latest)
    d, c = b["newest"]["debt"], b["newest"]["cash"]
    # Q2-26 balance sheet (via PHYS): recourse 6,235 + 25,170, non-recourse 1,278 + 2,385 (carrying amounts)
    assert d["date"] == pd.Timestamp("2026-06-30") and d["basis"] == "carrying amount" and d["derived"]
    assert d["value"] == pytest.approx(6_235 + 25_170 + 1_278 + 2_385)
    # Q2-26 release (via ES_Q226): "Cash and cash equivalents were $5.524B"
    assert c["date"] == pd.Timestamp("2026-06-30") and c["basis"] == "cash and cash equivalents"
    assert c["value"] == 5_524
    e = b["earlier"]
    assert e["debt"]["date"] == e["cash"]["date"] == pd.Timestamp("2025-12-31")
    assert (e["debt"]["value"], e["cash"]["value"]) == (21_615, 4_130)


def test_as_of_balance_bases(nov10):
    b = VI.balance_bases(nov10)
    d, c = b["newest"]["debt"], b["newest"]["cash"]
    # Q3-25 press release balance sheet: Debt, current 3,712,177; Debt, non-current 10,322,757;
    # Cash and cash equivalents 1,894,399 (thousands) at 2025-09-30
    assert d["date"] == c["date"] == pd.Timestamp("2025-09-30")
    assert d["value"] == pytest.approx(3_712.177 + 10_322.757, abs=1e-9)
    assert c["value"] == pytest.approx(1_894.399, abs=1e-9)
    # the earlier basis: principal 11,171,485 (R41) and cash incl. restricted 2,053,583 at 2025-06-30
    e = b["earlier"]
    assert e["debt"]["value"] == pytest.approx(11_171.485) and e["cash"]["value"] == pytest.approx(2_053.583)


def test_principal_preferred_and_newest_date_wins():
    f = _frame([
        ("2025Q4", "2025-12-31", "2026-02-01", "debt_principal_total", 100.0, "S1", "high", None),
        ("2025Q4", "2025-12-31", "2026-02-01", "debt_total_net", 98.0, "S1", "high", None),
        ("2025Q3", "2025-09-30", "2025-11-01", "debt_principal_total", 90.0, "S1", "high", None),
        ("2025Q4", "2025-12-31", "2026-02-01", "cash_and_restricted_cash", 12.0, "S1", "high", None),
        ("2025Q4", "2025-12-31", "2026-02-01", "cash_and_equivalents", 10.0, "S1", "high", None),
        ("2026Q1", "2026-03-31", "2026-05-01", "cash_and_restricted_cash", 15.0, "S2", "medium", None),
    ])
    b = VI.balance_bases(f)
    assert b["newest"]["debt"]["value"] == 100.0 and b["newest"]["debt"]["basis"] == "principal"
    # cash: the newest date wins even on the less preferred basis
    assert b["newest"]["cash"]["value"] == 15.0 and b["newest"]["cash"]["date"] == pd.Timestamp("2026-03-31")
    assert b["earlier"]["debt"]["value"] == 100.0 and b["earlier"]["cash"]["value"] == 12.0


def test_a_class_never_given_is_stated_as_such_and_a_count_wins_a_tie():
    f = _frame([
        ("2025Q4", "2025-12-31", "2026-02-01", "shares_outstanding_class_a", 400.0, "S1", "high", "cover page"),
        ("2025Q4", "2025-12-31", "2026-02-01", "weighted_avg_shares_basic", 390.0, "S1", "high", None),
    ])
    b = VI.share_bases(f)
    assert b["newest"]["kind"] == "count" and b["newest"]["bound"] == "lower bound"
    assert {m["class"] for m in b["newest"]["missing"]} == {"class_b", "class_c"}
    assert all(math.isnan(m["value"]) for m in b["newest"]["missing"])
    assert b["complete"] is None
    assert VI.same_figure(b["newest"], b["newest"]) and not VI.same_figure(b["newest"], b["average"])
