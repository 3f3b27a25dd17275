"""Fault-catalog harness: copy the built checkout to a temp folder, break something, run make,
compare the note's bytes.

    co = copy_checkout(tmp_path / "co")           # needs a built note (make test builds it first)
    before = co.note_bytes()
    edit_line(co.root / "data/fundamentals.csv", 12, lambda s: s.replace("2025", "2031", 1))  # tests/edits.py
    co.write_manifest()                           # so the validators, not the checksums, are reached
    r = co.make("report")
    assert r.returncode == 2 and "data/fundamentals.csv, line 12" in r.stderr
    assert co.note_bytes() == before

A copy holds the working tree (src with its bytecode, notebooks, data, params, tools, the built
reports/ with their file times), links this checkout's .venv (the library is linked by a relative
path, so the copy imports its own src/) and shares `.cache/executed` (runs cached by content key),
so nothing is executed again unless a case changes a notebook's inputs. `CRWV_COMMIT` names this
checkout's commit, so a copy's note is byte-identical to the original.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from analysis import paths

ROOT = paths.ROOT
NOTE_FILES = ("crwv-note.html", "crwv-note.pdf")
SKIP_TOP = {".venv", ".cache", ".git", ".pytest_cache", ".ruff_cache"}


def built() -> bool:
    """True when this checkout has a built default note and its plan (make report ran)."""
    return all((ROOT / "reports" / n).is_file() for n in NOTE_FILES) and (ROOT / "reports/build/keys/note.key").is_file()


def original_commit() -> str:
    """The commit string the original note was built with (from its note stamp)."""
    return json.loads((ROOT / "reports/build/keys/note.key").read_text(encoding="utf-8"))["commit"]


def clean_env(**extra) -> dict:
    """The calling environment without make's jobserver and build variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MAKE", "MFLAGS", "CRWV_")) and k not in ("PYTHONPATH",)}
    env["CRWV_COMMIT"] = original_commit()
    env.update({k: str(v) for k, v in extra.items()})
    return env


@dataclass
class Checkout:
    root: Path

    def note_bytes(self, out: str = "reports") -> dict[str, bytes]:
        return {n: (self.root / out / n).read_bytes() for n in NOTE_FILES if (self.root / out / n).is_file()}

    def make(self, *args, env: dict | None = None, timeout: float = 600, shell_prefix: str | None = None,
             plain: bool = False):
        """Run make in the copy; `shell_prefix` (e.g. 'ulimit -f 500;') runs it through bash; `plain`
        as a user types it (no --no-print-directory: MAKEFLAGS then holds only what the Makefile adds)."""
        cmd = ["make", *([] if plain else ["--no-print-directory"]), *args]
        if shell_prefix:
            cmd = ["bash", "-c", f"{shell_prefix} exec make --no-print-directory {' '.join(args)}"]
        return subprocess.run(cmd, cwd=self.root, env=env or clean_env(), capture_output=True, text=True,
                              timeout=timeout)

    def start_make(self, *args, env: dict | None = None) -> subprocess.Popen:
        """make in its own process group (to interrupt it like Ctrl-C does), with SIGINT handled as in
        a terminal's foreground job even when the tests run as a background job (which ignores
        SIGINT, and an ignored signal stays ignored across exec: make would never see Ctrl-C)."""
        reset = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp('make', sys.argv[1:])"
        return subprocess.Popen([sys.executable, "-c", reset, "make", "--no-print-directory", *args], cwd=self.root,
                                env=env or clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def python(self, *args, **kw):
        return subprocess.run([str(self.root / ".venv/bin/python"), *args], cwd=self.root, env=clean_env(),
                              capture_output=True, text=True, **kw)

    def write_manifest(self) -> None:
        """Regenerate data/MANIFEST.sha256 after an edit, so the validators are what refuses it."""
        r = self.python("-m", "analysis.data.manifest", "write", "--data-dir", "data")
        assert r.returncode == 0, r.stderr

    def leftovers(self) -> list[str]:
        """Temporary files an interrupted or failed write could leave behind."""
        return sorted(str(p.relative_to(self.root)) for p in (self.root / "reports").rglob("*")
                      if p.name.endswith((".tmp", ".running.ipynb")))


def copy_checkout(dest: Path, venv: str = "link") -> Checkout:
    """A copy of this (built) checkout at `dest`. `venv`: 'link' (symlink to this .venv) or
    'hardlink' (a full .venv copy made of hard links: a relocated environment)."""
    def ignore(folder, names):
        return [n for n in names if Path(folder) == ROOT and n in SKIP_TOP]

    dest = Path(dest)
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    if venv == "link":
        (dest / ".venv").symlink_to(ROOT / ".venv")
    else:  # hard links of the real environment's files (never through a link: a copy must not write into it)
        subprocess.run(["cp", "-al", os.path.realpath(ROOT / ".venv"), str(dest / ".venv")], check=True)
        assert not (dest / ".venv").is_symlink()
    cache = dest / ".cache"
    (cache / "tmp").mkdir(parents=True)
    (ROOT / ".cache" / "executed").mkdir(parents=True, exist_ok=True)
    (cache / "executed").symlink_to(ROOT / ".cache" / "executed")
    if (ROOT / ".cache" / "plan").is_dir():
        shutil.copytree(ROOT / ".cache" / "plan", cache / "plan")
    return Checkout(dest)


def edit_code_comment(nb_path: Path, comment: str = "# changed by a test") -> None:
    """Append a comment to a notebook's last code cell: its code changes, its outputs do not."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    cell = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
    src = cell["source"] if isinstance(cell["source"], list) else [cell["source"]]
    if src and not src[-1].endswith("\n"):
        src = [*src[:-1], src[-1] + "\n"]
    cell["source"] = [*src, comment + "\n"]
    nb_path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def wait_for(predicate, timeout: float = 120, every: float = 0.02) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(every)
    return False


def interrupt(proc: subprocess.Popen) -> tuple[int, str, str]:
    """Ctrl-C for make and everything it started (its process group)."""
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err
