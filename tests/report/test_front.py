"""Front page and back matter from results files.

EVERY VALUE BELOW IS MADE UP: a constructed results folder used only to test that the front page
formats and words results values correctly and leaves out what is missing. None of it is data.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from analysis.data import load_sources
from analysis.report import front
from analysis.report import note as note_mod
from analysis.report.pdf import pdf_text
from analysis.results import Results

META = {"as_of": "2025-11-10", "build_date": "2025-11-10", "point_in_time": True, "commit": "0123456789ab",
        "versions": {"pandas": "test"}, "checksums": [("data/sources.csv", "f" * 64)], "params": {"as_of": "2025-11-10"}}
PARAMS = {"name": "test", "common": {"as_of": "2025-11-10"}, "notebooks": {}}


def write_fixture_results(d, skip=()):
    """Made-up results for all six notebooks (test fixture only; `skip` leaves notebooks out)."""
    if "00_overview" not in skip:
        r = Results("00_overview", "2025-11-10")
        r.value("last_close", 105.61, "usd", "CRWV last close", ["prices:CRWV"])
        r.value("last_date", "2025-11-10", "date", "Date of the last close", ["prices:CRWV"])
        r.value("ipo_date", "2025-03-28", "date", "first trading day", ["prices:CRWV"])
        r.value("change_since_ipo", 1.6403, "fraction", "Change since the first close", ["prices:CRWV"])
        r.value("record_close", 183.58, "usd", "Record close", ["prices:CRWV"])
        r.value("record_close_date", "2025-06-20", "date", "Date of the record close", ["prices:CRWV"])
        r.value("drawdown_from_record", -0.4247, "fraction", "Last close vs record close", ["prices:CRWV"])
        r.write(d)
    if "01_unit_economics" not in skip:
        r = Results("01_unit_economics", "2025-11-10")
        r.value("latest_quarter", "2025Q3", "text", "Latest quarter")
        r.value("luria_quarter", "2025Q3", "text", "Latest quarter with both margin and rate")
        r.value("luria_operating_margin", 0.04, "fraction", "operating_margin, 2025Q3", ["PR_25Q3"])
        r.value("luria_effective_interest_rate", 0.09, "fraction", "effective_interest_rate, 2025Q3", ["PR_25Q3"])
        r.value("latest_interest_coverage", 0.5, "ratio", "interest_coverage, 2025Q3", ["PR_25Q3"])
        r.value("filing_cutoff", "2025-11-10", "date", "Latest filing or press release used")
        r.value("figures_cutoff", "2025-11-10", "date", "Latest company figure used (any source)")
        r.table("key_figures", pd.DataFrame({
            "label": ["Revenue", "Operating margin", "Interest expense, net", "Interest coverage"],
            "period": ["2025Q3"] * 4, "value": [1364.7, 0.04, 310.6, 0.5],
            "unit": ["usd_m", "fraction", "usd_m", "ratio"], "source_kind": ["press_release"] * 4,
            "confidence": ["high"] * 4, "sources": ["PR_25Q3"] * 4, "derived": [False] * 4}))
        r.write(d)
    if "02_backlog_conversion" not in skip:
        r = Results("02_backlog_conversion", "2025-11-10")
        r.value("backlog_latest", 55600.0, "usd_m", "Revenue backlog, 2025Q3", ["PR_25Q3"])
        r.value("backlog_latest_quarter", "2025Q3", "text", "Quarter of the latest revenue backlog")
        r.table("key_figures", pd.DataFrame({
            "label": ["Revenue backlog (quarter end)"], "period": ["2025Q3"], "value": [55600.0], "unit": ["usd_m"],
            "source_kind": ["press_release"], "confidence": ["high"], "sources": ["PR_25Q3"], "derived": [False]}))
        r.value("book_to_bill_latest", 2.5, "ratio", "Book-to-bill, 2025Q3", ["PR_25Q3"])
        r.value("coverage_years_latest", 10.2, "years", "Backlog coverage, 2025Q3", ["PR_25Q3"])
        r.write(d)
    if "03_customer_concentration" not in skip:
        r = Results("03_customer_concentration", "2025-11-10")
        r.value("top_customer_share_latest", 0.62, "fraction", "Largest customer share of revenue, FY2024", ["PR_25Q3"])
        r.value("hhi_lower_latest", 3900.0, "index", "HHI lower bound, FY2024", ["VN"])
        r.value("hhi_upper_latest", 4200.0, "index", "HHI upper bound, FY2024", ["VN"])
        r.write(d)
    if "04_sector_contagion" not in skip:
        r = Results("04_sector_contagion", "2025-11-10")
        r.table("forbes_rigobon", pd.DataFrame({"ticker": ["ORCL", "NBIS"], "rho_crisis": [0.5, 0.8],
                                                "rho_crisis_adj": [0.45, 0.6], "verdict": ["contagion", "interdependence"]}))
        r.value("crwv_net_spillover_latest", 3.2, "pct_points", "CRWV net spillover, latest window", [])
        r.write(d)
    if "05_claims_ledger" not in skip:
        r = Results("05_claims_ledger", "2025-11-10")
        r.value("verdict_counts", {"confirmed": 20, "differs": 8, "not verifiable": 3}, "count", "Claims by verdict")
        r.write(d)


@pytest.fixture
def results_dir(tmp_path):
    d = tmp_path / "build" / "results"
    write_fixture_results(d)
    return d


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\u2212", "-"))


def test_findings_from_results(results_dir):
    f = front.key_findings(front.ResultsSet(results_dir))
    assert len(f) == 6
    ov, ue, bl, cc, ct, cl = f
    assert "$105.61" in ov and "2025-11-10" in ov and "+164.0%" in ov and "42.5% below" in ov and "$183.58" in ov
    assert "2025Q3" in ue and "4.0%" in ue and "below the effective interest rate" in ue and "9.0%" in ue
    assert "0.50x, less than once" in ue
    assert "$55.6bn" in bl and "10.2 years" in bl and "2.50x" in bl and "ran ahead" in bl
    assert "62.0%" in cc and "FY2024" in cc and "3,900" in cc and "4,200" in cc and "above the level" in cc
    assert "NBIS" in ct and "0.80" in ct and "0.60" in ct and "interdependence, not contagion" in ct
    assert "1 of 2 peers" in ct and "3.2 pp" in ct and "net transmitter" in ct
    assert "Of 31 press claims" in cl and "20 are confirmed" in cl and "8 differ" in cl and "3 could be verified" in cl
    assert all("n/a" not in s and "None" not in s for s in f)


def test_findings_wording_follows_numbers(tmp_path):
    d = tmp_path / "results"
    write_fixture_results(d, skip=("01_unit_economics",))
    r = Results("01_unit_economics", "2025-11-10")  # made-up: margin above the rate, coverage above 1
    r.value("luria_quarter", "2025Q2", "text", "Latest quarter with both margin and rate")
    r.value("luria_operating_margin", 0.12, "fraction", "operating_margin, 2025Q2")
    r.value("luria_effective_interest_rate", 0.08, "fraction", "effective_interest_rate, 2025Q2")
    r.value("latest_interest_coverage", 1.5, "ratio", "interest_coverage, 2025Q2")
    r.write(d)
    ue = front.key_findings(front.ResultsSet(d))[1]
    assert "above the effective interest rate" in ue and "1.50x" in ue and "less than once" not in ue


def test_missing_inputs_are_left_out(tmp_path):
    d = tmp_path / "results"
    write_fixture_results(d, skip=("01_unit_economics", "03_customer_concentration", "05_claims_ledger"))
    f = front.key_findings(front.ResultsSet(d))
    assert len(f) == 3
    assert not any("press claims" in s or "operating margin" in s or "HHI" in s for s in f)
    assert front.key_findings(front.ResultsSet(tmp_path / "nowhere")) == []
    # key figures: backlog only (01 absent); the missing debt value never shows as a row
    ex = front.key_figures(front.ResultsSet(d), load_sources())
    assert [r[0] for r in ex.data["table"]["rows"]] == ["Revenue backlog (quarter end)"]


def test_key_figures_table(results_dir):
    reg = load_sources()
    ex = front.key_figures(front.ResultsSet(results_dir), reg)
    rows = {r[0]: r for r in ex.data["table"]["rows"]}
    # the notebooks' key_figures tables, in section order, each row with its own provenance
    assert list(rows) == ["Revenue", "Operating margin", "Interest expense, net", "Interest coverage",
                          "Revenue backlog (quarter end)"]
    assert rows["Revenue"][1:] == ["2025Q3", "$1,364.7m", "press release", "high", "PR_25Q3"]
    assert rows["Revenue backlog (quarter end)"][2] == "$55.6bn" and rows["Interest coverage"][2] == "0.50x"


def test_title_fields(results_dir):
    fields = dict(front.title_fields(front.ResultsSet(results_dir), META, load_sources(), PARAMS))
    assert fields["Ticker"] == "CRWV" and fields["As of"] == "2025-11-10"
    assert fields["Last close"] == "$105.61 (2025-11-10)" and fields["Since first close (2025-03-28)"] == "+164.0%"
    assert fields["Market data to"] == "2025-11-10" and fields["Rating"] == "Not rated"
    # the cut-off comes from the unit-economics results (one date: "Company figures to" is not repeated)
    assert fields["Filings read to"] == "2025-11-10" and "Company figures to" not in fields


def test_front_page_numbers_in_html_and_pdf(results_dir, executed_fixture, build_factory):
    # the fixture section stands in for 00 and 04 (methods are listed for the sections present)
    build = build_factory(results_dir.parent.parent, executed_fixture, stems=("00_overview", "04_sector_contagion"))
    html_path, pdf_path = note_mod.render_note(build, build.parent / "out", PARAMS, META)
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    findings = front.key_findings(front.ResultsSet(results_dir))
    items = [_norm(li.get_text()) for li in soup.select(".summary-box li")]
    assert items == findings
    pdf = _norm(pdf_text(pdf_path.read_bytes()))
    for s in findings:  # every number of every finding is in the PDF
        for num in re.findall(r"[-+$]?\d[\d,.]*(?:%|x|bn|m| pp| years)?", s):
            assert num in pdf, (num, s)
    assert "Key figures of the latest reported quarter" in pdf and "$1,364.7m" in pdf
    # back matter: all methods with references (04 present), sources cited, disclosures
    for ref in ("MacKinlay", "Patell", "Boehmer", "Kolari", "Corrado", "Forbes", "Diebold", "Pesaran"):
        assert ref in pdf
    assert "PR_25Q3" in soup.select_one("#Data-and-sources").find_next("table").get_text()
    assert "not investment advice" in pdf and "0123456789ab" in pdf


def test_rating_parameter(results_dir):
    cells = front.disclosures_cells({"common": {"rating": "Hold"}})
    assert "**Hold**" in cells[0].source
    assert "no rating" in front.disclosures_cells(PARAMS)[0].source
