"""Pooling event-study results across events: do the source's own shocks move the peers?

Only events that enter pooled statistics are used (`in_pooled`: pooled confidence and one event
per cluster of overlapping events, `windows.pooled_representatives`), so no return day is counted
twice. Each event's shock is signed by the source's own CAR in the window (its direction: good or
bad news for the source), and the peers' statistics are aligned with it: under "no spill-over"
the aligned statistics are centred on zero whatever the news.

Units: CARs are fractions; statistics are z or t values; p-values one-sided (peers move in the
source's direction) unless said otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ..verdicts import Verdict
from .event_study import MIN_POOLED_EVENTS


def source_events(car_table: pd.DataFrame, events: pd.DataFrame, source: str, window: str) -> pd.DataFrame:
    """The pooled events that came from `source`, with the sign of its own CAR in `window`.

    Columns: event_id, day0, source_car, sign (+1/-1; events with no source CAR are dropped:
    `attrs["dropped"]` lists them, e.g. an IPO day with no previous close).
    """
    ct = car_table[(car_table["window"] == window) & (car_table["ticker"] == source)]
    pooled = ct[ct["in_pooled"].astype(bool)]
    ids = set(events.loc[events["origin"] == source, "event_id"])
    s = pooled[pooled["event_id"].isin(ids)][["event_id", "day0", "car"]].rename(columns={"car": "source_car"})
    dropped = s.loc[~np.isfinite(s["source_car"].astype(float)), "event_id"].tolist()
    s = s[np.isfinite(s["source_car"].astype(float))].copy()
    s["sign"] = np.where(s["source_car"] >= 0, 1, -1)
    s = s.reset_index(drop=True)
    s.attrs["dropped"] = dropped
    return s


def aligned_group_test(by_event: pd.DataFrame, src: pd.DataFrame, window: str) -> dict:
    """Stouffer z of the events' Kolari-Pynnonen t, each signed by the source's move.

    Returns n_events, z, p (one-sided: the peers move with the source), mean_aligned_car (mean
    over events of sign x peers' mean CAR), and the unsigned z for comparison.
    """
    kp = by_event[(by_event["window"] == window) & (by_event["test"] == "kolari_pynnonen")].set_index("event_id")
    s = src.set_index("event_id")["sign"]
    t = kp["statistic"].reindex(s.index).astype(float)
    ok = np.isfinite(t)
    n = int(ok.sum())
    if n == 0:
        return {"n_events": 0, "z": np.nan, "p": np.nan, "mean_aligned_car": np.nan, "z_unsigned": np.nan}
    z = float((s[ok] * t[ok]).sum() / np.sqrt(n))
    car = kp["mean_car"].reindex(s.index).astype(float)
    return {"n_events": n, "z": z, "p": float(stats.norm.sf(z)),
            "mean_aligned_car": float((s[ok] * car[ok]).mean()), "z_unsigned": float(t[ok].sum() / np.sqrt(n))}


def aligned_peer_tests(car_table: pd.DataFrame, src: pd.DataFrame, peers: list[str], window: str,
                       alpha: float = 0.05, column: str = "t_stat") -> pd.DataFrame:
    """Per peer: does it move with the source across the source's pooled events?

    z_i = sum_e sign_e SCAR_ie / sqrt(sum_e df_ie/(df_ie - 2)) (Patell's variance of a
    standardised CAR; `column` "t_stat" = market model), one-sided p, Benjamini-Hochberg q across
    the peers, significant = q <= alpha. Columns: ticker, n_events, mean_aligned_car, z, p, q,
    significant.
    """
    ct = car_table[(car_table["window"] == window) & car_table["event_id"].isin(src["event_id"])
                   & car_table["ticker"].isin(peers)]
    sign = src.set_index("event_id")["sign"]
    rows = []
    for t in peers:
        g = ct[ct["ticker"] == t]
        sc = g[column].astype(float).to_numpy()
        df = np.where(g["model"] == "market_adjusted", g["n_est"] - 1, g["n_est"] - 2).astype(float)
        sg = sign.reindex(g["event_id"]).to_numpy(float)
        ok = np.isfinite(sc) & (df > 2)
        n = int(ok.sum())
        z = float((sg[ok] * sc[ok]).sum() / np.sqrt((df[ok] / (df[ok] - 2)).sum())) if n else np.nan
        car = g["car"].astype(float).to_numpy()
        rows.append({"ticker": t, "n_events": n, "mean_aligned_car": float(np.mean(sg[ok] * car[ok])) if n else np.nan,
                     "z": z, "p": float(stats.norm.sf(z)) if n else np.nan})
    out = pd.DataFrame(rows, columns=["ticker", "n_events", "mean_aligned_car", "z", "p"])
    q = np.full(len(out), np.nan)
    ok = np.isfinite(out["p"].to_numpy(float))
    if ok.any():
        q[ok] = multipletests(out.loc[ok, "p"].to_numpy(float), alpha=alpha, method="fdr_bh")[1]
    out["q"] = q
    out["significant"] = out["q"] <= alpha
    return out


def power_inputs(car_table: pd.DataFrame, by_event: pd.DataFrame, src: pd.DataFrame, peers: list[str],
                 window: str) -> pd.DataFrame:
    """The design of the aligned group test at the note's events, for `aligned_group_power`.

    One row per pooled source event with a Kolari-Pynnonen statistic: event_id, source_move
    (|source CAR| in `window`, fraction), rbar (the event's average cross-correlation of the
    peers' estimation-period abnormal returns), sd_car (array: each peer's sd of its CAR in
    `window`, fraction; peers without one left out).
    """
    kp = by_event[(by_event["window"] == window) & (by_event["test"] == "kolari_pynnonen")].set_index("event_id")
    ct = car_table[(car_table["window"] == window) & car_table["ticker"].isin(peers)]
    rows = []
    for e, move in zip(src["event_id"], src["source_car"].astype(float), strict=True):
        if e not in kp.index or not np.isfinite(float(kp.at[e, "statistic"])):
            continue
        sd = ct.loc[ct["event_id"] == e, "sd_car"].to_numpy(float)
        sd = sd[np.isfinite(sd) & (sd > 0)]
        if len(sd) >= 2:
            rows.append({"event_id": e, "source_move": abs(move), "rbar": float(kp.at[e, "rbar"]), "sd_car": sd})
    return pd.DataFrame(rows, columns=["event_id", "source_move", "rbar", "sd_car"])


def aligned_group_power(design: pd.DataFrame, share: float, alpha: float = 0.05, reps: int = 2000,
                        seed: int = 0) -> float:
    """Share of seeded simulated samples in which the aligned group test rejects (p <= `alpha`).

    `design`: `power_inputs` (the note's events, peers, CAR spreads and cross-correlations). In
    each sample and event every peer's standardised CAR is share x source_move / sd_car (the
    peers take `share` of the source's move, in its direction) plus equicorrelated standard
    normal noise with correlation rbar (the Kolari-Pynnonen setting); each event's BMP t is
    adjusted by sqrt((1 - rbar)/(1 + (N - 1) rbar)) (`event_study.kolari_pynnonen_t`) and the
    events are combined as in `aligned_group_test` (Stouffer z, one-sided normal p). share 0
    gives the test's size, share > 0 its power against that spill-over. NaN without events.
    """
    if design.empty:
        return np.nan
    rng = np.random.default_rng(seed)
    t_sum = np.zeros(reps)
    for r in design.itertuples(index=False):
        n = len(r.sd_car)
        rb = min(max(float(r.rbar), 0.0), 0.999) if np.isfinite(r.rbar) else 0.0
        shift = share * r.source_move / r.sd_car
        scar = shift + np.sqrt(rb) * rng.normal(size=(reps, 1)) + np.sqrt(1.0 - rb) * rng.normal(size=(reps, n))
        t = scar.mean(axis=1) / (scar.std(axis=1, ddof=1) / np.sqrt(n))
        t_sum += t * np.sqrt((1 - r.rbar) / (1 + (n - 1) * r.rbar))
    return float(np.mean(stats.norm.sf(t_sum / np.sqrt(len(design))) <= alpha))


def peers_verdict(group: dict, peer_tests: pd.DataFrame, src: pd.DataFrame, source: str, window: str,
                  alpha: float = 0.05, min_events: int = MIN_POOLED_EVENTS, power: float = np.nan,
                  min_power: float = 0.8, effect: str = "") -> Verdict:
    """Do the source's shocks move the peers? From the aligned group test and the per-peer tests.

    "yes": the group test rejects (p <= alpha) and at least one peer is significant after
    Benjamini-Hochberg; "no": neither, and the group test had at least `min_power` power
    (`aligned_group_power`) against the spill-over `effect` describes ("peers that take a tenth
    of CRWV's move"); "not shown": neither, but with less power than that, so no rejection is
    absence of evidence, not evidence of absence; "mixed": one without the other; "insufficient
    data": fewer than `min_events` pooled source events. `power` NaN: not checked (no "not shown").
    """
    n = int(group["n_events"])
    n_sig, n_peers = int(peer_tests["significant"].sum()), int(peer_tests["q"].notna().sum())
    ev = {"events": n, "z": group["z"], "p": group["p"], "mean_aligned_car": group["mean_aligned_car"],
          "peers_significant_bh": n_sig, "peers_tested": n_peers, "alpha": alpha, "window": window,
          "power": power, "min_power": min_power}
    if n < min_events:
        return Verdict("peers_move_on_crwv_shocks", "insufficient data",
                       f"Insufficient data: only {n} pooled {source} event{'s' if n != 1 else ''} with a {source} "
                       f"return in the {window} window (at least {min_events} needed to pool).", ev, None,
                       headline=f"only {n} pooled {source} event{'s' if n != 1 else ''}, at least {min_events} needed")
    period = f"{_d(src['day0'].min())} to {_d(src['day0'].max())}"
    group_sig = group["p"] <= alpha
    answer = "yes" if group_sig and n_sig else ("no" if not group_sig and not n_sig else "mixed")
    weak = answer == "no" and np.isfinite(power) and power < min_power
    if weak:
        answer = "not shown"
    lead = {"yes": "Yes", "no": "No", "mixed": "Mixed", "not shown": "Not shown"}[answer]
    sentence = (f"{lead}: over {n} {source} event{'s' if n != 1 else ''} from {period} (one per cluster of overlapping "
                f"events), the peers' {window} abnormal returns signed by {source}'s own move give a Kolari-Pynnonen "
                f"Stouffer z of {group['z']:.2f} (one-sided p {group['p']:.3f}; mean peer CAR "
                f"{100 * group['mean_aligned_car']:+.1f}% in {source}'s direction), and {n_sig} of {n_peers} peers move "
                f"with {source} at {alpha:.0%} after Benjamini-Hochberg.")
    if np.isfinite(power):
        sentence += (f" With these {n} events the group test would detect {effect or 'the spill-over simulated'} in "
                     f"{power:.0%} of seeded simulated samples (its power)")
        sentence += (f", short of the {min_power:.0%} that would let no rejection stand for no effect: too few events "
                     "to tell, which is not evidence that the peers do not move." if weak else ".")
    if weak:
        headline = (f"too few events (power {power:.0%}): pooled z {group['z']:.2f}, p {group['p']:.3f} over {n} "
                    f"events ({period}); {n_sig} of {n_peers} peers move")
    else:
        headline = (f"{n_sig} of {n_peers} peers move with {source} after Benjamini-Hochberg; pooled z {group['z']:.2f}, "
                    f"p {group['p']:.3f} over {n} events ({period})")
    return Verdict("peers_move_on_crwv_shocks", answer, sentence, ev, period, headline=headline)


def _d(x) -> str:
    return pd.Timestamp(x).date().isoformat()
