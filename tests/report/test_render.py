"""Rendering: self-contained HTML, PDF text, exhibit numbering, sections order, determinism,
atomic writes. The executed fixture notebook holds made-up values (test fixture only)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from analysis.report import note as note_mod
from analysis.report.pdf import pdf_text, typst_str

# what analysis.build passes (dates fixed, no clock)
META = {"as_of": "2025-11-10", "build_date": "2025-11-10", "point_in_time": True, "commit": "0123456789ab",
        "versions": {"pandas": "test"}, "checksums": [("data/sources.csv", "f" * 64)], "params": {"as_of": "2025-11-10"}}
PARAMS = {"name": "test", "common": {"as_of": "2025-11-10"}, "notebooks": {}}

FIXTURE_TITLES = ("Fixture table: revenue grew between quarters", "Fixture figure: a line that goes down then up")


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\u2212", "-"))


@pytest.fixture(scope="module")
def rendered(executed_fixture, build_factory, tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    build = build_factory(root, executed_fixture)
    html_path, pdf_path = note_mod.render_note(build, root / "out", PARAMS, META)
    return build, html_path, pdf_path


def test_outputs_written(rendered):
    _, html_path, pdf_path = rendered
    assert html_path.name == "crwv-note.html" and pdf_path.name == "crwv-note.pdf"
    assert pdf_path.read_bytes().startswith(b"%PDF-")
    assert html_path.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html>")


def test_html_self_contained(rendered):
    page = rendered[1].read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find("script") is None, "the note carries no script at all"
    assert soup.find("link") is None and soup.find("iframe") is None
    for tag in soup.find_all(["script", "link", "img", "font", "source", "iframe", "object", "embed"]):
        for attr in ("src", "href", "data"):
            v = tag.get(attr)
            assert not v or not re.match(r"^(https?:)?//", v), f"external resource: <{tag.name} {attr}={v}>"
    for style in soup.find_all("style"):
        assert "@import" not in style.text and "url(" not in style.text, "styles fetch nothing"
    assert not re.search(r"(mathjax|requirejs|cdn\.|unpkg|jsdelivr)", page, re.I)


def test_html_content_and_toc(rendered):
    soup = BeautifulSoup(rendered[1].read_text(encoding="utf-8"), "html.parser")
    text = _norm(soup.get_text(" "))
    for t in FIXTURE_TITLES:
        assert t in text
    assert "Table 1" in text and "Figure 1" in text
    toc = soup.select_one("nav.toc")
    assert toc is not None
    # sections (h2) and their sub-sections (h3), in reading order, sub-sections nested
    targets = [a["href"] for a in toc.select("a")]
    heading_ids = ["#" + h["id"] for h in soup.select("main h2[id], main h3[id]")]
    assert targets == heading_ids and "#Fixture-section" in targets and "#Disclosures" in targets
    assert [a["href"] for a in toc.select("ol > li > a.toc-section")] == ["#" + h["id"] for h in soup.select("main h2[id]")]
    assert "#A-sub-head" in [a["href"] for a in toc.select("ol ol a.toc-sub")]
    # inputs, parameters and streams are not in the note
    for absent in ("import pandas", "noise on stdout", "more noise", "results_dir", "injected"):
        assert absent not in text
    # the injected parameter reached the notebook (papermill ran with it)
    assert "run as papermill" in text
    # inline SVG kept its case (nbconvert re-serialises the page with a lower-casing parser)
    assert "viewBox=" in rendered[1].read_text(encoding="utf-8")


def test_pdf_text(rendered):
    text = _norm(pdf_text(rendered[2].read_bytes()))
    assert "CoreWeave, Inc. (CRWV)" in text
    assert "Table 1 Fixture table" in text and "Figure 1 Fixture figure" in text
    assert "$1,212.8m" in text and "17.0%" in text and "n/a" in text  # fixture cells as formatted
    assert "Source: Test fixture (made-up values)" in text
    assert re.search(r"Page 1 of (\d+)", text)
    for absent in ("noise on stdout", "import pandas"):
        assert absent not in text


def test_renders_byte_identical(executed_fixture, build_factory, tmp_path):
    build = build_factory(tmp_path, executed_fixture)
    a = note_mod.render_note(build, tmp_path / "a", PARAMS, META)
    b = note_mod.render_note(build, tmp_path / "b", PARAMS, META)
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[1].read_bytes() == b[1].read_bytes()


def test_failed_render_keeps_previous_files(executed_fixture, build_factory, tmp_path, monkeypatch):
    build = build_factory(tmp_path, executed_fixture)
    out = tmp_path / "out"
    html_path, pdf_path = note_mod.render_note(build, out, PARAMS, META)
    before = html_path.read_bytes(), pdf_path.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("typst failed")

    monkeypatch.setattr(note_mod, "render_pdf", boom)
    with pytest.raises(RuntimeError):
        note_mod.render_note(build, out, PARAMS, {**META, "commit": "changed"})
    assert (html_path.read_bytes(), pdf_path.read_bytes()) == before
    assert sorted(p.name for p in out.iterdir()) == ["crwv-note.html", "crwv-note.pdf"]  # no temp files


def test_sections_in_order_and_absent_left_out(executed_fixture, build_factory, tmp_path):
    build = build_factory(tmp_path, executed_fixture, stems=("02_backlog_conversion", "00_overview"),
                       headings={"00_overview": "First fixture", "02_backlog_conversion": "Second fixture"})
    html_path, pdf_path = note_mod.render_note(build, tmp_path / "out", PARAMS, META)
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    h2 = [h.get_text(strip=True) for h in soup.select("main h2")]
    assert h2[:2] == ["First fixture", "Second fixture"]
    assert h2[2:] == ["Methods", "Data and sources", "Reproducibility", "Disclosures"]
    # exhibits numbered across sections in reading order
    labels = [s.get_text() for s in soup.select("figcaption .exhibit-label")]
    assert labels[:4] == ["Table 1", "Figure 1", "Table 2", "Figure 2"]
    # methods only for the sections present: no contagion method without 04
    assert "Forbes" not in soup.get_text() and "Backlog conversion." in soup.get_text()
    text = _norm(pdf_text(pdf_path.read_bytes()))
    assert text.index("First fixture") < text.index("Second fixture") < text.index("Methods")
    assert "Table 2 Fixture table" in text and "Figure 2 Fixture figure" in text


def test_typst_strings_are_verbatim(tmp_path):
    # markup characters in titles must print as they are, not be read as Typst markup
    from analysis.report.exhibits import Exhibit
    from analysis.report.pdf import exhibit_typst

    nasty = 'Q3 #1: "up to" $22.4bn *not* bold \\ <x> @ref _u_ [b]'
    ex = Exhibit("table", nasty, "src [PR_25Q3]", table={"columns": ["a"], "rows": [[nasty]], "align": ["l"]})
    typ = exhibit_typst(ex.data)
    assert typst_str(nasty) in typ
    import typst

    from analysis.report.pdf import TEMPLATE_DIR, font_paths

    (tmp_path / "note.typ").write_text((TEMPLATE_DIR / "note.typ").read_text())
    (tmp_path / "main.typ").write_text('#import "note.typ": *\n' + typ)
    pdf = typst.compile(str(tmp_path / "main.typ"), root=str(tmp_path), font_paths=font_paths(),
                        ignore_system_fonts=True)
    assert _norm(pdf_text(pdf)).count(nasty) == 2


# ---- table layout (constructed cases; the values are made up and only exercise the layout) ----

def _compile_exhibits(tmp_path, *exhibits_data):
    from analysis.report.pdf import exhibit_typst

    return _compile_typst(tmp_path, "\n".join(exhibit_typst(d) for d in exhibits_data))


def _compile_typst(tmp_path, body):
    import typst

    from analysis.report.pdf import TEMPLATE_DIR, font_paths

    (tmp_path / "note.typ").write_text((TEMPLATE_DIR / "note.typ").read_text())
    (tmp_path / "main.typ").write_text('#import "note.typ": *\n#show: note.with(title: "t", short-title: "t", '
                                       'as-of: "2025-11-10", date: datetime(year: 2025, month: 11, day: 10))\n' + body)
    return typst.compile(str(tmp_path / "main.typ"), root=str(tmp_path), font_paths=font_paths(),
                         ignore_system_fonts=True)


def test_column_fit_classifies_columns():
    from analysis.report.pdf import break_pieces, column_fit

    cols = ["Quarter", "Backlog", "Change", "SHA-256", "Reason"]
    rows = [["2025Q3", "55,600.0", "+4.2%", "a" * 64, "the filing gives no backlog for this quarter"],
            ["2025Q4", "n/a", "-1.0 pp", "0123456789abcdef" * 4, ""]]
    fit = column_fit(cols, rows, ["l", "l", "l", "l", "l"])
    assert [f["num"] for f in fit] == [False, True, True, False, False]  # preformatted numbers count as numeric
    assert [f["mono"] for f in fit] == [False, False, False, True, False]
    assert fit[4]["cells"][0].startswith("the filing") and fit[4]["weight"] > fit[0]["weight"]
    assert fit[4]["words"][:2] == ["backlog", "quarter"] and fit[0]["head_words"] == ["Quarter"]
    # long identifiers may break after underscores; short ones and '±' numbers stay whole
    assert break_pieces("interest_and_da_to_revenue 2025Q1") == ["interest_", "and_", "da_", "to_", "revenue", "2025Q1"]
    assert break_pieces("net_income") == ["net_income"]
    assert break_pieces("≈ $75.0m (±$10.0m)") == ["≈", "$75.0m", "(±$10.0m)"]


def test_table_breaks_put_no_invisible_character_in_the_text(tmp_path):
    """A long file name wraps after an underscore in a narrow column and '±' stays on its number,
    yet the PDF's text (copy-paste) is the cell's text: no zero-width space, no word joiner."""
    from analysis.report.exhibits import Exhibit
    from analysis.report.pdf import exhibit_typst

    rows = [["debt_facilities_and_maturities.csv", "≈ $75.0m (±$10.0m)", "x " * 60]]
    ex = Exhibit("table", "Breaks", "made-up values", table={"columns": ["File", "Stated", "Filler"], "rows": rows,
                                                             "align": ["l", "l", "l"]})
    typ = exhibit_typst(ex.data).replace("#exhibit-table(", "#exhibit-table(widths: (60pt, 90pt, 200pt), ", 1)
    text = pdf_text(_compile_typst(tmp_path, typ))
    assert not re.search("[\u200b\u2060\u00ad\ufeff]", text)
    assert "(±$10.0m)" in text
    joined = re.sub(r"\s+", "", text)
    assert "debt_facilities_and_maturities.csv" in joined
    # and the narrow column did break after an underscore (otherwise the test shows nothing)
    assert re.search(r"_\s*\n", text), text


def test_wide_table_keeps_numbers_and_headers_whole(tmp_path):
    from analysis.report.exhibits import Exhibit

    cols = ["Quarter", "Backlog", "Prior backlog", "Revenue", "Implied bookings", "Book-to-bill", "Coverage (years)",
            "Conversion (quarter)", "Sources: backlog / prior / revenue", "Missing because"]
    rows = [[f"2025Q{q}", "55,600.0", "30,100.0", "1,364.7", "26,864.7", "19.69x", "10.2", "4.5%",
             "PR_25Q3 (high) / FINTOOL (low) / PR_25Q3 (high)", "no prior balance in the filing of that quarter"]
            for q in (1, 2, 3)]
    ex = Exhibit("table", "Layout test", "made-up values",
                 table={"columns": cols, "rows": rows, "align": ["l"] + ["r"] * 7 + ["l", "l"]})
    text = pdf_text(_compile_exhibits(tmp_path, ex.data))
    lines = text.splitlines()
    # every numeric cell of a row on one line, in order, separated (never run together or wrapped)
    for q in (1, 2, 3):
        row = next(ln for ln in lines if ln.startswith(f"2025Q{q}"))
        assert re.search(r"2025Q\d\s+55,600\.0\s+30,100\.0\s+1,364\.7\s+26,864\.7\s+19\.69x\s+10\.2\s+4\.5%", row), row
    # headers wrap at spaces only: no hyphenated word anywhere in the table
    assert not re.search(r"[A-Za-z]-\n", text) and "Quar-" not in text and "Back-" not in text


def test_long_narrow_table_in_two_halves(tmp_path):
    from analysis.report.exhibits import Exhibit

    rows = [[f"package{i:02d}", f"{i}.0"] for i in range(20)]
    ex = Exhibit("table", "Versions", "made-up values", table={"columns": ["Package", "Version"], "rows": rows,
                                                               "align": ["l", "l"]})
    text = pdf_text(_compile_exhibits(tmp_path, ex.data))
    assert text.count("Package") == 2  # the header heads both halves
    # rows 0-9 under the first header, 10-19 under the second
    second = text.index("Package", text.index("Package") + 1)
    assert text.index("package09") < second < text.index("package10")


def test_layout_hints_shared_by_html(rendered):
    build, html_path, _ = rendered
    soup = BeautifulSoup(html_path.read_text(encoding="utf-8"), "html.parser")
    table = soup.select_one("table.exhibit-table")
    assert table is not None
    heads = table.select("thead th")
    # the fixture's numbers are right-aligned and never wrapped; every column is marked
    assert all(("r" in th["class"]) or ("l" in th["class"]) for th in heads)
    assert any("r" in th["class"] and "nw" in th["class"] for th in heads)
    css = html_path.read_text(encoding="utf-8")
    assert "td.nw { white-space: nowrap; }" in css and "hyphens: manual" in css


def test_layout_table_hints():
    t = {"columns": ["Quarter", "Value", "Why"], "align": ["l", "l", "l"],
         "rows": [["2025Q1", "$1,212.8m", "a long reason that certainly needs wrapping in a narrow column"],
                  ["2025Q2", "n/a", ""]]}
    note_mod.layout_table(t)
    assert t["align"] == ["l", "r", "l"]
    assert t["nowrap"] == [True, True, False]


def test_figures_float_and_are_flushed_per_section():
    from analysis.report.pdf import TEMPLATE_DIR

    typ = (TEMPLATE_DIR / "note.typ").read_text()
    fig = typ[typ.index("#let exhibit-figure"):]
    assert "place(auto, float: true" in fig.split("\n\n")[0]
    assert "place.flush()" in typ[typ.index("heading.where(level: 2)"):]
