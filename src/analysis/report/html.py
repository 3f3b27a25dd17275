"""HTML of the note: nbconvert's HTMLExporter with our template (templates/html/crwv).

The page is self-contained: styles inline, figures inline SVG, no script, no link, no font
fetched. Layout (`html_layout`): tables in scroll boxes, unique ids (SVG ids prefixed per chart),
and a table of contents (sections and sub-sections) in place of the `<nav class="toc">`
placeholder the front page emits.

Generated markdown carries text and structure only (defence in depth behind `fmt.text`, which
section code uses for every data string): the markdown renderer shows raw HTML as text, and an
image or a link to anything outside the note as its literal markdown (`TextOnlyRenderer`).
`check_page` then refuses a page with any executable or external element, whatever produced it.
"""

from __future__ import annotations

import copy
import html as _html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from jinja2 import pass_context
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

from .html_layout import SVG_BLOCK, inline_svg, layout_page

TEMPLATE_BASE = Path(__file__).parent / "templates" / "html"
TOC_PLACEHOLDER = '<nav class="toc" id="toc"></nav>'


class TextOnlyRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, for markdown that may carry data text: raw HTML is
    escaped (shown as text), an image becomes its literal markdown `![alt](url)`, and a link
    becomes its literal markdown unless it points inside the note (`#anchor`)."""

    def __init__(self, **kw):
        super().__init__(escape=True, **kw)

    def image(self, text: str, url: str, title=None) -> str:
        return "![" + text + "](" + _html.escape(url, quote=False) + ")"

    def link(self, text: str, url: str, title=None) -> str:
        if url.startswith("#"):
            return super().link(text, url, title)
        shown, target = _html.unescape(text), unquote(url)
        if shown in (target, target.removeprefix("mailto:")):
            return text  # a bare URL or an <autolink>: its text is the address
        return "[" + text + "](" + _html.escape(url, quote=False) + ")"


class NoteExporter(HTMLExporter):
    """HTMLExporter whose markdown filter is `TextOnlyRenderer`, without HTMLExporter's own
    BeautifulSoup pass over the page (0.3 s a render): it gives images without alt text a
    description and makes JupyterLab's input and output areas focusable, and the crwv template
    emits neither (a test of the built notes says so); `html_layout` makes its scroll boxes
    focusable itself."""

    @pass_context
    def markdown2html(self, context, source):
        renderer = TextOnlyRenderer(anchor_link_text=self.anchor_link_text,
                                    exclude_anchor_links=self.exclude_anchor_links)
        return MarkdownWithMath(renderer=renderer).render(source)

    def from_notebook_node(self, nb, resources=None, **kw):
        # HTMLExporter.from_notebook_node up to its soup: the filters it registers, then the template
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code", self.filters.get("highlight_code",
                                                                Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def exporter():
    ex = NoteExporter(template_name="crwv", extra_template_basedirs=[str(TEMPLATE_BASE)])
    ex.exclude_input = True  # belt and braces: the note never shows code
    ex.exclude_input_prompt = True
    ex.exclude_output_prompt = True
    ex.anchor_link_text = ""
    return ex




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
                    data[mime] = SVG_BLOCK.sub(put, data[mime])
    return nb, stash


def render_html(nb) -> bytes:
    """The merged, cleaned, numbered notebook as one HTML page (UTF-8 bytes); refused
    (`UnsafePageError`) if it would carry an executable or external element."""
    nb, stash = _stash_svg(nb)
    page, _ = exporter().from_notebook_node(nb)
    page = layout_page(page, TOC_PLACEHOLDER)
    # SVG back as it was, but its ids prefixed per chart ("f3-line2d_1"): unique across the page
    page = re.sub(r"<!--crwv-svg-(\d+)-->", lambda m: inline_svg(stash[int(m.group(1))], int(m.group(1)) + 1), page)
    check_page(page)
    return page.encode("utf-8")


# ---- the page carries nothing executable and nothing from outside --------------------------

class UnsafePageError(ValueError):
    """The rendered page would carry a script, an event handler or an external reference."""


#: elements that run code, embed or fetch other documents, or send data
FORBIDDEN_TAGS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet",
                            "link", "base", "form", "portal", "noscript", "template"})
#: attributes whose value is a URL (SVG's xlink:href included)
URL_ATTRS = frozenset({"src", "href", "xlink:href", "action", "formaction", "srcset", "poster",
                       "data", "background", "cite", "longdesc", "ping", "manifest", "codebase",
                       "usemap", "lowsrc", "dynsrc"})
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)|@import", re.I)
_INTERNAL_DATA = ("data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp",
                  "data:image/svg+xml")


def _internal(url: str) -> bool:
    u = "".join(url.split()).lower()
    return u.startswith("#") or u.startswith(_INTERNAL_DATA)


class _PageScanner(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def _where(self) -> str:
        line, col = self.getpos()
        return f"page line {line}, character {col + 1}"

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}> element ({self._where()})")
        if tag == "meta" and any(k.lower() == "http-equiv" for k, _ in attrs):
            self.problems.append(f"<meta http-equiv> ({self._where()})")
        for k, v in attrs:
            k, v = k.lower(), v or ""
            if k.startswith("on"):
                self.problems.append(f"event handler {k}= on <{tag}> ({self._where()})")
            elif k in URL_ATTRS and not _internal(v):
                self.problems.append(f"external {k}={v!r} on <{tag}> ({self._where()})")
            elif k == "style":
                self._css(v, tag)
        self._in_style = tag == "style"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data, "style")

    def _css(self, css: str, tag: str):
        for m in _CSS_URL.finditer(css):
            if m.group(0).lower() == "@import" or not _internal(m.group(1) or ""):
                self.problems.append(f"external CSS {m.group(0)!r} in <{tag}> ({self._where()})")


def check_page(page: str) -> None:
    """Raise UnsafePageError naming every script, event handler, embedding element or
    external reference (src/href/CSS url() not pointing inside the page) in `page`."""
    scanner = _PageScanner()
    scanner.feed(page)
    scanner.close()
    if scanner.problems:
        shown = "; ".join(scanner.problems[:5]) + (f"; and {len(scanner.problems) - 5} more"
                                                   if len(scanner.problems) > 5 else "")
        raise UnsafePageError(f"the note's HTML would carry {shown}: data text must reach the "
                              "page escaped (analysis.report.fmt.text, html.escape)")
