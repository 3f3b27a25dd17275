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
from analysis.verdicts import HEADLINE_MAX_WORDS, QUESTIONS, THESIS

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
            assert set(v) == {"question", "answer", "headline", "sentence", "evidence", "period"}, (nb, key)
            assert v["sentence"] and v["headline"] and len(v["headline"].split()) <= HEADLINE_MAX_WORDS, (nb, key)
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


VARIANTS = {"latest": OUT, "2025-11-10": OUT / "as-of-2025-11-10"}
#: the running header and footer of the PDF's pages (left out: a sentence may run across a page break)
_RUNNING = re.compile(r"^(CoreWeave, Inc\. \(CRWV\) \| Independent equity research As of \S+|"
                      r"Independent research\. Not investment advice\. Page \d+ of \d+)$")


def _squash(s: str) -> str:
    """Text compared without whitespace (PDF text breaks lines anywhere: a space appears in
    '[0,\n+1]') and without hyphens between letters (the PDF hyphenates body text: 'overlap-\nping';
    a minus sign or a date keeps its hyphen)."""
    s = re.sub(r"\s+", "", _norm(s).replace("\u2010", "-"))
    return re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "", s)


@pytest.fixture(scope="module", params=list(VARIANTS))
def built_note(request):
    """One built note (latest, 2025-11-10): its results, HTML soup and PDF text by page."""
    from io import BytesIO

    from pypdf import PdfReader

    out = VARIANTS[request.param]
    html, pdf = out / "crwv-note.html", out / "crwv-note.pdf"
    if not (html.exists() and pdf.exists()):
        pytest.skip(f"{out}/crwv-note.{{html,pdf}} not built: run `make test` (it builds both notes first)")
    pages = ["\n".join(line for line in (p.extract_text() or "").splitlines() if not _RUNNING.match(line.strip()))
             for p in PdfReader(BytesIO(pdf.read_bytes())).pages]
    return {"variant": request.param, "results": out / "build" / "results", "pages": pages,
            "soup": BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")}


def _pdf_sections(pages: list[str], stems: list[str]) -> dict[str, str]:
    """Each section's PDF text (whitespace removed), from its heading to the next section's;
    page 1 (the front page) is left out."""
    body = _squash("\n".join(pages[1:]))
    starts = [(body.index(_squash(_section_heading(s))), s) for s in stems]
    assert starts == sorted(starts), "sections out of order in the PDF"
    ends = [i for i, _ in starts[1:]] + [body.find(_squash("Methods"), starts[-1][0])]
    return {s: body[i:e] for (i, s), e in zip(starts, ends, strict=True)}


def test_every_verdict_reads_the_same_on_the_front_page_and_in_its_section(built_note):
    """For every recorded verdict of the built note (HTML and PDF): its answer and headline (`lead`)
    on the front page, in the thesis bullet `THESIS` gives it, and in its own section; its full
    sentence in its own section. In the PDF the front page is page 1: the thesis fits on it."""
    rs = front.ResultsSet(built_note["results"])
    verdicts = front.recorded_verdicts(rs)
    assert {v.key for v in verdicts} == set(QUESTIONS), built_note["variant"]
    soup = built_note["soup"]
    # HTML: the front page's boxes are what was new on the as-of date, then the thesis
    boxes = {_norm(b.select_one(".box-title").get_text()): b.select("li") for b in soup.select(".summary-box")}
    assert list(boxes)[0].startswith("What was new") and list(boxes)[1] == front.THESIS_TITLE
    bullets = {_norm(li.strong.get_text()).rstrip("."): _norm(li.get_text()) for li in boxes[front.THESIS_TITLE]}
    assert list(bullets) == [label for label, _ in THESIS]  # five bullets, one per question of the seeds
    label_of = {k: label for label, keys in THESIS for k in keys}
    page1 = _squash(built_note["pages"][0])
    # section 08 (what changed) prints only in the history's latest note, and holds no verdict
    pdf_sections = _pdf_sections(built_note["pages"], [s for s in SECTIONS if s in rs.data and s != "08_what_changed"])
    for v in verdicts:
        lead, sentence = _norm(v.lead), _norm(v.sentence)
        section = _section_text(soup, _section_heading(v.section))
        assert lead in bullets[label_of[v.key]], (v.key, "HTML thesis")
        assert lead in section and sentence in section, (v.key, "HTML section")
        assert _squash(lead) in page1, (v.key, "PDF page 1")
        assert _squash(lead) in pdf_sections[v.section] and _squash(sentence) in pdf_sections[v.section], (v.key, "PDF section")
        assert _squash(sentence) not in page1, (v.key, "the front page prints the headline, not the sentence")
        # the section prints the lead in bold, right before the sentence
        assert _norm(v.lead + " " + v.sentence) in section, (v.key, "HTML section: lead then sentence")


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


def test_funding_verdict_leads_with_the_newest_funding_gap():
    """The funding verdict of the latest note states the newest reported period that has a
    funding gap (2026H1 with the current data) and that its financing is unknown; its answer is
    for the older period whose debt flows are known, and names it."""
    from analysis.funding import period_order

    res = json.loads((RESULTS / "06_funding.json").read_text(encoding="utf-8"))
    t = res["tables"]["funding_gap_cumulative"]
    gaps = [r[t["columns"].index("period")] for r in t["rows"] if r[t["columns"].index("funding_gap")] is not None]
    newest = max(gaps, key=period_order)
    v = res["verdicts"]["funding_gap"]
    assert f"{newest} gap " in v["headline"] and v["period"].startswith(newest)
    if "context_period" in v["evidence"]:  # financing of the newest period not in the data: said, and the basis named
        assert f"{newest} gap " in v["headline"] and v["headline"].endswith("financing unknown")
        assert v["answer"].endswith(f", in {v['evidence']['context_period']}")


def test_no_code_words_or_invisible_characters_in_the_built_notes(built_note):
    """What a reader copies from the PDF is the text (no zero-width space, no word joiner); no raw
    price id ('prices:CRWV'), no untranslated placeholder ('(CJK text)') and no unbalanced
    shortened title ("'COMPANY RESEARCH REPORT: CoreWeave [RR]") in either note."""
    from analysis.report.fmt import open_marks

    pdf = "\n".join(built_note["pages"])
    html = built_note["soup"].get_text(" ")
    assert not re.search("[\u200b\u2060\ufeff]", pdf)
    for text in (pdf, html):
        assert "prices:" not in text and "(CJK text)" not in text and "the seed's" not in text
    for p in built_note["soup"].select("p.exhibit-source"):
        line = p.get_text(" ")
        for part in line.removeprefix("Source: ").split("; "):
            if part.endswith("]") and "\u2026" in part:
                assert not open_marks(part), part
