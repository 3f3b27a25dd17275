"""Section 00: the share price since the IPO (rebased total returns, key data, dated events)."""

from __future__ import annotations

import pandas as pd

from .. import news, overview, withheld
from ..data import load_dividends, load_events, load_prices
from ..labels import event_kind_label
from ..market.returns import BASIS_ADJ
from ..report import exhibits, fmt, style
from .base import Section

NOTEBOOK = "00_overview"
PRICE_LINE = "Daily closes and dividends in data/prices (see its PROVENANCE.md)"


def build(as_of="latest", tickers=("CRWV", "SPY", "QQQ", "SMH"), benchmark="SPY", window_days=365) -> Section:
    """Compute the overview for `tickers` (the first is the company) as of `as_of`."""
    tickers = list(tickers)
    sec = Section(NOTEBOOK, {"as_of": as_of, "tickers": tickers, "benchmark": benchmark, "window_days": window_days})
    company = tickers[0]
    prices = load_prices(tickers, as_of=as_of)
    dividends = load_dividends(as_of=as_of)
    events = load_events(as_of=as_of)
    ipo = overview.listing_date(prices, company)
    index, basis = overview.rebased_index(prices, dividends, tickers, ipo)
    kd = overview.key_data(prices, company, window_days=window_days)
    last_common, perf = overview.common_period_returns(index)
    # the table lists every dated event (those before the IPO too: the event study tests them on
    # the peers); the chart, which starts at the IPO, marks those since the IPO that have traded
    listed = overview.events_to_date(events, None, kd["last_date"])
    marked = listed[listed["traded"] & (listed["day0"] >= pd.Timestamp(ipo))].reset_index(drop=True)
    sec.data.update(prices=prices, index=index, basis=basis, key_data=kd, events=listed)

    _record(sec, company, tickers, kd, ipo, last_common, perf, index, basis, marked)
    rel = perf[company] - perf[benchmark]
    sec.text("summary", _summary(company, benchmark, tickers, kd, ipo, last_common, perf, rel))
    sec.exhibit("price_chart", _price_chart(company, benchmark, tickers, index, basis, marked, last_common, rel))
    sec.exhibit("key_data", _key_data_table(company, kd))
    sec.text("events_intro", _events_intro(listed, ipo, company))
    sec.exhibit("events", _events_table(listed, ipo))
    _whats_new(sec, as_of, company)
    return sec


def _whats_new(sec: Section, as_of, company: str) -> None:
    """What was new on the as-of date (`analysis.news`): the sentences the front page leads with."""
    n = news.whats_new(as_of, company=company)
    sec.data["news"] = n
    sec.table("whats_new", pd.DataFrame(n.sentences, columns=["kind", "sentence"]), {"sentence": "text"})
    sec.table("whats_new_guidance", n.guidance, {"low": "usd_m", "high": "usd_m", "previous_low": "usd_m",
                                                 "previous_high": "usd_m"})
    sec.table("whats_new_events", n.events, {"ret_company": "fraction", "ret_origin": "fraction"})
    sec.value("whats_new_date", n.as_of, "date", "Date the news is as of (the evening of the as-of date)")
    # figures public on the as-of date that the note leaves out (read only in a later document):
    # said once, in the data section (front.py's back matter)
    w = withheld.withheld_figures(as_of)
    sec.table("withheld", w.assign(lines=[", ".join(map(str, x)) for x in w["lines"]]))
    sentence = withheld.withheld_sentence(w, as_of)
    if sentence:
        sec.value("withheld_sentence", sentence, "text", "Figures left out of this note and why")
    if n.results is not None:
        sec.value("whats_new_quarter", n.results["quarter"], "text", "Latest quarter reported on or before the as-of date",
                  period=n.results["quarter"])
        sec.value("whats_new_results_date", n.results["published"], "date", "Date of the latest results")


def _record(sec, company, tickers, kd, ipo, last_common, perf, index, basis, marked) -> None:
    src, last = [f"prices:{company}"], kd["last_date"]
    span = "since-IPO" if kd["window_since_first"] else "52-week"
    for name, unit, label, period in [
        ("last_close", "usd", f"{company} last close", last), ("last_date", "date", "Date of the last close", None),
        ("ipo_date", "date", f"{company} first trading day", None),
        ("first_close", "usd", "Close on the first trading day", kd["first_date"]),
        ("change_since_ipo", "fraction", "Change since the first close", f"{fmt.date(kd['first_date'])} to {fmt.date(last)}"),
        ("high_52w", "usd", f"{span} intraday high", kd["high_52w_date"]), ("high_52w_date", "date", f"Date of the {span} high", None),
        ("low_52w", "usd", f"{span} intraday low", kd["low_52w_date"]), ("low_52w_date", "date", f"Date of the {span} low", None),
        ("record_close", "usd", "Record close", kd["record_close_date"]),
        ("record_close_date", "date", "Date of the record close", None),
        ("drawdown_from_record", "fraction", "Last close vs record close", last),
    ]:
        value = ipo if name == "ipo_date" else kd[{"change_since_ipo": "change_since_first"}.get(name, name)]
        sec.value(name, value, unit, label, src, period=fmt.date(period) if period is not None and not isinstance(period, str) else period)
    sec.value("common_end_date", last_common, "date", "Last date with prices for every ticker", [f"prices:{t}" for t in tickers])
    for t in tickers:
        sec.value(f"tr_since_ipo_{t}", perf[t], "fraction", f"{t} total return from the IPO close to the common end date",
                  [f"prices:{t}"], period=f"{fmt.date(ipo)} to {fmt.date(last_common)}")
    sec.table("rebased", index.reset_index().rename(columns={"index": "date"}), {t: "index" for t in tickers})
    sec.table("price_basis", basis, {"n_returns": "count"})
    sec.table("events_marked", marked[["event_id", "day0", "kind", "origin", "confidence"]], {})


def _summary(company, benchmark, tickers, kd, ipo, last_common, perf, rel) -> str:
    others = ", ".join(f"{t} {fmt.pct(perf[t], sign=True)}" for t in tickers[1:] if t != benchmark)
    return (
        f"{company} listed on {fmt.date(ipo)} and closed its first day at {fmt.usd(kd['first_close'])}. "
        f"On {fmt.date(kd['last_date'])} it closed at {fmt.usd(kd['last_close'])}, "
        f"{fmt.pct(kd['change_since_first'], sign=True)} since that first close, and "
        f"{fmt.pct(kd['drawdown_from_record'], sign=True)} from its record close of {fmt.usd(kd['record_close'])} "
        f"on {fmt.date(kd['record_close_date'])}. "
        f"Over the period every comparison ticker has prices for (to {fmt.date(last_common)}), {company} returned "
        f"{fmt.pct(perf[company], sign=True)}, {fmt.pp(abs(rel))} {'ahead of' if rel > 0 else 'behind'} {benchmark} "
        f"({fmt.pct(perf[benchmark], sign=True)}){'; ' + others if others else ''}.")


def _price_chart(company, benchmark, tickers, index, basis, marked, last_common, rel):
    fig, ax = style.figure()
    for t in tickers:
        s = index[t].dropna()
        ax.plot(s.index, s.values, label=t, linewidth=1.8 if t == company else 1.2)
    ax.set_yscale("log")
    ax.set_ylabel("Total return index (IPO close = 100, log scale)")
    style.event_markers(ax, marked["day0"], marked["event_id"])
    adj_only = list(dict.fromkeys(basis.loc[basis["basis"] == BASIS_ADJ, "ticker"]))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(tickers))
    style.plain_log_axis(ax)
    style.date_axis(ax)
    return exhibits.figure(
        fig,
        title=(f"{company} {'outperformed' if rel > 0 else 'underperformed'} {benchmark} by {fmt.pp(abs(rel))} "
               f"from its IPO to {fmt.date(last_common)}"),
        source=f"{PRICE_LINE}; events: data/events.csv (dotted lines, labelled by event id).",
        notes=("Total returns: close-to-close plus cash dividends"
               + (f"; {', '.join(adj_only)} {'uses its' if len(adj_only) == 1 else 'use their'} dividend-adjusted close "
                  "where the data has only that (see the price-basis table in the results)" if adj_only else "") + "."))


def _key_data_table(company, kd):
    hi, lo = (("High since the IPO", "Low since the IPO") if kd["window_since_first"] else
              ("52-week high", "52-week low"))
    rows = [
        ("Last close", fmt.usd(kd["last_close"]), fmt.date(kd["last_date"])),
        ("Close on first trading day", fmt.usd(kd["first_close"]), fmt.date(kd["first_date"])),
        ("Change since first close", fmt.pct(kd["change_since_first"], sign=True),
         f"{fmt.date(kd['first_date'])} to {fmt.date(kd['last_date'])}"),
        (f"{hi} (intraday)", fmt.usd(kd["high_52w"]), fmt.date(kd["high_52w_date"])),
        (f"{lo} (intraday)", fmt.usd(kd["low_52w"]), fmt.date(kd["low_52w_date"])),
        ("Record close", fmt.usd(kd["record_close"]), fmt.date(kd["record_close_date"])),
        ("Drawdown from record close", fmt.pct(kd["drawdown_from_record"], sign=True), fmt.date(kd["last_date"])),
    ]
    return exhibits.table(
        pd.DataFrame(rows, columns=["Key data", company, "Date"]),
        title=f"{company} trades {fmt.pct(-kd['drawdown_from_record'])} below its record close",
        source=f"data/prices/{company}.csv (split-adjusted daily bars; see PROVENANCE.md).",
        notes=(f"High and low since the IPO (first close {fmt.date(kd['first_date'])}) to {fmt.date(kd['last_date'])}: "
               "the shares have traded for less than 52 weeks." if kd["window_since_first"] else
               f"52-week window: {fmt.date(kd['window_start'])} to {fmt.date(kd['last_date'])}."))


NEXT_SESSION = "next session"


def _events_intro(listed, ipo, company: str) -> str:
    pending = listed.loc[~listed["traded"], "event_id"].tolist()
    before = listed.loc[listed["day0"] < pd.Timestamp(ipo), "event_id"].tolist()
    s = ("The dated events below are the ones the event study of the sector-contagion section tests; "
         "day 0 is the first session in which the market could react.")
    if before:
        s += (f" {_and(before)} came before {company}'s listing on {fmt.date(ipo)}: "
              f"the event study measures {'its' if len(before) == 1 else 'their'} effect on the peers, and the chart, "
              "which starts at the listing, does not mark "
              f"{'it' if len(before) == 1 else 'them'}.")
    if pending:
        s += (f" {', '.join(pending)} {'was' if len(pending) == 1 else 'were'} announced after the last close: "
              f"day 0 is the {NEXT_SESSION}, so {'it enters' if len(pending) == 1 else 'they enter'} no test yet.")
    return s


def _and(ids: list[str]) -> str:
    return ids[0] if len(ids) == 1 else f"{', '.join(ids[:-1])} and {ids[-1]}"


def _events_table(listed, ipo):
    ev = listed.assign(description=listed["description"].map(overview.abridge),
                       kind=listed["kind"].map(event_kind_label),
                       day0=[fmt.date(d) if t else NEXT_SESSION for d, t in zip(listed["day0"], listed["traded"], strict=True)])[
        ["event_id", "day0", "kind", "origin", "description", "confidence"]]
    pending = int((~listed["traded"]).sum())
    before = int((listed["day0"] < pd.Timestamp(ipo)).sum())
    return exhibits.table(
        ev.rename(columns={"event_id": "Event", "day0": "Day 0", "kind": "Kind", "origin": "Origin",
                           "description": "What happened (abridged)", "confidence": "Confidence"}),
        title=(f"{len(listed)} dated events frame the price path"
               + (f"; {before} came before the IPO" if before else "")
               + (f"; {pending} came after the last close" if pending else "")),
        source="data/events.csv (day 0 = first session that could react; sources per event in the file).")
