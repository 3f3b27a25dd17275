"""Where things live. The only module that knows the repository layout.

`ROOT` is the checkout this copy of the library lives in. The environment links the library by
a relative path (`.venv/lib/.../crwv_note.pth` -> `../../../../src`), so a copied or moved
checkout reads its own `src/`, `data/` and `notebooks/`, never the folder it was copied from.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def data_dir() -> Path:
    """Raw-data folder: `$CRWV_DATA_DIR` if set (tests use corrupted copies), else `data/`.

    The Makefile unsets `CRWV_DATA_DIR`, so a build always reads the `data/` of its own checkout.
    """
    return Path(os.environ.get("CRWV_DATA_DIR", ROOT / "data"))


def results_dir() -> Path:
    """Results folder of the current build: `$CRWV_RESULTS_DIR` if set, else `reports/build/results/`."""
    return Path(os.environ.get("CRWV_RESULTS_DIR", ROOT / "reports" / "build" / "results"))


def scratch_results_dir() -> Path:
    """Where a notebook run by hand (outside `make`) writes its results: `.cache/scratch/results/`.

    Never a build's results folder, so a hand run in JupyterLab cannot change what the note shows.
    """
    return Path(os.environ.get("CRWV_SCRATCH_DIR", ROOT / ".cache" / "scratch")) / "results"


def notebooks_dir() -> Path:
    """Source notebooks: `notebooks/NN_<topic>.ipynb`."""
    return ROOT / "notebooks"


def params_dir() -> Path:
    """Parameter files: `params/<variant>.yaml`."""
    return ROOT / "params"


def library_dir() -> Path:
    """The `analysis` package's source folder (`src/analysis`)."""
    return ROOT / "src" / "analysis"


def cache_dir() -> Path:
    """Build caches inside the checkout: `.cache/` (never shared with another folder)."""
    return ROOT / ".cache"


def executed_cache_dir() -> Path:
    """Executed notebooks by content key: `.cache/executed/<key>/` (shared by every variant)."""
    return cache_dir() / "executed"
