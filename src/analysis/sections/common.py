"""Small helpers shared by the section builders (source lines, provenance tags, results frames)."""

from __future__ import annotations

import pandas as pd

from ..report import exhibits, fmt


def split_ids(ids) -> list[str]:
    """Source ids from strings that may hold several ('A;B', 'A, B'), in first-seen order."""
    out = []
    for i in ids:
        if isinstance(i, str):
            out += [x.strip() for x in i.replace(";", ",").split(",") if x.strip()]
    return list(dict.fromkeys(out))


def source_line(ids, registry, prefix: str = "") -> str:
    """'data/fundamentals.csv: PR_25Q3 (press release, 2025-11-10), ...' for the given ids."""
    return prefix + exhibits.sources_line(split_ids(ids), registry)


def tag(source, confidence, derived: bool = False) -> str:
    """'PR_25Q3 (high)' for tables; '*' marks a derived figure; 'n/a' when there is no source."""
    if not isinstance(source, str):
        return fmt.NA
    return f"{source} ({confidence}){'*' if derived else ''}"


def iso_dates(df: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns as ISO strings (None for NaT), for the results file."""
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = pd.Series([None if pd.isna(v) else fmt.date(v) for v in out[c]], index=out.index, dtype=object)
    return out


def plural(k: int, one: str, many: str) -> str:
    return f"{k} {one if k == 1 else many}"


def value_text(v, unit: str, rounding: float = 0.0) -> str:
    """A value of an inputs table in its unit ('n/a' when missing; text as given); whole numbers
    without decimals; an approximate figure (`rounding` > 0, `analysis.precision`) as 'about ...'."""
    if isinstance(v, str):
        return v
    if rounding and unit == "usd_m":
        return fmt.about(v, rounding, "num", 0)
    return {"usd_m": lambda x: fmt.num(x, 0 if float(x).is_integer() else 1), "fraction": lambda x: fmt.pct(x, 1),
            "mw": lambda x: f"{fmt.num(x, 0)} MW",
            "days": lambda x: f"{fmt.num(x, 0)} days", "years": lambda x: fmt.years(x, 0),
            "ratio": fmt.ratio}.get(unit, str)(v)
