"""The results contract: the only module that knows the JSON shape of a results file.

Each notebook writes `reports/build/results/<notebook-stem>.json`:

    {"notebook", "as_of", "params",
     "values": {name: {"value", "unit", "label", "sources": [source ids], "period"}},
     "tables": {name: {"columns", "rows", "units"}},
     "verdicts": {key: {"question", "answer", "headline", "sentence", "evidence", "period"}}}

The note, the tests and later notebooks read numbers from these files, never from notebook text.
Units: "usd_m", "usd", "fraction" (0.038 = 3.8%), "ratio" (x), "years", "days", "date", "count",
"text", "pct_points"; a table's `units` maps column -> unit. A value's `period` (optional) is the
quarter, year or date range it refers to. Verdicts: see `analysis.verdicts`.

A notebook run by hand (outside the build, `results_dir = None`) writes to a scratch folder,
never into a build's results.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import atomic, paths


def _jsonable(x):
    """Plain JSON value: NaN/NaT/None -> None, numpy scalars -> Python, dates -> ISO strings."""
    if x is None or x is pd.NaT:
        return None
    if isinstance(x, pd.Timestamp):
        return None if pd.isna(x) else (x.date().isoformat() if x == x.normalize() else x.isoformat())
    if isinstance(x, dt.datetime):
        return x.date().isoformat() if x.time() == dt.time() else x.isoformat()
    if isinstance(x, dt.date):
        return x.isoformat()
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return None if not math.isfinite(x) else x
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if x is pd.NaT or (not isinstance(x, str | bool | int) and pd.isna(x)):
        return None
    return x


@dataclass
class Results:
    """Collects one notebook's values and tables, then writes them atomically."""

    notebook: str
    as_of: str | None
    params: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict)
    verdicts: dict = field(default_factory=dict)

    def value(self, name: str, value, unit: str, label: str, sources=(), period: str | None = None) -> object:
        """Record one figure (`period`: the quarter/year/range it refers to); returns `value`."""
        entry = {"value": _jsonable(value), "unit": unit, "label": label,
                 "sources": sorted({str(s) for s in sources if s})}
        if period is not None:
            entry["period"] = str(period)
        self.values[name] = entry
        return value

    def verdict(self, v):
        """Record an `analysis.verdicts.Verdict` under its key; returns it."""
        self.verdicts[v.key] = _jsonable(v.to_dict())
        return v

    def table(self, name: str, df: pd.DataFrame, units: dict | None = None) -> pd.DataFrame:
        """Record a table (index dropped: put keys in columns); returns `df`."""
        units = dict(units or {})
        unknown = set(units) - set(map(str, df.columns))
        if unknown:
            raise KeyError(f"units for columns not in table {name!r}: {sorted(unknown)}")
        self.tables[name] = {
            "columns": [str(c) for c in df.columns],
            "rows": [[_jsonable(v) for v in row] for row in df.itertuples(index=False, name=None)],
            "units": units,
        }
        return df

    def to_dict(self) -> dict:
        return {"notebook": self.notebook, "as_of": self.as_of, "params": _jsonable(self.params),
                "values": self.values, "tables": self.tables, "verdicts": self.verdicts}

    def write(self, directory=None) -> Path:
        """Write `<directory>/<notebook>.json` atomically (temp file + rename).

        `directory=None` (a notebook run by hand) writes to `paths.scratch_results_dir()`.
        """
        directory = Path(directory) if directory else paths.scratch_results_dir()
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{self.notebook}.json"
        text = json.dumps(self.to_dict(), indent=1, sort_keys=False, ensure_ascii=False, allow_nan=False)
        atomic_write_text(target, text + "\n")
        return target


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write to a temp file in the same folder, then rename over `target` (`analysis.atomic`)."""
    atomic.write_bytes(target, data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic.write_text(target, text)


def read_results(notebook: str, directory=None) -> dict:
    """Load one results file as a dict (the JSON shape above)."""
    directory = Path(directory) if directory else paths.results_dir()
    with open(directory / f"{notebook}.json", encoding="utf-8") as fh:
        return json.load(fh)


def table_frame(results: dict, name: str) -> pd.DataFrame:
    """A results table as a DataFrame (columns in order, values as stored)."""
    t = results["tables"][name]
    return pd.DataFrame(t["rows"], columns=t["columns"])


def value_of(results: dict, name: str):
    """The bare value of a results entry."""
    return results["values"][name]["value"]


def verdict_of(results: dict, key: str):
    """A results file's verdict as an `analysis.verdicts.Verdict` (None if absent)."""
    from .verdicts import Verdict

    d = results.get("verdicts", {}).get(key)
    return None if d is None else Verdict.from_dict(key, d)
