"""Share-price overview: rebased performance since the IPO and the key-data table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .market.returns import daily_returns
from .report import fmt


def listing_date(prices: pd.DataFrame, ticker: str) -> pd.Timestamp:
    """First date with a price for `ticker` (for CRWV: the IPO day, 2025-03-28)."""
    d = prices.loc[prices["ticker"] == ticker, "date"]
    if d.empty:
        raise ValueError(f"no prices for {ticker}")
    return d.min()


def rebased_index(prices: pd.DataFrame, dividends: pd.DataFrame, tickers, start) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Total-return indices = 100 at the close of `start`, chained from daily returns.

    Daily returns come from `market.returns.daily_returns` (close + dividends; adj_close where a
    ticker has only that). A day without a return for a ticker ends its index (NaN after, never
    filled across a gap). Returns (index frame dates x tickers, basis table of the returns used).
    """
    tickers = list(tickers)
    wide, basis = daily_returns(prices[prices["ticker"].isin(tickers)], dividends[dividends["ticker"].isin(tickers)])
    start = pd.Timestamp(start)
    r = wide.loc[wide.index > start, tickers]
    idx = 100 * (1 + r).cumprod(skipna=False)
    first = pd.DataFrame([[100.0] * len(tickers)], index=pd.DatetimeIndex([start], name="date"), columns=tickers)
    out = pd.concat([first, idx])
    basis = basis[basis["end"] > start].assign(start=lambda b: b["start"].where(b["start"] > start, start))
    return out, basis.reset_index(drop=True)


def key_data(prices: pd.DataFrame, ticker: str, window_days: int = 365) -> dict:
    """Key figures for one ticker, in USD per share and fractions.

    last_close, last_date; first_close, first_date (first trading day); change_since_first
    (last / first close - 1); high_52w, low_52w (intraday high/low over the `window_days`
    calendar days ending on last_date, with their dates; `window_since_first`: the window is cut
    by the first trading day, i.e. shorter than `window_days`); record_close, record_close_date
    (highest close to date); drawdown_from_record (last / record close - 1).
    """
    g = prices[prices["ticker"] == ticker].sort_values("date")
    g = g[g["close"].notna()]
    if g.empty:
        raise ValueError(f"no closes for {ticker}")
    last, first = g.iloc[-1], g.iloc[0]
    win = g[g["date"] > last["date"] - pd.Timedelta(days=window_days)]
    hi = win["high"].where(win["high"].notna(), win["close"])
    lo = win["low"].where(win["low"].notna(), win["close"])
    rec = g.loc[g["close"].idxmax()]
    return {
        "last_close": float(last["close"]), "last_date": last["date"],
        "first_close": float(first["close"]), "first_date": first["date"],
        "change_since_first": float(last["close"] / first["close"] - 1),
        "high_52w": float(hi.max()), "high_52w_date": win.loc[hi.idxmax(), "date"],
        "low_52w": float(lo.min()), "low_52w_date": win.loc[lo.idxmin(), "date"],
        "window_start": win["date"].iloc[0],
        "window_since_first": bool(win["date"].iloc[0] == first["date"]),
        "record_close": float(rec["close"]), "record_close_date": rec["date"],
        "drawdown_from_record": float(last["close"] / rec["close"] - 1),
    }


def events_in_range(events: pd.DataFrame, start, end) -> pd.DataFrame:
    """Events whose day 0 falls within [start, end], sorted by day 0."""
    m = (events["day0"] >= pd.Timestamp(start)) & (events["day0"] <= pd.Timestamp(end))
    return events[m].sort_values(["day0", "event_id"]).reset_index(drop=True)


def events_to_date(events: pd.DataFrame, start, last_close) -> pd.DataFrame:
    """Events with day 0 on or after `start` (the IPO; None: every event), sorted by day 0, with
    `traded`: day 0 on or before `last_close`. An event announced after the last close (day 0 in
    the next session) is listed with traded=False: it was news that evening, and nothing has
    traded on it yet."""
    m = events["day0"] >= pd.Timestamp(start) if start is not None else events["day0"].notna()
    out = events[m].sort_values(["day0", "event_id"]).reset_index(drop=True)
    return out.assign(traded=(out["day0"] <= pd.Timestamp(last_close)).to_numpy())


def relative_performance(index: pd.DataFrame, ticker: str) -> pd.Series:
    """Last value of each index relative to 100, as fractions (0.5 = +50%), NaN if it ended early."""
    last = index.iloc[-1]
    return (last / 100 - 1).where(np.isfinite(last))


def common_period_returns(index: pd.DataFrame) -> tuple[pd.Timestamp, pd.Series]:
    """Total return (fraction) of every column of a rebased index (100 = start) to the last
    date on which every column has a value. Returns (that date, returns by column)."""
    last_common = index.dropna().index[-1]
    return last_common, index.loc[last_common] / 100 - 1


def abridge(text: str, limit: int = 110, brackets: bool = True) -> str:
    """First clause of `text` (up to the first ';' outside brackets and quotes), cut at a word
    boundary to `limit` characters with an ellipsis when shortened, brackets and quotes balanced
    (`report.fmt.shorten`). brackets=False drops every parenthetical first (for a label that is
    itself quoted in brackets: no nested parentheses)."""
    first = fmt.first_clause(text)
    if not brackets:
        first = _drop_parentheticals(first)
    return fmt.shorten(first, limit)


def _drop_parentheticals(s: str) -> str:
    """`s` without its '( ... )' groups (an unclosed one runs to the end), spaces tidied."""
    out, d = [], 0
    for ch in s:
        if ch == "(":
            d += 1
        elif ch == ")" and d:
            d -= 1
        elif not d:
            out.append(ch)
    return " ".join("".join(out).split()).replace(" ,", ",").replace(" :", ":").replace(" .", ".").strip(" ,;:")
