"""Fault catalog, data side: the cases, the edits they make to a temp copy of data/, payloads.

Every case edits a private copy of the vendored data (never data/ itself) and names what the
error must say: the file, the 1-based line, the column and a fragment of the expectation. Rows
are found by their content (`row_line`), so a case points at the same figure after re-vendoring.
The bad values are corruptions made up for the test (a negative revenue, a 2031 publication
date); the rows they corrupt are real.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import edits as E
import yaml

from analysis import paths

ROOT = paths.ROOT
REAL_DATA = ROOT / "data"


# ---- edits on a data copy (tests/edits.py does the editing; these name files by data-relative path)

def row_line(rel: str, data_dir: Path = REAL_DATA, **key) -> int:
    """1-based line of the first CSV row whose columns equal `key` (one-line rows)."""
    return E.row_line(data_dir / rel, **key)


def text_line(rel: str, needle: str, data_dir: Path = REAL_DATA, after: int = 0) -> int:
    return E.text_line(data_dir / rel, needle, after=after)


def set_cell(data_dir: Path, rel: str, line: int, column: str, value: str) -> None:
    E.set_cell(data_dir / rel, line, column, value)


# ---- the catalog ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One corruption: `edit(data_dir)` makes it; the error must name `file` (relative to the
    data folder), `line`, `column` and contain `fragment` in its expectation."""

    id: str
    edit: Callable[[Path], None]
    file: str
    line: int | None
    column: str | None
    fragment: str
    kind: str  # what the case is about (the catalog's grouping)


def _fund(**key) -> int:
    return row_line("fundamentals.csv", **key)


REV_25Q3 = _fund(period="2025Q3", metric="revenue", source="PR_25Q3")
CAPEX = _fund(metric="capex_cash")
BACKLOG = _fund(metric="revenue_backlog")
SHARES_A = _fund(metric="shares_outstanding_class_a")
RPO_24M = _fund(metric="rpo_within_24m_pct")
MARGIN_PCT = _fund(metric="operating_margin_pct")
POWER = _fund(metric="active_power_mw")
GPU_LIFE = _fund(metric="gpu_useful_life_years")
NET_INCOME = _fund(period="2025Q3", metric="net_income")
CUST = row_line("customers.csv", customer="Microsoft", measure="revenue_share")
CONTRACT = row_line("contracts.csv", counterparty="OpenAI")
FIN = row_line("financings.csv", holder="Senior noteholders")
EVENT = row_line("events.csv", event_id="E03")
SOURCE = row_line("sources.csv", id="PR_25Q3")
CRWV_NOV11 = row_line("prices/CRWV.csv", date="2025-11-11")
CRWV_LAST = len(E.lines(REAL_DATA / "prices/CRWV.csv"))
DIVIDEND = row_line("prices/dividends.csv", ticker="AVGO")
C04 = text_line("claims.yaml", "- id: C04")
C04_CLOSE = text_line("claims.yaml", "{measure: close, ticker: CRWV, date: 2025-11-10", after=C04)
C04_RETURN = text_line("claims.yaml", "{measure: return, ticker: CRWV, date: 2025-11-11", after=C04)
C05 = text_line("claims.yaml", "- id: C05")
C05_REVENUE = text_line("claims.yaml", "{measure: metric, metric: revenue, period: 2025Q3", after=C05)
C04_CLAIM = text_line("claims.yaml", "  claim: ", after=C04)
C01_DECLINE = text_line("claims.yaml", "{measure: decline_from_peak", after=text_line("claims.yaml", "- id: C01"))
SMH_CITED = text_line("claims.yaml", "ticker: SMH")
SMH_CLAIM = max(n for n in range(1, SMH_CITED + 1) if E.lines(REAL_DATA / "claims.yaml")[n - 1].startswith("- id: "))

SNAPSHOT = "the data's snapshot date"


def cell(rel, line, column, value):
    return lambda d: set_cell(d, rel, line, column, value)


def in_line(rel, line, old, new):
    return lambda d: E.replace_in_line(d / rel, line, old, new)


def _delete(rel):
    return lambda d: (d / rel).unlink()


def _claim_id(line: int) -> str:
    return E.lines(REAL_DATA / "claims.yaml")[line - 1].split("id:", 1)[1].strip()


def _check_index(claim_line: int, check_line: int) -> int:
    lines = E.lines(REAL_DATA / "claims.yaml")
    return sum(1 for n in range(claim_line + 1, check_line) if lines[n - 1].lstrip().startswith("- {"))


SMH_WHERE = f"{_claim_id(SMH_CLAIM)}.checks[{_check_index(SMH_CLAIM, SMH_CITED)}].ticker"

CASES: list[Case] = [
    # ---- negative where a figure cannot be negative
    Case("revenue_negative", cell("fundamentals.csv", REV_25Q3, "value", "-1364.676"),
         "fundamentals.csv", REV_25Q3, "value", "revenue: a number >= 0", "negative"),
    Case("capex_negative", cell("fundamentals.csv", CAPEX, "value", "-1215.15"),
         "fundamentals.csv", CAPEX, "value", "capex_cash: a number >= 0", "negative"),
    Case("backlog_negative", cell("fundamentals.csv", BACKLOG, "value", "-25900"),
         "fundamentals.csv", BACKLOG, "value", "revenue_backlog: a number >= 0", "negative"),
    Case("shares_negative", cell("fundamentals.csv", SHARES_A, "value", "-361875000"),
         "fundamentals.csv", SHARES_A, "value", "a number >= 0", "negative"),
    Case("price_close_negative", cell("prices/CRWV.csv", CRWV_NOV11, "close", "-88.39"),
         "prices/CRWV.csv", CRWV_NOV11, "close", "a positive number", "negative"),
    Case("price_volume_negative", cell("prices/CRWV.csv", CRWV_NOV11, "volume", "-5"),
         "prices/CRWV.csv", CRWV_NOV11, "volume", "a number >= 0", "negative"),
    Case("contract_value_negative", cell("contracts.csv", CONTRACT, "value_usd_m", "-11900"),
         "contracts.csv", CONTRACT, "value_usd_m", "a number >= 0", "negative"),
    Case("financing_value_negative", cell("financings.csv", FIN, "value_usd_m", "-1750"),
         "financings.csv", FIN, "value_usd_m", "a number >= 0", "negative"),
    Case("dividend_negative", cell("prices/dividends.csv", DIVIDEND, "dividend", "-0.59"),
         "prices/dividends.csv", DIVIDEND, "dividend", "a positive number", "negative"),
    Case("claim_close_negative", in_line("claims.yaml", C04_CLOSE, "stated: 105.61", "stated: -105.61"),
         "claims.yaml", C04_CLOSE, "C04.checks[0].stated", "a positive number", "negative"),
    # ---- magnitudes: units-consistent ranges
    Case("revenue_1e20", cell("fundamentals.csv", REV_25Q3, "value", "1e20"),
         "fundamentals.csv", REV_25Q3, "value", "revenue: a number <= 1e+06", "magnitude"),
    Case("revenue_in_usd", cell("fundamentals.csv", REV_25Q3, "value", "1364676000"),
         "fundamentals.csv", REV_25Q3, "value", "unit slip", "magnitude"),
    Case("net_income_huge_loss", cell("fundamentals.csv", NET_INCOME, "value", "-110000000"),
         "fundamentals.csv", NET_INCOME, "value", "net_income: a number >= -1e+06", "magnitude"),
    Case("backlog_in_thousands", cell("fundamentals.csv", BACKLOG, "value", "25900000000"),
         "fundamentals.csv", BACKLOG, "value", "a number <= 1e+07", "magnitude"),
    Case("power_1e9", cell("fundamentals.csv", POWER, "value", "1e9"),
         "fundamentals.csv", POWER, "value", "a number <= 100000", "magnitude"),
    Case("gpu_life_zero", cell("fundamentals.csv", GPU_LIFE, "value", "0"),
         "fundamentals.csv", GPU_LIFE, "value", "a number >= 1", "magnitude"),
    Case("price_1e20", cell("prices/CRWV.csv", CRWV_NOV11, "high", "1e20"),
         "prices/CRWV.csv", CRWV_NOV11, "high", "a number <= 1e+06", "magnitude"),
    Case("contract_term_500y", cell("contracts.csv", CONTRACT, "term_years", "500"),
         "contracts.csv", CONTRACT, "term_years", "a number <= 100", "magnitude"),
    Case("claim_metric_in_usd", in_line("claims.yaml", C05_REVENUE, "stated: 1400,", "stated: 1400000000,"),
         "claims.yaml", C05_REVENUE, "C05.checks[0].stated", "a number <= 1e+06", "magnitude"),
    Case("claim_return_below_minus_1", in_line("claims.yaml", C04_RETURN, "stated: -0.163", "stated: -16.3"),
         "claims.yaml", C04_RETURN, "C04.checks[2].stated", "a number >= -1", "magnitude"),
    Case("claim_decline_positive", in_line("claims.yaml", C01_DECLINE, "stated: -0.60", "stated: 0.60"),
         "claims.yaml", C01_DECLINE, "C01.checks[0].stated", "a number <= 0", "magnitude"),
    # ---- percentages within 0..100
    Case("pct_metric_over_100", cell("fundamentals.csv", RPO_24M, "value", "135"),
         "fundamentals.csv", RPO_24M, "value", "a number <= 100", "percentage"),
    Case("pct_metric_negative", cell("fundamentals.csv", RPO_24M, "value", "-5"),
         "fundamentals.csv", RPO_24M, "value", "a number >= 0", "percentage"),
    Case("margin_pct_over_100", cell("fundamentals.csv", MARGIN_PCT, "value", "150"),
         "fundamentals.csv", MARGIN_PCT, "value", "a number <= 100", "percentage"),
    Case("customer_share_over_100", cell("customers.csv", CUST, "value", "135"),
         "customers.csv", CUST, "value", "a number <= 100", "percentage"),
    # ---- dates: future publication, bad dates, gaps
    Case("published_2031", cell("fundamentals.csv", REV_25Q3, "published", "2031-03-03"),
         "fundamentals.csv", REV_25Q3, "published", SNAPSHOT, "date"),
    Case("published_month_2031", cell("fundamentals.csv", REV_25Q3, "published", "2031-03"),
         "fundamentals.csv", REV_25Q3, "published", SNAPSHOT, "date"),
    Case("customer_published_2031", cell("customers.csv", CUST, "published", "2031-03-03"),
         "customers.csv", CUST, "published", SNAPSHOT, "date"),
    Case("contract_announced_2031", cell("contracts.csv", CONTRACT, "announced", "2031-03-03"),
         "contracts.csv", CONTRACT, "announced", SNAPSHOT, "date"),
    Case("financing_announced_2031", cell("financings.csv", FIN, "announced", "2031-03"),
         "financings.csv", FIN, "announced", SNAPSHOT, "date"),
    Case("event_source_date_2031", cell("events.csv", EVENT, "source_date", "2031-03-03"),
         "events.csv", EVENT, "source_date", SNAPSHOT, "date"),
    Case("source_document_2031", cell("sources.csv", SOURCE, "date", "2031-03-03"),
         "sources.csv", SOURCE, "date", SNAPSHOT, "date"),
    Case("claim_published_2031", in_line("claims.yaml", C04 + 1, "published: 2025-12-17", "published: 2031-03-03"),
         "claims.yaml", C04, "C04.published", SNAPSHOT, "date"),
    Case("price_row_in_2031", lambda d: E.append_line(d / "prices/CRWV.csv", "2031-03-03,80,81,79,80,,1000"),
         "prices/CRWV.csv", CRWV_LAST + 1, "date", "at most 7 calendar days later", "date"),
    Case("published_bad_day", cell("fundamentals.csv", REV_25Q3, "published", "2025-02-30"),
         "fundamentals.csv", REV_25Q3, "published", "YYYY-MM-DD", "date"),
    Case("published_bad_month", cell("fundamentals.csv", REV_25Q3, "published", "2025-13"),
         "fundamentals.csv", REV_25Q3, "published", "a month YYYY-MM", "date"),
    Case("price_date_us_format", cell("prices/CRWV.csv", CRWV_NOV11, "date", "11/11/2025"),
         "prices/CRWV.csv", CRWV_NOV11, "date", "YYYY-MM-DD", "date"),
    Case("claim_bad_date", in_line("claims.yaml", C04_CLOSE, "date: 2025-11-10", "date: 2025-11-31"),
         "claims.yaml", C04_CLOSE, "C04.checks[0].date", "YYYY-MM-DD", "date"),
    # ---- corrupt values and shifted columns
    Case("value_not_a_number", cell("fundamentals.csv", REV_25Q3, "value", "1364.6x"),
         "fundamentals.csv", REV_25Q3, "value", "a number", "corrupt"),
    Case("value_unquoted_thousands", in_line("fundamentals.csv", REV_25Q3, ",1364.676,", ",1,364.676,"),
         "fundamentals.csv", REV_25Q3, "field 12", "a value beyond the last column", "corrupt"),
    Case("columns_shifted_left", in_line("fundamentals.csv", REV_25Q3, "revenue,1364.676,usd_m,", "revenue,usd_m,1364.676,"),
         "fundamentals.csv", REV_25Q3, "value", "a number", "corrupt"),
    Case("column_dropped", in_line("fundamentals.csv", REV_25Q3, ",1364.676,usd_m,", ",1364.676,"),
         "fundamentals.csv", REV_25Q3, "note", "no field for column 'note'", "corrupt"),
    Case("price_shifted", in_line("prices/CRWV.csv", CRWV_NOV11, "2025-11-11,", "2025-11-11,,"),
         "prices/CRWV.csv", CRWV_NOV11, "field 8", "a value beyond the last column", "corrupt"),
    Case("nan_value", cell("fundamentals.csv", REV_25Q3, "value", "nan"),
         "fundamentals.csv", REV_25Q3, "value", "a number", "corrupt"),
    Case("bad_bytes", lambda d: (d / "events.csv").write_bytes((d / "events.csv").read_bytes().replace(b"IPO", b"IP\xff", 1)),
         "events.csv", text_line("events.csv", "IPO"), None, "UTF-8", "corrupt"),
    # ---- malformed YAML: the error points at the line at fault
    Case("yaml_unclosed_brace", in_line("claims.yaml", C04_CLOSE, "tolerance: 0.01}", "tolerance: 0.01"),
         "claims.yaml", C04_CLOSE, "character 7", "'}' closing the '{'", "yaml"),
    Case("yaml_unclosed_bracket", in_line("claims.yaml", C04_CLOSE, "- {measure", "- [{measure"),
         "claims.yaml", C04_CLOSE, "character 7", "']' closing the '['", "yaml"),
    Case("yaml_unclosed_quote", in_line("claims.yaml", C04_CLAIM, "claim: ", 'claim: "'),
         "claims.yaml", C04_CLAIM, "character 10", "closing quote", "yaml"),
    Case("yaml_tab_indent", in_line("claims.yaml", C04_CLAIM, "  claim: ", "\tclaim: "),
         "claims.yaml", C04_CLAIM, "character 1", "valid YAML", "yaml"),
    Case("yaml_bad_indent", in_line("claims.yaml", C04_CLAIM, "  claim: ", "     claim: "),
         "claims.yaml", C04_CLAIM, "character 11", "valid YAML", "yaml"),
    # ---- deleted and added files
    Case("deleted_cited_price_file", _delete("prices/SMH.csv"),
         "claims.yaml", SMH_CITED, SMH_WHERE, "prices/SMH.csv does not exist", "files"),
    Case("deleted_sources", _delete("sources.csv"),
         "sources.csv", None, None, "the file to exist", "files"),
    Case("deleted_claims", _delete("claims.yaml"),
         "claims.yaml", None, None, "the file to exist", "files"),
    Case("added_unknown_file", lambda d: (d / "notes.txt").write_text("draft\n", encoding="utf-8"),
         "notes.txt", None, None, "a data file that a loader", "files"),
    Case("added_price_file_named_as_markup", lambda d: shutil.copyfile(d / "prices/SPY.csv", d / "prices/<b>X.csv"),
         "prices/<b>X.csv", None, None, "a data file that a loader", "files"),
    Case("added_bad_price_file", lambda d: (d / "prices" / "ZZZ.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2025-01-02,10,8,9,9,,100\n", encoding="utf-8"),
         "prices/ZZZ.csv", 2, "high", "high >= low", "files"),
]

#: the end-to-end subset: `make` in a copy of the checkout (data edited, manifest rewritten)
E2E_REPORT = ("revenue_negative", "published_2031", "deleted_cited_price_file")


def case(case_id: str) -> Case:
    return next(c for c in CASES if c.id == case_id)


# ---- free-text fields and payloads ----------------------------------------------------------

#: every free-text field of every data file (claims.yaml: `checks.x` is a field of each check);
#: columns that hold ids or controlled values are not free text
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "fundamentals.csv": ("note",),
    "customers.csv": ("customer", "note"),
    "contracts.csv": ("counterparty", "note"),
    "financings.csv": ("holder", "kind", "note"),
    "sources.csv": ("title", "locator"),
    "events.csv": ("description", "source"),
    "claims.yaml": ("outlet", "claim", "note", "checks.note", "checks.reason", "checks.counterparty"),
}

#: hostile text, one string with every kind: script, external image with a handler, markdown
#: link and image to outside the note, Typst markup, a citation and math
PAYLOAD = ('<script>alert(1)</script><img src=http://evil.invalid/i.png onerror=alert(2)> '
           '[m](http://evil.invalid/l) ![i](http://evil.invalid/i.png) '
           '#link("http://evil.invalid/t")[t] #image("http://evil.invalid/x.png") @ref $x$')


def plant_payload(data_dir: Path, payload: str = PAYLOAD) -> dict[str, int]:
    """Put `payload` in every free-text field of every row of every data file, followed by
    " #<n>" (a count, so that keys made of free text stay unique); returns the number of values
    planted per file. CSV rows keep their lines; claims.yaml is rewritten."""
    counts: dict[str, int] = {}
    for rel, fields in FREE_TEXT.items():
        path = data_dir / rel
        if rel.endswith(".csv"):
            text = path.read_text(encoding="utf-8")
            rows = list(csv.reader(io.StringIO(text, newline="")))
            idx = [rows[0].index(f) for f in fields]
            n = 0
            for row in rows[1:]:
                for i in idx:
                    n += 1
                    row[i] = f"{payload} #{n}"
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerows(rows)
            path.write_text(buf.getvalue(), encoding="utf-8")
        else:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            n = 0
            for claim in doc:
                for f in fields:
                    if f.startswith("checks."):
                        for chk in claim["checks"]:
                            if f[7:] in chk:
                                n += 1
                                chk[f[7:]] = f"{payload} #{n}"
                    elif f in claim:
                        n += 1
                        claim[f] = f"{payload} #{n}"
            path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=10_000),
                            encoding="utf-8")
        counts[rel] = n
    return counts


# ---- a notebook executed in this process (no kernel): fast enough for the payload test ------

def _bundle(obj) -> dict:
    """The mime bundle Jupyter would show for `obj` (exhibits, markdown, HTML, text)."""
    if hasattr(obj, "_repr_mimebundle_"):
        data = obj._repr_mimebundle_()
        return data[0] if isinstance(data, tuple) else data
    if hasattr(obj, "_repr_markdown_"):
        md = obj._repr_markdown_()
        return {"text/markdown": md[0] if isinstance(md, tuple) else md}
    if hasattr(obj, "_repr_html_"):
        return {"text/html": obj._repr_html_()}
    return {"text/plain": repr(obj)}


def execute_in_process(notebook: Path, params: dict):
    """Run a notebook's code cells in this process, in order, in one namespace (parameters
    injected after the `parameters` cell, as papermill does), capturing what each cell
    displays as its outputs. The notebook's own code, without a kernel (a kernel start costs
    seconds; the build itself uses papermill)."""
    import IPython.display as ipd
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    shown: list = []
    real_display = ipd.display
    ipd.display = lambda *objs, **_kw: shown.extend(objs)
    ns: dict = {"__name__": "__main__"}
    cwd = os.getcwd()
    os.chdir(notebook.parent)
    try:
        for c in nb.cells:
            if c.cell_type != "code":
                continue
            shown.clear()
            exec(compile(c.source, f"{notebook.name}[{c.get('id', '?')}]", "exec"), ns)
            if "parameters" in c.metadata.get("tags", []):
                ns.update(params)
            c.outputs = [nbformat.v4.new_output("display_data", data=_bundle(o)) for o in shown]
    finally:
        ipd.display = real_display
        os.chdir(cwd)
    return nb
