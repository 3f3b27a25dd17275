"""Claims ledger: compute each press claim's checks (data/claims.yaml) and give verdicts.

A check names a measure (see the header of data/claims.yaml), its arguments, the value the press
stated and a relation. `evaluate_claims` computes every check's actual value from the loaded,
point-in-time data and compares it with the stated value:

- verdict per check: ``confirmed`` / ``differs`` / ``not verifiable`` (the actual is missing, the
  date is not a trading day, the data were not public at `as_of`, or the measure is ``none``);
  a price check with ``date_slack: N`` that matches only on one of the N trading sessions before
  its date is ``confirmed on an earlier session`` (never a plain confirmation): `matched_session`
  names that session and `basis` says what the stated date itself gave;
- difference where it differs: actual - stated in the measure's unit (fractions for returns and
  ratios, USD for prices, USD millions for money, days for dates);
- verdict per claim (`combine_verdicts`): all confirmed -> confirmed; any differs -> differs;
  all confirmed, some only on an earlier session -> confirmed on an earlier session; some
  confirmed and the rest not verifiable -> partly verifiable; none verifiable -> not verifiable.

Provenance: every actual carries the ids of the data behind it. Fundamentals and contracts use
ids of data/sources.csv; a price figure uses ``prices:<TICKER>`` (e.g. ``prices:CRWV``), which
refers to data/prices/PROVENANCE.md (which repository each row came from). Prices are given
confidence ``high`` (`PRICE_CONFIDENCE`): overlapping sources agree to 5.3e-8 and the reference
closes listed in PROVENANCE.md were checked.

Price measures never move a date: a date that is not a trading day of the ticker makes the check
``not verifiable`` with the reason. Returns use ``close`` (split-adjusted, not dividend-adjusted,
as the claims file defines them), or ``adj_close`` where the ticker has only that on every date
involved (SMH in 2025); the check row's ``basis`` says which.

Fundamentals come from `analysis.fundamentals.figure` and the ratio measures from
`analysis.unit_economics.ratio_table(fundamentals.quarterly_panel(fund))` (sources via
`unit_economics.ratio_provenance`): this module does not re-implement them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import concentration, fundamentals, unit_economics
from .data import schema as S
from .data.load import as_of_date
from .labels import metric_label

CONFIRMED_EARLIER = "confirmed on an earlier session"
CHECK_VERDICTS = ("confirmed", CONFIRMED_EARLIER, "differs", "not verifiable")
CLAIM_VERDICTS = ("confirmed", CONFIRMED_EARLIER, "differs", "partly verifiable", "not verifiable")
PRICE_CONFIDENCE = "high"
PRICE_FIELDS = ("close", "open", "high", "low")
RATIO_MEASURES = ("operating_margin", "interest_and_da_to_revenue", "margin_to_interest_rate")
#: reader names of the ratio measures (check names in the note)
RATIO_LABELS = {"operating_margin": "operating margin",
                "interest_and_da_to_revenue": "interest plus D&A over revenue",
                "margin_to_interest_rate": "operating margin over interest rate"}

# unit of each measure's value (metric/guidance: the metric's own unit, pct given as a fraction)
MEASURE_UNITS = {
    "close": "usd", "open": "usd", "high": "usd", "low": "usd",
    "return": "fraction", "return_from_price": "fraction", "worst_return": "fraction",
    "decline_from_peak": "fraction", "record_close_date": "date",
    "growth": "fraction", "operating_margin": "fraction", "interest_and_da_to_revenue": "fraction",
    "margin_to_interest_rate": "ratio", "contracts_total": "usd_m", "share_of_backlog": "fraction",
    "none": "text",
}

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# --------------------------------------------------------------------------- containers
@dataclass(frozen=True)
class Actual:
    """A computed actual value with its provenance.

    `value`: float in `unit` (a Timestamp when unit == 'date'); NaN/None when missing, and then
    `reason` says why. `sources`: data source ids; `confidence`: lowest confidence of the inputs;
    `basis`: how it was computed (price field, dates used); `derived`: an input was derived.
    """

    value: object
    unit: str
    sources: tuple[str, ...] = ()
    confidence: str | None = None
    basis: str = ""
    reason: str | None = None
    derived: bool = False

    @property
    def missing(self) -> bool:
        return _missing(self.value)


def _na(unit: str, reason: str, sources=(), basis: str = "") -> Actual:
    return Actual(math.nan, unit, tuple(sources), None, basis, reason)


@dataclass
class ClaimData:
    """The point-in-time inputs of the ledger (all already filtered to `as_of` by the loaders).

    prices: `load_prices` frame (the trading calendar is the union of its dates);
    fundamentals: `load_fundamentals`; contracts: `load_contracts`; sources: `load_sources`;
    panel: `fundamentals.quarterly_panel(fundamentals)`; ratios: `unit_economics.ratio_table(panel)`
    (both None = not given: the ratio checks are then not verifiable);
    as_of: the note's as-of date (None = latest).
    """

    prices: pd.DataFrame
    fundamentals: pd.DataFrame
    contracts: pd.DataFrame
    sources: pd.DataFrame
    panel: fundamentals.Panel | None = None
    ratios: pd.DataFrame | None = None
    as_of: pd.Timestamp | None = None
    _bars: dict = field(default_factory=dict, repr=False)
    _calendar: pd.DatetimeIndex | None = field(default=None, repr=False)
    _best: pd.DataFrame | None = field(default=None, repr=False)

    def best(self) -> pd.DataFrame:
        """`analysis.fundamentals.best_figures(fundamentals)`, computed once."""
        if self._best is None:
            self._best = fundamentals.best_figures(self.fundamentals)
        return self._best

    def bars(self, ticker: str) -> pd.DataFrame:
        """One ticker's bars indexed by date (sorted)."""
        if ticker not in self._bars:
            g = self.prices[self.prices["ticker"] == ticker].sort_values("date")
            self._bars[ticker] = g.set_index(pd.DatetimeIndex(g["date"], name="date"))
        return self._bars[ticker]

    def calendar(self) -> pd.DatetimeIndex:
        """Trading calendar: sorted union of the dates in `prices`."""
        if self._calendar is None:
            self._calendar = pd.DatetimeIndex(sorted(pd.to_datetime(self.prices["date"]).unique()))
        return self._calendar


def load_claim_data(as_of=None, data_dir=None, tickers=None) -> ClaimData:
    """Load every input of the ledger at `as_of` (prices of `tickers`, default all)."""
    from .data import load_contracts, load_fundamentals, load_prices, load_sources

    fund = load_fundamentals(as_of=as_of, data_dir=data_dir)
    panel = fundamentals.quarterly_panel(fund)
    return ClaimData(
        prices=load_prices(tickers, as_of=as_of, data_dir=data_dir),
        fundamentals=fund,
        contracts=load_contracts(as_of=as_of, data_dir=data_dir),
        sources=load_sources(data_dir=data_dir),
        panel=panel,
        ratios=unit_economics.ratio_table(panel),
        as_of=as_of_date(as_of),
    )


# --------------------------------------------------------------------------- helpers
def _missing(x) -> bool:
    if x is None or x is pd.NaT:
        return True
    if isinstance(x, float | np.floating):
        return not math.isfinite(float(x))
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _iso(d) -> str:
    return pd.Timestamp(d).date().isoformat()


def _min_confidence(levels) -> str | None:
    levels = [c for c in levels if c in S.CONFIDENCE_RANK]
    return min(levels, key=S.CONFIDENCE_RANK.__getitem__) if levels else None


def _as_ids(src) -> tuple[str, ...]:
    """Normalise a source field (id, 'A; B', 'A+B', list of ids) to a tuple of ids."""
    if isinstance(src, str):
        return tuple(p for p in re.split(r"[;,+\s]+", src) if p)
    if isinstance(src, list | tuple | set | np.ndarray | pd.Series):
        return tuple(dict.fromkeys(s for x in src for s in _as_ids(x)))
    return () if _missing(src) else (str(src),)


def _after_as_of(data: ClaimData, d) -> bool:
    return data.as_of is not None and pd.Timestamp(d) > data.as_of


def _not_public(data: ClaimData) -> str:
    return f"; the note is as of {_iso(data.as_of)}" if data.as_of is not None else ""


# --------------------------------------------------------------------------- prices
def trading_day_reason(data: ClaimData, ticker: str, d) -> str | None:
    """None when `d` is a trading day with a bar for `ticker`; else why it is not usable."""
    d = pd.Timestamp(d)
    g = data.bars(ticker)
    if g.empty:
        return f"no {ticker} prices in the data"
    if d in g.index:
        return None
    if _after_as_of(data, d):
        return f"{_iso(d)} is after the note's as-of date {_iso(data.as_of)}"
    if d < g.index[0]:
        return f"{_iso(d)} is before the first {ticker} price ({_iso(g.index[0])})"
    if d > g.index[-1]:
        return f"{_iso(d)} is after the last {ticker} price ({_iso(g.index[-1])})"
    if d.weekday() >= 5:
        return f"{_iso(d)} is a {_WEEKDAYS[d.weekday()]}, not a trading day"
    if d not in data.calendar():
        return f"{_iso(d)} is not a trading day (exchange holiday: no bar in any price file)"
    return f"no {ticker} bar on {_iso(d)}"


def _range_reason(data: ClaimData, ticker: str, start, end) -> str | None:
    """Why the prices of `ticker` do not cover [start, end] (None when they do)."""
    g = data.bars(ticker)
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    if g.empty:
        return f"no {ticker} prices in the data"
    if end < start:
        return f"the range ends ({_iso(end)}) before it starts ({_iso(start)})"
    if _after_as_of(data, end):
        return f"{_iso(end)} is after the note's as-of date {_iso(data.as_of)}"
    if start < g.index[0]:
        return f"{_iso(start)} is before the first {ticker} price ({_iso(g.index[0])})"
    if end > g.index[-1]:
        return f"{_iso(end)} is after the last {ticker} price ({_iso(g.index[-1])})"
    return None


def adj_close_only_spans(prices: pd.DataFrame) -> pd.DataFrame:
    """Where a `load_prices` frame has a dividend-adjusted close but no close, by ticker.

    Columns: ticker, start, end (first and last such date), n_days (number of such rows; the
    span may have gaps). Empty when every row with an adj_close also has a close.
    """
    m = prices["close"].isna() & prices["adj_close"].notna()
    g = prices[m].groupby("ticker")["date"]
    out = pd.DataFrame({"start": g.min(), "end": g.max(), "n_days": g.size()}).reset_index()
    return out[["ticker", "start", "end", "n_days"]]


def _price_field(g: pd.DataFrame, dates) -> str | None:
    """'close' when every date has a close, else 'adj_close' when every date has one, else None."""
    rows = g.loc[list(dates)]
    for col in ("close", "adj_close"):
        if rows[col].notna().all():
            return col
    return None


def price_level(data: ClaimData, ticker: str, d, field: str) -> Actual:
    """Price `field` (close/open/high/low, USD, split-adjusted) of `ticker` on trading day `d`."""
    src = (f"prices:{ticker}",)
    why = trading_day_reason(data, ticker, d)
    if why:
        return _na("usd", why, src)
    v = data.bars(ticker).loc[pd.Timestamp(d), field]
    if _missing(v):
        return _na("usd", f"no {field} for {ticker} on {_iso(d)} in the price source", src)
    return Actual(float(v), "usd", src, PRICE_CONFIDENCE, f"{field} {_iso(d)}")


def _return(data: ClaimData, ticker: str, d0, d1, what: str) -> Actual:
    src = (f"prices:{ticker}",)
    g = data.bars(ticker)
    col = _price_field(g, [d0, d1])
    if col is None:
        return _na("fraction", f"no close or adj_close for {ticker} on both {_iso(d0)} and {_iso(d1)}", src)
    p0, p1 = float(g.loc[d0, col]), float(g.loc[d1, col])
    return Actual(p1 / p0 - 1.0, "fraction", src, PRICE_CONFIDENCE,
                  f"{col} {_iso(d1)} / {col} {_iso(d0)} - 1 ({what})")


def price_return(data: ClaimData, ticker: str, start=None, end=None, date=None) -> Actual:
    """Simple return (fraction): close(end) / close(start) - 1, or with `date` the one-day
    close-to-close return on `date` (previous trading day to `date`). Not dividend-adjusted."""
    if date is not None:
        d1 = pd.Timestamp(date)
        why = trading_day_reason(data, ticker, d1)
        if why:
            return _na("fraction", why, (f"prices:{ticker}",))
        g = data.bars(ticker)
        pos = g.index.get_loc(d1)
        if pos == 0:
            return _na("fraction", f"{_iso(d1)} is the first {ticker} price: no previous close",
                       (f"prices:{ticker}",))
        d0 = g.index[pos - 1]
        cal = data.calendar()
        if cal.get_loc(d1) - cal.get_loc(d0) != 1:
            return _na("fraction", f"{ticker} has no bar on the trading day before {_iso(d1)}",
                       (f"prices:{ticker}",))
        return _return(data, ticker, d0, d1, "one day")
    for d in (start, end):
        why = trading_day_reason(data, ticker, d)
        if why:
            return _na("fraction", why, (f"prices:{ticker}",))
    return _return(data, ticker, pd.Timestamp(start), pd.Timestamp(end), "period")


def return_from_price(data: ClaimData, ticker: str, price: float, end) -> Actual:
    """close(end) / price - 1 (fraction); `price` in USD (e.g. an IPO price)."""
    src = (f"prices:{ticker}",)
    lvl = price_level(data, ticker, end, "close")
    if lvl.missing:
        return _na("fraction", lvl.reason, src)
    return Actual(lvl.value / float(price) - 1.0, "fraction", src, PRICE_CONFIDENCE,
                  f"close {_iso(end)} / {float(price):.2f} - 1")


def worst_return(data: ClaimData, ticker: str, start, end, days: int) -> Actual:
    """Lowest `days`-trading-day close-to-close return (fraction) over windows ending in [start, end]."""
    src = (f"prices:{ticker}",)
    days = int(days)
    why = _range_reason(data, ticker, start, end)
    if why:
        return _na("fraction", why, src)
    g = data.bars(ticker)
    idx = g.index
    ends = np.flatnonzero((idx >= pd.Timestamp(start)) & (idx <= pd.Timestamp(end)))
    if len(ends) == 0:
        return _na("fraction", f"no {ticker} trading day in {_iso(start)}..{_iso(end)}", src)
    if ends[0] - days < 0:
        return _na("fraction", f"the first {days}-day window ending in the range starts before the "
                               f"first {ticker} price ({_iso(idx[0])})", src)
    cal = data.calendar()
    involved = idx[ends[0] - days: ends[-1] + 1]
    gaps = np.diff(cal.get_indexer(involved))
    if (gaps != 1).any():
        return _na("fraction", f"{ticker} misses a trading day in the windows", src)
    col = _price_field(g, involved)
    if col is None:
        return _na("fraction", f"{ticker} lacks both close and adj_close on some day of the windows", src)
    p = g[col].to_numpy(dtype=float)
    rets = np.array([p[i] / p[i - days] - 1.0 for i in ends])
    k = int(np.argmin(rets))
    i = ends[k]
    return Actual(float(rets[k]), "fraction", src, PRICE_CONFIDENCE,
                  f"{col}; worst {days}-day window {_iso(idx[i - days])} to {_iso(idx[i])}")


def decline_from_peak(data: ClaimData, ticker: str, start, end) -> Actual:
    """close(end) / (highest close in [start, end]) - 1 (fraction, <= 0)."""
    src = (f"prices:{ticker}",)
    why = _range_reason(data, ticker, start, end) or trading_day_reason(data, ticker, end)
    if why:
        return _na("fraction", why, src)
    g = data.bars(ticker)
    win = g.loc[pd.Timestamp(start): pd.Timestamp(end)]
    col = _price_field(g, win.index)
    if col is None:
        return _na("fraction", f"{ticker} lacks both close and adj_close on some day of the range", src)
    peak_day = win[col].idxmax()
    peak, last = float(win[col].max()), float(win[col].iloc[-1])
    return Actual(last / peak - 1.0, "fraction", src, PRICE_CONFIDENCE,
                  f"{col} {_iso(end)} / peak {col} {peak:.2f} on {_iso(peak_day)} - 1")


def record_close_date(data: ClaimData, ticker: str, end) -> Actual:
    """Date (Timestamp) of the highest close of `ticker` from its first price up to `end`."""
    src = (f"prices:{ticker}",)
    g = data.bars(ticker)
    if g.empty:
        return _na("date", f"no {ticker} prices in the data", src)
    end = pd.Timestamp(end)
    if _after_as_of(data, end):
        return _na("date", f"{_iso(end)} is after the note's as-of date {_iso(data.as_of)}", src)
    if end > g.index[-1]:
        return _na("date", f"{_iso(end)} is after the last {ticker} price ({_iso(g.index[-1])})", src)
    win = g.loc[:end]
    col = _price_field(g, win.index)
    if col is None or win.empty:
        return _na("date", f"{ticker} lacks both close and adj_close on some day up to {_iso(end)}", src)
    d = win[col].idxmax()
    return Actual(pd.Timestamp(d), "date", src, PRICE_CONFIDENCE,
                  f"highest {col} {float(win[col].max()):.2f} from {_iso(win.index[0])} to {_iso(end)}")


# --------------------------------------------------------------------------- fundamentals
def _fig_actual(fig: dict, name: str, what: str, data: ClaimData) -> Actual:
    """An `analysis.fundamentals.figure` dict as an Actual (pct converted to a fraction)."""
    unit = fig.get("unit") or S.METRIC_UNITS.get(name, "usd_m")
    if unit == "pct" and _missing(fig.get("value")):
        unit = "fraction"
    value = fig.get("value")
    if unit == "pct" and not _missing(value):
        value, unit = float(value) / 100.0, "fraction"
    if _missing(value):
        reason = fig.get("reason") or f"no {what} in the data"
        return _na(unit, reason + _not_public(data), _as_ids(fig.get("source")))
    pub = fig.get("published")
    basis = what + (f", published {_iso(pub)}" if not _missing(pub) else ", publication date not verified")
    if fig.get("derived"):
        basis += ", derived"
    return Actual(float(value), unit, _as_ids(fig.get("source")), fig.get("confidence"), basis,
                  None, bool(fig.get("derived")))


def metric(data: ClaimData, name: str, period: str) -> Actual:
    """A fundamentals figure (`analysis.fundamentals.figure`) in its unit (usd_m unless stated)."""
    fig = fundamentals.figure(data.fundamentals, name, str(period), best=data.best())
    return _fig_actual(fig, name, f"{name} {period}", data)


def growth(data: ClaimData, name: str, period: str, base: str) -> Actual:
    """metric(period) / metric(base) - 1 (fraction)."""
    a, b = metric(data, name, period), metric(data, name, base)
    srcs = tuple(dict.fromkeys(a.sources + b.sources))
    for x in (a, b):
        if x.missing:
            return _na("fraction", x.reason, srcs)
    if b.value == 0:
        return _na("fraction", f"{name} {base} is zero", srcs)
    return Actual(a.value / b.value - 1.0, "fraction", srcs, _min_confidence([a.confidence, b.confidence]),
                  f"{name} {period} {a.value:,.1f} / {base} {b.value:,.1f} - 1",
                  None, a.derived or b.derived)


def ratio(data: ClaimData, name: str, period: str) -> Actual:
    """A quarterly ratio from `analysis.unit_economics.ratio_table` (operating_margin and
    interest_and_da_to_revenue: fractions; margin_to_interest_rate: ratio), with the sources,
    weakest confidence and derived flag of its inputs (`unit_economics.ratio_provenance`)."""
    unit = MEASURE_UNITS[name]
    rt, panel = data.ratios, data.panel
    if rt is None or panel is None:
        return _na(unit, "the unit-economics ratio table was not given")
    period = str(period)
    if period not in rt.index:
        span = f"{rt.index[0]}..{rt.index[-1]}" if len(rt) else "none"
        return _na(unit, f"{name.replace('_', ' ')} {period}: quarter not in the unit-economics table "
                         f"(quarters {span})" + _not_public(data))
    prov = unit_economics.ratio_provenance(panel, name, period)
    srcs = _as_ids(prov["sources"])
    value = rt.loc[period, name]
    if _missing(value):
        why = (rt.loc[period, "reasons"] or {}).get(name) if "reasons" in rt.columns else None
        return _na(unit, (why or f"{name.replace('_', ' ')} {period} missing") + _not_public(data), srcs)
    derived = bool(prov["derived"])
    basis = f"{name} {period} (unit-economics table)"
    if derived:
        basis += ", derived input"
    if prov.get("undated"):
        basis += ", an input's publication date not verified"
    return Actual(float(value), unit, srcs, prov["confidence"], basis, None, derived)


# --------------------------------------------------------------------------- contracts, guidance
def _source_confidence(data: ClaimData, ids) -> str | None:
    reg = dict(zip(data.sources["id"], data.sources["default_confidence"], strict=True))
    return _min_confidence([reg.get(i) for i in ids])


def contracts_total(data: ClaimData, counterparty: str, start, end) -> Actual:
    """Sum of announced contract values (USD m, 'up to' amounts) with `counterparty` announced in
    [start, end] (`concentration.contracts_total`). Missing when none is found or one of them has
    no value (never counted as zero)."""
    tot = concentration.contracts_total(data.contracts, counterparty, start, end)
    ids = tuple(tot["sources"])
    if tot["reason"] is not None:
        return _na("usd_m", tot["reason"] + ("" if tot["n"] else _not_public(data)), ids)
    parts = " + ".join(f"{v:,.0f} ({d})" for v, d in zip(tot["values"], tot["announced"], strict=True))
    return Actual(tot["value"], "usd_m", ids, _source_confidence(data, ids), f"{tot['n']} contract(s): {parts}")


def share_of_backlog(data: ClaimData, counterparty: str, period: str, start, end) -> Actual:
    """contracts_total(counterparty, start, end) / revenue_backlog(period) (fraction)."""
    tot = contracts_total(data, counterparty, start, end)
    bl = metric(data, "revenue_backlog", period)
    srcs = tuple(dict.fromkeys(tot.sources + bl.sources))
    for x in (tot, bl):
        if x.missing:
            return _na("fraction", x.reason, srcs)
    return Actual(tot.value / bl.value, "fraction", srcs, _min_confidence([tot.confidence, bl.confidence]),
                  f"contracts {tot.value:,.0f} / revenue_backlog {period} {bl.value:,.0f}", None, bl.derived)


def guidance(data: ClaimData, name: str, fiscal_year: str, published, bound: str) -> Actual:
    """The `bound` (low/high) of guidance for `name` over `fiscal_year`, as published on exactly
    `published` (rows `<name>_guidance_<bound>` of load_fundamentals). Highest confidence wins."""
    f = data.fundamentals
    key = f"{name}_guidance_{bound}"
    pub = pd.Timestamp(published)
    unit = "fraction" if S.METRIC_UNITS.get(key) == "pct" else S.METRIC_UNITS.get(key, "usd_m")
    if _after_as_of(data, pub):
        return _na(unit, f"guidance of {_iso(pub)} is after the note's as-of date {_iso(data.as_of)}")
    sel = f[(f["metric"] == key) & (f["period"] == str(fiscal_year)) & (f["published"] == pub)]
    if sel.empty:
        others = f.loc[(f["metric"] == key) & (f["period"] == str(fiscal_year)), "published"].dropna()
        seen = ", ".join(sorted({_iso(d) for d in others})) or "none"
        return _na(unit, f"no {key} for {fiscal_year} published on {_iso(pub)} "
                            f"(guidance dates in the data: {seen})")
    rank = sel["confidence"].map(S.CONFIDENCE_RANK)
    best = sel.loc[rank == rank.max()].sort_values("line").iloc[0]
    unit = best["unit"]
    value = float(best["value"])
    if unit == "pct":
        value, unit = value / 100.0, "fraction"
    basis = f"{key} {fiscal_year} published {_iso(pub)}"
    if sel["value"].nunique() > 1:
        basis += f"; other sources differ ({', '.join(f'{v:,.0f}' for v in sel['value'])})"
    return Actual(value, unit, (best["source"],), best["confidence"], basis)


# --------------------------------------------------------------------------- dispatch
def measure(data: ClaimData, check: dict) -> Actual:
    """Compute the actual value of one validated check (a dict from `load_claims`)."""
    m = check["measure"]
    if m in PRICE_FIELDS:
        return price_level(data, check["ticker"], check["date"], m)
    if m == "return":
        return price_return(data, check["ticker"], check.get("start"), check.get("end"), check.get("date"))
    if m == "return_from_price":
        return return_from_price(data, check["ticker"], check["price"], check["end"])
    if m == "worst_return":
        return worst_return(data, check["ticker"], check["start"], check["end"], check["days"])
    if m == "decline_from_peak":
        return decline_from_peak(data, check["ticker"], check["start"], check["end"])
    if m == "record_close_date":
        return record_close_date(data, check["ticker"], check["end"])
    if m == "metric":
        return metric(data, check["metric"], check["period"])
    if m == "growth":
        return growth(data, check["metric"], check["period"], check["base"])
    if m in RATIO_MEASURES:
        return ratio(data, m, check["period"])
    if m == "contracts_total":
        return contracts_total(data, check["counterparty"], check["start"], check["end"])
    if m == "share_of_backlog":
        return share_of_backlog(data, check["counterparty"], check["period"], check["start"], check["end"])
    if m == "guidance":
        return guidance(data, check["metric"], check["fiscal_year"], check["published"], check["bound"])
    if m == "none":
        return _na("text", str(check["reason"]))
    raise ValueError(f"unknown measure {m!r}")  # load_claims rejects these first


def describe_check(check: dict) -> str:
    """Short text naming a check in reader words (`labels.metric_label`, `RATIO_LABELS`): 'close CRWV
    2025-11-10', 'revenue growth 2024Q3 to 2025Q3', 'GPU useful life FY2025', ..."""
    m = check["measure"]

    def d(k):
        return _iso(check[k])

    if m in PRICE_FIELDS:
        return f"{m} {check['ticker']} {d('date')}"
    if m == "return":
        if "date" in check:
            return f"one-day return {check['ticker']} {d('date')}"
        return f"return {check['ticker']} {d('start')} to {d('end')}"
    if m == "return_from_price":
        return f"return {check['ticker']} from ${float(check['price']):,.2f} to {d('end')}"
    if m == "worst_return":
        return f"worst {check['days']}-day return {check['ticker']} ending {d('start')} to {d('end')}"
    if m == "decline_from_peak":
        return f"decline from peak {check['ticker']} {d('start')} to {d('end')}"
    if m == "record_close_date":
        return f"record close date {check['ticker']} up to {d('end')}"
    if m == "metric":
        return f"{metric_label(check['metric'])} {check['period']}"
    if m == "growth":
        return f"{metric_label(check['metric'])} growth {check['base']} to {check['period']}"
    if m in RATIO_MEASURES:
        return f"{RATIO_LABELS[m]} {check['period']}"
    if m == "contracts_total":
        return f"{check['counterparty']} contracts {d('start')} to {d('end')}"
    if m == "share_of_backlog":
        return f"{check['counterparty']} contracts / backlog {check['period']}"
    if m == "guidance":
        return f"{metric_label(check['metric'])} guidance {check['fiscal_year']} ({check['bound']} end) of {d('published')}"
    return "not checkable"


# --------------------------------------------------------------------------- verdicts
def compare(actual, stated, relation: str, tolerance=None) -> tuple[str, float]:
    """Verdict of one check and the difference where it differs.

    relation: approx (|actual - stated| <= tolerance, same units), below (actual < stated),
    above (actual > stated), equals. Dates compare as days: difference in days.
    Returns (verdict, difference): difference = actual - stated when the verdict is 'differs',
    else NaN. A missing actual gives 'not verifiable'.
    """
    if _missing(actual):
        return "not verifiable", math.nan
    if isinstance(actual, pd.Timestamp | np.datetime64) or isinstance(stated, pd.Timestamp):
        diff = float((pd.Timestamp(actual) - pd.Timestamp(stated)).days)
    else:
        diff = float(actual) - float(stated)
    scale = max(1.0, abs(float(stated))) if not isinstance(stated, pd.Timestamp) else 1.0
    eps = 1e-9 * scale  # float representation slack only (e.g. 105.61000061 vs 105.61 +- 0.01)
    if relation == "approx":
        ok = abs(diff) <= float(tolerance) + eps
    elif relation == "below":
        ok = diff < 0
    elif relation == "above":
        ok = diff > 0
    elif relation == "equals":
        ok = abs(diff) <= eps
    else:
        raise ValueError(f"unknown relation {relation!r}")
    return ("confirmed", math.nan) if ok else ("differs", diff)


def combine_verdicts(verdicts) -> str:
    """A claim's verdict from its checks' verdicts: all confirmed -> confirmed; any differs ->
    differs; all confirmed but some only on an earlier session (`CONFIRMED_EARLIER`) -> that;
    some confirmed, rest not verifiable -> partly verifiable; else not verifiable."""
    v = list(verdicts)
    if not v:
        raise ValueError("a claim needs at least one check")
    unknown = set(v) - set(CHECK_VERDICTS)
    if unknown:
        raise ValueError(f"unknown check verdicts {sorted(unknown)}")
    if "differs" in v:
        return "differs"
    if all(x == "confirmed" for x in v):
        return "confirmed"
    if all(x in ("confirmed", CONFIRMED_EARLIER) for x in v):
        return CONFIRMED_EARLIER
    if "confirmed" in v or CONFIRMED_EARLIER in v:
        return "partly verifiable"
    return "not verifiable"


CHECK_COLUMNS = (
    "claim_id", "check_no", "outlet", "published", "claim", "measure", "check", "stated", "actual",
    "unit", "relation", "tolerance", "verdict", "difference", "reason", "basis", "sources",
    "confidence", "derived", "note", "line", "matched_session",
)


def earlier_sessions(data: ClaimData, ticker: str, d, n: int) -> list[pd.Timestamp]:
    """The `n` trading sessions of `ticker` before date `d`, nearest first (fewer near the start
    of its prices; none after the note's as-of date)."""
    g = data.bars(ticker)
    before = g.index[g.index < pd.Timestamp(d)]
    return list(before[::-1][:n])


def _slack_match(data: ClaimData, chk: dict, stated, tol):
    """(session, Actual) of the first of the `date_slack` sessions before `chk['date']` on which
    the check holds, or None."""
    for k, d in enumerate(earlier_sessions(data, chk["ticker"], chk["date"], int(chk["date_slack"])), 1):
        act = measure(data, {**chk, "date": d.date()})
        if act.missing:
            continue
        verdict, _ = compare(act.value, stated, chk["relation"], tol)
        if verdict == "confirmed":
            return d, k, act
    return None


def _stated(check: dict):
    s = check.get("stated")
    return pd.Timestamp(s) if check["measure"] == "record_close_date" and s is not None else s


def evaluate_claims(claims: list[dict], data: ClaimData, tolerance_scale: float = 1.0) -> pd.DataFrame:
    """One row per check (columns `CHECK_COLUMNS`).

    stated/actual in `unit` (dates as Timestamps); verdict per `compare`; difference = actual -
    stated where it differs; reason = why not verifiable; basis = how the actual was computed
    (price field and dates, figure and publication date); sources = '; '-joined source ids;
    confidence = lowest confidence of the inputs. `tolerance_scale` multiplies every
    'approx' tolerance (1 = as in claims.yaml). A check with `date_slack: N` that does not hold
    on its date but holds on one of the N trading sessions before it gets the verdict
    `CONFIRMED_EARLIER`, its actual from that session, and `matched_session` = that session
    (None on every other row).
    """
    rows = []
    for c in claims:
        for i, chk in enumerate(c["checks"]):
            act = measure(data, chk)
            stated = _stated(chk)
            tol = chk.get("tolerance")
            tol = None if tol is None else float(tol) * float(tolerance_scale)
            if chk["measure"] == "none":
                verdict, diff = "not verifiable", math.nan
            else:
                verdict, diff = compare(act.value, stated, chk["relation"], tol)
            matched = None
            if chk.get("date_slack") and verdict != "confirmed":
                hit = _slack_match(data, chk, stated, tol)
                if hit is not None:
                    matched, k, early = hit
                    on_date = (f"{act.basis} gave {act.value:.6g}" if not act.missing
                               else f"{_iso(chk['date'])}: {act.reason}")
                    sessions = "session" if k == 1 else "sessions"
                    act = Actual(early.value, early.unit, early.sources, early.confidence,
                                 f"{early.basis}, {k} trading {sessions} before the stated "
                                 f"{_iso(chk['date'])} (date_slack {chk['date_slack']}); the stated date "
                                 f"does not match ({on_date})", early.reason, early.derived)
                    verdict, diff = CONFIRMED_EARLIER, math.nan
            rows.append({
                "claim_id": c["id"], "check_no": i + 1, "outlet": c["outlet"],
                "published": pd.Timestamp(c["published"]), "claim": c["claim"],
                "measure": chk["measure"], "check": describe_check(chk), "stated": stated,
                "actual": None if act.missing else act.value, "unit": act.unit if chk["measure"] != "none" else "text",
                "relation": chk.get("relation"), "tolerance": tol, "verdict": verdict,
                "difference": diff, "reason": act.reason if verdict == "not verifiable" else None,
                "basis": act.basis or None, "sources": "; ".join(act.sources) or None,
                "confidence": act.confidence, "derived": act.derived, "note": chk.get("note"),
                "line": chk.get("line"),
                "matched_session": matched,
            })
    df = pd.DataFrame(rows, columns=list(CHECK_COLUMNS))
    for col in ("stated", "actual"):
        df[col] = df[col].astype(object)
    return df


VERDICT_COLUMNS = (
    "claim_id", "published", "outlet", "claim", "n_checks", "n_confirmed", "n_differs",
    "n_not_verifiable", "verdict", "sources", "confidence", "n_confirmed_earlier",
)


def claim_verdicts(checks: pd.DataFrame) -> pd.DataFrame:
    """One row per claim: claim_id, published, outlet, claim, n_checks, n_confirmed, n_differs,
    n_not_verifiable, verdict (`combine_verdicts`), sources ('; '-joined), confidence (lowest)."""
    out = []
    for cid, g in checks.groupby("claim_id", sort=False):
        ids = [s for x in g["sources"].dropna() for s in x.split("; ")]
        out.append({
            "claim_id": cid, "published": g["published"].iloc[0], "outlet": g["outlet"].iloc[0],
            "claim": g["claim"].iloc[0], "n_checks": len(g),
            "n_confirmed": int((g["verdict"] == "confirmed").sum()),
            "n_differs": int((g["verdict"] == "differs").sum()),
            "n_not_verifiable": int((g["verdict"] == "not verifiable").sum()),
            "n_confirmed_earlier": int((g["verdict"] == CONFIRMED_EARLIER).sum()),
            "verdict": combine_verdicts(g["verdict"]),
            "sources": "; ".join(dict.fromkeys(ids)) or None,
            "confidence": _min_confidence(g["confidence"].dropna()),
        })
    return pd.DataFrame(out, columns=list(VERDICT_COLUMNS))


#: column of `verdict_counts` per check verdict (checks of the claims with that claim verdict)
CHECK_COUNT_COLUMNS = {v: "checks_" + v.replace(" ", "_") for v in CHECK_VERDICTS}


def verdict_counts(verdicts: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """Counts by claim verdict, one row per `CLAIM_VERDICTS` entry: claims (claims with that
    verdict), share_of_claims (fraction), checks (all checks of those claims) and, per check verdict,
    how many of those checks had it (`CHECK_COUNT_COLUMNS`: checks_confirmed, ...). Every count
    is of one thing: claims add up to the claims, checks to the checks."""
    n = len(verdicts)
    claim_of = dict(zip(verdicts["claim_id"], verdicts["verdict"], strict=True))
    by_claim = checks["claim_id"].map(claim_of)
    rows = []
    for v in CLAIM_VERDICTS:
        k = int((verdicts["verdict"] == v).sum())
        mine = checks[by_claim == v]
        rows.append({"verdict": v, "claims": k, "share_of_claims": k / n if n else math.nan, "checks": len(mine),
                     **{col: int((mine["verdict"] == cv).sum()) for cv, col in CHECK_COUNT_COLUMNS.items()}})
    return pd.DataFrame(rows)


#: Units whose gaps are read as differences only: a gap on a ratio or a return is in percentage
#: points ("0.88% stated, 3.8% actual" is a 2.9 pp gap, not 332% of a near-zero base); a date in days.
ABSOLUTE_GAP_UNITS = ("date", "fraction")


def differing_checks(checks: pd.DataFrame) -> pd.DataFrame:
    """The checks whose verdict is 'differs', in claim order, with |difference| relative to the
    stated value (`relative_difference`, fraction; NaN for units in `ABSOLUTE_GAP_UNITS` (dates,
    ratios and returns: their gap is the difference itself) and stated values of zero)."""
    d = checks[checks["verdict"] == "differs"].copy()
    rel = []
    for s, diff, unit in zip(d["stated"], d["difference"], d["unit"], strict=True):
        ok = unit not in ABSOLUTE_GAP_UNITS and isinstance(s, int | float) and s != 0
        rel.append(abs(diff) / abs(float(s)) if ok else math.nan)
    d["relative_difference"] = rel
    return d.reset_index(drop=True)


def ledger_rows(checks: pd.DataFrame) -> pd.DataFrame:
    """Checks ordered for the ledger exhibit: outlets by latest publication date (newest first),
    then claim id and check number; `first_of_outlet` / `first_of_claim` flag group starts."""
    df = _outlet_order(checks, ["claim_id", "check_no"])
    df["first_of_outlet"] = df["outlet"].ne(df["outlet"].shift())
    df["first_of_claim"] = df["claim_id"].ne(df["claim_id"].shift())
    return df


# --------------------------------------------------------------------------- exhibit helpers
def _outlet_order(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """`df` ordered by outlet (latest publication first, then name), then `keys`."""
    latest = df.groupby("outlet")["published"].transform("max")
    out = df.assign(_latest=latest).sort_values(["_latest", "outlet", *keys],
                                                ascending=[False, True] + [True] * len(keys))
    return out.drop(columns="_latest").reset_index(drop=True)


def claims_by_outlet(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Claim rows (`claim_verdicts`) in ledger order (outlets by latest publication date, newest
    first, then claim id), the same order as `ledger_rows`; `first_of_outlet` flags group starts."""
    df = _outlet_order(verdicts, ["claim_id"])
    df["first_of_outlet"] = df["outlet"].ne(df["outlet"].shift())
    return df


def outlet_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """One row per outlet in ledger order: outlet, published (latest date of its claims), first /
    last claim_id, claims (count) and one count column per claim verdict (`confirmed`, `differs`,
    `partly_verifiable`, `not_verifiable`)."""
    rows = []
    for outlet, g in claims_by_outlet(verdicts).groupby("outlet", sort=False):
        row = {"outlet": outlet, "published": g["published"].max(), "first_claim": g["claim_id"].iloc[0],
               "last_claim": g["claim_id"].iloc[-1], "claims": len(g)}
        for v in CLAIM_VERDICTS:
            row[v.replace(" ", "_")] = int((g["verdict"] == v).sum())
        rows.append(row)
    cols = ["outlet", "published", "first_claim", "last_claim", "claims",
            *(v.replace(" ", "_") for v in CLAIM_VERDICTS)]
    return pd.DataFrame(rows, columns=cols)


def check_tally(n_checks: int, n_confirmed: int, n_differs: int, n_not_verifiable: int,
                n_confirmed_earlier: int | None = None) -> str:
    """Short words for a claim's checks: '2 of 3 checks differ', 'all 3 checks confirmed', 'both checks confirmed',
    '1 of 2 checks confirmed, 1 not verifiable', 'the check is not verifiable', '1 of 2 checks confirmed,
    1 only on an earlier session'. `n_confirmed_earlier` (checks confirmed only on an earlier session)
    defaults to the checks the other counts leave over."""
    n_checks, n_confirmed, n_differs, n_not_verifiable = (int(x) for x in (n_checks, n_confirmed, n_differs,
                                                                         n_not_verifiable))
    if n_confirmed_earlier is None:
        n_confirmed_earlier = n_checks - n_confirmed - n_differs - n_not_verifiable
    n_early = int(n_confirmed_earlier)
    if n_checks <= 0 or n_early < 0 or n_confirmed + n_early + n_differs + n_not_verifiable != n_checks:
        raise ValueError("the counts of a claim's checks must be positive and add up")
    noun = "check" if n_checks == 1 else "checks"
    if n_differs:
        verb = "differs" if n_differs == 1 else "differ"
        return ("the check differs" if n_checks == 1 else f"{n_differs} of {n_checks} {noun} {verb}")
    if n_early:
        early = ("only on an earlier session" if n_early == n_checks == 1 else
                 f"{n_early} only on an earlier session")
        if n_checks == 1:
            return "the check is confirmed only on an earlier session"
        parts = [f"{n_confirmed} of {n_checks} {noun} confirmed" if n_confirmed else f"none of {n_checks} {noun} confirmed on its date",
                 early]
        if n_not_verifiable:
            parts.append(f"{n_not_verifiable} not verifiable")
        return ", ".join(parts)
    if n_confirmed == n_checks:
        return {1: "the check is confirmed", 2: "both checks confirmed"}.get(n_checks, f"all {n_checks} checks confirmed")
    if n_confirmed == 0:
        return "the check is not verifiable" if n_checks == 1 else f"none of {n_checks} checks verifiable"
    return f"{n_confirmed} of {n_checks} {noun} confirmed, {n_not_verifiable} not verifiable"


def not_verifiable_checks(checks: pd.DataFrame) -> pd.DataFrame:
    """The checks whose verdict is 'not verifiable', in ledger order, with their reason."""
    rows = ledger_rows(checks)
    return rows[rows["verdict"] == "not verifiable"].reset_index(drop=True)


def widest_gap(differ: pd.DataFrame) -> pd.Series | None:
    """The row of `differing_checks` with the largest relative difference (None when no row has
    one, e.g. only date, ratio or return checks differ). Ties: the first in claim order."""
    rel = pd.to_numeric(differ["relative_difference"], errors="coerce") if len(differ) else pd.Series(dtype=float)
    if rel.notna().sum() == 0:
        return None
    return differ.loc[rel.idxmax()]
