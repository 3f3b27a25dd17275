"""PDF tables (Typst template): a table longer than a page repeats its header on every page and
never leaves a single row on a page (issue 12, point 7); a wide table fits the text width,
stepping its type and cell padding down, else on a landscape page, never cut off or overprinted.

Constructed tables only: the values are made up and exercise the layout, nothing else. Pages are
read back from the compiled PDF (pypdf text) and from Typst's own PNG rendering (ink positions).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict

import numpy as np
import pytest
import typst

from analysis.report.exhibits import Exhibit
from analysis.report.pdf import TEMPLATE_DIR, exhibit_typst, font_paths

PREAMBLE = ('#import "note.typ": *\n#show: note.with(title: "t", short-title: "Layout test", as-of: "2025-11-10", '
            "date: datetime(year: 2025, month: 11, day: 10))\n")
MM = 72 / 25.4  # points per millimetre
A4 = (210 * MM, 297 * MM)


def _compile(tmp_path, body: str, fmt: str = "pdf", ppi: int = 72):
    (tmp_path / "note.typ").write_text((TEMPLATE_DIR / "note.typ").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "main.typ").write_text(PREAMBLE + body, encoding="utf-8")
    kw = {"format": fmt, "ppi": ppi} if fmt == "png" else {}
    out = typst.compile(str(tmp_path / "main.typ"), root=str(tmp_path), font_paths=font_paths(),
                        ignore_system_fonts=True, **kw)
    return [out] if fmt == "png" and isinstance(out, bytes) else out


def _page_texts(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]


def _template_value(name: str):
    """A numeric constant of the template (`#let name = 14 ...`), so the tests follow it."""
    m = re.search(rf"^#let {name} = ([0-9.]+)", (TEMPLATE_DIR / "note.typ").read_text(encoding="utf-8"), re.M)
    assert m, f"note.typ defines no `{name}`"
    return float(m.group(1))


def _long_table(tag: str, n: int) -> str:
    """A 5-column table of `n` rows keyed `<tag>r000`...; every 5th row wraps onto two lines."""
    rows = [[f"{tag}r{i:03d}", f"{i * 1.5:,.1f}", f"{i * 2.5:,.1f}", "x",
             "a longer cell that wraps in its narrow column" if i % 5 == 0 else "short"] for i in range(n)]
    ex = Exhibit("table", f"Long table {tag}", "made-up values",
                 table={"columns": ["Key", "Alpha", "Beta", "Gamma", "Notes column"], "rows": rows,
                        "align": ["l", "r", "r", "l", "l"]})
    ex.data["label"] = f"Table {tag}"
    return exhibit_typst(ex.data)


def _fragments(pages: list[str], n_rows: int) -> dict[str, list[tuple[int, bool]]]:
    """Per table tag: the (rows on the page, header on the page) of each page it appears on;
    checks that every row of every table appears exactly once."""
    frags: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    seen: dict[str, list[int]] = defaultdict(list)
    for text in pages:
        keys = re.findall(r"\b(t\d{3})r(\d{3})\b", text)
        per_page: dict[str, int] = defaultdict(int)
        for tag, i in keys:
            per_page[tag] += 1
            seen[tag].append(int(i))
        heads = text.count("Notes column")
        for tag, count in per_page.items():
            frags[tag].append((count, heads >= 1))
    for tag, rows in seen.items():
        assert sorted(rows) == list(range(n_rows)), f"table {tag}: rows lost or repeated"
    return frags


def test_long_table_repeats_its_header_and_never_strands_a_row(tmp_path):
    """The table starts lower and lower on the page (one variant a page, offsets a few points
    apart, finer than a row), so that its break falls after each of its first and last rows."""
    glue = int(_template_value("glue-rows"))
    assert glue >= 2 and _template_value("keep-rows") < 18
    # offsets (pt) at which the table's foot, then its head, crosses the end of the page
    n_rows, offsets = 18, [*range(464, 536, 6), *range(620, 710, 6)]
    variants = len(offsets)
    body = "\n".join(("#pagebreak(weak: true)\n" if v else "") + f"#v({o}pt)\n" + _long_table(f"t{v:03d}", n_rows)
                     for v, o in enumerate(offsets))
    pages = _page_texts(_compile(tmp_path, body))
    frags = _fragments(pages, n_rows)
    assert len(frags) == variants
    split = {tag: [c for c, _ in f] for tag, f in frags.items() if len(f) > 1}
    for tag, f in frags.items():
        assert all(head for _, head in f), f"table {tag}: a page without the header row: {f}"
        assert all(c >= glue for c, _ in f), f"table {tag}: a page with fewer than {glue} of its rows: {f}"
    # the sweep did reach both ends: some split leaves exactly `glue` rows after the break and
    # some exactly `glue` before it (one row more offset would have stranded a single row)
    assert any(c[-1] == glue for c in split.values()) and any(c[0] == glue for c in split.values()), split
    assert 0 < len(split) < variants  # and some variants kept the table on one page


def test_figures_waiting_for_a_page_never_leave_a_header_alone(tmp_path):
    """Two tall figures that do not fit below the text wait for the next page, where together they
    leave a sliver between them; a long table that follows must not continue in that sliver with
    its repeated header and no row (figure heights chosen so that the sliver holds a header row
    and not two more: the note's Table 19 did that)."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="{h}" viewBox="0 0 400 {h}">'
           '<rect width="400" height="{h}" fill="#ddd"/></svg>')
    parts = []
    for v, (h, offset) in enumerate((h, o) for h in range(255, 262) for o in (380, 520)):
        (tmp_path / f"f{v}.svg").write_text(svg.format(h=h), encoding="utf-8")
        fig = f'#exhibit-figure(label: "Figure {v}", title: "Waiting figure", path: "f{v}.svg", source: "made-up")\n'
        parts.append(("#pagebreak(weak: true)\n" if v else "") + f"#v({offset}pt)\n" + fig + fig
                     + _long_table(f"t{v:03d}", 30))
    pages = _page_texts(_compile(tmp_path, "\n".join(parts)))
    for tag, f in _fragments(pages, 30).items():
        assert all(head for _, head in f) and all(c >= 2 for c, _ in f), f"table {tag}: {f}"
    for i, text in enumerate(pages):  # no page carries a header of a table without one of its rows
        assert text.count("Notes column") <= len(set(re.findall(r"\b(t\d{3})r\d{3}\b", text))), f"page {i + 1}: {text[:300]}"


def _wide_table(ncol: int, nrow: int, label: str) -> str:
    cols = ["Quarter"] + [f"Measure {j} (USD m)" for j in range(1, ncol)]
    rows = [[f"2025Q{i % 4 + 1}"] + [f"{(i + 1) * (j + 3) * 1234.5:,.1f}" for j in range(1, ncol)] for i in range(nrow)]
    ex = Exhibit("table", f"Wide table with {ncol} columns", "made-up values",
                 table={"columns": cols, "rows": rows, "align": ["l"] + ["r"] * (ncol - 1)})
    ex.data["label"] = label
    return exhibit_typst(ex.data)


def test_wide_tables_fit_the_text_width(tmp_path):
    """12 columns fit portrait at a smaller size; 19 do not, and get a landscape page at a size
    that keeps every number whole; 40 fit nowhere and wrap inside their cells: no ink is ever
    outside the text width (20 mm margins), in portrait or landscape."""
    from PIL import Image

    body = "\n\n".join(["#lorem(30)", _wide_table(12, 5, "Table 1"), "#lorem(30)", _wide_table(19, 5, "Table 2"),
                        "#lorem(30)", _wide_table(40, 3, "Table 3"), "#lorem(20)"])
    pdf = _compile(tmp_path, body)
    pages = _page_texts(pdf)
    from pypdf import PdfReader

    boxes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(io.BytesIO(pdf)).pages]
    where = {t: next(i for i, text in enumerate(pages) if f"Table {t} Wide" in text) for t in (1, 2, 3)}
    assert boxes[where[1]] == pytest.approx(A4, abs=1), "12 columns fit a portrait page"
    assert boxes[where[2]] == pytest.approx(A4[::-1], abs=1), "19 columns get a landscape page"
    assert boxes[where[3]] == pytest.approx(A4[::-1], abs=1)
    # tables 1 and 2: every number of a row on one line, whole and in order
    for t, ncol in ((1, 12), (2, 19)):
        lines = pages[where[t]].splitlines()
        for i in range(5):
            nums = [f"{(i + 1) * (j + 3) * 1234.5:,.1f}" for j in range(1, ncol)]
            row = next((ln for ln in lines if ln.startswith(f"2025Q{i % 4 + 1} {nums[0]}")), None)
            assert row is not None and row.split()[1:] == nums, (t, i, row)
    # ink: nothing outside the text width on any page (header and footer rules span it exactly)
    margin = 20 * MM
    for page, png in enumerate(_compile(tmp_path, body, fmt="png", ppi=72)):
        im = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
        cols = np.where((im < 235).any(axis=0))[0]
        width = im.shape[1]
        assert cols.min() >= margin - 1.5 and cols.max() <= width - margin + 1.5, (page, cols.min(), cols.max(), width)


@pytest.mark.build
def test_built_notes_stay_within_the_text_width():
    """Every page of each built PDF, re-rendered by Typst from the build's kept sources
    (`<out>/build/typst/main.typ`) at 20 ppi: no ink outside the 20 mm side margins."""
    from PIL import Image

    from analysis import paths

    sources = sorted((paths.ROOT / "reports").glob("**/build/typst/main.typ"))
    if not sources:
        pytest.skip("no built note in reports/: run `make report` (make test builds it first)")
    ppi = 20
    margin = 20 * ppi / 25.4
    for main in sources:
        pngs = typst.compile(str(main), root=str(main.parent), font_paths=font_paths(), ignore_system_fonts=True,
                             format="png", ppi=ppi)
        for page, png in enumerate([pngs] if isinstance(pngs, bytes) else pngs, start=1):
            im = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
            cols = np.where((im < 235).any(axis=0))[0]
            assert cols.min() >= margin - 1.5 and cols.max() <= im.shape[1] - margin + 1.5, (str(main), page)
