"""Schemas of the raw data files: columns, types, allowed values, keys.

One place that says what a valid row is. Units follow data/README.md: money in USD millions
(`usd_m`), percentages as numbers 0..100 (`pct`), counts as absolute numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import ranges as R
from .ranges import Range

SOURCE_KINDS = ("filing", "press_release", "transcript", "secondary", "news")
CONFIDENCE = ("high", "medium", "low")
CONFIDENCE_RANK = {"high": 3, "medium": 2, "low": 1}

# period codes in fundamentals.csv / customers.csv
PERIOD_RE = re.compile(r"^(FY(?P<fy>\d{4})|(?P<qy>\d{4})Q(?P<q>[1-4])|(?P<hy>\d{4})H1|(?P<ny>\d{4})-9M)$")

# metric -> unit, read from the one table of fundamentals metrics (`ranges.METRIC_RANGES`, each with
# its range and unit). A metric not listed there is an error: add it there when the data grows.
METRIC_UNITS: dict[str, str] = {metric: rng.unit for metric, rng in R.METRIC_RANGES.items()}

CUSTOMER_MEASURES = (
    "revenue_share", "accounts_receivable_share", "revenue_backlog_share",
    "expected_committed_revenue_share",
)
CONTRACT_KINDS = (
    "customer_contract", "capacity_agreement", "acquisition_all_stock", "acquisition_terminated",
)
EVENT_TIMINGS = ("before_open", "intraday", "after_close", "unknown")
EVENT_KINDS = (
    "sector_news", "ipo", "earnings", "m_and_a", "lockup", "contract", "other", "guidance",
    "financing", "index",
)


@dataclass(frozen=True)
class Col:
    """One column: `kind` is str, float, int, date (YYYY-MM-DD), pdate (YYYY-MM or YYYY-MM-DD).

    `range`: the plausible values of a number (`ranges.Range`, from the one table in ranges.py;
    prefer it to the bare `min`/`max`/`positive`, which give no reason in the error).
    `by_snapshot`: a date that cannot be after the data's snapshot date (`load.snapshot_date`):
    nothing became public after the data was collected.
    """

    name: str
    kind: str = "str"
    required: bool = True  # a value must be present (not just the column)
    choices: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    positive: bool = False
    range: Range | None = None
    by_snapshot: bool = False


@dataclass(frozen=True)
class Schema:
    file: str  # path relative to data/
    columns: tuple[Col, ...]
    key: tuple[str, ...] = ()
    published: str | None = None  # column that says when a row became public
    checks: tuple[str, ...] = field(default_factory=tuple)  # names of rules in rules.FILE_RULES / CROSS_FILE_RULES


PERIOD = r"FY\d{4}|\d{4}Q[1-4]|\d{4}H1|\d{4}-9M"

FUNDAMENTALS = Schema(
    file="fundamentals.csv",
    columns=(
        Col("period", pattern=PERIOD), Col("period_start", "date"), Col("period_end", "date"),
        Col("published", "pdate", required=False, by_snapshot=True),
        Col("metric", choices=tuple(METRIC_UNITS)),
        Col("value", "float"), Col("unit", choices=("usd_m", "usd", "pct", "mw", "count", "years", "days")),
        Col("source_kind", choices=SOURCE_KINDS), Col("source"), Col("confidence", choices=CONFIDENCE),
        Col("note", required=False),
    ),
    key=("period", "metric", "source", "published"),
    published="published",
    checks=("period_dates", "metric_unit", "value_range", "source_exists"),
)

CUSTOMERS = Schema(
    file="customers.csv",
    columns=(
        Col("period", pattern=PERIOD), Col("published", "pdate", required=False, by_snapshot=True),
        Col("customer"), Col("measure", choices=CUSTOMER_MEASURES),
        Col("value", "float", range=R.SHARE_PCT),
        Col("unit", choices=("pct",)), Col("source_kind", choices=SOURCE_KINDS), Col("source"),
        Col("note", required=False),
    ),
    key=("period", "customer", "measure", "source"),
    published="published",
    checks=("source_exists",),
)

CONTRACTS = Schema(
    file="contracts.csv",
    columns=(
        Col("announced", "date", required=False, by_snapshot=True), Col("counterparty"),
        Col("kind", choices=CONTRACT_KINDS),
        Col("value_usd_m", "float", required=False, range=R.CONTRACT_VALUE),
        Col("term_years", "float", required=False, range=R.TERM_YEARS),
        Col("start", "pdate", required=False),
        Col("note", required=False), Col("source_kind", choices=SOURCE_KINDS), Col("source"),
    ),
    key=("announced", "counterparty", "kind", "value_usd_m"),
    published="announced",
    checks=("source_exists",),
)

FINANCINGS = Schema(
    file="financings.csv",
    columns=(
        Col("announced", "pdate", required=False, by_snapshot=True), Col("holder"), Col("kind"),
        Col("value_usd_m", "float", required=False, range=R.CONTRACT_VALUE),
        Col("term_years", "float", required=False, range=R.TERM_YEARS),
        Col("start", "date", required=False),
        Col("note", required=False), Col("source_kind", choices=SOURCE_KINDS), Col("source"),
    ),
    key=("announced", "holder", "kind"),
    published="announced",
    checks=("source_exists",),
)

# debt_facilities.csv: one row per facility, date and measure (principal outstanding, facility
# commitment, principal issued, or terms only), with its rate and maturity as the document states them
DEBT_FACILITIES = (
    "ddtl_1_0", "ddtl_2_0", "ddtl_2_1", "ddtl_3_0", "ddtl_4_0", "ddtl_5_0", "term_loan_2024",
    "revolver", "oem_financing", "magnetar_loan", "senior_notes_2030", "senior_notes_2031",
    "senior_notes_2031_b", "convertible_notes_2031", "convertible_notes_2032",
)
DEBT_MEASURES = ("principal", "commitment", "issued", "terms")
RATE_KINDS = ("effective", "stated", "sofr_margin")

DEBT_FACILITY_TABLE = Schema(
    file="debt_facilities.csv",
    columns=(
        Col("as_of", "date"), Col("facility", choices=DEBT_FACILITIES),
        Col("measure", choices=DEBT_MEASURES), Col("amount_usd_m", "float", required=False, min=0),
        Col("rate_kind", required=False, choices=RATE_KINDS),
        Col("rate_pct", "float", required=False, min=0, max=100),
        Col("rate_high_pct", "float", required=False, min=0, max=100),
        Col("maturity", required=False, pattern=r"\d{4}-\d{2}(-\d{2})?( to \d{4}-\d{2}(-\d{2})?)?"),
        Col("published", "pdate", required=False, by_snapshot=True), Col("source_kind", choices=SOURCE_KINDS),
        Col("source"), Col("confidence", choices=CONFIDENCE), Col("note"),
    ),
    key=("as_of", "facility", "measure", "source"),
    published="published",
    checks=("debt_facility_rows", "source_exists"),
)

# debt_maturities.csv: the contractual schedule of future principal payments (10-Q/10-K debt note)
MATURITY_BUCKETS = ("remaining_year", "year", "thereafter", "total")
DEBT_MATURITIES = Schema(
    file="debt_maturities.csv",
    columns=(
        Col("as_of", "date"), Col("bucket", choices=MATURITY_BUCKETS),
        Col("year", "int", required=False, min=2000, max=2100),
        Col("amount_usd_m", "float", min=0), Col("published", "pdate", required=False, by_snapshot=True),
        Col("source_kind", choices=SOURCE_KINDS), Col("source"), Col("confidence", choices=CONFIDENCE),
        Col("note", required=False),
    ),
    key=("as_of", "bucket", "year", "source"),
    published="published",
    checks=("maturity_schedule", "source_exists"),
)

SOURCES = Schema(
    file="sources.csv",
    columns=(
        Col("id", pattern=r"[A-Za-z0-9_]+"), Col("source_kind", choices=SOURCE_KINDS),
        Col("default_confidence", choices=CONFIDENCE), Col("title"), Col("locator"),
        Col("date", "pdate", required=False, by_snapshot=True),
    ),
    key=("id",),
)

EVENTS = Schema(
    file="events.csv",
    columns=(
        Col("event_id", pattern=r"E\d{2,}"), Col("announced", "date", by_snapshot=True),
        Col("timing", choices=EVENT_TIMINGS), Col("day0", "date"), Col("kind", choices=EVENT_KINDS),
        Col("origin", pattern=r"[A-Z]{1,5}"), Col("description"), Col("source"),
        Col("source_date", "date", required=False, by_snapshot=True),
        Col("confidence", choices=CONFIDENCE),
    ),
    key=("event_id",),
    published="announced",
    checks=("day0_after_announced",),
)

PRICES_COLUMNS = (
    Col("date", "date"),
    Col("open", "float", required=False, range=R.PRICE),
    Col("high", "float", required=False, range=R.PRICE),
    Col("low", "float", required=False, range=R.PRICE),
    Col("close", "float", required=False, range=R.PRICE),
    Col("adj_close", "float", required=False, range=R.PRICE),
    Col("volume", "float", required=False, range=R.VOLUME),
)


#: a ticker, as a price file's name (prices/<TICKER>.csv) and in dividends.csv
TICKER = r"[A-Z.]{1,6}"


def prices_schema(ticker: str) -> Schema:
    return Schema(
        file=f"prices/{ticker}.csv", columns=PRICES_COLUMNS, key=("date",), published="date",
        checks=("date_order", "bar_sanity"),
    )


DIVIDENDS = Schema(
    file="prices/dividends.csv",
    columns=(Col("ticker", pattern=TICKER), Col("ex_date", "date"),
             Col("dividend", "float", range=R.DIVIDEND)),
    key=("ticker", "ex_date"),
    published="ex_date",
    checks=("ticker_has_prices",),
)

# claims.yaml: measure -> required arguments (from the file's header)
CLAIM_MEASURES: dict[str, tuple[tuple[str, ...], ...]] = {
    # each entry: the alternative argument sets the measure accepts
    "close": (("ticker", "date"),),
    "open": (("ticker", "date"),),
    "high": (("ticker", "date"),),
    "low": (("ticker", "date"),),
    "return": (("ticker", "start", "end"), ("ticker", "date")),
    "return_from_price": (("ticker", "price", "end"),),
    "worst_return": (("ticker", "start", "end", "days"),),
    "decline_from_peak": (("ticker", "start", "end"),),
    "record_close_date": (("ticker", "end"),),
    "metric": (("metric", "period"),),
    "growth": (("metric", "period", "base"),),
    "operating_margin": (("period",),),
    "interest_and_da_to_revenue": (("period",),),
    "margin_to_interest_rate": (("period",),),
    "contracts_total": (("counterparty", "start", "end"),),
    "share_of_backlog": (("counterparty", "period", "start", "end"),),
    "guidance": (("metric", "fiscal_year", "published", "bound"),),
    "none": (("reason",),),
}
CLAIM_RELATIONS = ("approx", "below", "above", "equals")
CLAIM_DATE_ARGS = ("date", "start", "end", "published")

#: every CSV table with a fixed schema (prices have one schema per ticker: `prices_schema`)
TABLE_SCHEMAS: tuple[Schema, ...] = (FUNDAMENTALS, CUSTOMERS, CONTRACTS, FINANCINGS, DEBT_FACILITY_TABLE,
                                     DEBT_MATURITIES, SOURCES, EVENTS, DIVIDENDS)
