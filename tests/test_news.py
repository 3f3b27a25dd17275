"""`analysis.news`: what was new on the as-of date, from the point-in-time loaders.

Expected values are read from the raw files (csv module) or from the documents they cite:
the Q3-25 call (TR_25Q3, 2025-11-10) cut FY2025 revenue guidance to 5,050-5,150 from the
5,150-5,350 given with the Q2-25 results (USSA, 2025-08-12), capex to 12-14bn from 20-23bn and
the year-end active power target to "more than 850 MW" from "over 900 MW"; the release dates
are those of data/FUNDAMENTALS.md ("Publication dates").
"""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from analysis import leaks, news
from analysis.data import load_fundamentals
from analysis.paths import data_dir

RESULTS_DAYS = ["2025-05-14", "2025-08-12", "2025-11-10", "2026-02-26", "2026-05-07", "2026-08-11"]


def _close(ticker: str, day: str) -> float:
    with open(data_dir() / "prices" / f"{ticker}.csv", newline="") as fh:
        return next(float(r["close"]) for r in csv.DictReader(fh) if r["date"] == day)


@pytest.fixture(scope="module")
def evening():
    return news.whats_new("2025-11-10")


def test_results_dates_are_the_release_days():
    d = news.results_dates(load_fundamentals())
    assert [x.date().isoformat() for x in d["published"]] == RESULTS_DAYS
    assert list(d["quarter"]) == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def test_a_comparative_in_a_later_filing_is_not_a_results_date():
    fund = pd.DataFrame({"metric": ["revenue", "revenue"], "period": ["2024Q1", "2025Q1"],
                         "published": pd.to_datetime(["2025-05-14", "2025-05-14"])})
    # 2024Q1 revenue first appeared as a comparative in the Q1-25 10-Q, a year after the quarter
    assert list(news.results_dates(fund)["quarter"]) == ["2025Q1"]


def test_the_evening_of_2025_11_10_reports_q3_against_its_guidance(evening):
    r = evening.results
    assert r["quarter"] == "2025Q3" and r["same_day"] and not r["withheld"]
    assert r["figures"]["revenue"]["value"] == pytest.approx(1364.676)
    assert r["figures"]["revenue"]["source"] == "PR_25Q3"
    assert (r["guided"]["low"], r["guided"]["high"]) == (1260, 1300)
    assert r["guided"]["published"] == pd.Timestamp("2025-08-12")


def test_the_evening_of_2025_11_10_has_the_three_cuts(evening):
    g = evening.guidance.set_index(["family", "period"])
    rev = g.loc[("revenue", "FY2025")]
    assert (rev.low, rev.high, rev.previous_low, rev.previous_high, rev.change) == (5050, 5150, 5150, 5350, "cut")
    capex = g.loc[("capex", "FY2025")]
    assert (capex.low, capex.high, capex.previous_low, capex.previous_high, capex.change) == (12000, 14000, 20000, 23000, "cut")
    power = g.loc[("active_power_mw_target", "FY2025")]
    assert (power.low, power.previous_low, power.change) == (850, 900, "cut")
    text = " ".join(s for _, s in evening.sentences)
    assert "FY2025 revenue guidance was cut to $5.05bn-$5.15bn from $5.15bn-$5.35bn" in text
    assert "FY2025 capex guidance was cut to $12bn-$14bn from $20bn-$23bn" in text
    assert "active power target was cut to 850 MW from 900 MW" in text
    assert text.startswith("After the close on 2025-11-10, CoreWeave reported its 2025Q3 results")


def test_that_evenings_event_is_listed_without_a_reaction_yet(evening):
    e14 = evening.events.set_index("event_id").loc["E14"]
    assert not e14.traded and pd.isna(e14.ret_company)
    assert "E14 came after the last close" in " ".join(s for _, s in evening.sentences)


def test_a_later_note_shows_the_reaction():
    n = news.whats_new("2025-12-31")
    assert n.results["quarter"] == "2025Q3" and not n.results["same_day"]
    e14 = n.events.set_index("event_id").loc["E14"]
    assert e14.traded
    assert e14.ret_company == pytest.approx(_close("CRWV", "2025-11-11") / _close("CRWV", "2025-11-10") - 1, abs=1e-12)
    assert "E14" in next(s for k, s in n.sentences if k == "events")


def test_results_read_only_in_a_later_document_are_withheld():
    n = news.whats_new("2026-08-11")  # Q2-26 figures are read only in PHYS, a document of 2026-10-05
    assert n.results["quarter"] == "2026Q2" and n.results["withheld"]
    assert "written later" in n.sentences[0][1]
    assert not any("PHYS" in s for _, s in n.sentences)


def test_the_latest_note_uses_the_same_sentences():
    n = news.whats_new("latest")
    assert n.results["quarter"] == "2026Q2"
    assert n.results["figures"]["revenue"]["value"] == pytest.approx(2575)
    assert n.sentences[0][1].startswith("The latest results, for 2026Q2, came on 2026-08-11")


@pytest.mark.parametrize("day", RESULTS_DAYS)
def test_the_sentences_leak_nothing(day):
    text = " ".join(s for _, s in news.whats_new(day).sentences)
    assert leaks.audit_text(text, day) == []


def test_event_quotes_have_no_nested_brackets(evening):
    """The events sentence quotes each event's description in brackets: the quote carries no
    parentheses of its own (E07's '(+207%)' is dropped); one event is named in the singular."""
    s = next(t for k, t in evening.sentences if k == "events")
    assert "E07 (Q2 2025 results: revenue $1.213B, backlog $30.1B, FY25\u2026): CRWV -20.8%" in s
    depth = 0
    for ch in s:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        assert 0 <= depth <= 1, s
    latest = next(t for k, t in news.whats_new("latest").sentences if k == "events")
    assert "1 dated event; the day-0 move of CRWV: E26" in latest and "largest" not in latest


def test_usd_range():
    assert news.usd_range(5050, 5150) == "$5.05bn-$5.15bn"
    assert news.usd_range(12000, 14000) == "$12bn-$14bn"
    assert news.usd_range(690, 720) == "$690m-$720m"
    assert news.usd_range(1900, 2000) == "$1.9bn-$2.0bn"


def test_an_approximate_backlog_is_printed_with_about():
    # Q2-26: "about $104B" of revenue backlog [PHYS] is approximate; Q3-25: $55.6B [PR_25Q3] is exact
    latest = news.whats_new("latest").sentences[0][1]
    assert "a revenue backlog of about $104bn [PHYS]" in latest and "$104.0bn" not in latest
    assert "a revenue backlog of $55.6bn [PR_25Q3]" in news.whats_new("2025-11-10").sentences[0][1]
