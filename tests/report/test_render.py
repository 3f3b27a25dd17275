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
    targets = [a["href"] for a in toc.select("a")]
    h2_ids = ["#" + h["id"] for h in soup.select("main h2[id]")]
    assert targets == h2_ids and "#Fixture-section" in targets and "#Disclosures" in targets
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
