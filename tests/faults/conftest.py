"""Fault catalog fixtures: temp copies of the built checkout (see harness.py)."""

from __future__ import annotations

import pytest

from . import harness

pytestmark = pytest.mark.build


def _need_build():
    if not harness.built():
        pytest.skip("reports/crwv-note.{html,pdf} not built: run `make test` (it builds them first)")


@pytest.fixture
def checkout(tmp_path):
    """A private copy of the built checkout, to break freely."""
    _need_build()
    return harness.copy_checkout(tmp_path / "checkout")


@pytest.fixture(scope="module")
def shared_checkout(tmp_path_factory):
    """One copy for cases that only add a file the build refuses (parameter files)."""
    _need_build()
    return harness.copy_checkout(tmp_path_factory.mktemp("shared") / "checkout")
