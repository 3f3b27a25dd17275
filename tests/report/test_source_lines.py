"""Shortened data text and source lines: cut at word boundaries, brackets and quotes balanced,
reader words for the registry (review items A8 and B: "'COMPANY RESEARCH REPORT: CoreWeave [RR]",
"companyconce… [XN]", "Secondary note [SN_Q126A]", "prices:<TICKER>", E03 "(below $47-55 range")."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from analysis.data import load_claims, load_events, load_sources
from analysis.overview import abridge
from analysis.report import exhibits as E
from analysis.report.fmt import first_clause, open_marks, shorten


@pytest.fixture(scope="module")
def registry():
    return load_sources()


def _data_texts(registry):
    texts = list(registry["title"]) + list(load_events()["description"])
    for c in load_claims():
        texts.append(c["claim"])
        texts += [str(k["reason"]) for k in c["checks"] if k.get("reason")]
    return texts


@pytest.mark.parametrize("text, marks", [
    ("E07 (Q2 2025 results: revenue $1.213B (+207%), backlog", ["("]),
    ("SEC EDGAR XBRL R41 'Debt", ["'"]),
    ("CoreWeave's 10-K (the filing's own 'total indebtedness')", []),
    ("\u201cquoted\u201d and [bracketed", ["["]),
])
def test_open_marks(text, marks):
    assert open_marks(text) == marks


def test_shorten_the_review_cases():
    e03 = "CoreWeave IPO priced Thursday evening at $40 (below $47-55 range; 37.5M shares, ~$1.5B raised); first trade"
    assert shorten(first_clause(e03), 60) == "CoreWeave IPO priced Thursday evening at $40 (below $47-55\u2026)"
    assert shorten("Secondary research report 'COMPANY RESEARCH REPORT: CoreWeave (CRWV)' as of 2026-06-11", 60) \
        == "Secondary research report 'COMPANY RESEARCH REPORT\u2026'"
    # a word is never cut when a word boundary fits ('companyconce…'), nor ends on 'of'
    assert shorten("Secondary note quoting 10-K FY2025 text and data.sec.gov companyconcept XBRL values", 70) \
        == "Secondary note quoting 10-K FY2025 text and data.sec.gov\u2026"
    assert shorten("fits", 10) == "fits" and shorten("x" * 30, 10) == "x" * 9 + "\u2026"


@pytest.mark.parametrize("limit", [30, 50, 70, 90, 110])
def test_shorten_never_leaves_an_open_bracket_or_quote(registry, limit):
    for t in _data_texts(registry):
        out = shorten(t, limit)
        assert len(out) <= limit
        if not open_marks(t):
            assert not open_marks(out), (t, out)
        if out != " ".join(t.split()):
            assert "\u2026" in out
            head = out.split("\u2026")[0]
            # cut at a word boundary: what is kept ends a word of the original
            if " " in head:
                assert re.search(re.escape(head) + r"(\W|$)", " ".join(t.split())), (t, out)


def test_first_clause_skips_separators_in_brackets():
    assert first_clause("Meta expands (capacity 2027-Dec 2032; total ~$35B); CRWV up") \
        == "Meta expands (capacity 2027-Dec 2032; total ~$35B)"
    assert abridge("Short; second clause", 60) == "Short"


def test_overview_events_abridged_balanced():
    for d in load_events()["description"]:
        assert not open_marks(abridge(d)), d


def test_source_lines_on_the_registry(registry):
    line = E.sources_line(["RR", "SEC_R41", "8K_2031NOTES", "XN", "SN_Q126A", "FINTOOL", "CLAIMS", "prices:CRWV"],
                          registry)
    parts = line.split("; ")
    assert not open_marks(line), line
    assert "prices:" not in line and parts[-1] == "daily prices (data/prices/CRWV.csv)"
    assert "SEC EDGAR XBRL R41 'Debt (FY)' 6M ended 2025-06-30 [SEC_R41]" in parts
    assert "CoreWeave 8-K Item 1.01: issuance of $1,750M 9.000% Senior Notes due 2031 [8K_2031NOTES]" in parts
    assert "Secondary note quoting Q1-26 PR 8-K and Q1-26 10-Q [SN_Q126A]" in parts
    assert "fintool.com Q2 2025 earnings summary (model-made summary) [FINTOOL]" in parts
    assert any(p.endswith("(file also holds model-made rows) [CLAIMS]") for p in parts)
    assert "acc 0001" not in line and "repository not identified" not in line
    several = E.sources_line(["prices:CRWV", "prices:AVGO"], registry)
    assert several == "daily prices of AVGO, CRWV (data/prices/<ticker>.csv)"
    assert E.source_cell("prices:CRWV; PR_25Q3") == "data/prices/CRWV.csv; PR_25Q3"


def test_model_made_sources_read_from_their_titles(registry):
    """The registry says which documents a model wrote (an 'AI summary') and which file mixes
    model-made rows with a quoted filing; those and only those are marked."""
    made = {r.id: E.model_made(r.title) for r in registry.itertuples() if E.model_made(r.title)}
    assert made == {"FINTOOL": "yes", "CAYMAN_8K26": "yes", "CLAIMS": "partly"}
    assert E.source_kind_words("secondary", registry.set_index("id").at["FINTOOL", "title"]) == "model-made summary"


def test_registry_reader_columns(registry):
    reg = registry.set_index("id")
    assert E.read_from(reg.at["8K_2031NOTES", "locator"]) == "viralles.com"
    assert E.read_from(reg.at["SEC_R41", "locator"]) == "SEC EDGAR"
    assert E.read_from(reg.at["RR", "locator"]) == "public GitHub file (repository unknown)"
    assert E.read_from(reg.at["10Q_25Q1", "locator"]) == "GitHub lukepuplett/investment-analysis"
    assert E.source_kind_words("filing") == "primary (filing)"
    assert E.source_kind_words("secondary", reg.at["CLAIMS", "title"]) == "secondary, in a file with model-made rows"
    titles = pd.Series([E.reader_title(t) for t in registry["title"]], index=registry["id"])
    assert titles["10Q_25Q1"] == "CoreWeave Form 10-Q, quarter ended 2025-03-31"
    assert not titles.str.contains(r"per prior notes|acc \d|repository not identified").any()
