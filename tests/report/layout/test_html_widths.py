"""Screen widths decided when the page is laid out (no browser): the minimum width of a wrapping
text column from its content, which tables break out of the text column, which charts are dense
(labelled cell by cell), and the CSS that carries those decisions."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from analysis.report import html_layout as hl
from analysis.report.html import TEMPLATE_BASE

CSS = (TEMPLATE_BASE / "crwv" / "note.css").read_text(encoding="utf-8")


def _table(columns, rows, cls):
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f'<td class="{k}">{v}</td>' for v, k in zip(r, cls, strict=True)) + "</tr>"
                   for r in rows)
    return BeautifulSoup(f'<figure class="exhibit exhibit-table"><table><thead><tr>{head}</tr></thead>'
                         f"<tbody>{body}</tbody></table></figure>", "html.parser")


def test_text_column_min_width_follows_its_cells():
    # sources of 47 characters (as Table 6 of the note): 47 x 0.55 em on 2 lines = 12.9 em -> 14 em;
    # short text (8 characters) keeps the 8 em floor; 300 characters stop at the 16 em cap
    soup = _table(["Quarter", "Sources", "Note", "Story"],
                  [["2025Q1", "TR_25Q4 (medium) / PR_25Q3 (high) / RR (medium)", "no value", "word " * 60]] * 3,
                  ["l nw", "l", "l", "l"])
    assert hl.text_column_min_em(soup.table) == {1: 14, 2: hl.TEXT_COLUMN_MIN_EM, 3: hl.TEXT_COLUMN_MAX_EM}
    hl.wrap_tables(soup)
    assert [th.get("class") for th in soup.select("th")] == [None, ["mw-14"], ["mw-8"], ["mw-16"]]


def test_wide_tables_break_out_and_narrow_ones_stay_in_the_text_column():
    limit_em = hl.MEASURE_FILL * hl.MEASURE_REM / hl.TABLE_FONT_REM  # 51.75 em of the table font
    # a quarter column, as wide as its header "Quarter" (7 characters x 0.6 em + 0.9 em of padding
    # = 5.1 em), and n - 1 numeric columns of "12,345.6" (8 x 0.6 + 0.9 = 5.7 em each): 50.7 em
    # for n = 9, 56.4 em for n = 10
    for n, wide in ((9, False), (10, True)):
        soup = _table(["Quarter"] + [f"M{j}" for j in range(n - 1)], [["2025Q1"] + ["12,345.6"] * (n - 1)] * 2,
                      ["l nw"] + ["r"] * (n - 1))
        need = hl.table_screen_em(soup.table)
        assert need == pytest.approx(5.1 + 5.7 * (n - 1))
        assert (need > limit_em) is wide
        hl.wrap_tables(soup)
        assert ("exhibit-wide" in soup.figure["class"]) is wide, n


def test_dense_charts_are_the_ones_labelled_cell_by_cell():
    def svg(n_labels):
        groups = "".join(f'<g id="text_{k}"><use xlink:href="#g1"/></g>' for k in range(1, n_labels + 1))
        return f'<svg width="500pt" height="200pt" viewBox="0 0 500 200"><defs><path id="g1"/></defs>{groups}</svg>'

    assert hl.chart_labels(svg(40)) == 40
    line, grid = hl.inline_svg(svg(40), 1), hl.inline_svg(svg(hl.DENSE_CHART_LABELS + 1), 2)
    assert 'class="chart-dense"' not in line and line.startswith('<svg style="--w: 500pt"')
    assert grid.startswith('<svg style="--w: 500pt" class="chart-dense"') and 'id="f2-text_1"' in grid


def test_css_carries_the_layout_constants():
    assert re.search(rf"--measure:\s*{hl.MEASURE_REM}rem", CSS)
    assert re.search(rf"table\.exhibit-table \{{[^}}]*font: {hl.TABLE_FONT_REM}rem", CSS)
    for em in range(hl.TEXT_COLUMN_MIN_EM + 2, hl.TEXT_COLUMN_MAX_EM + 1, 2):
        assert f"th.mw-{em} {{ min-width: {em}em; }}" in CSS, em
    assert f"td.l:not(.nw) {{ min-width: {hl.TEXT_COLUMN_MIN_EM}em; }}" in CSS
    assert "svg.chart-dense { max-width: none; min-width: var(--w" in CSS
