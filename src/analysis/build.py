"""Build driver: plan, execute notebooks (papermill, cached by content key), render the note.

    python -m analysis.build plan     --params params/default.yaml --build reports/build
    python -m analysis.build execute  notebooks/00_overview.ipynb --params params/default.yaml --build reports/build
    python -m analysis.build note     --params params/default.yaml --out reports
    python -m analysis.build strip    notebooks/*.ipynb
    python -m analysis.build kernel   (install the project's Jupyter kernel into the environment)

`plan` (see `analysis.plan`) validates the parameter file and the data and writes one content
key per notebook. `execute` runs a notebook once per key: the executed notebook and its results
are kept in `.cache/executed/<key>/` and shared by every variant and later build with the same
inputs; the build's copy (`<build>/executed/<stem>.ipynb`, `<build>/results/<stem>.json`) takes
the narrative from the source notebook, so a markdown edit costs no execution. `note` renders
`crwv-note.html` and `.pdf` and refuses results whose parameters differ from the parameter file.

Errors are one line (file, line, key or cell, cause), never a traceback; printed times are wall
times since make started the process (`CRWV_T0`), interpreter start included.
"""

from __future__ import annotations

import sys


def _quiet_interrupt(kind, value, tb):
    """Ctrl-C at any point (even while modules load) ends with one line, not a traceback."""
    if issubclass(kind, KeyboardInterrupt):
        print(f"interrupted ({value or 'SIGINT'}): nothing half-written was kept", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, tb)


if __name__ == "__main__":
    sys.excepthook = _quiet_interrupt

import argparse
import contextlib
import errno
import json
import os
import re
import shutil
import signal
import socket
import time
from importlib import metadata
from pathlib import Path

from . import nbsource, paths, warmkernel
from . import params as P
from . import plan as PL
from .atomic import write_bytes as atomic_write_bytes
from .atomic import write_if_changed
from .atomic import write_text as atomic_write_text
from .errors import DataValidationError, display_path

CORE_PACKAGES = ("pandas", "numpy", "scipy", "matplotlib", "statsmodels", "papermill", "nbconvert",
                 "nbformat", "jupyterlab", "ipykernel", "typst", "pypandoc-binary", "pyyaml")
#: seconds a kernel may take to start before the build gives up (papermill's default)
KERNEL_START_TIMEOUT = 60
#: executed-notebook cache entries kept (least recently used beyond this are pruned)
CACHE_ENTRIES_KEPT = 200


class BuildError(Exception):
    """A build failure with its one-line explanation (printed as `error: ...`, exit status 2)."""


# ----------------------------------------------------------------------------- parameters

def load_params(params_file) -> dict:
    """Read and validate a parameter file (`analysis.params.load`); {'name', 'file', 'common', 'notebooks', ...}."""
    return P.load(params_file)


def notebook_params(params: dict, notebook: Path) -> dict:
    """Parameters to inject into `notebook`: declared common keys + its own section."""
    notebook = Path(notebook)
    return P.notebook_params(params, notebook.stem, nbsource.declared_parameters(nbsource.read(notebook)))


def data_date(as_of) -> str:
    """The build's date: the as-of date, or for 'latest' the last date found in the data."""
    from .data import as_of_date, load_fundamentals, load_prices

    cutoff = as_of_date(as_of)
    if cutoff is not None:
        return cutoff.date().isoformat()
    last = max(load_prices()["date"].max(), load_fundamentals()["published"].max())
    return last.date().isoformat()


# ----------------------------------------------------------------------------- helpers

def _wall() -> float:
    """Seconds since make started this process (`CRWV_T0`, ns since the epoch), else since import."""
    t0 = os.environ.get("CRWV_T0", "")
    return (time.time_ns() - int(t0)) / 1e9 if t0.isdigit() else time.monotonic() - _T_IMPORT


_T_IMPORT = time.monotonic()


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock (flock) on `path` for the duration: concurrent builds wait, not clash."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def check_loopback() -> None:
    """Kernels talk to the build over 127.0.0.1; without loopback a kernel start hangs for a
    minute. Fail at once with the cause instead."""
    try:
        with socket.socket() as srv:
            srv.bind(("127.0.0.1", 0))
            srv.listen(1)
            socket.create_connection(srv.getsockname(), timeout=2).close()
    except OSError as exc:
        raise BuildError(f"cannot start a Jupyter kernel: the loopback interface 127.0.0.1 does not answer "
                         f"({exc.strerror or exc}); kernels talk to the build over it (bring it up: "
                         "`ip link set lo up`)") from None


def _stamp(build_dir: Path, stem: str) -> dict:
    stamp = PL.read_stamp(Path(build_dir) / "keys" / f"{stem}.key")
    if stamp is None:
        raise BuildError(f"{display_path(Path(build_dir) / 'keys' / (stem + '.key'))} is missing: "
                         "run `make report` (it plans the build first)")
    return stamp


def _clean_executed(nb: dict) -> dict:
    """Drop run timestamps papermill/nbclient store, so executed notebooks are reproducible."""
    pm = nb.get("metadata", {}).get("papermill", {})
    for k in ("start_time", "end_time", "duration", "input_path", "output_path"):
        pm.pop(k, None)
    for cell in nb.get("cells", []):
        md = cell.get("metadata", {})
        if nbsource.INJECTED_TAG in md.get("tags", []):
            cell["id"] = nbsource.INJECTED_TAG  # papermill gives it a random id
        md.pop("execution", None)
        cpm = md.get("papermill", {})
        for k in ("start_time", "end_time", "duration"):
            cpm.pop(k, None)
    return nb


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failure(exc, tmp: Path, src: dict, notebook: Path, failed: Path) -> BuildError:
    """One error naming the source notebook's cell (papermill's injected cell not counted)."""
    try:
        ran = json.loads(tmp.read_text(encoding="utf-8"))
        number, cid = nbsource.failing_cell(ran, src)
    except (OSError, ValueError):
        number, cid = None, None
    where = f"{notebook.as_posix()}, cell {number}" if number else f"{notebook.as_posix()}"
    if cid:
        where += f" (id {cid})"
    tb = _ANSI.sub("", "\n".join(exc.traceback or []))
    m = re.search(r"Cell In\[\d+\], line (\d+)", tb)
    if m:
        where += f", line {m.group(1)}"
    evalue = str(exc.evalue).strip().splitlines()
    last = evalue[-1] if evalue else ""
    kept = f"\n  partly executed copy kept for debugging: {display_path(failed)}"
    if exc.ename == "DataValidationError":
        return BuildError(f"{last}\n  raised in {where}{kept}")
    return BuildError(f"{where}: {exc.ename}: {last}{kept}")


def _reads(log: Path) -> list[str]:
    try:
        return [ln for ln in log.read_text(encoding="utf-8").splitlines() if ln]
    except OSError:
        return []


def _check_reads(reads: list[str], inputs: dict, notebook: Path) -> None:
    """Every data file the kernel opened must be among the files its key covers, and every
    folder it listed among the folders whose file names its key covers."""
    covered, listed = set(inputs["data"]), set(inputs.get("listings", {}))
    present = set(PL.data_identity())
    missing = sorted({f"data/{r}" for r in reads if not r.endswith("/") and r in present and r not in covered}
                     | {f"data/{r} (its list of files)" for r in reads if r.endswith("/") and r.rstrip("/") not in listed})
    if missing:
        shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
        raise BuildError(f"{notebook.as_posix()} read {shown}, which its content key does not cover: a notebook "
                         "reads data only through the loaders of analysis.data (analysis.deps maps each loader "
                         "to its files), so that it re-runs when its data change")


# ----------------------------------------------------------------------------- execute

def execute(notebook, params_file, build_dir) -> Path:
    """Materialise `<build>/executed/<stem>.ipynb` and `<build>/results/<stem>.json` for the key
    the plan wrote: from the cache if this key ran before, else by executing the notebook."""
    notebook, build_dir = Path(notebook), Path(build_dir)
    stem = notebook.stem
    stamp = _stamp(build_dir, stem)
    src = nbsource.read(notebook)
    path = f"notebooks/{stem}.ipynb"
    code = [[cid, is_param, PL.sha256(s)] for cid, is_param, s in nbsource.execution_cells(src, path)]
    if code != stamp["inputs"]["code"] or PL.sha256(PL.canonical(nbsource.layout(src, path))) != stamp["layout"]:
        raise BuildError(f"{notebook.as_posix()} changed after the build was planned: run make again")
    key = stamp["key"]
    entry = paths.executed_cache_dir() / key
    done = entry / f"{stem}.ipynb"
    ran = False
    if not done.is_file():
        with _locked(paths.executed_cache_dir() / f".{key}.lock"):
            if not done.is_file():
                _run(notebook, src, stamp, entry, build_dir)
                ran = True
    executed = json.loads(done.read_text(encoding="utf-8"))
    out = build_dir / "executed" / f"{stem}.ipynb"
    PL.built_key_file(out).unlink(missing_ok=True)  # written again once both files are in place
    atomic_write_text(out, nbsource.dumps(nbsource.note_copy(executed, src, path)))
    atomic_write_bytes(build_dir / "results" / f"{stem}.json", (entry / "results" / f"{stem}.json").read_bytes())
    atomic_write_text(PL.built_key_file(out), stamp["copy"])
    (build_dir / "failed" / f"{stem}.ipynb").unlink(missing_ok=True)
    os.utime(entry)  # recently used: kept by the pruning
    how = "executed" if ran else "outputs reused (same code, parameters, library and data ran before)"
    print(f"[{stem}] {how}: {_wall():.1f} s wall -> {display_path(out)}", flush=True)
    if ran:
        _prune_cache()
    return out


def _run(notebook: Path, src: dict, stamp: dict, entry: Path, build_dir: Path) -> None:
    import papermill as pm
    from jupyter_client.kernelspec import NoSuchKernel
    from papermill.exceptions import PapermillExecutionError

    stem = notebook.stem
    check_loopback()
    entry.mkdir(parents=True, exist_ok=True)
    results = entry / "results"
    shutil.rmtree(results, ignore_errors=True)
    log = entry / "reads.log"
    log.unlink(missing_ok=True)
    inject = dict(stamp["inputs"]["parameters"])
    # relative to the notebook's folder (papermill runs it there): the executed copy names no machine path
    inject["results_dir"] = os.path.relpath(results.resolve(), notebook.parent.resolve())
    os.environ["SOURCE_DATE_EPOCH"] = stamp["inputs"]["epoch"]
    os.environ["CRWV_READ_LOG"] = str(log)
    tmp = entry / f".{stem}.running.ipynb"
    failed = build_dir / "failed" / notebook.name
    warm = {"kernel_manager_class": warmkernel.kernel_manager_class()} if warmkernel.enabled() else {}
    try:
        pm.execute_notebook(str(notebook), str(tmp), parameters=inject, cwd=str(notebook.parent), **warm,
                            kernel_name=nbsource.KERNEL_NAME, progress_bar=False, log_output=False,
                            request_save_on_cell_execute=False,  # one write at the end, not one per cell
                            start_timeout=KERNEL_START_TIMEOUT,
                            # the kernel's start-up chatter (TCP transport notice) is not build output;
                            # analysis.readlog records the data files the kernel reads
                            extra_arguments=["--IPKernelApp.log_level=CRITICAL",
                                             "--IPKernelApp.exec_lines=import analysis.readlog"])
    except PapermillExecutionError as exc:
        failed.parent.mkdir(parents=True, exist_ok=True)
        err = _failure(exc, tmp, src, notebook, failed)
        shutil.move(str(tmp), failed)
        raise err from None
    except NoSuchKernel:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"the Jupyter kernel '{nbsource.KERNEL_NAME}' is not installed in .venv: run `make env`") from None
    except (RuntimeError, TimeoutError) as exc:
        tmp.unlink(missing_ok=True)
        if "didn't respond" in str(exc) or isinstance(exc, TimeoutError):
            raise BuildError(f"{notebook.as_posix()}: the kernel '{nbsource.KERNEL_NAME}' did not start within "
                             f"{KERNEL_START_TIMEOUT} s ({exc})") from None
        raise
    except OSError as exc:  # papermill writes the executed copy itself: name it in the one-line error
        tmp.unlink(missing_ok=True)
        if exc.filename:
            raise
        raise OSError(exc.errno, exc.strerror, str(tmp)) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:
        if not (results / f"{stem}.json").is_file():
            raise BuildError(f"{notebook.as_posix()} wrote no results: its last cell should call "
                             f"sec.write(results_dir) (results/{stem}.json)")
        reads = _reads(log)
        if not log.is_file():
            raise BuildError(f"{notebook.as_posix()}: the kernel did not record its data reads (analysis.readlog "
                             "was not loaded), so the build cannot check that its content key covers its data")
        _check_reads(reads, stamp["inputs"], notebook)
        nb = _clean_executed(json.loads(tmp.read_text(encoding="utf-8")))
        tmp.write_text(nbsource.dumps(nb), encoding="utf-8")
        os.replace(tmp, entry / f"{stem}.ipynb")
    finally:
        tmp.unlink(missing_ok=True)


def _prune_cache(keep: int = CACHE_ENTRIES_KEPT) -> None:
    root = paths.executed_cache_dir()
    entries = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    for p in entries[keep:]:
        shutil.rmtree(p, ignore_errors=True)
        (root / f".{p.name}.lock").unlink(missing_ok=True)


# ----------------------------------------------------------------------------- note

def _checksums() -> list[tuple[str, str]]:
    manifest = paths.data_dir() / "MANIFEST.sha256"
    if not manifest.exists():
        return []
    rows = []
    for line in manifest.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            rows.append((name.lstrip("*"), digest))
    return rows


def build_meta(params: dict, date: str | None = None, commit: str | None = None) -> dict:
    """Everything the note says about how it was built; nothing from the clock."""
    as_of = params["common"].get("as_of")
    versions = {}
    for pkg in CORE_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    versions["python"] = sys.version.split()[0]
    date = date or data_date(as_of)
    return {"as_of": date, "point_in_time": as_of not in (None, "latest"), "build_date": date,
            "commit": commit or PL.commit(), "versions": versions, "checksums": _checksums(),
            "params": {**params["common"], "notebooks": params["notebooks"]}, "variant": params["name"]}


def _jsonish(v):
    return json.loads(json.dumps(v))


def check_results(build_dir: Path, params: dict, stems) -> None:
    """Refuse results whose recorded parameters differ from what the parameter file gives."""
    for stem in stems:
        res_file = Path(build_dir) / "results" / f"{stem}.json"
        if not res_file.is_file():
            continue
        res = json.loads(res_file.read_text(encoding="utf-8"))
        expected = _jsonish(_stamp(build_dir, stem)["inputs"]["parameters"])
        recorded = res.get("params") or {}
        for k, v in expected.items():
            if k in recorded and _jsonish(recorded[k]) != v:
                raise DataValidationError(
                    display_path(res_file), None, f"params.{k}", recorded[k],
                    f"{v!r} as in {params['file']}: these results were written outside the build "
                    "(a hand run?); `make report` restores them")


def note(params_file, out_dir) -> None:
    """Render the note from `<out_dir>/build/` into `<out_dir>/crwv-note.{html,pdf}`."""
    out_dir = Path(out_dir)
    build = out_dir / "build"
    nk = _stamp(build, PL.NOTE_KEY)
    params = P.load(params_file)
    os.environ["SOURCE_DATE_EPOCH"] = nk["epoch"]
    from .report.note import render_note
    from .report.sections import present_sections

    check_results(build, params, [s for s, _ in present_sections(build)])
    with _locked(build / ".render.lock"):
        for name in PL.NOTE_FILES:  # written again once the note is in place
            PL.built_key_file(out_dir / name).unlink(missing_ok=True)
        html, pdf = render_note(build, out_dir, params, build_meta(params, nk["build_date"], nk["commit"]))
        for p in (html, pdf):
            atomic_write_text(PL.built_key_file(p), nk["key"])
    t0 = os.environ.get("CRWV_MAKE_T0", "")
    total = f"; {(time.time_ns() - int(t0)) / 1e9:.1f} s since make started" if t0.isdigit() else ""
    print(f"[note] rendered: {_wall():.1f} s wall{total} -> {display_path(html)}, {display_path(pdf)}", flush=True)


# ----------------------------------------------------------------------------- notebooks and kernel

def strip(notebooks) -> int:
    """Strip outputs and run metadata; only notebooks that change are rewritten."""
    changed = [p for p in notebooks if nbsource.strip_file(p)]
    for p in changed:
        print(f"[strip] {display_path(p)}: outputs and run metadata removed")
    print(f"[strip] {len(changed)} of {len(notebooks)} notebooks changed", flush=True)
    return len(changed)


def install_kernel(prefix=None) -> Path:
    """Install the project's kernelspec into `<prefix>/share/jupyter/kernels/crwv-note`.

    Its command is `python -m ipykernel_launcher`: Jupyter runs it with its own interpreter, so
    the kernel is always this checkout's .venv (no absolute path: a moved checkout keeps working)."""
    prefix = Path(prefix or sys.prefix)
    spec = {"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": nbsource.KERNEL_DISPLAY_NAME, "language": "python",
            "metadata": {"debugger": True}, "env": {"PYTHONHASHSEED": "0", "TZ": "UTC"}}
    target = prefix / "share" / "jupyter" / "kernels" / nbsource.KERNEL_NAME / "kernel.json"
    write_if_changed(target, json.dumps(spec, indent=1, sort_keys=True) + "\n")
    return target


# ----------------------------------------------------------------------------- command line

def _io_error(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    hint = {errno.ENOSPC: "the disk is full", errno.EFBIG: "the file-size limit (ulimit -f) is reached",
            errno.EDQUOT: "the disk quota is exhausted", errno.EACCES: "permission denied",
            errno.EROFS: "the file system is read-only"}.get(exc.errno)
    file = display_path(exc.filename) if exc.filename else "a file"
    return f"cannot write or read {file}: {exc.strerror or exc}{f' ({name}: {hint})' if hint else f' ({name})' if name else ''}"


def _interrupt(signum, _frame):
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analysis.build", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    pl = sub.add_parser("plan", help="validate parameters and data; write the content keys")
    pl.add_argument("--params", required=True)
    pl.add_argument("--build", required=True)
    pl.add_argument("--dry-run", action="store_true", help="remove nothing (make -n)")
    pl.add_argument("--quiet", action="store_true")
    ex = sub.add_parser("execute", help="execute one notebook with papermill (or reuse its cached run)")
    ex.add_argument("notebook")
    ex.add_argument("--params", required=True)
    ex.add_argument("--build", required=True)
    nt = sub.add_parser("note", help="render the note (HTML + PDF)")
    nt.add_argument("--params", required=True)
    nt.add_argument("--out", required=True)
    st = sub.add_parser("strip", help="remove outputs and run metadata from notebooks")
    st.add_argument("notebooks", nargs="*")
    sub.add_parser("kernel", help="install the project's Jupyter kernel into this environment")
    a = ap.parse_args(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)  # clean up temp files as on Ctrl-C
    try:
        if a.cmd == "plan":
            PL.make_plan(a.params, a.build, dry_run=a.dry_run, quiet=a.quiet)
        elif a.cmd == "execute":
            execute(a.notebook, a.params, a.build)
        elif a.cmd == "note":
            note(a.params, a.out)
        elif a.cmd == "strip":
            strip([Path(p) for p in a.notebooks])
        else:
            print(f"[env] Jupyter kernel '{nbsource.KERNEL_NAME}' -> {display_path(install_kernel())}")
    except PL.PlanError as exc:
        for m in exc.messages:
            print(f"error: {m}", file=sys.stderr)
        return 2
    except (DataValidationError, BuildError, nbsource.NotebookError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {_io_error(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"interrupted ({exc or 'SIGINT'}): nothing half-written was kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    status = main()
    # every output is written, closed and renamed by now: skip the interpreter's teardown of a
    # large heap (about 0.2 s after a render, on the build's critical path), unless a profiler or
    # debugger runs this (they report at exit)
    if sys.getprofile() is None and sys.gettrace() is None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
