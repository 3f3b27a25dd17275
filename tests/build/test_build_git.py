"""Git hygiene: the pre-commit hooks and `make fix` lint, sort imports and strip notebooks;
LICENSE and CITATION.cff agree with pyproject.toml."""

from __future__ import annotations

import json
import shlex
import subprocess
import tomllib

import nbformat
import yaml

from analysis import nbsource, paths

ROOT = paths.ROOT
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_license_is_the_mit_license_pyproject_names():
    assert PYPROJECT["license"] == {"text": "MIT"}
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Permission is hereby granted, free of charge" in text


def test_citation_matches_the_project():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors", "version", "license"} <= set(cff)
    assert cff["version"] == PYPROJECT["version"] and cff["license"] == "MIT"
    assert "CoreWeave" in cff["title"] and all("name" in a or "family-names" in a for a in cff["authors"])


def _hooks():
    cfg = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    return {h["id"]: h for repo in cfg["repos"] for h in repo["hooks"] if repo["repo"] == "local"}


def _run_hook(hook, *files):
    return subprocess.run([*shlex.split(hook["entry"]), *map(str, files)], cwd=ROOT, capture_output=True, text=True)


def test_pre_commit_hooks_are_local_and_use_the_project_environment():
    hooks = _hooks()
    assert set(hooks) == {"ruff", "strip-notebooks"}
    assert all(h["entry"].startswith(".venv/bin/python -m ") and h["language"] == "system" for h in hooks.values())


def test_ruff_hook_sorts_imports(tmp_path):
    f = tmp_path / "mod.py"
    f.write_text("import sys\nimport os\n\nprint(os, sys)\n", encoding="utf-8")
    _run_hook(_hooks()["ruff"], f)
    assert f.read_text(encoding="utf-8") == "import os\nimport sys\n\nprint(os, sys)\n"


def test_strip_hook_strips_notebooks(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1", id="c1", metadata={"execution": {"iopub.status.busy": "2026-01-01"}})
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"}, execution_count=1)]
    cell.execution_count = 1
    nb.cells = [cell]
    f = tmp_path / "dirty.ipynb"
    nbformat.write(nb, f)
    r = _run_hook(_hooks()["strip-notebooks"], f)
    assert r.returncode == 0, r.stderr
    out = json.loads(f.read_text(encoding="utf-8"))
    assert out["cells"][0]["outputs"] == [] and out["cells"][0]["metadata"] == {}
    assert out["metadata"]["kernelspec"] == nbsource.KERNELSPEC
