"""Event study on constructed data: every number below is worked by hand in the comments."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.market import event_study as es

# Estimation: Rm and residuals e chosen so that sum(e) = 0 and sum(e * Rm) = 0, hence the OLS
# fit recovers alpha = 0.001 and beta = 1.5 exactly.
RM_EST = [0.01, -0.02, 0.03, 0.00, -0.01]
E_EST = [0.002, 0.001, 0.0, -0.003, 0.0]
# mean Rm = 0.002; deviations 0.008, -0.022, 0.028, -0.002, -0.012; SSQ = 0.00148
# s^2 = sum e^2 / (L - 2) = (4 + 1 + 9)e-6 / 3 = 4.6667e-6
S2 = 14e-6 / 3


def _panel_returns():
    days = pd.bdate_range("2025-03-03", periods=8)  # relative days -6..+1
    rm = RM_EST + [0.004, -0.05, 0.01]  # day -1 is the gap
    r = [0.001 + 1.5 * m + e for m, e in zip(RM_EST, E_EST, strict=True)] + [0.0, -0.09, 0.02]
    return pd.DataFrame({"X": r, "M": rm}, index=pd.DatetimeIndex(days, name="date"))


def _panel():
    ret = _panel_returns()
    return es.event_panel(ret, ret.index[6], ["X"], market="M", estimation_window=(-6, -2),
                          event_span=(0, 1), min_obs=5)


def test_market_model_fit_and_abnormal_return_by_hand():
    p = _panel()
    fit = p.fits["X"]
    assert fit.model == es.MARKET_MODEL
    assert fit.alpha == pytest.approx(0.001, abs=1e-14)
    assert fit.beta == pytest.approx(1.5, abs=1e-12)
    assert fit.sigma2 == pytest.approx(S2, rel=1e-10)
    # AR_0 = -0.09 - (0.001 + 1.5 * -0.05) = -0.016; AR_1 = 0.02 - (0.001 + 0.015) = 0.004
    assert p.ar.loc[0, "X"] == pytest.approx(-0.016, abs=1e-14)
    assert p.ar.loc[1, "X"] == pytest.approx(0.004, abs=1e-14)
    # var(AR_0) = s^2 (1 + 1/5 + (-0.05 - 0.002)^2 / 0.00148) = s^2 * 3.027027 = 1.412613e-5
    r0 = es.stock_car(p, "X", (0, 0))
    assert r0["sd_car"] ** 2 == pytest.approx(1.4126126126e-5, rel=1e-9)
    assert r0["t_stat"] == pytest.approx(-0.016 / np.sqrt(1.4126126126e-5), rel=1e-9)
    assert r0["p_value"] == pytest.approx(2 * stats.t.sf(abs(r0["t_stat"]), 3), rel=1e-12)
    # CAR[0,+1] = -0.012; var = s^2 (2 + 4/5 + (-0.052 + 0.008)^2 / 0.00148) = 1.917117e-5
    r01 = es.stock_car(p, "X", (0, 1))
    assert r01["car"] == pytest.approx(-0.012, abs=1e-14)
    assert r01["sd_car"] ** 2 == pytest.approx(1.917117117e-5, rel=1e-9)


def test_car_variance_equals_mackinlay_matrix_form():
    """MacKinlay (1997): V = s^2 (I + X*(X'X)^-1 X*'); var(CAR) = 1'V1."""
    p = _panel()
    fit = p.fits["X"]
    x = np.column_stack([np.ones(5), RM_EST])
    xs = np.array([[1.0, -0.05], [1.0, 0.01]])
    v = fit.sigma2 * (np.eye(2) + xs @ np.linalg.inv(x.T @ x) @ xs.T)
    assert es.car_variance(fit, np.array([-0.05, 0.01])) == pytest.approx(v.sum(), rel=1e-12)


def test_market_adjusted_fallback():
    ret = _panel_returns()
    p = es.event_panel(ret, ret.index[6], ["X"], market="M", estimation_window=(-6, -2),
                       event_span=(0, 1), min_obs=6)  # 5 < 6 observations -> fallback
    fit = p.fits["X"]
    assert fit.model == es.MARKET_ADJUSTED and fit.df == 4
    assert p.ar.loc[0, "X"] == pytest.approx(-0.09 + 0.05, abs=1e-15)  # R - Rm
    d = np.array([0.001 + 0.5 * m + e for m, e in zip(RM_EST, E_EST, strict=True)])
    assert fit.sigma2 == pytest.approx(d.var(ddof=1), rel=1e-12)
    assert es.stock_car(p, "X", (0, 1))["sd_car"] ** 2 == pytest.approx(2 * d.var(ddof=1))


def test_day0_must_be_trading_day():
    ret = _panel_returns()
    with pytest.raises(ValueError, match="not a trading day"):
        es.event_panel(ret, "2025-03-08", ["X"], market="M")  # a Saturday


# ----------------------------------------------------------------- cross-sectional statistics
SCAR = np.array([1.0, 2.0, -0.5, 1.5])
DF = np.array([8, 8, 10, 10])


def test_patell_by_hand():
    """Patell (1976): Z = sum SCAR / sqrt(sum df/(df-2)).
    sum SCAR = 4.0; sum df/(df-2) = 2*(8/6) + 2*(10/8) = 5.166667; Z = 4/2.273030 = 1.759765."""
    z, p = es.patell_z(SCAR, DF)
    assert z == pytest.approx(1.7597653802562396, rel=1e-12)
    assert p == pytest.approx(2 * stats.norm.sf(1.7597653802562396), rel=1e-10)


def test_bmp_by_hand():
    """BMP (1991): t = mean(SCAR) / (sd(SCAR)/sqrt(N)).
    mean = 1.0; squared deviations 0 + 1 + 2.25 + 0.25 = 3.5; sd = sqrt(3.5/3) = 1.080123;
    t = 1.0 / (1.080123 / 2) = 1.851640."""
    t, p = es.bmp_t(SCAR)
    assert t == pytest.approx(1.8516401995451028, rel=1e-12)
    assert p == pytest.approx(2 * stats.t.sf(t, 3), rel=1e-10)


def test_kolari_pynnonen_by_hand_and_limits():
    """Kolari & Pynnonen (2010): t_adj = t_BMP sqrt((1 - r)/(1 + (N-1) r)).
    r = 0.1, N = 4: factor sqrt(0.9/1.3) = 0.832050; t_adj = 1.851640 * 0.832050 = 1.540658."""
    t_bmp, _ = es.bmp_t(SCAR)
    assert es.kolari_pynnonen_t(SCAR, 0.1)[0] == pytest.approx(1.5406577730392865, rel=1e-12)
    assert es.kolari_pynnonen_t(SCAR, 0.0)[0] == pytest.approx(t_bmp, rel=1e-15)
    for r in (0.01, 0.2, 0.5):
        assert abs(es.kolari_pynnonen_t(SCAR, r)[0]) < abs(t_bmp)


def test_average_cross_correlation_by_hand():
    """corr(x, y) = 1, corr(x, z) = corr(y, z) = -1 -> mean of off-diagonals = -1/3."""
    df = pd.DataFrame({"x": [1, 2, 3, 4.0], "y": [2, 4, 6, 8.0], "z": [4, 3, 2, 1.0]})
    assert es.average_cross_correlation(df, min_common=3) == pytest.approx(-1 / 3, rel=1e-12)


def _rank_panel():
    # rows: relative days -4..0, columns: 3 stocks
    return pd.DataFrame(
        {"A": [0.01, -0.02, 0.00, 0.03, -0.05],
         "B": [0.02, 0.01, -0.01, 0.00, -0.03],
         "C": [-0.01, 0.03, 0.02, -0.02, 0.01]},
        index=[-4, -3, -2, -1, 0],
    )


def test_corrado_single_day_by_hand():
    """Corrado (1989). Ranks over the T = 5 days: A 4,2,3,5,1; B 5,4,2,3,1; C 2,5,4,1,3.
    K - (T+1)/2: A 1,-1,0,2,-2; B 2,1,-1,0,-2; C -1,2,1,-2,0. Daily means: 2/3, 2/3, 0, 0, -4/3.
    S(K) = sqrt((4/9 + 4/9 + 16/9)/5) = sqrt(24/45) = 0.730297; T = (-4/3)/S(K) = -1.825742."""
    z, p = es.corrado_rank(_rank_panel(), [0], [-4, -3, -2, -1])
    assert z == pytest.approx(-1.8257418583505538, rel=1e-12)
    assert p == pytest.approx(2 * stats.norm.sf(1.8257418583505538), rel=1e-10)


def test_corrado_multi_day_campbell_wasley_by_hand():
    """Campbell & Wasley (1993) window [-1, 0]: (Ubar_-1 + Ubar_0) / (sqrt(2) S_U)
    = (0 - 4/3) / (sqrt(2) * 0.730297) = -1.290994 (rank scale cancels)."""
    z, _ = es.corrado_rank(_rank_panel(), [-1, 0], [-4, -3, -2])
    assert z == pytest.approx(-1.2909944487358056, rel=1e-12)


def test_portfolio_t_by_hand():
    """Brown & Warner (1985) crude dependence adjustment.
    Portfolio residuals: mean of A and B per day = 0.02, -0.01, 0.01, -0.01; mean 0.0025;
    squared deviations 3.0625e-4 + 1.5625e-4 + 0.5625e-4 + 1.5625e-4 = 6.75e-4;
    s_p^2 = 6.75e-4/3 = 2.25e-4. CAR_p = (0.05 + 0.01)/2 = 0.03;
    t = 0.03 / sqrt(2 * 2.25e-4) = 0.03 / 0.0212132 = 1.414214 (L2 = 2)."""
    est = pd.DataFrame({"A": [0.01, -0.01, 0.02, 0.0], "B": [0.03, -0.01, 0.0, -0.02]})
    out = es.portfolio_car_t(est, pd.Series({"A": 0.05, "B": 0.01}), 2)
    assert out["car"] == pytest.approx(0.03, abs=1e-15)
    assert out["t_stat"] == pytest.approx(1.4142135623730951, rel=1e-12)


def test_cross_section_tests_consistent_with_per_stock():
    """On a seeded 4-stock panel with a common factor, the per-event tests equal the formula
    functions applied to the per-stock SCARs, and KP < BMP in size (positive rbar)."""
    rng = np.random.default_rng(20250101)
    n = 80
    m = rng.normal(0, 0.01, n)
    f = rng.normal(0, 0.01, n)
    cols = {"M": m}
    for i, t in enumerate("ABCD"):
        cols[t] = 0.0005 + (0.8 + 0.2 * i) * m + 0.7 * f + rng.normal(0, 0.01, n)
    ret = pd.DataFrame(cols, index=pd.bdate_range("2025-01-02", periods=n))
    ret.iloc[70, 1:] -= 0.05  # event day shock
    p = es.event_panel(ret, ret.index[70], list("ABCD"), market="M",
                       estimation_window=(-60, -6), event_span=(-1, 5), min_obs=30)
    rows = {r["test"]: r for r in es.cross_section_tests(p, list("ABCD"), (0, 1))}
    scar = np.array([es.stock_car(p, t, (0, 1))["t_stat"] for t in "ABCD"])
    assert rows["bmp"]["statistic"] == pytest.approx(es.bmp_t(scar)[0], rel=1e-12)
    assert rows["patell"]["statistic"] == pytest.approx(
        es.patell_z(scar, np.full(4, 53.0))[0], rel=1e-12)
    assert rows["kolari_pynnonen"]["rbar"] > 0
    assert abs(rows["kolari_pynnonen"]["statistic"]) < abs(rows["bmp"]["statistic"])


def test_window_label():
    assert [es.window_label(w) for w in es.DEFAULT_WINDOWS] == ["[0,0]", "[0,+1]", "[-1,+1]",
                                                                "[0,+5]"]


# ----------------------------------------------------------------- vectorised engine, clean windows
def _random_panel(seed=4, n=160):
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, n)
    cols = {"M": m}
    for i, t in enumerate("ABC"):
        cols[t] = 0.002 * i + (0.6 + 0.4 * i) * m + rng.normal(0, 0.015, n)
    r = pd.DataFrame(cols, index=pd.bdate_range("2025-01-02", periods=n, name="date"))
    r.iloc[40:55, 2] = np.nan  # B misses 15 estimation days
    return r


def test_vectorised_fits_equal_statsmodels_ols_on_the_clean_days():
    """Market model = statsmodels OLS with a constant, zero-alpha model = OLS through the origin,
    both on the estimation days left after `exclude` and `not_before`."""
    import statsmodels.api as smapi

    r = _random_panel()
    day0 = r.index[150]
    excl = r.index[60:70]
    p = es.event_panel(r, day0, list("ABC"), market="M", estimation_window=(-120, -11), event_span=(-1, 5),
                       min_obs=60, exclude=excl, not_before={"C": r.index[50]})
    est = r.index[30:140]
    for t, keep in [("A", est.difference(excl)), ("B", est.difference(excl)), ("C", est.difference(excl)[est.difference(excl) >= r.index[50]])]:
        d = r.loc[keep, [t, "M"]].dropna()
        ols = smapi.OLS(d[t], smapi.add_constant(d["M"])).fit()
        ols0 = smapi.OLS(d[t], d["M"]).fit()
        f = p.fits[t]
        assert f.n_obs == len(d)
        assert (f.alpha, f.beta) == pytest.approx(tuple(ols.params), rel=1e-10)
        assert f.sigma2 == pytest.approx(ols.mse_resid, rel=1e-10)
        assert f.beta0 == pytest.approx(ols0.params.iloc[0], rel=1e-10)
        assert f.sigma2_0 == pytest.approx(ols0.mse_resid, rel=1e-10)
        # estimation residuals only on the clean days
        assert p.ar[t].loc[-120:-11].notna().sum() == len(d)
    assert p.fits["B"].n_obs == len(est.difference(excl)) - 15


def test_window_stats_zero_alpha_and_raw_by_hand():
    """Zero-alpha CAR = sum(R - beta0 Rm); its variance s0^2 (L2 + (sum Rm)^2 / sum_est Rm^2)
    (regression through the origin); raw = compounded return."""
    r = _random_panel()
    p = es.event_panel(r, r.index[150], list("ABC"), market="M", event_span=(0, 1), min_obs=60)
    ws = es.window_stats(p, (0, 1)).loc["A"]
    f = p.fits["A"]
    ra, rm = r["A"].iloc[150:152].to_numpy(), r["M"].iloc[150:152].to_numpy()
    assert ws["car_zero_alpha"] == pytest.approx((ra - f.beta0 * rm).sum(), rel=1e-12)
    sd0 = np.sqrt(f.sigma2_0 * (2 + rm.sum() ** 2 / f.sxx0))
    assert ws["t_zero_alpha"] == pytest.approx(ws["car_zero_alpha"] / sd0, rel=1e-10)
    assert ws["raw_return"] == pytest.approx(np.prod(1 + ra) - 1, rel=1e-12)
    assert ws["car"] == pytest.approx((ra - f.alpha - f.beta * rm).sum(), rel=1e-12)
    assert ws["sd_car"] ** 2 == pytest.approx(es.car_variance(f, rm), rel=1e-12)


def test_short_window_tier_is_flagged():
    r = _random_panel()
    # 110-day window, 75 days excluded: 35 clean days -> short window at min_short_obs=30, else adjusted
    p = es.event_panel(r, r.index[150], list("AC"), market="M", min_obs=60, min_short_obs=30,
                       exclude=r.index[30:105])
    assert p.fits["A"].model == es.MARKET_MODEL_SHORT and p.fits["A"].n_obs == 35
    assert es.event_panel(r, r.index[150], ["A"], market="M", min_obs=60, min_short_obs=40,
                          exclude=r.index[30:105]).fits["A"].model == es.MARKET_ADJUSTED


def test_event_study_pools_only_the_given_events():
    r = _random_panel()
    ev = pd.DataFrame({"event_id": ["X", "Y"], "day0": [r.index[140], r.index[143]], "kind": "k",
                       "origin": "A", "confidence": "high"})
    st = es.event_study(r, ev, list("ABC"), market="M", windows=((0, 1),), pooled=["X"])
    assert st.car_table.groupby("event_id")["in_pooled"].first().to_dict() == {"X": True, "Y": False}
    assert set(st.pooled_by_kind["n_events"]) == {1}
