"""The loaders on the real vendored data: row counts, dtypes, known values, line numbers."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from edits import lines

from analysis import data as D
from analysis import paths

DATA = paths.ROOT / "data"

# Row counts: `wc -l` of each vendored file minus its header line (no field of these files spans
# several lines, so physical lines = rows); claims: `grep -c '^- id:' data/claims.yaml`.
ROWS = {
    "load_fundamentals": 481, "load_customers": 29, "load_contracts": 9, "load_financings": 11,
    "load_sources": 48, "load_debt_facilities": 31, "load_debt_maturities": 20, "load_events": 26, "load_dividends": 59, "load_claims": 31,
}
# Price rows per ticker (`wc -l data/prices/<T>.csv` - 1): CRWV listed 2025-03-28, CORZ ends
# 2026-05-29 (data/README.md "Known gaps"), the other 22 tickers run 2025-01-02..2026-09-15.
PRICE_ROWS = {"CRWV": 386, "CORZ": 352}
OTHER_PRICE_ROWS = 426


@pytest.mark.parametrize("loader", sorted(ROWS))
def test_row_counts(loader):
    assert len(getattr(D, loader)(data_dir=DATA)) == ROWS[loader]


def test_price_rows_and_ranges():
    p = D.load_prices(data_dir=DATA)
    tickers = D.price_tickers(DATA)
    assert len(tickers) == 24 and "dividends" not in tickers  # data/README.md: 24 tickers
    counts = p.groupby("ticker").size()
    for t in tickers:
        assert counts[t] == PRICE_ROWS.get(t, OTHER_PRICE_ROWS), t
    last = p.groupby("ticker")["date"].max()
    # data/README.md: prices end 2026-10-09 for CRWV, 2026-05-29 for CORZ, 2026-09-15 otherwise
    assert last["CRWV"] == pd.Timestamp("2026-10-09")
    assert last["CORZ"] == pd.Timestamp("2026-05-29")
    assert (last.drop(["CRWV", "CORZ"]) == pd.Timestamp("2026-09-15")).all()
    assert p.groupby("ticker")["date"].is_monotonic_increasing.all()


def test_every_results_release_is_an_earnings_event():
    """CoreWeave's results days are one kind, 'earnings', whatever else the release carried: E14
    (the Q3 2025 results of 2025-11-10, with the FY2025 guidance cut) is one of them, so the
    pooled-by-kind table does not make it a group of its own."""
    ev = D.load_events()
    results = ev[(ev["origin"] == "CRWV") & ev["description"].str.match(r"Q[1-4](?:/FY\d{4})?(?: 20\d\d)? results")]
    assert set(results["event_id"]) == {"E04", "E07", "E14", "E22", "E24", "E26"}
    assert (results["kind"] == "earnings").all(), results[["event_id", "kind"]]
    e14 = ev.set_index("event_id").loc["E14"]  # its provenance is unchanged by the reclassification
    assert "guide cut" in e14["description"] and "longbridge.cn/news/265246511" in e14["source"]
    assert e14["source_date"] == pd.Timestamp("2025-11-11") and e14["confidence"] == "high"


def test_dtypes():
    f = D.load_fundamentals(data_dir=DATA)
    for c in ("period_start", "period_end", "published"):
        assert pd.api.types.is_datetime64_any_dtype(f[c]), c
    assert f["value"].dtype == "float64"
    assert f["line"].dtype == "int64"
    assert f["undated"].dtype == bool
    assert f["metric"].dtype == object and f["source"].dtype == object
    p = D.load_prices(["CRWV"], data_dir=DATA)
    assert list(p.columns) == ["ticker", "date", "open", "high", "low", "close", "adj_close", "volume"]
    assert pd.api.types.is_datetime64_any_dtype(p["date"])
    assert all(p[c].dtype == "float64" for c in ("open", "high", "low", "close", "adj_close", "volume"))
    e = D.load_events(data_dir=DATA)
    assert pd.api.types.is_datetime64_any_dtype(e["day0"])
    assert pd.api.types.is_datetime64_any_dtype(D.load_dividends(data_dir=DATA)["ex_date"])


def test_known_prices():
    p = D.load_prices("CRWV", data_dir=DATA).set_index("date")
    # WSJ (via cnyes.com, claims.yaml C04): the day after the Q3-25 call CRWV fell from $105.61
    # to $88.39; files store 4-byte-float artefacts (88.38999938964844), so 1e-4 tolerance.
    assert p.loc["2025-11-10", "close"] == pytest.approx(105.61, abs=1e-4)
    assert p.loc["2025-11-11", "close"] == pytest.approx(88.39, abs=1e-4)
    # IPO day 2025-03-28: priced at $40.00, opened at $39.00, closed at $40.00 (widely reported).
    first = p.iloc[0]
    assert p.index[0] == pd.Timestamp("2025-03-28")
    assert first["open"] == pytest.approx(39.0) and first["close"] == pytest.approx(40.0)


def test_adj_close_missing_is_nan_not_filled():
    # data/README.md: dividend-adjusted closes only for CRWV, SMH, SOXX: SPY has none at all.
    spy = D.load_prices("SPY", data_dir=DATA)
    assert spy["adj_close"].isna().all() and spy["close"].notna().all()


def test_known_fundamental():
    f = D.load_fundamentals(data_dir=DATA)
    rev = f[(f.period == "2025Q3") & (f.metric == "revenue") & (f.source == "PR_25Q3")]
    # CoreWeave Q3-2025 press release (2025-11-10): revenue $1,364,676 thousand.
    assert len(rev) == 1
    row = rev.iloc[0]
    assert row["value"] == pytest.approx(1364.676, abs=1e-9)
    assert row["unit"] == "usd_m" and row["confidence"] == "high"
    assert row["published"] == pd.Timestamp("2025-11-10") and row["published_precision"] == "day"
    assert row["line"] == 285  # `grep -n '^2025Q3.*,revenue,' data/fundamentals.csv`


def test_month_precision_dates():
    fin = D.load_financings(data_dir=DATA).set_index("line")
    # line 2: the IPO, announced "2025-03" in the file -> counts from the month's last day
    assert fin.loc[2, "announced"] == pd.Timestamp("2025-03-31")
    assert fin.loc[2, "announced_precision"] == "month"
    assert fin.loc[3, "announced_precision"] == "day"


@pytest.mark.parametrize("loader,file,key", [
    ("load_fundamentals", "fundamentals.csv", ["period", "period_start", "period_end"]),
    ("load_events", "events.csv", ["event_id"]),
    ("load_sources", "sources.csv", ["id"]),
    ("load_customers", "customers.csv", ["period"]),
    ("load_contracts", "contracts.csv", ["counterparty"]),
    ("load_dividends", "prices/dividends.csv", ["ticker"]),
])
def test_line_numbers_point_at_the_row(loader, file, key):
    text = lines(DATA / file)
    df = getattr(D, loader)(data_dir=DATA)
    assert df["line"].is_unique and df["line"].min() == 2
    for _, row in df.iterrows():
        physical = text[row["line"] - 1]
        for k in key:
            v = row[k]
            v = v.date().isoformat() if isinstance(v, pd.Timestamp) else str(v)
            assert v in physical, (row["line"], k, v)


def test_claims_structure_and_lines():
    claims = D.load_claims(data_dir=DATA)
    text = lines(DATA / "claims.yaml")
    assert [c["id"] for c in claims][:2] == ["C01", "C02"]
    for c in claims:
        assert text[c["line"] - 1].strip() == f"- id: {c['id']}"
        for chk in c["checks"]:
            assert f"measure: {chk['measure']}" in text[chk["line"] - 1]
    c04 = next(c for c in claims if c["id"] == "C04")
    assert c04["line"] == 60  # `grep -n 'id: C04' data/claims.yaml`
    assert c04["checks"][1]["stated"] == 88.39


def test_unknown_ticker_is_an_error():
    with pytest.raises(D.DataValidationError) as ei:
        D.load_prices(["NOPE"], data_dir=DATA)
    assert ei.value.file.endswith("prices/NOPE.csv") and ei.value.value == "NOPE"


def test_manifest_import_does_not_load_pandas():
    code = ("import sys, analysis.data.manifest as m, analysis.data as d; "
            "assert d.DataValidationError; print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_package_exports():
    assert set(D.__all__) <= set(dir(D))
    for name in D.__all__:
        assert callable(getattr(D, name)), name
