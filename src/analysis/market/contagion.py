"""Contagion vs interdependence (Forbes & Rigobon 2002) and rolling residual betas.

Units: returns are simple returns as fractions; correlations and betas are unitless; windows
are inclusive ISO date pairs (start, end).

Reference: Forbes, K., Rigobon, R. (2002), "No Contagion, Only Interdependence: Measuring
Stock Market Comovements", J. Finance 57(5):2223-2261. The adjusted (heteroskedasticity-
corrected) crisis correlation is rho* = rho_c / sqrt(1 + delta (1 - rho_c^2)), with
delta = var_crisis(source)/var_tranquil(source) - 1; the paper uses 2-day returns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .returns import k_day_returns

VERDICTS = ("contagion", "interdependence", "no change")


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


def _window(daily: pd.DataFrame, span, k: int) -> pd.DataFrame:
    a, b = (pd.Timestamp(x) for x in span)
    return k_day_returns(daily.loc[a:b], k)


def forbes_rigobon(
    returns: pd.DataFrame,
    source: str = "CRWV",
    peers: list[str] | None = None,
    crisis=("2025-11-11", "2025-12-31"),
    tranquil=("2025-04-01", "2025-10-31"),
    k: int = 2,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Forbes-Rigobon test of each peer's correlation with `source`, crisis vs tranquil.

    returns: wide daily simple returns (calendar index). Within each window the daily returns
    are compounded into non-overlapping k-day returns anchored at the window's first trading
    day (`k_day_returns`); each peer uses the k-day periods where both it and the source have
    a return (pairwise complete), and delta uses the source's variance on those same periods.

    Columns: ticker, n_tranquil, n_crisis (k-day periods), rho_tranquil, rho_crisis, delta,
    rho_crisis_adj, z_unadj, p_unadj, z_adj, p_adj (one-sided, crisis > tranquil), verdict:
    "contagion" if p_adj < alpha; else "interdependence" if p_unadj < alpha (the rise in
    correlation is explained by the source's higher variance); else "no change".
    """
    peers = [c for c in (peers or returns.columns) if c != source]
    cw = _window(returns[[source, *peers]], crisis, k)
    tw = _window(returns[[source, *peers]], tranquil, k)
    rows = []
    for p in peers:
        c = cw[[source, p]].dropna()
        t = tw[[source, p]].dropna()
        nc, nt = len(c), len(t)
        rc = float(c[source].corr(c[p])) if nc > 2 else np.nan
        rt = float(t[source].corr(t[p])) if nt > 2 else np.nan
        delta = float(c[source].var(ddof=1) / t[source].var(ddof=1) - 1) if nc > 2 and nt > 2 else np.nan
        radj = fr_adjusted_correlation(rc, delta) if np.isfinite(rc) and np.isfinite(delta) else np.nan
        zu, pu = fisher_z_greater(rc, nc, rt, nt)
        za, pa = fisher_z_greater(radj, nc, rt, nt)
        if np.isfinite(pa) and pa < alpha:
            verdict = "contagion"
        elif np.isfinite(pu) and pu < alpha:
            verdict = "interdependence"
        elif np.isfinite(pa):
            verdict = "no change"
        else:
            verdict = None
        rows.append(
            {"ticker": p, "n_tranquil": nt, "n_crisis": nc, "rho_tranquil": rt,
             "rho_crisis": rc, "delta": delta, "rho_crisis_adj": radj, "z_unadj": zu,
             "p_unadj": pu, "z_adj": za, "p_adj": pa, "verdict": verdict}
        )
    return pd.DataFrame(rows)


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
