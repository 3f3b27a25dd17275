"""Fault catalog, the build's own run (issue 14 points 5, 7, 8 and concurrency): interrupted,
concurrent, relocated, offline-loopback, file-size-limited and disk-full builds. Each either
fails with one line naming the cause and the file, leaving the previous note byte-identical, or
succeeds with the same bytes as a clean build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
from edits import edit_line

from . import harness
from .harness import clean_env, edit_code_comment


def _force_render(co) -> None:
    """Make the note older than its stamp: the next build renders it again, from the same inputs."""
    os.utime(co.root / "reports/build/keys/note.key")


def _rendering(co, since: float):
    main = co.root / "reports/build/typst/main.typ"
    return lambda: main.exists() and main.stat().st_mtime > since


@pytest.mark.parametrize("when", ["while-rendering", "while-starting"])
def test_interrupted_render_keeps_the_previous_note(when, checkout):
    co = checkout
    before = co.note_bytes()
    note = co.root / "reports" / "crwv-note.pdf"
    for _attempt in range(5):  # the render takes about a second: on a busy machine Ctrl-C can come after it
        _force_render(co)
        t0 = time.time()
        written = note.stat().st_mtime_ns
        proc = co.start_make("report")
        if when == "while-rendering":
            assert harness.wait_for(_rendering(co, t0), timeout=300), "the render did not start"
        else:
            time.sleep(0.5)
        code, out, err = harness.interrupt(proc)
        assert "Deleting file" not in out + err and "Traceback" not in err
        assert co.note_bytes() == before  # interrupted or (too late) finished: the same note
        assert co.leftovers() == []
        if code != 0:
            break
    else:
        pytest.fail("five builds finished before Ctrl-C reached them: the interrupt was never tested")
    if when == "while-rendering":
        r = co.make("report")  # a re-run gives the clean build's bytes
        assert r.returncode == 0, r.stderr
        assert co.note_bytes() == before
        # rendered again, unless Ctrl-C reached make only after the note was written whole
        assert "[note] rendered" in r.stdout or note.stat().st_mtime_ns != written, r.stdout


def test_two_builds_at_once_give_identical_bytes(checkout):
    co = checkout
    before = co.note_bytes()
    # a comment never seen before: the key is new, so one of the builds must execute the notebook
    edit_code_comment(co.root / "notebooks" / "00_overview.ipynb", f"# concurrency test {uuid.uuid4().hex}")
    procs = [co.start_make("report") for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    stdout = "".join(o for o, _ in outs)
    # one build executed the notebook; the other waited for it and reused its run
    assert stdout.count("[00_overview] executed:") == 1, stdout
    assert stdout.count("[00_overview] outputs reused") == 1, stdout
    assert co.note_bytes() == before  # a comment changes no output
    assert co.leftovers() == []


def test_copied_checkout_reads_its_own_data(tmp_path):
    """A copy with its own .venv (hard links, as `cp -a` would give): it works as it is, and reads
    the copy's data, never the original folder's (issue 14 point 7)."""
    if not harness.built():
        pytest.skip("needs the built note (make test builds it)")
    co = harness.copy_checkout(tmp_path / "moved", venv="hardlink")
    r = subprocess.run(["tools/env.sh", "check"], cwd=co.root, env=clean_env())
    assert r.returncode == 0  # the environment imports the copy's library, as is
    before = co.note_bytes()
    edit_line(co.root / "data/prices/CRWV.csv", 5, lambda s: s.replace(",", ",oops", 1))
    co.write_manifest()
    r = co.make("report")
    assert r.returncode == 2
    first = r.stderr.splitlines()[0]
    assert first.startswith("error: data/prices/CRWV.csv, line 5, column 'open': got "), first
    assert str(harness.ROOT) not in r.stderr + r.stdout
    assert co.note_bytes() == before


def test_environment_of_another_folder_is_detected(tmp_path):
    """An environment that imports the library of another folder (an older, non-relocatable
    setup) fails the check, so make sets it up again instead of reading the other folder."""
    if not harness.built():
        pytest.skip("needs the built note (make test builds it)")
    co = harness.copy_checkout(tmp_path / "moved", venv="hardlink")
    pth = next((co.root / ".venv/lib").glob("python3*/site-packages/crwv_note.pth"))
    original = pth.read_bytes()
    pth.unlink()  # then a new file: the hard-linked original is left as it is
    pth.write_text(str(harness.ROOT / "src") + "\n")
    r = subprocess.run(["tools/env.sh", "check"], cwd=co.root, env=clean_env())
    assert r.returncode == 1
    assert next((harness.ROOT / ".venv/lib").glob("python3*/site-packages/crwv_note.pth")).read_bytes() == original


def test_loopback_down_fails_at_once_with_the_cause(checkout):
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-n", "true"]).returncode != 0:
        pytest.skip("cannot make a network namespace here (unshare -n)")
    co = checkout
    before = co.note_bytes()
    edit_code_comment(co.root / "notebooks" / "00_overview.ipynb", f"# loopback test {uuid.uuid4().hex}")  # a kernel must start
    t0 = time.monotonic()
    r = subprocess.run(["unshare", "-n", "make", "--no-print-directory", "report"], cwd=co.root, env=clean_env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stdout + r.stderr
    assert time.monotonic() - t0 < 55  # not the minute a kernel start would wait (generous: shared machines)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert errors == ["error: cannot start a Jupyter kernel: the loopback interface 127.0.0.1 does not answer "
                      "(Network is unreachable); kernels talk to the build over it (bring it up: `ip link set lo up`)"], \
        r.stdout + r.stderr
    assert co.note_bytes() == before


def test_file_size_limit_is_one_line_and_keeps_the_note(checkout):
    co = checkout
    before = co.note_bytes()
    _force_render(co)
    r = co.make("report", shell_prefix="ulimit -f 512;")  # 512 KiB: the HTML (over 1 MB) cannot be written
    assert r.returncode == 2
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    # the first file over the limit (a figure, an executed notebook, the HTML), named
    assert len(errors) == 1 and re.fullmatch(
        r"error: cannot write or read (reports|\.cache)/\S+: File too large "
        r"\(EFBIG: the file-size limit \(ulimit -f\) is reached\)", errors[0]), r.stderr
    assert "Traceback" not in r.stderr
    assert co.note_bytes() == before and co.leftovers() == []


def test_disk_full_is_one_line_and_keeps_the_note(checkout):
    """The reports folder on a full disk (a small tmpfs): copying the largest executed notebook
    back into the build fails with one line; nothing half-written, the note as it was."""
    co = checkout
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        pytest.skip("cannot make a mount namespace here (unshare -m)")
    before = co.note_bytes()
    target = co.root / "reports/build/executed/04_sector_contagion.ipynb"
    (target.parent / f".{target.name}.key").unlink()
    os.utime(co.root / "reports/build/keys/04_sector_contagion.key")  # make copies it in again (from the cache)
    reports = co.root / "reports"
    saved = co.root.parent / "reports-saved"
    shutil.copytree(reports, saved, symlinks=True)
    # tmpfs holds whole pages: every file and folder takes at least one (many small files: the history's notes)
    used = sum(-(-p.stat().st_size // 4096) * 4096 if p.is_file() else 4096 for p in saved.rglob("*"))
    size_kb = used // 1024 + 256  # room for what is there, not for a second copy of that notebook
    script = (f"mount -t tmpfs -o size={size_kb}k tmpfs '{reports}' && cp -a '{saved}/.' '{reports}/' && "
              f"make --no-print-directory report; code=$?; cp -a '{reports}' '{saved}.after'; exit $code")
    r = subprocess.run(["unshare", "-m", "bash", "-c", script], cwd=co.root, env=clean_env(), capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 2, (r.stdout, r.stderr)
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert errors == ["error: cannot write or read reports/build/executed/04_sector_contagion.ipynb: No space left "
                      "on device (ENOSPC: the disk is full)"], r.stderr
    after = saved.parent / "reports-saved.after"
    assert {n: (after / n).read_bytes() for n in harness.NOTE_FILES} == before
    assert not [p for p in after.rglob("*") if p.name.endswith(".tmp")]
