"""Forbes-Rigobon test (bootstrap of the adjusted correlation), its size and power, its verdict;
rolling residual betas."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from analysis.data import load_dividends, load_events, load_prices
from analysis.market import contagion as cg
from analysis.market import windows as wn
from analysis.market.returns import daily_returns, k_day_returns
from analysis.sections.sector_contagion import DEFAULTS


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


def test_identical_windows_give_plain_correlation_and_no_fr_setting():
    """Same window twice: delta = 0, every correlation equals the plain one, T = 0, and with no
    rise in the source's variance the FR verdict is 'not applicable'."""
    r = _returns()
    span = ("2025-02-03", "2025-09-30")
    out = cg.forbes_rigobon(r, "SRC", ["P1", "P2", "P3"], crisis=span, tranquil=span, k=2, reps=199)
    two = k_day_returns(r.loc[span[0]:span[1]], 2)
    for row in out.itertuples():
        plain = two["SRC"].corr(two[row.ticker])
        assert row.delta == pytest.approx(0.0, abs=1e-15)
        assert row.rho_crisis == pytest.approx(plain, rel=1e-12)
        assert row.rho_crisis_adj == pytest.approx(plain, rel=1e-12)
        assert row.rho_tranquil == pytest.approx(plain, rel=1e-12)
        assert row.z_adj == pytest.approx(0.0, abs=1e-12) and 0.3 < row.p_adj < 0.7
        assert row.verdict == cg.NOT_APPLICABLE
    assert cg.crisis_answer(out) == cg.NOT_APPLICABLE


def _two_regimes(n_t, n_c, slope_c, var_ratio=9.0, seed=3, rho=0.6):
    rng = np.random.default_rng(seed)
    b = rho / np.sqrt(1 - rho**2)
    s = np.concatenate([rng.normal(0, 0.01, n_t), rng.normal(0, 0.01 * np.sqrt(var_ratio), n_c)])
    slope = np.r_[np.full(n_t, b), np.full(n_c, slope_c * b)]
    p = slope * s + rng.normal(0, 0.01, n_t + n_c)
    d = pd.bdate_range("2024-01-01", periods=n_t + n_c)
    return pd.DataFrame({"SRC": s, "P": p}, index=d), d


def test_pure_volatility_rise_is_interdependence_not_contagion():
    """Same linear model in both windows, source variance 9x in the crisis: the unadjusted
    correlation rises, the adjusted one does not (the FR point). Seeded."""
    r, d = _two_regimes(400, 200, 1.0)
    out = cg.forbes_rigobon(r, "SRC", ["P"], crisis=(d[400], d[-1]), tranquil=(d[0], d[399]), k=1)
    row = out.iloc[0]
    assert row.delta > 5
    assert row.rho_crisis > row.rho_tranquil + 0.1
    assert abs(row.rho_crisis_adj - row.rho_tranquil) < 0.1
    assert row.p_adj > 0.05 and row.verdict == "interdependence"


def test_doubled_slope_is_contagion():
    r, d = _two_regimes(400, 200, 2.0)
    out = cg.forbes_rigobon(r, "SRC", ["P"], crisis=(d[400], d[-1]), tranquil=(d[0], d[399]), k=1)
    row = out.iloc[0]
    assert row.delta > 5 and row.p_adj <= 0.01 and row.verdict == "contagion" and row.verdict_strict == "contagion"


def test_calmer_source_is_not_applicable():
    r, d = _two_regimes(400, 200, 2.0, var_ratio=0.5)
    out = cg.forbes_rigobon(r, "SRC", ["P"], crisis=(d[400], d[-1]), tranquil=(d[0], d[399]), k=1)
    assert out.iloc[0].delta < 0 and out.iloc[0].verdict == cg.NOT_APPLICABLE


def test_bootstrap_is_vectorised_consistently():
    """A stack of samples gives, for each, the statistic of that sample alone."""
    rng = np.random.default_rng(0)
    xt, yt, xc, yc = rng.normal(size=(3, 40)), rng.normal(size=(3, 40)), rng.normal(size=(3, 12)), rng.normal(size=(3, 12))
    stack = cg.fr_bootstrap_test(xt, yt, xc, yc, reps=99, rng=1)
    for i in range(3):
        one = cg.fr_bootstrap_test(xt[i], yt[i], xc[i], yc[i], reps=99, rng=1)
        rho_c = np.corrcoef(xc[i], yc[i])[0, 1]
        delta = xc[i].var(ddof=1) / xt[i].var(ddof=1) - 1
        assert one["rho_crisis"] == pytest.approx(rho_c, rel=1e-12)
        assert one["rho_crisis_adj"] == pytest.approx(cg.fr_adjusted_correlation(rho_c, delta), rel=1e-12)
        assert stack["stat"][i] == pytest.approx(one["stat"], rel=1e-12)


def _note_window_sizes():
    """The crisis and tranquil period counts of the latest note, computed as the section does:
    crisis windows from the rule with the notebook's default parameters, per crisis the median
    over peers of the k-day periods, then the median over the tested crises."""
    p = DEFAULTS
    tickers = list(p["tickers"])
    r, _ = daily_returns(load_prices([*tickers, p["benchmark"]]), load_dividends())
    ev = load_events()
    listing = wn.listing_exclusions(ev, r.index, p["ipo_days"])
    cw = wn.crisis_windows(ev, r, tickers[0], p["crisis_threshold"], p["crisis_days"], p["tranquil_days"],
                           p["min_crisis_days"], tuple(p["pooled_confidence"]), listing.get(tickers[0]))
    sizes = []
    for c in cw[cw["status"] == "ok"].itertuples():
        fr = cg.forbes_rigobon(r, tickers[0], tickers[1:], crisis=cw.attrs["crisis_days"][c.crisis],
                               tranquil=cw.attrs["tranquil_days"][c.crisis], k=p["fr_k"], reps=9)
        sizes.append((fr["n_tranquil"].median(), fr["n_crisis"].median()))
    s = np.array(sizes)
    return int(np.median(s[:, 0])), int(np.median(s[:, 1])), s


def test_fr_test_size_and_power_at_the_note_window_sizes():
    """Seeded simulation at the note's window sizes (source variance x9 in the crisis, as in the
    issue): the size at a nominal 5% lies in [3%, 7%] with 2,000 replications (Monte Carlo s.e.
    about 0.5 pp), also at the smallest tranquil window of any crisis; the power against a doubling of
    the slope is reported and is far above the 41% of the Fisher-z test this replaces."""
    nt, nc, all_sizes = _note_window_sizes()
    assert nc == 18 and 30 <= nt <= 80
    size = cg.fr_rejection_rate(nt, nc, reps=2000, boot=199, seed=1)
    power = cg.fr_rejection_rate(nt, nc, slope_factor=2.0, reps=600, boot=199, seed=2)
    print(f"FR bootstrap test at n_tranquil={nt}, n_crisis={nc}: size {size:.3f}, power (2x slope) {power:.3f}")
    assert 0.03 <= size <= 0.07
    assert power > 0.5
    assert 0.03 <= cg.fr_rejection_rate(int(all_sizes[:, 0].min()), nc, reps=1000, boot=199, seed=3) <= 0.07


def test_the_replaced_fisher_test_on_the_adjusted_correlation_was_undersized():
    """The issue's finding, reproduced: Fisher z with 1/(n_c - 3) on rho* rejects far less than 5%."""
    rng = np.random.default_rng(5)
    hits, reps = 0, 2000
    for _ in range(reps):
        xt, xc = rng.normal(size=74), rng.normal(scale=3.0, size=18)
        yt, yc = 0.6 * xt + rng.normal(size=74), 0.6 * xc + rng.normal(size=18)
        rt, rc = np.corrcoef(xt, yt)[0, 1], np.corrcoef(xc, yc)[0, 1]
        delta = xc.var(ddof=1) / xt.var(ddof=1) - 1
        hits += cg.fisher_z_greater(cg.fr_adjusted_correlation(rc, delta), 18, rt, 74)[1] < 0.05
    assert hits / reps < 0.02


# --------------------------------------------------------------------------- verdict
def _crises(*rows):
    cols = ["crisis", "trigger", "start", "end", "status", "delta", "answer", "n_peers", "n_contagion",
            "n_interdependence", "n_crisis"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows], columns=cols)


K1 = ("K1", "E07", pd.Timestamp("2025-08-13"), pd.Timestamp("2025-10-02"), "ok")


def test_verdict_not_applicable_when_source_calmer(check_headline):
    v = cg.contagion_verdict(_crises((*K1, -0.3, cg.NOT_APPLICABLE, 20, 0, 0, 18)), "CRWV", rule="rule text")
    assert v.answer == "not applicable" and not v.conclusive
    assert v.sentence.startswith("Not applicable (source calmer in the crisis)")
    assert "delta -0.30" in v.sentence and "2025-08-13 to 2025-10-02" in v.sentence and "rule text" in v.sentence
    assert "contagion" not in v.sentence.lower().replace("contagion or", "")
    assert v.period == "2025-08-13 to 2025-10-02"
    check_headline(v, "CRWV calmer in the crisis window than before it, delta -0.30 (2025-08-13 to 2025-10-02)")


def test_verdict_interdependence_contagion_and_mixed(check_headline):
    k2 = ("K2", "E14", pd.Timestamp("2025-11-11"), pd.Timestamp("2026-01-02"), "ok")
    inter = cg.contagion_verdict(_crises((*K1, 0.4, "interdependence", 20, 0, 5, 18)), "CRWV")
    assert inter.answer == "interdependence" and "5 of 20 plain correlations rose" in inter.sentence
    check_headline(inter, "(delta +0.40); 5 of 20 plain correlations rose (2025-08-13 to 2025-10-02)")
    cont = cg.contagion_verdict(_crises((*K1, 0.4, "contagion", 20, 12, 2, 18)), "CRWV")
    assert cont.answer == "contagion" and "12 of 20 peers" in cont.sentence
    check_headline(cont, "12 of 20 peers' correlation with CRWV rose beyond its volatility", "2025-08-13 to 2025-10-02")
    mixed = cg.contagion_verdict(_crises((*K1, 0.4, "interdependence", 20, 0, 5, 18),
                                         (*k2, -0.2, cg.NOT_APPLICABLE, 20, 0, 0, 18)), "CRWV")
    assert mixed.answer == "mixed" and "E07" in mixed.sentence and "E14" in mixed.sentence
    assert check_headline(mixed) == "interdependence (crisis window from 2025-08-13); CRWV calmer (from 2025-11-11)"
    # the latest note's case: four windows, two of them calmer, their start dates joined by 'and'
    k3 = ("K3", "E22", pd.Timestamp("2026-02-27"), pd.Timestamp("2026-04-20"), "ok")
    k4 = ("K4", "E24", pd.Timestamp("2026-05-08"), pd.Timestamp("2026-06-30"), "ok")
    four = cg.contagion_verdict(_crises((*K1, 0.11, "interdependence", 20, 0, 5, 18), (*k2, 0.04, "mixed", 20, 8, 2, 18),
                                        (*k3, -0.14, cg.NOT_APPLICABLE, 20, 0, 0, 18),
                                        (*k4, -0.38, cg.NOT_APPLICABLE, 20, 0, 0, 18)), "CRWV")
    assert check_headline(four) == ("interdependence (crisis window from 2025-08-13); contagion for 8 of 20 peers "
                                    "(from 2025-11-11); CRWV calmer (from 2026-02-27 and 2026-05-08)")
    # many windows: each answer with its number of windows instead of their dates, within the bound
    many = [(f"K{i}", f"E{i:02d}", pd.Timestamp(f"2025-{i:02d}-01"), pd.Timestamp(f"2025-{i:02d}-20"), "ok")
            for i in range(1, 13)]
    crowd = cg.contagion_verdict(_crises(*[(*k, 0.4 if i % 3 else -0.2, ("contagion", cg.NOT_APPLICABLE,
                                                                           "interdependence")[i % 3], 20, 12, 3, 18)
                                           for i, k in enumerate(many)]), "CRWV")
    assert crowd.answer == "mixed"
    check_headline(crowd, "contagion in 4, CRWV calmer in 4, interdependence in 4 of 12 crisis windows")
    calm = cg.contagion_verdict(_crises(*[(*k, -0.1 - i / 100, cg.NOT_APPLICABLE, 20, 0, 0, 18)
                                          for i, k in enumerate(many)]), "CRWV")
    check_headline(calm, "calmer in the 12 crisis windows than before them, delta -0.21 to -0.10 (2025-01-01 to 2025-12-20)")


def test_verdict_insufficient_without_a_tested_crisis(check_headline):
    v = cg.contagion_verdict(_crises(), "CRWV")
    assert v.answer == "insufficient data"
    check_headline(v, "no CRWV fall of the size the rule needs yet")
    too_recent = _crises(("K1", "E24", pd.Timestamp("2026-05-08"), pd.Timestamp("2026-05-20"), "too recent",
                          np.nan, None, 0, 0, 0, 0)).assign(day0=pd.Timestamp("2026-05-08"), trigger_return=-0.114, days=9)
    v = cg.contagion_verdict(too_recent, "CRWV")
    assert v.answer == "insufficient data"
    assert "the selling that began on 2026-05-08 (E24, CRWV -11.4% on day 0) is too recent: 9 trading days" in v.sentence
    check_headline(v, "the selling from 2026-05-08 is too recent, 9 trading days")


def test_crisis_answer_counts_peers():
    fr = pd.DataFrame({"delta": [0.5] * 4, "verdict": ["contagion", "contagion", "no change", "interdependence"]})
    assert cg.crisis_answer(fr) == "contagion"  # 2 of 4: half
    fr["verdict"] = ["contagion", "no change", "no change", "interdependence"]
    assert cg.crisis_answer(fr) == "mixed"
    fr["verdict"] = ["no change"] * 3 + ["interdependence"]
    assert cg.crisis_answer(fr) == "interdependence"
    fr["verdict"] = ["no change"] * 4
    assert cg.crisis_answer(fr) == "no change"


# --------------------------------------------------------------------------- rolling betas
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
