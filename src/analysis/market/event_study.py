"""Event study: market model, abnormal returns, CARs, per-stock and cross-sectional tests.

Units: returns, abnormal returns (AR) and cumulative abnormal returns (CAR) are fractions of
price (0.01 = 1%); days are trading days relative to the event day 0 (the calendar is the index
of the wide returns table). Every p-value is two-sided.

References
- MacKinlay, A. C. (1997), "Event Studies in Economics and Finance", J. Econ. Lit. 35(1):13-39:
  market model, AR variance with the out-of-sample prediction correction
  var(AR_t) = s^2 (1 + 1/L + (Rm_t - mean Rm)^2 / sum_est (Rm - mean Rm)^2), and its matrix form
  V = s^2 (I + X* (X'X)^-1 X*') whose sum over the event window gives var(CAR).
- Patell, J. (1976), J. Accounting Research 14(2):246-276: standardized residuals, Z test.
- Boehmer, E., Musumeci, J., Poulsen, A. (1991), J. Financial Economics 30:253-272 (BMP).
- Kolari, J., Pynnonen, S. (2010), Review of Financial Studies 23(11):3996-4025: BMP adjusted
  for cross-correlation of abnormal returns sharing one event date.
- Corrado, C. (1989), J. Financial Economics 23:385-395: rank test; standardized ranks
  U = K/(M+1) - 1/2 (Corrado & Zivney 1992) to allow missing days; multi-day extension of
  Campbell & Wasley (1993), J. Financial Economics 33:73-92.
- Brown, S., Warner, J. (1985), J. Financial Economics 14:3-31: equal-weight portfolio test
  with the "crude dependence adjustment" (portfolio estimation-period variance).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

DEFAULT_WINDOWS: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (-1, 1), (0, 5))
MARKET_MODEL = "market_model"
MARKET_ADJUSTED = "market_adjusted"


def window_label(window: tuple[int, int]) -> str:
    """'[0,+1]'-style label of a (start, end) trading-day window relative to day 0."""
    a, b = window

    def f(x: int) -> str:
        return f"{x:+d}" if x else "0"

    return f"[{f(a)},{f(b)}]"


# --------------------------------------------------------------------------- single stock
@dataclass(frozen=True)
class MarketModelFit:
    """Normal-return model fitted on the estimation window of one stock and event.

    model: "market_model" (OLS R = alpha + beta Rm + e) or "market_adjusted" (AR = R - Rm,
    alpha = 0, beta = 1, nothing estimated). sigma2: residual variance (fraction^2; OLS
    SSR/(L-2), or sample variance of R - Rm with ddof 1). df: its degrees of freedom.
    mean_rm, ssq_rm: mean and sum of squared deviations of the market return over the L
    estimation days (used in the prediction-error correction). resid: estimation residuals.
    """

    model: str
    alpha: float
    beta: float
    sigma2: float
    n_obs: int
    df: int
    mean_rm: float
    ssq_rm: float
    resid: pd.Series = field(repr=False)


def fit_market_model(stock: pd.Series, market: pd.Series, min_obs: int = 60) -> MarketModelFit:
    """Fit the market model by OLS (statsmodels) on the days where both returns exist.

    With fewer than `min_obs` such days, fall back to the market-adjusted model (flagged in
    `model`); its sigma2 is the sample variance (ddof 1) of R - Rm on the available days (NaN
    with fewer than 2).
    """
    both = pd.concat([stock, market], axis=1, keys=["r", "m"]).dropna()
    n = len(both)
    rm = both["m"].to_numpy(dtype=float)
    mean_rm = float(rm.mean()) if n else np.nan
    ssq_rm = float(((rm - mean_rm) ** 2).sum()) if n else np.nan
    if n >= max(min_obs, 3):
        res = sm.OLS(both["r"].to_numpy(float), sm.add_constant(rm, has_constant="add")).fit()
        alpha, beta = (float(v) for v in res.params)
        resid = pd.Series(res.resid, index=both.index)
        return MarketModelFit(
            MARKET_MODEL, alpha, beta, float(res.mse_resid), n, n - 2, mean_rm, ssq_rm, resid
        )
    d = both["r"] - both["m"]
    sigma2 = float(d.var(ddof=1)) if n >= 2 else np.nan
    return MarketModelFit(MARKET_ADJUSTED, 0.0, 1.0, sigma2, n, n - 1, mean_rm, ssq_rm, d)


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
    on estimation days it holds the estimation residuals, on event days the ARs.
    market: market return by relative day. est_days: relative days of the estimation window.
    """

    day0: pd.Timestamp
    fits: dict[str, MarketModelFit]
    ar: pd.DataFrame
    market: pd.Series
    est_days: np.ndarray


def event_panel(
    returns: pd.DataFrame,
    day0,
    tickers: list[str],
    market: str = "SPY",
    estimation_window: tuple[int, int] = (-120, -11),
    event_span: tuple[int, int] = (-1, 5),
    min_obs: int = 60,
) -> EventPanel:
    """Fit each ticker on the estimation window and compute ARs over `event_span`.

    returns: wide daily returns (calendar index x tickers, fractions), must include `market`.
    estimation_window: first and last relative trading day (inclusive) of the estimation
    window; the days between its end and the event span are the gap (default 10 days,
    -10..-1). Days before the start of the calendar are simply absent (fewer observations).
    Raises ValueError when day0 is not a trading day or the windows overlap.
    """
    cal = returns.index
    ts = pd.Timestamp(day0)
    if ts not in cal:
        raise ValueError(f"day 0 {ts.date().isoformat()} is not a trading day of the calendar")
    e1, e2 = estimation_window
    if not (e1 <= e2 < event_span[0] <= event_span[1]):
        raise ValueError("estimation window must end before the event span starts")
    p0 = cal.get_loc(ts)
    rel_all = np.arange(len(cal)) - p0
    est_mask = (rel_all >= e1) & (rel_all <= e2)
    ev_mask = (rel_all >= event_span[0]) & (rel_all <= event_span[1])
    rm = returns[market]
    fits, cols = {}, {}
    est_idx, ev_idx = cal[est_mask], cal[ev_mask]
    for t in tickers:
        if t == market:
            continue
        fit = fit_market_model(returns[t].loc[est_idx], rm.loc[est_idx], min_obs=min_obs)
        fits[t] = fit
        est_part = fit.resid.reindex(est_idx)
        ev_part = abnormal_returns(returns[t].loc[ev_idx], rm.loc[ev_idx], fit)
        s = pd.concat([est_part, ev_part])
        s.index = np.concatenate([rel_all[est_mask], rel_all[ev_mask]])
        cols[t] = s
    ar = pd.DataFrame(cols)
    mk = rm.loc[est_idx.append(ev_idx)]
    mk.index = ar.index
    return EventPanel(ts, fits, ar, mk, rel_all[est_mask])


def stock_car(panel: EventPanel, ticker: str, window: tuple[int, int]) -> dict:
    """CAR, its standard deviation, t = CAR/sd, two-sided p (Student t, fit df) for one stock.

    CAR is NaN when any window day lacks a return (or lies beyond the calendar).
    """
    fit = panel.fits[ticker]
    days = np.arange(window[0], window[1] + 1)
    if not set(days) <= set(panel.ar.index):
        car = np.nan
    else:
        a = panel.ar.loc[days, ticker]
        car = float(a.sum()) if a.notna().all() else np.nan
    rmw = panel.market.reindex(days).to_numpy(float)
    var = car_variance(fit, rmw) if np.isfinite(car) else np.nan
    sd = float(np.sqrt(var)) if np.isfinite(var) else np.nan
    t = car / sd if np.isfinite(car) and sd > 0 else np.nan
    p = float(2 * stats.t.sf(abs(t), fit.df)) if np.isfinite(t) and fit.df > 0 else np.nan
    return {"car": car, "sd_car": sd, "t_stat": t, "p_value": p}


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


def cross_section_tests(panel: EventPanel, tickers: list[str], window: tuple[int, int]) -> list[dict]:
    """Patell, BMP, Kolari-Pynnonen, Corrado and portfolio tests for one event and window.

    Uses the tickers of `tickers` with a finite CAR. Rows: test, n, statistic, p_value,
    mean_car (fraction), rbar (for kolari_pynnonen).
    """
    rows = {t: stock_car(panel, t, window) for t in tickers if t in panel.fits}
    car = pd.Series({t: r["car"] for t, r in rows.items()}, dtype=float)
    ok = [t for t in car.index if np.isfinite(car[t]) and np.isfinite(rows[t]["t_stat"])]
    scar = np.array([rows[t]["t_stat"] for t in ok])
    dfs = np.array([panel.fits[t].df for t in ok], dtype=float)
    est = panel.ar.loc[panel.est_days, ok]
    rbar = average_cross_correlation(est)
    mean_car = float(car[ok].mean()) if ok else np.nan
    l2 = window[1] - window[0] + 1
    out = []

    def add(test, stat_p, car_=mean_car, rb=np.nan):
        out.append(
            {"test": test, "n": len(ok), "statistic": stat_p[0], "p_value": stat_p[1],
             "mean_car": car_, "rbar": rb}
        )

    add("patell", patell_z(scar, dfs))
    add("bmp", bmp_t(scar))
    add("kolari_pynnonen", kolari_pynnonen_t(scar, rbar), rb=rbar)
    add("corrado", corrado_rank(panel.ar[ok], range(window[0], window[1] + 1), panel.est_days))
    pf = portfolio_car_t(est, car[ok], l2)
    add("portfolio", (pf["t_stat"], pf["p_value"]), car_=pf["car"])
    return out


# --------------------------------------------------------------------------- driver
@dataclass
class EventStudyResult:
    """car_table: event_id, ticker, window, car, t_stat, p_value, model (+ day0, kind, sd_car,
    n_est, in_pooled). pooled_by_event: event_id, kind, window, test, n, statistic, p_value,
    mean_car, rbar, in_pooled. pooled_by_kind: kind, window, test, n_events, statistic, p_value,
    mean_car."""

    car_table: pd.DataFrame
    pooled_by_event: pd.DataFrame
    pooled_by_kind: pd.DataFrame
    panels: dict[str, EventPanel] = field(repr=False, default_factory=dict)


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
) -> EventStudyResult:
    """Run the event study for every event (columns event_id, day0, kind, origin, confidence).

    Per-stock CARs for all tickers and events. Cross-sectional tests per event use the peer
    group = tickers minus the market and, if `exclude_origin`, minus the event's origin ticker
    (the shock source is not its own peer). Events whose confidence is not in
    `pooled_confidence` get tests but `in_pooled` False and are left out of pooled_by_kind,
    which combines per-event results across events of one kind:
    "stouffer_kp" = sum_e t_KP,e / sqrt(E) (normal p) and "portfolio_bmp" = BMP t over the
    events' standardised portfolio CARs (t(E-1) p; needs E >= 2).
    """
    span = (min(w[0] for w in windows), max(w[1] for w in windows))
    car_rows, ev_rows, panels = [], [], {}
    for ev in events.itertuples(index=False):
        if pd.isna(ev.day0):
            continue
        panel = event_panel(returns, ev.day0, tickers, market, estimation_window, span, min_obs)
        panels[ev.event_id] = panel
        pooled = getattr(ev, "confidence", "high") in pooled_confidence
        peers = [t for t in panel.fits if not (exclude_origin and t == getattr(ev, "origin", None))]
        for w in windows:
            lab = window_label(w)
            for t, fit in panel.fits.items():
                r = stock_car(panel, t, w)
                car_rows.append(
                    {"event_id": ev.event_id, "ticker": t, "window": lab, **r,
                     "model": fit.model, "n_est": fit.n_obs, "day0": panel.day0,
                     "kind": ev.kind, "in_pooled": pooled}
                )
            for r in cross_section_tests(panel, peers, w):
                ev_rows.append({"event_id": ev.event_id, "kind": ev.kind, "window": lab, **r,
                                "in_pooled": pooled})
    car_cols = ["event_id", "ticker", "window", "car", "t_stat", "p_value", "model",
                "sd_car", "n_est", "day0", "kind", "in_pooled"]
    car_table = pd.DataFrame(car_rows)[car_cols]
    by_event = pd.DataFrame(ev_rows)
    return EventStudyResult(car_table, by_event, pool_by_kind(by_event), panels)


#: Fewest events for the BMP test across events (portfolio_bmp): with fewer, a t with 1 df is noise.
MIN_POOLED_EVENTS = 3


def pool_by_kind(by_event: pd.DataFrame, min_events: int = MIN_POOLED_EVENTS) -> pd.DataFrame:
    """Combine per-event tests by event kind (in_pooled rows only); see `event_study`.

    portfolio_bmp needs at least `min_events` events (NaN otherwise: a t with 1 df is noise).
    """
    rows = []
    sel = by_event[by_event["in_pooled"]]
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
                     "statistic": t, "p_value": p, "mean_car": float(pf["mean_car"].mean())})
    return pd.DataFrame(rows, columns=["kind", "window", "test", "n_events", "statistic",
                                       "p_value", "mean_car"])
