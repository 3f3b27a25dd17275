"""Parameter-file validation (`analysis.params`), in process: each mistake is one
DataValidationError naming the file, the line and the key; valid files load as before."""

from __future__ import annotations

import csv

import pytest

from analysis import nbsource, paths
from analysis import params as P
from analysis.errors import DataValidationError


def _dates(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return [row["date"] for row in csv.DictReader(fh)]


# the data's range read with the csv module (independently of the loaders)
PRICES = paths.data_dir() / "prices"
FIRST_CRWV = min(_dates(PRICES / "CRWV.csv"))
LAST_PRICE = max(d for p in PRICES.glob("*.csv") if p.name != "dividends.csv" for d in _dates(p))
RANGE = P.DataRange(FIRST_CRWV, "the first CRWV price", LAST_PRICE, "the last price in the data")
DECLARED = P.declared_parameters()


def _load(tmp_path, text: str, name="variant.yaml", data_range=RANGE):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return P.load(f, DECLARED, data_range)


def _error(tmp_path, text, **kw) -> DataValidationError:
    with pytest.raises(DataValidationError) as e:
        _load(tmp_path, text, **kw)
    return e.value


def test_data_range_from_the_files():
    assert FIRST_CRWV == "2025-03-28"  # the IPO: first trading day (data/README.md, prices/PROVENANCE.md)
    assert LAST_PRICE == "2026-10-09"  # "prices end 2026-10-09 for CRWV" (data/README.md, known gaps)


@pytest.mark.parametrize("name", ["default.yaml", "as-of-2025-11-10.yaml"])
def test_shipped_parameter_files_are_valid(name):
    p = P.load(paths.params_dir() / name, DECLARED, RANGE)
    assert p["name"] == name.removesuffix(".yaml")
    assert set(p["notebooks"]) <= set(DECLARED)
    assert p["common"]["as_of"] in ("latest", "2025-11-10")


def test_unquoted_date_becomes_iso_text(tmp_path):
    p = _load(tmp_path, "as_of: 2025-11-10\n")
    assert p["common"]["as_of"] == "2025-11-10"
    assert P.notebook_params(p, "00_overview", DECLARED["00_overview"]) == {"as_of": "2025-11-10"}


def test_notebook_gets_declared_common_keys_and_own_section(tmp_path):
    p = _load(tmp_path, 'as_of: latest\nfirst_quarter: "2023Q1"\nnotebooks:\n  07_claims_ledger:\n    tolerance_scale: 2\n')
    assert P.notebook_params(p, "07_claims_ledger", DECLARED["07_claims_ledger"]) == {"as_of": "latest", "tolerance_scale": 2}
    assert P.notebook_params(p, "01_unit_economics", DECLARED["01_unit_economics"]) == {"as_of": "latest", "first_quarter": "2023Q1"}


@pytest.mark.parametrize("text, line, key, expected", [
    ('as_off: "2025-11-10"\n', 1, "as_off", "did you mean 'as_of'"),
    ("as_of: latest\nnotebooks:\n  01_unit_economics:\n    useful_life: 5\n", 4, "notebooks.01_unit_economics.useful_life",
     "notebooks/01_unit_economics.ipynb (did you mean 'useful_lives'?)"),
    ("notebooks:\n  99_nothing: {}\n", 2, "notebooks.99_nothing", "a section notebook"),
    ("as_of: 2024-01-01\n", 1, "as_of", f"on or after {FIRST_CRWV}"),
    ("as_of: 2030-01-01\n", 1, "as_of", f"on or before {LAST_PRICE}"),
    ('as_of: "2025-02-30"\n', 1, "as_of", "this day does not exist"),
    ("as_of: yesterday\n", 1, "as_of", "'latest' or a real date YYYY-MM-DD"),
    ("notebooks:\n  01_unit_economics:\n    computing_share_of_da: six\n", 3, "notebooks.01_unit_economics.computing_share_of_da", "a number"),
    ("notebooks:\n  00_overview:\n    tickers: CRWV\n", 3, "notebooks.00_overview.tickers", "a list"),
    ("results_dir: x\n", 1, "results_dir", "the build sets it"),
    ("notebooks:\n  00_overview:\n    results_dir: x\n", 3, "notebooks.00_overview.results_dir", "a parameter declared"),
    ("notebooks:\n  00_overview:\n    as_of: latest\n", 3, "notebooks.00_overview.as_of", "once, at the top"),
    ("as_of: latest\nas_of: latest\n", 2, "as_of", "each key once (also on line 1)"),
])
def test_invalid_parameters(tmp_path, text, line, key, expected):
    e = _error(tmp_path, text)
    assert (e.file, e.line, e.column) == (str(tmp_path / "variant.yaml"), line, key)
    assert expected in e.expected


@pytest.mark.parametrize("text, line", [
    ("as_of: latest\nnotebooks:\n  00_overview:\n    tickers: [CRWV, SPY\n    benchmark: SPY\n", 4),  # unclosed [
    ("as_of: latest\nnotebooks:\n  00_overview:\n    tickers: [CRWV, SPY\n", 4),  # unclosed [ at end of file
    ('as_of: "2025-11-10\nfirst_quarter: x\n', 1),  # unclosed quote
    ("a: {b: 1\nc: 2\n", 1),  # unclosed {
    ("as_of: latest\nnotebooks:\n  00_overview:\n    tickers: [CRWV]\n   benchmark: SPY\n", 5),  # bad indent
    ("as_of: latest: x\n", 1),
    ("as_of: latest\n\tfirst_quarter: x\n", 2),  # tab
])
def test_yaml_errors_point_at_the_line_at_fault(tmp_path, text, line):
    e = _error(tmp_path, text)
    assert e.line == line, str(e)
    assert e.expected.startswith("valid YAML (")


def test_yaml_payload_is_not_run(tmp_path):
    e = _error(tmp_path, 'as_of: !!python/object/apply:os.system ["touch PWNED"]\n')
    assert "could not determine a constructor" in e.expected and e.line == 1
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("arg, expected", [
    ("params", "not a folder"), ("params/", "not a folder"), ("params/nope.yaml", "an existing parameter file"),
    ("README.md", "a YAML file ending in .yaml"), ("", "a parameter file such as params/default.yaml"),
])
def test_params_must_name_a_yaml_file(arg, expected, monkeypatch):
    monkeypatch.chdir(paths.ROOT)
    with pytest.raises(DataValidationError) as e:
        P.check_path(arg)
    assert expected in e.value.expected
    assert "params/default.yaml" in e.value.expected  # the files there are listed


def test_declared_parameters_read_from_the_parameters_cell():
    nb = nbsource.read(paths.notebooks_dir() / "00_overview.ipynb")
    d = nbsource.declared_parameters(nb)
    assert list(d) == ["as_of", "tickers", "benchmark", "window_days", "results_dir"]
    assert d["tickers"].default == ["CRWV", "SPY", "QQQ", "SMH"] and d["window_days"].default == 365
    assert d["results_dir"].default is None and d["results_dir"].has_default


def test_every_section_notebook_hands_its_results_dir_to_the_build():
    """A section's parameters cell ends with `results_dir = None` (a hand run writes to scratch)."""
    for stem, names in DECLARED.items():
        assert "results_dir" in names, stem
        assert names["results_dir"].default is None, f"{stem}: results_dir must default to None (scratch), not a build folder"
