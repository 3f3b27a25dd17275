"""Golden values for the valuation inputs, typed from the documents (tests/golden/valuation.yaml),
checked against what the loaders return, and the point-in-time rule for them: a note built before a
figure's publication (or before the document we read it in) does not see it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.data import load_fundamentals, load_sources

GOLDEN = yaml.safe_load((Path(__file__).parent / "golden" / "valuation.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fund():
    return load_fundamentals()


@pytest.mark.parametrize("g", GOLDEN["fundamentals"], ids=lambda g: f"{g['metric']}-{g['period']}")
def test_rows_match_the_documents(fund, g):
    rows = fund[(fund["metric"] == g["metric"]) & (fund["period"] == g["period"]) & (fund["source"] == g["source"])]
    assert len(rows) == 1, rows
    r = rows.iloc[0]
    assert r["value"] == pytest.approx(g["value"], abs=g["tolerance"])
    assert r["confidence"] == g["confidence"]
    assert r["published"] == pd.Timestamp(g["published"])


@pytest.mark.parametrize("g", GOLDEN["fundamentals"], ids=lambda g: f"{g['metric']}-{g['period']}")
def test_rows_are_invisible_before_their_document(g):
    doc_date = load_sources().set_index("id").loc[g["source"], "date"]
    seen_from = max(pd.Timestamp(g["published"]), pd.Timestamp(doc_date))
    before = load_fundamentals(as_of=(seen_from - pd.Timedelta(days=1)).date().isoformat())
    after = load_fundamentals(as_of=seen_from.date().isoformat())
    sel = lambda f: f[(f["metric"] == g["metric"]) & (f["period"] == g["period"]) & (f["source"] == g["source"])]  # noqa: E731
    assert sel(before).empty
    assert len(sel(after)) == 1
