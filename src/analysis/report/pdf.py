"""PDF of the note via Typst: narrative through pandoc, exhibits typeset natively.

Why Typst: the `typst` wheel on PyPI ships the whole compiler (a few MB, no system packages),
compiles the note in about a second, embeds its own fonts (Libertinus Serif, DejaVu Sans Mono;
we add matplotlib's bundled DejaVu Sans) so nothing is fetched or taken from the system, and its
output is byte-reproducible once the document date is fixed. LaTeX needs hundreds of MB of
system packages and is slow; printing from a headless browser needs a browser and gives less
control over running headers, page x of y and tables that repeat their header across pages.

Route: the merged, cleaned notebook (see `note.py`) becomes one Pandoc-markdown string
(markdown cells and `text/markdown` outputs as they are; exhibits from their EXHIBIT_MIME JSON
and front-page blocks from TYPST_MIME as Typst written by our own code), converted to Typst once
by the pandoc binary of `pypandoc-binary`, wrapped in `templates/typst/note.typ`, compiled in
memory.

Markdown may carry data text, so Pandoc must never see live Typst in it: the reader's format
has no raw blocks (`-raw_attribute`, `-raw_html`, `-raw_tex`) and no citations (`@name` would
be a Typst reference); our own Typst goes in as placeholder paragraphs that are swapped back
after the conversion; and a Lua filter (`templates/pandoc/text_only.lua`) turns images and
links to anything outside the note into their literal markdown, so the PDF never fetches a file
or carries an external link because of data text (`fmt.text` escapes it in the first place).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import shutil
import warnings
from pathlib import Path

from .. import atomic
from .exhibits import EXHIBIT_MIME

#: Raw Typst markup for the PDF, carried by front-page blocks next to their `text/html`.
TYPST_MIME = "text/vnd.crwv.typst"

TEMPLATE_DIR = Path(__file__).parent / "templates" / "typst"
PANDOC_FORMAT = ("markdown-tex_math_dollars-raw_tex-implicit_figures-raw_html-raw_attribute"
                 "-citations")
TEXT_ONLY_FILTER = Path(__file__).parent / "templates" / "pandoc" / "text_only.lua"


def font_paths() -> list[str]:
    """Matplotlib's bundled DejaVu fonts (the sans face of the note and its charts)."""
    import matplotlib

    return [str(Path(matplotlib.get_data_path()) / "fonts" / "ttf")]


#: fonts whose glyphs count as printable (matplotlib's LastResort font draws only placeholder boxes)
_GLYPH_FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf", "DejaVuSerif.ttf", "STIXGeneral.ttf")


@functools.cache
def printable_codepoints() -> frozenset[int]:
    """Code points the note's fonts can draw (DejaVu and STIX from matplotlib; Typst's own
    Libertinus Serif covers less, and Typst falls back to these for the rest)."""
    from fontTools.ttLib import TTFont

    out: set[int] = set()
    for name in _GLYPH_FONTS:
        out |= set(TTFont(Path(font_paths()[0]) / name, lazy=True).getBestCmap())
    return frozenset(out)


def replace_unprintable(text: str) -> str:
    """Runs of characters no font of the PDF can draw (e.g. Chinese in a quoted source) become a
    plain description, "(CJK text)", instead of placeholder boxes; the HTML keeps the original."""
    import unicodedata

    ok = printable_codepoints()

    def describe(run: str) -> str:
        names = {(unicodedata.name(c, "").split() or ["other"])[0] for c in run if not c.isspace()}
        script = "CJK" if names <= {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "FULLWIDTH", "IDEOGRAPHIC"} else (
            names.pop().capitalize() if len(names) == 1 else "non-Latin")
        return f"({script} text)"

    out, run = [], []
    for ch in text:
        if ord(ch) < 0x80 or ord(ch) in ok or ch.isspace() and not run:
            if run:
                out.append(describe("".join(run)))
                run = []
            out.append(ch)
        else:
            run.append(ch)
    if run:
        out.append(describe("".join(run)))
    return "".join(out)


def typst_str(s) -> str:
    """A Typst string literal: shown verbatim, never parsed as markup."""
    s = "" if s is None else str(s)
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def typst_array(items) -> str:
    items = list(items)
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def typst_date(iso: str) -> str:
    """'2025-11-10' -> Typst datetime(...) (the only date the PDF carries)."""
    y, m, d = (int(x) for x in str(iso)[:10].split("-"))
    return f"datetime(year: {y}, month: {m}, day: {d})"


_HEX = re.compile(r"[0-9a-fA-F]{32,}")
_NUMERIC = re.compile(r"n/a|[-+\u2212~<>=\u00b1$(]*\s?\d[\d.,]*\s?(?:%|pp|x|m|bn|k)?\)?[*\u2020]*")
#: cells and words measured per column (the longest by character count; Typst measures their widths)
MEASURE_CANDIDATES = 4


#: a word this long (characters) may break after each underscore ('interest_and_da_to_revenue');
#: the template's `_soft-breaks` applies the same rule
LONG_WORD = 15


def break_pieces(cell: str) -> list[str]:
    """The pieces a table cell may break into in the PDF: its words, and a long identifier-like word
    (`LONG_WORD` characters or more) after each underscore; a word with '±' stays whole. No
    character is inserted for this: the template sets each piece in its own box
    (`_soft-breaks` in templates/typst/note.typ), so the PDF's text is the cell's text."""
    out = []
    for w in str(cell).split():
        if len(w) >= LONG_WORD and "_" in w and "\u00b1" not in w:
            out += [p for p in re.split(r"(?<=_)(?=[^_])", w) if p]
        else:
            out.append(w)
    return out


def _longest(strings, k: int = MEASURE_CANDIDATES) -> list[str]:
    """The k longest distinct strings, longest first (ties in first-seen order: deterministic)."""
    seen = list(dict.fromkeys(s for s in strings if s))
    return sorted(seen, key=len, reverse=True)[:k]


def column_fit(columns, rows, align) -> list[dict]:
    """What the Typst template needs to size each column from its content.

    Per column: `head` (header text), `cells` and `words` (the longest cells and words, which
    the template measures in the table font), `head_words`, `weight` (mean characters per cell,
    the column's share of the width left to text columns), `num` (a numeric column: its cells
    never wrap) and `mono` (hash-like cells, typeset in the monospace face).
    """
    out = []
    for i, c in enumerate(columns):
        cells = [str(r[i]) for r in rows]
        filled = [v for v in cells if v.strip()]
        words = [w for v in filled for w in break_pieces(v)]
        mono = bool(filled) and all(_HEX.fullmatch(v.strip()) for v in filled)
        num = align[i] == "r" or (bool(filled) and all(_NUMERIC.fullmatch(v.strip()) for v in filled)
                                  and max(len(v) for v in filled) <= 16)
        weight = sum(len(v) for v in cells) / max(len(cells), 1)
        out.append({"head": str(c), "cells": _longest(filled), "words": _longest(words),
                    "head_words": _longest(str(c).split()), "weight": round(max(weight, 1.0), 2),
                    "num": num, "mono": mono})
    return out


def _fit_typst(fit: list[dict]) -> str:
    def one(f):
        return ("(head: " + typst_str(f["head"]) + ", cells: " + typst_array(typst_str(x) for x in f["cells"])
                + ", words: " + typst_array(typst_str(x) for x in f["words"])
                + ", head-words: " + typst_array(typst_str(x) for x in f["head_words"])
                + f", weight: {f['weight']!r}, num: {str(f['num']).lower()}, mono: {str(f['mono']).lower()})")
    return typst_array(one(f) for f in fit)


def exhibit_typst(d: dict, figure_path: str | None = None) -> str:
    """Typst call for one exhibit's JSON content (`label` set by the assembler)."""
    common = (f"label: {typst_str(d.get('label', ''))}, title: {typst_str(d['title'])}, "
              f"notes: {typst_str(d['notes']) if d.get('notes') else 'none'}, source: {typst_str(d['source'])}")
    if d["kind"] == "table":
        t = d["table"]
        rows = typst_array(typst_array(typst_str(v) for v in r) for r in t["rows"])
        return (f"#exhibit-table({common}, columns: {typst_array(typst_str(c) for c in t['columns'])}, "
                f"fit: {_fit_typst(column_fit(t['columns'], t['rows'], t['align']))}, "
                f"align: {typst_array(typst_str(a) for a in t['align'])}, "
                f"rows: {rows})")
    if figure_path is None:
        raise ValueError("a figure exhibit needs the path of its SVG file")
    flow = ", in-flow: true" if d.get("in_flow") else ""
    return f"#exhibit-figure({common}, path: {typst_str(figure_path)}{flow})"


class _Raw(str):
    """Typst written by our own code (exhibits, front-page blocks, figure calls)."""


def _raw(typ: str) -> _Raw:
    return _Raw(typ)


def notebook_markdown(nb, work_dir: Path) -> tuple[str, dict[str, str]]:
    """The cleaned, numbered notebook as one Pandoc-markdown string, and the Typst blocks our
    own code wrote, each standing in the markdown as a placeholder paragraph {token: typst}.
    Figures are written to work_dir."""
    parts: list[str] = []
    nfig = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if EXHIBIT_MIME in data:
                d = data[EXHIBIT_MIME]
                path = None
                if d["kind"] == "figure":
                    nfig += 1
                    path = f"figure-{nfig:02d}.svg"
                    atomic.write_text(work_dir / path, d["svg"])
                parts.append(_raw(exhibit_typst(d, path)))
            elif TYPST_MIME in data:
                if data[TYPST_MIME].strip():
                    parts.append(_raw(data[TYPST_MIME]))
            elif "text/markdown" in data:
                parts.append(data["text/markdown"])
            elif "image/svg+xml" in data or "image/png" in data:
                nfig += 1
                if "image/svg+xml" in data:
                    path = f"image-{nfig:02d}.svg"
                    atomic.write_text(work_dir / path, data["image/svg+xml"])
                else:
                    path = f"image-{nfig:02d}.png"
                    atomic.write_bytes(work_dir / path, base64.b64decode(data["image/png"]))
                parts.append(_raw(f"#image({typst_str(path)}, width: 100%)"))
            elif "text/html" in data:
                # no PDF form for bare HTML (e.g. a DataFrame repr): notebooks display exhibits instead
                warnings.warn(f"PDF: an HTML-only output of cell {cell.get('id', '?')} is left out; "
                              "display it with analysis.report.exhibits", stacklevel=2)
    kept = [(isinstance(p, _Raw), p.strip("\n")) for p in parts if p and p.strip()]
    # the token names a hash of the whole content, so no text in it can spell a token
    nonce = hashlib.sha256("\x00".join(t for _, t in kept).encode("utf-8")).hexdigest()[:16]
    raws: dict[str, str] = {}
    out = []
    for i, (raw, text) in enumerate(kept):
        if raw:
            token = f"CRWVRAW{nonce}N{i:04d}"
            raws[token] = text
            text = token
        out.append(text)
    return "\n\n".join(out) + "\n", raws


class UnsafeMarkupError(ValueError):
    """The Typst body would not be what the note's own code wrote (a placeholder lost or
    duplicated)."""


#: a hyphen-minus before a digit in Typst markup (Typst would set it as U+2212), outside raw text and
#: function-call strings, which are matched first and kept as they are
_MINUS_BEFORE_DIGIT = re.compile(r'(`[^`]*`)|((?<=\()"(?:[^"\\]|\\.)*")|(?<![\w\\.\-])-(?=\d)')


def keep_hyphen_minus(body: str) -> str:
    """Escape '-' before a digit in Typst markup so that it prints as the hyphen-minus the note's
    number formatting writes (`analysis.report.fmt`), as in tables and the front page, rather
    than as Typst's minus sign: one sign convention on every page ('-$49.0m' and '-1.9%')."""
    return _MINUS_BEFORE_DIGIT.sub(lambda m: m.group(0) if m.group(1) or m.group(2) else "\\-", body)


def markdown_to_typst(md: str, raws: dict[str, str] | None = None) -> str:
    """Pandoc markdown -> Typst body (pandoc from pypandoc-binary; no template, no network);
    placeholders swapped for the Typst blocks in `raws` (see `notebook_markdown`)."""
    import pypandoc

    body = keep_hyphen_minus(pypandoc.convert_text(md, "typst", format=PANDOC_FORMAT, filters=[str(TEXT_ONLY_FILTER)],
                                                   extra_args=["--wrap=none"]))
    if not raws:
        return body
    lines = body.split("\n")
    seen = {t: 0 for t in raws}
    for i, line in enumerate(lines):
        if line.strip() in raws:
            seen[line.strip()] += 1
            lines[i] = raws[line.strip()]
    bad = [t for t, n in seen.items() if n != 1]
    if bad:
        raise UnsafeMarkupError(f"{len(bad)} of the note's own Typst blocks did not come through "
                                "Pandoc exactly once")
    return "\n".join(lines)


def render_pdf(nb, work_dir: Path, doc: dict) -> bytes:
    """Compile the note to PDF bytes. `doc`: title, short_title, as_of, date (ISO), footer_note.

    `work_dir` receives note.typ, main.typ and the figure files (kept for inspection).
    """
    import typst

    work_dir = Path(work_dir)
    if work_dir.exists():
        shutil.rmtree(work_dir)
    work_dir.mkdir(parents=True)
    shutil.copyfile(TEMPLATE_DIR / "note.typ", work_dir / "note.typ")
    body = markdown_to_typst(*notebook_markdown(nb, work_dir))
    main = (
        '#import "note.typ": *\n'
        f"#show: note.with(title: {typst_str(doc['title'])}, short-title: {typst_str(doc['short_title'])}, "
        f"as-of: {typst_str(doc['as_of'])}, date: {typst_date(doc['date'])}, "
        f"footer-note: {typst_str(doc.get('footer_note', ''))})\n\n"
        + body
    )
    atomic.write_text(work_dir / "main.typ", replace_unprintable(main))
    return typst.compile(str(work_dir / "main.typ"), root=str(work_dir), font_paths=font_paths(),
                         ignore_system_fonts=True)


#: extracted texts kept in `.cache/pdf-text/` (the most recently written)
PDF_TEXT_KEPT = 64


def pdf_text(pdf: bytes) -> str:
    """Plain text of a PDF (tests and checks; pypdf is a dev dependency).

    Extraction takes seconds and the leak audit and several tests read the same note, so the
    text is kept in `.cache/pdf-text/`, keyed by the PDF's bytes and the pypdf version."""
    import io

    import pypdf

    from .. import paths

    cache = paths.cache_dir() / "pdf-text" / f"{hashlib.sha256(pdf).hexdigest()}-pypdf{pypdf.__version__}.txt"
    try:
        return cache.read_bytes().decode("utf-8", "surrogatepass")
    except OSError:
        pass
    text = "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    try:
        atomic.write_bytes(cache, text.encode("utf-8", "surrogatepass"))
        kept = sorted(cache.parent.glob("*.txt"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[PDF_TEXT_KEPT:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a cache only
    return text

