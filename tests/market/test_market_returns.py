"""Returns, k-day returns and the trading calendar on constructed prices (hand-worked)."""

import numpy as np
import pandas as pd
import pytest

from analysis.market.returns import (
    BASIS_ADJ,
    BASIS_CLOSE,
    daily_returns,
    is_trading_day,
    k_day_returns,
    log_returns,
    shift_trading_days,
    trading_calendar,
)

D = pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07", "2025-01-08"])


def _prices():
    nan = np.nan
    rows = [
        # A: full bars, dividend 1.00 with ex-date 2025-01-06
        ("A", D[0], 100.0, nan), ("A", D[1], 102.0, nan), ("A", D[2], 101.0, nan),
        ("A", D[3], 99.0, nan), ("A", D[4], 99.0, nan),
        # B: adj_close only on the first three days, then full bars; no row on 2025-01-07
        ("B", D[0], nan, 50.0), ("B", D[1], nan, 55.0), ("B", D[2], 60.0, 60.5),
        ("B", D[4], 66.0, 66.0),
    ]
    df = pd.DataFrame(rows, columns=["ticker", "date", "close", "adj_close"])
    for c in ("open", "high", "low", "volume"):
        df[c] = np.nan
    return df


def test_total_return_with_dividend_and_adj_basis():
    divs = pd.DataFrame({"ticker": ["A"], "ex_date": ["2025-01-06"], "dividend": [1.0]})
    wide, basis = daily_returns(_prices(), divs)
    a = wide["A"]
    assert np.isnan(a.iloc[0])  # first day: no previous close
    assert a.iloc[1] == pytest.approx(102 / 100 - 1, abs=1e-15)  # 0.02
    assert a.iloc[2] == pytest.approx((101 + 1) / 102 - 1, abs=1e-15)  # 0.0 with the dividend
    assert a.iloc[3] == pytest.approx(99 / 101 - 1, abs=1e-15)
    b = wide["B"]
    assert b.iloc[1] == pytest.approx(55 / 50 - 1, abs=1e-15)  # adj_close basis (no closes)
    assert b.iloc[2] == pytest.approx(60.5 / 55 - 1, abs=1e-15)  # close missing on D1 -> adj
    assert np.isnan(b.loc["2025-01-07"])  # no row: never filled
    assert np.isnan(b.loc["2025-01-08"])  # previous row is 2 trading days back: no return
    ba = basis[basis.ticker == "B"]
    assert ba["basis"].tolist() == [BASIS_ADJ]
    assert ba["start"].iloc[0] == D[1] and ba["end"].iloc[0] == D[2]
    aa = basis[basis.ticker == "A"]
    assert aa["basis"].tolist() == [BASIS_CLOSE] and aa["n_returns"].iloc[0] == 4


def test_dividend_on_missing_day_raises():
    divs = pd.DataFrame({"ticker": ["B"], "ex_date": ["2025-01-07"], "dividend": [0.5]})
    with pytest.raises(ValueError, match="no price row"):
        daily_returns(_prices(), divs)


def test_k_day_returns_blocks_and_nan():
    r = pd.Series([0.1, -0.1, 0.2, np.nan, 0.05], index=D)
    out = k_day_returns(r, 2)
    # block 1: 1.1 * 0.9 - 1 = -0.01; block 2 has a NaN -> NaN; trailing single day dropped
    assert list(out.index) == [D[1], D[3]]
    assert out.iloc[0] == pytest.approx(-0.01, abs=1e-15)
    assert np.isnan(out.iloc[1])
    assert log_returns(r).iloc[0] == pytest.approx(np.log(1.1), abs=1e-15)


def test_calendar():
    cal = trading_calendar(_prices())
    assert list(cal) == list(D)
    assert is_trading_day("2025-01-06", cal) and not is_trading_day("2025-01-04", cal)
    assert shift_trading_days("2025-01-03", 1, cal) == D[2]  # over the weekend
    assert shift_trading_days("2025-01-06", -2, cal) == D[0]
    with pytest.raises(ValueError):
        shift_trading_days("2025-01-04", 1, cal)
    with pytest.raises(ValueError):
        shift_trading_days("2025-01-08", 1, cal)
