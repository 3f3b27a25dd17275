"""What was new on the as-of date: the note "written that evening".

An analyst writing on the evening of a results day leads with that day's news: the quarter just
reported (against the guidance it had been given), the guidance and targets changed that day
against the previous ones, and the events since the previous results with the market's reaction
where prices already exist. `whats_new(as_of)` computes all of it from the point-in-time loaders
(nothing published after `as_of` is read), and `News.sentences` are the generated sentences the
front page leads with; the same function serves the latest note (`as_of="latest"`: the latest
results date in the data).

Results dates are the first publication dates of quarterly revenue (`results_dates`): the day a
quarter's results came out, not the later filings that repeat them as comparatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from . import fundamentals as F
from .backlog import guidance_history
from .data import as_of_date, load_events, load_fundamentals, load_prices
from .data.rules import period_bounds
from .fundamentals import significant_digits
from .labels import metric_label
from .overview import abridge
from .precision import is_approximate, rounding_unit
from .report import fmt

#: guidance families (`<family>_guidance_low/high` in fundamentals.csv), in the order they are told
GUIDANCE_FAMILIES = ("revenue", "adjusted_operating_income", "capex", "interest_expense")
#: single-value targets (`*_target`), told after the ranges
TARGETS = ("active_power_mw_target",)
#: how many events the front page names (the largest moves of the company's shares first)
MAX_EVENTS = 4
#: an event is named by the first clause of its description without its parentheticals (it is quoted
#: in brackets: no nested ones), cut to this many characters
LABEL_CHARS = 60
_FAMILY_NAMES = {"revenue": "revenue", "adjusted_operating_income": "adjusted operating income",
                 "capex": "capex", "interest_expense": "interest expense"}


def results_dates(fund: pd.DataFrame) -> pd.DataFrame:
    """Quarterly results publications: for each calendar quarter with revenue in `fund`, the first
    date a revenue figure for it was published, kept when that date falls before the end of the
    following quarter (the results release; a later date is a comparative in a later filing).
    Columns: quarter, published (sorted by date). `fund` = `load_fundamentals(...)`."""
    rev = fund[(fund["metric"] == "revenue") & fund["published"].notna()
               & fund["period"].str.fullmatch(r"\d{4}Q[1-4]")]
    rows = []
    for quarter, g in rev.groupby("period"):
        first = g["published"].min()
        deadline = pd.Timestamp(period_bounds(F.quarter_label(*_next(quarter)))[1])
        if first <= deadline:
            rows.append({"quarter": quarter, "published": first})
    return pd.DataFrame(rows, columns=["quarter", "published"]).sort_values("published").reset_index(drop=True)


def _next(quarter: str) -> tuple[int, int]:
    y, q = F.parse_quarter(quarter)
    return (y + 1, 1) if q == 4 else (y, q + 1)


# ----------------------------------------------------------------------------- formatting

def _usd(v: float) -> str:
    """USD millions in prose: '$1,364.7m', '$55.6bn'; a rounded figure keeps its rounding
    ('$1.6bn' for a call's "1.6 billion", never '$1,600.0m')."""
    if abs(v) >= 10_000 or (abs(v) >= 1000 and significant_digits(v) <= 2):
        return fmt.usd_bn(v, 1)
    return fmt.usd_m(v)


def _growth(v: float, base: float) -> str:
    """Growth in percent, to 0.1 pp, or to 1 pp when an input is rounded to two digits."""
    return fmt.pct(v / base - 1, 0 if min(significant_digits(v), significant_digits(base)) <= 2 else 1, sign=True)


def usd_range(lo: float, hi: float) -> str:
    """'$5.05bn-$5.15bn', '$12bn-$14bn', '$690m-$720m': as many decimals as the bounds need."""
    if max(abs(lo), abs(hi)) >= 1000:
        for d in (0, 1, 2):
            if all(abs(round(x / 1000, d) * 1000 - x) < 1e-6 for x in (lo, hi)):
                break
        return f"{fmt.usd_bn(lo, d)}-{fmt.usd_bn(hi, d)}"
    d = 0 if all(float(x).is_integer() for x in (lo, hi)) else 1
    return f"{fmt.usd_m(lo, d)}-{fmt.usd_m(hi, d)}"


def _mw(v: float) -> str:
    return f"{fmt.num(v / 1000, 2).rstrip('0').rstrip('.')} GW" if v >= 1000 else f"{fmt.num(v, 0)} MW"


def _ids(*srcs) -> str:
    ids = [s for x in srcs for s in str(x or "").replace(";", ",").split(",") if s.strip()]
    return " [" + ", ".join(dict.fromkeys(s.strip() for s in ids)) + "]" if ids else ""


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# ----------------------------------------------------------------------------- pieces

@dataclass
class News:
    """What was new on `as_of` (ISO date; for 'latest', the last date in the data).

    results: the latest quarter reported on or before `as_of` (quarter, published, same_day,
    figures {metric: figure dict}, guided {low, high, published, source} or None, withheld).
    guidance: DataFrame of guidance and targets published since the previous results date
    (family, period, published, low, high, source, previous_low, previous_high,
    previous_published, previous_source, change: new|cut|raised|unchanged|narrowed|widened).
    events: DataFrame of events since the previous results date (event_id, announced, day0,
    kind, origin, label, ret_company, ret_origin, traded: day 0 on or before `as_of`).
    sentences: [(kind, sentence)] in reading order.
    """

    as_of: str
    results: dict | None
    guidance: pd.DataFrame
    events: pd.DataFrame
    since: str | None
    move_since: float | None
    sentences: list[tuple[str, str]] = field(default_factory=list)
    on_results_day: bool = False


def _latest_results(all_dates: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.Series | None, pd.Series | None]:
    past = all_dates[all_dates["published"] <= cutoff]
    if past.empty:
        return None, None
    return past.iloc[-1], (past.iloc[-2] if len(past) > 1 else None)


def _results(fund: pd.DataFrame, row: pd.Series, cutoff: pd.Timestamp) -> dict:
    q, pub = row["quarter"], row["published"]
    best = F.best_figures(fund)
    figs = {}
    for metric in ("revenue", "operating_income", "revenue_backlog", "adjusted_operating_income", "active_power_mw"):
        rec = F.figure(fund, metric, q, best=best)
        # a figure of that day's release (a figure first read in a later filing is not "news")
        if rec["value"] is not None and rec["published"] is not None and rec["published"] >= pub:
            row = fund[(fund["metric"] == metric) & (fund["source"] == rec["source"]) & (fund["value"] == rec["value"])]
            approx = bool(len(row)) and is_approximate(row["note"].iloc[0])
            figs[metric] = {**rec, "rounding_unit": rounding_unit(rec["value"], approx)}  # 'about $104bn'
    for metric, base in (("revenue_prev_quarter", F.previous_quarter(q)), ("revenue_year_ago", F.quarter_label(
            F.parse_quarter(q)[0] - 1, F.parse_quarter(q)[1]))):
        rec = F.figure(fund, "revenue", base, best=best)
        if rec["value"] is not None:
            figs[metric] = {**rec, "period": base}
    hist = guidance_history(fund, "revenue")
    before = hist[(hist["period"] == q) & (hist["published"] < pub)]
    guided = None
    if not before.empty:
        g = before.iloc[-1]
        guided = {"low": g["low"], "high": g["high"], "published": g["published"], "source": g["source"]}
    return {"quarter": q, "published": pub, "same_day": pub == cutoff, "figures": figs, "guided": guided,
            "withheld": "revenue" not in figs}


def _change(lo, hi, plo, phi) -> str:
    if pd.isna(plo) and pd.isna(phi):
        return "new"
    if lo == plo and hi == phi:
        return "unchanged"
    mid, pmid = (lo + hi) / 2, (plo + phi) / 2
    if mid < pmid:
        return "cut"
    if mid > pmid:
        return "raised"
    return "narrowed" if hi - lo < phi - plo else "widened"


def _guidance(fund: pd.DataFrame, since: pd.Timestamp | None, cutoff: pd.Timestamp) -> pd.DataFrame:
    rows = []
    window = (fund["published"] > since) if since is not None else fund["published"].notna()
    for fam in GUIDANCE_FAMILIES:
        hist = guidance_history(fund, fam)
        new = hist[(hist["published"] <= cutoff) & ((hist["published"] > since) if since is not None else True)]
        for r in new.itertuples():
            prev = hist[(hist["period"] == r.period) & (hist["published"] < r.published)]
            p = prev.iloc[-1] if len(prev) else None
            rows.append({"family": fam, "period": r.period, "published": r.published, "low": r.low, "high": r.high,
                         "source": r.source,
                         "previous_low": p["low"] if p is not None else math.nan,
                         "previous_high": p["high"] if p is not None else math.nan,
                         "previous_published": p["published"] if p is not None else pd.NaT,
                         "previous_source": p["source"] if p is not None else None,
                         "change": _change(r.low, r.high, *(p[["low", "high"]] if p is not None else (math.nan,) * 2))})
    for metric in TARGETS:
        t = fund[(fund["metric"] == metric) & fund["published"].notna()]
        t = F._rank_frame(t).drop_duplicates(["period", "published"]).sort_values("published") if len(t) else t
        for r in t[window.reindex(t.index, fill_value=False)].itertuples():
            prev = t[(t["period"] == r.period) & (t["published"] < r.published)]
            p = prev.iloc[-1] if len(prev) else None
            rows.append({"family": metric, "period": r.period, "published": r.published, "low": r.value,
                         "high": r.value, "source": r.source,
                         "previous_low": p["value"] if p is not None else math.nan,
                         "previous_high": p["value"] if p is not None else math.nan,
                         "previous_published": p["published"] if p is not None else pd.NaT,
                         "previous_source": p["source"] if p is not None else None,
                         "change": _change(r.value, r.value, *((p["value"],) * 2 if p is not None else (math.nan,) * 2))})
    cols = ["family", "period", "published", "low", "high", "source", "previous_low", "previous_high",
            "previous_published", "previous_source", "change"]
    df = pd.DataFrame(rows, columns=cols)
    if len(df):
        df = df.assign(_end=[period_bounds(p)[1] for p in df["period"]]).sort_values(
            ["_end", "published"], kind="stable").drop(columns="_end").reset_index(drop=True)
    return df


def _day_return(px: pd.DataFrame, ticker: str, day: pd.Timestamp) -> float:
    s = px[px["ticker"] == ticker].set_index("date")["close"].dropna()
    if day not in s.index:
        return math.nan
    i = s.index.get_loc(day)
    return float(s.iloc[i] / s.iloc[i - 1] - 1) if i > 0 else math.nan


def _events(as_of, since: pd.Timestamp | None, cutoff: pd.Timestamp, company: str, data_dir) -> pd.DataFrame:
    ev = load_events(as_of=as_of, data_dir=data_dir)
    if since is not None:  # events the market could react to after the close of `since`
        ev = ev[ev["day0"] > since]
    px = load_prices(as_of=as_of, data_dir=data_dir)
    tickers = set(px["ticker"])
    rows = []
    for r in ev.sort_values(["announced", "event_id"]).itertuples():
        traded = r.day0 <= cutoff
        rows.append({"event_id": r.event_id, "announced": r.announced, "day0": r.day0, "kind": r.kind,
                     "origin": r.origin, "label": abridge(r.description, LABEL_CHARS, brackets=False), "traded": traded,
                     "ret_company": _day_return(px, company, r.day0) if traded else math.nan,
                     "ret_origin": (_day_return(px, r.origin, r.day0)
                                    if traded and r.origin in tickers and r.origin != company else math.nan)})
    return pd.DataFrame(rows, columns=["event_id", "announced", "day0", "kind", "origin", "label", "traded",
                                       "ret_company", "ret_origin"])


# ----------------------------------------------------------------------------- sentences

def _results_sentence(res: dict, name: str) -> str:
    q, day = res["quarter"], fmt.date(res["published"])
    lead = (f"After the close on {day}, {name} reported its {q} results" if res["same_day"]
            else f"The latest results, for {q}, came on {day}")
    figs = res["figures"]
    if res["withheld"]:
        return (lead + ": the only copy of the figures in the data is a document written later, so this note "
                "does not use them (see Data and sources).")
    rev = figs["revenue"]
    parts = [f"revenue of {_usd(rev['value'])}{_ids(rev['source'])}"]
    growth = []
    if "revenue_year_ago" in figs:
        growth.append(f"{_growth(rev['value'], figs['revenue_year_ago']['value'])} on a year earlier")
    if "revenue_prev_quarter" in figs:
        growth.append(f"{_growth(rev['value'], figs['revenue_prev_quarter']['value'])} on {figs['revenue_prev_quarter']['period']}")
    if growth:
        parts[0] += " (" + ", ".join(growth) + ")"
    g = res["guided"]
    if g is not None:
        where = ("above" if rev["value"] > g["high"] else "below" if rev["value"] < g["low"] else "within")
        parts[0] += f", {where} the {usd_range(g['low'], g['high'])} guided on {fmt.date(g['published'])}{_ids(g['source'])}"
    if "operating_income" in figs:
        oi = figs["operating_income"]
        parts.append(f"operating income of {_usd(oi['value'])} ({fmt.pct(oi['value'] / rev['value'])} of revenue)")
    if "revenue_backlog" in figs:
        bl = figs["revenue_backlog"]
        shown = fmt.about(bl["value"], bl["rounding_unit"], "usd_bn") if bl.get("rounding_unit") else _usd(bl["value"])
        parts.append(f"a revenue backlog of {shown}{_ids(bl['source'])}")
    return lead + ": " + "; ".join(parts) + "."


def _guidance_phrase(r, cite: bool = True) -> str:
    if r.family in TARGETS:
        what = f"the {r.period[2:] if r.period.startswith('FY') else r.period} {metric_label(r.family)}"
        now, before = _mw(r.low), (_mw(r.previous_low) if pd.notna(r.previous_low) else None)
    else:
        what = f"{r.period} {_FAMILY_NAMES.get(r.family, metric_label(r.family))} guidance"
        now = usd_range(r.low, r.high)
        before = usd_range(r.previous_low, r.previous_high) if pd.notna(r.previous_low) else None
    src = _ids(r.source) if cite else ""
    if r.change == "new":
        return f"{what} is {now}{src} (none earlier in the data)"
    if r.change == "unchanged":
        return f"{what} stays at {now}{src}"
    verb = {"cut": "was cut", "raised": "was raised", "narrowed": "was narrowed", "widened": "was widened"}[r.change]
    return f"{what} {verb} to {now} from {before} (given {fmt.date(r.previous_published)}{_ids(r.previous_source)}){src}"


def _new_phrase(day: pd.DataFrame, cite: bool = True) -> str:
    """First guidance in the data, grouped by period: 'for 2026Q1, revenue $1.9bn-$2.0bn and capex
    $6bn-$7bn [TR_25Q4]'."""
    parts = []
    for period, g in day.groupby("period", sort=False):
        items = []
        for r in g.itertuples():
            if r.family in TARGETS:
                items.append(f"a year-end {metric_label(r.family).replace('year-end ', '')} of {_mw(r.low)}")
            else:
                items.append(f"{_FAMILY_NAMES.get(r.family, metric_label(r.family))} {usd_range(r.low, r.high)}")
        listed = ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + items[-1]
        parts.append(f"for {period}, {listed}{_ids(*g['source']) if cite else ''}")
    return "first guidance in the data " + "; ".join(parts)


def _guidance_sentences(g: pd.DataFrame, results_day=None) -> list[str]:
    """Per publication date: one sentence of changes (cuts and raises first, then first guidance,
    grouped by period) and one of what stayed the same."""
    if g.empty:
        return []
    order = {"cut": 0, "raised": 1, "narrowed": 2, "widened": 2, "unchanged": 4}
    out = []
    for pub, day in g.groupby("published", sort=True):
        lead = (f"With the {fmt.date(pub)} results, " if results_day is not None and pub == results_day
                else f"On {fmt.date(pub)}, ")
        changed = day[~day["change"].isin(["new", "unchanged"])].sort_values(
            "change", key=lambda s: s.map(order), kind="stable")
        new = day[day["change"] == "new"]
        same = day[day["change"] == "unchanged"]
        # one source for the whole day (the call): cited once, at the end
        one = len({x.strip() for v in day["source"] for x in str(v).split(",")}) == 1
        tail = _ids(day["source"].iloc[0]) if one else ""
        phrases = [_guidance_phrase(r, not one) for r in changed.itertuples()]
        if len(new):
            phrases.append(_new_phrase(new, not one))
        if phrases:
            out.append(lead + "; ".join(phrases) + (tail if not len(same) else "") + ".")
        if len(same):
            text = "; ".join(_guidance_phrase(r, not one) for r in same.itertuples())
            out.append((_cap(text) if phrases else lead + text) + tail + ".")
    return out


def _event_sentence(ev: pd.DataFrame, since: str | None, company: str, on_results_day: bool = True) -> str | None:
    if ev.empty:
        return None
    n = f"{len(ev)} dated event{'s' if len(ev) != 1 else ''}"
    head = (f"Since the {'previous' if on_results_day else 'latest'} results ({since}), {n}" if since
            else f"{n} to this date")
    traded = ev[ev["traded"] & ev["ret_company"].notna()]
    pending = ev[~ev["traded"]]
    top = traded.reindex(traded["ret_company"].abs().sort_values(ascending=False).index).head(MAX_EVENTS)
    bits = []
    for r in top.sort_values("day0").itertuples():
        b = f"{r.event_id} ({r.label}): {company} {fmt.pct(r.ret_company, sign=True)} on {fmt.date(r.day0)}"
        if pd.notna(r.ret_origin):
            b += f", {r.origin} {fmt.pct(r.ret_origin, sign=True)}"
        bits.append(b)
    which = ("the largest day-0 moves" if len(traded) > len(top) else
             "the day-0 move" if len(top) == 1 else "the day-0 moves")
    s = head + (f"; {which} of {company}: " + "; ".join(bits) if bits else "")
    if len(pending):
        ids = ", ".join(pending["event_id"])
        s += (f". {ids} came after the last close: the shares trade on {'it' if len(pending) == 1 else 'them'} "
              f"in the next session")
    return s + "."


def whats_new(as_of="latest", data_dir=None, company: str = "CRWV", name: str = "CoreWeave") -> News:
    """What was new on `as_of` (see `News`); only data public on `as_of` is read."""
    cutoff = as_of_date(as_of)
    fund = load_fundamentals(as_of=as_of, data_dir=data_dir)
    # (`company` is the ticker whose day-0 moves are shown; `name` the company in prose)
    px = load_prices([company], as_of=as_of, data_dir=data_dir)
    if cutoff is None:  # latest: the last date in the data
        cutoff = max(px["date"].max(), fund["published"].max())
    # the release schedule itself is public on the day: dates from all rows, figures from public ones
    dates = results_dates(load_fundamentals(data_dir=data_dir))
    latest, previous = _latest_results(dates, cutoff)
    results = _results(fund, latest, cutoff) if latest is not None else None
    # on a results day the news runs from the previous results; on another day, from the latest
    # results on (their own event included: its market reaction is known by then)
    on_results_day = latest is not None and latest["published"] == cutoff
    since = (previous["published"] if previous is not None else None) if on_results_day or latest is None \
        else latest["published"]
    guidance = _guidance(fund, previous["published"] if previous is not None else None, cutoff) \
        if latest is not None else _guidance(fund, None, cutoff)
    events = _events(as_of, since, cutoff, company, data_dir)
    move = None
    closes = px.set_index("date")["close"].dropna()
    if since is not None and since in closes.index:
        move = float(closes.iloc[-1] / closes.loc[since] - 1)
    news = News(fmt.date(cutoff), results, guidance, events, fmt.date(since) if since is not None else None, move,
                on_results_day=on_results_day)
    news.sentences = sentences(news, company, name)
    return news


def sentences(news: News, company: str = "CRWV", name: str = "CoreWeave") -> list[tuple[str, str]]:
    """The front page's opening sentences, in order: results, guidance, events, the share price."""
    out = []
    if news.results is not None:
        out.append(("results", _results_sentence(news.results, name)))
    day = news.results["published"] if news.results is not None else None
    out += [("guidance", s) for s in _guidance_sentences(news.guidance, day)]
    ev = _event_sentence(news.events, news.since, company, news.on_results_day)
    if ev:
        out.append(("events", ev))
    if news.move_since is not None:
        which = "the previous results day" if news.on_results_day else "the latest results day"
        out.append(("price", f"{company} has moved {fmt.pct(news.move_since, sign=True)} since the close of "
                             f"{news.since}, {which}."))
    return out
