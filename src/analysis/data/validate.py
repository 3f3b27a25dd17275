"""Validate raw data files by running the loaders that read them.

Used by the checksum manifest (a changed file is re-validated so a corruption is reported with
file, line, column, value and expectation; `manifest verify` also runs every validator), by
vendoring (nothing invalid is vendored) and by `make check-data`. Paths are relative to the data
folder, with forward slashes (`prices/CRWV.csv`).

The loaders check types, allowed values, keys, cross-file references and the domain: plausible
ranges (`ranges.py`, the one table), dates not after the data's snapshot date
(`load.snapshot_date`). `plausibility_warnings` adds what is only suspicious (a quarter 10x its
neighbours, a one-day price spike): printed, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from ..errors import DataValidationError, display_path
from . import load as L
from . import rules
from . import schema as S
from .manifest import data_files

DOC_SUFFIXES = (".md",)  # documentation: vendored and checksummed, no loader

_TABLES: dict[str, Callable] = {
    "sources.csv": L.load_sources,
    "fundamentals.csv": L.load_fundamentals,
    "customers.csv": L.load_customers,
    "contracts.csv": L.load_contracts,
    "financings.csv": L.load_financings,
    "debt_facilities.csv": L.load_debt_facilities,
    "debt_maturities.csv": L.load_debt_maturities,
    "events.csv": L.load_events,
    "claims.yaml": L.load_claims,
    "prices/dividends.csv": L.load_dividends,
}
_SOURCE_USERS = ("fundamentals.csv", "customers.csv", "contracts.csv", "financings.csv",
                 "debt_facilities.csv", "debt_maturities.csv")
_TICKER_USERS = ("prices/dividends.csv", "claims.yaml")


def _price_ticker(rel: str) -> str | None:
    parts = rel.split("/")
    if len(parts) == 2 and parts[0] == "prices" and parts[1].endswith(".csv") and parts[1] != "dividends.csv":
        ticker = parts[1][: -len(".csv")]
        return ticker if re.fullmatch(S.TICKER, ticker) else None
    return None


def loaders_for(rel: str) -> list[tuple[str, Callable]]:
    """(name, fn(data_dir)) of every loader that reads `rel`, the file's own loader first, then
    the loaders whose cross-file rules depend on it (source ids, tickers). Empty for docs."""
    out: list[tuple[str, Callable]] = []
    ticker = _price_ticker(rel)
    if ticker is not None:
        out.append((f"load_prices({ticker!r})", lambda d, t=ticker: L.load_prices([t], data_dir=d)))
        deps: tuple[str, ...] = _TICKER_USERS
    elif rel in _TABLES:
        out.append((_TABLES[rel].__name__, lambda d, f=_TABLES[rel]: f(data_dir=d)))
        deps = _SOURCE_USERS if rel == "sources.csv" else ()
    else:
        return out
    out += [(_TABLES[d].__name__, lambda dd, f=_TABLES[d]: f(data_dir=dd)) for d in deps]
    return out


def is_covered(rel: str) -> bool:
    """True when a loader reads `rel` (documentation and unknown files are not covered)."""
    return bool(loaders_for(rel))


def snapshot_check(rel: str) -> Callable | None:
    """fn(data_dir) checking that no date of `rel` that says when something became public is after
    the data's snapshot date (`load.snapshot_date`); None for files without such dates. A rule
    over the whole data set: validators run it, the loaders a notebook calls do not."""
    if rel == "claims.yaml":
        return L.check_claims_snapshot
    sch = next((s for s in S.TABLE_SCHEMAS if s.file == rel), None)
    if sch is None or not any(c.by_snapshot for c in sch.columns):
        return None
    return lambda d, sch=sch: L.check_snapshot(sch, d)


def validate_file(rel: str, data_dir=None) -> list[str]:
    """Run every loader that reads `rel`, then its snapshot rule; raise the first
    DataValidationError. Returns the names of the loaders run (empty for a documentation file)."""
    names = []
    for name, fn in loaders_for(rel):
        fn(data_dir)
        names.append(name)
    if (check := snapshot_check(rel)) is not None:
        check(data_dir)
    return names


def validate_all(data_dir=None) -> list[DataValidationError]:
    """Run every loader on `data_dir` (each price file on its own) and collect the errors:
    one per failing loader, duplicates removed. Also reports files no loader covers
    (other than documentation), since they would be vendored unchecked."""
    root = Path(data_dir) if data_dir is not None else L._dir(None)
    errors: list[DataValidationError] = []
    seen: set[str] = set()
    if not root.is_dir():
        return [DataValidationError(str(root), None, None, None, "a data folder")]
    calls = [(n, f) for rel in _TABLES for n, f in loaders_for(rel)[:1]]
    calls += [(n, f) for rel in data_files(root) if _price_ticker(rel) for n, f in loaders_for(rel)[:1]]
    # the snapshot rule needs the whole data set (the last price date), so it runs here, not in the loaders
    calls += [(f"snapshot:{rel}", fn) for rel in [*_TABLES, "claims.yaml"] if (fn := snapshot_check(rel))]
    for _name, fn in calls:
        try:
            fn(root)
        except DataValidationError as exc:
            if str(exc) not in seen:
                seen.add(str(exc))
                errors.append(exc)
    for rel in data_files(root):
        if not is_covered(rel) and not rel.endswith(DOC_SUFFIXES):
            errors.append(DataValidationError(
                display_path(root / rel), None, None, rel,
                "a data file that a loader in analysis.data reads (or documentation *.md)"))
    return errors


def plausibility_warnings(data_dir=None) -> list[rules.DataWarning]:
    """Figures inside their range that jump against their neighbours (`rules.quarter_jumps`,
    `rules.price_spikes`). Files that do not load are skipped: their errors come from
    `validate_all`."""
    root = Path(data_dir) if data_dir is not None else L._dir(None)
    out: list[rules.DataWarning] = []
    try:
        out += rules.quarter_jumps(L._records(S.FUNDAMENTALS, root), display_path(root / S.FUNDAMENTALS.file))
    except DataValidationError:
        pass
    for t in L.price_tickers(root):
        sch = S.prices_schema(t)
        try:
            out += rules.price_spikes(L._records(sch, root), display_path(root / sch.file))
        except DataValidationError:
            pass
    return out


def report(data_dir=None, stream=None) -> int:
    """Run every validator on `data_dir`, print errors and warnings; the number of errors."""
    import sys

    stream = stream or sys.stderr
    root = Path(data_dir) if data_dir is not None else L._dir(None)
    errors = validate_all(root)
    for err in errors:
        print(f"error: {err}", file=stream)
    for w in plausibility_warnings(root):
        print(f"warning: {w} (not an error: check the figure against its source)", file=stream)
    if errors:
        print(f"data validation failed: {len(errors)} problem(s) in {display_path(root)}", file=stream)
    else:
        n = sum(1 for rel in data_files(root) if is_covered(rel))
        print(f"{display_path(root)}: {n} data files valid")
    return len(errors)


def main(argv=None) -> int:
    """`python -m analysis.data.validate [--data-dir DIR]`: run every loader; 0 = all valid."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m analysis.data.validate",
                                 description="Validate every raw data file with its loader.")
    ap.add_argument("--data-dir", default=None, help="data folder (default: data/ of the repo)")
    args = ap.parse_args(argv)
    root = Path(args.data_dir) if args.data_dir else L._dir(None)
    return 1 if report(root, sys.stderr) else 0


if __name__ == "__main__":
    raise SystemExit(main())
