"""Windows derived from dated events: clean estimation windows, event clusters, crisis windows.

Nothing here takes a typed date: every window follows from the events public at the note's date
(`analysis.data.load_events(as_of=...)`), the trading calendar (index of the wide returns) and
parameters (spans in trading days, thresholds), so a point-in-time note sees only what existed.

Units: spans are trading days relative to an event's day 0, inclusive; returns are fractions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .returns import k_day_returns

#: Days around every event that count as "its" days: left out of other events' estimation windows,
#: and the span whose overlap puts two events in one cluster. Matches the widest CAR span.
EVENT_SPAN = (-1, 5)


def _positions(events: pd.DataFrame, calendar: pd.DatetimeIndex) -> pd.Series:
    """event_id -> calendar position of day 0 (events whose day 0 is not a trading day are left out)."""
    cal = pd.DatetimeIndex(calendar)
    d = pd.DatetimeIndex(events["day0"])
    pos = cal.get_indexer(d)
    ok = pos >= 0
    return pd.Series(pos[ok], index=events["event_id"].to_numpy()[ok])


def event_days(events: pd.DataFrame, calendar: pd.DatetimeIndex, span=EVENT_SPAN) -> dict[str, pd.DatetimeIndex]:
    """event_id -> the trading days of its span [day0 + span[0], day0 + span[1]] inside the calendar."""
    cal = pd.DatetimeIndex(calendar)
    out = {}
    for eid, p in _positions(events, cal).items():
        a, b = max(p + span[0], 0), min(p + span[1], len(cal) - 1)
        out[eid] = cal[a:b + 1]
    return out


def listing_exclusions(events: pd.DataFrame, calendar: pd.DatetimeIndex, ipo_days: int = 20) -> dict[str, pd.Timestamp]:
    """ticker -> first date its estimation windows may use: `ipo_days` returns after its IPO.

    IPOs are the events of kind "ipo" (origin = the listed ticker); the first `ipo_days` returns
    after the listing day are left out (the price discovery of a new issue is not a normal return).
    A listing whose cut-off lies beyond the calendar gives the day after the calendar's end.
    """
    cal = pd.DatetimeIndex(calendar)
    out = {}
    ipo = events[events["kind"] == "ipo"]
    for eid, p in _positions(ipo, cal).items():
        ticker = ipo.loc[ipo["event_id"] == eid, "origin"].iloc[0]
        q = p + ipo_days + 1
        out[ticker] = cal[q] if q < len(cal) else cal[-1] + pd.Timedelta(days=1)
    return out


def estimation_exclusions(events: pd.DataFrame, calendar: pd.DatetimeIndex, span=EVENT_SPAN) -> dict[str, pd.DatetimeIndex]:
    """event_id -> the days of every *other* event's span (left out of its estimation window)."""
    days = event_days(events, calendar, span)
    out = {}
    for eid in days:
        others = [d for k, d in days.items() if k != eid]
        out[eid] = pd.DatetimeIndex(sorted(set().union(*others))) if others else pd.DatetimeIndex([])
    return out


def estimation_windows(events: pd.DataFrame, calendar: pd.DatetimeIndex, estimation_window=(-120, -11),
                       span=EVENT_SPAN, not_before: dict | None = None) -> pd.DataFrame:
    """Per event, its nominal estimation window and how many of its days are clean.

    Columns: event_id, start, end (first and last trading day of the window inside the calendar;
    NaT when it lies wholly before the calendar), days_in_window, days_removed (days of other
    events' spans inside it), days_used (= days_in_window - days_removed, common to every ticker;
    a ticker has fewer when its returns start later), removed_events (ids whose span it cut),
    and, for each ticker in `not_before` (IPO exclusion), `days_used_<ticker>`.
    """
    cal = pd.DatetimeIndex(calendar)
    spans = event_days(events, cal, span)
    rows = []
    for eid, p in _positions(events, cal).items():
        a, b = p + estimation_window[0], p + estimation_window[1]
        win = cal[max(a, 0):max(b + 1, 0)]
        cut = {k: win.intersection(d) for k, d in spans.items() if k != eid}
        removed = pd.DatetimeIndex(sorted(set().union(*cut.values()))) if cut else pd.DatetimeIndex([])
        clean = win.difference(removed)
        r = {"event_id": eid, "start": win[0] if len(win) else pd.NaT, "end": win[-1] if len(win) else pd.NaT,
             "days_in_window": len(win), "days_removed": len(removed), "days_used": len(clean),
             "removed_events": ", ".join(k for k, d in cut.items() if len(d))}
        for t, nb in (not_before or {}).items():
            r[f"days_used_{t}"] = int((clean >= pd.Timestamp(nb)).sum())
        rows.append(r)
    return pd.DataFrame(rows)


def event_clusters(events: pd.DataFrame, calendar: pd.DatetimeIndex, span=EVENT_SPAN) -> pd.DataFrame:
    """Events whose spans share a trading day, chained (single linkage), as clusters.

    Columns: cluster ("C1", "C2", ... in day-0 order), event_ids (comma-separated, day-0 order),
    first_day0, last_day0, n_events. Every usable event is in exactly one cluster.
    """
    pos = _positions(events, calendar).sort_values(kind="stable")
    width = span[1] - span[0]
    groups: list[list[str]] = []
    last = None
    for eid, p in pos.items():
        if groups and p - last <= width:
            groups[-1].append(eid)
        else:
            groups.append([eid])
        last = p
    cal = pd.DatetimeIndex(calendar)
    return pd.DataFrame([{"cluster": f"C{i + 1}", "event_ids": ", ".join(g), "first_day0": cal[pos[g[0]]],
                          "last_day0": cal[pos[g[-1]]], "n_events": len(g)} for i, g in enumerate(groups)],
                        columns=["cluster", "event_ids", "first_day0", "last_day0", "n_events"])


def pooled_representatives(events: pd.DataFrame, clusters: pd.DataFrame,
                           pooled_confidence=("high", "medium")) -> pd.DataFrame:
    """Which events enter pooled statistics: the first pooled-confidence event of each cluster.

    Returns one row per event: event_id, cluster, in_pooled (bool), reason ("" when pooled;
    "confidence low"; or "overlaps E15 (cluster C9), which represents it").
    """
    conf = events.set_index("event_id")["confidence"]
    rows = []
    for c in clusters.itertuples(index=False):
        ids = c.event_ids.split(", ")
        rep = next((e for e in ids if conf.get(e) in pooled_confidence), None)
        for e in ids:
            if conf.get(e) not in pooled_confidence:
                reason = f"confidence {conf.get(e)}"
            elif e != rep:
                reason = f"overlaps {rep} (cluster {c.cluster}), which represents it"
            else:
                reason = ""
            rows.append({"event_id": e, "cluster": c.cluster, "in_pooled": reason == "", "reason": reason})
    return pd.DataFrame(rows, columns=["event_id", "cluster", "in_pooled", "reason"])


# --------------------------------------------------------------------------- crisis windows
def crisis_windows(events: pd.DataFrame, returns: pd.DataFrame, source: str, threshold: float = 0.10,
                   crisis_days: int = 36, tranquil_days: int = 148, min_days: int = 20,
                   pooled_confidence=("high", "medium"), not_before=None) -> pd.DataFrame:
    """Crisis and tranquil windows from a rule over the dated events, for the Forbes-Rigobon test.

    Rule (its numbers are parameters, i.e. assumptions): a crisis starts on the day 0 of an event
    that came from `source` (origin), with pooled confidence, on which the source's return fell
    by at least `threshold` (0.10 = a fall of 10% or more); it runs `crisis_days` trading days
    [day0, day0 + crisis_days - 1]; crises whose windows overlap merge (the first trigger names
    it). Its tranquil window is the last `tranquil_days` trading days before the crisis start
    that lie in no earlier crisis window and on or after `not_before` (the source's first usable
    date after its IPO); it may consist of separate stretches.

    Returns one row per crisis: crisis ("K1", ...), trigger (event id), day0, trigger_return,
    start, end (last day of the window inside the data), planned_end (the full window's last
    trading day when the data reach it, else NaT), days (trading days of the crisis inside the
    data), complete (bool), tranquil_start, tranquil_end, tranquil_days, status: "ok",
    "too recent" (fewer than `min_days` days have traded), or "no tranquil window".
    Events announced but not yet traded (day 0 after the last price) are listed by
    `pending_events`. `attrs["crisis_days"]` and `attrs["tranquil_days"]` map each crisis to
    its trading days (DatetimeIndex).
    """
    cal = returns.index
    r = returns[source]
    last = r.dropna().index.max()
    cols = ["crisis", "trigger", "day0", "trigger_return", "start", "end", "planned_end", "days", "complete",
            "tranquil_start", "tranquil_end", "tranquil_days", "status"]
    if pd.isna(last):
        return pd.DataFrame(columns=cols)
    ev = events[(events["origin"] == source) & events["confidence"].isin(pooled_confidence)
                & events["day0"].notna() & (events["day0"] <= last)].sort_values("day0", kind="stable")
    triggers = []
    for e in ev.itertuples(index=False):
        if pd.Timestamp(e.day0) not in cal:
            continue
        ret = r.loc[e.day0]
        if np.isfinite(ret) and ret <= -threshold:
            triggers.append((e.event_id, pd.Timestamp(e.day0), float(ret)))
    spans = []  # [trigger, day0, ret, start_pos, end_pos (planned)]
    for eid, d0, ret in triggers:
        p = cal.get_loc(d0)
        if spans and p <= spans[-1][4]:
            spans[-1][4] = max(spans[-1][4], p + crisis_days - 1)
            continue
        spans.append([eid, d0, ret, p, p + crisis_days - 1])
    last_pos = cal.get_loc(last)
    first_ok = pd.Timestamp(not_before) if not_before is not None else r.dropna().index.min()
    rows, taken = [], np.zeros(len(cal), bool)
    days_of, tranquil_of = {}, {}
    for i, (eid, d0, ret, a, b) in enumerate(spans):
        e_pos = min(b, last_pos)
        free = np.flatnonzero(~taken[:a] & (cal[:a] >= first_ok) & r.iloc[:a].notna().to_numpy())
        tq = free[-tranquil_days:]
        days = e_pos - a + 1
        status = "ok" if days >= min_days else "too recent"
        if status == "ok" and len(tq) < min_days:
            status = "no tranquil window"
        rows.append({"crisis": f"K{i + 1}", "trigger": eid, "day0": d0, "trigger_return": ret, "start": cal[a],
                     "end": cal[e_pos], "planned_end": cal[b] if b < len(cal) and b <= last_pos else pd.NaT,
                     "days": days, "complete": b <= last_pos, "tranquil_start": cal[tq[0]] if len(tq) else pd.NaT,
                     "tranquil_end": cal[tq[-1]] if len(tq) else pd.NaT, "tranquil_days": len(tq), "status": status})
        taken[a:b + 1] = True
        days_of[f"K{i + 1}"], tranquil_of[f"K{i + 1}"] = cal[a:e_pos + 1], cal[tq]
    out = pd.DataFrame(rows, columns=cols)
    out.attrs["crisis_days"], out.attrs["tranquil_days"] = days_of, tranquil_of
    return out


def pending_events(events: pd.DataFrame, last_price: pd.Timestamp, source: str) -> pd.DataFrame:
    """Events from `source` already public but not yet traded (day 0 after the last price)."""
    ev = events[(events["origin"] == source) & (events["day0"] > pd.Timestamp(last_price))]
    return ev[["event_id", "announced", "day0", "kind"]].reset_index(drop=True)


def window_k_returns(returns: pd.DataFrame, days: pd.DatetimeIndex, k: int = 2) -> pd.DataFrame:
    """Non-overlapping k-day returns over a set of trading days that may form separate stretches.

    Each stretch of consecutive calendar days is cut into k-day blocks from its own first day
    (`returns.k_day_returns`), so no block spans a gap; trailing partial blocks are dropped.
    """
    cal = returns.index
    pos = np.sort(cal.get_indexer(pd.DatetimeIndex(days)))
    pos = pos[pos >= 0]
    if not len(pos):
        return returns.iloc[0:0]
    breaks = np.flatnonzero(np.diff(pos) > 1) + 1
    parts = [k_day_returns(returns.iloc[seg[0]:seg[-1] + 1], k) for seg in np.split(pos, breaks)]
    return pd.concat(parts)
