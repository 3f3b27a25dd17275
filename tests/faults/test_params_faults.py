"""Fault catalog, parameter files (issue 14 points 6 and 8): each case is refused by `make report`
before anything runs, with one line naming the file, the line and the key (or PARAMS), exit
status 2, no traceback, and the previous note byte-identical."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from .harness import ROOT

DEFAULT = (ROOT / "params" / "default.yaml").read_text(encoding="utf-8")


def _replace(old: str, new: str) -> str:
    assert old in DEFAULT, old
    return DEFAULT.replace(old, new, 1)


@dataclass(frozen=True)
class Case:
    id: str
    text: str | bytes | None  # the parameter file written as params/<id>.yaml (None: none written)
    expect: tuple[str, ...]  # regular expressions the error must match (file, line, key, value, expectation)
    params: str | None = None  # PARAMS=... (default: params/<id>.yaml)
    line_of: str | None = None  # the expected line is the first line starting with this text


CASES = [
    Case("unknown-top-key", _replace("as_of: latest", 'as_off: "2025-11-10"'),
         (r"column 'as_off': got '2025-11-10'; expected a known key \(did you mean 'as_of'\?\)",), line_of="as_off"),
    Case("extra-top-key", DEFAULT + "colour: blue\n", (r"column 'colour': got 'blue'; expected a known key",),
         line_of="colour"),
    Case("as-of-impossible-date", _replace("as_of: latest", 'as_of: "2025-13-45"'),
         (r"column 'as_of': got '2025-13-45'; expected 'latest' or a real date YYYY-MM-DD \(this day does not exist\)",),
         line_of="as_of"),
    Case("as-of-not-iso", _replace("as_of: latest", 'as_of: "10/11/2025"'),
         (r"column 'as_of': got '10/11/2025'; expected 'latest' or a real date YYYY-MM-DD",), line_of="as_of"),
    Case("as-of-month", _replace("as_of: latest", 'as_of: "2025-11"'),
         (r"column 'as_of': got '2025-11'; expected 'latest' or a real date",), line_of="as_of"),
    Case("as-of-before-ipo", _replace("as_of: latest", "as_of: 2024-01-01"),
         (r"column 'as_of': got '2024-01-01'; expected a date on or after 2025-03-28, the first CRWV price",),
         line_of="as_of"),
    Case("as-of-after-data", _replace("as_of: latest", "as_of: 2030-01-01"),
         (r"column 'as_of': got '2030-01-01'; expected a date on or before 2026-10-09, the last price in the data",),
         line_of="as_of"),
    Case("as-of-with-time", _replace("as_of: latest", "as_of: 2025-11-10 16:00:00"),
         (r"column 'as_of': got '2025-11-10T16:00:00'; expected .*a day, no time",), line_of="as_of"),
    Case("as-of-empty", _replace("as_of: latest", "as_of:"), (r"column 'as_of': got None; expected 'latest'",),
         line_of="as_of"),
    Case("as-of-per-notebook", _replace("  00_overview:\n", "  00_overview:\n    as_of: latest\n"),
         (r"column 'notebooks.00_overview.as_of': got 'latest'; expected as_of once, at the top of the file",),
         line_of="    as_of"),
    Case("unknown-section", DEFAULT + "  07_missing:\n    x: 1\n",
         (r"column 'notebooks.07_missing': got '07_missing'; expected a section notebook",), line_of="  07_missing"),
    Case("unknown-parameter", _replace("computing_share_of_da: 1.0", "computing_share: 0.5"),
         (r"column 'notebooks.01_unit_economics.computing_share': got 0.5; expected a parameter declared in "
          r"notebooks/01_unit_economics.ipynb \(did you mean 'computing_share_of_da'\?\)",), line_of="    computing_share:"),
    Case("parameter-wrong-kind", _replace("computing_share_of_da: 1.0", "computing_share_of_da: high"),
         (r"column 'notebooks.01_unit_economics.computing_share_of_da': got 'high'; expected a number like the "
          r"default in notebooks/01_unit_economics.ipynb \(computing_share_of_da = 1.0\)",),
         line_of="    computing_share_of_da"),
    Case("common-wrong-kind", _replace('first_quarter: "2024Q1"', "first_quarter: 2024"),
         (r"column 'first_quarter': got 2024; expected text like the default",), line_of="first_quarter"),
    Case("results-dir-set", DEFAULT + "results_dir: /tmp/elsewhere\n",
         (r"column 'results_dir': got '/tmp/elsewhere'; expected no results_dir: the build sets it",),
         line_of="results_dir"),
    Case("duplicate-key", DEFAULT + "as_of: 2025-11-10\n",
         (r"column 'as_of': got 'as_of'; expected each key once \(also on line \d+\)",), line_of="as_of: 2025"),
    Case("not-a-mapping", "- as_of\n- latest\n", (r", line 1: got \['as_of', 'latest'\]; expected a mapping",)),
    Case("notebooks-not-a-mapping", "as_of: latest\nnotebooks: [00_overview]\n",
         (r"column 'notebooks': got \['00_overview'\]; expected a mapping",), line_of="notebooks"),
    Case("yaml-unclosed-bracket", _replace("tickers: [CRWV, SPY, QQQ, SMH]", "tickers: [CRWV, SPY, QQQ, SMH"),
         (r"got 'tickers: \[CRWV, SPY, QQQ, SMH'; expected valid YAML \(while parsing a flow sequence",),
         line_of="    tickers"),
    Case("yaml-unclosed-quote", _replace('first_quarter: "2024Q1"', 'first_quarter: "2024Q1'),
         (r"got 'first_quarter: \"2024Q1'; expected valid YAML \(while scanning a quoted scalar",),
         line_of="first_quarter"),
    Case("yaml-bad-indent", _replace("    benchmark: SPY", "   benchmark: SPY"),
         (r"got 'benchmark: SPY'; expected valid YAML",), line_of="   benchmark"),
    Case("yaml-tab", _replace("    benchmark: SPY", "\tbenchmark: SPY"),
         (r"expected valid YAML \(found character '\\t' that cannot start any token\)",), line_of="\tbenchmark"),
    Case("yaml-python-payload", _replace("as_of: latest", 'as_of: !!python/object/apply:os.system ["touch PWNED"]'),
         (r"expected valid YAML \(could not determine a constructor for the tag 'tag:yaml.org,2002:python/object/apply:os.system'\)",),
         line_of="as_of"),
    Case("not-utf8", DEFAULT.encode("utf-8").replace(b"SPY", b"SP\xff", 1), (r"expected UTF-8 text",)),
    Case("params-is-folder", None, (r"PARAMS=params: got 'params'; expected a YAML parameter file, not a folder",),
         params="params"),
    Case("params-folder-slash", None, (r"PARAMS=params/: got 'params/'; expected a YAML parameter file, not a folder",),
         params="params/"),
    Case("params-missing", None, (r"PARAMS=params/nope.yaml: got 'params/nope.yaml'; expected an existing parameter file",),
         params="params/nope.yaml"),
    Case("params-not-yaml", None, (r"PARAMS=README.md: got 'README.md'; expected a YAML file ending in .yaml",),
         params="README.md"),
    Case("params-empty", None, (r"PARAMS: got ''; expected a parameter file such as params/default.yaml",), params=""),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parameter_fault(case: Case, shared_checkout):
    co = shared_checkout
    before = co.note_bytes()
    params = case.params
    if case.text is not None:
        target = co.root / "params" / f"{case.id}.yaml"
        target.write_bytes(case.text if isinstance(case.text, bytes) else case.text.encode("utf-8"))
        params = f"params/{case.id}.yaml"
    r = co.make("report", f"PARAMS={params}")
    err = r.stderr
    assert r.returncode == 2, (r.returncode, r.stdout, err)
    errors = [ln for ln in err.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, err  # one line
    assert "Traceback" not in err + r.stdout
    if case.text is not None:
        prefix = f"error: params/{case.id}.yaml"
        assert errors[0].startswith(prefix), errors[0]
        if case.line_of is not None:
            text = case.text.decode("utf-8", "replace") if isinstance(case.text, bytes) else case.text
            line = next(n for n, ln in enumerate(text.splitlines(), 1) if ln.startswith(case.line_of))
            assert errors[0].startswith(f"{prefix}, line {line}"), (line, errors[0])
    for pattern in case.expect:
        assert re.search(pattern, errors[0]), (pattern, errors[0])
    assert "executed" not in r.stdout and "[note]" not in r.stdout  # refused before anything ran
    assert co.note_bytes() == before
    assert not (co.root / "PWNED").exists()
    assert not (co.root / "reports" / case.id).exists()  # no variant folder left behind
