"""HTML page structure (no browser): unique ids, links and SVG references that resolve, tables
in scroll boxes, the contents with sub-sections, and the print size class of each table."""

from __future__ import annotations

import html
import re
from collections import Counter

import pytest
from bs4 import BeautifulSoup

from analysis.report.html_layout import PRINT_SIZES, prefix_svg_ids, print_fit, table_chars


def _soup(path):
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


_TAG = re.compile(r"<[A-Za-z][^>]*>")
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _attr(tags, name: str) -> list[str]:
    return [html.unescape(m.group(1)) for t in tags for m in re.finditer(rf'\s{name}="([^"]*)"', t)]


def _check_ids(page: str, where: str) -> None:
    """No id repeats; every in-page link and SVG reference points at an existing id; an SVG
    refers only to its own ids (a chart never borrows another chart's glyphs or clip paths).
    Read from the tags as written (a regular expression: quick on a 1 MB page)."""
    tags = _TAG.findall(page)
    ids = Counter(_attr(tags, "id"))
    repeated = {k: v for k, v in ids.items() if v > 1}
    assert not repeated, f"{where}: {len(repeated)} ids repeat, e.g. {list(repeated)[:8]}"
    refs = [h[1:] for h in _attr(tags, "(?:xlink:)?href") if h.startswith("#")]
    refs += [m for v in _attr(tags, "clip-path") for m in re.findall(r"url\(#([^)]+)\)", v)]
    missing = sorted({r for r in refs if r not in ids})
    assert not missing, f"{where}: links to missing ids {missing[:8]}"
    for svg in _SVG.findall(page):
        stags = _TAG.findall(svg)
        own = set(_attr(stags, "id"))
        used = {h[1:] for h in _attr(stags, "(?:xlink:)?href") if h.startswith("#")}
        used |= {m for v in _attr(stags, "clip-path") for m in re.findall(r"url\(#([^)]+)\)", v)}
        assert used <= own, f"{where}: an SVG refers to ids it does not define: {sorted(used - own)[:5]}"


def test_synthetic_page_ids_contents_and_scroll_boxes(synthetic_page):
    _check_ids(synthetic_page.read_text(encoding="utf-8"), "synthetic page")
    soup = _soup(synthetic_page)
    svgs = soup.find_all("svg")
    assert len(svgs) == 3
    prefixes = [{el["id"].split("-", 1)[0] for el in svg.find_all(id=True)} for svg in svgs]
    assert prefixes == [{"f1"}, {"f2"}, {"f3"}], "each chart's ids carry its own prefix"
    # the grid of 168 labelled cells is marked dense (it keeps its size on screen); the line charts are not
    assert [("chart-dense" in (svg.get("class") or [])) for svg in svgs] == [False, False, True]
    # the three 'Verdict' sub-heads: distinct ids, each qualified by its section, anchors follow
    verdicts = [h for h in soup.select("main h3") if h.get_text(strip=True) == "Verdict"]
    assert len(verdicts) == 3 and len({h["id"] for h in verdicts}) == 3
    for h in verdicts:
        section = h.find_previous("h2")["id"]
        assert h["id"] == f"{section}-Verdict"
        assert all(a["href"] == f"#{h['id']}" for a in h.find_all("a", class_="anchor-link"))
    # contents: every section with its sub-sections nested below it, in reading order
    toc = soup.select_one("nav.toc")
    sections = toc.select(":scope > ol > li")
    assert [li.a["href"] for li in sections] == ["#" + h["id"] for h in soup.select("main h2[id]")]
    assert len(sections) == 11
    for li, h2 in zip(sections, soup.select("main h2[id]"), strict=True):
        subs = []
        for h in h2.find_all_next(["h2", "h3"]):
            if h.name == "h2":
                break
            subs.append("#" + h["id"])
        assert [a["href"] for a in li.select("ol a.toc-sub")] == subs
    # every table sits in a focusable, named scroll box
    for table in soup.find_all("table"):
        box = table.parent
        assert box.name == "div" and "table-scroll" in box["class"], box.name
        assert box["tabindex"] == "0" and box["role"] == "region" and box["aria-label"]
    labels = [box["aria-label"] for box in soup.select("figure .table-scroll")]
    assert labels[0].startswith("Table 1 Fourteen measures")


def test_built_notes_have_unique_ids(built_note_paths):
    notes = built_note_paths
    if not notes:
        pytest.skip("no built note in reports/: run `make report` (make test builds it first)")
    for path in notes:
        _check_ids(path.read_text(encoding="utf-8"), str(path))


def test_prefix_svg_ids_renames_definitions_and_references():
    svg = ('<svg><defs><path id="DejaVuSans-31" d="M0"/><clipPath id="p1a"><rect/></clipPath></defs>'
           '<g id="figure_1" clip-path="url(#p1a)"><use xlink:href="#DejaVuSans-31"/><a href="#elsewhere"/></g></svg>')
    out = prefix_svg_ids(svg, "f3-")
    assert 'id="f3-DejaVuSans-31"' in out and 'id="f3-p1a"' in out and 'id="f3-figure_1"' in out
    assert 'clip-path="url(#f3-p1a)"' in out and 'xlink:href="#f3-DejaVuSans-31"' in out
    assert 'href="#elsewhere"' in out  # not defined in this SVG: left alone


def _table(columns, rows, cls):
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f'<td class="{k}">{v}</td>' for v, k in zip(r, cls, strict=True)) + "</tr>"
                   for r in rows)
    return BeautifulSoup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>", "html.parser").table


def test_print_fit_steps_down_with_width():
    narrow = _table(["Quarter", "Revenue"], [["2025Q1", "1,234.5"]], ["l nw", "r nw"])
    assert table_chars(narrow) == (7 + 7 + 4, 7 + 7 + 4) and print_fit(narrow) is None
    # n numeric columns of 8 characters (+2 of padding): 10n characters at 0.64 em each against
    # A4's 174 mm text width: 64.9 em at 7.6pt (n <= 10), 70.5 at 7pt (11), 77.1 at 6.4pt (12),
    # 85.0 at 5.8pt (13); beyond, cells may wrap (fit-over)
    fits = [print_fit(_table(["M"] * n, [["12,345.6"] * n], ["r"] * n)) for n in (10, 11, 12, 13, 14, 30)]
    assert fits == [None, "fit-1", "fit-2", "fit-3", "fit-over", "fit-over"]
    assert PRINT_SIZES == (7.6, 7.0, 6.4, 5.8)
    # a wordy text column wraps: its longest word counts (at least 6 characters), not its length
    wordy = _table(["Id", "Claim"], [["C1", "a sentence " * 40]], ["l nw", "l"])
    assert table_chars(wordy) == (2 + 8 + 4, 2 + 20 + 4) and print_fit(wordy) is None


def test_nothing_for_nbconvert_s_own_pass_to_do(built_note_paths):
    """The note skips HTMLExporter's parse of the page (html.NoteExporter), which describes images
    without alt text and makes JupyterLab's input and output areas focusable: the crwv template
    emits neither, while every scroll box is focusable."""
    if not built_note_paths:
        pytest.skip("no built note in reports/: run `make report` (make test builds it first)")
    for path in built_note_paths:
        soup = _soup(path)
        assert not soup.select("img:not([alt])"), path
        assert not soup.select(".jp-Notebook div.jp-Cell-inputWrapper, .jp-Notebook div.jp-OutputArea-output"), path
        boxes = soup.select("div.table-scroll")
        assert len(boxes) > 20 and all(b.get("tabindex") == "0" for b in boxes), path
