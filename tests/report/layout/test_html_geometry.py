"""The HTML note measured in headless Chromium at 1280 px (laptop) and 390 px (phone).

The rules (note.css): the page never scrolls sideways, and no element reaches past the window
except inside a scroll box that itself lies within it; a table wider than its box scrolls there
(overflow auto), and on a phone its first column stays in view (sticky); a wrapping text column is
never a strip narrower than 8 em; charts scale with the page (never wider than their container,
never above their natural size), except a chart labelled cell by cell (`chart-dense`), which keeps
its natural size and scrolls in its own box; on the laptop an exhibit's title, notes and source
share its width, every exhibit is centred on the text column, and one that is not marked wide
takes exactly the text column and does not scroll; the contents are a sticky sidebar on the
wide screen; dark mode keeps charts on a light card. Pages: the synthetic page (always) and the
built notes (if built).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

GEOMETRY = r"""(() => {
  const W = %d;
  const box = el => el.getBoundingClientRect();
  const inside = b => b.left >= -0.5 && b.right <= W + 0.5;
  const name = el => {
    const f = el.closest('figure'); const lab = f && f.querySelector('.exhibit-label');
    return (lab ? lab.textContent + ' ' : '') + el.tagName.toLowerCase() + (typeof el.className === 'string' && el.className ? '.' + el.className : '');
  };
  const scrollBox = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
      if (['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) return p;
    return null;
  };
  const out = {W, innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
               bodyScrollWidth: document.body.scrollWidth, outside: [], unboxed: [], strips: [], unfrozen: [],
               charts: [], misaligned: [], offcentre: [], column_scrolls: [], elements: 0};
  // every element of the page but the insides of charts
  for (const el of document.querySelectorAll('body :not(svg *)')) {
    const b = box(el);
    if (!b.width) continue;
    out.elements++;
    if (inside(b)) continue;
    const sc = scrollBox(el);
    if (!sc || !inside(box(sc))) out.outside.push([name(el), Math.round(b.left), Math.round(b.right)]);
  }
  const col = box(document.querySelector('main .cell-markdown p'));
  out.column = [col.left, col.right];
  for (const t of document.querySelectorAll('main table')) {
    const sc = t.closest('.table-scroll');
    if (sc && sc.scrollWidth > sc.clientWidth + 1) {  // cut by its box: the box must scroll; phones freeze column 1
      if (!['auto', 'scroll'].includes(getComputedStyle(sc).overflowX)) out.unboxed.push(name(t));
      if (W < 600) {
        const first = [...t.querySelectorAll('tr > :first-child')];
        if (!first.every(c => getComputedStyle(c).position === 'sticky')) out.unfrozen.push(name(t));
      }
    }
    for (const td of t.querySelectorAll('td.l:not(.nw)')) {
      const em = parseFloat(getComputedStyle(td).fontSize);
      if (box(td).width < 8 * em - 1) { out.strips.push([name(t), td.textContent.slice(0, 30), Math.round(box(td).width)]); break; }
    }
  }
  for (const svg of document.querySelectorAll('main svg')) {
    if (svg.parentElement.closest('svg')) continue;
    const w = svg.getAttribute('width') || '', c = svg.parentElement;
    const cs = getComputedStyle(c);
    const room = c.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    out.charts.push({name: name(svg), natural: parseFloat(w) * (w.endsWith('pt') ? 4 / 3 : 1), width: box(svg).width,
                     room, dense: svg.classList.contains('chart-dense'), scrolls: c.scrollWidth > c.clientWidth + 1,
                     overflow: cs.overflowX, boxInside: inside(box(c))});
  }
  for (const f of document.querySelectorAll('main figure.exhibit')) {
    const fb = box(f), cap = box(f.querySelector('figcaption')), src = box(f.querySelector('.exhibit-source'));
    const body = box(f.querySelector('.table-scroll, .exhibit-svg'));
    if ([cap, src].some(b => Math.abs(b.left - fb.left) > 1 || Math.abs(b.right - fb.right) > 1)
        || body.left < fb.left - 1 || body.right > fb.right + 1) out.misaligned.push(name(f));
    if (Math.abs((fb.left + fb.right) / 2 - (col.left + col.right) / 2) > 1) out.offcentre.push(name(f));
    const sc = f.querySelector('.table-scroll');
    if (!f.matches('.exhibit-wide, :has(svg.chart-dense)')
        && (Math.abs(fb.width - (col.right - col.left)) > 1 || (sc && sc.scrollWidth > sc.clientWidth + 1)))
      out.column_scrolls.push([name(f), Math.round(fb.width), sc ? sc.scrollWidth : 0]);
  }
  const nav = document.querySelector('nav.toc'), main = document.querySelector('main');
  out.toc = nav ? {position: getComputedStyle(nav).position, right: box(nav).right, mainLeft: box(main).left,
                   visible: box(nav).width > 0, links: nav.querySelectorAll('a').length,
                   underline: getComputedStyle(nav.querySelector('a')).textDecorationLine} : null;
  return out;
})()"""


@pytest.fixture(scope="module")
def layout_pages(synthetic_page, built_note_paths):
    return [synthetic_page, *built_note_paths]


def _check_charts(charts, where, width):
    assert charts, f"{where}: no chart measured"
    for c in charts:
        if c["dense"]:  # natural size; when wider than its box, the box scrolls and stays in the window
            assert c["width"] == pytest.approx(c["natural"], abs=1), (where, c)
            if c["natural"] > c["room"] + 1:
                assert c["scrolls"] and c["overflow"] == "auto" and c["boxInside"], (where, c)
        else:  # scales with the page: as wide as its container allows, never wider, never enlarged
            assert c["width"] <= c["room"] + 0.5, f"{where}: chart wider than its container: {c}"
            assert c["width"] == pytest.approx(min(c["natural"], c["room"]), abs=1), (where, c)
    if width < 600:
        assert any(c["natural"] > c["room"] and not c["dense"] for c in charts), f"{where}: no chart was scaled down"


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_wider_than_the_window(chromium, layout_pages, shots_dir, width):
    for path in layout_pages:
        s = chromium.open(path, width)
        g = chromium.eval(s, GEOMETRY % width)
        where = f"{path.parent.name}/{path.name} at {width} px"
        assert g["scrollWidth"] <= width and g["bodyScrollWidth"] <= width, f"{where}: the page scrolls sideways ({g['scrollWidth']} px)"
        assert g["innerWidth"] == width, f"{where}: the phone zoomed out to fit a wider page ({g['innerWidth']} px)"
        assert g["elements"] > 100
        assert not g["outside"], f"{where}: past the window outside a scroll box: {g['outside'][:6]}"
        assert not g["unboxed"], f"{where}: tables cut by a box that does not scroll: {g['unboxed'][:6]}"
        assert not g["unfrozen"], f"{where}: scrolling tables whose first column scrolls away: {g['unfrozen'][:6]}"
        assert not g["strips"], f"{where}: text columns narrower than 8 em: {g['strips'][:6]}"
        _check_charts(g["charts"], where, width)
        if width >= 1200:
            assert not g["misaligned"], f"{where}: title, notes or source not as wide as the exhibit: {g['misaligned'][:6]}"
            assert not g["offcentre"], f"{where}: exhibits not centred on the text column: {g['offcentre'][:6]}"
            assert not g["column_scrolls"], f"{where}: exhibits in the text column not filling it or scrolling: {g['column_scrolls'][:6]}"
        toc = g["toc"]
        assert toc and toc["visible"] and toc["links"] >= 10 and "underline" in toc["underline"], toc
        if width >= 1200:  # the contents stay in view beside the note
            assert toc["position"] == "fixed" and toc["right"] <= toc["mainLeft"] + 0.5, toc
        else:
            assert toc["position"] == "static", toc
        if shots_dir is not None:
            chromium.screenshot(s, shots_dir / f"{path.parent.name}-{path.stem}-{width}.png")
        chromium.close_tab(s)


def test_dark_mode_keeps_charts_on_a_light_card(chromium, synthetic_page, shots_dir):
    s = chromium.open(synthetic_page, 1280, dark=True)
    colours = chromium.eval(s, """(() => {
      const bg = getComputedStyle(document.body).backgroundColor, ink = getComputedStyle(document.body).color;
      const card = getComputedStyle(document.querySelector('.exhibit-svg')).backgroundColor;
      return {bg, ink, card}; })()""")
    assert colours["card"] == "rgb(255, 255, 255)", colours

    def lum(css):
        r, g, b = (int(x) for x in css[css.index("(") + 1:css.index(")")].split(",")[:3])
        return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255

    assert lum(colours["bg"]) < 0.2 < 0.8 < lum(colours["ink"]), colours
    if shots_dir is not None:
        chromium.screenshot(s, shots_dir / "synthetic-1280-dark.png", full=False)
    chromium.close_tab(s)
