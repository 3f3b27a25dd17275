"""Warm kernels (`analysis.warmkernel`): a kernel forked from the warm server gives the same
outputs, byte for byte, as a kernel started the usual way; without the server, kernels start
the usual way."""

from __future__ import annotations

import contextlib
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


def test_one_server_per_environment_and_kernels_do_not_hold_it(tmp_path):
    """Servers started at once for the same environment (two executions asking together): one
    serves, the others exit before importing anything. A probe (connect, ask nothing: what
    `prestart` does) leaves it serving. A kernel forked by a server that stopped does not keep a
    new server from starting."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import uuid

    from jupyter_client.connect import write_connection_file

    name = f"crwv-note-warm-kernel-test-{uuid.uuid4().hex[:12]}"
    cmd = [sys.executable, "-m", "analysis.warmkernel", name, "20"]

    def start_servers(n):
        return [subprocess.Popen(cmd, cwd=paths.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(n)]

    def connect():
        deadline = time.monotonic() + 60
        while True:
            try:
                return warmkernel._connect(name)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def request(msg: dict) -> dict:
        with connect() as s:
            s.sendall(json.dumps(msg).encode() + b"\n")
            return json.loads(s.makefile("rb").readline() or b"{}")

    servers = start_servers(3)
    kernel = None
    try:
        connect().close()  # a probe
        deadline = time.monotonic() + 10
        while sum(p.poll() is None for p in servers) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sum(p.poll() is None for p in servers) == 1
        assert all(p.returncode == 0 for p in servers if p.poll() is not None)

        conn, _ = write_connection_file(str(tmp_path / "kernel.json"))
        kernel = request({"args": ["-f", conn], "env": dict(os.environ), "cwd": str(tmp_path)})["pid"]
        os.kill(kernel, 0)  # the kernel runs
        assert "user" in request({"stop": True})
        for p in servers:
            p.wait(timeout=30)
        os.kill(kernel, 0)  # and outlives its server
        servers = start_servers(1)
        connect().close()  # a new server came up
        assert servers[0].poll() is None
    finally:
        if kernel:
            with contextlib.suppress(ProcessLookupError):
                os.kill(kernel, signal.SIGKILL)
        for p in servers:
            if p.poll() is None:
                with contextlib.suppress(OSError, ValueError):
                    request({"stop": True})
                p.wait(timeout=30)
        (warmkernel.registry() / f"{name}.lock").unlink(missing_ok=True)


def test_variants_share_the_server():
    """`make report PARAMS=...` exports PARAMS (and OUT) to every recipe: each variant of one
    checkout asks the same server, not a server of its own (1.2 s of imports each)."""
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "PARAMS", "OUT"))}
    default = {**base, "MAKEFLAGS": "rR -j2 --jobserver-auth=3,4"}
    variant = {**base, "MAKEFLAGS": r"s -j2 --jobserver-auth=3,4 -- OUT=reports/history/x\ y PARAMS=params/a.yaml",
               "PARAMS": "params/a.yaml", "OUT": "reports/history/x y"}
    assert warmkernel._command_line_names(variant["MAKEFLAGS"]) == {"OUT", "PARAMS"}
    assert warmkernel.server_name(variant) == warmkernel.server_name(default)
    assert warmkernel.server_name({**base, "MPLBACKEND": "agg"}) != warmkernel.server_name(base)  # import-time


def test_a_forked_kernel_imports_the_library_afresh(tmp_path):
    """The server itself runs `analysis.warmkernel` (and `analysis.paths`): a kernel it forks has
    none of the library loaded, so an edit made while the server lives is seen."""
    import nbformat
    import papermill as pm

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nloaded = sorted(m for m in sys.modules if m.split('.')[0] == 'analysis')\n"
                                          "assert not loaded, loaded\nimport analysis.paths\nprint(analysis.paths.__file__)")]
    nb.metadata["kernelspec"] = {"name": nbsource.KERNEL_NAME, "display_name": nbsource.KERNEL_NAME, "language": "python"}
    src = tmp_path / "probe.ipynb"
    nbformat.write(nb, src)
    out = pm.execute_notebook(str(src), str(tmp_path / "out.ipynb"), cwd=str(tmp_path), kernel_name=nbsource.KERNEL_NAME,
                              progress_bar=False, kernel_manager_class=warmkernel.kernel_manager_class())
    assert out.cells[0].outputs[0]["text"].strip() == str(paths.library_dir() / "paths.py")
