"""Typed, validated, point-in-time loaders: one per raw data file.

Every loader takes `as_of` (None or "latest" = all rows; a date = only what was public on that
date) and `data_dir` (default: `analysis.paths.data_dir()`). Point-in-time builds drop rows
whose publication date is unknown; `df.attrs["undated_excluded"]` lists their lines, and full
builds keep them with `undated=True` so the note can flag them.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from .. import paths
from ..errors import DataValidationError, display_path
from . import rules
from . import schema as S
from .read import parse_date, read_records, to_frame


def as_of_date(as_of) -> pd.Timestamp | None:
    """Normalise an `as_of` parameter: None/'latest' -> None, else a Timestamp (day precision)."""
    if as_of is None or (isinstance(as_of, str) and as_of.strip().lower() in ("", "latest", "none")):
        return None
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise DataValidationError("as_of parameter", None, "as_of", as_of,
                                  "an ISO date YYYY-MM-DD or 'latest'") from None
    return ts.normalize()


def _dir(data_dir) -> Path:
    return Path(data_dir) if data_dir is not None else paths.data_dir()


@functools.lru_cache(maxsize=128)
def _cached(path: str, mtime_ns: int, size: int, sch: S.Schema):
    records = read_records(Path(path), sch)
    file = display_path(path)
    for check in sch.checks:
        if check == "source_exists":
            continue  # needs the sources registry; done by the loader
        fn = getattr(rules, "check_" + check, None)
        if fn is not None:
            fn(records, file)
    return tuple(records)


def _records(sch: S.Schema, data_dir) -> list[dict]:
    path = _dir(data_dir) / sch.file
    st = path.stat() if path.exists() else None
    if st is None:
        raise DataValidationError(display_path(path), None, None, None,
                                  "the file to exist (run `make vendor`)")
    return [dict(r) for r in _cached(str(path), st.st_mtime_ns, st.st_size, sch)]


def _point_in_time(df: pd.DataFrame, col: str, as_of, file: str) -> pd.DataFrame:
    cutoff = as_of_date(as_of)
    undated = df[col].isna()
    df = df.assign(undated=undated.to_numpy())
    df.attrs.update(file=file, as_of=None if cutoff is None else cutoff.date().isoformat(),
                    undated_lines=[int(x) for x in df.loc[undated, "_line"]])
    if cutoff is None:
        df.attrs["undated_excluded"] = []
        out = df
    else:
        df.attrs["undated_excluded"] = df.attrs["undated_lines"]
        out = df[df[col].notna() & (df[col] <= cutoff)]
    out = out.rename(columns={"_line": "line"}).reset_index(drop=True)
    out.attrs = dict(df.attrs)
    return out


def _with_sources(sch: S.Schema, data_dir) -> list[dict]:
    records = _records(sch, data_dir)
    ids = set(load_sources(data_dir=data_dir)["id"])
    rules.check_source_exists(records, display_path(_dir(data_dir) / sch.file), ids)
    return records


def load_sources(as_of=None, data_dir=None) -> pd.DataFrame:
    """Source registry (id, source_kind, default_confidence, title, locator, date).

    `as_of` is accepted for symmetry; the registry itself is not filtered (it describes
    documents, not figures).
    """
    df = to_frame(_records(S.SOURCES, data_dir), S.SOURCES).rename(columns={"_line": "line"})
    df.attrs.update(file=display_path(_dir(data_dir) / S.SOURCES.file))
    return df


def load_fundamentals(as_of=None, data_dir=None) -> pd.DataFrame:
    """Reported figures, one per row: period, period_start, period_end, published, metric, value
    (in `unit`: usd_m, pct 0..100, mw, count, years), source_kind, source, confidence, note,
    published_precision ('day'/'month'), undated, line."""
    df = to_frame(_with_sources(S.FUNDAMENTALS, data_dir), S.FUNDAMENTALS)
    return _point_in_time(df, "published", as_of, display_path(_dir(data_dir) / S.FUNDAMENTALS.file))


def load_customers(as_of=None, data_dir=None) -> pd.DataFrame:
    """Customer concentration disclosures: period, published, customer, measure, value (pct 0..100)."""
    df = to_frame(_with_sources(S.CUSTOMERS, data_dir), S.CUSTOMERS)
    return _point_in_time(df, "published", as_of, display_path(_dir(data_dir) / S.CUSTOMERS.file))


def load_contracts(as_of=None, data_dir=None) -> pd.DataFrame:
    """Announced contracts: announced, counterparty, kind, value_usd_m (USD m, 'up to' amounts), ..."""
    df = to_frame(_with_sources(S.CONTRACTS, data_dir), S.CONTRACTS)
    return _point_in_time(df, "announced", as_of, display_path(_dir(data_dir) / S.CONTRACTS.file))


def load_financings(as_of=None, data_dir=None) -> pd.DataFrame:
    """Debt and equity raises: announced (month-only dates count from month end), kind, value_usd_m."""
    df = to_frame(_with_sources(S.FINANCINGS, data_dir), S.FINANCINGS)
    return _point_in_time(df, "announced", as_of, display_path(_dir(data_dir) / S.FINANCINGS.file))


def load_events(as_of=None, data_dir=None) -> pd.DataFrame:
    """Market events: event_id, announced, timing, day0 (first session that could react), kind,
    origin, description, source (free text), source_date, confidence. Filtered on `announced`."""
    df = to_frame(_records(S.EVENTS, data_dir), S.EVENTS)
    return _point_in_time(df, "announced", as_of, display_path(_dir(data_dir) / S.EVENTS.file))


def price_tickers(data_dir=None) -> list[str]:
    """Tickers that have a price file, sorted."""
    return sorted(p.stem for p in (_dir(data_dir) / "prices").glob("*.csv") if p.stem != "dividends")


def load_prices(tickers=None, as_of=None, data_dir=None) -> pd.DataFrame:
    """Daily bars, long format: ticker, date, open, high, low, close, adj_close, volume.

    Prices in USD, split-adjusted (close not dividend-adjusted; adj_close is, where present).
    Rows after `as_of` are dropped. Missing weekdays are holidays: nothing is filled.
    """
    available = price_tickers(data_dir)
    tickers = available if tickers is None else list(dict.fromkeys(tickers))
    frames = []
    for t in tickers:
        if t not in available:
            raise DataValidationError(display_path(_dir(data_dir) / "prices" / f"{t}.csv"), None, None,
                                      t, "a ticker with a price file: " + ", ".join(available))
        sch = S.prices_schema(t)
        df = to_frame(_records(sch, data_dir), sch)
        df.insert(0, "ticker", t)
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["ticker"] = out["ticker"].astype(object)
    cutoff = as_of_date(as_of)
    if cutoff is not None:
        out = out[out["date"] <= cutoff]
    out = out.drop(columns="_line").reset_index(drop=True)
    out.attrs.update(as_of=None if cutoff is None else cutoff.date().isoformat())
    return out


def load_dividends(as_of=None, data_dir=None) -> pd.DataFrame:
    """Cash dividends by ex-date: ticker, ex_date, dividend (USD per share)."""
    records = _records(S.DIVIDENDS, data_dir)
    have = set(price_tickers(data_dir))
    file = display_path(_dir(data_dir) / S.DIVIDENDS.file)
    for r in records:
        if r["ticker"] not in have:
            raise DataValidationError(file, r["_line"], "ticker", r["ticker"], "a ticker with a price file")
    df = to_frame(records, S.DIVIDENDS)
    cutoff = as_of_date(as_of)
    if cutoff is not None:
        df = df[df["ex_date"] <= cutoff]
    return df.rename(columns={"_line": "line"}).reset_index(drop=True)


# ---- claims.yaml -------------------------------------------------------------------------

class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records the line of every mapping as `__line__` (1-based)."""


def _construct_mapping(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_CHECK_EXTRA = {"stated", "relation", "tolerance", "note", "measure", "__line__"}


def _claim_date(value, file, line, field):
    if isinstance(value, date):
        return value
    try:
        return parse_date(str(value))
    except ValueError:
        raise DataValidationError(file, line, field, value, "an ISO date YYYY-MM-DD") from None


def _validate_check(chk, cid, i, file):
    line = chk.get("__line__")
    where = f"{cid}.checks[{i}]"
    m = chk.get("measure")
    if m not in S.CLAIM_MEASURES:
        raise DataValidationError(file, line, f"{where}.measure", m,
                                  "a known measure: " + ", ".join(S.CLAIM_MEASURES))
    args = set(chk) - _CHECK_EXTRA
    alts = S.CLAIM_MEASURES[m]
    match = [a for a in alts if set(a) == args]
    if not match:
        missing = sorted(set(min(alts, key=lambda a: len(set(a) ^ args))) - args)
        extra = sorted(args - set().union(*map(set, alts)))
        field = missing[0] if missing else extra[0]
        raise DataValidationError(file, line, f"{where}.{field}", chk.get(field),
                                  f"arguments {' | '.join('(' + ', '.join(a) + ')' for a in alts)} for measure '{m}'")
    for f in S.CLAIM_DATE_ARGS:
        if f in chk:
            chk[f] = _claim_date(chk[f], file, line, f"{where}.{f}")
    if m == "none":
        return
    if "stated" not in chk:
        raise DataValidationError(file, line, f"{where}.stated", None, "the value the press stated")
    rel = chk.get("relation")
    if rel not in S.CLAIM_RELATIONS:
        raise DataValidationError(file, line, f"{where}.relation", rel, "one of: " + ", ".join(S.CLAIM_RELATIONS))
    if rel == "approx":
        tol = chk.get("tolerance")
        if not isinstance(tol, int | float) or isinstance(tol, bool) or tol < 0:
            raise DataValidationError(file, line, f"{where}.tolerance", tol, "a non-negative number for relation 'approx'")
    if m == "record_close_date":
        chk["stated"] = _claim_date(chk["stated"], file, line, f"{where}.stated")
    elif not isinstance(chk["stated"], int | float) or isinstance(chk["stated"], bool):
        raise DataValidationError(file, line, f"{where}.stated", chk["stated"], "a number")


def load_claims(as_of=None, data_dir=None) -> list[dict]:
    """Press claims from claims.yaml, validated; each claim dict has `line` and its `checks`.

    Filtered to claims published on or before `as_of`.
    """
    path = _dir(data_dir) / "claims.yaml"
    file = display_path(path)
    if not path.exists():
        raise DataValidationError(file, None, None, None, "the file to exist (run `make vendor`)")
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise DataValidationError(file, mark.line + 1 if mark else None, None, str(exc).split("\n")[0],
                                  "valid YAML") from None
    if not isinstance(doc, list):
        raise DataValidationError(file, None, None, type(doc).__name__, "a list of claims")
    seen = {}
    out = []
    for claim in doc:
        line = claim.get("__line__") if isinstance(claim, dict) else None
        if not isinstance(claim, dict):
            raise DataValidationError(file, line, None, claim, "a mapping with id, published, outlet, claim, checks")
        cid = claim.get("id")
        if not isinstance(cid, str) or not cid.startswith("C"):
            raise DataValidationError(file, line, "id", cid, "a claim id like C01")
        if cid in seen:
            raise DataValidationError(file, line, f"{cid}.id", cid, f"a unique id; also on line {seen[cid]}")
        seen[cid] = line
        for f in ("outlet", "claim"):
            if not isinstance(claim.get(f), str) or not claim[f].strip():
                raise DataValidationError(file, line, f"{cid}.{f}", claim.get(f), "non-empty text")
        claim["published"] = _claim_date(claim.get("published"), file, line, f"{cid}.published")
        checks = claim.get("checks")
        if not isinstance(checks, list) or not checks:
            raise DataValidationError(file, line, f"{cid}.checks", checks, "a non-empty list of checks")
        for i, chk in enumerate(checks):
            if not isinstance(chk, dict):
                raise DataValidationError(file, line, f"{cid}.checks[{i}]", chk, "a mapping with a measure")
            _validate_check(chk, cid, i, file)
            chk["line"] = chk.pop("__line__")
        claim["line"] = claim.pop("__line__")
        out.append(claim)
    cutoff = as_of_date(as_of)
    if cutoff is not None:
        out = [c for c in out if pd.Timestamp(c["published"]) <= cutoff]
    return out
