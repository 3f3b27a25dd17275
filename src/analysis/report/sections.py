"""The note's sections: every `notebooks/NN_<topic>.ipynb`, in prefix order, except drafts.

A new notebook joins the note by being saved as `notebooks/NN_<topic>.ipynb`; a notebook that
is not ready yet is listed in `EXCLUDED` (its stem), so it is neither executed nor shown.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import paths

#: Stems of notebooks in notebooks/ that are drafts: never executed by the build, never in the note.
EXCLUDED: frozenset[str] = frozenset()

#: A section notebook's stem: two digits, an underscore, a topic (letters, digits, underscores).
STEM = re.compile(r"[0-9]{2}_[A-Za-z0-9_]+")


def discover(notebooks_dir: Path | None = None, excluded=EXCLUDED) -> tuple[str, ...]:
    """Stems of the section notebooks in `notebooks_dir`, sorted by prefix (then name)."""
    folder = Path(notebooks_dir) if notebooks_dir is not None else paths.notebooks_dir()
    stems = [p.stem for p in folder.glob("*.ipynb") if STEM.fullmatch(p.stem) and p.is_file()]
    return tuple(sorted(s for s in stems if s not in excluded))


#: Notebook stems, in the order their sections appear in the note.
SECTIONS: tuple[str, ...] = discover()


def executed_dir(build_dir: Path) -> Path:
    return Path(build_dir) / "executed"


def results_dir(build_dir: Path) -> Path:
    return Path(build_dir) / "results"


def present_sections(build_dir: Path) -> list[tuple[str, Path]]:
    """(stem, executed notebook path) for each section whose executed notebook exists, in order."""
    out = []
    for stem in SECTIONS:
        p = executed_dir(build_dir) / f"{stem}.ipynb"
        if p.is_file():
            out.append((stem, p))
    return out
