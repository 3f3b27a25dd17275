"""Fault catalog, notebooks the build cannot use: one line naming the notebook and the place,
exit status 2, the previous note byte-identical."""

from __future__ import annotations

import json
import re

import pytest


def _broken_json(root):
    p = root / "notebooks/01_unit_economics.ipynb"
    p.write_text(p.read_text(encoding="utf-8")[:-40], encoding="utf-8")


def _bad_parameters_cell(root):
    p = root / "notebooks/07_claims_ledger.ipynb"
    nb = json.loads(p.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = ['as_of = "latest"\n', "tolerance_scale = (1.0\n"]
    p.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def _library_syntax_error(root):
    p = root / "src/analysis/claims.py"
    p.write_text(p.read_text(encoding="utf-8") + "\ndef broken(:\n", encoding="utf-8")


CASES = {
    "notebook-not-json": (_broken_json,
                          r"^error: notebooks/01_unit_economics\.ipynb, line \d+, column \d+: not valid notebook JSON"),
    "parameters-cell-not-python": (_bad_parameters_cell,
                                   r"^error: notebooks/07_claims_ledger\.ipynb, the parameters cell \(id \w+\), line 2: "),
    "library-syntax-error": (_library_syntax_error,
                             r"^error: notebooks/07_claims_ledger\.ipynb, cell \d+ \(id \w+\), line \d+: SyntaxError: "),
}


@pytest.mark.parametrize("case", list(CASES))
def test_notebook_fault(case, checkout):
    setup, pattern = CASES[case]
    before = checkout.note_bytes()
    setup(checkout.root)
    r = checkout.make("report")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert re.search(pattern, r.stderr, re.M), r.stderr
    assert "Traceback" not in r.stderr + r.stdout and "[note]" not in r.stdout
    assert checkout.note_bytes() == before
