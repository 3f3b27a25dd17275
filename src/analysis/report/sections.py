"""The one ordered list of note sections. A new notebook slots in by being added here."""

from __future__ import annotations

from pathlib import Path

#: Notebook stems, in the order their sections appear in the note.
SECTIONS: tuple[str, ...] = (
    "00_overview",
    "01_unit_economics",
    "02_backlog_conversion",
    "03_customer_concentration",
    "04_sector_contagion",
    "06_funding",
    "05_claims_ledger",
)


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
