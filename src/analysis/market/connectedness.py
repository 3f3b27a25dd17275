"""Diebold-Yilmaz (2012) connectedness from a VAR with the generalized FEVD.

Units: spillover shares are fractions of the H-step forecast-error variance (multiply by 100
for the paper's percent); returns fed to the VAR are daily simple returns (fractions).

References
- Diebold, F., Yilmaz, K. (2012), "Better to give than to receive: Predictive directional
  measurement of volatility spillovers", Int. J. Forecasting 28(1):57-66.
- Pesaran, M. H., Shin, Y. (1998), "Generalized impulse response analysis in linear
  multivariate models", Economics Letters 58:17-29.

theta_ij(H) = sigma_jj^-1 sum_{h<H} (e_i' Phi_h Sigma e_j)^2 / sum_{h<H} e_i' Phi_h Sigma Phi_h' e_i,
rows then divided by their sums. Spillover-table convention (DY 2012 Table 2, R package
`Spillover`): FROM_i = sum_{j!=i} theta_ij, TO_j = sum_{i!=j} theta_ij, NET = TO - FROM,
total = sum_{i!=j} theta_ij / N (= mean FROM = mean TO); pairwise net_ij = theta_ji - theta_ij
(positive: i transmits more to j than it receives). Phi_0..Phi_{H-1} are used, as statsmodels'
`fevd(periods=H)` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from statsmodels.tsa.api import VAR

from ..verdicts import Verdict


# --------------------------------------------------------------------------- core algebra
def ma_coefficients(coefs: np.ndarray, horizon: int) -> np.ndarray:
    """MA matrices Phi_0..Phi_{horizon-1} of a VAR with lag matrices `coefs` (..., p, k, k).

    Phi_0 = I, Phi_h = sum_{j=1}^{min(h,p)} Phi_{h-j} A_j (statsmodels `ma_rep` recursion).
    Returns (..., horizon, k, k); works on stacks of VARs.
    """
    coefs = np.asarray(coefs, float)
    *batch, p, k, _ = coefs.shape
    phi = np.zeros((*batch, horizon, k, k))
    phi[..., 0, :, :] = np.eye(k)
    for h in range(1, horizon):
        acc = np.zeros((*batch, k, k))
        for j in range(1, min(h, p) + 1):
            acc += phi[..., h - j, :, :] @ coefs[..., j - 1, :, :]
        phi[..., h, :, :] = acc
    return phi


def generalized_fevd(phi: np.ndarray, sigma: np.ndarray, normalize: bool = True) -> np.ndarray:
    """Generalized FEVD (Pesaran-Shin) from MA matrices (..., H, k, k) and Sigma (..., k, k).

    Entry [i, j]: share of variable i's H-step forecast-error variance due to shocks in j.
    With normalize, rows sum to 1 (Diebold-Yilmaz 2012). Invariant to the scale of Sigma.
    """
    phi = np.asarray(phi, float)
    sigma = np.asarray(sigma, float)
    a = np.einsum("...hij,...jl->...hil", phi, sigma)  # Phi_h Sigma
    diag = np.diagonal(sigma, axis1=-2, axis2=-1)  # (..., k)
    num = np.einsum("...hij,...hij->...ij", a, a) / diag[..., None, :]
    den = np.einsum("...hij,...hij->...i", a, phi)  # (Phi Sigma Phi')_ii summed over h
    theta = num / den[..., :, None]
    if normalize:
        theta = theta / theta.sum(axis=-1, keepdims=True)
    return theta


def spillover_measures(theta: np.ndarray, names: list[str]) -> dict:
    """Total, TO, FROM, NET and pairwise-net spillovers from a row-normalised theta (k, k).

    Returns dict: table (DataFrame theta, rows receive/columns give), total (float),
    to / from_ / net (Series by name), pairwise_net (DataFrame, [i, j] = theta_ji - theta_ij).
    """
    th = np.asarray(theta, float)
    k = th.shape[0]
    off = th - np.diag(np.diag(th))
    frm = off.sum(axis=1)
    to = off.sum(axis=0)
    return {
        "table": pd.DataFrame(th, index=names, columns=names),
        "total": float(off.sum() / k),
        "to": pd.Series(to, index=names, name="to"),
        "from_": pd.Series(frm, index=names, name="from"),
        "net": pd.Series(to - frm, index=names, name="net"),
        "pairwise_net": pd.DataFrame(th.T - th, index=names, columns=names),
    }


# --------------------------------------------------------------------------- static
@dataclass
class DYResult:
    """Static Diebold-Yilmaz result. lags: VAR order used; nobs: effective observations."""

    table: pd.DataFrame
    total: float
    to: pd.Series
    from_: pd.Series
    net: pd.Series
    pairwise_net: pd.DataFrame
    lags: int
    nobs: int
    start: pd.Timestamp
    end: pd.Timestamp


def _check_complete(data: pd.DataFrame) -> None:
    bad = data.columns[data.isna().any()].tolist()
    if bad:
        raise ValueError(f"VAR input has missing values in {bad}; select a complete span "
                         "(missing days are never filled)")


def dy_static(
    returns: pd.DataFrame,
    horizon: int = 10,
    max_lags: int = 4,
    ic: str = "aic",
    lags: int | None = None,
) -> DYResult:
    """Diebold-Yilmaz spillovers over the whole of `returns` (dates x tickers, no NaN).

    VAR with constant by statsmodels; lag order chosen by `ic` ("aic", "bic", "hqic", "fpe")
    up to `max_lags` unless `lags` is given (at least 1).
    """
    _check_complete(returns)
    model = VAR(returns.to_numpy(float))
    res = model.fit(lags) if lags else model.fit(maxlags=max_lags, ic=ic, trend="c")
    if res.k_ar == 0:
        res = model.fit(1)
    theta = generalized_fevd(res.ma_rep(horizon - 1), res.sigma_u)
    m = spillover_measures(theta, list(returns.columns))
    return DYResult(m["table"], m["total"], m["to"], m["from_"], m["net"], m["pairwise_net"],
                    res.k_ar, res.nobs, returns.index[0], returns.index[-1])


# --------------------------------------------------------------------------- rolling
def lag_matrix(y: np.ndarray, p: int) -> np.ndarray:
    """Regressors [1, y_{t-1}, ..., y_{t-p}] for targets t = p..T-1 (statsmodels' layout)."""
    t = y.shape[0]
    return np.hstack([np.ones((t - p, 1))] + [y[p - j : t - j] for j in range(1, p + 1)])


def rolling_var_ols(y: np.ndarray, p: int, window: int):
    """OLS VAR(p) with constant on every window of `window` consecutive rows of y (T, k).

    A window holds `window` rows, the first p being presample (so it equals statsmodels
    `VAR(y[s:s+window]).fit(p)`). The lag matrix is built once; all windows are solved at once
    with a batched QR. Returns intercept (W, k), coefs (W, p, k, k), sigma_u (W, k, k) with
    statsmodels' degrees of freedom (n - 1 - k p), for W = T - window + 1 windows.
    """
    y = np.asarray(y, float)
    t, k = y.shape
    n = window - p
    m = 1 + k * p
    if n - m <= 0:
        raise ValueError(f"window {window} too short for a VAR({p}) in {k} variables")
    z = lag_matrix(y, p)
    yy = y[p:]
    zw = np.swapaxes(sliding_window_view(z, n, axis=0), 1, 2)  # (W, n, m)
    yw = np.swapaxes(sliding_window_view(yy, n, axis=0), 1, 2)  # (W, n, k)
    q, r = np.linalg.qr(zw)
    beta = np.linalg.solve(r, np.swapaxes(q, 1, 2) @ yw)  # (W, m, k)
    resid = yw - zw @ beta
    sigma = np.swapaxes(resid, 1, 2) @ resid / (n - m)
    intercept = beta[:, 0, :]
    coefs = beta[:, 1:, :].reshape(-1, p, k, k).swapaxes(2, 3)  # A_j[i, l] = beta[1+j*k+l, i]
    return intercept, coefs, sigma


def dy_rolling(
    returns: pd.DataFrame,
    window: int = 120,
    horizon: int = 10,
    lags: int = 1,
    min_share: float = 0.9,
    require: tuple[str, ...] = (),
) -> dict[str, pd.DataFrame]:
    """Rolling Diebold-Yilmaz connectedness over windows of `window` trading days.

    Ticker policy: each window uses the tickers whose returns are complete in that window
    (a ticker that stops, like CORZ after 2026-05-29, leaves the later windows; `n_vars` says
    how many were used). A window is skipped when fewer than `min_share` of the columns, or any
    ticker in `require`, is complete in it. The lag order is fixed (`lags`, default 1: with ~21
    variables a 120-day window leaves 98 residual degrees of freedom at p = 1, 76 at p = 2).

    Returns dict of DataFrames: "total" (date, total, n_vars), and "to", "from", "net"
    (date index x ticker, NaN where a ticker was not in the window). date = window end.
    """
    cols = list(returns.columns)
    x = returns.to_numpy(float)
    t = len(returns)
    if t < window:
        raise ValueError("fewer rows than the window")
    ends = np.arange(window - 1, t)
    # completeness of each column in each window via cumulative NaN counts
    nan_cum = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(np.isnan(x), axis=0)])
    complete = (nan_cum[ends + 1] - nan_cum[ends + 1 - window]) == 0  # (W, k)
    need = [cols.index(c) for c in require]
    keep = (complete.sum(axis=1) >= min_share * len(cols)) & complete[:, need].all(axis=1)
    # group consecutive kept windows with the same ticker set
    keys = [tuple(np.flatnonzero(row)) if kp else None for row, kp in zip(complete, keep, strict=True)]
    totals, to_rows, from_rows, net_rows = [], [], [], []
    i = 0
    while i < len(ends):
        if keys[i] is None:
            i += 1
            continue
        j = i
        while j + 1 < len(ends) and keys[j + 1] == keys[i]:
            j += 1
        sel = list(keys[i])
        y = x[ends[i] - window + 1 : ends[j] + 1][:, sel]
        _, coefs, sigma = rolling_var_ols(y, lags, window)
        theta = generalized_fevd(ma_coefficients(coefs, horizon), sigma)
        off = theta * (1 - np.eye(len(sel)))
        frm, to = off.sum(axis=2), off.sum(axis=1)
        dates = returns.index[ends[i] : ends[j] + 1]
        names = [cols[c] for c in sel]
        totals.append(pd.DataFrame({"date": dates, "total": off.sum(axis=(1, 2)) / len(sel),
                                    "n_vars": len(sel)}))
        to_rows.append(pd.DataFrame(to, index=dates, columns=names))
        from_rows.append(pd.DataFrame(frm, index=dates, columns=names))
        net_rows.append(pd.DataFrame(to - frm, index=dates, columns=names))
        i = j + 1
    if not totals:
        raise ValueError("no window has enough complete tickers")

    def cat(parts):
        return pd.concat(parts).reindex(columns=cols).rename_axis("date")

    return {"total": pd.concat(totals, ignore_index=True), "to": cat(to_rows),
            "from": cat(from_rows), "net": cat(net_rows)}


# --------------------------------------------------------------------------- verdict
def transmitter_verdict(static_net: float, static_period: str, rolling_net: pd.Series, source: str,
                        latest_windows: int = 20, window_days: int = 120, end_note: str = "") -> Verdict:
    """Is `source` a net transmitter of shocks? Only when the whole sample and the latest windows agree.

    static_net: the source's NET spillover (fraction) over `static_period` (e.g. "2025-03-31 to
    2026-05-29"); rolling_net: its NET in each rolling window, indexed by window end date (NaN
    where it was not in the window). "transmitter" (or "receiver") when the whole-sample NET and
    every one of the last `latest_windows` rolling windows have the same sign; otherwise "mixed",
    with both numbers; "insufficient data" without a whole-sample figure or a rolling window.
    end_note: why the whole sample ends where it does, when that is before the source's last
    return (e.g. "CORZ's price data end"): said in the sentence and, shortly, in the headline.
    """
    why = f"; it ends where {end_note}" if end_note else ""
    per = f"{static_period}, where {end_note}" if end_note else static_period
    r = rolling_net.dropna()
    tail = r.iloc[-latest_windows:]
    ev = {"static_net": static_net, "latest_net": float(tail.iloc[-1]) if len(tail) else np.nan,
          "latest_windows": int(len(tail)), "latest_positive": int((tail > 0).sum())}
    if not np.isfinite(static_net) or tail.empty:
        have = (f"the whole-sample NET is {100 * static_net:+.1f}% ({static_period})" if np.isfinite(static_net)
                else "there is no whole-sample estimate")
        short = (f"whole-sample net spillover {100 * static_net:+.1f}% ({static_period})" if np.isfinite(static_net)
                 else "no whole-sample estimate")
        return Verdict("crwv_transmitter", "insufficient data",
                       f"Insufficient data: {have}, and no {window_days}-day rolling window yet to check it against.",
                       ev, static_period, headline=f"{short}; no {window_days}-day rolling window yet")
    last = f"{window_days}-day window ending {tail.index[-1].date().isoformat()}"
    span = f"the last {len(tail)} rolling windows (ending {tail.index[0].date().isoformat()} to {tail.index[-1].date().isoformat()})"
    role = "transmitter" if static_net > 0 else "receiver"
    agree = bool((np.sign(tail) == np.sign(static_net)).all())
    if agree:
        sentence = (f"{source} is a net {role} of shocks: its net spillover (Diebold-Yilmaz) is {100 * static_net:+.1f}% "
                    f"over the whole sample ({static_period}{why}) and has the same sign in each of {span}, "
                    f"{100 * tail.iloc[-1]:+.1f}% in the {last}.")
        answer = role
        headline = (f"{source}'s net spillover {100 * static_net:+.1f}% over {per}, "
                    f"{'positive' if static_net > 0 else 'negative'} in each of the last {len(tail)} rolling windows")
    else:
        sentence = (f"Mixed: {source}'s net spillover (Diebold-Yilmaz) is {100 * static_net:+.1f}% over the whole sample "
                    f"({static_period}{why}), a net {role}, but {100 * tail.iloc[-1]:+.1f}% in the {last}, and positive in "
                    f"{int((tail > 0).sum())} of {span}.")
        answer = "mixed"
        latest_role = "transmitter" if tail.iloc[-1] > 0 else "receiver"
        headline = (f"{source}'s net spillover {100 * static_net:+.1f}% over {per} ({role}), "
                    f"{100 * tail.iloc[-1]:+.1f}% in the {window_days}-day window to {tail.index[-1].date().isoformat()} "
                    f"({latest_role})")
    return Verdict("crwv_transmitter", answer, sentence, ev, f"{static_period}; rolling to {tail.index[-1].date().isoformat()}",
                   headline=headline)
