"""Event study: market model, abnormal returns, CARs, per-stock and cross-sectional tests.

Units: returns, abnormal returns (AR) and cumulative abnormal returns (CAR) are fractions of
price (0.01 = 1%); days are trading days relative to the event day 0 (the calendar is the index
of the wide returns table). Every p-value is two-sided.

Models (column `model`): "market_model" (OLS R = alpha + beta Rm + e on at least `min_obs`
clean estimation days), "market_model_short" (the same on fewer, at least `min_short_obs`:
flagged), "market_adjusted" (AR = R - Rm, nothing estimated: flagged). Beside every CAR the
study reports the zero-alpha market model (beta estimated through the origin, alpha = 0: the
robustness column, so a fitted drift cannot make a CAR) and the raw compounded return.

The computation is vectorised: one event's estimation is a few array sums over all stocks
(`event_panel`), and a window's CARs, variances and t statistics for every stock come from one
call (`window_stats`).

References
- MacKinlay, A. C. (1997), "Event Studies in Economics and Finance", J. Econ. Lit. 35(1):13-39:
  market model, AR variance with the out-of-sample prediction correction
  var(AR_t) = s^2 (1 + 1/L + (Rm_t - mean Rm)^2 / sum_est (Rm - mean Rm)^2), and its matrix form
  V = s^2 (I + X* (X'X)^-1 X*') whose sum over the event window gives var(CAR).
- Patell, J. (1976), J. Accounting Research 14(2):246-276: standardized residuals, Z test.
- Boehmer, E., Musumeci, J., Poulsen, A. (1991), J. Financial Economics 30:253-272 (BMP), and
  its cross-sectional t test of the raw abnormal returns.
- Kolari, J., Pynnonen, S. (2010), Review of Financial Studies 23(11):3996-4025: BMP adjusted
  for cross-correlation of abnormal returns sharing one event date.
- Corrado, C. (1989), J. Financial Economics 23:385-395: rank test; standardized ranks
  U = K/(M+1) - 1/2 (Corrado & Zivney 1992) to allow missing days; multi-day extension of
  Campbell & Wasley (1993), J. Financial Economics 33:73-92.
- Brown, S., Warner, J. (1985), J. Financial Economics 14:3-31: equal-weight portfolio test
  with the "crude dependence adjustment" (portfolio estimation-period variance).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (-1, 1), (0, 5))
MARKET_MODEL = "market_model"
MARKET_MODEL_SHORT = "market_model_short"
MARKET_ADJUSTED = "market_adjusted"
#: Models that estimate beta (the others are flagged fallbacks).
ESTIMATED = (MARKET_MODEL, MARKET_MODEL_SHORT)


def window_label(window: tuple[int, int]) -> str:
    """'[0,+1]'-style label of a (start, end) trading-day window relative to day 0."""
    a, b = window

    def f(x: int) -> str:
        return f"{x:+d}" if x else "0"

    return f"[{f(a)},{f(b)}]"


# --------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class MarketModelFit:
    """Normal-return model fitted on the estimation window of one stock and event.

    model: see the module docstring. sigma2: residual variance (fraction^2; OLS SSR/(L-2), or
    the sample variance of R - Rm with ddof 1). df: its degrees of freedom. mean_rm, ssq_rm:
    mean and sum of squared deviations of the market return over the L estimation days used.
    beta0, sigma2_0, sxx0: zero-alpha model (slope through the origin, SSR/(L-1), sum Rm^2).
    """

    model: str
    alpha: float
    beta: float
    sigma2: float
    n_obs: int
    df: int
    mean_rm: float
    ssq_rm: float
    beta0: float = np.nan
    sigma2_0: float = np.nan
    sxx0: float = np.nan


def _fit_arrays(y: np.ndarray, x: np.ndarray, mask: np.ndarray, min_obs: int, min_short_obs: int | None) -> dict:
    """Market-model fits of every column of y (L, N) on x (L,) over the rows where mask (L, N).

    Closed-form OLS (the same numbers as statsmodels OLS with a constant; see the tests).
    Returns arrays of length N plus `resid` (L, N), NaN outside the mask.
    """
    floor = min_obs if min_short_obs is None else min(min_short_obs, min_obs)
    m = mask.astype(float)
    xm = np.where(mask, x[:, None], 0.0)
    ym = np.where(mask, y, 0.0)
    n = m.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_x = xm.sum(axis=0) / n
        mean_y = ym.sum(axis=0) / n
        dx = np.where(mask, x[:, None] - mean_x, 0.0)
        dy = np.where(mask, y - mean_y, 0.0)
        sxx = (dx * dx).sum(axis=0)
        beta = (dx * dy).sum(axis=0) / sxx
        alpha = mean_y - beta * mean_x
        resid = np.where(mask, y - alpha - beta * x[:, None], np.nan)
        sigma2 = np.nansum(resid**2, axis=0) / (n - 2)
        # zero-alpha model: slope through the origin
        sxx0 = (xm * xm).sum(axis=0)
        beta0 = (xm * ym).sum(axis=0) / sxx0
        r0 = np.where(mask, y - beta0 * x[:, None], 0.0)
        sigma2_0 = (r0 * r0).sum(axis=0) / (n - 1)
        # market-adjusted fallback
        d = np.where(mask, y - x[:, None], np.nan)
        mean_d = np.where(mask, d, 0.0).sum(axis=0) / n
        var_d = np.where(mask, (d - mean_d) ** 2, 0.0).sum(axis=0) / (n - 1)
    estimated = n >= max(floor, 3)
    model = np.where(n >= max(min_obs, 3), MARKET_MODEL, np.where(estimated, MARKET_MODEL_SHORT, MARKET_ADJUSTED))
    out = {
        "model": model, "n": n.astype(int), "mean_rm": mean_x, "ssq_rm": sxx,
        "alpha": np.where(estimated, alpha, 0.0), "beta": np.where(estimated, beta, 1.0),
        "sigma2": np.where(estimated, sigma2, np.where(n >= 2, var_d, np.nan)),
        "df": np.where(estimated, n - 2, n - 1).astype(int),
        "beta0": np.where(estimated, beta0, 1.0),
        "sigma2_0": np.where(estimated, sigma2_0, np.where(n >= 2, var_d, np.nan)),
        "sxx0": sxx0,
    }
    out["resid"] = np.where(estimated[None, :], resid, d)
    return out


def fit_market_model(stock: pd.Series, market: pd.Series, min_obs: int = 60,
                     min_short_obs: int | None = None) -> MarketModelFit:
    """Fit the market model by OLS on the days where both returns exist.

    With fewer than `min_obs` such days: the market model on a short window (flagged
    "market_model_short") when there are at least `min_short_obs` (None: no short tier), else
    the market-adjusted model (flagged); its sigma2 is the sample variance (ddof 1) of R - Rm
    (NaN with fewer than 2 days).
    """
    both = pd.concat([stock, market], axis=1, keys=["r", "m"]).dropna()
    f = _fit_arrays(both[["r"]].to_numpy(float), both["m"].to_numpy(float),
                    np.ones((len(both), 1), bool), min_obs, min_short_obs)
    return _fit_at(f, 0)


def _fit_at(f: dict, j: int) -> MarketModelFit:
    return MarketModelFit(str(f["model"][j]), float(f["alpha"][j]), float(f["beta"][j]), float(f["sigma2"][j]),
                          int(f["n"][j]), int(f["df"][j]), float(f["mean_rm"][j]), float(f["ssq_rm"][j]),
                          float(f["beta0"][j]), float(f["sigma2_0"][j]), float(f["sxx0"][j]))


def abnormal_returns(stock: pd.Series, market: pd.Series, fit: MarketModelFit) -> pd.Series:
    """AR_t = R_t - (alpha + beta Rm_t) (market model) or R_t - Rm_t (market-adjusted)."""
    return stock - (fit.alpha + fit.beta * market)


def car_variance(fit: MarketModelFit, rm_window: np.ndarray) -> float:
    """Variance (fraction^2) of the CAR over an event window with market returns `rm_window`.

    Market model (MacKinlay 1997, matrix form summed over the L2 window days):
    s^2 [L2 + L2^2/L + (sum_t (Rm_t - mean Rm))^2 / ssq_rm], which for one day is
    s^2 (1 + 1/L + (Rm_t - mean Rm)^2 / ssq_rm). Market-adjusted: s^2 L2.
    """
    rm = np.asarray(rm_window, dtype=float)
    l2 = len(rm)
    if fit.model == MARKET_ADJUSTED:
        return fit.sigma2 * l2
    dev = float((rm - fit.mean_rm).sum())
    return fit.sigma2 * (l2 + l2**2 / fit.n_obs + dev**2 / fit.ssq_rm)


# --------------------------------------------------------------------------- one event
@dataclass
class EventPanel:
    """Everything about one event date: fits, and ARs on estimation + event days.

    ar: DataFrame indexed by relative trading day (int, estimation and event days) x ticker;
    on estimation days it holds the estimation residuals (NaN on days left out of the clean
    window), on event days the ARs. market: market return by relative day. est_days: relative
    days of the nominal estimation window. ar0 / raw: zero-alpha ARs and raw returns on the
    event days. fit: the fits as arrays (see `_fit_arrays`); `fits` as objects by ticker.
    """

    day0: pd.Timestamp
    fits: dict[str, MarketModelFit]
    ar: pd.DataFrame
    market: pd.Series
    est_days: np.ndarray
    ar0: pd.DataFrame = field(default=None, repr=False)
    raw: pd.DataFrame = field(default=None, repr=False)
    fit: dict = field(default_factory=dict, repr=False)
    tickers: list[str] = field(default_factory=list)
    ev_days: np.ndarray = field(default=None, repr=False)


def event_panel(
    returns: pd.DataFrame,
    day0,
    tickers: list[str],
    market: str = "SPY",
    estimation_window: tuple[int, int] = (-120, -11),
    event_span: tuple[int, int] = (-1, 5),
    min_obs: int = 60,
    min_short_obs: int | None = None,
    exclude: Iterable = (),
    not_before: Mapping[str, object] | None = None,
) -> EventPanel:
    """Fit each ticker on the estimation window and compute ARs over `event_span`.

    returns: wide daily returns (calendar index x tickers, fractions), must include `market`.
    estimation_window: first and last relative trading day (inclusive) of the estimation
    window; the days between its end and the event span are the gap (default 10 days,
    -10..-1). Days before the start of the calendar are simply absent (fewer observations).
    exclude: dates left out of every ticker's estimation (other events' windows); not_before:
    ticker -> first date its estimation may use (after an IPO). Raises ValueError when day0 is
    not a trading day or the windows overlap.
    """
    cal = returns.index
    ts = pd.Timestamp(day0)
    if ts not in cal:
        raise ValueError(f"day 0 {ts.date().isoformat()} is not a trading day of the calendar")
    e1, e2 = estimation_window
    if not (e1 <= e2 < event_span[0] <= event_span[1]):
        raise ValueError("estimation window must end before the event span starts")
    p0 = cal.get_loc(ts)
    names = [t for t in tickers if t != market]
    est_pos = np.arange(max(p0 + e1, 0), max(p0 + e2 + 1, 0))
    ev_pos = np.arange(max(p0 + event_span[0], 0), min(p0 + event_span[1] + 1, len(cal)))
    y_all = returns[names].to_numpy(float)
    x_all = returns[market].to_numpy(float)
    y, x = y_all[est_pos], x_all[est_pos]
    ok_row = ~cal[est_pos].isin(pd.DatetimeIndex(list(exclude))) if len(est_pos) else np.zeros(0, bool)
    mask = np.isfinite(y) & np.isfinite(x)[:, None] & ok_row[:, None]
    for j, t in enumerate(names):
        nb = (not_before or {}).get(t)
        if nb is not None and not pd.isna(nb):
            mask[:, j] &= cal[est_pos] >= pd.Timestamp(nb)
    f = _fit_arrays(y, x, mask, min_obs, min_short_obs)
    ye, xe = y_all[ev_pos], x_all[ev_pos]
    ar_ev = ye - (f["alpha"] + f["beta"] * xe[:, None])
    rel_est, rel_ev = est_pos - p0, ev_pos - p0
    ar = pd.DataFrame(np.vstack([f["resid"], ar_ev]), index=np.concatenate([rel_est, rel_ev]), columns=names)
    mk = pd.Series(np.concatenate([x, xe]), index=ar.index)
    ar0 = pd.DataFrame(ye - f["beta0"] * xe[:, None], index=rel_ev, columns=names)
    raw = pd.DataFrame(ye, index=rel_ev, columns=names)
    fits = {t: _fit_at(f, j) for j, t in enumerate(names)}
    return EventPanel(ts, fits, ar, mk, np.arange(e1, e2 + 1), ar0, raw, f, names, rel_ev)


def window_stats(panel: EventPanel, window: tuple[int, int]) -> pd.DataFrame:
    """Per ticker (index) for one window: CAR and its test, zero-alpha CAR and test, raw return.

    Columns: car, sd_car, t_stat, p_value (market model, MacKinlay variance, Student t with the
    fit's df), car_zero_alpha, t_zero_alpha, p_zero_alpha (variance s0^2 (L2 + (sum Rm)^2 /
    sum_est Rm^2), df L-1), raw_return (compounded), model, n_est, alpha, beta. A CAR is NaN when
    a window day lacks a return or lies beyond the calendar.
    """
    f = panel.fit
    days = np.arange(window[0], window[1] + 1)
    inside = set(days) <= set(panel.ev_days.tolist())
    n = len(panel.tickers)
    nan = np.full(n, np.nan)
    if inside:
        a = panel.ar.loc[days].to_numpy(float)
        car = np.where(np.isfinite(a).all(axis=0), a.sum(axis=0), np.nan)
        a0 = panel.ar0.loc[days].to_numpy(float)
        car0 = np.where(np.isfinite(a0).all(axis=0), a0.sum(axis=0), np.nan)
        rr = panel.raw.loc[days].to_numpy(float)
        raw = np.where(np.isfinite(rr).all(axis=0), np.prod(1 + rr, axis=0) - 1, np.nan)
        rm = panel.market.loc[days].to_numpy(float)
        srm = rm.sum() if np.isfinite(rm).all() else np.nan
    else:
        car = car0 = raw = nan
        srm = np.nan
    l2 = len(days)
    with np.errstate(invalid="ignore", divide="ignore"):
        est = np.isin(f["model"], ESTIMATED)
        var_mm = f["sigma2"] * (l2 + l2**2 / f["n"] + (srm - l2 * f["mean_rm"]) ** 2 / f["ssq_rm"])
        var = np.where(est, var_mm, f["sigma2"] * l2)
        var0 = np.where(est, f["sigma2_0"] * (l2 + srm**2 / f["sxx0"]), f["sigma2"] * l2)
        sd, sd0 = np.sqrt(var), np.sqrt(var0)
        t = np.where(np.isfinite(car) & (sd > 0), car / sd, np.nan)
        df0 = np.where(est, f["n"] - 1, f["df"])
        t0 = np.where(np.isfinite(car0) & (sd0 > 0), car0 / sd0, np.nan)
    p = np.where(np.isfinite(t) & (f["df"] > 0), 2 * stats.t.sf(np.abs(t), np.maximum(f["df"], 1)), np.nan)
    p0 = np.where(np.isfinite(t0) & (df0 > 0), 2 * stats.t.sf(np.abs(t0), np.maximum(df0, 1)), np.nan)
    return pd.DataFrame({
        "car": car, "sd_car": np.where(np.isfinite(car), sd, np.nan), "t_stat": t, "p_value": p,
        "car_zero_alpha": car0, "t_zero_alpha": t0, "p_zero_alpha": p0, "raw_return": raw,
        "model": f["model"], "n_est": f["n"], "alpha": f["alpha"], "beta": f["beta"], "df": f["df"],
    }, index=pd.Index(panel.tickers, name="ticker"))


def stock_car(panel: EventPanel, ticker: str, window: tuple[int, int]) -> dict:
    """CAR, its standard deviation, t = CAR/sd, two-sided p (Student t, fit df) for one stock.

    CAR is NaN when any window day lacks a return (or lies beyond the calendar).
    """
    r = window_stats(panel, window).loc[ticker]
    return {k: float(r[k]) for k in ("car", "sd_car", "t_stat", "p_value")}


# --------------------------------------------------------------------------- cross-section
def patell_z(scar: np.ndarray, df: np.ndarray) -> tuple[float, float]:
    """Patell (1976) Z = sum_i SCAR_i / sqrt(sum_i df_i/(df_i - 2)); two-sided normal p.

    SCAR_i = CAR_i / sd(CAR_i) is Student-t with df_i (L_i - 2 for the market model), variance
    df/(df-2). Stocks with df <= 2 are dropped.
    """
    scar, df = np.asarray(scar, float), np.asarray(df, float)
    ok = np.isfinite(scar) & (df > 2)
    if not ok.any():
        return np.nan, np.nan
    z = scar[ok].sum() / np.sqrt((df[ok] / (df[ok] - 2)).sum())
    return float(z), float(2 * stats.norm.sf(abs(z)))


def bmp_t(scar: np.ndarray) -> tuple[float, float]:
    """BMP (1991) t = mean(SCAR) / (sd(SCAR)/sqrt(N)), sd with ddof 1; p from t(N-1)."""
    s = np.asarray(scar, float)
    s = s[np.isfinite(s)]
    n = len(s)
    if n < 2:
        return np.nan, np.nan
    t = s.mean() / (s.std(ddof=1) / np.sqrt(n))
    return float(t), float(2 * stats.t.sf(abs(t), n - 1))


def cross_sectional_t(car: np.ndarray) -> tuple[float, float]:
    """Cross-sectional t of raw (not standardised) abnormal returns or CARs (Boehmer et al. 1991):
    mean / (sd / sqrt(N)), sd with ddof 1; p from t(N-1). Same algebra as `bmp_t`."""
    return bmp_t(car)


def kolari_pynnonen_t(scar: np.ndarray, rbar: float) -> tuple[float, float]:
    """Kolari-Pynnonen (2010) adjusted BMP: t_BMP * sqrt((1 - rbar) / (1 + (N - 1) rbar)).

    rbar: average pairwise correlation of the stocks' estimation-period abnormal returns.
    p from t(N-1), as for BMP.
    """
    s = np.asarray(scar, float)
    s = s[np.isfinite(s)]
    n = len(s)
    t, _ = bmp_t(s)
    if not np.isfinite(t):
        return np.nan, np.nan
    t_adj = t * np.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    return float(t_adj), float(2 * stats.t.sf(abs(t_adj), n - 1))


def average_cross_correlation(resid: pd.DataFrame, min_common: int = 10) -> float:
    """Mean of the off-diagonal pairwise correlations of the columns of `resid`.

    Pairs with fewer than `min_common` common observations are left out.
    """
    c = resid.corr(min_periods=min_common).to_numpy()
    off = c[~np.eye(len(c), dtype=bool)]
    off = off[np.isfinite(off)]
    return float(off.mean()) if len(off) else np.nan


def corrado_rank(ar: pd.DataFrame, event_days, est_days) -> tuple[float, float]:
    """Corrado (1989) rank test; multi-day windows by Campbell & Wasley (1993).

    ar: relative day x stock abnormal returns. Each stock's ARs over est_days + event_days
    (its M_i non-missing values) are ranked K = 1..M_i and standardised U = K/(M_i+1) - 1/2.
    With Ubar_t the cross-sectional mean of U on day t and S_U = sqrt(mean_t Ubar_t^2) over all
    T days with data, the statistic is sum_{t in window} Ubar_t / (sqrt(L2) S_U), ~ N(0,1).
    For one event day and no missing values this is exactly Corrado's
    T = (1/N) sum_i (K_i0 - (M+1)/2) / S(K).
    """
    days = list(est_days) + [d for d in event_days if d not in set(est_days)]
    x = ar.reindex(days)
    k = x.rank(axis=0, method="average")
    m = x.notna().sum(axis=0)
    u = k / (m + 1) - 0.5
    ubar = u.mean(axis=1, skipna=True).dropna()
    s_u = np.sqrt((ubar**2).mean())
    ev = ubar.reindex(list(event_days))
    if ev.isna().any() or not s_u > 0:
        return np.nan, np.nan
    z = ev.sum() / (np.sqrt(len(ev)) * s_u)
    return float(z), float(2 * stats.norm.sf(abs(z)))


def portfolio_car_t(est_resid: pd.DataFrame, car: pd.Series, l2: int) -> dict:
    """Equal-weight peer portfolio: CAR_p = mean_i CAR_i, t = CAR_p / sqrt(L2 s_p^2).

    s_p^2: sample variance (ddof 1) of the daily cross-sectional mean estimation residual
    (Brown & Warner 1985 crude dependence adjustment, so cross-correlation is in the variance);
    p from t(T_est - 1).
    """
    car = car.dropna()
    port = est_resid[car.index].mean(axis=1, skipna=True).dropna()
    if len(port) < 3 or len(car) == 0:
        return {"car": np.nan, "t_stat": np.nan, "p_value": np.nan}
    cp = float(car.mean())
    t = cp / np.sqrt(l2 * port.var(ddof=1))
    return {"car": cp, "t_stat": float(t), "p_value": float(2 * stats.t.sf(abs(t), len(port) - 1))}


def cross_section_tests(panel: EventPanel, tickers: list[str], window: tuple[int, int],
                        ws: pd.DataFrame | None = None, rbar_cache: dict | None = None) -> list[dict]:
    """Patell, BMP, Kolari-Pynnonen, Corrado and portfolio tests for one event and window.

    Uses the tickers of `tickers` with a finite CAR (ws: `window_stats` of the window, if already
    computed). Rows: test, n, statistic, p_value, mean_car (fraction), rbar (kolari_pynnonen).
    """
    ws = window_stats(panel, window) if ws is None else ws
    ws = ws.loc[[t for t in tickers if t in ws.index]]
    ok_rows = ws[np.isfinite(ws["car"]) & np.isfinite(ws["t_stat"])]
    ok = list(ok_rows.index)
    scar = ok_rows["t_stat"].to_numpy(float)
    dfs = ok_rows["df"].to_numpy(float)
    est = panel.ar.loc[panel.est_days[np.isin(panel.est_days, panel.ar.index)], ok]
    key = tuple(ok)
    if rbar_cache is not None and key in rbar_cache:
        rbar = rbar_cache[key]
    else:
        rbar = average_cross_correlation(est)
        if rbar_cache is not None:
            rbar_cache[key] = rbar
    mean_car = float(ok_rows["car"].mean()) if ok else np.nan
    l2 = window[1] - window[0] + 1
    out = []

    def add(test, stat_p, car_=mean_car, rb=np.nan):
        out.append({"test": test, "n": len(ok), "statistic": stat_p[0], "p_value": stat_p[1],
                    "mean_car": car_, "rbar": rb})

    add("patell", patell_z(scar, dfs))
    add("bmp", bmp_t(scar))
    add("kolari_pynnonen", kolari_pynnonen_t(scar, rbar), rb=rbar)
    add("corrado", corrado_rank(panel.ar[ok], range(window[0], window[1] + 1), panel.est_days))
    pf = portfolio_car_t(est, ok_rows["car"], l2)
    add("portfolio", (pf["t_stat"], pf["p_value"]), car_=pf["car"])
    return out


# --------------------------------------------------------------------------- estudy2 conventions
def daily_tests(panel: EventPanel, convention: str = "textbook") -> pd.DataFrame:
    """Day-by-day tests over the panel's event days (the layout of R package estudy2's outputs).

    Columns: rel_day, n, mean_ar, patell, bmp, brown_warner_1985, cross_sectional_t, corrado.
    convention "textbook": residual variance SSR/(L-2), market moments over each stock's own
    estimation days, standardised ranks (`corrado_rank`). "estudy2": residual sd with ddof 1
    (sd() in R), market mean and squared deviations over all estimation-window market days,
    raw ranks with estudy2's rank-test scaling; these reproduce estudy2's published numbers.
    """
    if convention not in ("textbook", "estudy2"):
        raise ValueError("convention must be 'textbook' or 'estudy2'")
    f = panel.fit
    est = panel.ar.loc[panel.est_days[np.isin(panel.est_days, panel.ar.index)]]
    n_used = f["n"].astype(float)
    if convention == "textbook":
        s2, mean_rm, ssq = f["sigma2"], f["mean_rm"], f["ssq_rm"]
    else:
        s2 = est.var(ddof=1).to_numpy(float)
        rm_est = panel.market.loc[est.index].to_numpy(float)
        mean_rm = np.full(len(s2), np.nanmean(rm_est))
        ssq = np.full(len(s2), np.nansum((rm_est - mean_rm[0]) ** 2))
    port_sd = est.mean(axis=1, skipna=True).dropna().std(ddof=1)
    rows = []
    for d in panel.ev_days:
        ar = panel.ar.loc[d].to_numpy(float)
        rm = float(panel.market.loc[d])
        sar = ar / np.sqrt(s2) / np.sqrt(1 + 1 / n_used + (rm - mean_rm) ** 2 / ssq)
        ok = np.isfinite(sar)
        pz = sar[ok].sum() / np.sqrt(((n_used[ok] - 2) / (n_used[ok] - 4)).sum())
        if convention == "textbook":
            cz = corrado_rank(panel.ar, [d], panel.est_days)[0]
        else:
            cz = _estudy2_rank(panel, d)
        mean_ar = float(np.nanmean(ar))
        rows.append({"rel_day": int(d), "n": int(np.isfinite(ar).sum()), "mean_ar": mean_ar, "patell": float(pz),
                     "bmp": bmp_t(sar)[0], "brown_warner_1985": mean_ar / port_sd,
                     "cross_sectional_t": cross_sectional_t(ar)[0], "corrado": cz})
    return pd.DataFrame(rows)


def _estudy2_rank(panel: EventPanel, day: int) -> float:
    """estudy2's rank_test statistic for one event day (raw ranks over estimation + all event
    days; its NA scaling: row means times the number of stocks, divided by the day's count)."""
    days = [d for d in panel.est_days if d in panel.ar.index] + list(panel.ev_days)
    x = panel.ar.loc[days]
    k = x.rank(axis=0, method="average")
    dev = k - k.mean(axis=0)
    ncol = x.shape[1]
    n_t = x.notna().sum(axis=1).replace(0, np.nan)
    diff = dev.mean(axis=1, skipna=True) * ncol
    m_full = x.notna().sum(axis=0).mean()
    sd = np.sqrt(1 / m_full * ((diff / n_t) ** 2).sum())
    return float(diff.loc[day] / n_t.loc[day] / sd)


def estudy2_car_rank(panel: EventPanel, window: tuple[int, int]) -> float:
    """estudy2's car_rank_test over `window` (raw ranks over estimation + window days; every window
    day is used). sqrt(L2) (mean event rank - mean rank) / sqrt(sum_t (mean rank_t - mean rank)^2 /
    mean M). The textbook multi-day rank test is `corrado_rank` (Campbell-Wasley, standardised ranks)."""
    ev = list(range(window[0], window[1] + 1))
    days = [d for d in panel.est_days if d in panel.ar.index] + ev
    k = panel.ar.loc[days].rank(axis=0, method="average")
    mean_rank = k.mean(axis=0).mean()
    m_full = k.notna().sum(axis=0).mean()
    s = np.sqrt(((k.mean(axis=1) - mean_rank) ** 2).sum() / m_full)
    return float(np.sqrt(len(ev)) * (np.nanmean(k.loc[ev].to_numpy(float)) - mean_rank) / s)


# --------------------------------------------------------------------------- driver
@dataclass
class EventStudyResult:
    """car_table: event_id, ticker, window, car, t_stat, p_value, model (+ day0, kind, sd_car,
    n_est, in_pooled, car_zero_alpha, t_zero_alpha, p_zero_alpha, raw_return, alpha, beta).
    pooled_by_event: event_id, kind, window, test, n, statistic, p_value, mean_car, rbar,
    in_pooled. pooled_by_kind: kind, window, test, n_events, statistic, p_value, mean_car."""

    car_table: pd.DataFrame
    pooled_by_event: pd.DataFrame
    pooled_by_kind: pd.DataFrame
    panels: dict[str, EventPanel] = field(repr=False, default_factory=dict)


CAR_COLUMNS = ["event_id", "ticker", "window", "car", "t_stat", "p_value", "model", "sd_car", "n_est", "day0",
               "kind", "in_pooled", "car_zero_alpha", "t_zero_alpha", "p_zero_alpha", "raw_return", "alpha", "beta"]


def event_study(
    returns: pd.DataFrame,
    events: pd.DataFrame,
    tickers: list[str],
    market: str = "SPY",
    windows: tuple[tuple[int, int], ...] = DEFAULT_WINDOWS,
    estimation_window: tuple[int, int] = (-120, -11),
    min_obs: int = 60,
    pooled_confidence: tuple[str, ...] = ("high", "medium"),
    exclude_origin: bool = True,
    min_short_obs: int | None = None,
    exclude: Mapping[str, Iterable] | None = None,
    not_before: Mapping[str, object] | None = None,
    pooled: Iterable[str] | None = None,
) -> EventStudyResult:
    """Run the event study for every event (columns event_id, day0, kind, origin, confidence).

    Per-stock CARs for all tickers and events. Cross-sectional tests per event use the peer
    group = tickers minus the market and, if `exclude_origin`, minus the event's origin ticker
    (the shock source is not its own peer). exclude: event_id -> dates left out of that event's
    estimation window (`windows.estimation_exclusions`); not_before: ticker -> first date any
    estimation may use. An event enters pooled statistics (`in_pooled`) when its confidence is
    in `pooled_confidence` and, if `pooled` (event ids) is given, it is in `pooled` (one event
    per cluster of overlapping events: `windows.event_clusters`). pooled_by_kind combines
    per-event results across events of one kind: "stouffer_kp" = sum_e t_KP,e / sqrt(E) (normal
    p) and "portfolio_bmp" = BMP t over the events' standardised portfolio CARs (t(E-1) p).
    """
    span = (min(w[0] for w in windows), max(w[1] for w in windows))
    pool_ids = None if pooled is None else set(pooled)
    car_parts, ev_rows, panels = [], [], {}
    for ev in events.itertuples(index=False):
        if pd.isna(ev.day0):
            continue
        panel = event_panel(returns, ev.day0, tickers, market, estimation_window, span, min_obs,
                            min_short_obs, (exclude or {}).get(ev.event_id, ()), not_before)
        panels[ev.event_id] = panel
        in_pool = getattr(ev, "confidence", "high") in pooled_confidence and (pool_ids is None or ev.event_id in pool_ids)
        peers = [t for t in panel.tickers if not (exclude_origin and t == getattr(ev, "origin", None))]
        rbar_cache: dict = {}
        for w in windows:
            lab = window_label(w)
            ws = window_stats(panel, w)
            car_parts.append(ws.reset_index().assign(event_id=ev.event_id, window=lab, day0=panel.day0,
                                                     kind=ev.kind, in_pooled=in_pool))
            for r in cross_section_tests(panel, peers, w, ws, rbar_cache):
                ev_rows.append({"event_id": ev.event_id, "kind": ev.kind, "window": lab, **r, "in_pooled": in_pool})
    car_table = (pd.concat(car_parts, ignore_index=True)[CAR_COLUMNS] if car_parts
                 else pd.DataFrame(columns=CAR_COLUMNS))
    by_event = pd.DataFrame(ev_rows, columns=["event_id", "kind", "window", "test", "n", "statistic", "p_value",
                                              "mean_car", "rbar", "in_pooled"])
    return EventStudyResult(car_table, by_event, pool_by_kind(by_event), panels)


#: Fewest events for the BMP test across events (portfolio_bmp): with fewer, a t with 1 df is noise.
MIN_POOLED_EVENTS = 3


def pool_by_kind(by_event: pd.DataFrame, min_events: int = MIN_POOLED_EVENTS) -> pd.DataFrame:
    """Combine per-event tests by event kind (in_pooled rows only); see `event_study`.

    portfolio_bmp needs at least `min_events` events (NaN otherwise: a t with 1 df is noise).
    """
    rows = []
    sel = by_event[by_event["in_pooled"].astype(bool)]
    for (kind, win), g in sel.groupby(["kind", "window"], sort=True):
        kp = g.loc[g["test"] == "kolari_pynnonen", "statistic"].dropna()
        pf = g[g["test"] == "portfolio"].dropna(subset=["statistic"])
        if len(kp):
            z = kp.sum() / np.sqrt(len(kp))
            rows.append({"kind": kind, "window": win, "test": "stouffer_kp", "n_events": len(kp),
                         "statistic": float(z), "p_value": float(2 * stats.norm.sf(abs(z))),
                         "mean_car": float(g.loc[g["test"] == "bmp", "mean_car"].mean())})
        t, p = bmp_t(pf["statistic"].to_numpy()) if len(pf) >= min_events else (np.nan, np.nan)
        rows.append({"kind": kind, "window": win, "test": "portfolio_bmp", "n_events": len(pf),
                     "statistic": t, "p_value": p, "mean_car": float(pf["mean_car"].mean()) if len(pf) else np.nan})
    return pd.DataFrame(rows, columns=["kind", "window", "test", "n_events", "statistic",
                                       "p_value", "mean_car"])
