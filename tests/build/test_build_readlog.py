"""The kernel-side record of data reads (`analysis.readlog`) and the build's check of it against
a notebook's content key: reading data around the loaders is caught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import build, paths


def test_audit_hook_records_data_opened_and_listed(tmp_path):
    log = tmp_path / "reads.log"
    code = ("import analysis.readlog, os\n"
            "from analysis import paths\n"
            "(paths.data_dir() / 'events.csv').read_bytes(); (paths.data_dir() / 'events.csv').read_bytes()\n"
            "sorted(os.listdir(paths.data_dir() / 'prices'))\n"
            "open(os.devnull).close()\n")
    env = {**os.environ, "CRWV_READ_LOG": str(log)}
    env.pop("CRWV_DATA_DIR", None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    assert log.read_text().splitlines() == ["events.csv", "prices/"]


def test_without_the_variable_nothing_is_recorded(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CRWV_READ_LOG"}
    r = subprocess.run([sys.executable, "-c", "import analysis.readlog, sys; print(len(sys._getframe().f_globals))"],
                       env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert r.stdout.strip() and not list(tmp_path.iterdir())


INPUTS = {"data": {"fundamentals.csv": "x", "sources.csv": "y"}, "listings": {"": ["..."]}}


def test_reads_inside_the_key_pass():
    build._check_reads(["fundamentals.csv", "sources.csv", "/"], INPUTS, Path("notebooks/01_x.ipynb"))


@pytest.mark.parametrize("reads, named", [
    (["events.csv"], "data/events.csv"),
    (["prices/"], "data/prices/ (its list of files)"),
])
def test_reads_outside_the_key_are_refused(reads, named):
    assert (paths.data_dir() / "events.csv").is_file()
    with pytest.raises(build.BuildError, match=r"notebooks/01_x\.ipynb read " + named.replace("(", r"\(").replace(")", r"\)")):
        build._check_reads(reads, INPUTS, Path("notebooks/01_x.ipynb"))
