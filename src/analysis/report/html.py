"""HTML of the note: nbconvert's HTMLExporter with our template (templates/html/crwv).

The page is self-contained: styles inline, figures inline SVG, no script, no link, no font
fetched. A table of contents is built from the section headings (h2) with BeautifulSoup and
put in place of the `<nav class="toc">` placeholder the front page emits.
"""

from __future__ import annotations

import copy
import html as _html
import re
from pathlib import Path

from bs4 import BeautifulSoup

TEMPLATE_BASE = Path(__file__).parent / "templates" / "html"
TOC_PLACEHOLDER = '<nav class="toc" id="toc"></nav>'


def exporter():
    from nbconvert import HTMLExporter

    ex = HTMLExporter(template_name="crwv", extra_template_basedirs=[str(TEMPLATE_BASE)])
    ex.exclude_input = True  # belt and braces: the note never shows code
    ex.exclude_input_prompt = True
    ex.exclude_output_prompt = True
    ex.anchor_link_text = ""
    return ex


def toc_html(page: str) -> str:
    """An ordered list of links to the section headings (h2 with an id) of the page."""
    soup = BeautifulSoup(page, "html.parser")
    items = []
    for h in soup.select("main h2[id]"):
        text = h.get_text(" ", strip=True).rstrip("\u00b6").strip()
        items.append(f'<li><a href="#{_html.escape(h["id"], quote=True)}">{_html.escape(text)}</a></li>')
    if not items:
        return ""
    return f'<nav class="toc" id="toc"><p class="box-title">Contents</p><ol>{"".join(items)}</ol></nav>'


_SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def _stash_svg(nb) -> tuple[object, list[str]]:
    """Copy of `nb` with inline SVG replaced by comments: nbconvert re-serialises the page with
    an HTML parser that lower-cases SVG names (viewBox, clipPath); the SVG goes back verbatim."""
    nb = copy.deepcopy(nb)
    stash: list[str] = []

    def put(m):
        stash.append(m.group(0))
        return f"<!--crwv-svg-{len(stash) - 1}-->"

    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            for mime in ("text/html", "image/svg+xml"):
                if mime in data:
                    data[mime] = _SVG.sub(put, data[mime])
    return nb, stash


def render_html(nb) -> bytes:
    """The merged, cleaned, numbered notebook as one HTML page (UTF-8 bytes)."""
    nb, stash = _stash_svg(nb)
    page, _ = exporter().from_notebook_node(nb)
    page = page.replace(TOC_PLACEHOLDER, toc_html(page), 1)
    page = re.sub(r"<!--crwv-svg-(\d+)-->", lambda m: stash[int(m.group(1))], page)
    return page.encode("utf-8")
