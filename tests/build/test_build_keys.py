"""Content keys (`analysis.plan`, `analysis.deps`): a notebook's key changes with its code, its own
parameters, the library modules it imports and the data its loaders read, and with nothing else."""

from __future__ import annotations

import copy
import json

import pytest

from analysis import deps, nbsource, paths, plan
from analysis import params as P
from analysis.report.sections import SECTIONS

NB = {s: nbsource.read(paths.notebooks_dir() / f"{s}.ipynb") for s in SECTIONS}
DECLARED = {s: nbsource.declared_parameters(nb) for s, nb in NB.items()}
LIB = deps.Library()
IDENTITY = plan.data_identity()
PARAMS = P.load(paths.params_dir() / "default.yaml", DECLARED)
ENV = plan.environment()


@pytest.fixture(scope="module")
def facts():
    return plan.data_facts(IDENTITY, LIB)


def keys(facts, nbs=NB, params=PARAMS, lib=LIB, identity=IDENTITY, env=ENV, epoch="1760000000"):
    return {s: plan.notebook_key(s, nbs[s], P.notebook_params(params, s, DECLARED[s]), lib, facts, identity, env, epoch)
            for s in SECTIONS}


def changed(a, b, part="key"):
    return sorted(s for s in a if a[s][part] != b[s][part])


def test_keys_are_stable(facts):
    assert keys(facts) == keys(facts)


def test_a_parameter_changes_only_its_notebook(facts, tmp_path):
    text = (paths.params_dir() / "default.yaml").read_text(encoding="utf-8")
    f = tmp_path / "v.yaml"
    # the first occurrence: section 01's (06_funding has its own)
    f.write_text(text.replace("computing_share_of_da: 1.0", "computing_share_of_da: 0.8", 1), encoding="utf-8")
    assert changed(keys(facts), keys(facts, params=P.load(f, DECLARED))) == ["01_unit_economics"]


def test_a_common_parameter_changes_the_notebooks_that_declare_it(facts, tmp_path):
    f = tmp_path / "v.yaml"
    f.write_text((paths.params_dir() / "default.yaml").read_text(encoding="utf-8").replace('"2024Q1"', '"2024Q2"'),
                 encoding="utf-8")
    assert changed(keys(facts), keys(facts, params=P.load(f, DECLARED))) == sorted(
        s for s in SECTIONS if "first_quarter" in DECLARED[s])


def test_markdown_edit_keeps_the_execution_key(facts):
    nbs = copy.deepcopy(NB)
    md = next(c for c in nbs["00_overview"]["cells"] if c["cell_type"] == "markdown")
    md["source"] = "## A new heading\n\nAnd a sentence."
    a, b = keys(facts), keys(facts, nbs=nbs)
    assert changed(a, b) == [] and changed(a, b, "copy") == ["00_overview"]


def test_code_edit_changes_the_execution_key(facts):
    nbs = copy.deepcopy(NB)
    code = [c for c in nbs["07_claims_ledger"]["cells"] if c["cell_type"] == "code"][-1]
    code["source"] = nbsource.source_text(code) + "\n# a comment"
    assert changed(keys(facts), keys(facts, nbs=nbs)) == ["07_claims_ledger"]


def test_a_library_module_changes_only_the_notebooks_importing_it(facts):
    importers = sorted(s for s, k in keys(facts).items() if "src/analysis/claims.py" in k["inputs"]["library"])
    assert "07_claims_ledger" in importers and "00_overview" not in importers
    lib = copy.copy(LIB)
    lib.hashes = {**LIB.hashes, "analysis.claims": "0" * 64}
    assert changed(keys(facts), keys(facts, lib=lib)) == importers


def test_shared_modules_change_every_notebook(facts):
    lib = copy.copy(LIB)
    lib.hashes = {**LIB.hashes, "analysis.results": "0" * 64}  # the results contract: every notebook writes one
    assert changed(keys(facts), keys(facts, lib=lib)) == list(SECTIONS)


def test_data_files_come_from_the_loaders_a_notebook_calls(facts):
    k = keys(facts)
    data = {s: set(k[s]["inputs"]["data"]) for s in SECTIONS}
    prices = {f for f in IDENTITY if f.startswith("prices/") and f.endswith(".csv")}
    assert prices <= data["00_overview"] and "events.csv" in data["00_overview"]
    assert data["01_unit_economics"] == {"fundamentals.csv", "sources.csv"}  # load_fundamentals checks source ids
    assert "claims.yaml" in data["07_claims_ledger"] and "claims.yaml" not in data["00_overview"]
    assert not any(f.endswith(".md") for s in SECTIONS for f in data[s])  # documentation is no input


@pytest.mark.parametrize("edit, expect", [
    # 06_funding values the shares (prices) and reads the filings; 00_overview tells what was new
    # on the as-of date (fundamentals: results and guidance) and which figures it withholds
    ("change prices/SMH.csv", {"00_overview", "04_sector_contagion", "06_funding", "07_claims_ledger"}),
    ("delete prices/SMH.csv", {"00_overview", "04_sector_contagion", "06_funding", "07_claims_ledger"}),
    ("add prices/ZZZZ.csv", {"00_overview", "04_sector_contagion", "06_funding", "07_claims_ledger"}),
    ("change fundamentals.csv", {"00_overview", "01_unit_economics", "02_backlog_conversion",
                                 "03_customer_concentration", "06_funding", "07_claims_ledger"}),
    ("change prices/PROVENANCE.md", set()),
])
def test_data_changes_re_run_what_reads_them(facts, edit, expect):
    verb, rel = edit.split()
    identity = dict(IDENTITY)
    if verb == "change":
        identity[rel] = "0" * 64
    elif verb == "delete":
        del identity[rel]
    else:
        identity[rel] = "1" * 64
    # the loaders' files as the plan derives them for that data set (a new price file: like SMH.csv)
    loaders = {k: sorted({f for f in v if f in identity} | ({rel} if verb == "add" and "prices/SMH.csv" in v else set()))
               for k, v in facts.loaders.items()}
    f = plan.DataFacts(facts.data_range, loaders)
    assert set(changed(keys(facts), keys(f, identity=identity))) == expect


def test_environment_and_build_date_change_every_key(facts):
    assert changed(keys(facts), keys(facts, env={**ENV, "uv.lock": "x"})) == list(SECTIONS)
    assert changed(keys(facts), keys(facts, epoch="1")) == list(SECTIONS)


def test_explain_names_what_changed(facts, tmp_path):
    f = tmp_path / "v.yaml"
    f.write_text((paths.params_dir() / "default.yaml").read_text(encoding="utf-8").replace("tolerance_scale: 1.0",
                                                                                           "tolerance_scale: 2.0"))
    a, b = keys(facts), keys(facts, params=P.load(f, DECLARED))
    assert plan.explain(a["07_claims_ledger"], b["07_claims_ledger"]) == "parameters: tolerance_scale"
    assert plan.explain(None, a["00_overview"]) == "first run"


def test_closure_follows_imports_transitively():
    code = deps.code_info(["from analysis.sections import overview\n"])
    mods = LIB.closure(code.imports)
    assert {"analysis", "analysis.sections", "analysis.sections.overview", "analysis.sections.base",
            "analysis.overview", "analysis.results", "analysis.data.load"} <= mods
    assert "analysis.claims" not in mods and "analysis.build" not in mods
    # analysis.data imports its loaders by name at run time: the names found in it are followed
    assert {"analysis.data.load", "analysis.data.validate"} <= LIB.closure(["analysis.data"])
    assert "analysis.data.vendor" not in LIB.closure(["analysis.data"])


def test_scan_resolves_relative_imports():
    info = deps.scan("from ..data import load_prices\nfrom . import base\nfrom .. import overview\n",
                     "analysis.sections.overview")
    assert {"analysis.data", "analysis.data.load_prices", "analysis.sections.base", "analysis.overview"} <= set(info.imports)


def test_plan_writes_stamps_only_when_keys_change(tmp_path, monkeypatch):
    build = tmp_path / "build"
    plan.make_plan(paths.params_dir() / "default.yaml", build, quiet=True)
    stamps = sorted((build / "keys").glob("*.key"))
    assert [p.stem for p in stamps] == sorted([*SECTIONS, "note"])
    times = {p: p.stat().st_mtime_ns for p in stamps}
    assert plan.make_plan(paths.params_dir() / "default.yaml", build, quiet=True) == {}
    assert {p: p.stat().st_mtime_ns for p in stamps} == times
    mk = (build / "plan.mk").read_text().splitlines()
    assert mk[1] == "SECTIONS := " + " ".join(SECTIONS)
    order = mk[3].removeprefix("RUN_ORDER := ").split()
    assert sorted(order) == sorted(SECTIONS)
    # the event study, measured at 3.7-4.5 s a run against at most 2.0 s for every other section
    # (cold builds and make bench on 2026-11-30), starts first
    assert order[0] == "04_sector_contagion"
    size = {s: sum(len(src) for *_, src in nbsource.execution_cells(nbsource.read(paths.notebooks_dir() / f"{s}.ipynb")))
            for s in order}
    assert [size[s] for s in order] == sorted(size.values(), reverse=True)
    k = json.loads((build / "keys" / "00_overview.key").read_text())
    assert k["inputs"]["parameters"]["as_of"] == "latest" and len(k["key"]) == 64


def test_plan_removes_what_deleted_notebooks_left(tmp_path):
    build = tmp_path / "build"
    for sub, name in (("executed", "99_gone.ipynb"), ("results", "99_gone.json"), ("failed", "99_gone.ipynb"),
                      ("keys", "99_gone.key"), ("failed", "00_overview.ipynb")):
        (build / sub).mkdir(parents=True, exist_ok=True)
        (build / sub / name).write_text("{}")
    plan.make_plan(paths.params_dir() / "default.yaml", build, dry_run=True, quiet=True)
    assert (build / "executed" / "99_gone.ipynb").exists()  # make -n changes nothing
    plan.make_plan(paths.params_dir() / "default.yaml", build, quiet=True)
    left = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file() and "99" in p.name)
    assert left == []
    assert (build / "failed" / "00_overview.ipynb").exists()  # a section's failed copy stays until it succeeds
