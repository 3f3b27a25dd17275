"""Exhibits of section 04 (sector contagion): tables and charts built from the section's context.

Each function takes the `_Context` of `sector_contagion.build` and returns an `Exhibit`; titles
state the finding, notes the method and period; charts draw nothing after the last price.
"""

from __future__ import annotations

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.patches import Patch, Rectangle

from ..labels import event_kind_label
from ..market import event_study as es
from ..market import summary as sm
from ..market.contagion import NOT_APPLICABLE
from ..report import exhibits, fmt, style

PRICE_LINE = "Daily closes and dividends in data/prices (see PROVENANCE.md)"
EVENT_LINE = "events: data/events.csv (day 0 = first session that could react)"
FALLBACK = (es.MARKET_MODEL_SHORT, es.MARKET_ADJUSTED)


def _pct(v, d=1):
    return fmt.pct(v, d, sign=True)


# --------------------------------------------------------------------------- event study
def estimation_table(c):
    ew = c.est_table
    ev = c.events.set_index("event_id")
    src_col = f"days_used_{c.source}"
    tbl = pd.DataFrame({
        "Event": ew["event_id"], "Day 0": [ev.at[e, "day0"] for e in ew["event_id"]], "Cluster": ew["cluster"],
        "Pooled": [("yes" if ok else ("no, " + r.split(" ")[1] if r.startswith("overlaps") else "no, " + r.split(" ")[-1]))
                   for ok, r in zip(ew["in_pooled"], ew["reason"], strict=True)],
        "From": ew["start"], "To": ew["end"], "Removed": ew["days_removed"], "Used": ew["days_used"]})
    if src_col in ew:
        tbl[f"{c.source} days"] = ew[src_col]
    n_all = len([t for t in c.tickers if t != c.market])
    tbl["Short window"] = ew["tickers_short_window"].map(lambda s: _tickers_cell(s, n_all))
    tbl["Market-adjusted"] = ew["tickers_market_adjusted"].map(lambda s: _tickers_cell(s, n_all))
    worst = ew.loc[ew["days_removed"].idxmax()]
    return exhibits.table(
        tbl, title=(f"Other events' days removed {fmt.num(int(ew['days_removed'].sum()), 0)} estimation days in all; "
                    f"{worst['event_id']} lost the most ({fmt.num(int(worst['days_removed']), 0)} of "
                    f"{fmt.num(int(worst['days_in_window']), 0)})"),
        source=f"{PRICE_LINE}; {EVENT_LINE}.",
        notes=(f"From, To: the estimation window, trading days {c.p['estimation_window'][0]} to {c.p['estimation_window'][1]} before day 0 inside the "
               f"price data. Removed: days -1 to +5 of other events inside it; Used: the rest (every stock); {c.source} days: "
               f"also without its first {c.p['ipo_days']} returns after the listing. Short window: stocks fitted on "
               f"{c.p['min_short_obs']} to {c.p['min_obs'] - 1} clean days; market-adjusted: fewer (the stock, or how many of "
               f"the {n_all}). Cluster: events whose days -1 to +5 overlap; only the first pooled event of a cluster enters "
               "pooled statistics (no, E02: represented by E02; no, low: low confidence)."))


def missing_tickers(c, event_ids) -> dict[str, list[str]]:
    """{ticker: [events]} of the universe (less the market and each event's origin) with no
    {main window} CAR for the event, e.g. a stock not yet listed or whose price data ended."""
    m = c.car_table[(c.car_table["window"] == c.main_lab) & c.car_table["event_id"].isin(list(event_ids))]
    have = m[np.isfinite(m["car"].astype(float))].groupby("event_id")["ticker"].apply(set)
    origin = c.events.set_index("event_id")["origin"]
    out: dict[str, list[str]] = {}
    for e in event_ids:
        for t in c.tickers:
            if t != origin.get(e) and t not in have.get(e, set()):
                out.setdefault(t, []).append(e)
    return out


def missing_phrase(c, missing: dict[str, list[str]]) -> str:
    """'CRWV for E01, E02 (its returns start 2025-03-31); CORZ for E25, E26 (its price data end
    2026-05-29)': why each ticker is missing for its events."""
    parts = []
    for t, ids in missing.items():
        first, last = c.ticker_spans.at[t, "first"], c.ticker_spans.at[t, "last"]
        d0 = c.events.set_index("event_id").loc[ids, "day0"]
        why = ("its returns start " + fmt.date(first) if (d0 < first).all() else
               "its price data ends " + fmt.date(last) if (d0 > last).all() else "no return on a window day")
        parts.append(f"{t} for {', '.join(ids)} ({why})")
    return "; ".join(parts)


def _tickers_cell(s: str, n_all: int) -> str:
    names = [x for x in s.split(", ") if x]
    if not names:
        return "-"
    if len(names) == n_all:
        return "all"
    return ", ".join(names) if len(names) <= 2 else f"{len(names)} stocks"


def _grey(t: float) -> tuple:
    g = 1.0 - 0.85 * min(max(t, 0.0), 1.0)
    return (g, g, g)


_RISE = "#404040"


def _frame(t: float) -> float:
    """Line width (points) of a rise's frame: 0.4 for none, 2.0 at the clipping level and above."""
    return 0.4 + 1.6 * min(max(t, 0.0), 1.0)


#: peer lines in grey print: distinct markers (hollow) beside the dash patterns
PEER_MARKERS = ["o", "s", "^", "D", "v", "x"]


def _end_labels(ax, ends: dict[str, tuple[float, float]], fontsize: float = 6.5, min_gap: float = 0.07) -> None:
    """Name each line at its last point (x, y in data units), right of it; labels that would
    overprint are moved apart vertically by at least `min_gap` of the y range."""
    from matplotlib.transforms import offset_copy

    lo, hi = ax.get_ylim()
    gap = (hi - lo) * min_gap
    items = sorted((y, x, k) for k, (x, y) in ends.items() if np.isfinite(y))
    ys = [y for y, _, _ in items]
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + gap)
    over = (ys[-1] - hi) if ys else 0
    if over > 0:
        ys = [y - over for y in ys]
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = min(ys[i], ys[i + 1] - gap)
    tr = offset_copy(ax.transData, fig=ax.figure, x=3, y=0, units="points")
    for (_, x, k), y in zip(items, ys, strict=True):
        ax.text(x, y, k, transform=tr, fontsize=fontsize, va="center", ha="left", color=style.INK, clip_on=False)


def car_heatmap(c):
    g = sm.car_grid(c.car_table, c.main_lab, c.events["event_id"].tolist(), c.tickers)
    car, pv, mdl = g["car"], g["p_value"], g["model"]
    vals = car.to_numpy(float)
    lim = float(np.nanquantile(np.abs(vals), 0.95)) if np.isfinite(vals).any() else 0.1
    ev = c.events.set_index("event_id")
    pooled = set(c.pool.loc[c.pool["in_pooled"], "event_id"])
    fig, ax = style.figure(figsize=(7.0, 1.3 + 0.24 * len(car)))
    ax.set_xlim(-0.5, car.shape[1] - 0.5)
    ax.set_ylim(car.shape[0] - 0.5, -0.5)
    ax.grid(False)
    for i in range(car.shape[0]):
        for j in range(car.shape[1]):
            v, p = vals[i, j], pv.iloc[i, j]
            if not np.isfinite(v):
                ax.text(j, i, "n/a", ha="center", va="center", fontsize=4.5, color="#6b6b6b")
                continue
            t = abs(v) / lim
            if v < 0:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=_grey(t), edgecolor="white", linewidth=0.4))
            else:  # a rise: a frame inside the cell, thicker for a larger rise (nothing crosses the number)
                ax.add_patch(Rectangle((j - 0.42, i - 0.40), 0.84, 0.80, facecolor="white", edgecolor=_RISE,
                                       linewidth=_frame(t)))
            sig = np.isfinite(p) and p < c.alpha
            label = ("0" if abs(v) < 0.005 else f"{100 * v:+.0f}".replace("-", "\u2212")) + ("*" if sig else "")
            ax.text(j, i, label, ha="center", va="center", fontsize=5.2,
                    color="white" if v < 0 and t > 0.55 else "#111111",
                    fontstyle="italic" if mdl.iloc[i, j] in FALLBACK else "normal",
                    fontweight="bold" if sig else "normal")
    ax.set_xticks(range(len(car.columns)), car.columns, rotation=90, fontsize=6.5)
    ax.set_yticks(range(len(car)), [f"{e} {fmt.date(ev.at[e, 'day0'])} {event_kind_label(ev.at[e, 'kind'])} "
                                    f"({ev.at[e, 'origin']})" + ("" if e in pooled else " [not pooled]")
                                    for e in car.index], fontsize=6)
    ax.tick_params(length=0)
    ax.xaxis.set_ticks_position("top")
    for s in ax.spines.values():
        s.set_visible(False)
    key = [Patch(facecolor=_grey(1.0), edgecolor="white", label=f"negative, {fmt.pct(lim, 0)} or more"),
           Patch(facecolor=_grey(0.4), edgecolor="white", label="negative, smaller"),
           Patch(facecolor="white", edgecolor=_RISE, linewidth=_frame(0.3), label="positive, smaller"),
           Patch(facecolor="white", edgecolor=_RISE, linewidth=_frame(1.0), label=f"positive, {fmt.pct(lim, 0)} or more")]
    ax.legend(handles=key, loc="upper center", ncol=4, fontsize=6, bbox_to_anchor=(0.5, -0.005), frameon=False)
    n_sig = int(((pv < c.alpha) & car.notna()).to_numpy().sum())
    n_cells = int(car.notna().to_numpy().sum())
    worst = car.stack().idxmin()
    notes = (f"Cells: cumulative abnormal return over trading days {c.main_lab}, in percent, with its sign; darker fill = "
             "larger fall, thicker frame = larger rise (the shading is clipped at the 95th percentile of |CAR|, "
             f"{fmt.pct(lim, 0)}). * and bold: per-stock t test significant at {fmt.pct(c.alpha, 0)} (two-sided; "
             "estimation-period residual variance with the prediction-error correction); italic: flagged fallback model "
             "(short estimation window or market-adjusted); n/a: no return on a window day. Market model fitted by OLS "
             f"against {c.market} on clean estimation days (see the estimation table).")
    if c.adj_text:
        notes += f" Price basis: returns of {c.adj_text} use the dividend-adjusted close (the data has no close there)."
    return exhibits.figure(
        fig, title=(f"{n_sig} of {n_cells} event-stock CARs over {c.main_lab} are significant at {fmt.pct(c.alpha, 0)}; "
                    f"the largest fall is {worst[1]} after {worst[0]} ({_pct(car.loc[worst])})"),
        source=f"{PRICE_LINE}; {EVENT_LINE}.", notes=notes)


def headline_rows(c) -> pd.DataFrame:
    """The source's own CARs on its own news: market model, zero-alpha and raw, main and widest window."""
    ct = c.car_table[(c.car_table["ticker"] == c.source) & (c.car_table["origin"] == c.source)]
    m = ct[ct["window"] == c.main_lab].set_index("event_id")
    w = ct[ct["window"] == c.wide_lab].set_index("event_id")
    ids = [e for e in m.index if np.isfinite(m.at[e, "car"])]
    if not ids:  # no event of the source's own with a CAR yet (an early as-of date)
        return pd.DataFrame(columns=["event_id", "day0", "kind", "raw_main", "car_main", "car0_main", "raw_wide",
                                     "car_wide", "car0_wide", "alpha", "model", "driver"])
    out = pd.DataFrame({
        "event_id": ids, "day0": m.loc[ids, "day0"].to_numpy(), "kind": m.loc[ids, "kind"].to_numpy(),
        "raw_main": m.loc[ids, "raw_return"].to_numpy(), "car_main": m.loc[ids, "car"].to_numpy(),
        "car0_main": m.loc[ids, "car_zero_alpha"].to_numpy(), "raw_wide": w["raw_return"].reindex(ids).to_numpy(),
        "car_wide": w["car"].reindex(ids).to_numpy(), "car0_wide": w["car_zero_alpha"].reindex(ids).to_numpy(),
        "alpha": m.loc[ids, "alpha"].to_numpy(), "model": m.loc[ids, "model"].to_numpy()})
    gap = (out["car_wide"] - out["car0_wide"]).abs()
    out["driver"] = np.where(gap > 0.25 * out["car_wide"].abs(), "fitted alpha", "price move")
    return out


def headline_cars(c):
    h = headline_rows(c)
    tbl = pd.DataFrame({
        "Event": h["event_id"], "Day 0": h["day0"], "Kind": h["kind"].map(event_kind_label),
        f"Raw {c.main_lab}": h["raw_main"], f"CAR {c.main_lab}": h["car_main"], f"Zero-alpha {c.main_lab}": h["car0_main"],
        f"Raw {c.wide_lab}": h["raw_wide"], f"CAR {c.wide_lab}": h["car_wide"], f"Zero-alpha {c.wide_lab}": h["car0_wide"],
        "Alpha a day": h["alpha"], "Driven by": h["driver"],
        "Model": h["model"].map({es.MARKET_MODEL: "market", es.MARKET_MODEL_SHORT: "short window",
                                 es.MARKET_ADJUSTED: "mkt-adjusted"})})
    f = {k: _pct for k in tbl.columns if k.startswith(("Raw", "CAR", "Zero"))}
    f["Alpha a day"] = lambda v: fmt.pct(v, 2, sign=True)
    n_alpha = int((h["driver"] == "fitted alpha").sum())
    return exhibits.table(
        tbl, title=(f"{c.source} on its own news: {n_alpha} of {len(h)} market-model CARs rest largely on the fitted alpha "
                    "rather than the price move"),
        source=f"{PRICE_LINE}; {EVENT_LINE}.", formats=f,
        notes=("Raw: compounded return over the window. CAR: market model (alpha and beta fitted on the clean estimation "
               "days). Zero-alpha: the same with alpha = 0 (beta fitted through the origin), so a drift fitted on the "
               "weeks before cannot make the CAR. Driven by: 'fitted alpha' when the zero-alpha CAR over "
               f"{c.wide_lab} differs from the CAR by more than a quarter of its size."))


def event_tests_table(c):
    w = c.ev_wide

    def st(col):
        return [fmt.NA if not np.isfinite(s) else f"{s:.2f}" + ("*" if p < c.alpha else "")
                for s, p in zip(w[col], w[f"{col}_p"], strict=True)]

    tbl = pd.DataFrame({
        "Event": w["event_id"], "Day 0": w["day0"], "Kind": w["kind"].map(event_kind_label), "Origin": w["origin"],
        "Peers": w["n"], "Mean CAR": w["mean_car"], "Patell z": st("patell"), "BMP t": st("bmp"),
        "KP t": st("kolari_pynnonen"), "Corrado z": st("corrado"), "Portfolio t": st("portfolio"), "rbar": w["rbar"],
        "Pooled": w["in_pooled"]})
    kp_sig, bmp_sig = w[w["kolari_pynnonen_p"] < c.alpha], w[w["bmp_p"] < c.alpha]
    missing = missing_tickers(c, w["event_id"])
    short = (f" Fewer peers for some events, for lack of price data: {missing_phrase(c, missing)}." if missing else "")
    return exhibits.table(
        tbl, title=(f"{len(bmp_sig)} of {len(w)} events move the peer group significantly by the BMP test, "
                    f"{len(kp_sig)} once the cross-correlation of the peers is allowed for (Kolari-Pynnonen)"),
        source=f"{PRICE_LINE}; {EVENT_LINE}.",
        formats={"Mean CAR": _pct, "rbar": lambda v: fmt.num(v, 2)},
        notes=(f"Window {c.main_lab}; peers = the universe less {c.market} and the event's origin. * = significant at "
               f"{fmt.pct(c.alpha, 0)} (two-sided, per event; no correction for the number of events). rbar = average "
               "pairwise correlation of the peers' estimation-period abnormal returns (Kolari-Pynnonen). Portfolio t: "
               "equal-weight peer portfolio with the Brown-Warner variance. Pooled: enters pooled statistics (pooled "
               "confidence, first event of its cluster)." + short))


def pooled_table(c):
    pk = pd.concat([c.by_origin.rename(columns={"group": "Pooled over"}),
                    c.study.pooled_by_kind.rename(columns={"kind": "Pooled over"})], ignore_index=True)
    pk = pk[pk["window"] == c.main_lab]
    sk = pk[pk["test"] == "stouffer_kp"].set_index("Pooled over")
    pb = pk[pk["test"] == "portfolio_bmp"].set_index("Pooled over")
    grp = pd.DataFrame({"Pooled over": [event_kind_label(s) for s in sk.index], "Events": sk["n_events"].to_numpy(),
                        "Mean CAR": sk["mean_car"].to_numpy(), "Stouffer KP z": sk["statistic"].to_numpy(),
                        "p": sk["p_value"].to_numpy(), "Portfolio BMP t": pb["statistic"].reindex(sk.index).to_numpy(),
                        "p ": pb["p_value"].reindex(sk.index).to_numpy()})
    g = c.group
    grp = pd.concat([pd.DataFrame({"Pooled over": [f"{c.source} news, signed by {c.source}'s move"],
                                   "Events": [g["n_events"]], "Mean CAR": [g["mean_aligned_car"]],
                                   "Stouffer KP z": [g["z"]], "p": [g["p"]], "Portfolio BMP t": [np.nan],
                                   "p ": [np.nan]}), grp], ignore_index=True)
    return exhibits.table(
        grp, title=(f"Signed by {c.source}'s own move, the peers' {c.main_lab} abnormal return on {c.source} news has a "
                    f"Stouffer z of {fmt.num(g['z'], 2)} (one-sided p {fmt.num(g['p'], 3)}) over {g['n_events']} events"
                    + (f"; the test's power against {c.peer_effect} is {fmt.pct(c.peer_power, 0)}"
                       if np.isfinite(c.peer_power) else "")),
        source=f"{PRICE_LINE}; {EVENT_LINE}.",
        formats={"Mean CAR": _pct, "Stouffer KP z": lambda v: fmt.num(v, 2), "p": lambda v: fmt.num(v, 3),
                 "Portfolio BMP t": lambda v: fmt.num(v, 2), "p ": lambda v: fmt.num(v, 3)},
        notes=("Pooled events only (one per cluster of overlapping events, pooled confidence). First row: each event's "
               f"Kolari-Pynnonen t multiplied by the sign of {c.source}'s own CAR, so good and bad news do not cancel; "
               "one-sided p. Other rows, unsigned (two-sided p): by who the news came from, then by event kind. Stouffer z = "
               "sum of the events' t / sqrt(events); Portfolio BMP t = BMP test over the events' standardised peer-portfolio "
               f"CARs (needs {es.MIN_POOLED_EVENTS} events). Power: share of {c.p['peer_power_reps']} seeded simulated "
               "samples, at these events' own CAR spreads and peer cross-correlations, in which the first row's test "
               f"rejects at {fmt.pct(c.alpha, 0)} (with no spill-over it rejects in {fmt.pct(c.peer_size, 1)}: its size)."))


def peer_tests_table(c):
    t = c.peer_tests.sort_values("z", ascending=False, kind="stable")
    tbl = pd.DataFrame({"Peer": t["ticker"], "Events": t["n_events"], "Mean CAR, signed": t["mean_aligned_car"],
                        "z": t["z"], "p (one-sided)": t["p"], "q (BH)": t["q"],
                        "Moves with " + c.source: t["significant"]})
    n = int(t["significant"].sum())
    missing = {k: v for k, v in missing_tickers(c, c.src_events["event_id"]).items() if k in set(t["ticker"])}
    short = (f" A peer has fewer than the {len(c.src_events)} events where it lacks price data: "
             f"{missing_phrase(c, missing)}." if missing else "")
    return exhibits.table(
        tbl, title=(f"{n} of {len(t)} peers move with {c.source} on its own news after Benjamini-Hochberg at "
                    f"{fmt.pct(c.alpha, 0)}"),
        source=f"{PRICE_LINE}; {EVENT_LINE}.",
        formats={"Mean CAR, signed": _pct, "z": lambda v: fmt.num(v, 2), "p (one-sided)": lambda v: fmt.num(v, 3),
                 "q (BH)": lambda v: fmt.num(v, 3)},
        notes=(f"Per peer, over the pooled {c.source} events: z = sum of the peer's standardised {c.main_lab} CARs, each "
               f"signed by {c.source}'s own CAR, over the square root of the sum of their variances df/(df - 2) (Patell). "
               "q: Benjamini-Hochberg adjusted p-value across the peers (false discovery rate)." + short))


# --------------------------------------------------------------------------- Forbes-Rigobon
def crisis_table(c):
    t = c.crises[c.crises["status"] == "ok"]
    tbl = pd.DataFrame({
        "Crisis": t["crisis"], "Trigger": t["trigger"], "Day-0 move": t["trigger_return"],
        "Crisis window": [f"{fmt.date(a)} to {fmt.date(b)}" for a, b in zip(t["start"], t["end"], strict=True)],
        "Tranquil window": [f"{fmt.date(a)} to {fmt.date(b)}" for a, b in zip(t["tranquil_start"], t["tranquil_end"], strict=True)],
        "Periods (t/c)": [f"{a}/{b}" for a, b in zip(t["n_tranquil"], t["n_crisis"], strict=True)],
        "delta": t["delta"], "Answer": t["answer"],
        "Contagion peers": [f"{a} of {b}" for a, b in zip(t["n_contagion"], t["n_peers"], strict=True)]})
    na = int((t["answer"] == NOT_APPLICABLE).sum())
    return exhibits.table(
        tbl, title=(f"{c.source} was calmer than in its tranquil window in {na} of {len(t)} crisis windows, where the "
                    "Forbes-Rigobon test does not apply" if na else
                    f"Forbes-Rigobon across {len(t)} crisis window{'s' if len(t) != 1 else ''}: {', '.join(t['answer'])}"),
        source=f"{PRICE_LINE}; {EVENT_LINE}.",
        formats={"Day-0 move": _pct, "delta": lambda v: fmt.num(v, 2)},
        notes=(f"Rule: {c.rule_long}. The tranquil window may be made of separate stretches. Periods: non-overlapping "
               f"{c.p['fr_k']}-day returns, tranquil/crisis (median over peers). delta: {c.source}'s variance "
               "crisis/tranquil - 1 (median over peers' common periods). Contagion peers: bootstrap test of the adjusted "
               f"correlation, Benjamini-Hochberg at {fmt.pct(c.alpha, 0)}; simulated size {fmt.pct(c.size, 1)} and power "
               f"against a doubling of the slope {fmt.pct(c.power, 0)} at the median window sizes."))


def fr_table(c):
    t = c.crises[c.crises["status"] == "ok"]
    tbl = pd.DataFrame({"Peer": c.peers})
    for r in t.itertuples(index=False):
        f = c.fr[c.fr["crisis"] == r.crisis].set_index("ticker").reindex(c.peers)
        col = f"{r.crisis} ({r.trigger})"
        tbl[col] = [fmt.NA if not np.isfinite(a) else
                    f"{a:.2f} \u2192 {b:.2f} ({x:.2f})" + ("*" if v == "contagion" else "")
                    for a, b, x, v in zip(f["rho_tranquil"], f["rho_crisis"], f["rho_crisis_adj"], f["verdict"], strict=True)]
    top = c.fr.loc[c.fr["rho_crisis"].idxmax()]
    n_up = int((c.fr["rho_crisis"] > c.fr["rho_tranquil"]).sum())
    return exhibits.table(
        tbl, title=(f"{n_up} of {len(c.fr)} peer-window correlations with {c.source} were higher in the crisis than before; "
                    f"the closest crisis link was {top['ticker']} after {top['crisis']} ({fmt.num(top['rho_crisis'], 2)})"),
        source=f"{PRICE_LINE}.",
        notes=(f"Cells: correlation of the peer's and {c.source}'s {c.p['fr_k']}-day returns, tranquil \u2192 crisis "
               "(Forbes-Rigobon adjusted crisis correlation in brackets). * = contagion: the bootstrap test rejects an "
               f"unchanged link at {fmt.pct(c.alpha, 0)} after Benjamini-Hochberg across the peers. Where delta <= 0 the "
               "adjusted value is shown for information only (the adjustment does not apply)."))


_PEER_GREYS = ["#404040", "#5e5e5e", "#7a7a7a", "#4d4d4d", "#6b6b6b"]


def car_paths(c):
    shown = list(dict.fromkeys(c.paths["event_id"]))
    fig, axes = style.figure(1, len(shown), figsize=(7.0, 3.0), sharey=True, squeeze=False)
    ev = c.events.set_index("event_id")
    for ax, e in zip(axes[0], shown, strict=True):
        p = c.paths[c.paths["event_id"] == e]
        ends = {}
        for k, t in enumerate(c.path_tickers):
            s = p[p["ticker"] == t].set_index("rel_day")["car"].dropna()
            src = t == c.source
            ax.plot(s.index, 100 * s.to_numpy(float), label=t, color=style.INK if src else _PEER_GREYS[k % 5],
                    linestyle="-" if src else style.DASHES[k % 6], linewidth=2.2 if src else 1.0,
                    marker=None if src else PEER_MARKERS[(k - 1) % 6], markevery=3, markersize=3.2,
                    markerfacecolor="white", markeredgewidth=0.8)
            if len(s):
                ends[t] = (float(s.index[-1]), 100 * float(s.iloc[-1]))
        ax.axvline(0, color="#8c8c8c", linewidth=0.6, linestyle=":")
        ax.axhline(0, color="#8c8c8c", linewidth=0.5)
        ax.set_title(f"{e}: {event_kind_label(ev.at[e, 'kind'])} ({ev.at[e, 'origin']})\nday 0 {fmt.date(ev.at[e, 'day0'])}",
                     fontsize=7.5)
        ax.set_xlabel("days from day 0", fontsize=7)
        last_ends = ends
    _end_labels(axes[0][-1], last_ends, fontsize=6)
    axes[0][0].set_ylabel(f"CAR from day {c.p['path_span'][0]}, %")
    h, lb = axes[0][0].get_legend_handles_labels()
    fig.legend(h, lb, loc="upper center", ncol=len(c.path_tickers), bbox_to_anchor=(0.5, 0.0))
    src_end, peer_end = sm.path_end_cars(c.paths, c.source, [t for t in c.path_tickers if t != c.source])
    lo = src_end.idxmin() if src_end.notna().any() else shown[0]
    last_day = int(c.paths.loc[c.paths["event_id"] == lo, "rel_day"].max())
    raw = _raw_return(c, lo, c.p["path_span"][0], last_day)
    fit = c.car_table[(c.car_table["event_id"] == lo) & (c.car_table["ticker"] == c.source)].iloc[0]
    car = src_end.get(lo)
    gap, drift = car - raw, fit["alpha"] * (last_day - c.p["path_span"][0] + 1)  # drift over the days drawn
    alpha_made = np.isfinite(gap) and abs(gap) > 0.25 * abs(car) and abs(drift) > 0.5 * abs(gap)
    why = f": the gap is mostly the market model's fitted drift of {fmt.pct(fit['alpha'], 2, sign=True)} a day" if alpha_made else ""
    return exhibits.figure(
        fig, title=(f"From day {c.p['path_span'][0]} to day {last_day:+d} of {lo}, {c.source}'s CAR was "
                    f"{_pct(car)} against a raw move of {_pct(raw)}{why}; the peers drawn averaged {_pct(peer_end.get(lo))}"),
        source=f"{PRICE_LINE}; {EVENT_LINE}.",
        notes=(f"Events: the crisis triggers of the Forbes-Rigobon rule ({c.source} fell {fmt.pct(c.p['crisis_threshold'], 0)} or "
               f"more on day 0). Abnormal returns against the market model ({c.market}, clean estimation window), cumulated "
               "from the first day shown; a line stops where a day has no return or at the last price."))


def _raw_return(c, event_id, a, b) -> float:
    cal = c.returns.index
    p0 = cal.get_loc(c.events.set_index("event_id").at[event_id, "day0"])
    r = c.returns[c.source].iloc[max(p0 + a, 0):p0 + b + 1]
    return float(np.prod(1 + r.to_numpy()) - 1) if r.notna().all() else np.nan


# --------------------------------------------------------------------------- connectedness
def _shade_crises(ax, c, last):
    shaded = False
    for r in c.crises.itertuples(index=False):
        if r.days <= 0:
            continue
        a, b = pd.Timestamp(r.start), min(pd.Timestamp(r.end), pd.Timestamp(last))
        if a <= b:
            ax.axvspan(a, b, color="#e3e3e3", zorder=0, label=None if shaded else "crisis windows (rule)")
            shaded = True


def dy_rolling_chart(c):
    tot = c.rolling["total"]
    ts = pd.Series(tot["total"].to_numpy(), index=pd.DatetimeIndex(tot["date"]))
    spans = {f"{r.crisis} crisis": (r.start, r.end) for r in c.crises.itertuples(index=False) if r.days > 0}
    spans["all windows"] = (ts.index[0], ts.index[-1])
    c.spans = sm.span_stats(ts, spans).set_index("span")
    fig, ax = style.figure()
    ax.plot(ts.index, 100 * ts.to_numpy(), color=style.INK, linewidth=1.5, label="total connectedness")
    ax.set_xlim(ts.index[0], ts.index[-1])
    _shade_crises(ax, c, ts.index[-1])
    ax.set_ylabel(f"Total connectedness, % ({c.p['dy_window']}-day windows)")
    mk = c.events[(c.events["day0"] >= ts.index[0]) & (c.events["day0"] <= ts.index[-1])]
    style.event_markers(ax, mk["day0"], mk["event_id"])
    style.date_axis(ax)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    crisis_rows = c.spans.drop(index="all windows")
    in_crisis = crisis_rows["mean"].mean() if len(crisis_rows) else np.nan
    cmp = ("" if not np.isfinite(in_crisis) else
           f"; windows ending in crisis windows average {fmt.pct(in_crisis, 1)} against {fmt.pct(ts.mean(), 1)} overall")
    nv = tot["n_vars"]
    return exhibits.figure(
        fig, title=(f"Total connectedness ranged from {fmt.pct(ts.min(), 1)} ({fmt.date(ts.idxmin())}) to "
                    f"{fmt.pct(ts.max(), 1)} ({fmt.date(ts.idxmax())}){cmp}"),
        source=f"{PRICE_LINE}; {EVENT_LINE} (dotted lines, labelled above the chart).",
        notes=(f"Each point covers the {c.p['dy_window']} trading days ending on its date, with every ticker that has a "
               f"return on each of them ({nv.min() if nv.min() == nv.max() else f'{nv.min()} to {nv.max()}'} tickers), VAR({c.p['dy_rolling_lags']}), generalized "
               f"FEVD at {c.p['dy_horizon']} days, rows normalised. Shaded: the crisis windows of the Forbes-Rigobon rule, "
               f"up to the last price. {len(ts)} windows."))


def dy_net_chart(c):
    s = c.static
    srt = s.net.sort_values()
    fig, ax = style.figure(figsize=(7.0, 3.6))
    colors = [style.INK if t == c.source else "#a6a6a6" for t in srt.index]
    ax.barh(range(len(srt)), 100 * srt.to_numpy(), color=colors, edgecolor=style.INK, linewidth=0.4, label="whole sample")
    if c.rolling is not None:
        ln = c.rolling["net"].iloc[-1].reindex(srt.index)
        ax.plot(100 * ln.to_numpy(), range(len(srt)), linestyle="none", marker="o", markersize=3.5,
                markerfacecolor="white", markeredgecolor=style.INK,
                label=f"latest {c.p['dy_window']}-day window (to {fmt.date(c.rolling['net'].index[-1])})")
    ax.set_yticks(range(len(srt)), srt.index, fontsize=6.5)
    ax.axvline(0, color=style.INK, linewidth=0.6)
    ax.grid(axis="x")
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("NET spillover (TO minus FROM), % of forecast-error variance")
    ax.legend(loc="lower right")
    net = s.net[c.source]
    return exhibits.figure(
        fig, title=(f"{c.source}'s net spillover is {_pct(net)} over {c.static_period}; {srt.index[-1]} transmits most "
                    f"({_pct(srt.iloc[-1])}), {srt.index[0]} receives most ({_pct(srt.iloc[0])})"),
        source=f"{PRICE_LINE}.",
        notes=(f"Bars: static Diebold-Yilmaz over {c.static_period} (all {len(srt)} tickers; the span ends where "
               f"{c.static_end_note or 'the data end'}). "
               + ("Dots: the latest rolling window; a ticker without a dot has no price data through it. "
                                          if c.rolling is not None else "")
               + ("SMH is an exchange-traded fund that holds several of the chip stocks here, so part of its transmission "
                  "restates theirs." if "SMH" in s.net.index else "")))


def dy_links_table(c):
    lk = c.links.rename(columns={"ticker": "Peer", "to_peer": f"{c.source} to peer", "from_peer": f"peer to {c.source}",
                                 "net": "Net (pairwise)"})
    f = {x: (lambda v: fmt.pct(v, 1)) for x in [f"{c.source} to peer", f"peer to {c.source}"]}
    f["Net (pairwise)"] = _pct
    return exhibits.table(
        lk, title=(f"{c.source} gives most to {c.links['ticker'].iloc[0]} (net {_pct(c.links['net'].iloc[0])}) and takes "
                   f"most from {c.links['ticker'].iloc[-1]} (net {_pct(c.links['net'].iloc[-1])}), {c.static_period}"),
        source=f"{PRICE_LINE}.", formats=f,
        notes=(f"{c.source} to peer: share of the peer's {c.p['dy_horizon']}-day forecast-error variance due to {c.source} "
               f"shocks (the {c.source} column of the spillover table); peer to {c.source}: share of {c.source}'s due to the "
               "peer (its row). Whole sample."))


# --------------------------------------------------------------------------- rolling betas
def beta_chart(c):
    rb = c.rb
    med = rb.groupby("date")["corr"].median()
    fig, ax = style.figure()
    ax.plot(med.index, med.to_numpy(), color=style.INK, linewidth=2.2, label=f"median of {len(c.peers)} peers")
    every = max(len(med) // 12, 1)
    ends = {"median": (mdates.date2num(med.index[-1]), float(med.iloc[-1]))}
    for k, t in enumerate(c.p["main_peers"]):
        s = rb[rb["ticker"] == t].set_index("date")["corr"].dropna()
        ax.plot(s.index, s.to_numpy(), color=_PEER_GREYS[k % 5], linestyle=style.DASHES[(k + 1) % 6], linewidth=0.9,
                marker=PEER_MARKERS[k % 6], markevery=every, markersize=3.2, markerfacecolor="white",
                markeredgewidth=0.8, label=t)
        if len(s):
            ends[t] = (mdates.date2num(s.index[-1]), float(s.iloc[-1]))
    ax.set_xlim(med.index[0], med.index[-1])
    _shade_crises(ax, c, med.index[-1])
    style.date_axis(ax)
    ax.set_ylabel(f"Correlation with {c.source}'s market residual")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4)
    _end_labels(ax, ends)
    last = med.iloc[-1]
    span = f"{fmt.num(med.min(), 2)} to {fmt.num(med.max(), 2)}"
    where = (f"its highest in the period (range {span})" if last >= med.max()
             else f"its lowest in the period (range {span})" if last <= med.min() else f"within a range of {span}")
    return exhibits.figure(
        fig, title=(f"The median peer's correlation with {c.source}'s own (market-residual) shocks was {fmt.num(last, 2)} "
                    f"on {fmt.date(med.index[-1])}, {where}"),
        source=f"{PRICE_LINE}.",
        notes=(f"Rolling {c.p['beta_window']}-day windows: correlation of each peer's and {c.source}'s residuals from a "
               f"regression on {c.market} (a partial correlation given the market). Shaded: crisis windows of the "
               "Forbes-Rigobon rule, up to the last price."))


def beta_table(c):
    snap, cols = c.snap, [k for k in c.snap_dates if k in set(c.snap["label"])]
    wide = snap.pivot(index="ticker", columns="label", values=["beta", "corr"]).reindex(c.peers)
    tbl = pd.DataFrame({"Peer": wide.index})
    for k in cols:
        tbl[f"beta, {k}"] = wide[("beta", k)].to_numpy()
        tbl[f"corr, {k}"] = wide[("corr", k)].to_numpy()
    lat = wide[("beta", "latest")]
    return exhibits.table(
        tbl, title=(f"On the latest window the highest beta to {c.source}'s own shocks is {lat.idxmax()} "
                    f"({fmt.num(lat.max(), 2)}), the lowest {lat.idxmin()} ({fmt.num(lat.min(), 2)})"),
        source=f"{PRICE_LINE}.", formats={k: (lambda v: fmt.num(v, 2)) for k in tbl.columns if k != "Peer"},
        notes=(f"beta: return of the peer per unit of {c.source}'s market-residual return in the {c.p['beta_window']} "
               "trading days ending on the window date (the last window on or before it). Window ends: "
               + ", ".join(f"{k} {fmt.date(snap[snap.label == k].date.dropna().max())}" for k in cols) + "."))
