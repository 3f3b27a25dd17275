"""The HTML note printed from the browser (A4, the page's print CSS): every table, and every cell
of its last column, within the text width (no column cut off: the issue found Tables 4, 6 and 7
cut), the contents' numbers whole ("10.", not ".0"); and Chromium's own PDF of the page on A4
pages, with the text of each table's last column in it.

Print layout: the synthetic page and every built note. Chromium's PDF: the synthetic page (its
tables are wider than the note's); the built default note too with CRWV_LAYOUT_FULL=1 (reading
a 40-page PDF's text takes pypdf several seconds)."""

from __future__ import annotations

import io
import os
import re
import unicodedata

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.browser

A4_TEXT_PX = int(174 / 25.4 * 96)  # 210 mm less the 18 mm side margins of note.css's @page, in CSS px
A4_PT = (595.28, 841.89)

PRINT_GEOMETRY = r"""(() => {
  const W = document.documentElement.clientWidth, out = {W, tables: [], toc: []};
  for (const t of document.querySelectorAll('table')) {
    const r = t.getBoundingClientRect(), f = t.closest('figure'), lab = f && f.querySelector('.exhibit-label');
    let right = r.right;  // the last column's cells, with their content
    for (const c of t.querySelectorAll('tr > :last-child')) {
      const range = document.createRange(); range.selectNodeContents(c);
      right = Math.max(right, c.getBoundingClientRect().right, range.getBoundingClientRect().right);
    }
    out.tables.push([lab ? lab.textContent : 'table', r.left, right]);
  }
  // each contents number ("10. ") must fit the room left of its entry (else print cuts it)
  const probe = document.createElement('span'); document.body.appendChild(probe);
  document.querySelectorAll('nav.toc > ol > li').forEach((li, i) => {
    probe.style.font = getComputedStyle(li).font; probe.textContent = (i + 1) + '. ';
    out.toc.push([i + 1, probe.getBoundingClientRect().width, li.getBoundingClientRect().left]);
  });
  probe.remove();
  return out;
})()"""


def test_print_layout_fits_a4(chromium, synthetic_page, built_note_paths):
    for path in [synthetic_page, *built_note_paths]:
        s = chromium.open(path, A4_TEXT_PX, height=1100, media="print")
        g = chromium.eval(s, PRINT_GEOMETRY)
        chromium.close_tab(s)
        assert g["W"] == A4_TEXT_PX
        over = [t for t in g["tables"] if t[1] < -0.5 or t[2] > g["W"] + 0.5]
        assert not over, f"{path.parent.name}/{path.name}: tables wider than A4's text width in print: {over[:6]}"
        assert len(g["toc"]) >= 10
        cut = [t for t in g["toc"] if t[1] > t[2] + 0.5]
        assert not cut, f"{path.name}: contents numbers wider than their room (number, width, room): {cut}"


def _last_column_texts(path):
    """(label, last header, last row's last cell) of each exhibit table of the page."""
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    out = []
    for fig in soup.select("figure.exhibit-table"):
        head = fig.select("thead th")[-1].get_text(" ", strip=True)
        cell = fig.select("tbody tr")[-1].find_all("td")[-1].get_text(" ", strip=True)
        out.append((fig.select_one(".exhibit-label").get_text(strip=True), head, cell))
    return out


def test_browser_pdf_is_a4_with_every_last_column(chromium, synthetic_page, built_note_paths):
    from pypdf import PdfReader

    full = os.environ.get("CRWV_LAYOUT_FULL") == "1"
    print_pages = [synthetic_page, *[p for p in built_note_paths if full and p.parent.name == "reports"]]
    def norm(x):  # ligatures (ﬁ) as letters, no white space
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", x))

    for path in print_pages:
        s = chromium.open(path, 1280)
        pdf = chromium.print_pdf(s)
        chromium.close_tab(s)
        reader = PdfReader(io.BytesIO(pdf))
        sizes = {(round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages}
        assert sizes == {tuple(round(x) for x in A4_PT)}, sizes
        text = norm("".join(p.extract_text() or "" for p in reader.pages))
        missing = [(lab, head, cell) for lab, head, cell in _last_column_texts(path)
                   if norm(head) not in text or norm(cell) not in text]
        assert not missing, f"{path.name}: last columns missing from the printed PDF: {missing[:5]}"
