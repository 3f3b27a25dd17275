"""Checks on the real price files through the project loader (analysis.data).

Reference values: the closes and returns below are the checks listed in
data/prices/PROVENANCE.md ("Checks done"): CRWV close 105.61 on 2025-11-10 and 88.39 on
2025-11-11 (-16.31%), and the 2025-03-26 day returns of NVDA, SMCI, CEG, VST and APLD, quoted
there to the shown decimals (tolerance = half a unit in the last quoted digit).
"""

import numpy as np
import pandas as pd
import pytest

from analysis.data import load_dividends, load_events, load_prices
from analysis.market import event_study as es
from analysis.market.returns import BASIS_ADJ, daily_returns, is_trading_day

UNIVERSE = ("CRWV NVDA AVGO AMD SMH ORCL MSFT META AMZN GOOGL SMCI DELL VRT VST CEG APLD "
            "CORZ IREN CIFR WULF NBIS").split()


@pytest.fixture(scope="module")
def prices():
    return load_prices(tickers=[*UNIVERSE, "SPY"])


@pytest.fixture(scope="module")
def rets(prices):
    return daily_returns(prices, load_dividends())


def test_crwv_guidance_day_raw_return(prices, rets):
    wide, _ = rets
    c = prices[prices.ticker == "CRWV"].set_index("date")["close"]
    assert c.loc["2025-11-10"] == pytest.approx(105.61, abs=5e-5)
    assert c.loc["2025-11-11"] == pytest.approx(88.39, abs=5e-5)
    r = wide.loc["2025-11-11", "CRWV"]
    assert r == pytest.approx(c.loc["2025-11-11"] / c.loc["2025-11-10"] - 1, rel=1e-14)
    assert r == pytest.approx(-0.1631, abs=5e-5)


@pytest.mark.parametrize(
    "ticker,pct,tol",
    [("NVDA", -5.742, 5e-4), ("SMCI", -8.86, 5e-3), ("CEG", -4.36, 5e-3),
     ("VST", -5.92, 5e-3), ("APLD", -12.23, 5e-3)],
)
def test_provenance_returns_2025_03_26(rets, ticker, pct, tol):
    assert 100 * rets[0].loc["2025-03-26", ticker] == pytest.approx(pct, abs=tol)


def test_smh_basis_flagged(rets):
    _, basis = rets
    smh = basis[basis.ticker == "SMH"].reset_index(drop=True)
    assert smh.loc[0, "basis"] == BASIS_ADJ
    assert smh.loc[0, "end"] == pd.Timestamp("2026-03-23")  # last return needing adj_close
    assert set(basis.loc[basis.ticker != "SMH", "basis"]) == {"close+dividend"}


def test_no_returns_invented(prices, rets):
    wide, _ = rets
    # CORZ stops 2026-05-29: nothing after; CRWV starts at its IPO: nothing before day 2
    assert wide.loc["2026-06-01":, "CORZ"].isna().all()
    assert wide.loc[:"2025-03-28", "CRWV"].isna().all()
    n_rows = prices.groupby("ticker").size()
    assert (wide.notna().sum() <= n_rows.reindex(wide.columns) - 1).all()


def test_event_days_are_trading_days(rets):
    cal = rets[0].index
    for d in load_events()["day0"].dropna():
        assert is_trading_day(d, cal), d


def test_crwv_day0_abnormal_return_is_raw_minus_fitted_market(rets):
    wide, _ = rets
    p = es.event_panel(wide, "2025-11-11", ["CRWV"], market="SPY")
    fit = p.fits["CRWV"]
    assert fit.model == es.MARKET_MODEL and fit.n_obs == 110
    raw, rm = wide.loc["2025-11-11", "CRWV"], wide.loc["2025-11-11", "SPY"]
    assert p.ar.loc[0, "CRWV"] == pytest.approx(raw - (fit.alpha + fit.beta * rm), abs=1e-15)
    # after its March 2025 IPO CRWV has too little history: market-adjusted fallback
    p4 = es.event_panel(wide, "2025-05-15", ["CRWV"], market="SPY")
    assert p4.fits["CRWV"].model == es.MARKET_ADJUSTED
    raw4, rm4 = wide.loc["2025-05-15", "CRWV"], wide.loc["2025-05-15", "SPY"]
    assert p4.ar.loc[0, "CRWV"] == pytest.approx(raw4 - rm4, abs=1e-15)


def test_event_study_table_shape(rets):
    wide, _ = rets
    ev = load_events()
    ev = ev[ev.event_id.isin(["E14", "E17"])]
    res = es.event_study(wide, ev, UNIVERSE, market="SPY")
    ct = res.car_table
    assert list(ct.columns[:7]) == ["event_id", "ticker", "window", "car", "t_stat", "p_value",
                                    "model"]
    assert len(ct) == 2 * len(UNIVERSE) * 4
    tests = set(res.pooled_by_event["test"])
    assert tests == {"patell", "bmp", "kolari_pynnonen", "corrado", "portfolio"}
    # the origin (CRWV for E14) is left out of the peer tests
    assert (res.pooled_by_event.query("event_id == 'E14'")["n"] == len(UNIVERSE) - 1).all()
    assert np.isfinite(ct["car"]).all()


def test_rolling_connectedness_keeps_a_ticker_while_it_trades(rets):
    """No look-ahead in choosing the panel: CORZ (last price 2026-05-29) is in every rolling
    window that ends by its last return and in none after; later knowledge never removes it."""
    from analysis.market import connectedness as cn

    wide, _ = rets
    cols = ["CRWV", "CORZ", "NVDA", "ORCL"]
    roll = cn.dy_rolling(wide[cols], window=120, lags=1, require=("CRWV",))
    corz = roll["net"]["CORZ"]
    last = wide["CORZ"].dropna().index.max()
    assert corz.loc[:last].notna().all() and corz.loc[last:].iloc[1:].isna().all()
    n = roll["total"].set_index("date")["n_vars"]
    assert (n.loc[:last] == 4).all() and (n.loc[last:].iloc[1:] == 3).all()
