"""Section 04: sector contagion (event study, Forbes-Rigobon, Diebold-Yilmaz, rolling betas).

`build(**params)` computes every statistic with `analysis.market`, records results and the three
verdicts of the section (`peers_move_on_crwv_shocks`, `contagion_or_interdependence`,
`crwv_transmitter`), and prepares prose and exhibits (charts in `sector_contagion_charts`).
Every window comes from the dated events public at `as_of` and the parameters; no date is typed.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ..data import load_dividends, load_events, load_prices
from ..labels import event_kind_label
from ..market import connectedness as dy
from ..market import contagion as cg
from ..market import event_study as es
from ..market import pooling as pl
from ..market import summary as sm
from ..market import windows as wn
from ..market.returns import BASIS_ADJ, daily_returns
from ..report import fmt
from . import sector_contagion_charts as charts
from .base import Section

NOTEBOOK = "04_sector_contagion"
PRICE_LINE = "Daily closes and dividends in data/prices (see PROVENANCE.md)"
EVENT_LINE = "events: data/events.csv (day 0 = first session that could react)"

#: Items the notebook shows; any the data cannot support yet is an empty item (its text says why).
SHOWN = ("data_note", "estimation_text", "estimation_table", "car_heatmap", "headline_text", "headline_cars",
         "event_tests", "pooled_table", "peer_tests_table", "fr_text", "crisis_table", "fr_table", "car_paths",
         "dy_text", "dy_rolling_chart", "dy_net_chart", "dy_links", "beta_text", "beta_chart", "beta_table")

DEFAULTS = dict(
    as_of="latest",
    tickers=("CRWV NVDA AVGO AMD SMH ORCL MSFT META AMZN GOOGL SMCI DELL VRT VST CEG APLD CORZ IREN CIFR WULF "
             "NBIS").split(),
    benchmark="SPY", estimation_window=(-120, -11), min_obs=60, min_short_obs=30, ipo_days=20,
    windows=((0, 0), (0, 1), (-1, 1), (0, 5)), main_window=(0, 1), pooled_confidence=("high", "medium"),
    alpha=0.05, peer_power_share=0.1, peer_power_reps=2000, min_power=0.8,
    crisis_threshold=0.10, crisis_days=36, tranquil_days=148, min_crisis_days=20, fr_k=2,
    fr_bootstrap=999, fr_sim_reps=1000, fr_sim_boot=199, fr_sim_variance_ratio=9.0, seed=0,
    dy_horizon=10, dy_window=120, dy_max_lags=4, dy_rolling_lags=1, dy_latest_windows=20, beta_window=60,
    path_span=(-5, 10), main_peers=("NVDA", "ORCL", "AVGO", "CORZ", "NBIS"),
)


def build(**params) -> Section:
    """Compute the section for the parameters of notebook 04 (see `DEFAULTS`)."""
    unknown = set(params) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"{NOTEBOOK}: unknown parameters {sorted(unknown)}; known: {', '.join(DEFAULTS)}")
    p = {**DEFAULTS, **params}
    t0 = time.perf_counter()
    sec = Section(NOTEBOOK, {k: (list(map(list, v)) if k == "windows" else list(v) if isinstance(v, tuple) else v)
                             for k, v in p.items()})
    ctx = _Context(p)
    sec.data["ctx"] = ctx
    _data(sec, ctx)
    _event_study(sec, ctx)
    _forbes_rigobon(sec, ctx)
    _connectedness(sec, ctx)
    _rolling_betas(sec, ctx)
    for name in SHOWN:  # an exhibit that cannot exist at this date is explained in the text beside it
        if name not in sec.items:
            sec.text(name, "")
    ctx.seconds = time.perf_counter() - t0
    sec.value("notebook_seconds", ctx.seconds, "seconds", "Run time of the section's computation", [])
    sec.value("event_study_seconds", ctx.es_seconds, "seconds", "Run time of the event study", [])
    return sec


class _Context:
    """The section's parameters and intermediate results (shared by the builders below)."""

    def __init__(self, p: dict):
        self.p = p
        self.tickers = list(p["tickers"])
        self.source = self.tickers[0]
        self.market = p["benchmark"]
        self.peers = [t for t in self.tickers[1:] if t != self.market]
        self.windows = tuple(tuple(w) for w in p["windows"])
        self.main = tuple(p["main_window"])
        self.main_lab = es.window_label(self.main)
        self.wide = max(self.windows, key=lambda w: (w[1] - w[0], w[1]))
        self.wide_lab = es.window_label(self.wide)
        self.alpha = p["alpha"]
        self.price_src = [f"prices:{t}" for t in [*self.tickers, self.market]]
        self.n_rolling, self.dy_seconds, self.es_seconds = 0, np.nan, np.nan
        self.static_end_note = ""


# --------------------------------------------------------------------------- data
def _data(sec: Section, c: _Context) -> None:
    p = c.p
    prices = load_prices([*c.tickers, c.market], as_of=p["as_of"])
    c.events_all = load_events(as_of=p["as_of"])
    c.returns, c.basis = daily_returns(prices, load_dividends(as_of=p["as_of"]))
    c.first_day, c.last_day = c.returns.index[0], c.returns.index[-1]
    c.events, c.skipped = sm.usable_events(c.events_all, c.returns.index)
    c.listing = wn.listing_exclusions(c.events, c.returns.index, p["ipo_days"])
    sec.table("price_basis", c.basis, {"n_returns": "count"})
    sec.table("events_skipped", c.skipped, {})
    sec.value("n_events_used", len(c.events), "count", "Events with a day 0 inside the price data", c.price_src)
    adj = c.basis[c.basis["basis"] == BASIS_ADJ]
    c.adj_text = "; ".join(f"{r.ticker} from {fmt.date(r.start)} to {fmt.date(r.end)} ({fmt.num(r.n_returns, 0)} returns)"
                           for r in adj.itertuples())
    c.ticker_spans = sm.ticker_spans(c.returns, [c.source, c.market, *c.peers])
    common = (c.ticker_spans["first"].max(), c.ticker_spans["last"].min())
    text = (f"The universe is {c.source} and {len(c.peers)} peers: {', '.join(c.peers)}, with {c.market} as the market. "
            f"Returns are daily, close-to-close plus any cash dividend, and no missing day is filled. They run, by "
            f"ticker: {_span_phrase(c)}. Every ticker has a return on each day from {fmt.date(common[0])} to "
            f"{fmt.date(common[1])} (the common sample). ")
    text += (f"Where the data has only the dividend-adjusted close, that series is used instead: {c.adj_text}. " if len(adj)
             else "Every return uses closes plus dividends. ")
    text += (f"All {len(c.events_all)} dated events public at the note's date have a day 0 inside the price data"
             if len(c.events) == len(c.events_all) else
             f"Of {len(c.events_all)} dated events public at the note's date, {len(c.events)} have a day 0 inside the price data")
    pending = c.skipped[c.skipped["reason"].str.startswith("day 0 after")]
    other = c.skipped[~c.skipped.index.isin(pending.index)]
    if len(other):
        text += "; " + "; ".join(f"{r.event_id} is left out: {r.reason}" for r in other.itertuples())
    text += ". "
    for r in pending.itertuples():
        ev = c.events_all.set_index("event_id").loc[r.event_id]
        text += (f"{r.event_id} ({event_kind_label(ev['kind'])}, {ev['origin']}, announced {fmt.date(ev['announced'])}) "
                 f"first trades in the session after the last price of this note ({fmt.date(c.last_day)}), so the market's "
                 "reaction to it is not yet known. ")
    sec.text("data_note", text.strip())


def _range(a, b) -> str:
    """'21' when a == b, else '20 to 21'."""
    return f"{a}" if a == b else f"{a} to {b}"


def _span_phrase(c: _Context) -> str:
    """'CRWV 2025-03-31 to 2026-10-09; SPY and 19 peers 2025-01-03 to 2026-09-15 (their price data end
    there); CORZ 2025-01-03 to 2026-05-29 (its price data end there)': tickers grouped by span, the
    latest end first; a span that ends before the source's last return says the data end there."""
    sp = c.ticker_spans
    end = sp.at[c.source, "last"]
    parts = []
    groups = sorted(sp.groupby(["first", "last"]), key=lambda x: (c.source not in x[1].index, -x[0][1].value))
    for (a, b), g in groups:
        names = list(g.index)
        peers = [t for t in names if t in c.peers]
        lead = [t for t in (c.source, c.market) if t in names]
        who = lead + ([f"{len(peers)} peers"] if len(peers) > 3 else peers)
        label = " and ".join([", ".join(who[:-1]), who[-1]] if len(who) > 1 else who)
        one = len(names) == 1
        tail = f" ({'its price data ends' if one else 'their price data end'} there)" if b < end else ""
        parts.append(f"{label} {fmt.date(a)} to {fmt.date(b)}{tail}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- event study
def _event_study(sec: Section, c: _Context) -> None:
    p = c.p
    t0 = time.perf_counter()
    cal = c.returns.index
    c.est_windows = wn.estimation_windows(c.events, cal, tuple(p["estimation_window"]), wn.EVENT_SPAN, c.listing)
    c.clusters = wn.event_clusters(c.events, cal, wn.EVENT_SPAN)
    c.pool = wn.pooled_representatives(c.events, c.clusters, tuple(p["pooled_confidence"]))
    exclude = wn.estimation_exclusions(c.events, cal, wn.EVENT_SPAN)
    c.study = es.event_study(c.returns, c.events, c.tickers, c.market, c.windows, tuple(p["estimation_window"]),
                             p["min_obs"], tuple(p["pooled_confidence"]), min_short_obs=p["min_short_obs"],
                             exclude=exclude, not_before=c.listing,
                             pooled=c.pool.loc[c.pool["in_pooled"], "event_id"]) if len(c.events) else None
    c.es_seconds = time.perf_counter() - t0
    ew = c.est_windows.merge(c.pool, on="event_id", how="left")
    if c.study is not None:
        m = c.study.car_table[c.study.car_table["window"] == c.main_lab]
        ew["tickers_short_window"] = ew["event_id"].map(
            lambda e: ", ".join(m.loc[(m.event_id == e) & (m.model == es.MARKET_MODEL_SHORT), "ticker"]))
        ew["tickers_market_adjusted"] = ew["event_id"].map(
            lambda e: ", ".join(m.loc[(m.event_id == e) & (m.model == es.MARKET_ADJUSTED), "ticker"]))
    c.est_table = ew
    sec.table("estimation_windows", ew, {c_: "days" for c_ in ew.columns if c_.startswith("days")})
    sec.table("event_clusters", c.clusters[["cluster", "event_ids", "first_day0", "last_day0", "n_events"]],
              {"n_events": "count"})
    sec.value("estimation_days_removed", int(ew["days_removed"].sum()), "days",
              "Estimation days removed (other events' [-1,+5] days), summed over events", c.price_src)
    if c.study is None:
        sec.text("estimation_text", "No event has a day 0 inside the price data, so there is no event study.")
        return
    ev_cols = c.events[["event_id", "origin", "confidence"]]
    c.car_table = c.study.car_table.merge(ev_cols, on="event_id", how="left")
    c.by_event = c.study.pooled_by_event.merge(c.events[["event_id", "day0", "origin"]], on="event_id", how="left")
    c.by_origin = sm.pool_by_origin(c.study.pooled_by_event, c.events, c.source)
    c.ev_wide = sm.pooled_wide(c.study.pooled_by_event, c.main_lab).merge(
        c.events[["event_id", "day0", "origin", "confidence"]], on="event_id", how="left")
    frac = {k: "fraction" for k in ("car", "sd_car", "car_zero_alpha", "raw_return", "alpha")}
    sec.table("car_table", c.car_table, {**frac, "n_est": "days", "beta": "ratio"})
    sec.table("pooled_tests", c.by_event, {"mean_car": "fraction"})
    sec.table("pooled_by_kind", c.study.pooled_by_kind, {"mean_car": "fraction", "n_events": "count"})
    sec.table("pooled_by_origin", c.by_origin, {"mean_car": "fraction", "n_events": "count"})
    # peers and the source's own shocks
    c.src_events = pl.source_events(c.car_table, c.events, c.source, c.main_lab)
    c.group = pl.aligned_group_test(c.study.pooled_by_event, c.src_events, c.main_lab)
    c.peer_tests = pl.aligned_peer_tests(c.car_table, c.src_events, c.peers, c.main_lab, c.alpha)
    sec.table("peer_tests", c.peer_tests, {"mean_aligned_car": "fraction", "n_events": "count"})
    c.power_design = pl.power_inputs(c.car_table, c.study.pooled_by_event, c.src_events, c.peers, c.main_lab)
    kw = dict(alpha=c.alpha, reps=p["peer_power_reps"], seed=p["seed"])
    c.peer_size = pl.aligned_group_power(c.power_design, 0.0, **kw)
    c.peer_power = pl.aligned_group_power(c.power_design, p["peer_power_share"], **kw)
    c.peer_effect = f"peers that take {_share_words(p['peer_power_share'])} of {c.source}'s own {c.main_lab} move"
    design = (f"{len(c.power_design)} pooled {c.source} events x {len(c.peers)} peers, the events' own CAR spreads and "
              f"peer cross-correlations; {p['peer_power_reps']} replications")
    sec.value("peers_test_size", c.peer_size, "fraction",
              f"Simulated size of the pooled peer test at a nominal {fmt.pct(c.alpha, 0)} ({design})", [])
    sec.value("peers_test_power", c.peer_power, "fraction",
              f"Simulated power of the pooled peer test against {c.peer_effect} ({design})", [])
    v = sec.verdict(pl.peers_verdict(c.group, c.peer_tests, c.src_events, c.source, c.main_lab, c.alpha,
                                     power=c.peer_power, min_power=p["min_power"], effect=c.peer_effect))
    c.v_peers = v
    # CAR paths around the crisis triggers (computed with the crisis rule below)
    c.path_tickers = [c.source, *[t for t in c.p["main_peers"] if t in c.tickers]]
    _estimation_text(sec, c)
    sec.exhibit("estimation_table", charts.estimation_table(c))
    sec.exhibit("car_heatmap", charts.car_heatmap(c))
    sec.exhibit("headline_cars", charts.headline_cars(c))
    sec.text("headline_text", _headline_text(c))
    sec.exhibit("event_tests", charts.event_tests_table(c))
    sec.exhibit("pooled_table", charts.pooled_table(c))
    sec.exhibit("peer_tests_table", charts.peer_tests_table(c))


def _share_words(x: float) -> str:
    """0.1 -> 'a tenth', 0.25 -> 'a quarter', else '15%'."""
    words = {0.5: "half", 0.25: "a quarter", 0.2: "a fifth", 0.1: "a tenth"}
    return words.get(round(float(x), 4), fmt.pct(x, 0))


def _estimation_text(sec: Section, c: _Context) -> None:
    p, ew = c.p, c.est_table
    n_clean = int((ew["days_removed"] == 0).sum())
    multi = c.clusters[c.clusters["n_events"] > 1]
    m = c.car_table[c.car_table["window"] == c.main_lab]
    n_fit = len(m)
    n_short, n_adj = int((m["model"] == es.MARKET_MODEL_SHORT).sum()), int((m["model"] == es.MARKET_ADJUSTED).sum())
    dropped = c.src_events.attrs.get("dropped", [])
    text = (
        f"Each stock's normal return is a market model fitted on trading days {p['estimation_window'][0]} to "
        f"{p['estimation_window'][1]} before its event, with every other event's days -1 to +5 removed from that window "
        f"and, for a new listing, its first {p['ipo_days']} returns. Across the {len(ew)} events "
        f"{fmt.num(int(ew['days_removed'].sum()), 0)} estimation days were removed "
        f"(from {fmt.num(int(ew['days_removed'].min()), 0)} to {fmt.num(int(ew['days_removed'].max()), 0)} per event; "
        f"{n_clean} event{'s' if n_clean != 1 else ''} lost none), leaving {fmt.num(int(ew['days_used'].min()), 0)} to "
        f"{fmt.num(int(ew['days_used'].max()), 0)} clean days. A stock with fewer than {p['min_obs']} clean days is fitted "
        f"on what there is if it has at least {p['min_short_obs']} (flagged: short window, {n_short} of {n_fit} "
        f"stock-event fits) and is otherwise measured against the market-adjusted model (abnormal return = return minus "
        f"the market's; flagged, {n_adj} fits). ")
    if len(multi):
        text += (f"Events whose days -1 to +5 share a trading day form one cluster ({'; '.join(f'{r.cluster}: {r.event_ids}' for r in multi.itertuples())}); "
                 "pooled statistics use only the first event of each cluster that has pooled confidence, so no return day is "
                 "counted twice. ")
    low = c.events[~c.events["confidence"].isin(p["pooled_confidence"])]["event_id"].tolist()
    if low:
        text += f"Events rated low confidence ({', '.join(low)}) are shown but not pooled. "
    if dropped:
        text += (f"{', '.join(dropped)} {'has' if len(dropped) == 1 else 'have'} no {c.source} return on day 0 "
                 f"(no previous close), so {'it does' if len(dropped) == 1 else 'they do'} not enter the test of "
                 f"{c.source}'s own shocks. ")
    sec.text("estimation_text", text.strip())


def _headline_text(c: _Context) -> str:
    h = charts.headline_rows(c)
    if h.empty:
        return f"No event from {c.source} has a {c.source} return in the {c.main_lab} window."
    alpha_driven = h[h["driver"] == "fitted alpha"]
    big = h.loc[h["car_wide"].abs().idxmax()] if h["car_wide"].notna().any() else h.iloc[0]
    text = (f"{c.source}'s largest {c.wide_lab} CAR on its own news is {fmt.pct(big['car_wide'], 1, sign=True)} after "
            f"{big['event_id']} ({fmt.date(big['day0'])}); its raw compounded return over the same days was "
            f"{fmt.pct(big['raw_wide'], 1, sign=True)} and the zero-alpha CAR {fmt.pct(big['car0_wide'], 1, sign=True)}. ")
    if len(alpha_driven):
        text += (f"For {', '.join(alpha_driven['event_id'])} the market-model CAR rests largely on the fitted alpha (a daily "
                 f"drift of {', '.join(fmt.pct(a, 2, sign=True) for a in alpha_driven['alpha'])} estimated on the weeks "
                 "before), so the zero-alpha CAR and the raw return are the safer reading; for the other events the CAR "
                 "follows the price move.")
    else:
        text += "In every row the market-model CAR follows the price move rather than a fitted drift."
    return text


# --------------------------------------------------------------------------- Forbes-Rigobon
def _forbes_rigobon(sec: Section, c: _Context) -> None:
    p = c.p
    crises = wn.crisis_windows(c.events, c.returns, c.source, p["crisis_threshold"], p["crisis_days"],
                               p["tranquil_days"], p["min_crisis_days"], tuple(p["pooled_confidence"]),
                               c.listing.get(c.source))
    c.rule = (f"{p['crisis_days']} trading days from each fall of {c.source} by {fmt.pct(p['crisis_threshold'], 0)} or more "
              f"on the day 0 of its own news")
    c.rule_long = (f"{c.rule}, against the {p['tranquil_days']} trading days before it outside earlier crisis windows "
                   f"and {c.source}'s first {p['ipo_days']} returns (these numbers are assumptions, set in the parameters)")
    rows, tables = [], []
    for r in crises.itertuples(index=False):
        row = r._asdict()
        if r.status == "ok":
            fr = cg.forbes_rigobon(c.returns, c.source, c.peers, crisis=crises.attrs["crisis_days"][r.crisis],
                                   tranquil=crises.attrs["tranquil_days"][r.crisis], k=p["fr_k"], alpha=c.alpha,
                                   reps=p["fr_bootstrap"], seed=p["seed"])
            fr.insert(0, "crisis", r.crisis)
            tables.append(fr)
            v = fr["verdict"]
            row.update(n_tranquil=int(fr["n_tranquil"].median()), n_crisis=int(fr["n_crisis"].median()),
                       delta=float(fr["delta"].median()), answer=cg.crisis_answer(fr), n_peers=int(v.notna().sum()),
                       n_contagion=int((v == "contagion").sum()), n_interdependence=int((v == "interdependence").sum()))
        rows.append(row)
    c.crises = pd.DataFrame(rows, columns=[*crises.columns, "n_tranquil", "n_crisis", "delta", "answer", "n_peers",
                                           "n_contagion", "n_interdependence"])
    c.fr = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    c.pending = wn.pending_events(c.events_all, c.last_day, c.source)
    sec.table("crisis_windows", c.crises, {"trigger_return": "fraction", "days": "days", "tranquil_days": "days",
                                           "n_tranquil": "count", "n_crisis": "count", "delta": "fraction"})
    fr_units = {"n_tranquil": "count", "n_crisis": "count", "delta": "fraction"}
    if len(c.fr):
        sec.table("forbes_rigobon", c.fr, fr_units)
    tested = c.crises[c.crises["status"] == "ok"]
    if len(tested):
        last = tested.iloc[-1]
        per = f"{fmt.date(last['start'])} to {fmt.date(last['end'])}"
        sec.value("fr_delta", last["delta"], "fraction",
                  f"Forbes-Rigobon delta: {c.source} variance crisis/tranquil - 1, latest crisis window (median over peers)",
                  c.price_src, period=per)
        sec.value("fr_contagion_count", int(last["n_contagion"]), "count",
                  "Peers with the Forbes-Rigobon verdict 'contagion' (bootstrap test, Benjamini-Hochberg), latest crisis window",
                  c.price_src, period=per)
        fl = c.fr[c.fr["crisis"] == last["crisis"]]
        sec.value("fr_contagion_count_strict", int((fl["verdict_strict"] == "contagion").sum()), "count",
                  "Peers where both the adjusted and the unadjusted test reject, latest crisis window", c.price_src, period=per)
        c.sim_n = (int(tested["n_tranquil"].median()), int(tested["n_crisis"].median()))
        kw = dict(variance_ratio=p["fr_sim_variance_ratio"], reps=p["fr_sim_reps"], boot=p["fr_sim_boot"], alpha=c.alpha,
                  seed=p["seed"])
        c.size = cg.fr_rejection_rate(*c.sim_n, slope_factor=1.0, **kw)
        c.power = cg.fr_rejection_rate(*c.sim_n, slope_factor=2.0, **kw)
        sizes = f"{c.sim_n[0]} tranquil and {c.sim_n[1]} crisis {p['fr_k']}-day periods"
        sec.value("fr_size_at_5pct", c.size, "fraction",
                  f"Simulated size of the Forbes-Rigobon bootstrap test at a nominal {fmt.pct(c.alpha, 0)} ({sizes}; "
                  f"source variance x{fmt.num(p['fr_sim_variance_ratio'], 0)}; {p['fr_sim_reps']} replications)", [])
        sec.value("fr_power_slope_doubling", c.power, "fraction",
                  f"Simulated power of the Forbes-Rigobon bootstrap test against a doubling of the slope ({sizes}; "
                  f"{p['fr_sim_reps']} replications)", [])
    c.v_fr = sec.verdict(cg.contagion_verdict(c.crises, c.source, p["fr_k"], c.alpha, c.rule))
    sec.text("fr_text", _fr_text(c))
    if len(tested):
        sec.exhibit("crisis_table", charts.crisis_table(c))
        sec.exhibit("fr_table", charts.fr_table(c))
    c.paths_events = c.crises.loc[c.crises["days"] > 0, "trigger"].tolist()
    if c.study is not None and c.paths_events:
        c.paths = sm.car_paths(c.returns, c.events[c.events["event_id"].isin(c.paths_events)], c.path_tickers,
                               c.market, tuple(p["path_span"]), tuple(p["estimation_window"]), p["min_obs"],
                               min_short_obs=p["min_short_obs"],
                               exclude=wn.estimation_exclusions(c.events, c.returns.index), not_before=c.listing)
        sec.table("car_paths", c.paths, {"ar": "fraction", "car": "fraction"})
        sec.exhibit("car_paths", charts.car_paths(c))
    else:
        c.paths = pd.DataFrame()


def _fr_text(c: _Context) -> str:
    p = c.p
    text = (f"Crisis windows follow a rule, not chosen dates: {c.rule_long}. Within each window daily returns are compounded "
            f"into non-overlapping {p['fr_k']}-day returns. A correlation rises mechanically when the source becomes more "
            "volatile; Forbes and Rigobon adjust the crisis correlation for the rise in the source's variance (delta) and "
            "call only a rise that survives the adjustment contagion. Its test here is a bootstrap of the adjusted "
            "correlation under the null of an unchanged link (same slope and residual variance in both windows), with "
            "Benjamini-Hochberg across the peers. ")
    if c.crises.empty:
        text += f"No {c.source} event before {fmt.date(c.last_day)} was followed by a fall of that size, so there is no crisis window yet. "
    for r in c.crises.itertuples(index=False):
        if r.status == "too recent":
            text += (f"The selling that began on {fmt.date(r.day0)} ({r.trigger}: {c.source} {fmt.pct(r.trigger_return, 1, sign=True)} "
                     f"on day 0) is too recent for the test: {r.days} of its {p['crisis_days']} trading days have traded, "
                     f"fewer than the {p['min_crisis_days']} the test needs. ")
        elif r.status == "no tranquil window":
            text += (f"The fall on {fmt.date(r.day0)} ({r.trigger}) has too few earlier calm days for a tranquil window "
                     f"({r.tranquil_days}). ")
    for r in c.pending.itertuples(index=False):
        text += (f"{r.event_id} ({event_kind_label(r.kind)}, announced {fmt.date(r.announced)}) has not traded yet at the "
                 f"note's date; whether it opens a crisis window is not yet known. ")
    tested = c.crises[c.crises["status"] == "ok"]
    if len(tested):
        na = tested[tested["answer"] == cg.NOT_APPLICABLE]
        if len(na):
            text += (f"In {len(na)} of {len(tested)} crisis window{'s' if len(tested) != 1 else ''} {c.source} was *calmer* than in its "
                     f"tranquil window (delta {', '.join(fmt.num(d, 2) for d in na['delta'])}): the tranquil windows "
                     f"include the volatile months after the listing. The Forbes-Rigobon adjustment exists to correct "
                     "for a rise in the source's volatility; with delta below zero it would raise the crisis correlations, "
                     "so the test does not apply there and the table shows the correlations for information only. ")
        text += (f"At the note's window sizes (the median over crisis windows: {c.sim_n[0]} tranquil and {c.sim_n[1]} "
                 f"crisis periods) a simulation with the source's variance x{fmt.num(p['fr_sim_variance_ratio'], 0)} in the "
                 f"crisis and an unchanged link rejects in {fmt.pct(c.size, 1)} of samples at a nominal "
                 f"{fmt.pct(c.alpha, 0)} (the test's size), and detects a doubling of the slope in {fmt.pct(c.power, 0)} "
                 f"(its power; {p['fr_sim_reps']} seeded replications).")
    return text.strip()


# --------------------------------------------------------------------------- Diebold-Yilmaz
def _connectedness(sec: Section, c: _Context) -> None:
    p = c.p
    c.st_panel, c.st_info = sm.complete_panel(c.returns, c.tickers)
    k = c.st_panel.shape[1]
    c.static = None
    if len(c.st_panel) > (p["dy_max_lags"] + 2) * k + 1:
        c.static = dy.dy_static(c.st_panel, horizon=p["dy_horizon"], max_lags=p["dy_max_lags"], ic="aic")
    t0 = time.perf_counter()
    c.rolling = None
    src_days = c.returns[c.source].notna().sum()
    if src_days >= p["dy_window"]:
        c.rolling = dy.dy_rolling(c.returns[c.tickers], window=p["dy_window"], horizon=p["dy_horizon"],
                                  lags=p["dy_rolling_lags"], require=(c.source,))
    c.dy_seconds = time.perf_counter() - t0
    sec.table("dy_static_panel", c.st_info, {})
    if c.static is not None:
        s = c.static
        sec.table("dy_static", pd.DataFrame({"ticker": s.net.index, "total": s.total, "to": s.to.to_numpy(),
                                             "from": s.from_.to_numpy(), "net": s.net.to_numpy()}),
                  {x: "fraction" for x in ["total", "to", "from", "net"]})
        c.links = sm.source_links(s.table, c.source)
        sec.table("dy_pairwise_crwv", c.links, {x: "fraction" for x in ["to_peer", "from_peer", "net"]})
        per = f"{fmt.date(s.start)} to {fmt.date(s.end)}"
        # the whole sample ends where the first ticker's price data end: say whose, where it is before the source's end
        ends = c.st_info[c.st_info["kept"] & (pd.to_datetime(c.st_info["last"]) == pd.Timestamp(s.end))]["ticker"].tolist()
        if pd.Timestamp(s.end) < c.ticker_spans.at[c.source, "last"] and ends:
            who = ends[0] if len(ends) == 1 else (f"{ends[0]} and {len(ends) - 1} others" if len(ends) > 3 else ", ".join(ends))
            c.static_end_note = f"{who}'s price data end{'s' if len(ends) == 1 else ''}"
        sec.value("dy_total_static", s.total, "fraction", f"Total connectedness, {per}", c.price_src, period=per)
        sec.value("crwv_net_spillover_static", float(s.net[c.source]), "fraction", f"{c.source} net spillover, whole sample",
                  c.price_src, period=per)
        c.static_period = per
    net_roll = pd.Series(dtype=float)
    if c.rolling is not None:
        tot = c.rolling["total"].copy()
        net_roll = c.rolling["net"][c.source]
        tot["crwv_net"] = net_roll.reindex(pd.DatetimeIndex(tot["date"])).to_numpy()
        c.n_rolling = len(tot)
        sec.table("dy_rolling", tot, {"total": "fraction", "n_vars": "count", "crwv_net": "fraction"})
        sec.table("dy_rolling_panel", _rolling_panel(c), {"windows": "count"})
        last = tot.iloc[-1]
        sec.value("crwv_net_spillover_latest", float(last["crwv_net"]), "fraction",
                  f"{c.source} net spillover, {p['dy_window']}-day window ending {fmt.date(last['date'])}", c.price_src,
                  period=f"{p['dy_window']} trading days to {fmt.date(last['date'])}")
    elif c.static is not None:
        sec.value("crwv_net_spillover_latest", float(c.static.net[c.source]), "fraction",
                  f"{c.source} net spillover, whole sample (too short for a rolling window)", c.price_src)
    sec.value("dy_rolling_seconds", c.dy_seconds, "seconds", "Run time of the rolling connectedness", [])
    c.v_dy = sec.verdict(dy.transmitter_verdict(float(c.static.net[c.source]) if c.static is not None else np.nan,
                                                getattr(c, "static_period", "n/a"), net_roll, c.source,
                                                p["dy_latest_windows"], p["dy_window"], end_note=c.static_end_note))
    sec.text("dy_text", _dy_text(c))
    if c.rolling is not None:
        sec.exhibit("dy_rolling_chart", charts.dy_rolling_chart(c))
        sec.table("dy_rolling_spans", c.spans.reset_index(), {"mean": "fraction", "min": "fraction", "max": "fraction",
                                                              "n": "count"})
    if c.static is not None:
        sec.exhibit("dy_net_chart", charts.dy_net_chart(c))
        sec.exhibit("dy_links", charts.dy_links_table(c))


def _rolling_panel(c: _Context) -> pd.DataFrame:
    """Per ticker: in how many rolling windows it took part, and the first and last window end."""
    net = c.rolling["net"]
    rows = []
    for t in c.tickers:
        s = net[t].dropna() if t in net else pd.Series(dtype=float)
        rows.append({"ticker": t, "windows": len(s), "first_window_end": s.index.min() if len(s) else pd.NaT,
                     "last_window_end": s.index.max() if len(s) else pd.NaT})
    return pd.DataFrame(rows)


def _dy_text(c: _Context) -> str:
    p = c.p
    if c.static is None:
        return (f"The price data ({len(c.st_panel)} days with every ticker) is too short for a {c.st_panel.shape[1]}-variable "
                "VAR, so there are no spillover estimates.")
    s = c.static
    srt = s.net.sort_values(ascending=False)
    rank = int(list(srt.index).index(c.source)) + 1
    text = (f"The spillover index comes from a VAR of the {s.table.shape[0]} daily return series over {fmt.date(s.start)} to "
            f"{fmt.date(s.end)} ({fmt.num(s.nobs, 0)} observations, {s.lags} lag{'s' if s.lags != 1 else ''} by AIC, at most {p['dy_max_lags']}) and "
            f"the generalized variance decomposition at {p['dy_horizon']} days. Total connectedness is {fmt.pct(s.total, 1)}: "
            "that share of the forecast-error variance of a typical stock comes from shocks to the others. The largest net "
            f"transmitters are {', '.join(f'{t} ({fmt.pct(v, 1, sign=True)})' for t, v in srt.head(3).items())}; the largest "
            f"net receivers {', '.join(f'{t} ({fmt.pct(v, 1, sign=True)})' for t, v in srt.tail(3)[::-1].items())}. "
            f"{c.source} ranks {rank} of {len(srt)} with a net spillover of {fmt.pct(s.net[c.source], 1, sign=True)}. ")
    dropped = c.st_info[~c.st_info["kept"]]
    if c.static_end_note:
        text += (f"A VAR needs every ticker on every day, so the whole sample ends on {fmt.date(s.end)}, where "
                 f"{c.static_end_note}. ")
    if len(dropped):
        text += "; ".join(f"{r.ticker} is left out of the whole sample ({r.reason})" for r in dropped.itertuples()) + ". "
    if c.rolling is not None:
        nv = c.rolling["total"]["n_vars"]
        text += (f"The rolling windows ({p['dy_window']} trading days, VAR({p['dy_rolling_lags']})) use every ticker that has "
                 f"a return on each day of the window ({_range(nv.min(), nv.max())} tickers), so a ticker whose price data "
                 "end leaves only the windows after its last return, and no window is shaped by later knowledge. ")
        net = c.rolling["net"][c.source].dropna()
        tail = net.iloc[-p["dy_latest_windows"]:]
        text += (f"In the latest window (to {fmt.date(net.index[-1])}) {c.source}'s net spillover is "
                 f"{fmt.pct(net.iloc[-1], 1, sign=True)}; it is positive in {int((tail > 0).sum())} of the last {len(tail)} "
                 f"windows and in {int((net > 0).sum())} of all {len(net)}.")
    else:
        text += (f"{c.source} has fewer than {p['dy_window']} daily returns at the note's date, so there is no rolling window yet.")
    return text


# --------------------------------------------------------------------------- rolling betas
def _rolling_betas(sec: Section, c: _Context) -> None:
    p = c.p
    c.rb = cg.rolling_residual_beta(c.returns[[*c.tickers, c.market]], c.source, c.market, c.peers, window=p["beta_window"])
    if c.rb.empty:
        sec.text("beta_text", f"There are fewer than {p['beta_window']} days of {c.source} returns, so no rolling beta yet.")
        return
    rb_last = c.rb["date"].max()
    snaps = {}
    for r in c.crises.itertuples(index=False):
        if r.status == "ok":
            snaps[f"end of {r.crisis}"] = r.end
    snaps = {k: d for k, d in snaps.items() if pd.Timestamp(d) < rb_last}
    snaps = dict(list(snaps.items())[-2:])
    snaps["latest"] = rb_last
    c.snap_dates = snaps
    c.snap = sm.values_at(c.rb, snaps)
    sec.table("rolling_beta_snapshot", c.snap, {"beta": "ratio", "corr": "ratio"})
    sec.table("rolling_beta", c.rb[c.rb["ticker"].isin(c.p["main_peers"])], {"beta": "ratio", "corr": "ratio"})
    sec.exhibit("beta_chart", charts.beta_chart(c))
    sec.exhibit("beta_table", charts.beta_table(c))
