"""Shared fixtures (keep generic and small)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analysis import paths

REAL_DATA = paths.ROOT / "data"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the vendored data/ (with its manifest) to corrupt freely: tmp_path/data."""
    dest = tmp_path / "data"
    shutil.copytree(REAL_DATA, dest)
    return dest


@pytest.fixture
def check_headline():
    """`check(verdict, *parts)`: the verdict's headline contains each of `parts` (its key numbers
    and period, as the test expects them), within the word bound, one line, no final full stop;
    returns the headline."""
    from analysis.verdicts import HEADLINE_MAX_WORDS

    def check(v, *parts):
        h = v.headline
        assert 0 < len(h.split()) <= HEADLINE_MAX_WORDS and "\n" not in h and not h.endswith("."), h
        for p in parts:
            assert p in h, (p, h)
        assert v.lead == f"{v.answer[:1].upper()}{v.answer[1:]}: {h}."
        return h

    return check

