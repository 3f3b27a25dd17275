"""HTML of the note: nbconvert's HTMLExporter with our template (templates/html/crwv).

The page is self-contained: styles inline, figures inline SVG, no script, no link, no font
fetched. Layout (`html_layout`): tables in scroll boxes, unique ids (SVG ids prefixed per chart),
and a table of contents (sections and sub-sections) in place of the `<nav class="toc">`
placeholder the front page emits.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from .html_layout import inline_svg, layout_page

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
    page = layout_page(page, TOC_PLACEHOLDER)
    # SVG back as it was, but its ids prefixed per chart ("f3-line2d_1"): unique across the page
    page = re.sub(r"<!--crwv-svg-(\d+)-->", lambda m: inline_svg(stash[int(m.group(1))], int(m.group(1)) + 1), page)
    return page.encode("utf-8")
