"""`make bench`: the build's speed, measured in one run on this machine, on a private copy.

Measures, in this order, in a copy of the checkout (its own .cache, this .venv):
1. cold `make report` (environment present, nothing built or cached),
2. the naive route: `jupyter nbconvert --execute --to html` of each section notebook, one by one,
3. a no-op `make report`,
4. `make report` after editing one code cell of one notebook (BENCH_NOTEBOOK, default 01_unit_economics),
5. `make test`,
and prints wall times (process start included), CPU times, the load average and the ratios
against the targets. Timings on a shared machine are noisy: read the load average with them.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from analysis.report.sections import discover  # noqa: E402

SKIP = {".venv", ".cache", "reports", ".git", ".pytest_cache", ".ruff_cache"}
TARGETS = {"cold_s": 25.0, "cold_ratio": 0.4, "noop_s": 1.0, "edit_over_own_s": 3.0, "test_s": 120.0}


def copy_checkout(dest: Path) -> Path:
    """The working tree (without outputs and caches) with this checkout's .venv linked in."""
    def ignore(folder, names):
        return [n for n in names if Path(folder) == ROOT and n in SKIP or n == "__pycache__"]

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    (dest / "reports").mkdir()
    (dest / "reports" / ".gitkeep").touch()
    return dest


def timed(cmd, cwd: Path, env=None, label="") -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if (cwd / "src" / "analysis" / "warmkernel.py").is_file():  # kernels forked by its server: count them too
        out = subprocess.run([str(cwd / ".venv/bin/python"), "-c", "from analysis import warmkernel as w; "
                              "print(*w.stop_all())"], cwd=cwd, env=env, capture_output=True, text=True)
        cpu += sum(float(x) for x in (out.stdout.split() or [0]))
    failed = f"  FAILED (exit {p.returncode})" if p.returncode != 0 else ""
    print(f"  {label:<44} {wall:7.1f} s wall  {cpu:7.1f} s CPU{failed}", flush=True)
    if failed:
        sys.stdout.write("".join((p.stdout + p.stderr).splitlines(keepends=True)[-30:]))
    return {"wall": wall, "cpu": cpu, "out": p.stdout + p.stderr, "ok": not failed}


def edit_code_cell(path: Path) -> None:
    """Append a comment line to the last code cell (changes the code, not the results)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
    src = cell["source"] if isinstance(cell["source"], list) else [cell["source"]]
    if src and not src[-1].endswith("\n"):
        src[-1] += "\n"
    cell["source"] = [*src, "# edited by make bench\n"]
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> int:
    which = os.environ.get("BENCH_NOTEBOOK", "01_unit_economics")
    stems = discover(ROOT / "notebooks")
    load0 = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=ROOT / ".cache" / "tmp"))
    try:
        repo = copy_checkout(work / "repo")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS", "CRWV_"))}
        env["CRWV_SCRATCH_DIR"] = str(work / "scratch")
        env["CRWV_COMMIT"] = "bench"  # the copy is inside this git checkout: edits here must not count
        print(f"bench in {repo} ({os.cpu_count()} cores, load average {load0[0]:.2f} {load0[1]:.2f})", flush=True)
        cold = timed(["make", "report"], repo, env, "cold make report (environment present)")
        naive = {}
        nb_env = {**env, "MPLCONFIGDIR": str(work / "mpl"), "PYTHONHASHSEED": "0"}
        for stem in stems:
            naive[stem] = timed([str(repo / ".venv" / "bin" / "python"), "-m", "jupyter", "nbconvert", "--execute",
                                 "--to", "html", "--output-dir", str(work / "naive"), f"{stem}.ipynb"],
                                repo / "notebooks", nb_env, f"naive: nbconvert --execute {stem}")
        naive_total = sum(v["wall"] for v in naive.values())
        print(f"  {'naive route, all notebooks':<44} {naive_total:7.1f} s wall", flush=True)
        noop = timed(["make", "report"], repo, env, "no-op make report")
        edit_code_cell(repo / "notebooks" / f"{which}.ipynb")
        edit = timed(["make", "report"], repo, env, f"make report after editing {which}")
        test = timed(["make", "test"], repo, env, "make test")
        load1 = os.getloadavg()
        own = naive[which]["wall"]
        rows = [
            ("cold make report", f"{cold['wall']:.1f} s", f"<= {TARGETS['cold_s']:.0f} s", cold["wall"] <= TARGETS["cold_s"]),
            ("cold / naive route", f"{cold['wall'] / naive_total:.2f}x ({naive_total:.1f} s naive)",
             f"<= {TARGETS['cold_ratio']}x", cold["wall"] / naive_total <= TARGETS["cold_ratio"]),
            ("no-op make report", f"{noop['wall']:.2f} s", f"< {TARGETS['noop_s']:.0f} s", noop["wall"] < TARGETS["noop_s"]),
            (f"one notebook edited ({which})", f"{edit['wall']:.1f} s (its own run: {own:.1f} s)",
             f"<= own + {TARGETS['edit_over_own_s']:.0f} s", edit["wall"] <= own + TARGETS["edit_over_own_s"]),
            ("make test", f"{test['wall']:.1f} s{'' if test['ok'] else ' (tests FAILED)'}", f"< {TARGETS['test_s']:.0f} s",
             test["ok"] and test["wall"] < TARGETS["test_s"]),
        ]
        naive_cpu = sum(v["cpu"] for v in naive.values())
        print(f"\nload average {load0[0]:.2f} at start, {load1[0]:.2f} at end (1 min); {os.cpu_count()} cores")
        print(f"CPU seconds: cold build {cold['cpu']:.1f}, naive route {naive_cpu:.1f} "
              f"(ratio {cold['cpu'] / naive_cpu:.2f}); on a busy machine read the CPU with the wall times")
        for name, value, target, ok in rows:
            print(f"  {name:<34} {value:<36} target {target:<16} {'met' if ok else 'MISSED'}")
        return 0 if all(r["ok"] for r in (cold, noop, edit, test)) else 1  # a missed target is reported, not an error
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
