"""Tests for analysis.fundamentals: best-figure selection, derived quarters, as_of, stocks at Q4.

Real data (data/fundamentals.csv) plus small hand-built frames. Expected numbers are read from
the CSV rows named in comments (which cite the filing / release), never from the code's output.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import fundamentals as F
from analysis.data import load_fundamentals

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden" / "unit_economics.yaml").read_text())


@pytest.fixture(scope="module")
def fund():
    return load_fundamentals()


@pytest.fixture(scope="module")
def best(fund):
    return F.best_figures(fund)


@pytest.fixture(scope="module")
def panel(fund):
    return F.quarterly_panel(fund)


def _rows(*rows):
    """Hand-built fundamentals frame: (period, metric, value, kind, confidence, published, source)."""
    recs = []
    for i, (period, metric, value, kind, conf, pub, src) in enumerate(rows, start=2):
        y = int(re.search(r"\d{4}", period)[0])
        start, end = {
            "Q1": ("01-01", "03-31"), "Q2": ("04-01", "06-30"), "Q3": ("07-01", "09-30"),
            "Q4": ("10-01", "12-31"), "H1": ("01-01", "06-30"), "9M": ("01-01", "09-30"),
            "FY": ("01-01", "12-31"),
        }[period[-2:] if period[-2] in "QH9" else "FY"]
        recs.append({"line": i, "period": period, "period_start": pd.Timestamp(f"{y}-{start}"),
                     "period_end": pd.Timestamp(f"{y}-{end}"),
                     "published": pd.Timestamp(pub) if pub else pd.NaT, "metric": metric,
                     "value": float(value), "unit": "usd_m", "source_kind": kind, "source": src,
                     "confidence": conf, "note": None, "undated": pub is None})
    return pd.DataFrame(recs)


# ----------------------------------------------------------------------------- best_figures
def test_best_prefers_confidence_then_kind_then_earliest():
    df = _rows(
        ("2025Q1", "revenue", 100, "news", "low", "2025-05-01", "N1"),
        ("2025Q1", "revenue", 101, "secondary", "medium", "2025-05-02", "S1"),
        ("2025Q1", "revenue", 102, "transcript", "medium", "2025-05-03", "T1"),
        ("2025Q2", "revenue", 200, "secondary", "medium", "2025-08-20", "S2"),
        ("2025Q2", "revenue", 201, "secondary", "medium", "2025-08-10", "S3"),
        ("2025Q3", "revenue", 300, "press_release", "medium", "2025-11-01", "P"),
        ("2025Q3", "revenue", 301, "filing", "high", "2025-11-05", "F"),
        ("FY2025", "revenue_guidance_low", 5000, "transcript", "medium", "2025-05-01", "T1"),
    )
    b = F.best_figures(df).set_index("period")
    assert b.loc["2025Q1", "value"] == 102  # medium ties: transcript outranks secondary
    assert b.loc["2025Q2", "value"] == 201  # same kind and confidence: earliest published
    assert b.loc["2025Q3", "value"] == 301  # high beats medium although published later
    assert "revenue_guidance_low" not in set(b["metric"])  # guidance is not reduced
    assert not b["derived"].any()
    assert "100 (N1, news, low)" in b.loc["2025Q1", "alternatives"]


def test_best_real_prefers_filing_over_press_release_summary(best):
    # 2025Q1 adjusted EBITDA exists only in the PR summary (medium); revenue 2025Q1 in the 10-Q (high)
    row = best[(best["period"] == "2025Q1") & (best["metric"] == "revenue")].iloc[0]
    assert (row["source"], row["confidence"]) == ("10Q_25Q1", "high")
    # FY2024 D&A: two low secondary rows that conflict (843 RR, 863 XN), same date: file order wins
    # and the other is kept as an alternative, never averaged.
    da = best[(best["period"] == "FY2024") & (best["metric"] == "depreciation_and_amortization")].iloc[0]
    assert da["confidence"] == "low"
    assert da["value"] in (843.0, 863.0)
    assert ("863" if da["value"] == 843 else "843") in da["alternatives"]


def test_best_one_row_per_cell(best):
    assert not best.duplicated(["period", "metric"]).any()
    assert not best["metric"].str.endswith(("_guidance_low", "_guidance_high")).any()


# ----------------------------------------------------------------------------- figure()
@pytest.mark.parametrize("g", GOLDEN["figures"], ids=lambda g: f"{g['metric']}-{g['period']}")
def test_golden_figures(g):
    fund = load_fundamentals(None if g["as_of"] == "latest" else g["as_of"])
    rec = F.figure(fund, g["metric"], g["period"])
    assert rec["value"] == pytest.approx(g["value"], abs=g["tolerance"]), g["note"]
    assert g["source"] in rec["source"].split(";")


def test_stock_q4_resolves_to_fy(fund):
    # data/FUNDAMENTALS.md: balances at 31 December are filed under FY<year>.
    rec = F.figure(fund, "debt_principal_total", "2024Q4")
    assert rec["period"] == "FY2024"
    assert rec["value"] == 8033.477  # 10-Q Q1-25 Note 10 comparative
    assert not rec["derived"]
    cash = F.figure(fund, "cash_and_equivalents", "2024Q4")
    assert cash["value"] == 1361.083


def test_missing_figure_has_reason_not_zero(fund):
    rec = F.figure(fund, "cash_and_equivalents", "2025Q2")  # Q2-25 balance sheet not found
    assert rec["value"] is None
    assert "not reported" in rec["reason"]
    g = F.figure(fund, "revenue_guidance_low", "FY2025")
    assert g["value"] is None and "guidance" in g["reason"]


def test_figure_as_of_before_release(fund):
    before = load_fundamentals("2025-11-09")
    rec = F.figure(before, "revenue", "2025Q3")
    assert rec["value"] is None and rec["reason"]
    after = load_fundamentals("2025-11-10")  # Q3-25 PR dateline
    assert F.figure(after, "revenue", "2025Q3")["value"] == 1364.676


# ----------------------------------------------------------------------------- derivations
def test_derived_q4_revenue_2024_hand_worked(fund):
    # FY2024 revenue 1,915 (RR, medium) - 9M-2024 1,167.996 (PR_25Q3, high) = 747.004
    rec = F.figure(fund, "revenue", "2024Q4")
    assert rec["derived"]
    assert rec["value"] == pytest.approx(1915 - 1167.996, abs=1e-9)
    assert rec["confidence"] == "medium"  # lowest of the parents
    assert rec["published"] == pd.Timestamp("2025-11-10")  # latest parent
    # the reported news figure (747, low) is kept as an alternative, not chosen
    assert "NASDAQ_Q425" in rec["alternatives"]


def test_derived_q2_from_9m_hand_worked(fund):
    # 9M-25 D&A 1,633.457 - Q1 443.497 - Q3 630.479 (PR_25Q3, 10Q_25Q1, PR_25Q3)
    rec = F.figure(fund, "depreciation_and_amortization", "2025Q2")
    assert rec["derived"] and rec["confidence"] == "high"
    assert rec["value"] == pytest.approx(1633.457 - 443.497 - 630.479, abs=1e-9)


def test_every_derived_cell_equals_its_parents(panel, best):
    prov = panel.provenance[panel.provenance["derived"] & ~panel.provenance["metric"].isin(list(F.COMPOSITES))]
    assert len(prov) > 5
    lookup = best.set_index(["period", "metric"])["value"]
    conf = best.set_index(["period", "metric"])["confidence"]
    for _, r in prov.iterrows():
        parts = r["derived_from"].split(" - ")
        vals, confs = [], []
        for p in parts:
            period, value = p.split(" ")[:2]
            vals.append(lookup[(period, r["metric"])])
            confs.append(conf[(period, r["metric"])])
            assert float(value) == vals[-1]
        assert r["value"] == pytest.approx(vals[0] - sum(vals[1:]), abs=1e-9), r["derived_from"]
        assert r["confidence"] == min(confs, key=F.CONFIDENCE_RANK.get)


def test_q4_fy_minus_quarters_when_9m_missing_and_preference():
    base = [
        ("2025Q1", "revenue", 10, "filing", "high", "2025-05-01", "A"),
        ("2025Q2", "revenue", 20, "filing", "high", "2025-08-01", "B"),
        ("2025Q3", "revenue", 30, "filing", "high", "2025-11-01", "C"),
        ("FY2025", "revenue", 100, "filing", "high", "2026-02-01", "D"),
    ]
    rec = F.figure(_rows(*base), "revenue", "2025Q4")
    assert rec["derived"] and rec["value"] == 40
    assert rec["derived_from"].count(" - ") == 3
    with9m = _rows(*base, ("2025-9M", "revenue", 61, "filing", "high", "2025-11-01", "E"))
    rec = F.figure(with9m, "revenue", "2025Q4")
    assert rec["value"] == 39  # FY - 9M preferred (fewer parents) at equal confidence
    assert rec["derived_from"].startswith("FY2025 100 (D, high) - 2025-9M 61")
    # a reported quarter wins ties against a derivation; loses to a higher-confidence one
    tie = _rows(*base, ("2025Q4", "revenue", 41, "filing", "high", "2026-02-01", "R"))
    assert F.figure(tie, "revenue", "2025Q4")["value"] == 41
    low = _rows(*base, ("2025Q4", "revenue", 41, "news", "low", "2026-02-01", "R"))
    assert F.figure(low, "revenue", "2025Q4")["value"] == 40


def test_stock_metrics_are_never_derived():
    df = _rows(("2025Q3", "debt_principal_total", 50, "filing", "high", "2025-11-01", "A"),
               ("2025H1", "debt_principal_total", 40, "filing", "high", "2025-08-01", "B"))
    rec = F.figure(df, "debt_principal_total", "2025Q2")
    assert rec["value"] == 40 and not rec["derived"]  # the balance at 2025-06-30
    assert F.figure(df, "debt_principal_total", "2025Q4")["value"] is None


# ----------------------------------------------------------------------------- panel
def test_panel_shape_and_columns(panel):
    for m in F.PANEL_METRICS:
        assert m in panel.values.columns
    assert panel.values.index[0] == "2024Q1"
    assert list(panel.values.index) == F.quarter_range("2024Q1", panel.values.index[-1])
    assert len(panel.provenance) == panel.values.size


def test_panel_missing_is_nan_with_reason(panel):
    # Q4-25 S&M is not in the data (FUNDAMENTALS.md gaps): NaN, never 0, with a reason
    assert np.isnan(panel.values.at["2025Q4", "sales_and_marketing"])
    rec = panel.record("2025Q4", "sales_and_marketing")
    assert rec["reason"]
    prov = panel.provenance
    assert prov.loc[prov["value"].isna(), "reason"].notna().all()
    assert prov.loc[prov["value"].notna(), "reason"].isna().all()


def test_panel_stock_q4_from_fy_and_derived_mask(panel):
    assert panel.values.at["2024Q4", "debt_principal_total"] == 8033.477
    mask = panel.derived_mask()
    assert mask.at["2024Q4", "revenue"] and not mask.at["2025Q3", "revenue"]
    assert not mask["debt_principal_total"].any()


def test_panel_as_of_excludes_unreleased_quarter():
    p = F.quarterly_panel(load_fundamentals("2025-11-09"))
    assert "2025Q3" not in p.values.index
    assert p.values.index[-1] == "2025Q2"
    p2 = F.quarterly_panel(load_fundamentals("2025-11-10"))
    assert p2.values.at["2025Q3", "revenue"] == 1364.676


def test_panel_point_in_time_drops_undated():
    # FY2025 debt principal (RR, 10-K via secondary) has no verified publication date
    latest = F.quarterly_panel(load_fundamentals())
    assert latest.values.at["2025Q4", "debt_principal_total"] == 21615
    assert latest.record("2025Q4", "debt_principal_total")["undated"]
    pit = F.quarterly_panel(load_fundamentals("2026-10-01"))
    assert np.isnan(pit.values.at["2025Q4", "debt_principal_total"])


def test_panel_first_quarter_and_opening():
    p = F.quarterly_panel(load_fundamentals(), first_quarter="2025Q1")
    assert p.values.index[0] == "2025Q1"
    op = p.record("2024Q4", "debt_principal_total")
    assert op["value"] == 8033.477


def test_markers():
    assert F.marker("press_release", "high") == "PR/H"
    assert F.marker("secondary", "medium", derived=True) == "S/M*"
    assert F.marker(None, None) == ""


def test_quarter_helpers():
    assert F.quarter_end("2025Q4") == pd.Timestamp("2025-12-31")
    assert F.previous_quarter("2025Q1") == "2024Q4"
    with pytest.raises(ValueError):
        F.parse_quarter("FY2025")


def test_publication_cutoffs_point_in_time():
    import csv

    from analysis import paths
    from analysis.fundamentals import publication_cutoffs

    with open(paths.ROOT / "data" / "fundamentals.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["published"]]
    for as_of in ("2025-11-10", "2026-12-31"):
        # month-only dates count from the month end (data/README.md); ISO text compares as dates
        def day(p):
            return p + "-31" if len(p) == 7 else p  # "-31" sorts after every day of that month: enough to compare
        public = [r for r in rows if day(r["published"]) <= as_of]
        want_filing = max(r["published"] for r in public if r["source_kind"] in ("filing", "press_release"))
        got = publication_cutoffs(load_fundamentals(as_of))
        assert got["filing_cutoff"].date().isoformat() == want_filing
    # as of 2025-11-10 the Q3-25 press release (2025-11-10) is the latest primary document;
    # the 10-Q of 2025-11-13 is not yet public
    assert publication_cutoffs(load_fundamentals("2025-11-10"))["filing_cutoff"] == pd.Timestamp("2025-11-10")


def test_carrying_debt_sums_its_components_and_prefers_the_reported_total(panel):
    """Composite balance debt_carrying_total: the reported total (debt_total_net) where it exists,
    else current + non-current, else the four 2026 components; figures read in data/fundamentals.csv
    from the Q3-25 press release [PR_25Q3] and the Q2-26 release quoted by [PHYS]."""
    v = panel.values["debt_carrying_total"]
    rec = panel.record("2025Q3", "debt_carrying_total")
    assert v["2025Q3"] == pytest.approx(3712.177 + 10322.757, abs=1e-9) and rec["derived"]
    assert rec["source"] == "PR_25Q3" and rec["confidence"] == "high"
    assert v["2026Q2"] == pytest.approx(6235 + 25170 + 1278 + 2385, abs=1e-9)
    assert panel.record("2026Q2", "debt_carrying_total")["derived"]
    # 2025Q2: the reported net total (SEC R41, 11,051.501) equals current + non-current; the total wins
    r2 = panel.record("2025Q2", "debt_carrying_total")
    assert v["2025Q2"] == pytest.approx(11051.501) and not r2["derived"]
    assert "3627.664" in r2["alternatives"] or "11051.501" in r2["alternatives"]
    assert np.isnan(v["2026Q1"]) and "no complete set" in panel.record("2026Q1", "debt_carrying_total")["reason"]
