"""Fixtures for the note renderer: a tiny notebook executed once by papermill, build folders.

The fixture notebook (fixtures/fixture_section.ipynb) and the constructed results below hold
MADE-UP values: they exist only to test formatting and rendering, never as data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

FIXTURES = Path(__file__).parent / "fixtures"

@pytest.fixture(scope="session")
def executed_fixture(tmp_path_factory) -> Path:
    """fixtures/fixture_section.ipynb executed by papermill (with an injected parameter)."""
    import papermill as pm

    d = tmp_path_factory.mktemp("executed_fixture")
    out = d / "fixture_section.ipynb"
    pm.execute_notebook(str(FIXTURES / "fixture_section.ipynb"), str(out), parameters={"label": "papermill"},
                        cwd=str(d), kernel_name="python3", progress_bar=False)
    return out


def make_build(root: Path, executed: Path, stems=("00_overview",), headings=None) -> Path:
    """A build folder with the executed fixture copied in as each of `stems`.

    `headings` optionally renames the fixture's section heading per stem (to tell copies apart).
    """
    build = root / "build"
    (build / "executed").mkdir(parents=True, exist_ok=True)
    (build / "results").mkdir(parents=True, exist_ok=True)
    for stem in stems:
        target = build / "executed" / f"{stem}.ipynb"
        if headings and stem in headings:
            nb = nbformat.read(executed, as_version=4)
            for c in nb.cells:
                if c.cell_type == "markdown" and c.source.startswith("## Fixture section"):
                    c.source = c.source.replace("## Fixture section", f"## {headings[stem]}", 1)
            nbformat.write(nb, target)
        else:
            shutil.copyfile(executed, target)
    return build


@pytest.fixture(scope="session")
def build_factory():
    """make_build(root, executed, stems=..., headings=...) as a fixture (no cross-test imports)."""
    return make_build
