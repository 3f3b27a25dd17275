"""Every validation rule, triggered on a corrupted copy of a real file in a temp dir.

Each error must name the file, the 1-based physical line, the column, the bad value and what was
expected, both in its message and in its attributes. Line numbers below were read off the
vendored files with `grep -n` (e.g. fundamentals.csv 285 = 2025Q3 revenue from PR_25Q3, CRWV.csv
159 = 2025-11-11, events.csv 4 = E03 IPO, claims.yaml 60 = `- id: C04`).
"""

from __future__ import annotations

import csv
import re

import pytest
from edits import edit_line, lines, set_cell, write_lines

from analysis import data as D
from analysis.errors import DataValidationError

LOAD = {
    "fundamentals.csv": lambda d: D.load_fundamentals(data_dir=d),
    "customers.csv": lambda d: D.load_customers(data_dir=d),
    "contracts.csv": lambda d: D.load_contracts(data_dir=d),
    "financings.csv": lambda d: D.load_financings(data_dir=d),
    "events.csv": lambda d: D.load_events(data_dir=d),
    "sources.csv": lambda d: D.load_sources(data_dir=d),
    "prices/dividends.csv": lambda d: D.load_dividends(data_dir=d),
    "prices/CRWV.csv": lambda d: D.load_prices(["CRWV"], data_dir=d),
    "claims.yaml": lambda d: D.load_claims(data_dir=d),
}


def expect_error(data_dir, file, line, column, value, fragment, loader=None):
    """Load `file` (or run `loader`) and check the DataValidationError it must raise."""
    with pytest.raises(DataValidationError) as ei:
        (loader or LOAD[file])(data_dir)
    err = ei.value
    msg = str(err)
    assert err.file.endswith(file), msg
    assert err.line == line, msg
    assert err.column == column, msg
    if value is not ...:
        assert err.value == value, msg
        assert repr(value) in msg
    assert fragment in err.expected, msg
    assert file in msg and (line is None or re.search(rf"line {line}\b", msg))
    assert column is None or f"column '{column}'" in msg
    return err


# (file, line, column, new raw value, value in the error, fragment of the expectation)
CELL_CASES = [
    # types
    ("fundamentals.csv", 285, "value", "1364.6x", "1364.6x", "a number"),
    ("fundamentals.csv", 285, "value", "nan", "nan", "a number"),
    ("fundamentals.csv", 285, "published", "2025/11/10", "2025/11/10", "YYYY-MM-DD"),
    ("fundamentals.csv", 285, "period_end", "2025-09-31", "2025-09-31", "YYYY-MM-DD"),
    ("financings.csv", 2, "announced", "2025-3", "2025-3", "a month YYYY-MM"),
    ("financings.csv", 2, "announced", "2025-13", "2025-13", "a month YYYY-MM"),
    ("prices/CRWV.csv", 159, "date", "2025-11-31", "2025-11-31", "YYYY-MM-DD"),
    # required values
    ("fundamentals.csv", 285, "value", "", "", "a value"),
    ("events.csv", 4, "day0", "", "", "a value"),
    # allowed values, patterns, known metric names
    ("fundamentals.csv", 285, "metric", "revenues", "revenues", "known values"),
    ("fundamentals.csv", 285, "confidence", "certain", "certain", "one of: high, medium, low"),
    ("fundamentals.csv", 285, "source_kind", "blog", "blog", "one of: filing"),
    ("fundamentals.csv", 285, "period", "2025Q5", "2025Q5", "text matching"),
    ("contracts.csv", 2, "kind", "loan", "loan", "one of: customer_contract"),
    ("events.csv", 4, "timing", "evening", "evening", "one of: before_open"),
    ("events.csv", 4, "event_id", "X03", "X03", "text matching"),
    ("sources.csv", 8, "default_confidence", "sure", "sure", "one of: high"),
    # units: metric -> unit, pct within 0..100, non-negative money
    ("fundamentals.csv", 285, "unit", "pct", "pct", "'usd_m' for metric revenue"),
    ("customers.csv", 3, "value", "135", "135", "<= 100"),
    ("customers.csv", 3, "unit", "usd_m", "usd_m", "one of: pct"),
    ("contracts.csv", 3, "value_usd_m", "-4000", "-4000", ">= 0"),
    # period codes vs their dates
    ("fundamentals.csv", 285, "period_start", "2025-07-02", "2025-07-02", "2025-07-01 for period 2025Q3"),
    # source ids exist in sources.csv
    ("fundamentals.csv", 285, "source", "PR_25Q9", "PR_25Q9", "sources.csv"),
    ("customers.csv", 3, "source", "NOPE", "NOPE", "sources.csv"),
    ("contracts.csv", 2, "source", "NOPE", "NOPE", "sources.csv"),
    ("financings.csv", 3, "source", "NOPE", "NOPE", "sources.csv"),
    # events: day0 on or after announced (E03 announced 2025-03-27)
    ("events.csv", 4, "day0", "2025-03-26", "2025-03-26", "on or after announced (2025-03-27)"),
    # dividends: ticker has a price file; positive amount
    ("prices/dividends.csv", 2, "ticker", "ZZZZ", "ZZZZ", "a ticker with a price file"),
    ("prices/dividends.csv", 2, "dividend", "0", "0", "a positive number"),
    # price sanity on CRWV 2025-11-11 (open 96.10, high 98.00, low 88.00, close 88.39)
    ("prices/CRWV.csv", 159, "close", "-88.39", "-88.39", "a positive number"),
    ("prices/CRWV.csv", 159, "low", "0", "0", "a positive number"),
    ("prices/CRWV.csv", 159, "volume", "-5", "-5", ">= 0"),
    ("prices/CRWV.csv", 159, "high", "80", 80.0, "high >= low (88.0)"),
    ("prices/CRWV.csv", 159, "close", "99", 99.0, "close within [low, high]: <= high (98.0)"),
    ("prices/CRWV.csv", 159, "close", "87.5", 87.5, "close within [low, high]: >= low (88.0)"),
    ("prices/CRWV.csv", 159, "open", "87", 87.0, "open within [low, high]: >= low"),
    ("prices/CRWV.csv", 159, "open", "98.5", 98.5, "open within [low, high]: <= high"),
    # date order (2025-11-09 is a Sunday: no row has it, so only the order rule can fire)
    ("prices/CRWV.csv", 159, "date", "2025-11-09", "2025-11-09", "increasing order (after 2025-11-10)"),
]


@pytest.mark.parametrize("file,line,column,new,value,fragment", CELL_CASES,
                         ids=[f"{c[0]}:{c[2]}={c[3]}" for c in CELL_CASES])
def test_cell_rule(data_copy, file, line, column, new, value, fragment):
    old = set_cell(data_copy / file, line, column, new)
    assert old != new
    expect_error(data_copy, file, line, column, value, fragment)


def test_close_and_adj_close_both_missing(data_copy):
    f = data_copy / "prices/CRWV.csv"
    set_cell(f, 159, "close", "")
    set_cell(f, 159, "adj_close", "")
    expect_error(data_copy, "prices/CRWV.csv", 159, "close", "", "a close or an adj_close")


def test_duplicate_key_rows(data_copy):
    f = data_copy / "fundamentals.csv"
    ls = lines(f)
    ls[285] = ls[284]  # line 286 becomes a copy of line 285
    write_lines(f, ls)
    err = expect_error(data_copy, "fundamentals.csv", 286, "period+metric+source+published",
                       "2025Q3|revenue|PR_25Q3|2025-11-10", "same as line 285")
    assert "unique (period, metric, source, published)" in err.expected


def test_duplicate_price_date(data_copy):
    set_cell(data_copy / "prices/CRWV.csv", 159, "date", "2025-11-10")
    expect_error(data_copy, "prices/CRWV.csv", 159, "date", "2025-11-10", "same as line 158")


def test_duplicate_source_id(data_copy):
    set_cell(data_copy / "sources.csv", 9, "id", "PR_25Q3")
    expect_error(data_copy, "sources.csv", 9, "id", "PR_25Q3", "same as line 8")


def test_source_removed_from_registry(data_copy):
    # renaming PR_25Q3 in sources.csv orphans every row citing it: the first one is reported
    set_cell(data_copy / "sources.csv", 8, "id", "PR_25Q3_OLD")
    with open(data_copy / "fundamentals.csv", newline="", encoding="utf-8") as fh:
        first = next(i for i, r in enumerate(csv.DictReader(fh), start=2) if r["source"] == "PR_25Q3")
    expect_error(data_copy, "fundamentals.csv", first, "source", "PR_25Q3", "sources.csv")


def test_price_file_removed_breaks_dividends_and_claims(data_copy):
    (data_copy / "prices/AVGO.csv").unlink()
    expect_error(data_copy, "prices/dividends.csv", 2, "ticker", "AVGO", "price file")
    first = next(n for n, t in enumerate(lines(data_copy / "claims.yaml"), 1) if "ticker: AVGO" in t)
    expect_error(data_copy, "claims.yaml", first, "C02.checks[0].ticker", "AVGO", "price file")


# ---- file structure --------------------------------------------------------------------------

def test_header_with_unexpected_column(data_copy):
    edit_line(data_copy / "prices/CRWV.csv", 1, lambda t: t.rstrip("\r\n") + ",extra\n")
    err = expect_error(data_copy, "prices/CRWV.csv", 1, "extra", ..., "unexpected 'extra'")
    assert err.value.endswith(",volume,extra")


def test_header_with_missing_column(data_copy):
    edit_line(data_copy / "fundamentals.csv", 1, lambda t: t.replace(",metric,", ",metrics,"))
    expect_error(data_copy, "fundamentals.csv", 1, "metric", ..., "missing 'metric'")


def test_header_with_duplicate_column(data_copy):
    edit_line(data_copy / "events.csv", 1, lambda t: t.replace(",kind,", ",timing,"))
    expect_error(data_copy, "events.csv", 1, "timing", ..., "appears twice")


def test_missing_file(data_copy):
    (data_copy / "customers.csv").unlink()
    expect_error(data_copy, "customers.csv", None, None, None, "the file to exist")


def test_empty_file(data_copy):
    (data_copy / "contracts.csv").write_bytes(b"")
    expect_error(data_copy, "contracts.csv", 1, None, "", "a header line")


def test_header_only_file(data_copy):
    f = data_copy / "events.csv"
    write_lines(f, lines(f)[:1])
    expect_error(data_copy, "events.csv", 2, None, "", "at least one data row")


def test_row_with_an_extra_field(data_copy):
    edit_line(data_copy / "fundamentals.csv", 285, lambda t: t.rstrip("\r\n") + ",oops\r\n")
    err = expect_error(data_copy, "fundamentals.csv", 285, "field 12", ..., "11 fields like the header, got 12")
    assert err.value.startswith("2025Q3,2025-07-01")


def test_row_with_a_missing_field(data_copy):
    edit_line(data_copy / "fundamentals.csv", 285, lambda t: t.rstrip("\r\n").rsplit(",", 1)[0] + "\r\n")
    expect_error(data_copy, "fundamentals.csv", 285, "note", ..., "no field for column 'note'")


def test_unterminated_quote(data_copy):
    # an opening quote in the note of line 285 that never closes swallows the rest of the file
    edit_line(data_copy / "fundamentals.csv", 285, lambda t: t.rstrip("\r\n") + '"unclosed\r\n')
    expect_error(data_copy, "fundamentals.csv", 285, "note", ..., "a closing quote")


def test_text_after_a_closing_quote(data_copy):
    edit_line(data_copy / "fundamentals.csv", 285, lambda t: t.rstrip("\r\n") + '"a"b\r\n')
    expect_error(data_copy, "fundamentals.csv", 285, "note", ..., "right after a closing quote")


def test_invalid_utf8(data_copy):
    f = data_copy / "fundamentals.csv"
    raw = f.read_bytes().split(b"\r\n")
    raw[284] = raw[284].replace(b"usd_m", b"usd_\xff")
    f.write_bytes(b"\r\n".join(raw))
    expect_error(data_copy, "fundamentals.csv", 285, None, b"\xff", "UTF-8 text")


def test_bom_is_accepted(data_copy):
    f = data_copy / "sources.csv"
    f.write_bytes(b"\xef\xbb\xbf" + f.read_bytes())
    assert len(D.load_sources(data_dir=data_copy)) == 48


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_embedded_newlines_keep_physical_lines(data_copy, newline):
    """A quoted note spanning two lines (line 10 -> lines 10-11) moves every later row down one
    physical line: errors and the `line` column must follow."""
    f = data_copy / "fundamentals.csv"
    set_cell(f, 10, "note", f"first part{newline}second part")
    assert lines(f)[10].startswith("second part")  # physical line 11 is the note's tail
    df = D.load_fundamentals(data_dir=data_copy)
    assert len(df) == 481
    assert df.loc[df["line"] == 10, "note"].item() == f"first part{newline}second part"
    rev = df[(df.period == "2025Q3") & (df.metric == "revenue") & (df.source == "PR_25Q3")]
    assert rev["line"].item() == 286
    assert lines(f)[285].startswith("2025Q3,2025-07-01,2025-09-30,2025-11-10,revenue,")
    set_cell(f, 286, "value", "bad")
    expect_error(data_copy, "fundamentals.csv", 286, "value", "bad", "a number")


def test_blank_line_is_skipped_and_counted(data_copy):
    f = data_copy / "prices/CRWV.csv"
    ls = lines(f)
    write_lines(f, ls[:100] + ["\n"] + ls[100:])
    p = D.load_prices("CRWV", data_dir=data_copy)
    assert len(p) == 386
    set_cell(f, 160, "high", "80")  # 2025-11-11, one line further down
    expect_error(data_copy, "prices/CRWV.csv", 160, "high", 80.0, "high >= low")


def test_edit_after_load_is_noticed(data_copy):
    """The parse cache is keyed on the file's bytes: a same-size edit right after a load counts."""
    assert len(D.load_prices("CRWV", data_dir=data_copy)) == 386
    f = data_copy / "prices/CRWV.csv"
    size = f.stat().st_size
    old = set_cell(f, 159, "close", "98.38999938964844")  # one digit changed: same size
    assert old == "88.38999938964844" and f.stat().st_size == size
    expect_error(data_copy, "prices/CRWV.csv", 159, "close", 98.38999938964844, "<= high")


# ---- claims.yaml -----------------------------------------------------------------------------

def _edit_yaml(data_dir, line, old, new):
    edit_line(data_dir / "claims.yaml", line, lambda t: t.replace(old, new, 1) if old in t else pytest.fail(t))


# line 65 = C04 checks[0]: {measure: close, ticker: CRWV, date: 2025-11-10, stated: 105.61, ...}
YAML_CASES = [
    (65, "measure: close", "measure: closing", 65, "C04.checks[0].measure", "closing", "a known measure"),
    (65, "ticker: CRWV", "ticker: CRWX", 65, "C04.checks[0].ticker", "CRWX", "price file"),
    (65, "date: 2025-11-10", "date: 2025-11-31", 65, "C04.checks[0].date", "2025-11-31", "YYYY-MM-DD"),
    (65, "stated: 105.61, ", "", 65, "C04.checks[0].stated", None, "the value the press stated"),
    (65, "stated: 105.61", "stated: lots", 65, "C04.checks[0].stated", "lots", "a number"),
    (65, "relation: approx", "relation: roughly", 65, "C04.checks[0].relation", "roughly", "one of: approx"),
    (65, "tolerance: 0.01", "tolerance: -1", 65, "C04.checks[0].tolerance", -1, "non-negative"),
    (65, "ticker: CRWV, ", "", 65, "C04.checks[0].ticker", None, "arguments (ticker, date)"),
    (65, "date: 2025-11-10", "date: 2025-11-10, days: 3", 65, "C04.checks[0].days", 3, "arguments (ticker, date)"),
    (61, "published: 2025-12-17", "published: 17 Dec 2025", 60, "C04.published", "17 Dec 2025", "YYYY-MM-DD"),
    (60, "id: C04", "id: C03", 60, "C03.id", "C03", "a unique id; also on line"),
    (62, "outlet: cnyes.com", "outlet_name: cnyes.com", 60, "C04.outlet_name", ..., "only the fields"),
]


@pytest.mark.parametrize("edit_line,old,new,line,column,value,fragment", YAML_CASES,
                         ids=[c[4] + ":" + c[2][:20] for c in YAML_CASES])
def test_claims_rule(data_copy, edit_line, old, new, line, column, value, fragment):
    _edit_yaml(data_copy, edit_line, old, new)
    expect_error(data_copy, "claims.yaml", line, column, value, fragment)


def test_claims_unknown_metric(data_copy):
    n = next(i for i, t in enumerate(lines(data_copy / "claims.yaml"), 1) if "metric: revenue," in t)
    _edit_yaml(data_copy, n, "metric: revenue,", "metric: revenu,")
    expect_error(data_copy, "claims.yaml", n, "C05.checks[0].metric", "revenu", "a metric known")


def test_claims_yaml_syntax_error(data_copy):
    _edit_yaml(data_copy, 65, "tolerance: 0.01}", "tolerance: 0.01")
    with pytest.raises(DataValidationError) as ei:
        D.load_claims(data_dir=data_copy)
    err = ei.value
    # the line of the unclosed '{' (PyYAML notices it on the next line, 66)
    assert err.expected.startswith("valid YAML") and err.line == 65, str(err)
    assert "'}' closing the '{'" in err.expected
    assert err.column == "character 7"
    assert f"line {err.line}," in str(err)


def test_claims_not_a_list(data_copy):
    (data_copy / "claims.yaml").write_text("# only a comment\n", encoding="utf-8")
    expect_error(data_copy, "claims.yaml", 1, None, "", "a non-empty list of claims")
