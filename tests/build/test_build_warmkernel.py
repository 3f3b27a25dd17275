"""Warm kernels (`analysis.warmkernel`): a kernel forked from the warm server gives the same
outputs, byte for byte, as a kernel started the usual way; without the server, kernels start
the usual way."""

from __future__ import annotations

import json

import pytest

from analysis import build, nbsource, paths, warmkernel

pytestmark = pytest.mark.build
NOTEBOOK = paths.notebooks_dir() / "00_overview.ipynb"


def _run(tmp_path, name, **kw):
    import papermill as pm

    run = tmp_path / name
    run.mkdir()
    out = run / "executed.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(out), parameters={"as_of": "2025-11-10", "results_dir": "results"},
                        cwd=str(run), kernel_name=nbsource.KERNEL_NAME, progress_bar=False, log_output=False, **kw)
    executed = nbsource.dumps(build._clean_executed(json.loads(out.read_text(encoding="utf-8"))))  # run times dropped
    return executed, (run / "results" / "00_overview.json").read_bytes()


def test_warm_kernel_gives_the_same_bytes_as_a_fresh_one(tmp_path, monkeypatch):
    forked = []
    real = warmkernel.fork_kernel
    monkeypatch.setattr(warmkernel, "fork_kernel", lambda *a, **k: forked.append(real(*a, **k)) or forked[-1])
    fresh = _run(tmp_path, "fresh")
    warm = _run(tmp_path, "warm", kernel_manager_class=warmkernel.kernel_manager_class())
    assert len(forked) == 1  # the kernel came from the server
    assert warm == fresh  # the executed notebook as the build keeps it, and the results file


def test_unknown_command_is_not_forked():
    with pytest.raises(warmkernel.Unavailable):
        warmkernel.fork_kernel(["/usr/bin/python3", "-c", "pass"], {}, ".")


def test_switch_off(monkeypatch):
    monkeypatch.setenv("CRWV_WARM_KERNELS", "0")
    assert not warmkernel.enabled()


def test_a_killed_build_leaves_no_kernel_behind(tmp_path):
    """The kernel belongs to the process that asked for it: when that one is killed (not even
    Ctrl-C), the kernel exits too."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from jupyter_client.connect import write_connection_file

    conn, _ = write_connection_file(str(tmp_path / "kernel.json"))
    code = ("import os, sys, time; from analysis import warmkernel as w; "
            f"pid = w.fork_kernel([sys.executable, '-m', 'ipykernel_launcher', '-f', {conn!r}], dict(os.environ), "
            f"{str(tmp_path)!r}); print(pid, flush=True); time.sleep(600)")
    owner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    kernel = int(owner.stdout.readline())
    os.kill(kernel, 0)  # the kernel runs
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.kill(kernel, signal.SIGKILL)
        pytest.fail("the warm kernel outlived the process that asked for it")
