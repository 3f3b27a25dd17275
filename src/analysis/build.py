"""Build driver: execute notebooks for a parameter file with papermill, then render the note.

    python -m analysis.build execute notebooks/00_overview.ipynb --params params/default.yaml --build reports/build
    python -m analysis.build note --params params/default.yaml --out reports

A parameter file holds keys common to every notebook (`as_of`, ...) and a `notebooks:` mapping
of per-notebook parameters. A notebook receives the common keys it declares in its `parameters`
cell plus its own section; a key in its section that the notebook does not declare is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import yaml

from . import paths
from .errors import DataValidationError, display_path

CORE_PACKAGES = ("pandas", "numpy", "scipy", "matplotlib", "statsmodels", "papermill", "nbconvert",
                 "nbformat", "jupyterlab", "ipykernel", "typst", "pypandoc-binary", "pyyaml")


def load_params(params_file) -> dict:
    """Read and check a parameter file; returns {'name', 'common', 'notebooks'}."""
    path = Path(params_file)
    file = display_path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise DataValidationError(file, None, None, None, "a parameter file (see params/)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataValidationError(file, mark.line + 1 if mark else None, None, str(exc).split("\n")[0],
                                  "valid YAML") from None
    if not isinstance(doc, dict):
        raise DataValidationError(file, 1, None, doc, "a mapping of parameters")
    notebooks = doc.pop("notebooks", None) or {}
    if not isinstance(notebooks, dict):
        raise DataValidationError(file, None, "notebooks", notebooks, "a mapping notebook-stem -> parameters")
    return {"name": path.stem, "common": doc, "notebooks": notebooks, "file": file}


def notebook_params(params: dict, notebook: Path) -> dict:
    """Parameters to inject into `notebook`: declared common keys + its own section."""
    import papermill as pm

    declared = set(pm.inspect_notebook(str(notebook)))
    out = {k: v for k, v in params["common"].items() if k in declared}
    own = params["notebooks"].get(notebook.stem) or {}
    for k, v in own.items():
        if k not in declared:
            raise DataValidationError(params["file"], None, f"notebooks.{notebook.stem}.{k}", v,
                                      f"a parameter declared in {notebook}: " + ", ".join(sorted(declared)))
        out[k] = v
    return out


def data_date(as_of) -> str:
    """The build's date: the as-of date, or for 'latest' the last date found in the data."""
    from .data import as_of_date, load_fundamentals, load_prices

    cutoff = as_of_date(as_of)
    if cutoff is not None:
        return cutoff.date().isoformat()
    last = max(load_prices()["date"].max(), load_fundamentals()["published"].max())
    return last.date().isoformat()


def _clean_executed(path: Path) -> None:
    """Drop run timestamps papermill/nbclient store, so executed notebooks are reproducible."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    pm = nb.get("metadata", {}).get("papermill", {})
    for k in ("start_time", "end_time", "duration", "input_path", "output_path"):
        pm.pop(k, None)
    for cell in nb.get("cells", []):
        md = cell.get("metadata", {})
        if "injected-parameters" in md.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        md.pop("execution", None)
        cpm = md.get("papermill", {})
        for k in ("start_time", "end_time", "duration"):
            cpm.pop(k, None)
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def execute(notebook, params_file, build_dir) -> Path:
    """Execute one notebook into `<build_dir>/executed/`; its results go to `<build_dir>/results/`.

    On failure the partly executed copy is kept in `<build_dir>/failed/` and the previous
    executed notebook (if any) is left untouched.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    notebook, build_dir = Path(notebook), Path(build_dir)
    params = load_params(params_file)
    inject = notebook_params(params, notebook)
    # relative to the notebook's folder (papermill runs it there): the executed copy names no machine path
    inject["results_dir"] = os.path.relpath((build_dir / "results").resolve(), notebook.parent.resolve())
    os.environ.setdefault("SOURCE_DATE_EPOCH", _epoch(data_date(params["common"].get("as_of"))))
    out = build_dir / "executed" / notebook.name
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{notebook.stem}.running.ipynb")
    t0 = time.monotonic()
    try:
        pm.execute_notebook(str(notebook), str(tmp), parameters=inject, cwd=str(notebook.parent),
                            kernel_name="python3", progress_bar=False, log_output=False,
                            # the kernel's start-up chatter (TCP transport notice) is not build output
                            extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
    except PapermillExecutionError as exc:
        failed = build_dir / "failed" / notebook.name
        failed.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp), failed)
        evalue = str(exc.evalue).strip().splitlines()
        raise SystemExit(
            f"FAILED {notebook} at cell {exc.cell_index} (execution count {exc.exec_count}): "
            f"{exc.ename}: {evalue[-1] if evalue else ''}\n"
            f"  executed copy kept for debugging: {display_path(failed)}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _clean_executed(tmp)
    os.replace(tmp, out)
    print(f"[{notebook.stem}] executed in {time.monotonic() - t0:.1f} s -> {display_path(out)}", flush=True)
    return out


def _epoch(iso_date: str) -> str:
    import datetime as dt

    return str(int(dt.datetime.fromisoformat(iso_date).replace(tzinfo=dt.UTC).timestamp()))


def _commit() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=paths.ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


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


def build_meta(params: dict) -> dict:
    """Everything the note says about how it was built; nothing from the clock."""
    as_of = params["common"].get("as_of")
    versions = {}
    for pkg in CORE_PACKAGES:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = "not installed"
    versions["python"] = sys.version.split()[0]
    date = data_date(as_of)
    return {"as_of": date, "point_in_time": as_of not in (None, "latest"), "build_date": date,
            "commit": _commit(), "versions": versions, "checksums": _checksums(),
            "params": {**params["common"], "notebooks": params["notebooks"]}, "variant": params["name"]}


def note(params_file, out_dir) -> None:
    """Render the note from `<out_dir>/build/` into `<out_dir>/crwv-note.{html,pdf}`."""
    from .report.note import render_note

    params = load_params(params_file)
    out_dir = Path(out_dir)
    t0 = time.monotonic()
    html, pdf = render_note(out_dir / "build", out_dir, params, build_meta(params))
    print(f"[note] rendered in {time.monotonic() - t0:.1f} s -> {display_path(html)}, {display_path(pdf)}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m analysis.build", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("execute", help="execute one notebook with papermill")
    ex.add_argument("notebook")
    ex.add_argument("--params", required=True)
    ex.add_argument("--build", required=True)
    nt = sub.add_parser("note", help="render the note (HTML + PDF)")
    nt.add_argument("--params", required=True)
    nt.add_argument("--out", required=True)
    dd = sub.add_parser("epoch", help="print SOURCE_DATE_EPOCH for a parameter file")
    dd.add_argument("--params", required=True)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "execute":
            execute(a.notebook, a.params, a.build)
        elif a.cmd == "note":
            note(a.params, a.out)
        else:
            print(_epoch(data_date(load_params(a.params)["common"].get("as_of"))))
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
