"""The build plan: content keys for every notebook and for the note, in one fast process.

`make report` runs `python -m analysis.build plan` first (as the rule that remakes the included
`<build>/plan.mk`); it checks the parameter file and the data, then writes one stamp file per
notebook, `<build>/keys/<stem>.key`, and `<build>/keys/note.key`. A stamp is rewritten only
when its key changes, so make re-runs exactly what changed whatever the file times say.

A notebook's execution key covers:
- its code cells (id, source, parameters tag): a markdown edit does not change it;
- the parameters it receives (the common keys it declares + its own section);
- the `analysis` modules it imports, transitively (`analysis.deps`);
- the data files read by the loaders it calls (`analysis.deps`), with their checksums, so a
  changed, deleted or added file re-runs exactly the notebooks that read it;
- the environment (uv.lock, Python version, kernel) and the build date (SOURCE_DATE_EPOCH).
Its copy key adds the narrative (markdown cells, tags, order): the note's copy of an executed
notebook is rebuilt from the cached outputs when only the narrative changed.

The note's key covers every section's copy key, the report layer, the parameter file, the data
set (its checksums), the commit and the build date.

Before any key is written: the parameter file is validated (`analysis.params`) against every
notebook's parameters cell and the data's date range, and the data are checked against
`data/MANIFEST.sha256` and, once per data set (cached by content), by every validator.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import deps, nbsource, paths, warmkernel
from . import params as P
from .atomic import write_if_changed
from .errors import DataValidationError, display_path
from .report.sections import EXCLUDED, discover

#: bump when the way a notebook is executed or its executed copy is cleaned changes
EXECUTION_FORMAT = 1
NOTE_KEY = "note"
NOTE_FILES = ("crwv-note.html", "crwv-note.pdf")
PLAN_CACHE = "plan"
#: the company whose first price bounds `as_of` from below
COMPANY_TICKER = "CRWV"
class PlanError(Exception):
    """Problems found before anything runs; each message is one line (file, line, key, ...)."""

    def __init__(self, messages: list[str]):
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


def sha256(data) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# ----------------------------------------------------------------------------- data

def data_identity(data_dir: Path | None = None) -> dict[str, str]:
    """{path relative to data/: sha256} of every data file as it is now (manifest excluded)."""
    from .data.manifest import data_files, sha256_file

    root = Path(data_dir) if data_dir is not None else paths.data_dir()
    return {rel: sha256_file(root / rel) for rel in data_files(root)}


def check_manifest(actual: dict[str, str], data_dir: Path | None = None) -> None:
    """Raw data are immutable: every file must match data/MANIFEST.sha256 (reported with the
    loader's file/line/column error when a changed file no longer validates)."""
    from .data import manifest

    root = Path(data_dir) if data_dir is not None else paths.data_dir()
    try:
        recorded = manifest.read(root)
    except DataValidationError as exc:
        raise PlanError([str(exc)]) from None
    if recorded != actual:
        raise PlanError(manifest.verify(root) or [f"{display_path(root)}: data differ from {manifest.MANIFEST_NAME}"])


@dataclass(frozen=True)
class DataFacts:
    """What the plan needs to know about one data set (cached by its content)."""

    data_range: P.DataRange
    loaders: dict[str, list[str]]  # loader function -> data files it reads


def data_facts(identity: dict[str, str], lib: deps.Library, data_dir: Path | None = None) -> DataFacts:
    """Validate the data set once and record its date range and loader -> files map.

    Cached in `.cache/plan/data-<digest>.json` by the data's checksums and the data package's
    source, so this costs a pandas import only when the data or its loaders change."""
    root = Path(data_dir) if data_dir is not None else paths.data_dir()
    data_src = {m: h for m, h in lib.hashes.items() if m == deps.DATA_PACKAGE or m.startswith(deps.DATA_PACKAGE + ".")}
    digest = sha256(canonical({"data": identity, "code": data_src, "format": EXECUTION_FORMAT}))
    cache = paths.cache_dir() / PLAN_CACHE / f"data-{digest[:32]}.json"
    try:
        d = json.loads(cache.read_text(encoding="utf-8"))
        return DataFacts(P.DataRange(**d["range"]), d["loaders"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    facts = _compute_facts(sorted(identity), root)
    write_if_changed(cache, json.dumps({"range": facts.data_range.__dict__, "loaders": facts.loaders}, indent=1))
    return facts


def _compute_facts(files: list[str], root: Path) -> DataFacts:
    from . import data as D

    errors = D.validate_all(root)
    if errors:
        raise PlanError([str(e) for e in errors])
    prices = D.load_prices(data_dir=root)
    company = prices[prices["ticker"] == COMPANY_TICKER]
    if company.empty:
        raise PlanError([f"{display_path(root / 'prices' / (COMPANY_TICKER + '.csv'))}: no {COMPANY_TICKER} prices; "
                         "expected the company's price history"])
    first = company["date"].min().date().isoformat()
    last = prices["date"].max()
    last_file = prices.loc[prices["date"] == last, "ticker"].iloc[0]
    snapshot = f"the last price in the data (data/prices/{last_file}.csv)"
    rng = P.DataRange(first, f"the first {COMPANY_TICKER} price (data/prices/{COMPANY_TICKER}.csv)",
                      last.date().isoformat(), snapshot)
    return DataFacts(rng, deps.loader_files(files))


# ----------------------------------------------------------------------------- keys

def epoch_of(iso_date: str) -> str:
    return str(int(dt.datetime.fromisoformat(iso_date).replace(tzinfo=dt.UTC).timestamp()))


def build_date(params: dict, facts: DataFacts) -> str:
    """The note's date: the as-of date, or for 'latest' the last date in the data."""
    as_of = params["common"].get("as_of", P.LATEST)
    return facts.data_range.last if as_of in (None, P.LATEST) else as_of


def environment() -> dict:
    lock = paths.ROOT / "uv.lock"
    return {"uv.lock": sha256(lock.read_bytes()) if lock.is_file() else None,
            "python": platform.python_version(), "kernel": nbsource.KERNEL_NAME}


def commit() -> str:
    """Short commit of the checkout, '-dirty' if tracked files changed; `$CRWV_COMMIT` if set
    (a build outside git: a release archive, a test's copy of a checkout), else 'unknown'."""
    if os.environ.get("CRWV_COMMIT"):
        return os.environ["CRWV_COMMIT"]
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=paths.ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def notebook_key(stem: str, nb: dict, inject: dict, lib: deps.Library, facts: DataFacts,
                 identity: dict[str, str], env: dict, epoch: str, scans: deps.ScanCache | None = None) -> dict:
    """The stamp of one notebook: execution key, copy key and the inputs they hash."""
    path = f"notebooks/{stem}.ipynb"
    code = deps.code_info(nbsource.code_sources(nb), scans)
    modules = lib.closure(code.imports)
    data = deps.data_for(deps.loader_names(code, lib, modules), facts.loaders)
    inputs = {
        "format": EXECUTION_FORMAT, "notebook": stem, "environment": env, "epoch": epoch,
        "code": [[cid, is_param, sha256(src)] for cid, is_param, src in nbsource.execution_cells(nb, path)],
        "parameters": inject,
        "library": {lib.rel(m): lib.hashes[m] for m in sorted(modules)},
        "data": {rel: identity[rel] for rel in data},
        # the names in each data folder it reads from: an added or deleted file there re-runs it
        "listings": {d: sorted(r for r in identity if _folder(r) == d) for d in sorted({_folder(r) for r in data})},
    }
    key = sha256(canonical(inputs))
    layout = sha256(canonical(nbsource.layout(nb, path)))
    return {"key": key, "copy": sha256(key + layout), "layout": layout, "inputs": inputs}


def with_history(stamp: dict, own_sections: dict[str, str]) -> dict:
    """The stamp of a notebook that compares the notes of `make history` (a `history` parameter:
    the dates it reads, reports/history/<date>/build/results/): its key also covers those results
    files, by content, and the keys of its own note's other sections, whose results it reads."""
    from .whatchanged import results_identity

    inputs = dict(stamp["inputs"], history=results_identity(stamp["inputs"]["parameters"]["history"]),
                  sections=dict(sorted(own_sections.items())))
    key = sha256(canonical(inputs))
    return {**stamp, "key": key, "copy": sha256(key + stamp["layout"]), "inputs": inputs}


def _folder(rel: str) -> str:
    return rel.rpartition("/")[0]


def note_key(sections: dict[str, dict], lib: deps.Library, params_path: Path, identity: dict[str, str],
             date: str) -> dict:
    modules = lib.closure(["analysis.build", "analysis.report.note"])
    report = paths.library_dir() / "report"
    assets = {p.relative_to(paths.ROOT).as_posix(): sha256(p.read_bytes())
              for p in sorted(report.rglob("*")) if p.is_file() and p.suffix not in (".py", ".pyc")}
    inputs = {"format": EXECUTION_FORMAT, "sections": {s: k["copy"] for s, k in sections.items()},
              "library": {lib.rel(m): lib.hashes[m] for m in sorted(modules)}, "assets": assets,
              "params": sha256(params_path.read_bytes()), "data": sha256(canonical(identity)),
              "commit": commit(), "date": date}
    return {"key": sha256(canonical(inputs)), "inputs": inputs}


def explain(old: dict | None, new: dict) -> str:
    """Why a notebook's stamp changed, in a few words."""
    if old is None or "inputs" not in old:
        return "first run"
    if old.get("key") == new["key"]:
        return "narrative changed: outputs reused" if old.get("copy") != new.get("copy") else ""
    a, b = old["inputs"], new["inputs"]
    why = []
    if a.get("parameters") != b["parameters"]:
        pa, pb = a.get("parameters") or {}, b["parameters"]
        why.append("parameters: " + ", ".join(sorted(k for k in {*pa, *pb} if pa.get(k) != pb.get(k))))
    if a.get("code") != b["code"]:
        why.append("code")
    for part, label in (("library", "library"), ("data", "data"), ("listings", "files in data folder")):
        da, db = a.get(part) or {}, b[part]
        changed = sorted(k for k in {*da, *db} if da.get(k) != db.get(k))
        if changed:
            if part == "listings":
                changed = [f"data/{c}" for c in changed]
            shown = ", ".join(c.removeprefix("src/") for c in changed[:3]) + (f" +{len(changed) - 3}" if len(changed) > 3 else "")
            why.append(f"{label}: {shown}")
    for part, label in (("history", "notes compared"), ("sections", "sections of this note")):
        if a.get(part) != b.get(part):
            why.append(label)
    for part in ("environment", "epoch", "format"):
        if a.get(part) != b[part]:
            why.append(part)
    return "; ".join(why) or "inputs changed"


def read_stamp(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ----------------------------------------------------------------------------- the plan

def make_plan(params_arg, build_dir, dry_run: bool = False, quiet: bool = False, out=print) -> dict:
    """Validate everything, write the stamps and `<build>/plan.mk`; returns {stem: reason} of
    the stamps that changed."""
    t0 = time.monotonic()
    build_dir = Path(build_dir)
    if not dry_run and not (build_dir / "executed").is_dir():
        warmkernel.prestart()  # a first build runs every notebook: warm the kernels' server while planning
    params_path = P.check_path(params_arg)
    nb_dir = paths.notebooks_dir()
    stems = discover(nb_dir)
    sources = {s: nbsource.read(nb_dir / f"{s}.ipynb") for s in stems}
    declared = {}
    for s, nb in sources.items():
        try:
            declared[s] = nbsource.declared_parameters(nb)
        except nbsource.NotebookError as exc:
            raise nbsource.NotebookError(f"notebooks/{s}.ipynb, {exc}") from None
    scans = deps.ScanCache(paths.cache_dir() / PLAN_CACHE / "scans.json")
    lib = deps.Library(cache=scans)
    identity = data_identity()
    check_manifest(identity)
    facts = data_facts(identity, lib)
    params = P.load(params_path, declared, facts.data_range)
    date = build_date(params, facts)
    epoch, env = epoch_of(date), environment()
    keys_dir = build_dir / "keys"
    changed: dict[str, str] = {}
    stamps = {}
    for stem in stems:
        inject = P.notebook_params(params, stem, declared[stem])
        stamp = notebook_key(stem, sources[stem], inject, lib, facts, identity, env, epoch, scans)
        stamp["build_date"] = date
        stamps[stem] = stamp
    for stem, stamp in stamps.items():  # a note that compares other notes (make history)
        if stamp["inputs"]["parameters"].get("history"):
            stamps[stem] = with_history(stamp, {s: k["key"] for s, k in stamps.items() if s != stem})
    for stem, stamp in stamps.items():
        path = keys_dir / f"{stem}.key"
        old = read_stamp(path)
        if write_if_changed(path, json.dumps(stamp, indent=1, sort_keys=True) + "\n"):
            changed[stem] = explain(old, stamp)
            _keep_if_built(build_dir / "executed" / f"{stem}.ipynb", stamp["copy"])
    nk = note_key(stamps, lib, params_path, identity, date)
    nk.update(build_date=date, epoch=epoch, commit=nk["inputs"]["commit"])
    if write_if_changed(keys_dir / f"{NOTE_KEY}.key", json.dumps(nk, indent=1, sort_keys=True) + "\n"):
        changed[NOTE_KEY] = "inputs changed"
        for name in NOTE_FILES:
            _keep_if_built(build_dir.parent / name, nk["key"])
    scans.save()
    deps.compile_library(lib)
    write_if_changed(build_dir / "plan.mk", "# written by `python -m analysis.build plan`; do not edit\n"
                     f"SECTIONS := {' '.join(stems)}\n"
                     "# the order make starts them in (run_order: the most code first)\n"
                     f"RUN_ORDER := {' '.join(run_order(sources))}\n")
    if not dry_run and any(not (paths.executed_cache_dir() / s["key"] / f"{stem}.ipynb").is_file()
                           for stem, s in stamps.items()):
        warmkernel.prestart()  # a notebook will run: warm its kernels' server meanwhile
    if not dry_run:
        _remove_stale(build_dir, stems, out if not quiet else (lambda *_: None))
        _restore_overwritten(build_dir, stamps, out if not quiet else (lambda *_: None))
    if not quiet:
        runs = [f"{s} ({why})" for s, why in changed.items() if s != NOTE_KEY and why]
        head = f"[plan] {display_path(params_path)}: {len(stems)} sections"
        if EXCLUDED:
            head += f" ({len(EXCLUDED)} drafts excluded)"
        out(f"{head}; {'changed: ' + '; '.join(runs) if runs else 'no notebook changed'} "
            f"({_wall(t0):.2f} s)")
    return changed


def run_order(sources: dict[str, dict]) -> list[str]:
    """Stems in the order make starts them: the most code (characters in code cells) first, as a
    proxy for run time, so that on a few cores the longest run starts first and the last to end is
    a short one; ties in section order."""
    size = {s: sum(len(src) for _cid, _p, src in nbsource.execution_cells(nb)) for s, nb in sources.items()}
    return sorted(sources, key=lambda s: -size[s])


def built_key_file(target: Path) -> Path:
    """Sidecar recording the key a build output was made from: `<folder>/.<name>.key`."""
    return target.with_name(f".{target.name}.key")


def _keep_if_built(target: Path, key: str) -> None:
    """A stamp changed back to the key its output was built from (an edit undone): mark the
    output newer than the stamp, so make does not redo it."""
    try:
        if built_key_file(target).read_text(encoding="utf-8") == key and target.is_file():
            os.utime(target)
    except OSError:
        pass


def _wall(t0_monotonic: float) -> float:
    """Seconds since the process started (from `CRWV_T0`, set by make before it), else since t0."""
    t0 = os.environ.get("CRWV_T0")
    if t0 and t0.isdigit():
        return (time.time_ns() - int(t0)) / 1e9
    return time.monotonic() - t0_monotonic


def _remove_stale(build_dir: Path, stems, out) -> None:
    """Remove executed copies, results, stamps and failed copies of notebooks that are no longer
    sections (deleted or excluded); they would otherwise show in the note."""
    keep = set(stems)
    for sub, suffix in (("executed", ".ipynb"), ("results", ".json"), ("keys", ".key"), ("failed", ".ipynb")):
        folder = build_dir / sub
        if not folder.is_dir():
            continue
        for p in folder.glob(f"*{suffix}"):
            if p.stem not in keep and not (sub == "keys" and p.stem == NOTE_KEY):
                p.unlink(missing_ok=True)
                out(f"[plan] removed {display_path(p)} (no notebooks/{p.stem}.ipynb section)")


def _restore_overwritten(build_dir: Path, stamps: dict, out) -> None:
    """A results file that differs from the one its executed run wrote (a hand run of an old
    notebook, an edit) is restored: its executed copy is removed so make materialises both again."""
    for stem, stamp in stamps.items():
        res = build_dir / "results" / f"{stem}.json"
        entry = paths.executed_cache_dir() / stamp["key"] / "results" / f"{stem}.json"
        if res.is_file() and entry.is_file() and res.read_bytes() != entry.read_bytes():
            (build_dir / "executed" / f"{stem}.ipynb").unlink(missing_ok=True)
            out(f"[plan] {display_path(res)} was changed outside the build: restoring it")
