"""Helpers of analysis.market.summary: constructed cases worked by hand, plus real-data checks."""

import numpy as np
import pandas as pd
import pytest

from analysis.data import load_dividends, load_events, load_prices
from analysis.market import summary as sm
from analysis.market.returns import daily_returns

NAN = np.nan


# --------------------------------------------------------------------------- events
def test_usable_events_reasons():
    cal = pd.DatetimeIndex(["2025-03-03", "2025-03-04", "2025-03-05"])  # Mon..Wed
    ev = pd.DataFrame({"event_id": ["A", "B", "C", "D", "E"],
                       "day0": pd.to_datetime(["2025-03-04", "2025-03-08", "2025-03-06", None,
                                               "2025-02-28"])})
    use, skip = sm.usable_events(ev, cal)
    assert use["event_id"].tolist() == ["A"]
    reasons = dict(zip(skip["event_id"], skip["reason"], strict=True))
    assert reasons == {"B": "day 0 after the last price date (2025-03-05)",
                       "C": "day 0 after the last price date (2025-03-05)",
                       "D": "no day 0 in the file", "E": "day 0 before the first price date"}
    use2, skip2 = sm.usable_events(ev.assign(day0=pd.to_datetime(["2025-03-04", "2025-03-01",
                                                                   "2025-03-05", None, None])),
                                   cal.delete(1).append(pd.DatetimeIndex(["2025-03-06"])))
    # 2025-03-04 is no longer in the calendar but lies inside it: not a trading day
    assert use2["event_id"].tolist() == ["C"]
    assert skip2.set_index("event_id").loc["A", "reason"] == "day 0 is not a trading day"


def test_car_grid_pivots_in_requested_order():
    ct = pd.DataFrame({"event_id": ["E1", "E1", "E2", "E2", "E1"],
                       "ticker": ["X", "Y", "X", "Y", "X"],
                       "window": ["[0,+1]", "[0,+1]", "[0,+1]", "[0,+1]", "[0,0]"],
                       "car": [0.01, -0.02, 0.03, NAN, 0.5], "p_value": [0.5, 0.01, 0.2, NAN, 0.9],
                       "model": ["market_model", "market_adjusted", "market_model", "market_model",
                                 "market_model"]})
    g = sm.car_grid(ct, "[0,+1]", events=["E2", "E1", "E3"], tickers=["Y", "X"])
    assert g["car"].index.tolist() == ["E2", "E1", "E3"] and g["car"].columns.tolist() == ["Y", "X"]
    assert g["car"].loc["E1", "X"] == 0.01  # the [0,0] row is not mixed in
    assert g["p_value"].loc["E1", "Y"] == 0.01
    assert g["model"].loc["E1", "Y"] == "market_adjusted"
    assert np.isnan(g["car"].loc["E2", "Y"]) and g["car"].loc["E3"].isna().all()


def _path_returns():
    """Same construction as test_market_event_study: OLS on days -6..-2 recovers alpha = 0.001,
    beta = 1.5 exactly (residuals sum to 0 and are orthogonal to Rm)."""
    rm_est = [0.01, -0.02, 0.03, 0.00, -0.01]
    e_est = [0.002, 0.001, 0.0, -0.003, 0.0]
    days = pd.bdate_range("2025-03-03", periods=8)  # relative days -6..+1
    rm = rm_est + [0.004, -0.05, 0.01]
    r = [0.001 + 1.5 * m + e for m, e in zip(rm_est, e_est, strict=True)] + [0.0, -0.09, 0.02]
    z = r[:6] + [NAN, 0.02]  # same stock with day 0 missing
    return pd.DataFrame({"X": r, "Z": z, "M": rm}, index=pd.DatetimeIndex(days, name="date"))


def test_car_paths_by_hand():
    ret = _path_returns()
    ev = pd.DataFrame({"event_id": ["EV"], "day0": [ret.index[6]]})
    out = sm.car_paths(ret, ev, ["X", "Z"], market="M", span=(-1, 3),
                       estimation_window=(-6, -2), min_obs=5)
    x = out[out.ticker == "X"].set_index("rel_day")
    # days +2, +3 lie beyond the calendar: absent, not NaN-filled
    assert x.index.tolist() == [-1, 0, 1]
    # AR(-1) = 0 - (0.001 + 1.5 * 0.004) = -0.007; AR(0) = -0.09 - (0.001 - 0.075) = -0.016;
    # AR(+1) = 0.02 - (0.001 + 0.015) = 0.004; CAR path -0.007, -0.023, -0.019
    assert x["ar"].tolist() == pytest.approx([-0.007, -0.016, 0.004], abs=1e-12)
    assert x["car"].tolist() == pytest.approx([-0.007, -0.023, -0.019], abs=1e-12)
    assert (x["model"] == "market_model").all()
    assert x.loc[0, "date"] == ret.index[6]
    z = out[out.ticker == "Z"].set_index("rel_day")
    # Z has no return on day 0: its path stops there (NaN from day 0 on), never filled
    assert z.loc[-1, "car"] == pytest.approx(-0.007, abs=1e-12)
    assert z.loc[[0, 1], "car"].isna().all()
    assert z.loc[1, "ar"] == pytest.approx(0.004, abs=1e-12)


def test_car_paths_no_events():
    out = sm.car_paths(_path_returns(), pd.DataFrame({"event_id": [], "day0": []}), ["X"], "M")
    assert out.empty and "car" in out.columns


# --------------------------------------------------------------------------- pooled
def _by_event():
    rows = []
    for eid, kind, pooled, kp in [("E1", "earnings", True, 1.0), ("E2", "earnings", True, 2.0),
                                  ("E3", "guidance", True, 3.0), ("E4", "other", False, 9.0),
                                  ("E5", "earnings", True, -2.0)]:
        for test, stat in [("patell", 10 * kp), ("bmp", 2 * kp), ("kolari_pynnonen", kp),
                           ("corrado", -kp), ("portfolio", kp / 2)]:
            rows.append({"event_id": eid, "kind": kind, "window": "[0,+1]", "test": test, "n": 20,
                         "statistic": stat, "p_value": 0.5, "mean_car": 0.01 * kp,
                         "rbar": 0.2 if test == "kolari_pynnonen" else NAN, "in_pooled": pooled})
    return pd.DataFrame(rows)


def test_pooled_wide_layout():
    w = sm.pooled_wide(_by_event(), "[0,+1]")
    assert w["event_id"].tolist() == ["E1", "E2", "E3", "E4", "E5"]
    r = w.set_index("event_id").loc["E2"]
    assert (r["patell"], r["bmp"], r["kolari_pynnonen"], r["corrado"], r["portfolio"]) == (
        20.0, 4.0, 2.0, -2.0, 1.0)
    assert r["rbar"] == 0.2 and r["mean_car"] == 0.02 and r["n"] == 20 and r["kind"] == "earnings"
    assert not w.set_index("event_id").loc["E4", "in_pooled"]
    assert sm.pooled_wide(_by_event(), "[0,+5]").empty


def test_pool_by_origin_stouffer_by_hand():
    ev = pd.DataFrame({"event_id": ["E1", "E2", "E3", "E4", "E5"],
                       "origin": ["CRWV", "CRWV", "CRWV", "CRWV", "ORCL"]})
    p = sm.pool_by_origin(_by_event(), ev, "CRWV").set_index(["group", "test"])
    # CRWV news, pooled: E1, E2, E3 (E4 is not in_pooled): Stouffer (1 + 2 + 3)/sqrt(3) = 3.4641
    assert p.loc[("CRWV news", "stouffer_kp"), "statistic"] == pytest.approx(6 / np.sqrt(3))
    assert p.loc[("CRWV news", "stouffer_kp"), "n_events"] == 3
    # portfolio_bmp: BMP t over portfolio t's 0.5, 1, 1.5: mean 1, sd 0.5 -> t = 1/(0.5/sqrt 3)
    assert p.loc[("CRWV news", "portfolio_bmp"), "statistic"] == pytest.approx(2 * np.sqrt(3))
    assert p.loc[("other firms' news", "stouffer_kp"), "statistic"] == pytest.approx(-2.0)
    assert np.isnan(p.loc[("other firms' news", "portfolio_bmp"), "statistic"])  # 1 event < 3


# --------------------------------------------------------------------------- Forbes-Rigobon
def test_complete_panel_drops_early_stop_and_gaps():
    idx = pd.bdate_range("2025-01-06", periods=6)
    r = pd.DataFrame({"A": [NAN, 1, 2, 3, 4, 5], "B": [0, 1, 2, 3, NAN, NAN],
                      "C": [0, 1, NAN, 3, 4, 5], "REF": [0, 1, 2, 3, 4, 5]}, index=idx, dtype=float)
    p, info = sm.complete_panel(r, ["A", "B", "C"], end_ref="REF")
    assert p.columns.tolist() == ["A"] and p.index[0] == idx[1] and p.index[-1] == idx[-1]
    why = dict(zip(info["ticker"], info["reason"], strict=True))
    assert why == {"A": "", "B": "stops before REF", "C": "gap inside the span"}
    # without end_ref B is kept and the span ends at B's last return; C still has a gap
    p2, info2 = sm.complete_panel(r, ["A", "B", "C"])
    assert p2.columns.tolist() == ["A", "B"]
    assert (p2.index[0], p2.index[-1]) == (idx[1], idx[3])
    assert not p2.isna().any().any()


def test_source_links_by_hand():
    names = ["S", "P", "Q"]
    th = pd.DataFrame([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.05, 0.15, 0.8]],
                      index=names, columns=names)
    out = sm.source_links(th, "S").set_index("ticker")
    # P: S gives 0.5 of P's variance, receives 0.3 from P -> net +0.2; Q: 0.05 - 0.1 = -0.05
    assert out.loc["P", ["to_peer", "from_peer", "net"]].tolist() == pytest.approx([0.5, 0.3, 0.2])
    assert out.loc["Q", ["to_peer", "from_peer", "net"]].tolist() == pytest.approx([0.05, 0.1, -0.05])
    assert out.index.tolist() == ["P", "Q"]


def test_span_stats_and_values_at():
    s = pd.Series([1.0, 2.0, 4.0, NAN, 8.0], index=pd.bdate_range("2025-01-06", periods=5))
    t = sm.span_stats(s, {"a": ("2025-01-06", "2025-01-08"), "b": ("2025-02-01", "2025-02-05")})
    a = t.set_index("span").loc["a"]
    assert (a["n"], a["mean"], a["min"], a["max"]) == (3, 7 / 3, 1.0, 4.0)
    assert t.set_index("span").loc["b", "n"] == 0 and np.isnan(t.set_index("span").loc["b", "mean"])
    long = pd.DataFrame({"date": pd.to_datetime(["2025-01-06", "2025-01-08", "2025-01-06"]),
                         "ticker": ["P", "P", "Q"], "beta": [1.0, 2.0, 3.0], "corr": [0.1, 0.2, 0.3]})
    v = sm.values_at(long, {"early": "2025-01-01", "mid": "2025-01-07", "end": "2025-12-31"})
    p = v[v.ticker == "P"].set_index("label")
    assert pd.isna(p.loc["early", "date"]) and np.isnan(p.loc["early", "beta"])
    assert p.loc["mid", "beta"] == 1.0 and p.loc["mid", "date"] == pd.Timestamp("2025-01-06")
    assert p.loc["end", "corr"] == 0.2


# --------------------------------------------------------------------------- real data
UNIVERSE = ("CRWV NVDA AVGO AMD SMH ORCL MSFT META AMZN GOOGL SMCI DELL VRT VST CEG APLD "
            "CORZ IREN CIFR WULF NBIS").split()


@pytest.fixture(scope="module")
def wide():
    return daily_returns(load_prices([*UNIVERSE, "SPY"]), load_dividends())[0]


def test_real_panel_drops_corz_for_consistent_rolling_set(wide):
    """PROVENANCE.md: CORZ's prices end 2026-05-29, SPY's 2026-09-15; CRWV's first return is
    2025-03-31 (listed 2025-03-28 = no return, 2025-03-31 is the next session)."""
    p, info = sm.complete_panel(wide, UNIVERSE, end_ref="SPY")
    assert info.set_index("ticker").loc["CORZ", "reason"] == "stops before SPY"
    assert set(p.columns) == set(UNIVERSE) - {"CORZ"}
    assert p.index[0] == pd.Timestamp("2025-03-31") and p.index[-1] == pd.Timestamp("2026-09-15")
    p_all, _ = sm.complete_panel(wide, UNIVERSE)
    assert "CORZ" in p_all.columns and p_all.index[-1] == pd.Timestamp("2026-05-29")


def test_real_events_point_in_time():
    """events.csv: E14 (Q3-25 results) was announced 2025-11-10 after the close, day 0
    2025-11-11: in a 2025-11-10 build the event is known but its day 0 has no prices."""
    prices = load_prices(["CRWV", "SPY"], as_of="2025-11-10")
    cal = pd.DatetimeIndex(sorted(prices["date"].unique()))
    use, skip = sm.usable_events(load_events(as_of="2025-11-10"), cal)
    assert skip["event_id"].tolist() == ["E14"]
    assert skip["reason"].iloc[0] == "day 0 after the last price date (2025-11-10)"
    assert "E13" in use["event_id"].tolist()


# --------------------------------------------------------------------------- path ends, shares
def test_path_end_cars_takes_the_last_day_of_each_event():
    # hand-worked: event X ends on rel_day 2 (S: 0.03; peers P 0.01 and Q NaN -> mean 0.01),
    # event Y ends on rel_day 1 (S: -0.02; P -0.04, Q 0.00 -> mean -0.02); R is not a listed peer.
    rows = [("X", "S", 0, 0.01), ("X", "S", 2, 0.03), ("X", "P", 2, 0.01), ("X", "Q", 2, NAN),
            ("X", "R", 2, 0.50), ("X", "P", 1, 0.90),
            ("Y", "S", 1, -0.02), ("Y", "P", 1, -0.04), ("Y", "Q", 1, 0.00), ("Y", "Q", 0, 0.70)]
    paths = pd.DataFrame(rows, columns=["event_id", "ticker", "rel_day", "car"])
    src, peer = sm.path_end_cars(paths, "S", ["P", "Q"])
    assert src.to_dict() == pytest.approx({"X": 0.03, "Y": -0.02})
    assert peer.to_dict() == pytest.approx({"X": 0.01, "Y": -0.02})


def test_positive_share_skips_missing_values():
    share, n = sm.positive_share(pd.Series([0.1, -0.2, NAN, 0.0, 0.3]))
    assert n == 4  # NaN left out
    assert share == pytest.approx(2 / 4)  # 0.1 and 0.3 are above zero; 0.0 is not
