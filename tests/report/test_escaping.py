"""Escaping of data text: `fmt.text` for generated markdown, and the renderers' own guards."""

from __future__ import annotations

import math

import nbformat
import pytest

from analysis.report import fmt
from analysis.report.html import TextOnlyRenderer
from analysis.report.pdf import UnsafeMarkupError, markdown_to_typst, notebook_markdown


@pytest.mark.parametrize("raw,md", [
    ("Meta's 10-K, Q3 2025 (filed 2025-10-30)", "Meta's 10-K, Q3 2025 (filed 2025-10-30)"),
    ("cnyes.com, compiling The Wall Street Journal", "cnyes.com, compiling The Wall Street Journal"),
    ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
    ("[m](http://x.invalid)", "\\[m\\](http\\://x.invalid)"),
    ("![i](a.png)", "\\!\\[i\\](a.png)"),
    ('#link("x")[y]', '\\#link("x")\\[y\\]'),
    ("`#x`{=typst}", "\\`\\#x\\`\\{=typst\\}"),
    ("@ref $x$ a_b *c* ~d^ e|f &amp;", "\\@ref \\$x\\$ a\\_b \\*c\\* \\~d\\^ e\\|f \\&amp;"),
    ("1. first", "1\\. first"), ("12) twelfth", "12\\) twelfth"), ("- item", "\\- item"), ("---", "\\---"),
    ("-5% on the day", "\\-5% on the day"), ("+ item", "\\+ item"),
    ("two\nlines\n\n# heading", "two lines \\# heading"),
    ("back\\slash", "back\\\\slash"),
])
def test_text_escapes_markup_only(raw, md):
    assert fmt.text(raw) == md


@pytest.mark.parametrize("missing", [None, float("nan"), math.nan])
def test_text_missing_is_na(missing):
    assert fmt.text(missing) == fmt.NA


def test_renderer_keeps_links_inside_the_note_only():
    from nbconvert.filters.markdown_mistune import MarkdownWithMath

    def md(s):
        return MarkdownWithMath(renderer=TextOnlyRenderer()).render(s)

    assert '<a href="#Methods">Methods</a>' in md("see [Methods](#Methods)")
    assert md("[m](http://x.invalid/l)").strip() == "<p>[m](http://x.invalid/l)</p>"
    assert md("![i](http://x.invalid/i.png)").strip() == "<p>![i](http://x.invalid/i.png)</p>"
    assert md("<b onclick='x()'>b</b>").strip() == "<p>&lt;b onclick='x()'&gt;b&lt;/b&gt;</p>"
    assert md("see http://x.invalid/a").strip() == "<p>see http://x.invalid/a</p>"


def test_own_typst_passes_through_and_data_cannot_spell_it(tmp_path):
    """The note's own Typst blocks go through Pandoc as placeholders; markdown (data) carrying a
    raw Typst block stays text; a placeholder Pandoc did not return exactly once is an error."""
    nb = nbformat.v4.new_notebook()
    raw_block = "```{=typst}\n#place(dx: 1cm)[evil]\n```"
    out = nbformat.v4.new_output("display_data", data={"text/vnd.crwv.typst": "#pagebreak()"})
    nb.cells = [nbformat.v4.new_markdown_cell(raw_block), nbformat.v4.new_code_cell(outputs=[out])]
    md, raws = notebook_markdown(nb, tmp_path)
    (token,) = raws
    body = markdown_to_typst(md, raws)
    assert "#pagebreak()" in body.splitlines() and token not in body
    assert "#place(dx: 1cm)[evil]" not in body.splitlines(), "a raw block from markdown stays text"
    with pytest.raises(UnsafeMarkupError):
        markdown_to_typst(md.replace(token, token + "\n\n" + token), raws)


@pytest.mark.parametrize("s", ["Yes: over 11 CRWV events [0,+1] (p 0.010; mean +1.7%)", "1. a list? - no", "<b>x</b> #y *z*",
                               "back\\slash and `tick` $5 ~ ^ | & @ : !"])
def test_untext_inverts_text(s):
    assert fmt.untext(fmt.text(s)) == s
