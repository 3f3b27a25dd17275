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
