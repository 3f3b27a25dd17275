"""Daily returns from the long price table, and a trading-calendar helper.

Input format (the loader `analysis.data.load_prices` returns it): a long DataFrame with columns
ticker, date (datetime64), open, high, low, close, adj_close, volume; one row per ticker-date.
Prices in USD per share; returns are simple returns as fractions (0.01 = 1%).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BASIS_CLOSE = "close+dividend"
BASIS_ADJ = "adj_close"


# --------------------------------------------------------------------------- calendar
def trading_calendar(prices: pd.DataFrame) -> pd.DatetimeIndex:
    """Sorted union of all dates in the long price table (the project's trading calendar)."""
    return pd.DatetimeIndex(sorted(pd.to_datetime(prices["date"]).unique()), name="date")


def is_trading_day(date, calendar: pd.DatetimeIndex) -> bool:
    """True when `date` (anything `pd.Timestamp` accepts) is in `calendar`."""
    return pd.Timestamp(date) in calendar


def shift_trading_days(date, n: int, calendar: pd.DatetimeIndex) -> pd.Timestamp:
    """The trading day `n` trading days after `date` (before it when n < 0).

    `date` must be a trading day of `calendar`; raises ValueError otherwise or when the shift
    leaves the calendar.
    """
    ts = pd.Timestamp(date)
    if ts not in calendar:
        raise ValueError(f"{ts.date().isoformat()} is not a trading day of the calendar")
    pos = calendar.get_loc(ts) + int(n)
    if pos < 0 or pos >= len(calendar):
        raise ValueError(
            f"{ts.date().isoformat()} shifted by {n} trading days leaves the calendar "
            f"({calendar[0].date()}..{calendar[-1].date()})"
        )
    return calendar[pos]


# --------------------------------------------------------------------------- returns
def _ticker_returns(g: pd.DataFrame, divs: pd.Series, calendar: pd.DatetimeIndex):
    """Returns and basis labels for one ticker's rows (sorted by date), on its own dates."""
    g = g.sort_values("date")
    dates = pd.DatetimeIndex(g["date"])
    close = g["close"].to_numpy(dtype=float)
    adj = g["adj_close"].to_numpy(dtype=float)
    div = divs.reindex(dates).fillna(0.0).to_numpy(dtype=float)  # 0 = no dividend that day
    n = len(g)
    ret = np.full(n, np.nan)
    basis = np.full(n, None, dtype=object)
    if n < 2:
        return dates, ret, basis
    # previous row must be the previous trading day of the calendar (no multi-day returns)
    pos = calendar.get_indexer(dates)
    consecutive = np.zeros(n, dtype=bool)
    consecutive[1:] = np.diff(pos) == 1
    c_ok = np.zeros(n, dtype=bool)
    c_ok[1:] = np.isfinite(close[1:]) & np.isfinite(close[:-1]) & (close[:-1] > 0)
    a_ok = np.zeros(n, dtype=bool)
    a_ok[1:] = np.isfinite(adj[1:]) & np.isfinite(adj[:-1]) & (adj[:-1] > 0)
    use_c = consecutive & c_ok
    use_a = consecutive & ~c_ok & a_ok
    ret[1:] = np.where(use_c[1:], (close[1:] + div[1:]) / close[:-1] - 1.0, np.nan)
    ret[1:] = np.where(use_a[1:], adj[1:] / adj[:-1] - 1.0, ret[1:])
    basis[use_c] = BASIS_CLOSE
    basis[use_a] = BASIS_ADJ
    return dates, ret, basis


def daily_returns(
    prices: pd.DataFrame, dividends: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily simple total returns per ticker, wide, plus the price basis used.

    Return on day t (fraction) = (close_t + div_t) / close_{t-1} - 1 when both closes exist
    (div_t = cash dividend per share with ex-date t, USD; 0 if none). Where either close is
    missing but both `adj_close` exist, adj_close_t / adj_close_{t-1} - 1 is used instead
    (basis "adj_close", a dividend-adjusted series from the source). A return needs the
    ticker's previous row to be the previous trading day of the calendar (union of all dates);
    otherwise, and on a ticker's first day, it is NaN. Nothing is filled.

    Returns (wide, basis): `wide` is dates x tickers (DatetimeIndex "date", the full calendar);
    `basis` has columns ticker, basis, start, end, n_returns: one row per run of consecutive
    returns on the same basis (start/end = first/last return date of the run).
    Raises ValueError when a dividend ex-date falls inside a ticker's price history on a date
    with no price row (would silently lose a dividend).
    """
    need = {"ticker", "date", "close", "adj_close"}
    missing = need - set(prices.columns)
    if missing:
        raise ValueError(f"prices lacks columns {sorted(missing)}")
    if prices.duplicated(["ticker", "date"]).any():
        raise ValueError("prices has duplicate ticker-date rows")
    calendar = trading_calendar(prices)
    if dividends is None:
        dividends = pd.DataFrame({"ticker": [], "ex_date": [], "dividend": []})
    dv = dividends.assign(ex_date=pd.to_datetime(dividends["ex_date"]))
    cols, rows = {}, []
    for ticker, g in prices.groupby("ticker", sort=True):
        d = dv[dv["ticker"] == ticker].groupby("ex_date")["dividend"].sum()
        first, last = g["date"].min(), g["date"].max()
        inside = d.index[(d.index > first) & (d.index <= last)]
        lost = inside.difference(pd.DatetimeIndex(g["date"]))
        if len(lost):
            raise ValueError(
                f"{ticker}: dividend ex-date(s) {[x.date().isoformat() for x in lost]} "
                "have no price row"
            )
        dates, ret, basis = _ticker_returns(g, d, calendar)
        cols[ticker] = pd.Series(ret, index=dates)
        lab = pd.Series(basis, index=dates).dropna()
        if len(lab):
            run = (lab != lab.shift()) | (
                pd.Series(calendar.get_indexer(lab.index), index=lab.index).diff() != 1
            )
            for _, seg in lab.groupby(run.cumsum()):
                rows.append(
                    {
                        "ticker": ticker,
                        "basis": seg.iloc[0],
                        "start": seg.index[0],
                        "end": seg.index[-1],
                        "n_returns": len(seg),
                    }
                )
    wide = pd.DataFrame(cols).reindex(calendar)
    wide.index.name = "date"
    wide.columns.name = "ticker"
    basis_tbl = pd.DataFrame(rows, columns=["ticker", "basis", "start", "end", "n_returns"])
    return wide, basis_tbl


def log_returns(simple: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """Log returns ln(1 + r) from simple returns (fractions); NaN stays NaN."""
    return np.log1p(simple)


def k_day_returns(simple: pd.DataFrame | pd.Series, k: int = 2) -> pd.DataFrame | pd.Series:
    """Non-overlapping k-day compounded simple returns, prod(1 + r) - 1 over blocks of k rows.

    Blocks are consecutive rows of `simple` (consecutive trading days when its index is the
    calendar), anchored at the first row; a trailing incomplete block is dropped. A block is NaN
    for a ticker when any of its k daily returns is NaN (never filled). Each block is labelled
    by its last date. k = 2 gives the 2-day returns Forbes & Rigobon (2002) use to soften
    non-synchronous trading.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    n_blocks = len(simple) // k
    x = simple.iloc[: n_blocks * k]
    block = np.repeat(np.arange(n_blocks), k)
    # product with min_count semantics: NaN if any member NaN
    g = (1.0 + x).groupby(block)
    out = g.prod() - 1.0
    has_nan = x.isna().groupby(block).any()
    out = out.mask(has_nan)
    out.index = x.index[k - 1 :: k]
    return out
