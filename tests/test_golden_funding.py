"""Golden values for the funding data, typed from the documents (tests/golden/funding.yaml),
checked against what the loaders return."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.data import load_debt_facilities, load_debt_maturities, load_fundamentals

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden" / "funding.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fund():
    return load_fundamentals()


@pytest.mark.parametrize("g", GOLDEN["fundamentals"], ids=lambda g: f"{g['metric']}-{g['period']}")
def test_fundamentals_rows(fund, g):
    rows = fund[(fund["metric"] == g["metric"]) & (fund["period"] == g["period"]) & (fund["source"] == g["source"])]
    assert len(rows) == 1, rows
    assert rows["value"].iloc[0] == pytest.approx(g["value"], abs=g["tolerance"])
    assert rows["confidence"].iloc[0] == "high"


@pytest.mark.parametrize("g", GOLDEN["facilities"], ids=lambda g: f"{g['facility']}-{g['as_of']}")
def test_facility_rows(g):
    df = load_debt_facilities()
    r = df[(df["as_of"] == pd.Timestamp(g["as_of"])) & (df["facility"] == g["facility"])
           & (df["measure"] == g["measure"]) & (df["source"] == g["source"])]
    assert len(r) == 1
    r = r.iloc[0]
    assert r["amount_usd_m"] == pytest.approx(g["amount"], abs=0.0005)
    assert r["rate_pct"] == pytest.approx(g["rate_pct"], abs=1e-9)
    if "rate_high_pct" in g:
        assert r["rate_high_pct"] == pytest.approx(g["rate_high_pct"], abs=1e-9)
    assert r["maturity"] == g["maturity"]


@pytest.mark.parametrize("g", GOLDEN["maturities"], ids=lambda g: f"{g['bucket']}-{g['as_of']}")
def test_maturity_rows(g):
    df = load_debt_maturities()
    sel = (df["as_of"] == pd.Timestamp(g["as_of"])) & (df["bucket"] == g["bucket"]) & (df["source"] == g["source"])
    if "year" in g:
        sel &= df["year"] == g["year"]
    r = df[sel]
    assert len(r) == 1
    assert r["amount_usd_m"].iloc[0] == pytest.approx(g["amount"], abs=0.0005)
