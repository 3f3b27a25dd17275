"""The front page leads with what was new on the as-of date, and the data section names the
withheld figures once; both read the overview's results file only (sentences made up here)."""

from __future__ import annotations

import pandas as pd

from analysis.report import front
from analysis.report.pdf import TYPST_MIME
from analysis.results import Results

SENTENCES = [("results", "After the close on 2025-11-10, CoreWeave reported its 2025Q3 results: revenue of $1,364.7m [PR_25Q3]."),
             ("guidance", "With the 2025-11-10 results, FY2025 revenue guidance was cut [TR_25Q3, USSA].")]


def _results(tmp_path, day="2025-11-10", results_day="2025-11-10", withheld=None):
    r = Results("00_overview", day, {})
    r.table("whats_new", pd.DataFrame(SENTENCES, columns=["kind", "sentence"]))
    r.value("whats_new_date", day, "date", "d")
    r.value("whats_new_results_date", results_day, "date", "d")
    r.value("last_close", 105.61, "usd", "close")
    if withheld:
        r.value("withheld_sentence", withheld, "text", "w")
    r.write(tmp_path)
    return tmp_path


def test_the_front_page_leads_with_that_evenings_news(tmp_path):
    cells = front.front_cells(_results(tmp_path), {"common": {}}, {"as_of": "2025-11-10"}, None)
    html = [c.outputs[0]["data"]["text/html"] for c in cells]
    assert "title-block" in html[0]
    assert "What was new on the evening of 2025-11-10" in html[1]
    assert "FY2025 revenue guidance was cut" in html[1]
    assert "FY2025 revenue guidance was cut" in cells[1].outputs[0]["data"][TYPST_MIME]


def test_a_later_day_is_titled_by_its_latest_results(tmp_path):
    rs = front.ResultsSet(_results(tmp_path, day="2025-12-31"))
    assert front.news_title(rs) == "What was new: the results of 2025-11-10 and since"


def test_the_news_sources_are_cited_and_the_withheld_figures_named(tmp_path):
    rs = front.ResultsSet(_results(tmp_path, withheld="**Figures left out.** 1 figure public by 2025-11-10 is left out."))
    assert front.news_source_ids(rs) == ["PR_25Q3", "TR_25Q3", "USSA"]
    reg = pd.DataFrame({"id": ["PR_25Q3", "TR_25Q3", "USSA"], "source_kind": ["press_release", "transcript", "news"],
                        "default_confidence": ["high", "medium", "low"], "title": ["a", "b", "c"],
                        "locator": ["https://www.sec.gov/x", "owner/repo:path@abc", "https://ussanews.com/x"],
                        "date": pd.to_datetime(["2025-11-10"] * 3), "date_precision": ["day"] * 3})
    cells = front.sources_cells(rs, reg)
    assert "**Figures left out.**" in cells[0].source and cells[0].source.count("Figures left out") == 1
    rows = cells[1].outputs[0]["data"]["application/vnd.crwv.exhibit+json"]["table"]["rows"]
    assert [r[0] for r in rows] == ["PR_25Q3", "TR_25Q3", "USSA"]
    assert [r[3] for r in rows] == ["SEC EDGAR", "GitHub owner/repo", "ussanews.com"]  # Read from
    assert [r[2] for r in rows] == ["primary (press release)", "call transcript", "news or aggregator"]  # Kind
