"""Forbes-Rigobon test and rolling residual betas."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.market import contagion as cg
from analysis.market.returns import k_day_returns


def _returns(n=300, seed=11):
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 0.01, n)
    s = 1.2 * m + rng.normal(0, 0.03, n)
    cols = {"SPY": m, "SRC": s}
    for i, t in enumerate(["P1", "P2", "P3"]):
        cols[t] = 0.9 * m + (0.2 + 0.2 * i) * s + rng.normal(0, 0.02, n)
    return pd.DataFrame(cols, index=pd.bdate_range("2025-01-02", periods=n, name="date"))


def test_adjusted_correlation_and_fisher_by_hand():
    """FR (2002): rho* = rho / sqrt(1 + delta (1 - rho^2)); rho = 0.5, delta = 1:
    0.5 / sqrt(1.75) = 0.377964. Fisher: (atanh 0.6 - atanh 0.3) / sqrt(1/25 + 1/50)
    = (0.693147 - 0.309520) / 0.244949 = 1.566153."""
    assert cg.fr_adjusted_correlation(0.5, 1.0) == pytest.approx(0.3779644730092272, rel=1e-12)
    z, p = cg.fisher_z_greater(0.6, 28, 0.3, 53)
    assert z == pytest.approx(1.5661530222247237, rel=1e-12)
    assert p == pytest.approx(stats.norm.sf(1.5661530222247237), rel=1e-12)  # 0.058656


def test_identical_windows_give_plain_correlation():
    r = _returns()
    span = ("2025-02-03", "2025-09-30")
    out = cg.forbes_rigobon(r, "SRC", ["P1", "P2", "P3"], crisis=span, tranquil=span, k=2)
    two = k_day_returns(r.loc[span[0]:span[1]], 2)
    for row in out.itertuples():
        plain = two["SRC"].corr(two[row.ticker])
        assert row.delta == pytest.approx(0.0, abs=1e-15)
        assert row.rho_crisis == pytest.approx(plain, rel=1e-12)
        assert row.rho_crisis_adj == pytest.approx(plain, rel=1e-12)
        assert row.rho_tranquil == pytest.approx(plain, rel=1e-12)
        assert row.p_adj == pytest.approx(0.5) and row.verdict == "no change"


def test_pure_volatility_rise_is_interdependence_not_contagion():
    """Same linear model in both windows, source variance 9x in the crisis: the unadjusted
    correlation rises, the adjusted one does not (the FR point). Seeded."""
    rng = np.random.default_rng(3)
    n = 600
    s = rng.normal(0, 0.01, n)
    s[400:] *= 3.0
    p = 0.8 * s + rng.normal(0, 0.01, n)
    r = pd.DataFrame({"SRC": s, "P": p}, index=pd.bdate_range("2024-01-01", periods=n))
    d = r.index
    out = cg.forbes_rigobon(r, "SRC", ["P"], crisis=(d[400], d[-1]), tranquil=(d[0], d[399]), k=1)
    row = out.iloc[0]
    assert row.delta > 5
    assert row.rho_crisis > row.rho_tranquil + 0.1
    assert abs(row.rho_crisis_adj - row.rho_tranquil) < 0.1
    assert row.verdict == "interdependence"


def test_rolling_residual_beta_equals_ols_on_one_window():
    r = _returns()
    rb = cg.rolling_residual_beta(r, "SRC", "SPY", ["P1", "P2", "P3"], window=60)
    end = r.index[150]
    w = r.iloc[91:151]
    for t in ["P1", "P3"]:
        got = rb[(rb.date == end) & (rb.ticker == t)].iloc[0]
        fit = sm.OLS(w[t], sm.add_constant(w[["SPY", "SRC"]])).fit()
        assert got.beta == pytest.approx(fit.params["SRC"], rel=1e-9)
        e_s = sm.OLS(w["SRC"], sm.add_constant(w["SPY"])).fit().resid
        e_p = sm.OLS(w[t], sm.add_constant(w["SPY"])).fit().resid
        assert got["corr"] == pytest.approx(np.corrcoef(e_s, e_p)[0, 1], rel=1e-9)
    assert rb["date"].min() == r.index[59]  # first complete window


def test_rolling_residual_beta_never_fills():
    r = _returns()
    r.iloc[100, r.columns.get_loc("P1")] = np.nan
    rb = cg.rolling_residual_beta(r, "SRC", "SPY", ["P1"], window=60)
    d = set(rb["date"])
    assert r.index[100] not in d and r.index[159] not in d and r.index[160] in d
