"""The PDF prints no placeholder boxes: text its fonts cannot draw is described instead."""

from __future__ import annotations

import pytest

from analysis import paths
from analysis.report.pdf import pdf_text, printable_codepoints, replace_unprintable


def test_unprintable_runs_are_described_and_the_rest_kept():
    # data/claims.yaml C25 quotes the seed's Chinese term for liabilities
    assert replace_unprintable("total liabilities (the seed's 负债额, $12.9B)") == \
        "total liabilities (the seed's (CJK text), $12.9B)"
    kept = "Pynnönen’s test — 3.8% ≥ 1.5x, €5, “quoted”, Δ −0.36"
    assert replace_unprintable(kept) == kept


@pytest.mark.parametrize("note", ["crwv-note.pdf", "as-of-2025-11-10/crwv-note.pdf"])
def test_built_pdf_text_is_printable(note):
    pdf = paths.ROOT / "reports" / note
    if not pdf.exists():
        pytest.skip(f"reports/{note} not built: run `make test` (it builds it first)")
    ok = printable_codepoints()
    bad = sorted({c for c in pdf_text(pdf.read_bytes()) if ord(c) >= 0x80 and ord(c) not in ok and not c.isspace()})
    assert not bad, f"characters drawn as placeholder boxes: {bad}"
