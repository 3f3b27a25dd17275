"""Small pure helpers that shape the market-statistics results for the sector-contagion section.

They select, reshape and summarise what `returns`, `event_study`, `contagion` and
`connectedness` compute; they never re-estimate a model except `car_paths`, which calls
`event_study.event_panel` on a wider event span.

Units: returns, abnormal returns (AR), CARs and spillover shares are fractions (0.01 = 1%);
correlations and betas are unitless; dates are pandas Timestamps; relative days are trading days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import event_study as es

# --------------------------------------------------------------------------- events


def usable_events(events: pd.DataFrame, calendar: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split events into those whose day 0 is a trading day of `calendar` and the rest.

    Returns (usable, skipped); `skipped` has columns event_id, day0, reason: "no day 0 in the
    file", "day 0 after the last price date (YYYY-MM-DD)", "day 0 before the first price date",
    or "day 0 is not a trading day". Order of `events` is kept.
    """
    cal = pd.DatetimeIndex(calendar)
    rows, keep = [], []
    for i, ev in events.iterrows():
        d = ev["day0"]
        if pd.isna(d):
            reason = "no day 0 in the file"
        elif len(cal) == 0 or pd.Timestamp(d) > cal[-1]:
            last = cal[-1].date().isoformat() if len(cal) else "none"
            reason = f"day 0 after the last price date ({last})"
        elif pd.Timestamp(d) < cal[0]:
            reason = "day 0 before the first price date"
        elif pd.Timestamp(d) not in cal:
            reason = "day 0 is not a trading day"
        else:
            keep.append(i)
            continue
        rows.append({"event_id": ev["event_id"], "day0": d, "reason": reason})
    skipped = pd.DataFrame(rows, columns=["event_id", "day0", "reason"])
    return events.loc[keep], skipped


def car_grid(car_table: pd.DataFrame, window: str, events: list[str] | None = None,
             tickers: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Events x tickers grids of one window's CAR, p-value and model, from `car_table`.

    window: a label like "[0,+1]" (`event_study.window_label`). Rows follow `events` (default:
    order of first appearance), columns `tickers` (default: order of first appearance); a
    missing pair is NaN. Returns {"car", "p_value", "model"}.
    """
    t = car_table[car_table["window"] == window]
    rows = list(events) if events is not None else list(dict.fromkeys(t["event_id"]))
    cols = list(tickers) if tickers is not None else list(dict.fromkeys(t["ticker"]))
    out = {}
    for v in ("car", "p_value", "model"):
        g = t.pivot(index="event_id", columns="ticker", values=v)
        out[v] = g.reindex(index=rows, columns=cols)
    return out


def car_paths(returns: pd.DataFrame, events: pd.DataFrame, tickers: list[str],
              market: str = "SPY", span: tuple[int, int] = (-5, 10),
              estimation_window: tuple[int, int] = (-120, -11), min_obs: int = 60,
              min_short_obs: int | None = None, exclude: dict | None = None,
              not_before: dict | None = None) -> pd.DataFrame:
    """Daily abnormal returns and their running sum (CAR path) around each event.

    For every event (columns event_id, day0) the market model is fitted as in
    `event_study.event_panel` (exclude: event_id -> dates left out of its estimation window;
    not_before: ticker -> first usable date); the path starts at relative day span[0] and
    cumulates ARs day by day; after the first missing AR the path is NaN (never filled). Days
    beyond the calendar are absent. Columns: event_id, day0, ticker, rel_day, date, ar, car, model.
    """
    cal = returns.index
    out = []
    for ev in events.itertuples(index=False):
        panel = es.event_panel(returns, ev.day0, tickers, market, estimation_window, span, min_obs, min_short_obs,
                               (exclude or {}).get(ev.event_id, ()), not_before)
        p0 = cal.get_loc(panel.day0)
        days = [d for d in range(span[0], span[1] + 1) if 0 <= p0 + d < len(cal)]
        for t, fit in panel.fits.items():
            ar = panel.ar[t].reindex(days)
            ok = ar.notna().cumprod().astype(bool)
            car = ar.cumsum().where(ok)
            out.append(pd.DataFrame({
                "event_id": ev.event_id, "day0": panel.day0, "ticker": t, "rel_day": days,
                "date": cal[[p0 + d for d in days]], "ar": ar.to_numpy(), "car": car.to_numpy(),
                "model": fit.model}))
    cols = ["event_id", "day0", "ticker", "rel_day", "date", "ar", "car", "model"]
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.concat(out, ignore_index=True)[cols]


def path_end_cars(paths: pd.DataFrame, source: str, peers: list[str]) -> tuple[pd.Series, pd.Series]:
    """CAR (fraction) on the last relative day of each event's path in `car_paths` output.

    Returns (source_end, peer_mean_end): the source's end CAR by event_id, and the mean end CAR
    of `peers` by event_id (NaN paths are skipped by the mean; an event where every peer is NaN
    gives NaN).
    """
    end = paths[paths["rel_day"] == paths.groupby("event_id")["rel_day"].transform("max")]
    src_end = end[end["ticker"] == source].set_index("event_id")["car"]
    peer_end = end[end["ticker"].isin(peers)].groupby("event_id")["car"].mean()
    return src_end, peer_end


def positive_share(series: pd.Series) -> tuple[float, int]:
    """(share of non-missing values above zero as a fraction, number of non-missing values)."""
    s = series.dropna()
    return float((s > 0).mean()), int(len(s))


# --------------------------------------------------------------------------- pooled tests
POOLED_TESTS = ("patell", "bmp", "kolari_pynnonen", "corrado", "portfolio")


def pooled_wide(by_event: pd.DataFrame, window: str) -> pd.DataFrame:
    """One row per event for one window: the five cross-sectional tests side by side.

    Columns: event_id, kind, n, mean_car (fraction), rbar, then <test> and <test>_p for each
    of patell, bmp, kolari_pynnonen, corrado, portfolio, then in_pooled. Event order kept.
    """
    t = by_event[by_event["window"] == window]
    ids = list(dict.fromkeys(t["event_id"]))
    base = t.drop_duplicates("event_id").set_index("event_id")
    out = pd.DataFrame({"event_id": ids})
    out["kind"] = base.loc[ids, "kind"].to_numpy()
    bmp = t[t["test"] == "bmp"].set_index("event_id")
    kp = t[t["test"] == "kolari_pynnonen"].set_index("event_id")
    out["n"] = bmp["n"].reindex(ids).to_numpy()
    out["mean_car"] = bmp["mean_car"].reindex(ids).to_numpy()
    out["rbar"] = kp["rbar"].reindex(ids).to_numpy()
    for test in POOLED_TESTS:
        g = t[t["test"] == test].set_index("event_id")
        out[test] = g["statistic"].reindex(ids).to_numpy()
        out[f"{test}_p"] = g["p_value"].reindex(ids).to_numpy()
    out["in_pooled"] = base.loc[ids, "in_pooled"].to_numpy()
    return out


def pool_by_origin(by_event: pd.DataFrame, events: pd.DataFrame, source: str = "CRWV",
                   min_events: int = es.MIN_POOLED_EVENTS) -> pd.DataFrame:
    """Pool the per-event tests by who the news came from: `source` vs any other firm.

    Relabels each event's kind as "<source> news" or "other firms' news" (from the `origin`
    column of `events`) and reuses `event_study.pool_by_kind` (in_pooled rows only).
    Columns as pool_by_kind, with `kind` renamed `group`.
    """
    origin = events.set_index("event_id")["origin"]
    grp = np.where(by_event["event_id"].map(origin).eq(source), f"{source} news", "other firms' news")
    pooled = es.pool_by_kind(by_event.assign(kind=grp), min_events=min_events)
    return pooled.rename(columns={"kind": "group"})


# --------------------------------------------------------------------------- connectedness
def complete_panel(returns: pd.DataFrame, tickers: list[str], end_ref: str | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The longest span on which the kept tickers all have returns, and why others were left out.

    With `end_ref` (a column of `returns`, e.g. the benchmark), tickers whose last return is
    before end_ref's last return are dropped ("stops before <end_ref>": a consistent ticker
    set to the end of the data); without it every ticker is kept and the span ends at the
    earliest last return. The span starts at the latest first return. A kept ticker with a
    missing return inside the span is dropped too ("gap inside the span"). Nothing is filled.

    Returns (panel, info): panel = returns[kept] on the span (no NaN); info has columns ticker,
    first, last (first/last return dates), kept (bool), reason.
    """
    rows = []
    for t in tickers:
        s = returns[t].dropna()
        rows.append({"ticker": t, "first": s.index.min() if len(s) else pd.NaT,
                     "last": s.index.max() if len(s) else pd.NaT, "kept": len(s) > 0,
                     "reason": "" if len(s) else "no returns"})
    info = pd.DataFrame(rows, columns=["ticker", "first", "last", "kept", "reason"])
    if end_ref is not None:
        ref_last = returns[end_ref].dropna().index.max()
        early = info["kept"] & (info["last"] < ref_last)
        info.loc[early, "kept"] = False
        info.loc[early, "reason"] = f"stops before {end_ref}"
    for _ in range(len(tickers)):  # drop tickers with gaps until the span is clean
        k = info[info["kept"]]
        if k.empty:
            return returns.iloc[0:0][[]], info
        a, b = k["first"].max(), k["last"].min()
        panel = returns.loc[a:b, k["ticker"].tolist()]
        gap = panel.columns[panel.isna().any()]
        if not len(gap):
            return panel, info
        bad = info["ticker"].isin(gap)
        info.loc[bad, "kept"] = False
        info.loc[bad, "reason"] = "gap inside the span"
    return returns.iloc[0:0][[]], info  # pragma: no cover (loop always returns)


def source_links(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """The source's row and column of a row-normalised spillover table (rows receive).

    Columns: ticker, to_peer = table[peer, source] (share of the peer's forecast-error
    variance due to source shocks), from_peer = table[source, peer] (share of the source's due
    to the peer), net = to_peer - from_peer (positive: the source transmits more to the peer than
    it receives). Sorted by net, largest first.
    """
    peers = [c for c in table.columns if c != source]
    out = pd.DataFrame({"ticker": peers,
                        "to_peer": table.loc[peers, source].to_numpy(float),
                        "from_peer": table.loc[source, peers].to_numpy(float)})
    out["net"] = out["to_peer"] - out["from_peer"]
    return out.sort_values("net", ascending=False, kind="stable").reset_index(drop=True)


def span_stats(series: pd.Series, spans: dict[str, tuple]) -> pd.DataFrame:
    """Mean, min and max of a dated series (e.g. rolling total connectedness) over named spans.

    spans: label -> (start, end), inclusive ISO dates. Columns: span, start, end, n, mean, min,
    max; n = number of dated values in the span (0 gives NaN statistics).
    """
    s = series.dropna().sort_index()
    rows = []
    for lab, (a, b) in spans.items():
        x = s.loc[pd.Timestamp(a):pd.Timestamp(b)]
        rows.append({"span": lab, "start": pd.Timestamp(a), "end": pd.Timestamp(b), "n": len(x),
                     "mean": float(x.mean()) if len(x) else np.nan,
                     "min": float(x.min()) if len(x) else np.nan,
                     "max": float(x.max()) if len(x) else np.nan})
    return pd.DataFrame(rows, columns=["span", "start", "end", "n", "mean", "min", "max"])


def values_at(long: pd.DataFrame, dates: dict[str, object], columns=("beta", "corr")) -> pd.DataFrame:
    """Per ticker, the last value on or before each named date of a long (date, ticker, ...) table.

    Returns columns ticker, label, date (the date actually used; NaT if none), and `columns`.
    Used for snapshots of the rolling residual betas and correlations.
    """
    rows = []
    for t, g in long.sort_values("date").groupby("ticker", sort=False):
        for lab, d in dates.items():
            h = g[g["date"] <= pd.Timestamp(d)]
            r = {"ticker": t, "label": lab, "date": h["date"].iloc[-1] if len(h) else pd.NaT}
            for c in columns:
                r[c] = float(h[c].iloc[-1]) if len(h) else np.nan
            rows.append(r)
    return pd.DataFrame(rows, columns=["ticker", "label", "date", *columns])


def ticker_spans(returns: pd.DataFrame, tickers: list[str]) -> pd.DataFrame:
    """First and last daily return of each ticker (index ticker; columns first, last, n_returns)."""
    rows = {t: (s.index.min(), s.index.max(), len(s)) for t in tickers for s in [returns[t].dropna()]}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["first", "last", "n_returns"])
