"""Fault catalog, data as the build sees it (issue 14 points 2 and 3): every case is caught by the
plan before a notebook runs, named with file, line and column, exit status 2, the previous note
byte-identical. A data change that is valid re-runs exactly the notebooks that read it."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from edits import edit_line, line_of


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable  # (checkout root) -> None: break the copy
    expect: tuple[str, ...]  # regular expressions, all to be found in the first error line
    manifest: bool = True  # regenerate data/MANIFEST.sha256 after the edit (so the validators are reached)


def _published_in_future(root):
    f = root / "data" / "fundamentals.csv"
    n = line_of(f, "2025Q3,")
    edit_line(f, n, lambda s: re.sub(r"^(2025Q3,[^,]*,[^,]*,)[0-9-]+", r"\g<1>2031-03-03", s))


def _future_line(root):
    return line_of(root / "data" / "fundamentals.csv", "2025Q3,")


CASES = [
    # a figure published after the data were collected would date the note then (point 2)
    Case("published-in-the-future", _published_in_future,
         (r"^error: data/fundamentals\.csv, line (?P<line>\d+), column 'published': got '2031-03-03'",)),
    # a deleted price file that the claims still cite (point 3), manifest regenerated
    Case("deleted-file-still-cited", lambda r: (r / "data/prices/SMH.csv").unlink(),
         (r"^error: data/claims\.yaml, line \d+, column 'C\d+\.checks\[\d+\]\.ticker': got 'SMH'; expected a ticker "
          r"with a price file",)),
    # the same deletion without `make vendor`: the checksums refuse it
    Case("deleted-file-not-vendored", lambda r: (r / "data/prices/SMH.csv").unlink(),
         (r"data/prices/SMH\.csv is missing \(listed in data/MANIFEST\.sha256\)",), manifest=False),
    Case("edited-file-not-vendored",
         lambda r: edit_line(r / "data/events.csv", 2, lambda s: s.replace("intraday", "after_close", 1)),
         (r"data/events\.csv changed since the manifest was written",), manifest=False),
    Case("added-unknown-file", lambda r: (r / "data/notes.txt").write_text("scratch\n"),
         (r"^error: data/notes\.txt: got 'notes\.txt'; expected a data file that a loader in analysis\.data reads",)),
    Case("added-file-not-vendored", lambda r: shutil.copyfile(r / "data/prices/SMH.csv", r / "data/prices/ZZZZ.csv"),
         (r"data/prices/ZZZZ\.csv is not in data/MANIFEST\.sha256",), manifest=False),
    Case("malformed-manifest", lambda r: (r / "data/MANIFEST.sha256").write_text("not a checksum line\n"),
         (r"^error: data/MANIFEST\.sha256, line 1, column 'sha256'",), manifest=False),
    Case("corrupt-value", lambda r: edit_line(r / "data/prices/CRWV.csv", 3, lambda s: s.replace(",", ",x", 1)),
         (r"^error: data/prices/CRWV\.csv, line 3, column 'open'",)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_data_fault(case: Case, checkout):
    before = checkout.note_bytes()
    case.setup(checkout.root)
    if case.manifest:
        checkout.write_manifest()
    r = checkout.make("report")
    assert r.returncode == 2, (r.stdout, r.stderr)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert errors, r.stderr
    for pattern in case.expect:  # the error line (a checksum problem may add a `because:` line)
        m = re.search(pattern, r.stderr, re.M)
        assert m, (pattern, r.stderr)
        if "line" in m.groupdict():
            assert int(m.group("line")) == _future_line(checkout.root)
    assert "Traceback" not in r.stderr + r.stdout
    assert " executed:" not in r.stdout and "[note]" not in r.stdout  # caught before any notebook ran
    assert checkout.note_bytes() == before


PRICE_READERS = ["00_overview", "04_sector_contagion", "06_funding", "07_claims_ledger"]


@pytest.mark.parametrize("change", ["add", "delete"])
def test_an_added_or_deleted_file_re_runs_what_reads_it(change, checkout):
    """A valid change of the data set's files (vendored) re-runs the notebooks that read that
    folder, and only those (issue 14 point 3: nothing stale, nothing needless)."""
    prices = checkout.root / "data" / "prices"
    if change == "add":
        shutil.copyfile(prices / "WULF.csv", prices / "ZZZZ.csv")
    else:
        (prices / "WULF.csv").unlink()  # a peer no claim, event or dividend cites
    checkout.write_manifest()
    r = checkout.make("-n", "report")
    assert r.returncode == 0, r.stderr
    listed = re.findall(r"analysis\.build execute notebooks/(\w+)\.ipynb", r.stdout)
    assert sorted(listed) == PRICE_READERS, r.stdout  # listed in the order they start (plan.run_order)
    assert "files in data folder: data/prices" in r.stdout
