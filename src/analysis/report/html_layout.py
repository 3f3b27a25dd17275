"""Layout of the HTML page, applied to nbconvert's output (see `html.render_html`).

- every table sits in its own horizontal scroll box (`div.table-scroll`), so a wide table never
  widens the page; a class `fit-1`..`fit-3` or `fit-over` (from its estimated width) tells the
  print CSS how far to shrink it to fit A4; the header of a wrapping text column carries `mw-<n>`,
  its minimum width on screen in em (`text_column_min_em`), so a column of long cells (sources,
  descriptions) is never squeezed to a narrow strip: the table scrolls in its box instead;
- a table whose readable minimum width (`table_screen_em`) exceeds the text column marks its
  figure `exhibit-wide`: on screen it breaks out of the text column, up to the note's width;
- a chart that labels its data cell by cell (more than DENSE_CHART_LABELS text labels: the heat
  map of event returns) is marked `chart-dense`: the screen CSS keeps it at its natural size and
  lets it scroll in its own box rather than shrink its labels below legibility; every other chart
  scales down with the page;
- ids are unique across the page: ids inside each inline SVG get a per-SVG prefix (matplotlib
  names them `figure_1`, `line2d_3`, glyph `DejaVuSans-31`... in every chart), and a repeated
  heading id ("Verdict" in several sections) is qualified by its section's id;
- the contents (`nav.toc`) lists the section (h2) and sub-section (h3) headings.

Layout only: no text of the note is changed, no script or external resource is added.
"""

from __future__ import annotations

import html as _html
import re
from collections import Counter

from bs4 import BeautifulSoup

#: one inline SVG chart (matplotlib's never nest): stashed before nbconvert, cut before text is read
SVG_BLOCK = re.compile(r"<svg\b.*?</svg\s*>", re.S | re.I)

#: Print type sizes of a table (pt): the print CSS sets `fit-k` tables at PRINT_SIZES[k].
PRINT_SIZES = (7.6, 7.0, 6.4, 5.8)
#: A4 text width in the print CSS (210 mm less 2 x 18 mm margins), in points
PRINT_WIDTH_PT = 174 / 25.4 * 72
#: em per character: the most a table's narrowest layout takes (measured in Chromium on the
#: note's tables: at most 0.62) and what its comfortable layout takes on average
EM_PER_CHAR_MIN, EM_PER_CHAR_COMFORT = 0.64, 0.55
#: a wrapping text cell is never narrower than this many characters (`min-width: 4em` in print)
TEXT_COLUMN_MIN = 6
#: characters of a wrapping text cell that its comfortable layout keeps on one line
TEXT_COLUMN_COMFORT = 20
#: screen minimum widths of a wrapping text column (em of the table font; note.css `th.mw-<n>`):
#: wide enough for its average cell on TEXT_COLUMN_LINES lines, within these bounds, in steps of 2
TEXT_COLUMN_MIN_EM, TEXT_COLUMN_MAX_EM, TEXT_COLUMN_LINES = 8, 16, 2
#: the screen's text column and table type (note.css `--measure`, `table.exhibit-table` font), rem
MEASURE_REM, TABLE_FONT_REM = 46, 0.8
#: em (of the table font) per character of a cell that never wraps, and padding of a column
EM_PER_CHAR_SCREEN, COLUMN_PAD_EM = 0.6, 0.9
#: a table breaks out when its estimated readable minimum exceeds this share of the text column
#: (on the note's tables the estimate is within 10% of Chromium's min-content width, either way)
MEASURE_FILL = 0.9
#: a chart with more text labels than this labels its data cell by cell (`chart-dense`); the
#: note's line and bar charts carry at most about 50 (ticks, legend, event markers)
DENSE_CHART_LABELS = 150


def layout_page(page: str, toc_placeholder: str) -> str:
    """The exported page (SVG stashed as comments) with scroll boxes, unique ids and contents."""
    soup = BeautifulSoup(page, "html.parser")
    wrap_tables(soup)
    unique_heading_ids(soup)
    toc = toc_html(soup)
    out = str(soup)
    return out.replace(toc_placeholder, toc, 1)


def _caption(table) -> str:
    fig = table.find_parent("figure")
    cap = fig.find("figcaption") if fig is not None else None
    return cap.get_text(" ", strip=True) if cap is not None else "Table"


def _cells(table):
    """(column index, cell, its text, its classes, its longest word's length) of every header and
    body cell, row by row."""
    for tr in table.find_all("tr"):
        for i, cell in enumerate(tr.find_all(["td", "th"], recursive=False)):
            text = cell.get_text(" ", strip=True)
            yield i, cell, text, cell.get("class") or [], max((len(x) for x in text.split()), default=0)


def table_chars(table) -> tuple[int, int]:
    """(narrowest, comfortable) print width of a table in characters, two of padding a column.

    Narrowest: per column its widest cell that never wraps (numeric `r` or short `nw`) and the
    longest word of any other cell or of its header (they wrap at spaces); a wrapping text column
    at least TEXT_COLUMN_MIN. Comfortable: wrapping text cells up to TEXT_COLUMN_COMFORT
    characters on one line.
    """
    narrow: dict[int, int] = {}
    comfort: dict[int, int] = {}
    for i, cell, text, cls, word in _cells(table):
        if cell.name == "th":
            n = c = word
        elif "r" in cls or "nw" in cls:
            n = c = len(text)
        else:
            n, c = max(word, TEXT_COLUMN_MIN), max(word, min(len(text), TEXT_COLUMN_COMFORT))
        narrow[i] = max(narrow.get(i, 0), n)
        comfort[i] = max(comfort.get(i, 0), c)
    pad = 2 * len(narrow)
    return sum(narrow.values()) + pad, sum(comfort.values()) + pad


def print_fit(table) -> str | None:
    """The print class of a table: None (the largest of PRINT_SIZES) or `fit-k`, the first size at
    which its comfortable layout fits the A4 text width, never one at which its narrowest layout
    does not; `fit-over` if even the smallest size is too wide for the narrowest layout (every
    cell may then wrap, inside a word if it must: nothing is ever cut off)."""
    narrow, comfort = table_chars(table)
    for k, size in enumerate(PRINT_SIZES):
        width_em = PRINT_WIDTH_PT / size
        if narrow * EM_PER_CHAR_MIN <= width_em and comfort * EM_PER_CHAR_COMFORT <= width_em:
            return f"fit-{k}" if k else None
    if narrow * EM_PER_CHAR_MIN <= PRINT_WIDTH_PT / PRINT_SIZES[-1]:
        return f"fit-{len(PRINT_SIZES) - 1}"
    return "fit-over"


def text_column_min_em(table) -> dict[int, int]:
    """{column index: screen minimum width in em} for each wrapping text column of `table` (a
    body cell of class `l` without `nw`): its mean cell length (characters, empty cells left out)
    on TEXT_COLUMN_LINES lines at EM_PER_CHAR_COMFORT em a character, rounded up to an even
    number of em, within [TEXT_COLUMN_MIN_EM, TEXT_COLUMN_MAX_EM]."""
    lengths: dict[int, list[int]] = {}
    wrapping: set[int] = set()
    for tr in table.find_all("tr"):
        for i, cell in enumerate(tr.find_all("td", recursive=False)):
            cls = cell.get("class") or []
            if "l" in cls and "nw" not in cls:
                wrapping.add(i)
            text = cell.get_text(" ", strip=True)
            if text:
                lengths.setdefault(i, []).append(len(text))
    out = {}
    for i in sorted(wrapping):
        mean = sum(lengths.get(i, [0])) / max(len(lengths.get(i, [])), 1)
        em = mean * EM_PER_CHAR_COMFORT / TEXT_COLUMN_LINES
        em = 2 * -(-em // 2)  # up to an even number
        out[i] = int(min(max(em, TEXT_COLUMN_MIN_EM), TEXT_COLUMN_MAX_EM))
    return out


def table_screen_em(table) -> float:
    """Readable minimum width of `table` on screen, in em of the table font: each column that
    never wraps (a body cell `r` or `nw`) at its longest cell, each wrapping text column at its
    `text_column_min_em` (or its longest word), every header at its longest word, plus padding."""
    mins = text_column_min_em(table)
    width: dict[int, float] = {}
    for i, cell, text, cls, word in _cells(table):
        if cell.name == "td" and ("r" in cls or "nw" in cls) and i not in mins:
            w = len(text)
        else:
            w = word
        width[i] = max(width.get(i, 0.0), w * EM_PER_CHAR_SCREEN, mins.get(i, 0))
    return sum(width.values()) + COLUMN_PAD_EM * len(width)


def wrap_tables(soup) -> None:
    """Put every top-level table in a focusable scroll box named after its caption, and mark the
    header of each wrapping text column with its screen minimum width (`mw-<em>`)."""
    for table in soup.find_all("table"):
        if table.find_parent("table") is not None:
            continue
        head = table.find("thead")
        head_row = head.find("tr") if head is not None else None
        if head_row is not None:
            ths = head_row.find_all("th", recursive=False)
            for i, em in text_column_min_em(table).items():
                if i < len(ths):
                    ths[i]["class"] = [*(ths[i].get("class") or []), f"mw-{em}"]
        parent = table.parent
        if parent is not None and "table-scroll" in (parent.get("class") or []):
            continue
        fig = table.find_parent("figure")
        if fig is not None and table_screen_em(table) * TABLE_FONT_REM > MEASURE_FILL * MEASURE_REM:
            fig["class"] = [*(fig.get("class") or []), "exhibit-wide"]
        fit = print_fit(table)
        classes = ["table-scroll"] + ([fit] if fit else [])
        box = soup.new_tag("div", attrs={"class": " ".join(classes), "tabindex": "0", "role": "region",
                                         "aria-label": _caption(table)})
        table.wrap(box)


def unique_heading_ids(soup) -> None:
    """Make every id of the page unique (inline SVG is stashed and prefixed separately).

    A heading whose id repeats (h3 "Verdict" in three sections) becomes `<section id>-<id>`
    everywhere it occurs; anything still repeated gets `-2`, `-3`... in reading order. The
    heading's own anchor link follows its id.
    """
    elements = soup.find_all(id=True)
    counts = Counter(el["id"] for el in elements)
    section = ""
    for el in elements:
        if el.name == "h2":
            section = el["id"]
        elif re.fullmatch(r"h[3-6]", el.name) and counts[el["id"]] > 1 and section:
            _set_id(el, f"{section}-{el['id']}")
    taken = {el["id"] for el in soup.find_all(id=True)}
    used: set[str] = set()
    for el in soup.find_all(id=True):
        if el["id"] in used:
            k = 2
            while f"{el['id']}-{k}" in taken or f"{el['id']}-{k}" in used:
                k += 1
            _set_id(el, f"{el['id']}-{k}")
        used.add(el["id"])


def _set_id(el, new: str) -> None:
    old = el["id"]
    el["id"] = new
    for a in el.find_all("a", href=f"#{old}"):
        a["href"] = f"#{new}"


def _heading_text(h) -> str:
    return h.get_text(" ", strip=True).rstrip("\u00b6").strip()


def toc_html(soup) -> str:
    """Contents: the section headings (h2 with an id) with their sub-sections (h3) nested."""
    entries: list[tuple[object, list]] = []
    for h in soup.select("main h2[id], main h3[id]"):
        if h.name == "h2":
            entries.append((h, []))
        elif entries:
            entries[-1][1].append(h)
    if not entries:
        return ""

    def link(h, cls):
        return (f'<a class="{cls}" href="#{_html.escape(h["id"], quote=True)}">'
                f"{_html.escape(_heading_text(h))}</a>")

    items = []
    for h2, subs in entries:
        sub = "".join(f"<li>{link(h, 'toc-sub')}</li>" for h in subs)
        items.append(f"<li>{link(h2, 'toc-section')}" + (f"<ol>{sub}</ol>" if sub else "") + "</li>")
    return (f'<nav class="toc" id="toc" aria-label="Contents"><p class="box-title">Contents</p>'
            f'<ol>{"".join(items)}</ol></nav>')


def chart_labels(svg: str) -> int:
    """Text labels of a matplotlib SVG (each is a group `id="text_<k>"`, glyphs as paths)."""
    return len(re.findall(r'<g id="(?:f\d+-)?text_\d+"', svg))


def inline_svg(svg: str, n: int) -> str:
    """The n-th inline SVG of the page (1-based): ids prefixed `f<n>-`, its natural width as the
    CSS variable `--w` (a dense chart never shrinks below it on screen), and the class
    `chart-dense` if it carries more than DENSE_CHART_LABELS text labels."""
    if chart_labels(svg) > DENSE_CHART_LABELS and not re.match(r"<svg\b[^>]*\sclass=", svg):
        svg = svg.replace("<svg", '<svg class="chart-dense"', 1)
    svg = prefix_svg_ids(svg, f"f{n}-")
    m = re.match(r'<svg\b[^>]*?\swidth="([0-9.]+)(pt|px)?"', svg)
    if m and not re.match(r"<svg\b[^>]*\sstyle=", svg):
        svg = svg.replace("<svg", f'<svg style="--w: {m.group(1)}{m.group(2) or "px"}"', 1)
    return svg


_SVG_REF = re.compile(r'(\bid=")([^"]+)(")|((?:xlink:)?href="#)([^"]+)(")|(url\(#)([^)]+)(\))')


def prefix_svg_ids(svg: str, prefix: str) -> str:
    """Every id defined in `svg` and every reference to it (`href="#x"`, `xlink:href="#x"`,
    `url(#x)`) prefixed with `prefix`, so several charts inline in one page never share an id."""
    defined = set(re.findall(r'\bid="([^"]+)"', svg))

    def sub(m):
        for i in (1, 4, 7):
            if m.group(i) is not None:
                name = m.group(i + 1)
                if name in defined:
                    name = prefix + name
                return m.group(i) + name + m.group(i + 2)
        return m.group(0)  # pragma: no cover

    return _SVG_REF.sub(sub, svg)
