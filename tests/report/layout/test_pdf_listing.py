"""PDF code listings (the build parameters at the end of the note, YAML): one column, every list
right below its key, and a listing that fits on a page never split across two (the review of
the notes at db0bea7 found the parameters flowed into three columns, list items away from their
keys). The listing goes through the note's own route: a fenced block in markdown, pandoc, the
Typst template; its lines are made up (YAML of the same shape as a parameter file)."""

from __future__ import annotations

import io

import yaml

from analysis.report.pdf import markdown_to_typst
from tests.report.layout.test_pdf_tables import MM, _compile, _template_value

PARAMS = {"as_of": "latest", "first_quarter": "2024Q1",
          "notebooks": {f"0{k}_section": {"tickers": ["AAA", "BBB", "CCC", "DDD"], "lives": [6, 5, 4, 3],
                                          "threshold": 0.1, "window_days": 30 + k} for k in range(4)}}


def _listing_md() -> str:
    dump = yaml.safe_dump(PARAMS, sort_keys=True, default_flow_style=False).strip()
    return "### Parameters of this build\n\n```\n" + dump + "\n```\n"


def _runs(pdf: bytes) -> list[list[tuple[float, float, str]]]:
    """Per page, the text runs of the listing's face as (x, y, text), in PDF points."""
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        runs: list[tuple[float, float, str]] = []

        def visit(text, cm, tm, font, size, runs=runs):
            if text.strip() and font and "Mono" in str(font.get("/BaseFont", "")):
                runs.append((cm[4] + tm[4] * cm[0], cm[5] + tm[5] * cm[3], text.strip()))

        page.extract_text(visitor_text=visit)
        pages.append(runs)
    return pages


def test_parameters_listing_is_one_column_with_lists_under_their_keys(tmp_path):
    n_lines = len(_listing_md().splitlines()) - 4
    assert 18 < n_lines <= _template_value("listing-page-lines"), "the listing is long enough to have been flowed into columns"
    # text above it fills most of a page: the listing does not fit below it and moves to the next page whole
    body = "#lorem(520)\n\n" + markdown_to_typst(_listing_md())
    pages = _runs(_compile(tmp_path, body))
    on = [i for i, runs in enumerate(pages) if runs]
    assert len(on) == 1, f"a listing of {n_lines} lines split over pages {on}"
    runs = pages[on[0]]
    text = " ".join(t for _, _, t in sorted(runs, key=lambda r: (-r[1], r[0])))  # top to bottom, left to right
    assert "tickers: - AAA - BBB - CCC - DDD" in text and "lives: - 6 - 5 - 4 - 3" in text, text[:400]
    # one column: every line starts within a few indents of the first (three columns start a third apart)
    starts = {}
    for x, y, _ in runs:
        starts[round(y, 1)] = min(x, starts.get(round(y, 1), x))
    text_width = 210 * MM - 2 * 20 * MM
    assert max(starts.values()) - min(starts.values()) < 0.15 * text_width, sorted(set(starts.values()))
    assert len(starts) >= n_lines, "one line of the page per line of the listing"
