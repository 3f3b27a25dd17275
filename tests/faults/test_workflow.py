"""The researcher's workbench (issue 13), on copies of the built checkout: hand runs never touch
the build, rebuilds follow content (a parameter, a markdown edit, a strip), sections follow the
notebooks folder, failures name the source cell, `make lab` answers on localhost."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from .harness import clean_env


def _listed(stdout: str) -> list[str]:
    """Notebooks `make -n report` would execute, and 'note' if it would render."""
    out = re.findall(r"analysis\.build execute notebooks/(\w+)\.ipynb", stdout)
    return out + (["note"] if "analysis.build note" in stdout else [])


def _results(co):
    return {p.name: p.read_bytes() for p in sorted((co.root / "reports/build/results").glob("*.json"))}


def test_copied_checkout_is_up_to_date(checkout):
    r = checkout.make("-n", "report")
    assert r.returncode == 0, r.stderr
    assert _listed(r.stdout) == [] and "no notebook changed" in r.stdout


def test_hand_run_leaves_the_build_results_byte_identical(checkout, tmp_path):
    before = _results(checkout)
    scratch = tmp_path / "scratch"
    env = clean_env(CRWV_SCRATCH_DIR=scratch, MPLCONFIGDIR=tmp_path / "mpl")
    r = subprocess.run([str(checkout.root / ".venv/bin/python"), "-m", "jupyter", "nbconvert", "--execute", "--to",
                        "notebook", "--output-dir", str(tmp_path), "00_overview.ipynb"],
                       cwd=checkout.root / "notebooks", env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (scratch / "results" / "00_overview.json").is_file()  # the hand run wrote to the scratch folder
    assert _results(checkout) == before
    assert _listed(checkout.make("-n", "report").stdout) == []


def test_one_parameter_change_lists_only_its_notebook(checkout):
    p = checkout.root / "params" / "default.yaml"
    text = p.read_text(encoding="utf-8")
    p.write_text(text.replace("tolerance_scale: 1.0", "tolerance_scale: 1.5"), encoding="utf-8")
    r = checkout.make("-n", "report")
    assert _listed(r.stdout) == ["07_claims_ledger", "note"], r.stdout
    assert "07_claims_ledger (parameters: tolerance_scale)" in r.stdout
    p.write_text(text, encoding="utf-8")  # undone: nothing to do again
    assert _listed(checkout.make("-n", "report").stdout) == []


def test_strip_on_clean_notebooks_changes_nothing(checkout):
    times = {p: p.stat().st_mtime_ns for p in (checkout.root / "notebooks").glob("*.ipynb")}
    r = checkout.make("strip")
    assert r.returncode == 0 and f"0 of {len(times)} notebooks changed" in r.stdout
    assert {p: p.stat().st_mtime_ns for p in times} == times
    assert _listed(checkout.make("-n", "report").stdout) == []


def test_markdown_edit_re_renders_without_executing(checkout):
    path = checkout.root / "notebooks" / "07_claims_ledger.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb["cells"].append({"cell_type": "markdown", "id": "test-md", "metadata": {},
                        "source": ["A sentence added by the markdown-edit test."]})
    path.write_text(json.dumps(nb, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    r = checkout.make("report")
    assert r.returncode == 0, r.stderr
    assert "[07_claims_ledger] outputs reused" in r.stdout and " executed:" not in r.stdout
    assert "A sentence added by the markdown-edit test." in (checkout.root / "reports/crwv-note.html").read_text()


@pytest.mark.parametrize("plain", [False, True], ids=["no-print-directory", "plain make"])
def test_results_changed_outside_the_build_are_refused_then_restored(checkout, plain):
    """`make -n` leaves them as they are; `make report`, typed plainly or not, restores them (a plain
    `make` once ran every plan as a dry run: MAKEFLAGS' first word was '--no-builtin-rules')."""
    res = checkout.root / "reports/build/results/01_unit_economics.json"
    original = res.read_bytes()
    d = json.loads(original)
    d["params"]["computing_share_of_da"] = 0.8  # what a hand run with another value wrote (issue 13)
    res.write_text(json.dumps(d), encoding="utf-8")
    r = checkout.python("-m", "analysis.build", "note", "--params", "params/default.yaml", "--out", "reports")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "error: reports/build/results/01_unit_economics.json, column 'params.computing_share_of_da': got 0.8; "
        "expected 1.0 as in params/default.yaml: these results were written outside the build (a hand run?); "
        "`make report` restores them"]
    before = checkout.note_bytes()
    r = checkout.make("-n", "report", plain=plain)
    assert r.returncode == 0 and "restoring" not in r.stdout and json.loads(res.read_bytes()) == d, r.stdout
    r = checkout.make("report", plain=plain)
    assert r.returncode == 0, r.stderr
    assert "was changed outside the build: restoring it" in r.stdout and " executed:" not in r.stdout
    assert "[note]" not in r.stdout  # its inputs did not change
    assert res.read_bytes() == original and checkout.note_bytes() == before


def _write_nb(path, code_cells):
    cells = [{"cell_type": "markdown", "id": "head", "metadata": {}, "source": ["## A test section"]},
             {"cell_type": "code", "id": "params", "metadata": {"tags": ["parameters", "remove-cell"]},
              "execution_count": None, "outputs": [], "source": ['as_of = "latest"\n', "results_dir = None"]}]
    cells += [{"cell_type": "code", "id": f"c{i}", "metadata": {"tags": ["hide-input"]}, "execution_count": None,
               "outputs": [], "source": src} for i, src in enumerate(code_cells)]
    nb = {"cells": cells, "metadata": {"kernelspec": {"name": "crwv-note", "display_name": "crwv-note", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


WRITE_RESULTS = "from analysis.results import Results\nResults('90_test_section', as_of).write(results_dir)"


def test_a_notebook_s_life_in_the_note(checkout):
    """Added and failing: the source cell named, a failed copy kept, the note untouched; fixed:
    the failed copy removed; deleted: its executed copy and results removed, the note as before."""
    co, nb = checkout, checkout.root / "notebooks" / "90_test_section.ipynb"
    original = co.note_bytes()
    _write_nb(nb, ["x = 1\ny = x / 0", WRITE_RESULTS])
    r = co.make("report")
    assert r.returncode == 2
    assert ("error: notebooks/90_test_section.ipynb, cell 3 (id c0), line 2: ZeroDivisionError: division by zero"
            in r.stderr), r.stderr
    assert "partly executed copy kept for debugging: reports/build/failed/90_test_section.ipynb" in r.stderr
    assert (co.root / "reports/build/failed/90_test_section.ipynb").is_file() and co.note_bytes() == original

    _write_nb(nb, ["print('fine')", WRITE_RESULTS])
    r = co.make("reports/build/executed/90_test_section.ipynb")
    assert r.returncode == 0, r.stderr
    assert not (co.root / "reports/build/failed/90_test_section.ipynb").exists()
    assert (co.root / "reports/build/results/90_test_section.json").is_file()

    nb.unlink()
    r = co.make("report")
    assert r.returncode == 0, r.stderr
    assert "removed reports/build/executed/90_test_section.ipynb" in r.stdout
    assert not (co.root / "reports/build/results/90_test_section.json").exists()
    assert "[note]" not in r.stdout  # the note's inputs are back to what it was built from
    assert co.note_bytes() == original


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_answers_on_localhost_with_the_project_kernel(checkout):
    port, token = _free_port(), "crwv-test-token"
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_PORT={port}"], cwd=checkout.root,
                            env=clean_env(JUPYTER_TOKEN=token, BROWSER="true"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline, info = time.monotonic() + 120, None
        while time.monotonic() < deadline and info is None:
            if proc.poll() is not None:
                pytest.fail(f"make lab exited with {proc.returncode}: {proc.stdout.read()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/kernelspecs?token={token}", timeout=2) as resp:
                    info = json.load(resp)
            except OSError:
                time.sleep(0.3)
        assert info is not None, "JupyterLab did not answer on localhost"
        assert info["default"] == "crwv-note" and "crwv-note" in info["kernelspecs"]
        if os.geteuid() == 0:
            pass  # it answered as root: --allow-root was passed
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)


def test_since_make_started_counts_from_make_s_own_start(checkout, tmp_path):
    """The note's 'since make started' is the wall time since the make process began: not since
    make re-read its files after the plan (a first build), and never more than the run took.
    tools/started_ns.sh reads a process's start from /proc."""
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.5)
        started = int(subprocess.run(["tools/started_ns.sh", str(sleeper.pid)], cwd=checkout.root,
                                     capture_output=True, text=True, check=True).stdout)
        assert 0.45 < (time.time_ns() - started) / 1e9 < 2.0  # (the script itself takes a little)
    finally:
        sleeper.kill()
        sleeper.wait()
    (checkout.root / "reports/build/plan.mk").unlink()  # remade: make restarts after the plan
    shutil.rmtree(checkout.root / ".cache/plan")  # a plan without its caches: about 0.7 s
    (checkout.root / "reports/crwv-note.html").unlink()  # and renders again
    t0 = time.monotonic()
    r = checkout.make("report")
    wall = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    since = float(re.search(r"\[note\] rendered: [\d.]+ s wall; ([\d.]+) s since make started", r.stdout).group(1))
    plan = float(re.search(r"^\[plan\] .*\(([\d.]+) s\)$", r.stdout, re.M).group(1))
    assert plan > 0.4, plan
    # counting from make's restart would leave out the whole plan; process start and exit are far less
    assert wall - (plan - 0.1) <= since <= wall + 0.05, (plan, since, wall)  # (printed to 0.1 s)
