"""The section's three verdict functions on synthetic data where the truth is known."""

import numpy as np
import pandas as pd
import pytest

from analysis.market import connectedness as cn
from analysis.market import event_study as es
from analysis.market import pooling as pl
from analysis.market import windows as wn


# --------------------------------------------------------------------------- peers
def _spillover_world(spill: float, seed: int, n_days=900, n_events=8, n_peers=6):
    """A source SRC with its own news days (|shock| 8%, random sign) and peers that take `spill`
    of each source shock on the same day; market M; idiosyncratic noise 1.5%."""
    rng = np.random.default_rng(seed)
    cal = pd.bdate_range("2020-01-01", periods=n_days, name="date")
    m = rng.normal(0, 0.01, n_days)
    src = 1.2 * m + rng.normal(0, 0.02, n_days)
    days = np.linspace(200, n_days - 30, n_events).astype(int)
    shock = rng.choice([-1.0, 1.0], n_events) * 0.08
    src[days] += shock
    cols = {"M": m, "SRC": src}
    for i in range(n_peers):
        x = 0.9 * m + rng.normal(0, 0.015, n_days)
        x[days] += spill * shock
        cols[f"P{i}"] = x
    r = pd.DataFrame(cols, index=cal)
    ev = pd.DataFrame({"event_id": [f"E{i:02d}" for i in range(n_events)], "day0": cal[days], "kind": "news",
                       "origin": "SRC", "confidence": "high"})
    return r, ev


def _peers_verdict(spill, seed):
    r, ev = _spillover_world(spill, seed)
    tickers = [c for c in r.columns if c != "M"]
    cl = wn.event_clusters(ev, r.index)
    pool = wn.pooled_representatives(ev, cl)
    st = es.event_study(r, ev, tickers, market="M", windows=((0, 1),), pooled=pool.loc[pool.in_pooled, "event_id"])
    ct = st.car_table.merge(ev[["event_id", "origin"]], on="event_id")
    src = pl.source_events(ct, ev, "SRC", "[0,+1]")
    group = pl.aligned_group_test(st.pooled_by_event, src, "[0,+1]")
    peers = [t for t in tickers if t != "SRC"]
    tests = pl.aligned_peer_tests(ct, src, peers, "[0,+1]")
    return pl.peers_verdict(group, tests, src, "SRC", "[0,+1]"), group, tests


def test_peers_that_take_half_of_each_shock_move_with_the_source(check_headline):
    v, group, tests = _peers_verdict(0.5, seed=1)
    assert v.answer == "yes" and v.key == "peers_move_on_crwv_shocks"
    assert group["z"] > 3 and group["mean_aligned_car"] > 0.02
    assert tests["significant"].all()
    assert "8 SRC events" in v.sentence and "[0,+1]" in v.sentence and "Benjamini-Hochberg" in v.sentence
    assert v.period == "2020-10-07 to 2023-05-03"  # first and last day 0 of the pooled events
    check_headline(v, f"{int(tests['significant'].sum())} of {len(tests)} peers move with SRC after Benjamini-Hochberg",
                   f"pooled z {group['z']:.2f}, p {group['p']:.3f} over 8 events (2020-10-07 to 2023-05-03)")


def test_unconnected_peers_do_not():
    """Signed by the source's own move, good and bad news do not cancel, and with no spill-over
    the aligned statistic is centred on zero: over 10 seeds the verdict is 'no' in most, never 'yes'
    more than once."""
    answers = [_peers_verdict(0.0, seed)[0].answer for seed in range(10, 20)]
    assert answers.count("yes") <= 1 and answers.count("no") >= 7


def test_too_few_events_is_insufficient(check_headline):
    v = pl.peers_verdict({"n_events": 2, "z": 1.0, "p": 0.2, "mean_aligned_car": 0.0},
                         pd.DataFrame({"q": [0.5], "significant": [False]}),
                         pd.DataFrame({"day0": pd.to_datetime(["2025-01-02", "2025-02-03"])}), "SRC", "[0,+1]")
    assert v.answer == "insufficient data" and not v.conclusive
    check_headline(v, "only 2 pooled SRC events, at least")


def _no_rejection(n_events=3):
    group = {"n_events": n_events, "z": 0.91, "p": 0.181, "mean_aligned_car": 0.011}
    tests = pd.DataFrame({"q": [0.5] * 20, "significant": [False] * 20})
    src = pd.DataFrame({"day0": pd.bdate_range("2025-05-15", periods=n_events, freq="20B")})
    return group, tests, src


def test_no_rejection_with_low_power_is_not_shown(check_headline):
    """A test that could not have detected the spill-over says nothing by not rejecting: below
    `min_power` the answer is 'not shown' (no conclusion), with the power in the headline."""
    group, tests, src = _no_rejection()
    weak = pl.peers_verdict(group, tests, src, "SRC", "[0,+1]", power=0.4, effect="peers that take a tenth")
    assert weak.answer == "not shown" and not weak.conclusive
    assert "40%" in weak.sentence and "peers that take a tenth" in weak.sentence and "not evidence" in weak.sentence
    check_headline(weak, "too few events (power 40%)", "pooled z 0.91, p 0.181 over 3 events", "0 of 20 peers")
    strong = pl.peers_verdict(group, tests, src, "SRC", "[0,+1]", power=0.9)
    assert strong.answer == "no" and "90%" in strong.sentence and strong.evidence["power"] == 0.9
    assert pl.peers_verdict(group, tests, src, "SRC", "[0,+1]").answer == "no"  # power not checked
    # a rejection is evidence whatever the power
    rejected = pl.peers_verdict({**group, "z": 2.5, "p": 0.006}, tests.assign(significant=[True] + [False] * 19),
                                src, "SRC", "[0,+1]", power=0.4)
    assert rejected.answer == "yes"


def _design(n_events, n_peers=20, rbar=0.0, sd=0.02, move=0.2):
    return pd.DataFrame({"event_id": [f"E{i}" for i in range(n_events)], "source_move": move, "rbar": rbar,
                         "sd_car": [np.full(n_peers, sd)] * n_events})


def test_group_power_matches_the_test_functions_by_brute_force():
    """The vectorised simulation gives the rejection rate of the real statistic: the same model
    drawn sample by sample through `event_study.kolari_pynnonen_t` and `aligned_group_test`
    rejects at the same rate (within Monte Carlo error), and with no spill-over at about alpha."""
    design = _design(4, rbar=0.2)
    share = 0.02  # shift of 0.2 sd per peer
    rng = np.random.default_rng(3)
    reps, hits = 600, 0
    for _ in range(reps):
        rows = []
        for e in design["event_id"]:
            scar = share * 0.2 / 0.02 + np.sqrt(0.2) * rng.normal() + np.sqrt(0.8) * rng.normal(size=20)
            t, _ = es.kolari_pynnonen_t(scar, 0.2)
            rows.append({"event_id": e, "window": "w", "test": "kolari_pynnonen", "statistic": t, "mean_car": 0.0})
        src = pd.DataFrame({"event_id": design["event_id"], "sign": 1})
        hits += pl.aligned_group_test(pd.DataFrame(rows), src, "w")["p"] <= 0.05
    brute = hits / reps
    fast = pl.aligned_group_power(design, share, reps=4000, seed=1)
    assert abs(fast - brute) < 3 * np.sqrt(brute * (1 - brute) / reps) + 0.01, (fast, brute)
    assert 0.03 <= pl.aligned_group_power(design, 0.0, reps=4000, seed=2) <= 0.07


def test_group_power_grows_with_the_events_and_the_spill_over():
    """With uncorrelated peers the pooled z is about N(shift sqrt(N E), 1): power Phi(shift sqrt(NE)
    - 1.645) (t tails add a little); more events, a larger share, more power; correlated peers, less."""
    from scipy import stats

    share = 0.01  # shift 0.1 sd per peer
    approx = float(stats.norm.cdf(0.1 * np.sqrt(20 * 11) - stats.norm.ppf(0.95)))
    p11 = pl.aligned_group_power(_design(11), share, reps=4000)
    assert abs(p11 - approx) < 0.05, (p11, approx)
    assert pl.aligned_group_power(_design(3), share, reps=4000) < p11 < pl.aligned_group_power(_design(11), 2 * share, reps=4000)
    assert pl.aligned_group_power(_design(11, rbar=0.3), share, reps=4000) < p11
    assert np.isnan(pl.aligned_group_power(_design(0), share))


# --------------------------------------------------------------------------- transmitter
def _net(values, start="2026-01-02"):
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)))


def test_transmitter_only_when_whole_sample_and_latest_windows_agree(check_headline):
    v = cn.transmitter_verdict(0.05, "2025-03-31 to 2026-05-29", _net([-0.1] * 30 + [0.02] * 20), "CRWV")
    assert v.answer == "transmitter" and "+5.0%" in v.sentence and "2025-03-31 to 2026-05-29" in v.sentence
    check_headline(v, "net spillover +5.0% over 2025-03-31 to 2026-05-29, positive in each of the last 20 rolling windows")
    r = cn.transmitter_verdict(-0.087, "2025-03-31 to 2026-05-29", _net([-0.03] * 25), "CRWV")
    assert r.answer == "receiver"
    check_headline(r, "-8.7%", "negative in each of the last 20")


def test_disagreement_is_mixed_with_both_numbers(check_headline):
    """The issue's case: a net receiver over the whole sample (-8.7%), a transmitter in the latest
    window (+17.6%): 'mixed', never 'transmitter'."""
    v = cn.transmitter_verdict(-0.087, "2025-03-31 to 2026-05-29", _net([0.05] * 30 + [0.176]), "CRWV")
    assert v.answer == "mixed" and "-8.7%" in v.sentence and "+17.6%" in v.sentence
    check_headline(v, "-8.7% over 2025-03-31 to 2026-05-29 (receiver)", "+17.6% in the 120-day window to 2026-02-13 (transmitter)")
    one_off = cn.transmitter_verdict(0.05, "p", _net([0.02] * 19 + [-0.01]), "CRWV")
    assert one_off.answer == "mixed"


def test_no_rolling_window_is_insufficient(check_headline):
    v = cn.transmitter_verdict(-0.1, "p", pd.Series(dtype=float), "CRWV")
    assert v.answer == "insufficient data" and "-10.0%" in v.sentence
    check_headline(v, "whole-sample net spillover -10.0% (p); no 120-day rolling window yet")


@pytest.mark.parametrize("direction", [1, -1])
def test_transmitter_verdict_on_a_simulated_var(direction):
    """A VAR where SRC drives the others (direction 1) or is driven by them (-1): the whole-sample
    and rolling Diebold-Yilmaz NET agree with the truth, and so does the verdict."""
    rng = np.random.default_rng(7)
    n, k = 700, 4
    a = np.zeros((k, k))
    if direction == 1:
        a[1:, 0] = 0.5   # SRC (column 0) feeds the others
    else:
        a[0, 1:] = 0.3   # the others feed SRC
    y = np.zeros((n, k))
    for t in range(1, n):
        y[t] = a @ y[t - 1] + rng.normal(size=k)
    df = pd.DataFrame(0.01 * y, columns=["SRC", "A", "B", "C"], index=pd.bdate_range("2020-01-01", periods=n))
    st = cn.dy_static(df, lags=1)
    roll = cn.dy_rolling(df, window=200, lags=1)["net"]["SRC"]
    v = cn.transmitter_verdict(float(st.net["SRC"]), "whole", roll, "SRC")
    assert v.answer == ("transmitter" if direction == 1 else "receiver")
