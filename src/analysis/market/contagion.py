"""Contagion vs interdependence (Forbes & Rigobon 2002) and rolling residual betas.

Units: returns are simple returns as fractions; correlations and betas are unitless; windows
are sets of trading days (a DatetimeIndex, from `windows.crisis_windows`) or inclusive
(start, end) date pairs.

Reference: Forbes, K., Rigobon, R. (2002), "No Contagion, Only Interdependence: Measuring
Stock Market Comovements", J. Finance 57(5):2223-2261. The adjusted (heteroskedasticity-
corrected) crisis correlation is rho* = rho_c / sqrt(1 + delta (1 - rho_c^2)), with
delta = var_crisis(source)/var_tranquil(source) - 1; the paper uses 2-day returns. The
adjustment corrects for a *rise* in the source's variance (delta > 0); with delta <= 0 it is not
the Forbes-Rigobon setting and the verdict is "not applicable".

The test. The Fisher-z variance 1/(n_c - 3) belongs to a plain correlation, not to rho*, whose
sampling spread is smaller: a Fisher test of rho* is badly undersized. Here the statistic
T = atanh(rho*) - atanh(rho_tranquil) is referred to its distribution under the Forbes-Rigobon
null (the same slope and residual variance of peer on source in both windows; only the source's
variance differs), obtained by a residual bootstrap conditional on the source's returns: fit
y = a_window + b x + e on both windows, redraw e with replacement, recompute T. One-sided
p = (1 + #{T* >= T}) / (1 + B). `fr_rejection_rate` checks its size and power by simulation;
the peers' p-values are adjusted for multiplicity by Benjamini-Hochberg (1995), J. Royal
Statistical Society B 57(1):289-300 (statsmodels `multipletests`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ..verdicts import Verdict
from .returns import k_day_returns
from .windows import window_k_returns

VERDICTS = ("contagion", "interdependence", "no change")
NOT_APPLICABLE = "not applicable"


def fr_adjusted_correlation(rho: float, delta: float) -> float:
    """Forbes-Rigobon adjusted correlation rho / sqrt(1 + delta (1 - rho^2))."""
    return float(rho / np.sqrt(1.0 + delta * (1.0 - rho**2)))


def fisher_z_greater(r1: float, n1: int, r0: float, n0: int) -> tuple[float, float]:
    """One-sided test of H1: rho_1 > rho_0 for independent samples (Fisher z).

    z = (atanh r1 - atanh r0) / sqrt(1/(n1 - 3) + 1/(n0 - 3)); p = 1 - Phi(z).
    """
    if n1 <= 3 or n0 <= 3 or not (np.isfinite(r1) and np.isfinite(r0)):
        return np.nan, np.nan
    z = (np.arctanh(r1) - np.arctanh(r0)) / np.sqrt(1.0 / (n1 - 3) + 1.0 / (n0 - 3))
    return float(z), float(stats.norm.sf(z))


def _corr_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Correlation of x and y along the last axis (broadcasting)."""
    dx = x - x.mean(axis=-1, keepdims=True)
    dy = y - y.mean(axis=-1, keepdims=True)
    return (dx * dy).sum(axis=-1) / np.sqrt((dx * dx).sum(axis=-1) * (dy * dy).sum(axis=-1))


def _fr_stat(xt, yt, xc, yc):
    """(rho_t, rho_c, delta, rho_adj, T) along the last axis; T = atanh(rho_adj) - atanh(rho_t)."""
    rt, rc = _corr_rows(xt, yt), _corr_rows(xc, yc)
    delta = xc.var(axis=-1, ddof=1) / xt.var(axis=-1, ddof=1) - 1.0
    radj = rc / np.sqrt(1.0 + delta * (1.0 - rc**2))
    return rt, rc, delta, radj, np.arctanh(np.clip(radj, -0.999999, 0.999999)) - np.arctanh(np.clip(rt, -0.999999, 0.999999))


def fr_bootstrap_test(xt, yt, xc, yc, reps: int = 999, rng=None) -> dict:
    """Forbes-Rigobon adjusted-correlation test with a residual bootstrap (see the module docstring).

    xt, yt: source and peer k-day returns in the tranquil window; xc, yc: in the crisis window
    (1-D arrays, or stacks (..., n) to test many samples at once). Returns dict of arrays (scalars
    for 1-D input): rho_tranquil, rho_crisis, delta, rho_crisis_adj, stat (T), p (one-sided, rho* >
    rho_tranquil).
    """
    rng = np.random.default_rng(rng)
    xt, yt, xc, yc = (np.asarray(a, float) for a in (xt, yt, xc, yc))
    nt, nc = xt.shape[-1], xc.shape[-1]
    rt, rc, delta, radj, t_obs = _fr_stat(xt, yt, xc, yc)
    # null fit: common slope, window intercepts
    dxt, dxc = xt - xt.mean(-1, keepdims=True), xc - xc.mean(-1, keepdims=True)
    dyt, dyc = yt - yt.mean(-1, keepdims=True), yc - yc.mean(-1, keepdims=True)
    b = ((dxt * dyt).sum(-1) + (dxc * dyc).sum(-1)) / ((dxt**2).sum(-1) + (dxc**2).sum(-1))
    e = np.concatenate([dyt - b[..., None] * dxt, dyc - b[..., None] * dxc], axis=-1)
    idx = rng.integers(0, nt + nc, size=(*e.shape[:-1], reps, nt + nc))
    es = np.take_along_axis(e[..., None, :], idx, axis=-1)
    yts = b[..., None, None] * dxt[..., None, :] + es[..., :nt]
    ycs = b[..., None, None] * dxc[..., None, :] + es[..., nt:]
    *_, t_star = _fr_stat(xt[..., None, :], yts, xc[..., None, :], ycs)
    p = (1.0 + (t_star >= t_obs[..., None]).sum(-1)) / (reps + 1.0)
    out = {"rho_tranquil": rt, "rho_crisis": rc, "delta": delta, "rho_crisis_adj": radj, "stat": t_obs, "p": p}
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


def fr_rejection_rate(n_tranquil: int, n_crisis: int, rho: float = 0.5, variance_ratio: float = 9.0,
                      slope_factor: float = 1.0, reps: int = 400, boot: int = 199, alpha: float = 0.05,
                      seed: int = 0, chunk: int = 50) -> float:
    """Share of seeded simulated samples in which `fr_bootstrap_test` rejects (p <= `alpha`).

    Each sample: source x ~ N(0, 1) on n_tranquil periods and N(0, variance_ratio) on n_crisis;
    peer y = b x + e, e ~ N(0, 1), with b giving correlation `rho` in the tranquil window, and
    slope b * slope_factor in the crisis. slope_factor 1 gives the size (Forbes-Rigobon null:
    interdependence only), 2 the power against a doubling of the slope.
    """
    rng = np.random.default_rng(seed)
    b = rho / np.sqrt(1.0 - rho**2)
    hits = 0
    for start in range(0, reps, chunk):
        m = min(chunk, reps - start)
        xt = rng.normal(size=(m, n_tranquil))
        xc = rng.normal(scale=np.sqrt(variance_ratio), size=(m, n_crisis))
        yt = b * xt + rng.normal(size=(m, n_tranquil))
        yc = slope_factor * b * xc + rng.normal(size=(m, n_crisis))
        hits += int((fr_bootstrap_test(xt, yt, xc, yc, reps=boot, rng=rng)["p"] <= alpha).sum())
    return hits / reps


def _span(daily: pd.DataFrame, window, k: int) -> pd.DataFrame:
    if isinstance(window, pd.DatetimeIndex):
        return window_k_returns(daily, window, k)
    a, b = (pd.Timestamp(x) for x in window)
    return k_day_returns(daily.loc[a:b], k)


def forbes_rigobon(
    returns: pd.DataFrame,
    source: str = "CRWV",
    peers: list[str] | None = None,
    crisis=("2025-11-11", "2025-12-31"),
    tranquil=("2025-04-01", "2025-10-31"),
    k: int = 2,
    alpha: float = 0.05,
    reps: int = 999,
    seed: int = 0,
) -> pd.DataFrame:
    """Forbes-Rigobon test of each peer's correlation with `source`, crisis vs tranquil.

    returns: wide daily simple returns (calendar index). crisis, tranquil: DatetimeIndex of the
    windows' trading days (`windows.crisis_windows`) or (start, end) pairs. The daily returns
    are compounded into non-overlapping k-day returns (each stretch of consecutive days from its
    own first day); each peer uses the periods where both it and the source have a return, and
    delta uses the source's variance on those same periods.

    Columns: ticker, n_tranquil, n_crisis (k-day periods), rho_tranquil, rho_crisis, delta,
    rho_crisis_adj, z_unadj, p_unadj (one-sided Fisher z, crisis > tranquil, plain
    correlations), z_adj (T, the bootstrap statistic), p_adj (bootstrap, one-sided), q_unadj,
    q_adj (Benjamini-Hochberg across peers), verdict: "not applicable" when delta <= 0;
    else "contagion" if q_adj <= alpha; "interdependence" if only q_unadj <= alpha; else
    "no change". verdict_strict: "contagion" only when q_adj and q_unadj are both <= alpha.
    (p <= alpha: with B = 999 draws a bootstrap p takes the values k/1000.)
    """
    peers = [c for c in (peers or returns.columns) if c != source]
    cw = _span(returns[[source, *peers]], crisis, k)
    tw = _span(returns[[source, *peers]], tranquil, k)
    rng = np.random.default_rng(seed)
    rows, batches = [], {}
    for p in peers:
        c = cw[[source, p]].dropna()
        t = tw[[source, p]].dropna()
        rows.append({"ticker": p, "n_tranquil": len(t), "n_crisis": len(c)})
        if len(c) > 3 and len(t) > 3:
            batches.setdefault((len(t), len(c)), []).append((len(rows) - 1, t, c))
    for (nt, nc), items in batches.items():  # one vectorised bootstrap per sample size
        xt = np.stack([t[source].to_numpy() for _, t, _ in items])
        yt = np.stack([t.iloc[:, 1].to_numpy() for _, t, _ in items])
        xc = np.stack([c[source].to_numpy() for _, _, c in items])
        yc = np.stack([c.iloc[:, 1].to_numpy() for _, _, c in items])
        r = fr_bootstrap_test(xt, yt, xc, yc, reps=reps, rng=rng)
        for j, (i, _, _) in enumerate(items):
            zu, pu = fisher_z_greater(r["rho_crisis"][j], nc, r["rho_tranquil"][j], nt)
            rows[i].update(rho_tranquil=r["rho_tranquil"][j], rho_crisis=r["rho_crisis"][j], delta=r["delta"][j],
                           rho_crisis_adj=r["rho_crisis_adj"][j], z_unadj=zu, p_unadj=pu, z_adj=r["stat"][j],
                           p_adj=r["p"][j])
    cols = ["ticker", "n_tranquil", "n_crisis", "rho_tranquil", "rho_crisis", "delta", "rho_crisis_adj",
            "z_unadj", "p_unadj", "z_adj", "p_adj"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    out["q_unadj"], out["q_adj"] = _bh(out["p_unadj"], alpha), _bh(out["p_adj"], alpha)
    out["verdict"] = [_peer_verdict(d, qa, qu, alpha, strict=False) for d, qa, qu in zip(out["delta"], out["q_adj"], out["q_unadj"], strict=True)]
    out["verdict_strict"] = [_peer_verdict(d, qa, qu, alpha, strict=True) for d, qa, qu in zip(out["delta"], out["q_adj"], out["q_unadj"], strict=True)]
    return out


def _bh(p: pd.Series, alpha: float) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q) of the finite entries; NaN stays NaN."""
    p = np.asarray(p, float)
    q = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], alpha=alpha, method="fdr_bh")[1]
    return q


def _peer_verdict(delta, q_adj, q_unadj, alpha, strict):
    if not np.isfinite(q_adj):
        return None
    if not delta > 0:
        return NOT_APPLICABLE
    if q_adj <= alpha and (q_unadj <= alpha or not strict):
        return VERDICTS[0]
    if q_unadj <= alpha:
        return VERDICTS[1]
    return VERDICTS[2]


def crisis_answer(fr: pd.DataFrame) -> str:
    """One crisis's answer from its per-peer table: "not applicable" (delta <= 0), "contagion"
    (at least half the peers), "mixed" (some), "interdependence" (none, but some plain
    correlations rose), "no change"; "insufficient data" without tested peers."""
    v = fr["verdict"].dropna()
    if v.empty:
        return "insufficient data"
    if (v == NOT_APPLICABLE).all() or not float(np.nanmedian(fr["delta"])) > 0:
        return NOT_APPLICABLE
    n_c = int((v == "contagion").sum())
    if n_c >= len(v) / 2:
        return "contagion"
    if n_c:
        return "mixed"
    return "interdependence" if (v == "interdependence").any() else "no change"


_K_WORDS = {1: "one-day", 2: "two-day", 3: "three-day", 4: "four-day", 5: "five-day"}


def contagion_verdict(crises: pd.DataFrame, source: str, k: int = 2, alpha: float = 0.05,
                      rule: str = "") -> Verdict:
    """The answer to "contagion or interdependence?" over every crisis window the rule found.

    crises: one row per crisis with columns crisis, trigger, start, end, status ("ok" or a reason
    it was not tested), delta (median over peers), answer (`crisis_answer`), n_peers,
    n_contagion, n_interdependence. Tested crises that all give one answer give that answer;
    different answers give "mixed"; no tested crisis gives "insufficient data". rule: a short
    description of how the crisis windows were found. The sentence names every tested crisis's
    window and delta, and the peer counts the answer rests on.
    """
    tested = crises[crises["status"] == "ok"] if len(crises) else crises
    evidence = {"crises": int(len(tested)), "alpha": alpha}
    if tested.empty:
        recent = crises[crises["status"] == "too recent"] if len(crises) else crises
        if crises.empty:
            why = f"no {source} event has been followed by a fall of the size the rule needs"
            short = f"no {source} fall of the size the rule needs yet"
        elif len(recent):
            r = recent.iloc[-1]
            why = (f"the selling that began on {_d(r['day0'])} ({r['trigger']}, {source} {r['trigger_return']:+.1%} on "
                   f"day 0) is too recent: {int(r['days'])} trading days of its crisis window have traded")
            short = f"the selling from {_d(r['day0'])} is too recent, {int(r['days'])} trading days of its window"
        else:
            why = "the crisis windows the rule found have no tranquil window before them"
            short = "no crisis window has a tranquil window before it"
        return Verdict("contagion_or_interdependence", "insufficient data",
                       f"Insufficient data: contagion or interdependence cannot be tested yet, as {why}"
                       f"{' (' + rule + ')' if rule else ''}.", evidence, None, headline=short)
    answers = list(dict.fromkeys(tested["answer"]))
    answer = answers[0] if len(answers) == 1 else "mixed"
    for c in tested.itertuples(index=False):
        evidence[f"delta_{c.crisis}"] = float(c.delta)
        evidence[f"contagion_peers_{c.crisis}"] = int(c.n_contagion)

    def win(g):
        return ", ".join(f"{c.trigger}: {_d(c.start)} to {_d(c.end)}" for c in g.itertuples(index=False))

    def deltas(g):
        return ", ".join(f"{c.delta:+.2f}" for c in g.itertuples(index=False))

    parts = []
    for a in answers:
        g = tested[tested["answer"] == a]
        n = int(g["n_peers"].max())
        if a == NOT_APPLICABLE:
            parts.append(f"after {win(g)} {source} was calmer than in its tranquil window (delta {deltas(g)}), so the "
                         "adjustment for a rise in its volatility does not apply")
        elif a in ("contagion", "mixed"):
            parts.append(f"after {win(g)} (delta {deltas(g)}) {', '.join(str(int(x)) for x in g['n_contagion'])} of {n} "
                         f"peers' correlation with {source} rose beyond what its volatility explains")
        elif a == "interdependence":
            parts.append(f"after {win(g)} (delta {deltas(g)}) no peer's correlation with {source} rose beyond what its "
                         f"volatility explains, though {', '.join(str(int(x)) for x in g['n_interdependence'])} of {n} "
                         "plain correlations rose (interdependence)")
        else:
            parts.append(f"after {win(g)} (delta {deltas(g)}) no peer's correlation with {source} rose significantly")
    lead = {NOT_APPLICABLE: "Not applicable (source calmer in the crisis)", "contagion": "Contagion",
            "interdependence": "Interdependence, not contagion", "no change": "No change in co-movement",
            "mixed": "Mixed"}[answer]
    how = (f"bootstrap Forbes-Rigobon test on {_K_WORDS.get(k, f'{k}-day')} returns, Benjamini-Hochberg across the "
           f"peers at {alpha:.0%}")
    sentence = (f"{lead}: over {len(tested)} crisis window{'s' if len(tested) != 1 else ''} "
                f"({rule + '; ' if rule else ''}{how}), " + "; ".join(parts) + ".")
    period = f"{_d(tested['start'].min())} to {_d(tested['end'].max())}"
    return Verdict("contagion_or_interdependence", answer, sentence, evidence, period,
                   headline=_contagion_headline(tested, answers, source, period))


def _contagion_headline(tested: pd.DataFrame, answers: list, source: str, period: str) -> str:
    """The verdict's headline: with one answer, its peer counts over the whole period; with
    several, each answer with the start dates of its windows, or their number where dates would
    make it too long, or only the number of windows of each answer. More than two values of a
    kind are given as their range."""
    from ..verdicts import HEADLINE_MAX_WORDS

    def listed(values, form=lambda x: str(int(x))):
        """Up to two values listed, more as their range ('-0.38 to -0.14')."""
        v = sorted(values) if len(values) > 2 else list(values)
        return ", ".join(form(x) for x in v) if len(v) <= 2 else f"{form(v[0])} to {form(v[-1])}"

    def delta(g):
        return listed(list(g["delta"]), lambda x: f"{x:+.2f}")

    n = int(tested["n_peers"].max())
    w = f"{len(tested)} crisis window{'s' if len(tested) != 1 else ''}"
    if len(answers) == 1:
        a = answers[0]
        if a == NOT_APPLICABLE:
            one = len(tested) == 1
            return (f"{source} calmer in the {'crisis window' if one else w} than before {'it' if one else 'them'}, "
                    f"delta {delta(tested)} ({period})")
        if a in ("contagion", "mixed"):
            return (f"{listed(list(tested['n_contagion']))} of {n} peers' correlation with {source} rose beyond its "
                    f"volatility ({w}, {period})")
        if a == "interdependence":
            return (f"no peer's correlation rose beyond {source}'s volatility (delta {delta(tested)}); "
                    f"{listed(list(tested['n_interdependence']))} of {n} plain correlations rose ({period})")
        return f"no peer's correlation with {source} rose significantly ({w}, {period})"

    def peers(g):
        return listed(list(g["n_contagion"]))

    def part(a, g, dates, first):
        what = {"contagion": f"contagion for {peers(g)} of {n} peers", "mixed": f"contagion for {peers(g)} of {n} peers",
                "interdependence": "interdependence", NOT_APPLICABLE: f"{source} calmer"}.get(a, "no change")
        if not dates:
            return f"{what} in {len(g)} window{'s' if len(g) != 1 else ''}"
        starts = [_d(x) for x in g["start"]]
        label = f"crisis window{'s' if len(starts) != 1 else ''} " if first else ""
        return f"{what} ({label}from {' and '.join([', '.join(starts[:-1]), starts[-1]] if len(starts) > 1 else starts)})"

    for dates in (True, False):
        head = "; ".join(part(a, tested[tested["answer"] == a], dates, i == 0) for i, a in enumerate(answers))
        head += "" if dates else f" ({w})"
        if len(head.split()) <= HEADLINE_MAX_WORDS:
            return head
    # the shortest form: each answer with its number of windows
    names = {"mixed": "some contagion", NOT_APPLICABLE: f"{source} calmer"}
    return ", ".join(f"{names.get(a, a)} in {int((tested['answer'] == a).sum())}" for a in answers) + f" of {w}"


def _d(x) -> str:
    return pd.Timestamp(x).date().isoformat()


def rolling_residual_beta(
    returns: pd.DataFrame,
    source: str = "CRWV",
    market: str = "SPY",
    peers: list[str] | None = None,
    window: int = 60,
) -> pd.DataFrame:
    """Rolling beta and correlation of each peer to the source's market-residual return.

    In each window of `window` consecutive trading days (all three series complete, else NaN)
    the source's residual e = R_s - a - b R_m is taken from the window's own OLS on the market.
    beta = cov(R_i, e) / var(e) (= the source coefficient in OLS of R_i on [1, R_m, R_s], by
    Frisch-Waugh-Lovell); corr = correlation of the peer's and the source's market residuals
    (partial correlation given the market). Computed from rolling covariances.

    Returns long columns: date (window end), ticker, beta, corr.
    """
    peers = [c for c in (peers or returns.columns) if c not in (source, market)]
    s, m = returns[source], returns[market]

    def rc(a, b):
        return a.rolling(window, min_periods=window).cov(b)

    v_m = rc(m, m)
    c_sm = rc(s, m)
    v_e = rc(s, s) - c_sm**2 / v_m
    out = []
    for p in peers:
        x = returns[p]
        c_xs, c_xm, v_x = rc(x, s), rc(x, m), rc(x, x)
        cov_xe = c_xs - c_xm * c_sm / v_m
        beta = cov_xe / v_e
        v_ex = v_x - c_xm**2 / v_m
        corr = cov_xe / np.sqrt(v_ex * v_e)
        out.append(pd.DataFrame({"date": returns.index, "ticker": p,
                                 "beta": beta.to_numpy(), "corr": corr.to_numpy()}))
    res = pd.concat(out, ignore_index=True)
    return res.dropna(subset=["beta"]).reset_index(drop=True)
