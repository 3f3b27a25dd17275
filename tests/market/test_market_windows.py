"""Windows from dated events: clean estimation windows, clusters, pooled representatives, crisis
windows. Constructed calendars worked by hand, then the real events."""

import numpy as np
import pandas as pd
import pytest

from analysis.data import load_dividends, load_events, load_prices
from analysis.market import windows as wn
from analysis.market.returns import daily_returns

CAL = pd.bdate_range("2025-01-01", periods=60, name="date")  # positions 0..59


def _events(rows):
    return pd.DataFrame(rows, columns=["event_id", "day0", "kind", "origin", "confidence"]).assign(
        day0=lambda d: pd.to_datetime(d["day0"]))


EV = _events([("A", CAL[30], "earnings", "SRC", "high"),    # span positions 29..35
              ("B", CAL[34], "contract", "P1", "medium"),   # 33..39: overlaps A
              ("C", CAL[50], "other", "SRC", "low"),        # 49..55
              ("D", CAL[52], "ipo", "NEW", "high")])        # 51..57: overlaps C


def test_event_days_and_exclusions_by_hand():
    days = wn.event_days(EV, CAL)
    assert list(days["A"]) == list(CAL[29:36]) and list(days["D"]) == list(CAL[51:58])
    ex = wn.estimation_exclusions(EV, CAL)
    assert set(ex["A"]) == set(CAL[33:40]) | set(CAL[49:58])  # B, C, D; never its own days


def test_estimation_windows_count_removed_days():
    """B's window is positions 34-20 = 14 .. 34-5 = 29 (window (-20, -5)); A's span 29..35 cuts
    position 29: 1 removed, 15 used. C's window 30..45 loses A (30..35) and B (33..39): 10."""
    ew = wn.estimation_windows(EV, CAL, estimation_window=(-20, -5)).set_index("event_id")
    assert (ew.loc["B", "start"], ew.loc["B", "end"]) == (CAL[14], CAL[29])
    assert ew.loc["B", ["days_in_window", "days_removed", "days_used"]].tolist() == [16, 1, 15]
    assert ew.loc["B", "removed_events"] == "A"
    assert ew.loc["C", ["days_removed", "days_used"]].tolist() == [10, 6]
    assert ew.loc["C", "removed_events"] == "A, B"
    ew2 = wn.estimation_windows(EV, CAL, (-20, -5), not_before={"NEW": CAL[40]}).set_index("event_id")
    assert ew2.loc["C", "days_used_NEW"] == 6 - 0 and ew2.loc["A", "days_used_NEW"] == 0


def test_clusters_chain_overlapping_spans_and_pick_one_per_cluster():
    cl = wn.event_clusters(EV, CAL)
    assert cl["event_ids"].tolist() == ["A, B", "C, D"]
    rep = wn.pooled_representatives(EV, cl).set_index("event_id")
    assert rep.loc["A", "in_pooled"] and not rep.loc["B", "in_pooled"]
    assert rep.loc["B", "reason"] == "overlaps A (cluster C1), which represents it"
    # C is low confidence: D, the first pooled-confidence event of its cluster, represents it
    assert not rep.loc["C", "in_pooled"] and rep.loc["C", "reason"] == "confidence low"
    assert rep.loc["D", "in_pooled"]
    # spans that only touch (gap 7 = width + 1) stay apart
    apart = _events([("X", CAL[10], "k", "S", "high"), ("Y", CAL[17], "k", "S", "high")])
    assert len(wn.event_clusters(apart, CAL)) == 2
    touch = _events([("X", CAL[10], "k", "S", "high"), ("Y", CAL[16], "k", "S", "high")])
    assert len(wn.event_clusters(touch, CAL)) == 1


def test_listing_exclusion_from_the_ipo_event():
    nb = wn.listing_exclusions(EV, CAL, ipo_days=3)
    assert nb == {"NEW": CAL[56]}  # day 0 at 52, its first 3 returns (53..55) left out


def _crisis_returns():
    r = pd.DataFrame({"SRC": np.full(60, 0.001)}, index=CAL)
    r.iloc[0, 0] = np.nan
    r.loc[CAL[30], "SRC"] = -0.15   # A: a fall of 15% on its own news
    r.loc[CAL[50], "SRC"] = -0.20   # C: low confidence, not a trigger
    return r


def test_crisis_windows_from_the_rule():
    cw = wn.crisis_windows(EV, _crisis_returns(), "SRC", threshold=0.10, crisis_days=10, tranquil_days=20,
                           min_days=5)
    assert len(cw) == 1
    k = cw.iloc[0]
    assert (k.trigger, k.start, k.end, k.days, k.complete, k.status) == ("A", CAL[30], CAL[39], 10, True, "ok")
    assert (k.tranquil_start, k.tranquil_end, k.tranquil_days) == (CAL[10], CAL[29], 20)
    assert list(cw.attrs["crisis_days"]["K1"]) == list(CAL[30:40])
    # a fall of 15% does not qualify at a 20% threshold; a crisis with too few days is "too recent"
    assert wn.crisis_windows(EV, _crisis_returns(), "SRC", threshold=0.20).empty
    short = wn.crisis_windows(EV, _crisis_returns().iloc[:35], "SRC", threshold=0.10, crisis_days=10, min_days=8)
    assert short.iloc[0].status == "too recent" and short.iloc[0].days == 5 and pd.isna(short.iloc[0].planned_end)


def test_later_crisis_tranquil_window_skips_earlier_crises():
    ev = EV.assign(confidence="high")  # C becomes a trigger too
    cw = wn.crisis_windows(ev, _crisis_returns(), "SRC", threshold=0.10, crisis_days=10, tranquil_days=100,
                           min_days=5)
    assert cw["trigger"].tolist() == ["A", "C"]
    tq = cw.attrs["tranquil_days"]["K2"]
    assert not set(tq) & set(CAL[30:40]) and CAL[29] in tq and CAL[40] in tq and CAL[0] not in tq  # no return on day 0


def test_window_k_returns_never_bridges_a_gap():
    r = pd.DataFrame({"X": np.arange(1, 11) / 100.0}, index=CAL[:10])
    days = CAL[[0, 1, 2, 5, 6, 7, 8]]
    out = wn.window_k_returns(r, days, 2)
    assert list(out.index) == [CAL[1], CAL[6], CAL[8]]  # blocks (0,1), (5,6), (7,8); day 2 dropped
    assert out.loc[CAL[1], "X"] == pytest.approx(1.01 * 1.02 - 1)


@pytest.fixture(scope="module")
def real():
    t = ["CRWV", "NVDA", "ORCL", "CORZ", "SPY"]
    r, _ = daily_returns(load_prices(t), load_dividends())
    return r, load_events()


def test_real_crisis_rule_and_no_future_window_as_of(real):
    r, ev = real
    cw = wn.crisis_windows(ev, r, "CRWV", 0.10, 36, 148, 20)
    assert cw["trigger"].tolist() == ["E07", "E14", "E22", "E24"]
    assert (cw["end"] <= r.index[-1]).all()
    # as of 2025-11-10: E14 has not traded; only E07's window exists, and it ends before as_of
    ra, _ = daily_returns(load_prices(["CRWV", "SPY"], as_of="2025-11-10"), load_dividends(as_of="2025-11-10"))
    eva = load_events(as_of="2025-11-10")
    cwa = wn.crisis_windows(eva, ra, "CRWV", 0.10, 36, 148, 20)
    assert cwa["trigger"].tolist() == ["E07"] and cwa["end"].max() <= pd.Timestamp("2025-11-10")
    assert wn.pending_events(eva, ra.index[-1], "CRWV")["event_id"].tolist() == ["E14"]


def test_real_estimation_windows_are_clean(real):
    """Done-when: every event's estimation window is free of other events' [-1,+5] days."""
    r, ev = real
    spans = wn.event_days(ev, r.index)
    ex = wn.estimation_exclusions(ev, r.index)
    ew = wn.estimation_windows(ev, r.index).set_index("event_id")
    for e, p in wn._positions(ev, r.index).items():
        window = r.index[max(p - 120, 0):p - 10]
        clean = window.difference(ex[e])
        for other, d in spans.items():
            if other != e:
                assert not set(clean) & set(d)
        assert len(clean) == ew.loc[e, "days_used"]
    assert ew["days_removed"].gt(0).sum() == 25  # the issue: 25 of 26 windows were contaminated
