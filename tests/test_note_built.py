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
    "07_claims_ledger": {"values": [], "tables": ["claims", "claim_verdicts", "verdict_counts"]},
    # the what-changed section prints only in the history's latest note; elsewhere it records nothing
    "08_what_changed": {"values": [], "tables": []},
}


def _norm(s: str) -> str:
    """Whitespace collapsed; typographic minus, soft hyphens and curly quotes (pandoc's smart
    typography in section text, straight quotes in the front-page box) read as plain characters."""
    s = s.replace("\u2212", "-").replace("\u00ad", "").translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))
    return re.sub(r"\s+", " ", s).strip()


@pytest.fixture(scope="module")
def note_text():
    html, pdf = OUT / "crwv-note.html", OUT / "crwv-note.pdf"
    if not (html.exists() and pdf.exists()):
        pytest.skip("reports/crwv-note.{html,pdf} not built: run `make test` (it builds them first)")
    soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
    # a line that ends after a hard hyphen ("$12.00bn-" / "$13.00bn") joins the next without a space
    return {"html": _norm(soup.get_text(" ")), "pdf": _norm(re.sub(r"(\S-)[ \t]*\n\s*", r"\1", pdf_text(pdf.read_bytes()))), "soup": soup}


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


def _section_heading(stem: str) -> str:
    """The section's heading text: the first markdown cell of its notebook ('## <title>')."""
    nb = json.loads((paths.ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
    return _norm("".join(first["source"]).lstrip("#"))


def _section_text(soup, heading: str) -> str:
    """The text of the HTML section whose h2 starts with `heading`, up to the next h2."""
    from bs4 import NavigableString

    h2 = next(h for h in soup.find_all("h2") if _norm(h.get_text()).startswith(heading))
    out = []
    for el in h2.next_elements:
        if getattr(el, "name", None) == "h2":
            break
        if isinstance(el, NavigableString):
            out.append(str(el))
    return _norm(" ".join(out))


def test_thesis_sentences_are_the_verdicts_word_for_word(note_text):
    """Each verdict sentence appears word for word in its section, in the HTML and the PDF; the
    thesis verdicts also on the front page (the HTML thesis box, and a second time in the PDF)."""
    rs = front.ResultsSet(RESULTS)
    verdicts = front.recorded_verdicts(rs)
    thesis = front.thesis_verdicts(rs)
    assert 3 <= len(thesis) <= front.THESIS_MAX
    assert {"margin_vs_cost_of_debt", "depreciation_life", "backlog_conversion", "customer_concentration"} <= {
        v.key for v in verdicts}
    soup = note_text["soup"]
    # the front page's boxes: what was new on the as-of date, then the thesis
    boxes = {_norm(b.select_one(".box-title").get_text()): [_norm(li.get_text()) for li in b.select("li")]
             for b in soup.select(".summary-box")}
    assert boxes[front.THESIS_TITLE] == [_norm(v.sentence) for v in thesis]
    assert next(iter(boxes)).startswith("What was new")
    # PDF text breaks lines anywhere (a space appears in "[0,\n+1]"): compared without whitespace
    pdf = re.sub(r"\s+", "", note_text["pdf"])
    for v in verdicts:
        s = _norm(v.sentence)
        assert s in _section_text(soup, _section_heading(v.section)), (v.key, "HTML section")
        assert pdf.count(re.sub(r"\s+", "", s)) >= (2 if v in thesis else 1), (v.key, "PDF")


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
