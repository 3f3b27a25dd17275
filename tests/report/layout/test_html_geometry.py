"""The HTML note measured in headless Chromium at 1280 px (laptop) and 390 px (phone): the page
never scrolls sideways; no table, chart or box reaches past the window (a wide table scrolls in
its own box); charts never shrink below 80% of their natural size (their text stays legible on a
phone: their box scrolls instead); the contents are a sticky sidebar on the wide screen; dark mode
keeps charts on a light card. Pages: the synthetic page (always) and the built notes (if built).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CHART_MIN_SCALE = 0.8  # note.css: `min-width: calc(0.8 * var(--w))`

GEOMETRY = r"""(() => {
  const W = %d;
  const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; };
  const name = el => {
    const f = el.closest('figure'); const lab = f && f.querySelector('.exhibit-label');
    return (lab ? lab.textContent + ' ' : '') + el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + el.className : '');
  };
  const out = {W, innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
               bodyScrollWidth: document.body.scrollWidth, outside: [], unboxed: [], charts: []};
  const blocks = document.querySelectorAll('main > *, figure, .table-scroll, .exhibit-svg, nav.toc, header, aside, pre, h1, h2, h3, p');
  for (const el of blocks) {
    const r = box(el);
    if (r.width > 0 && (r.left < -0.5 || r.right > W + 0.5)) out.outside.push([name(el), r.left, r.right]);
  }
  for (const t of document.querySelectorAll('table')) {
    const r = box(t);
    if (r.left >= -0.5 && r.right <= W + 0.5) continue;            // within the window
    const sc = t.closest('.table-scroll');                            // else it must scroll in its box
    const ok = sc && ['auto', 'scroll'].includes(getComputedStyle(sc).overflowX)
               && box(sc).left >= -0.5 && box(sc).right <= W + 0.5;
    if (!ok) out.unboxed.push([name(t), r.left, r.right]);
  }
  for (const svg of document.querySelectorAll('main svg')) {
    if (svg.parentElement.closest('svg')) continue;
    const w = svg.getAttribute('width') || '';
    const natural = parseFloat(w) * (w.endsWith('pt') ? 4 / 3 : 1);
    out.charts.push([name(svg), box(svg).width / natural]);
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


@pytest.mark.parametrize("width", [1280, 390])
def test_nothing_wider_than_the_window(chromium, layout_pages, shots_dir, width):
    for path in layout_pages:
        s = chromium.open(path, width)
        g = chromium.eval(s, GEOMETRY % width)
        where = f"{path.parent.name}/{path.name} at {width} px"
        assert g["scrollWidth"] <= width and g["bodyScrollWidth"] <= width, f"{where}: the page scrolls sideways ({g['scrollWidth']} px)"
        assert g["innerWidth"] == width, f"{where}: the phone zoomed out to fit a wider page ({g['innerWidth']} px)"
        assert not g["outside"], f"{where}: past the window: {g['outside'][:6]}"
        assert not g["unboxed"], f"{where}: tables wider than the window outside a scroll box: {g['unboxed'][:6]}"
        assert g["charts"], f"{where}: no chart measured"
        small = [c for c in g["charts"] if c[1] < CHART_MIN_SCALE - 0.01]
        assert not small, f"{where}: charts shrunk below {CHART_MIN_SCALE:.0%} of their size: {small[:4]}"
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
