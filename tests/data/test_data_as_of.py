"""Point-in-time filtering: loaders return only what was public on `as_of`.

Expectations are counted independently from the raw files with the csv module (or stated from
the files: 2025-11-10 is the Q3-25 press release, 2025-11-13 the Q3-25 10-Q).
"""

from __future__ import annotations

import csv
from datetime import date

import pandas as pd
import pytest

from analysis import data as D
from analysis import paths
from analysis.errors import DataValidationError

DATA = paths.ROOT / "data"
AS_OF = "2025-11-10"


def _raw(file):
    """(physical line, row dict) of a raw CSV (these files have no multi-line fields)."""
    with open(DATA / file, newline="", encoding="utf-8") as fh:
        return list(enumerate(csv.DictReader(fh), start=2))


def test_fundamentals_as_of_q3_press_release_day():
    df = D.load_fundamentals(as_of=AS_OF, data_dir=DATA)
    raw = _raw("fundamentals.csv")
    pr_q3 = {n for n, r in raw if r["source"] == "PR_25Q3" and r["published"] == "2025-11-10"}
    tenq = {n for n, r in raw if r["published"] == "2025-11-13"}
    undated = [n for n, r in raw if r["published"] == ""]
    # document dates of the sources (sources.csv, read here with the csv module; month-only = month end)
    doc = {r["id"]: (r["date"] + "-31" if len(r["date"]) == 7 else r["date"]) for _, r in _raw("sources.csv") if r["date"]}
    later_doc = {n for n, r in raw if r["published"] and r["published"] <= AS_OF and doc.get(r["source"], "") > AS_OF}
    kept = {n for n, r in raw if r["published"] and r["published"] <= AS_OF} - later_doc  # ISO text compares as dates
    assert len(pr_q3) >= 26 and len(tenq) == 8 and len(undated) == 26
    assert pr_q3 <= set(df["line"])                 # Q3-25 PR rows published that day are kept
    assert not tenq & set(df["line"])               # the 10-Q rows of 2025-11-13 are not
    assert set(df["line"]) == kept
    assert not df["undated"].any()
    assert df.attrs["undated_excluded"] == undated  # dropped undated rows are listed by line
    # figures public by as_of but read from a later document (e.g. RR, 2026-06-11) are left out
    assert later_doc and df.attrs["later_source_excluded"] == sorted(later_doc)
    assert {r["source"] for n, r in raw if n in later_doc} >= {"RR"}
    assert df.attrs["as_of"] == AS_OF
    assert (df["published"] <= pd.Timestamp(AS_OF)).all()
    q3 = df[(df.period == "2025Q3") & (df.metric == "revenue")]
    assert list(q3["source"]) == ["PR_25Q3"]


def test_fundamentals_latest_keeps_and_flags_undated():
    df = D.load_fundamentals(as_of="latest", data_dir=DATA)
    undated = [n for n, r in _raw("fundamentals.csv") if r["published"] == ""]
    assert len(df) == 481
    assert list(df.loc[df["undated"], "line"]) == undated
    assert df.loc[df["undated"], "published"].isna().all()
    assert df.attrs["undated_excluded"] == [] and df.attrs["undated_lines"] == undated
    assert df.attrs["as_of"] is None
    assert D.load_fundamentals(as_of=None, data_dir=DATA).equals(df)


def test_prices_end_at_as_of():
    p = D.load_prices(as_of=AS_OF, data_dir=DATA)
    last = p.groupby("ticker")["date"].max()
    assert (last == pd.Timestamp(AS_OF)).all()  # a Monday: every ticker traded
    crwv = p[p.ticker == "CRWV"].set_index("date")["close"]
    assert crwv.iloc[-1] == pytest.approx(105.61, abs=1e-4)  # WSJ via cnyes.com (claims.yaml C04)
    sunday = D.load_prices(["CRWV"], as_of="2025-11-09", data_dir=DATA)
    assert sunday["date"].max() == pd.Timestamp("2025-11-07")  # the Friday before
    assert D.load_prices(["CRWV"], as_of="2025-03-27", data_dir=DATA).empty  # before the IPO
    assert p.attrs["as_of"] == AS_OF


def test_month_only_dates_count_from_month_end():
    # financings.csv line 2: the IPO, announced "2025-03" -> public from 2025-03-31 at the earliest;
    # its source (SEC_R32, XBRL of the Q2-25 10-Q) is a document of 2025-08-13, so the row enters then
    assert 2 not in set(D.load_financings(as_of="2025-03-30", data_dir=DATA)["line"])
    assert 2 in set(D.load_financings(as_of="2025-03-31").attrs["later_source_excluded"])
    at = D.load_financings(as_of="2025-08-13", data_dir=DATA)
    assert 2 in set(at["line"]) and at.set_index("line").loc[2, "announced_precision"] == "month"
    # a month-only source date counts from the month end too: YAHOO is dated "2025-05"
    yahoo = {n for n, r in _raw("fundamentals.csv") if r["source"] == "YAHOO" and r["published"] <= "2025-05-30"}
    assert yahoo and not yahoo & set(D.load_fundamentals(as_of="2025-05-30", data_dir=DATA)["line"])
    assert yahoo <= set(D.load_fundamentals(as_of="2025-05-31", data_dir=DATA)["line"])


def test_financings_undated_rows_dropped_and_listed():
    undated = [n for n, r in _raw("financings.csv") if r["announced"] == ""]
    df = D.load_financings(as_of="2026-12-31", data_dir=DATA)
    assert undated and df.attrs["undated_excluded"] == undated
    assert not set(undated) & set(df["line"])
    full = D.load_financings(data_dir=DATA)
    assert len(full) == len(df) + len(undated)


def test_events_dividends_claims_as_of():
    ev = D.load_events(as_of=AS_OF, data_dir=DATA)
    # events.csv `announced` on or before 2025-11-10: E01..E14 (sorted announced column)
    assert len(ev) == 14 and ev["announced"].max() == pd.Timestamp(AS_OF)
    dv = D.load_dividends(as_of=AS_OF, data_dir=DATA)
    n = sum(1 for _, r in _raw("prices/dividends.csv") if r["ex_date"] <= AS_OF)
    assert len(dv) == n and 0 < n < 59
    cl = D.load_claims(as_of=AS_OF, data_dir=DATA)
    # claims.yaml: published 2025-03-27 (1), 2025-06-30 (3), 2025-07-14 (7); the rest are later
    assert len(cl) == 11
    assert all(c["published"] <= date(2025, 11, 10) for c in cl)


@pytest.mark.parametrize("as_of", [date(2025, 11, 10), pd.Timestamp("2025-11-10"), "2025-11-10"])
def test_as_of_types(as_of):
    assert D.as_of_date(as_of) == pd.Timestamp("2025-11-10")


@pytest.mark.parametrize("as_of", [None, "latest", "LATEST", ""])
def test_as_of_latest(as_of):
    assert D.as_of_date(as_of) is None


@pytest.mark.parametrize("bad", ["2025-11", "2025/11/10", "yesterday", 20251110])
def test_as_of_invalid(bad):
    with pytest.raises(DataValidationError) as ei:
        D.load_events(as_of=bad, data_dir=DATA)
    assert ei.value.column == "as_of" and ei.value.value == bad
