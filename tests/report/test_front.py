"""Front page (thesis, key figures) and back matter from results files.

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
from analysis.verdicts import QUESTIONS, THESIS, Verdict

META = {"as_of": "2025-11-10", "build_date": "2025-11-10", "point_in_time": True, "commit": "0123456789ab",
        "versions": {"pandas": "test"}, "checksums": [("data/sources.csv", "f" * 64)], "params": {"as_of": "2025-11-10"}}
PARAMS = {"name": "test", "common": {"as_of": "2025-11-10"}, "notebooks": {}}


def _v(key, answer, sentence, period="2025Q3"):
    return Verdict(key, answer, sentence, evidence={"made_up": True}, period=period, headline=HEADLINES[key])


#: made-up verdict sentences of the fixture (the sections print them; the front page does not)
SENTENCES = {
    "margin_vs_cost_of_debt": "Made-up: in 2025Q3 the operating margin (4.0%) was below half the rate (9.0%).",
    "depreciation_life": "Made-up: at five years the 2025Q3 margin would be -5.0%.",
    "backlog_conversion": "Made-up: the 2025Q3 backlog of $55.6bn equals 10.2 years of revenue.",
    "customer_concentration": "Made-up: revenue is highly concentrated (HHI at least 3,900).",
    "peers_move_on_crwv_shocks": "Made-up: peers moved on 2 of 5 CoreWeave days.",
    "contagion_or_interdependence": "Made-up: not applicable, the window has too few days.",
    "crwv_transmitter": "Made-up: CoreWeave was a net receiver (-3.2 pp).",
    "funding_gap": "Made-up: in 2025-9M net new debt covered 96% of the gap.",
    "returns_on_capital": "Made-up: in 2025Q1 the return was -0.8% at six years.",
}
#: made-up headlines of the fixture (the front page prints answer and headline word for word)
HEADLINES = {
    "margin_vs_cost_of_debt": "made-up margin 4.0% against a 9.0% rate (2025Q3)",
    "depreciation_life": "made-up margin -5.0% at five years (2025Q3)",
    "backlog_conversion": "made-up backlog $55.6bn, 10.2 years of revenue (2025Q3)",
    "customer_concentration": "made-up HHI at least 3,900 (2025Q3)",
    "peers_move_on_crwv_shocks": "made-up 2 of 5 days (2025Q3)",
    "contagion_or_interdependence": "made-up window too short (2025Q3)",
    "crwv_transmitter": "made-up net spillover -3.2 pp (2025Q3)",
    "funding_gap": "made-up 96% by net new debt (2025-9M)",
    "returns_on_capital": "made-up return -0.8% at six years (2025Q1)",
}


def write_fixture_results(d, skip=(), verdicts=("margin_vs_cost_of_debt", "depreciation_life", "backlog_conversion",
                                                "customer_concentration")):
    """Made-up results for all six notebooks (test fixture only; `skip` leaves notebooks out;
    `verdicts` are the recorded research verdicts)."""
    answers = {"contagion_or_interdependence": "not applicable"}
    by_nb: dict[str, list] = {}
    for k in verdicts:
        by_nb.setdefault(QUESTIONS[k][0], []).append(_v(k, answers.get(k, "holds"), SENTENCES[k]))
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
        r.value("filing_cutoff", "2025-11-10", "date", "Latest filing or press release used")
        r.value("figures_cutoff", "2025-11-10", "date", "Latest company figure used (any source)")
        # a newer debt figure exists only as components (2026Q2, derived); principal stops at 2025Q4
        r.table("key_figures", pd.DataFrame({
            "label": ["Revenue", "Operating margin", "Interest coverage, adjusted EBITDA / interest",
                      "Debt, carrying amount (quarter end)"],
            "period": ["2025Q3", "2025Q3", "2025Q3", "2026Q2"], "value": [1364.7, 0.04, 2.7, 35068.0],
            "unit": ["usd_m", "fraction", "ratio", "usd_m"], "source_kind": ["press_release"] * 3 + ["secondary"],
            "confidence": ["high"] * 3 + ["medium"], "sources": ["PR_25Q3"] * 3 + ["PHYS"],
            "derived": [False, False, False, True], "rounding": [0.0] * 4}))
        for v in by_nb.get("01_unit_economics", []):
            r.verdict(v)
        r.write(d)
    if "02_backlog_conversion" not in skip:
        r = Results("02_backlog_conversion", "2025-11-10")
        r.value("backlog_latest", 55600.0, "usd_m", "Revenue backlog, 2025Q3", ["PR_25Q3"])
        r.value("backlog_latest_quarter", "2025Q3", "text", "Quarter of the latest revenue backlog")
        r.table("key_figures", pd.DataFrame({
            "label": ["Revenue backlog (quarter end)"], "period": ["2026Q2"], "value": [104000.0], "unit": ["usd_m"],
            "source_kind": ["secondary"], "confidence": ["medium"], "sources": ["PHYS"], "derived": [False],
            "rounding": [1000.0]}))
        for v in by_nb.get("02_backlog_conversion", []):
            r.verdict(v)
        r.write(d)
    if "03_customer_concentration" not in skip:
        r = Results("03_customer_concentration", "2025-11-10")
        r.value("top_customer_share_latest", 0.62, "fraction", "Largest customer share of revenue, FY2024", ["PR_25Q3"])
        for v in by_nb.get("03_customer_concentration", []):
            r.verdict(v)
        r.write(d)
    if "04_sector_contagion" not in skip:
        r = Results("04_sector_contagion", "2025-11-10")
        r.value("crwv_net_spillover_latest", 3.2, "pct_points", "CRWV net spillover, latest window", [])
        for v in by_nb.get("04_sector_contagion", []):
            r.verdict(v)
        r.write(d)
    if "07_claims_ledger" not in skip:
        r = Results("07_claims_ledger", "2025-11-10")
        r.value("claims_total", 31, "count", "Press claims checked")
        r.write(d)


@pytest.fixture
def results_dir(tmp_path):
    d = tmp_path / "build" / "results"
    write_fixture_results(d)
    return d


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\u2212", "-"))


def _lead(key, answer="holds"):
    return f"{answer[:1].upper()}{answer[1:]}: {HEADLINES[key]}."


def test_thesis_bullets_answer_the_seeds_questions_in_order(tmp_path):
    d = tmp_path / "results"
    write_fixture_results(d, verdicts=tuple(k for k in SENTENCES if QUESTIONS[k][0] != "06_funding"))
    items = front.thesis_items(front.ResultsSet(d))
    # no funding section in the fixture: its bullet is left out; the others in THESIS order
    assert [label for label, _ in items] == [THESIS[i][0] for i in (0, 1, 2, 4)]
    joined = {label: " ".join(f"{a} {h}" for a, h in parts) for label, parts in items}
    # depreciation: the one recorded of its two verdicts (returns on capital is section 06's)
    assert joined[THESIS[1][0]] == _lead("depreciation_life")
    assert joined[THESIS[2][0]] == _lead("backlog_conversion") + " " + _lead("customer_concentration")
    # contagion: all three of section 04's verdicts, answer first ("Not applicable:" set off as the answer)
    assert joined[THESIS[4][0]] == " ".join([_lead("peers_move_on_crwv_shocks"),
                                             _lead("contagion_or_interdependence", "not applicable"),
                                             _lead("crwv_transmitter")])
    assert items[-1][1][1][0] == "Not applicable:"


def test_thesis_takes_every_verdict_of_a_bullet_from_its_own_section(tmp_path):
    d = tmp_path / "results"
    write_fixture_results(d, verdicts=("depreciation_life",))
    r = Results("06_funding", "2025-11-10")
    for k in ("funding_gap", "returns_on_capital"):
        r.verdict(_v(k, "debt" if k == "funding_gap" else "below cost of debt", SENTENCES[k]))
    r.write(d)
    th = front.thesis(front.ResultsSet(d))
    assert [(label, [v.key for v in vs]) for label, vs in th] == [
        (THESIS[1][0], ["depreciation_life", "returns_on_capital"]), (THESIS[3][0], ["funding_gap"])]


def test_missing_sections_are_left_out(tmp_path):
    d = tmp_path / "results"
    write_fixture_results(d, skip=("01_unit_economics", "03_customer_concentration", "07_claims_ledger"))
    assert front.thesis_items(front.ResultsSet(d)) == [(THESIS[2][0], [("Holds:", HEADLINES["backlog_conversion"] + ".")])]
    assert front.thesis(front.ResultsSet(tmp_path / "nowhere")) == []
    ex = front.key_figures(front.ResultsSet(d), load_sources())
    assert [r[0] for r in ex.data["table"]["rows"]] == ["Revenue backlog (quarter end)"]


def test_key_figures_table(results_dir):
    reg = load_sources()
    ex = front.key_figures(front.ResultsSet(results_dir), reg)
    rows = {r[0]: r for r in ex.data["table"]["rows"]}
    assert list(rows) == ["Revenue", "Operating margin", "Interest coverage, adjusted EBITDA / interest",
                          "Debt, carrying amount (quarter end)", "Revenue backlog (quarter end)"]
    assert rows["Revenue"][1:] == ["2025Q3", "$1,364.7m", "press release", "high", "PR_25Q3"]
    # the newer component-based debt is shown with its own period, marked derived
    assert rows["Debt, carrying amount (quarter end)"][1:3] == ["2026Q2 (derived)", "$35.1bn"]
    # an approximate source figure keeps its precision
    assert rows["Revenue backlog (quarter end)"][2] == "about $104bn"
    assert rows["Interest coverage, adjusted EBITDA / interest"][2] == "2.70x"
    assert "2025Q3 to 2026Q2" in ex.data["title"]


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
    bullets = [f"{label}. " + " ".join(v.lead for v in vs) for label, vs in front.thesis(front.ResultsSet(results_dir))]
    items = [_norm(li.get_text()) for li in soup.select(".summary-box li")]
    assert items == bullets and soup.select_one(".summary-box .box-title").get_text() == "Thesis"
    assert [b.get_text() for b in soup.select(".summary-box li strong")] == [
        "Margin against the cost of debt (Luria).", "Depreciation lives and returns (Chanos).",
        "Backlog conversion and customers."]
    assert soup.select_one(".summary-box li em").get_text() == "Holds:"  # the answer is set off
    pdf = _norm(pdf_text(pdf_path.read_bytes()))
    for b in bullets:  # every thesis bullet is in the PDF word for word, no verdict sentence is
        assert _norm(b) in pdf, b
    assert not any(s in pdf for s in SENTENCES.values())
    assert "Key figures, each at the latest quarter it is reported for" in pdf and "$1,364.7m" in pdf
    # back matter: all methods with references (04 present), sources cited, disclosures
    for ref in ("MacKinlay", "Patell", "Boehmer", "Kolari", "Corrado", "Forbes", "Diebold", "Pesaran"):
        assert ref in pdf
    assert "PR_25Q3" in soup.select_one("#Data-and-sources").find_next("table").get_text()
    assert "not investment advice" in pdf and "0123456789ab" in pdf


def test_rating_parameter(results_dir):
    cells = front.disclosures_cells({"common": {"rating": "Hold"}})
    assert "**Hold**" in cells[0].source
    assert "no rating" in front.disclosures_cells(PARAMS)[0].source
