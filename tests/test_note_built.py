"""The built note (`make report` output in reports/): every section present with its results
contract, and the front page's sentences carry the numbers of the results files."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup

from analysis import paths
from analysis.report import front
from analysis.report.pdf import pdf_text
from analysis.report.sections import SECTIONS

pytestmark = pytest.mark.build

OUT = paths.ROOT / "reports"
RESULTS = OUT / "build" / "results"

# results keys each issue requires (issues 2-7), by notebook
REQUIRED = {
    "00_overview": {"values": ["last_close", "last_date", "change_since_ipo", "high_52w", "low_52w",
                               "drawdown_from_record", "record_close"], "tables": ["rebased"]},
    "01_unit_economics": {"values": ["latest_quarter"],
                          "tables": ["operating_margin", "interest_coverage", "effective_interest_rate",
                                     "margin_to_interest_rate", "interest_and_da_to_revenue",
                                     "depreciation_sensitivity"]},
    "02_backlog_conversion": {"values": ["book_to_bill_latest", "coverage_years_latest"],
                              "tables": ["backlog", "rollforward", "guidance_history", "delay_scenario"]},
    "03_customer_concentration": {"values": ["top_customer_share_latest"],
                                  "tables": ["revenue_shares", "hhi_bounds", "backlog_shares", "scenario"]},
    "04_sector_contagion": {"values": ["crwv_net_spillover_latest"],
                            "tables": ["car_table", "pooled_tests", "forbes_rigobon", "dy_static", "dy_rolling"]},
    "06_funding": {"values": ["marginal_cost_of_debt", "average_cost_of_debt", "weighted_effective_rate",
                              "maturities_next_four_quarters", "market_value", "enterprise_value",
                              "implied_operating_margin"],
                   "tables": ["funding_gap", "debt_maturities", "debt_stack", "roic", "implied_margin_sensitivity",
                              "liquidity", "share_counts", "multiples", "valuation_inputs"]},
    "05_claims_ledger": {"values": [], "tables": ["claims", "claim_verdicts", "verdict_counts"]},
}


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\u2212", "-").replace("\u00ad", "")).strip()


@pytest.fixture(scope="module")
def note_text():
    html, pdf = OUT / "crwv-note.html", OUT / "crwv-note.pdf"
    if not (html.exists() and pdf.exists()):
        pytest.skip("reports/crwv-note.{html,pdf} not built: run `make test` (it builds them first)")
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    return {"html": _norm(soup.get_text(" ")), "pdf": _norm(pdf_text(pdf.read_bytes())), "soup": soup}


def test_every_section_has_its_results_contract():
    assert SECTIONS == tuple(REQUIRED), "a new section needs its required results keys listed here"
    for nb, req in REQUIRED.items():
        res = json.loads((RESULTS / f"{nb}.json").read_text(encoding="utf-8"))
        assert res["notebook"] == nb and set(res) == {"notebook", "as_of", "params", "values", "tables", "verdicts"}
        missing = [k for k in req["values"] if k not in res["values"]] + [k for k in req["tables"] if k not in res["tables"]]
        assert not missing, f"{nb}: missing results keys {missing}"
        for name, v in res["values"].items():
            assert {"value", "unit", "label", "sources"} <= set(v) <= {"value", "unit", "label", "sources", "period"}, (nb, name)
        for key, v in res["verdicts"].items():
            assert set(v) == {"question", "answer", "sentence", "evidence", "period"} and v["sentence"], (nb, key)
        for name, t in res["tables"].items():
            assert all(len(r) == len(t["columns"]) for r in t["rows"]), (nb, name)
            assert set(t["units"]) <= set(t["columns"]), (nb, name)


def test_front_page_sentences_carry_the_results_numbers(note_text):
    findings = front.key_findings(front.ResultsSet(RESULTS))
    assert 4 <= len(findings) <= 6
    for sentence in findings:
        s = _norm(sentence)
        assert s in note_text["html"], sentence
        numbers = re.findall(r"[-+]?\$?\d[\d,]*\.?\d*(?:%|x|bn|m)?", s)
        assert numbers, sentence
        for n in numbers:
            assert n in note_text["pdf"], (n, sentence)


def test_note_sections_in_order_and_offline(note_text):
    soup = note_text["soup"]
    heads = [_norm(h.get_text()) for h in soup.find_all("h2")]
    order = ["Overview", "Unit economics", "Backlog", "Customer concentration", "Sector contagion",
             "Funding and capital structure", "Claims ledger", "Methods", "Data and sources", "Reproducibility", "Disclosures"]
    pos = [next(i for i, h in enumerate(heads) if h.startswith(o)) for o in order]
    assert pos == sorted(pos), heads
    assert not soup.find("script")
    for tag in soup.find_all(["link", "img", "iframe", "source", "object", "embed"]):
        for attr in ("src", "href", "data"):
            assert not re.match(r"^(https?:)?//", tag.get(attr, "")), tag
    for ref in ("MacKinlay", "Patell", "Boehmer", "Kolari", "Corrado", "Forbes", "Diebold", "Pesaran"):
        assert ref in note_text["pdf"], ref
