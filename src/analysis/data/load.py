"""Typed, validated, point-in-time loaders: one per raw data file.

Every loader takes `as_of` (None or "latest" = all rows; a date = only what was public on that
date) and `data_dir` (default: `analysis.paths.data_dir()`). Point-in-time builds drop rows
whose publication date is unknown; `df.attrs["undated_excluded"]` lists their lines, and full
builds keep them with `undated=True` so the note can flag them.
"""

from __future__ import annotations

import functools
import math
import re
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import yaml

from .. import paths
from ..errors import DataValidationError, display_path
from . import ranges, rules
from . import schema as S
from .read import decode, parse_date, read_bytes, read_records, read_text, to_frame


def as_of_date(as_of) -> pd.Timestamp | None:
    """Normalise an `as_of` parameter: None/'latest' -> None, else a Timestamp (day precision).

    Strings must be ISO dates YYYY-MM-DD (a month like '2025-11' is refused rather than read as
    the 1st); date, datetime and Timestamp objects are accepted.
    """
    if as_of is None or (isinstance(as_of, str) and as_of.strip().lower() in ("", "latest", "none")):
        return None
    try:
        if isinstance(as_of, str):
            return pd.Timestamp(parse_date(as_of.strip()))
        if isinstance(as_of, date):
            ts = pd.Timestamp(as_of)
            if not pd.isna(ts):
                return ts.normalize()
    except (ValueError, TypeError):
        pass
    raise DataValidationError("as_of parameter", None, "as_of", as_of,
                              "an ISO date YYYY-MM-DD or 'latest'")


def _dir(data_dir) -> Path:
    return Path(data_dir) if data_dir is not None else paths.data_dir()


@functools.lru_cache(maxsize=128)
def _cached(path: str, raw: bytes, sch: S.Schema) -> tuple[dict, ...]:
    """Parse + file-level rules, cached on the file's exact bytes (not its mtime, which is
    too coarse to notice two quick edits of the same size)."""
    records = read_records(Path(path), sch, text=decode(raw, path))
    file = display_path(path)
    for check in sch.checks:
        if check in rules.CROSS_FILE_RULES:
            continue  # needs another file; applied by the loader
        rules.FILE_RULES[check](records, file)
    return tuple(records)


def _records(sch: S.Schema, data_dir) -> list[dict]:
    path = _dir(data_dir) / sch.file
    raw = read_bytes(path)
    return [dict(r) for r in _cached(str(path), raw, sch)]


def check_snapshot(sch: S.Schema, data_dir=None) -> None:
    """The `by_snapshot` dates of one file on or before the data's snapshot date.

    A whole-data-set rule (it reads the price files for the snapshot date), so it runs in
    `validate.validate_all` (the plan, `manifest verify`, `make check-data`, `make vendor`), not
    in the loaders a notebook calls: a section on fundamentals must not depend on price files.
    """
    bounded = [c.name for c in sch.columns if c.by_snapshot]
    if bounded:
        path = _dir(data_dir) / sch.file
        rules.check_not_after_snapshot(_records(sch, data_dir), display_path(path), bounded,
                                       snapshot_date(data_dir), snapshot_text(data_dir))


def check_claims_snapshot(data_dir=None) -> None:
    """Claims published on or before the data's snapshot date (see `check_snapshot`)."""
    snapshot = snapshot_date(data_dir)
    if snapshot is None:
        return
    file = display_path(_dir(data_dir) / "claims.yaml")
    for claim in load_claims(data_dir=data_dir):
        if claim["published"] > snapshot:
            raise DataValidationError(file, claim["line"], f"{claim['id']}.published", claim["published"].isoformat(),
                                      f"a date on or before {snapshot_text(data_dir)} ({snapshot.isoformat()})")


def snapshot_date(data_dir=None) -> date | None:
    """The data's snapshot date: the last date in any price file (`prices/<TICKER>.csv`).

    Prices are recorded up to the day the data was collected, so no figure, filing, event or
    claim in the data can have become public after it; the loaders refuse one that did (a
    `published: 2031-03-03`). Only each file's last row is read; the file's own validation
    (dates increasing, no gap longer than a week) keeps that date honest. None without prices.
    """
    last = None
    for t in price_tickers(data_dir):
        with open(_dir(data_dir) / "prices" / f"{t}.csv", "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(fh.tell() - 512, 0))
            tail = fh.read().decode("utf-8", "replace").strip().splitlines()
        try:
            d = parse_date(tail[-1].split(",", 1)[0].strip()) if tail else None
        except ValueError:
            continue  # a malformed last row: its file's own validation reports it
        if d is not None and (last is None or d > last):
            last = d
    return last


def snapshot_text(data_dir=None) -> str:
    """What the snapshot date is, for error messages."""
    return f"the data's snapshot date, the last price date in {display_path(_dir(data_dir) / 'prices')}/"


def _point_in_time(df: pd.DataFrame, col: str, as_of, file: str, data_dir=None, cited=False) -> pd.DataFrame:
    """Rows public on `as_of`: `col` <= as_of, and (for files citing sources.csv ids, `cited`)
    a source document that itself existed then: a figure public in 2025 but read by us in a 2026
    secondary report is left out of a 2025 note (`later_source_excluded` lists those lines), and
    so is a figure whose only document has no date at all (`undated_source_excluded`): nothing
    shows that document existed on `as_of`."""
    cutoff = as_of_date(as_of)
    undated = df[col].isna()
    df = df.assign(undated=undated.to_numpy())
    df.attrs.update(file=file, as_of=None if cutoff is None else cutoff.date().isoformat(),
                    undated_lines=[int(x) for x in df.loc[undated, "_line"]])
    df.attrs["later_source_excluded"] = []
    df.attrs["undated_source_excluded"] = []
    if cutoff is None:
        df.attrs["undated_excluded"] = []
        out = df
    else:
        df.attrs["undated_excluded"] = df.attrs["undated_lines"]
        keep = df[col].notna() & (df[col] <= cutoff)
        if cited:
            doc_date = df["source"].map(source_dates(data_dir))
            later = keep & doc_date.notna() & (doc_date > cutoff)
            no_date = keep & doc_date.isna()
            df.attrs["later_source_excluded"] = [int(x) for x in df.loc[later, "_line"]]
            df.attrs["undated_source_excluded"] = [int(x) for x in df.loc[no_date, "_line"]]
            keep &= ~later & ~no_date
        out = df[keep]
    out = out.rename(columns={"_line": "line"}).reset_index(drop=True)
    out.attrs = dict(df.attrs)
    return out


def _with_sources(sch: S.Schema, data_dir) -> list[dict]:
    records = _records(sch, data_dir)
    ids = set(load_sources(data_dir=data_dir)["id"])
    rules.check_source_exists(records, display_path(_dir(data_dir) / sch.file), ids)
    return records


def _load_table(sch: S.Schema, as_of, data_dir, cited: bool = True) -> pd.DataFrame:
    """A table file's rows public on `as_of` (filtered on `sch.published`); `cited`: the file
    cites sources.csv ids, which must exist and whose documents must have existed on `as_of`."""
    records = _with_sources(sch, data_dir) if cited else _records(sch, data_dir)
    return _point_in_time(to_frame(records, sch), sch.published, as_of, display_path(_dir(data_dir) / sch.file),
                          data_dir, cited=cited)


def source_dates(data_dir=None) -> dict:
    """Source id -> date of the document (month-only dates count from the month end); undated ids absent."""
    reg = load_sources(data_dir=data_dir)
    return {i: d for i, d in zip(reg["id"], reg["date"], strict=True) if pd.notna(d)}


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
    return _load_table(S.FUNDAMENTALS, as_of, data_dir)


def load_customers(as_of=None, data_dir=None) -> pd.DataFrame:
    """Customer concentration disclosures: period, published, customer, measure, value (pct 0..100)."""
    return _load_table(S.CUSTOMERS, as_of, data_dir)


def load_contracts(as_of=None, data_dir=None) -> pd.DataFrame:
    """Announced contracts: announced, counterparty, kind, value_usd_m (USD m, 'up to' amounts), ..."""
    return _load_table(S.CONTRACTS, as_of, data_dir)


def load_financings(as_of=None, data_dir=None) -> pd.DataFrame:
    """Debt and equity raises: announced (month-only dates count from month end), kind, value_usd_m."""
    return _load_table(S.FINANCINGS, as_of, data_dir)


def load_debt_facilities(as_of=None, data_dir=None) -> pd.DataFrame:
    """Debt by facility and date: as_of (date of the figure), facility, measure ('principal'
    outstanding, 'commitment' = facility size, 'issued' = principal issued, 'terms' = rate and
    maturity only), amount_usd_m (USD m), rate_kind ('effective', 'stated', 'sofr_margin'),
    rate_pct / rate_high_pct (percent, 0..100; a range when both), maturity (YYYY-MM[-DD] text,
    or 'A to B' for a range), published, source_kind, source, confidence, note."""
    return _load_table(S.DEBT_FACILITY_TABLE, as_of, data_dir)


def load_debt_maturities(as_of=None, data_dir=None) -> pd.DataFrame:
    """Contractual future principal payments as stated at `as_of` (a balance-sheet date): bucket
    ('remaining_year' = rest of `year`, 'year', 'thereafter', 'total'), year, amount_usd_m (USD m),
    published, source_kind, source, confidence, note."""
    return _load_table(S.DEBT_MATURITIES, as_of, data_dir)


def load_events(as_of=None, data_dir=None) -> pd.DataFrame:
    """Market events: event_id, announced, timing, day0 (first session that could react), kind,
    origin, description, source (free text), source_date, confidence. Filtered on `announced`."""
    return _load_table(S.EVENTS, as_of, data_dir, cited=False)


def price_tickers(data_dir=None) -> list[str]:
    """Tickers that have a price file, sorted. A file whose name is not a ticker (`schema.TICKER`)
    is not a price file: `validate_all` reports it as a file no loader reads."""
    return sorted(p.stem for p in (_dir(data_dir) / "prices").glob("*.csv")
                  if p.stem != "dividends" and re.fullmatch(S.TICKER, p.stem))


def load_prices(tickers=None, as_of=None, data_dir=None) -> pd.DataFrame:
    """Daily bars, long format: ticker, date, open, high, low, close, adj_close, volume.

    Prices in USD, split-adjusted (close not dividend-adjusted; adj_close is, where present).
    Rows after `as_of` are dropped. Missing weekdays are holidays: nothing is filled.
    """
    available = price_tickers(data_dir)
    if isinstance(tickers, str):
        tickers = [tickers]
    tickers = available if tickers is None else list(dict.fromkeys(tickers))
    if not available:
        raise DataValidationError(display_path(_dir(data_dir) / "prices"), None, None, None,
                                  "price files prices/<TICKER>.csv (run `make vendor`)")
    frames = []
    for t in tickers:
        if t not in available:
            raise DataValidationError(display_path(_dir(data_dir) / "prices" / f"{t}.csv"), None, None,
                                      t, "a ticker with a price file: " + ", ".join(available))
        sch = S.prices_schema(t)
        df = to_frame(_records(sch, data_dir), sch)
        df.insert(0, "ticker", t)
        frames.append(df)
    if not frames:  # tickers=[]: an empty frame of the same shape
        df = to_frame([], S.prices_schema("NONE"))
        df.insert(0, "ticker", pd.Series([], dtype=object))
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
    file = display_path(_dir(data_dir) / S.DIVIDENDS.file)
    rules.check_ticker_has_prices(records, file, set(price_tickers(data_dir)),
                                  display_path(_dir(data_dir) / "prices"))
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
# Dates stay text here and are parsed by `_claim_date`, so a bad date (2025-11-31) is reported
# with its line and field instead of failing inside the YAML parser.
_LineLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

def yaml_error(exc: yaml.YAMLError, text: str, file: str) -> DataValidationError:
    """A YAML syntax error as a DataValidationError naming the line at fault.

    PyYAML reports where it noticed the problem, which is often past the fault: an unclosed
    `{`/`[` is noticed on the next line, an unclosed quote where the next quote closes it. The
    line reported here is the one where the unclosed bracket or quote opened.
    """
    problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None) or ""
    cmark = getattr(exc, "context_mark", None)
    lines = text.splitlines()
    line = col = None
    expected = f"valid YAML ({problem})"
    if mark is not None:
        line, col = mark.line + 1, mark.column + 1
    if cmark is not None and context.startswith("while parsing a flow"):
        opener = "{" if "mapping" in context else "["
        closer = "}" if opener == "{" else "]"
        line, col = cmark.line + 1, cmark.column + 1
        expected = f"valid YAML: a '{closer}' closing the '{opener}' opened here ({problem})"
    elif mark is not None:
        quote = _open_quote_before(text, mark)
        if quote is not None:
            line, col = quote.line + 1, quote.column + 1
            expected = ("valid YAML: a closing quote for the quoted text opened "
                        f"here (it runs on to line {mark.line + 1}: {problem})")
    shown = lines[line - 1].strip() if line is not None and 0 < line <= len(lines) else problem
    return DataValidationError(file, line, f"character {col}" if col else None, shown, expected)


def _open_quote_before(text: str, mark):
    """Start mark of a quoted scalar that spans lines and ends before `mark` (an unclosed
    quote that swallowed the following lines), or None."""
    last = None
    try:
        for tok in yaml.scan(text, Loader=yaml.SafeLoader):
            if (tok.start_mark.line, tok.start_mark.column) >= (mark.line, mark.column):
                break
            last = tok
    except yaml.YAMLError:
        pass
    if (isinstance(last, yaml.ScalarToken) and last.style in ('"', "'")
            and last.end_mark.line > last.start_mark.line):
        return last.start_mark
    return None


_CHECK_EXTRA = {"stated", "relation", "tolerance", "date_slack", "note", "measure", "__line__"}
_CLAIM_FIELDS = ("id", "published", "outlet", "claim", "checks")
_CLAIM_OPTIONAL = ("note",)


def _claim_date(value, file, line, field):
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return parse_date(str(value))
    except ValueError:
        raise DataValidationError(file, line, field, value, "an ISO date YYYY-MM-DD") from None


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_arg(chk, name, file, line, where, tickers, prices_dir=None):
    """Type of one measure argument (dates are parsed by the caller)."""
    v = chk[name]
    bad = None
    if name == "ticker":
        if v not in tickers:
            bad = rules.missing_prices_text(v, tickers, prices_dir)
    elif name == "metric":
        if v not in S.METRIC_UNITS:
            bad = "a metric known to fundamentals.csv (analysis.data.schema.METRIC_UNITS)"
    elif name in ("period", "base"):
        if not isinstance(v, str) or not S.PERIOD_RE.match(v):
            bad = "a period code like 2025Q3, FY2025, 2025H1 or 2025-9M"
    elif name == "fiscal_year":
        if not isinstance(v, str) or not re.fullmatch(r"FY\d{4}", v):
            bad = "a fiscal year like FY2025"
    elif name == "bound":
        if v not in ("low", "high"):
            bad = "one of: low, high"
    elif name == "days":
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            bad = "a whole number of trading days >= 1"
    elif name == "price":
        if not _is_number(v):
            bad = "a positive price in USD"
        else:
            bad = ranges.PRICE.problem(v)
    elif name in ("counterparty", "reason"):
        if not isinstance(v, str) or not v.strip():
            bad = "non-empty text"
    if bad:
        raise DataValidationError(file, line, f"{where}.{name}", v, bad)


def _stated_range(m: str, chk: dict) -> ranges.Range | None:
    """The plausible range of a check's stated value (`ranges.CLAIM_STATED`, or the metric's)."""
    if m in ("metric", "guidance"):
        return ranges.metric_range(chk["metric"])
    if m == "growth":
        rng = ranges.metric_range(chk["metric"])
        return ranges.RETURN if rng.lo is not None and rng.lo >= 0 else None
    return ranges.CLAIM_STATED.get(m)


def _validate_check(chk, cid, i, file, tickers=frozenset(), prices_dir=None):
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
    for f in sorted(args):
        if f in S.CLAIM_DATE_ARGS:
            chk[f] = _claim_date(chk[f], file, line, f"{where}.{f}")
        else:
            _check_arg(chk, f, file, line, where, tickers, prices_dir)
    if "start" in chk and "end" in chk and chk["end"] < chk["start"]:
        raise DataValidationError(file, line, f"{where}.end", chk["end"].isoformat(),
                                  f"a date on or after start ({chk['start'].isoformat()})")
    if "note" in chk and not isinstance(chk["note"], str):
        raise DataValidationError(file, line, f"{where}.note", chk["note"], "text")
    if "date_slack" in chk:
        slack = chk["date_slack"]
        if "date" not in chk:
            raise DataValidationError(file, line, f"{where}.date_slack", slack,
                                      "no date_slack: only price measures with a date take one")
        if not isinstance(slack, int) or isinstance(slack, bool) or slack < 1:
            raise DataValidationError(file, line, f"{where}.date_slack", slack,
                                      "a whole number of trading sessions >= 1")
    if m == "none":
        for f in ("stated", "relation", "tolerance"):
            if f in chk:
                raise DataValidationError(file, line, f"{where}.{f}", chk[f],
                                          "no stated value, relation or tolerance for measure 'none'")
        return
    if "stated" not in chk:
        raise DataValidationError(file, line, f"{where}.stated", None, "the value the press stated")
    rel = chk.get("relation")
    if rel not in S.CLAIM_RELATIONS:
        raise DataValidationError(file, line, f"{where}.relation", rel, "one of: " + ", ".join(S.CLAIM_RELATIONS))
    if rel == "approx":
        tol = chk.get("tolerance")
        if not _is_number(tol) or tol < 0:
            raise DataValidationError(file, line, f"{where}.tolerance", tol, "a non-negative number for relation 'approx'")
    elif "tolerance" in chk:
        raise DataValidationError(file, line, f"{where}.tolerance", chk["tolerance"],
                                  f"no tolerance for relation '{rel}' (only 'approx' takes one)")
    if m == "record_close_date":
        chk["stated"] = _claim_date(chk["stated"], file, line, f"{where}.stated")
    elif not _is_number(chk["stated"]):
        raise DataValidationError(file, line, f"{where}.stated", chk["stated"], "a number")
    else:
        rng = _stated_range(m, chk)
        problem = rng.problem(chk["stated"]) if rng is not None else None
        if problem is not None:
            raise DataValidationError(file, line, f"{where}.stated", chk["stated"],
                                      f"a stated value for measure '{m}': {problem}")


def load_claims(as_of=None, data_dir=None) -> list[dict]:
    """Press claims from claims.yaml, validated; each claim dict has `line` and its `checks`.

    Filtered to claims published on or before `as_of`.
    """
    path = _dir(data_dir) / "claims.yaml"
    file = display_path(path)
    text = read_text(path)
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        doc = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise yaml_error(exc, text, file) from None
    finally:
        loader.dispose()
    if not isinstance(doc, list) or not doc:
        raise DataValidationError(file, node.start_mark.line + 1 if node is not None else 1, None,
                                  type(doc).__name__ if doc is not None else "", "a non-empty list of claims")
    item_lines = [n.start_mark.line + 1 for n in node.value]
    seen = {}
    out = []
    tickers = frozenset(price_tickers(data_dir))
    prices_dir = display_path(_dir(data_dir) / "prices")
    for claim, line in zip(doc, item_lines, strict=True):
        if not isinstance(claim, dict):
            raise DataValidationError(file, line, None, claim, "a mapping with id, published, outlet, claim, checks")
        cid = claim.get("id")
        if not isinstance(cid, str) or not cid.startswith("C"):
            raise DataValidationError(file, line, "id", cid, "a claim id like C01")
        if cid in seen:
            raise DataValidationError(file, line, f"{cid}.id", cid, f"a unique id; also on line {seen[cid]}")
        seen[cid] = line
        extra = sorted(set(claim) - {*_CLAIM_FIELDS, *_CLAIM_OPTIONAL, "__line__"})
        if extra:
            raise DataValidationError(file, line, f"{cid}.{extra[0]}", claim[extra[0]],
                                      "only the fields " + ", ".join(_CLAIM_FIELDS + _CLAIM_OPTIONAL))
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
            _validate_check(chk, cid, i, file, tickers, prices_dir)
            chk["line"] = chk.pop("__line__")
        claim["line"] = claim.pop("__line__")
        out.append(claim)
    cutoff = as_of_date(as_of)
    if cutoff is not None:
        out = [c for c in out if pd.Timestamp(c["published"]) <= cutoff]
    return out
