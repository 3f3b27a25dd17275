"""Diebold-Yilmaz connectedness: generalized FEVD properties and the fast rolling VAR."""

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.api import VAR

from analysis.market import connectedness as cn


def _simulate(t=600, seed=7):
    rng = np.random.default_rng(seed)
    a = np.array([[0.3, 0.1, 0.0, 0.0], [0.2, 0.2, 0.1, 0.0], [0.0, 0.3, 0.1, 0.05],
                  [0.1, 0.0, 0.0, 0.2]])
    chol = np.array([[1, 0, 0, 0], [0.5, 1, 0, 0], [0.2, 0.3, 1, 0], [0.1, 0.1, 0.1, 1.0]])
    y = np.zeros((t, 4))
    for i in range(1, t):
        y[i] = a @ y[i - 1] + chol @ rng.normal(size=4)
    return pd.DataFrame(0.01 * y, columns=list("ABCD"),
                        index=pd.bdate_range("2024-01-01", periods=t, name="date"))


def test_rows_sum_to_one_and_measures_consistent():
    res = cn.dy_static(_simulate(), horizon=10, lags=2)
    assert np.allclose(res.table.sum(axis=1), 1.0, atol=1e-14)
    assert res.to.sum() == pytest.approx(res.from_.sum(), rel=1e-12)
    assert res.total == pytest.approx(res.from_.mean(), rel=1e-12)
    assert res.net.sum() == pytest.approx(0.0, abs=1e-12)
    pw = res.pairwise_net
    assert np.allclose(pw, -pw.T, atol=1e-15)
    assert pw.loc["A", "B"] == pytest.approx(res.table.loc["B", "A"] - res.table.loc["A", "B"])


def test_order_invariance():
    y = _simulate()
    a = cn.dy_static(y, lags=2)
    perm = ["C", "A", "D", "B"]
    b = cn.dy_static(y[perm], lags=2)
    assert np.allclose(a.table.loc[perm, perm], b.table, atol=1e-12)
    assert a.total == pytest.approx(b.total, rel=1e-12)


def test_diagonal_covariance_matches_statsmodels_orthogonalised_fevd():
    """With Sigma diagonal the Pesaran-Shin FEVD equals the Cholesky FEVD (Pesaran-Shin 1998,
    sec. 3): statsmodels' fevd(periods=H).decomp[:, H-1, :] with that Sigma, to 1e-10."""
    res = VAR(_simulate().to_numpy()).fit(2)
    diag = np.diag(np.diag(res.sigma_u))
    res._results.sigma_u = diag  # fevd's mse() reads the underlying results' sigma_u
    h = 10
    sm_dec = res.fevd(h, var_decomp=np.sqrt(diag)).decomp[:, h - 1, :]
    mine = cn.generalized_fevd(res.ma_rep(h - 1), diag, normalize=False)
    assert np.abs(mine - sm_dec).max() < 1e-10
    assert np.allclose(mine.sum(axis=1), 1.0, atol=1e-12)  # no normalisation needed here


def test_independent_processes_give_near_zero_cross_spillovers():
    rng = np.random.default_rng(20120101)
    t = 20000
    y = np.zeros((t, 2))
    e = rng.normal(size=(t, 2)) * [0.01, 0.02]
    for i in range(1, t):
        y[i] = [0.5 * y[i - 1, 0], -0.3 * y[i - 1, 1]] + e[i]
    res = cn.dy_static(pd.DataFrame(y, columns=["X", "Y"]), lags=1)
    off = res.table.to_numpy()[~np.eye(2, dtype=bool)]
    assert off.max() < 2e-3  # sampling noise only; exact 0 in population
    assert res.total < 2e-3


def test_ma_coefficients_match_statsmodels():
    res = VAR(_simulate().to_numpy()).fit(3)
    assert np.allclose(cn.ma_coefficients(res.coefs, 12), res.ma_rep(11), atol=1e-14)


def test_fast_rolling_ols_equals_statsmodels():
    y = _simulate(t=300).to_numpy()
    p, window = 2, 80
    icpt, coefs, sigma = cn.rolling_var_ols(y, p, window)
    assert coefs.shape == (300 - window + 1, p, 4, 4)
    for s in (0, 57, 220):
        ref = VAR(y[s : s + window]).fit(p)
        assert np.abs(coefs[s] - ref.coefs).max() < 1e-10
        assert np.abs(icpt[s] - ref.intercept).max() < 1e-10
        assert np.abs(sigma[s] - ref.sigma_u).max() < 1e-10


def test_rolling_total_equals_static_on_the_window_and_ticker_stop():
    y = _simulate(t=300)
    out = cn.dy_rolling(y, window=100, horizon=10, lags=1)
    tot = out["total"].set_index("date")["total"]
    ref = cn.dy_static(y.iloc[50:150], horizon=10, lags=1)
    assert tot.loc[y.index[149]] == pytest.approx(ref.total, rel=1e-10)
    assert out["net"].loc[y.index[149]].to_numpy() == pytest.approx(ref.net.to_numpy(), rel=1e-9)
    # a ticker that stops: later windows use the remaining 3 (n_vars) and its NET is NaN
    y2 = y.copy()
    y2.loc[y.index[250]:, "D"] = np.nan
    out2 = cn.dy_rolling(y2, window=100, lags=1, min_share=0.75)
    t2 = out2["total"].set_index("date")
    assert t2.loc[y.index[249], "n_vars"] == 4 and t2.loc[y.index[299], "n_vars"] == 3
    assert np.isnan(out2["net"].loc[y.index[299], "D"])
    ref3 = cn.dy_static(y[list("ABC")].iloc[200:300], lags=1)
    assert t2.loc[y.index[299], "total"] == pytest.approx(ref3.total, rel=1e-10)
    # fewer than min_share complete -> windows skipped
    out3 = cn.dy_rolling(y2, window=100, lags=1, min_share=1.0)
    assert out3["total"]["date"].max() == y.index[249]


def test_static_refuses_missing_values():
    y = _simulate()
    y.iloc[3, 0] = np.nan
    with pytest.raises(ValueError, match="missing"):
        cn.dy_static(y)
