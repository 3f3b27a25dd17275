"""Where things live. The only module that knows the repository layout."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Raw-data folder: `$CRWV_DATA_DIR` if set (tests use corrupted copies), else `data/`."""
    return Path(os.environ.get("CRWV_DATA_DIR", ROOT / "data"))


def results_dir() -> Path:
    """Results folder of the current build: `$CRWV_RESULTS_DIR` if set, else `reports/build/results/`."""
    return Path(os.environ.get("CRWV_RESULTS_DIR", ROOT / "reports" / "build" / "results"))


def scratch_results_dir() -> Path:
    """Where a notebook run by hand (outside `make`) writes its results: `.cache/scratch/results/`.

    Never a build's results folder, so a hand run in JupyterLab cannot change what the note shows.
    """
    return Path(os.environ.get("CRWV_SCRATCH_DIR", ROOT / ".cache" / "scratch")) / "results"
