"""Leak audit of a built point-in-time note: nothing in its text may postdate its as-of date.

The audit reads the note as a reader gets it (the text of the HTML and of the PDF) and checks it
against the data, never against the notebooks, so a later fact typed into a notebook, a template
or a parameter file is caught as surely as one computed by a loader called without `as_of`.

- **Dates.** Every ISO date or month, quarter (2025Q4, Q4 2025, Q4-25, 4Q25), half year, fiscal
  year (FY2025, FY25), month-name date (Dec 2031, 15 December 2025) and bare year. One that lies
  after `as_of` (a period: that ends after it; a bare year or a month: that begins after it) is
  allowed only when the data public on `as_of` contains the same date or period (a guidance
  period, a maturity, a contract term, a claim's period), or when a forward-looking word
  (`FORWARD_MARKERS`) stands in the same sentence, or in the same exhibit row with its title,
  header and notes. The HTML is read in those units (`segments`); the PDF, whose text has no
  structure, may show a later date no more often than the HTML does.
- **Sources, events, claims.** Every sources.csv id printed as a word names a document dated on
  or before `as_of` (an undated document cannot be shown to have existed then); every event id
  (E14) and claim id (C04) printed was announced / published on or before `as_of`.
- **Figures.** A later fact is a value found only in rows the `as_of` loaders do not return
  (published later, or read only in a later document), a close after `as_of`, or an amount,
  capacity or duration in the description of an event announced after `as_of`. A printed number
  matches a fact when their units agree and the fact rounds to the number as printed; it is a
  leak unless a value public on `as_of` (a row, a figure derived from public rows, an operating
  margin computed from them, a public event's or claim's number, a price up to `as_of`) matches
  it too. A fact with fewer than three significant digits (71%, $2.0bn), and every fact taken
  from an event description except capacities in MW, counts only next to a word that names it
  (the customer, the metric, the counterparty, a name from the event) in its sentence or table
  row, unless that sentence labels it an ASSUMPTION; the PDF may print such a number no more
  often than the HTML does.

`audit_note(note_dir, as_of)` returns the `Leak`s found (empty = clean); `audit_text` checks any
text (one segment), which is how a test shows that a planted later fact is caught.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from . import data as D
from .data.rules import period_bounds
from .data.schema import METRIC_UNITS, PERIOD_RE
from .labels import metric_label

# ============================================================================ text

def normalise(text: str) -> str:
    """One line of plain text: minus signs and dashes as '-', no soft hyphens or word joiners,
    single spaces, dates broken across PDF lines ('2025-11-\\n10') joined."""
    t = (str(text).replace("\u2212", "-").replace("\u2013", "-").replace("\u2011", "-")
         .replace("\u00ad", "").replace("\u2060", "").replace("\u200b", "")
         .replace("\u00a0", " ").replace("\u202f", " ").replace("\u2009", " "))
    t = re.sub(r"(\d)-\s*\n\s*(\d)", r"\1-\2", t)
    return " ".join(t.split())


_SENTENCE = re.compile(r"(?<=[.;!?])\s+(?=[A-Z(\[*])")
_BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "pre", "blockquote", "caption",
           "figcaption", "td", "th", "div", "header", "aside", "section", "summary")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(normalise(text)) if s]


@dataclass(frozen=True)
class Segment:
    """A unit of the note's text: `text` is scanned for tokens; `marks` is where a forward-looking
    word may stand (a table row: with its exhibit's title, header and notes); `names` is where a
    word naming a figure must stand (a table row: with its header)."""

    text: str
    marks: str
    names: str


def _seg(text: str) -> Segment:
    return Segment(text, text, text)


def _text_soup(html: str):
    """The page parsed without its charts, scripts, styles and head (their text is not prose);
    the charts are cut before parsing, which is four-fifths of the work."""
    from bs4 import BeautifulSoup

    from .report.html_layout import SVG_BLOCK

    soup = BeautifulSoup(SVG_BLOCK.sub("", html), "html.parser")
    for tag in soup(["script", "style", "svg", "head"]):
        tag.decompose()
    return soup


def html_segments(html: str) -> list[Segment]:
    """The note's HTML as units of meaning: each sentence of running text, and each row of a
    table. SVG text and scripts are left out (chart text is drawn as paths)."""
    soup = _text_soup(html)
    for tag in soup(["script", "style", "svg", "head"]):
        tag.decompose()
    segs: list[Segment] = []

    def rows(table, title: str, notes: str):
        head = normalise(" ".join(th.get_text(" ") for th in table.find_all("th")))
        for tr in table.find_all("tr"):
            if tr.find("td") is not None:
                row = normalise(tr.get_text(" "))
                segs.append(Segment(row, normalise(f"{title} | {head} | {row} | {notes}"), f"{head} | {row}"))
        table.decompose()

    for fig in soup.find_all("figure"):
        title = normalise(" ".join(c.get_text(" ") for c in fig.find_all("figcaption")))
        notes = normalise(" ".join(p.get_text(" ") for p in fig.find_all("p")))
        table = fig.find("table")
        if table is not None:
            rows(table, title, notes)
        segs.extend(_seg(x) for x in sentences(f"{title}. {notes}"))
        fig.decompose()
    for table in soup.find_all("table"):  # tables outside exhibits (markdown tables)
        rows(table, "", "")
    for el in soup.find_all(_BLOCKS):
        if el.find(_BLOCKS) is None:  # innermost blocks only: each text once
            segs.extend(_seg(x) for x in sentences(el.get_text(" ")))
            el.decompose()
    segs.extend(_seg(x) for x in sentences(soup.get_text(" ")))  # text outside any block
    return segs


def html_text(html: str) -> str:
    return normalise(_text_soup(html).get_text(" "))


def pdf_text(pdf: bytes) -> str:
    from .report.pdf import pdf_text as _pdf_text

    return normalise(_pdf_text(pdf))


# ============================================================================ findings

@dataclass(frozen=True)
class Leak:
    """One thing printed in a point-in-time note that was not public on its as-of date."""

    kind: str      # date | source | event | claim | figure
    token: str     # as printed
    why: str       # what it is and when it became public
    context: str   # the words around it
    where: str = "text"

    def __str__(self) -> str:
        return f"[{self.where}] {self.kind} '{self.token}': {self.why} -- '...{self.context}...'"


def _ctx(text: str, start: int, end: int, reach: int = 70) -> str:
    return text[max(0, start - reach): end + reach]


# ============================================================================ dates

#: Words that mark a later date as forward-looking: a guidance period, a target, a maturity, a
#: contract term, a scenario or projection, the next trading session.
FORWARD_MARKERS = (
    "guidance", "guide", "guided", "outlook", "target", "targets", "forecast", "forecasts", "expected",
    "expects", "scenario", "scenarios", "projected", "projection", "projections", "due", "maturity",
    "matures", "maturing", "through", "until", "term", "option", "next session", "year-end", "would",
)
_MARKER_RE = re.compile(r"(?<![A-Za-z])(" + "|".join(re.escape(m) for m in FORWARD_MARKERS) + r")(?![A-Za-z])",
                        re.IGNORECASE)

_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                        "oct", "nov", "dec"), start=1)}
_MON = (r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
        r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_B = r"(?<![A-Za-z0-9.])"       # a token starts outside a word, number or version string
_E = r"(?![A-Za-z0-9]|\.\d)"    # and ends there
#: not dates: another company's fiscal calendar ("Oracle FQ1 FY26"), and the year in the name of
#: a debt instrument ("the 2031 senior notes", "2030 Notes": the name of a contract term)
_NOT_DATES = re.compile(r"\bFQ[1-4]\s+FY\s?\d{2,4}\b"
                        r"|\b20\d\d\s+(?:(?:senior|secured|unsecured|convertible|exchangeable)\s+)*notes\b",
                        re.IGNORECASE)

_DATE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("date", re.compile(_B + r"(?P<y>20\d\d)-(?P<m>0[1-9]|1[0-2])-(?P<d>0[1-9]|[12]\d|3[01])" + _E)),
    ("date", re.compile(_B + r"(?P<d>[0-3]?\d) " + _MON + r",? (?P<y>20\d\d)" + _E, re.IGNORECASE)),
    ("date", re.compile(_B + _MON + r" (?P<d>[0-3]?\d)(?:st|nd|rd|th)?,? (?P<y>20\d\d)" + _E, re.IGNORECASE)),
    ("month", re.compile(_B + r"(?P<y>20\d\d)-(?P<m>0[1-9]|1[0-2])(?![-\d])" + _E)),
    ("month", re.compile(_B + _MON + r"[ -](?P<y>20\d\d)" + _E, re.IGNORECASE)),
    ("period", re.compile(_B + r"(?P<y>20\d\d) ?Q(?P<q>[1-4])" + _E)),
    ("period", re.compile(_B + r"Q(?P<q>[1-4])[ -]?(?:FY)?(?P<y>20\d\d)" + _E)),
    ("period", re.compile(_B + r"Q(?P<q>[1-4])[-' ](?P<yy>\d\d)" + _E)),
    ("period", re.compile(_B + r"(?P<q>[1-4])Q(?P<yy>\d\d)" + _E)),
    ("period", re.compile(_B + r"(?P<y>20\d\d) ?H(?P<h>[12])" + _E)),
    ("period", re.compile(_B + r"H(?P<h>[12]) (?P<y>20\d\d)" + _E)),
    ("period", re.compile(_B + r"(?P<y>20\d\d)-9M" + _E)),
    ("period", re.compile(_B + r"(?:FY ?|fiscal (?:year )?)(?P<y>20\d\d)" + _E, re.IGNORECASE)),
    ("period", re.compile(_B + r"FY(?P<yy>\d\d)" + _E)),
    ("year", re.compile(_B + r"(?P<y>20[1-4]\d)" + _E)),
)


def _month_end(y: int, m: int) -> date:
    return (pd.Timestamp(year=y, month=m, day=1) + pd.offsets.MonthEnd(0)).date()


def _span(kind: str, tok: str, g: dict) -> tuple[date, date]:
    """(first day, last day) a date token refers to."""
    y = int(g["y"]) if g.get("y") else 2000 + int(g["yy"])
    if kind == "date":
        m = int(g["m"]) if g.get("m") else _MONTHS[g["mon"].lower()[:3]]
        d = date(y, m, int(g["d"]))
        return d, d
    if kind == "month":
        m = int(g["m"]) if g.get("m") else _MONTHS[g["mon"].lower()[:3]]
        return date(y, m, 1), _month_end(y, m)
    if g.get("q"):
        q = int(g["q"])
        return date(y, 3 * q - 2, 1), _month_end(y, 3 * q)
    if g.get("h"):
        h = int(g["h"])
        return date(y, 6 * h - 5, 1), _month_end(y, 6 * h)
    if tok.endswith("9M"):
        return date(y, 1, 1), date(y, 9, 30)
    return date(y, 1, 1), date(y, 12, 31)  # fiscal year (CoreWeave's = calendar year) or bare year


@dataclass(frozen=True)
class DateToken:
    kind: str      # date | month | period | year
    token: str
    start: int
    end: int
    first: date
    last: date

    def later_than(self, as_of: date) -> bool:
        """A day after as_of; a month or a bare year that begins after it; a period (quarter,
        half, fiscal year) that ends after it (its figures cannot be public yet)."""
        if self.kind in ("date", "month", "year"):
            return self.first > as_of
        return self.last > as_of


def date_tokens(text: str) -> list[DateToken]:
    """Every date-like token of `text` (a token inside a longer one is not counted again)."""
    masked = _NOT_DATES.sub(lambda m: " " * len(m.group(0)), text)
    taken: list[tuple[int, int]] = []
    out = []
    for kind, rx in _DATE_PATTERNS:
        for m in rx.finditer(masked):
            s, e = m.span()
            if any(a < e and s < b for a, b in taken):
                continue
            try:
                first, last = _span(kind, m.group(0), m.groupdict())
            except (ValueError, KeyError):
                continue
            taken.append((s, e))
            out.append(DateToken(kind, text[s:e], s, e, first, last))
    return sorted(out, key=lambda t: t.start)


_TO_DATE = re.compile(r"\s*\(?to date\b", re.IGNORECASE)


_RANGE_JOIN = re.compile(r"\s*(?:-|to|through|until)\s*", re.IGNORECASE)


def _later_unexplained(text: str, as_of: date, public_spans: frozenset) -> list[DateToken]:
    """Later date tokens that the public data do not explain, that are not the quarter to date
    ('2025Q4 (to date)'), and that are not part of a span of two later dates ('2027-Dec 2032':
    a contract's term or a schedule, not a date something happened)."""
    toks = date_tokens(text)
    later = [t.later_than(as_of) for t in toks]
    joined = set()
    for i in range(len(toks) - 1):
        a, b = toks[i], toks[i + 1]
        gap = _RANGE_JOIN.fullmatch(text[a.end:b.start])
        if gap and later[i] and later[i + 1]:
            joined |= {i, i + 1}
    return [t for i, t in enumerate(toks) if later[i] and i not in joined and not _explained_date(t, public_spans)
            and not (t.kind == "period" and t.first <= as_of and _TO_DATE.match(text, t.end))]


def _explained_date(t: DateToken, public_spans) -> bool:
    """The same date, month, period or year appears in data public on as_of (a bare year is also
    explained by a public fiscal year of that span)."""
    return ((t.kind, t.first, t.last) in public_spans
            or (t.kind == "year" and ("period", t.first, t.last) in public_spans))


def audit_dates(segments: list[Segment], as_of: date, public_spans=frozenset(), where="html") -> list[Leak]:
    """Later dates that neither the public data nor a forward-looking word in their segment explains."""
    leaks = []
    for seg in segments:
        toks = _later_unexplained(seg.text, as_of, public_spans)
        if toks and _MARKER_RE.search(seg.marks) is None:
            leaks += [Leak("date", t.token, f"{t.kind} ending {t.last.isoformat()}, after {as_of.isoformat()}, "
                           "in no public data and marked by no forward-looking word", _ctx(seg.text, t.start, t.end), where)
                      for t in toks]
    return leaks


def audit_pdf_dates(pdf: str, html_segments_: list[Segment], as_of: date, public_spans=frozenset()) -> list[Leak]:
    """The PDF may show each later date no more often than the HTML (checked in context) does."""
    in_html = Counter(t.token for s in html_segments_ for t in _later_unexplained(s.text, as_of, public_spans))
    seen: Counter = Counter()
    leaks = []
    for t in _later_unexplained(pdf, as_of, public_spans):
        seen[t.token] += 1
        if seen[t.token] > in_html[t.token]:
            leaks.append(Leak("date", t.token, f"{t.kind} ending {t.last.isoformat()}, after {as_of.isoformat()}, "
                              "printed in the PDF more often than in the HTML", _ctx(pdf, t.start, t.end), "pdf"))
    return leaks


# ============================================================================ ids

def _word(token: str) -> re.Pattern:
    return re.compile(r"(?<![A-Za-z0-9_])" + re.escape(token) + r"(?![A-Za-z0-9_])")


def audit_ids(text: str, as_of: date, data_dir=None, where: str = "text") -> list[Leak]:
    """Source, event and claim ids printed in `text` that were not public on `as_of`."""
    leaks = []
    reg = D.load_sources(data_dir=data_dir)
    for sid, d, prec in zip(reg["id"], reg["date"], reg["date_precision"], strict=True):
        doc = None if pd.isna(d) else d.date()
        if doc is not None and doc <= as_of:
            continue
        why = (f"source {sid} is undated: nothing shows it existed on {as_of.isoformat()}" if doc is None
               else f"source {sid} is a document of {doc.isoformat()[:7] if prec == 'month' else doc.isoformat()}")
        leaks += [Leak("source", sid, why, _ctx(text, *m.span()), where) for m in _word(sid).finditer(text)]
    ev = D.load_events(data_dir=data_dir)
    for eid, ann in zip(ev["event_id"], ev["announced"], strict=True):
        if ann.date() > as_of:
            leaks += [Leak("event", eid, f"event {eid} was announced {ann.date().isoformat()}",
                           _ctx(text, *m.span()), where) for m in _word(eid).finditer(text)]
    for c in D.load_claims(data_dir=data_dir):
        if c["published"] > as_of:
            leaks += [Leak("claim", c["id"], f"claim {c['id']} was published {c['published'].isoformat()}",
                           _ctx(text, *m.span()), where) for m in _word(c["id"]).finditer(text)]
    return leaks


# ============================================================================ figures

@dataclass(frozen=True)
class Fact:
    """A value and its unit (usd_m | usd | pct | mw | days | count | years); `words` name it
    (needed near a printed number unless `strict`); `label` says where it comes from."""

    value: float
    unit: str
    label: str = ""
    words: tuple[str, ...] = ()
    strict: bool = True


def significant_digits(v: float) -> int:
    """Significant digits of a stored value: 1600 -> 2, 1572 -> 4, 71 -> 2, 0.35 -> 2, 105.61 -> 5."""
    if not math.isfinite(v) or v == 0:
        return 1
    s = f"{abs(v):.10f}".rstrip("0").rstrip(".")
    digits = s.replace(".", "").lstrip("0")
    return max(1, len(digits.rstrip("0")) if "." not in s else len(digits))


_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_.,])(?P<dollar>\$)?(?P<num>" + _NUM + r")"
    r"(?:(?:-|\s?to\s)\$?(?P<num2>" + _NUM + r"))?"
    r"(?P<suf>\s?(?:bn|billion|B|m|million|M|MW|GW|%|pp| days?| years?|x))?"
    r"(?![A-Za-z0-9_]|\.\d)")
_SUFFIX = {"bn": ("usd_m", 1000.0), "billion": ("usd_m", 1000.0), "B": ("usd_m", 1000.0),
           "m": ("usd_m", 1.0), "million": ("usd_m", 1.0), "M": ("usd_m", 1.0),
           "MW": ("mw", 1.0), "GW": ("mw", 1000.0), "%": ("pct", 1.0),
           "day": ("days", 1.0), "days": ("days", 1.0), "year": ("years", 1.0), "years": ("years", 1.0)}


@dataclass(frozen=True)
class Number:
    """A number printed in a text: value in `unit` (usd_m, usd, pct, mw, days, years, or 'bare'
    for a plain number of four or more digits, as in tables in USD millions), `tol` = half its
    last printed digit in that unit, `digits` printed, position and text."""

    value: float
    unit: str
    tol: float
    digits: int
    start: int
    end: int
    token: str


def numbers(text: str) -> list[Number]:
    """Every number with a unit, or bare with four or more digits, printed in `text`. A range
    ('$5.05-5.15B', '$12-14B') gives both ends the unit written after the second."""
    out = []
    for m in _TOKEN.finditer(text):
        suf, dollar = (m.group("suf") or "").strip(), bool(m.group("dollar"))
        if suf in ("x", "pp"):
            continue
        if suf:
            unit, scale = _SUFFIX[suf]
            if unit == "usd_m" and not dollar and suf in ("m", "M"):
                continue  # '5m' without $: minutes, months or metres, not an amount
        else:
            unit, scale = ("usd", 1.0) if dollar else ("bare", 1.0)
        for n in filter(None, (m.group("num"), m.group("num2"))):
            plain = n.replace(",", "")
            digits = len(plain.replace(".", "").lstrip("0")) or 1
            if unit == "bare" and digits < 4:
                continue
            decimals = len(plain.split(".")[1]) if "." in plain else 0
            out.append(Number(float(plain) * scale, unit, 0.5 * 10 ** -decimals * scale, digits,
                              m.start(), m.end(), m.group(0)))
    return out


_COMPATIBLE = {"usd_m": ("usd_m", "bare"), "count": ("bare",), "usd": ("usd",), "pct": ("pct",),
               "mw": ("mw",), "days": ("days",), "years": ("years",)}


def _matches(f: Fact, n: Number) -> bool:
    return n.unit in _COMPATIBLE.get(f.unit, ()) and abs(abs(f.value) - n.value) <= n.tol * (1 + 1e-9) + 1e-12


_STOP = {"the", "and", "for", "end", "low", "high", "share", "total", "net", "due", "within", "months",
         "company", "definition", "reported", "coreweave", "crwv", "class", "customer", "customers",
         "guidance", "expense", "income", "year", "per", "life", "days", "day", "years", "power", "site"}


#: words of metric names too common to name a figure ("revenue" stands near most amounts)
_GENERIC = {"revenue", "operating", "interest", "debt", "cash", "expense", "income", "net", "total", "adjusted",
            "share", "shares", "outstanding", "current", "non-current", "end"}


def _words(*texts) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for t in texts:
        for w in re.findall(r"[A-Za-z][A-Za-z0-9&\-]+", str(t or "")):
            if w.lower() not in _STOP and len(w) > 2:
                out.setdefault(w)
    return tuple(out)


@dataclass
class Facts:
    """What the data holds for an as-of date: `later` facts (not public), `public` values that
    explain a printed number, `public_spans` (kind, first, last) of the dates, months, periods and
    years in public data (kind as in `DateToken`)."""

    later: list[Fact]
    public: list[Fact]
    public_spans: frozenset

    def __post_init__(self):
        by_unit: dict[str, list[float]] = {}
        for f in self.public:
            by_unit.setdefault(f.unit, []).append(abs(f.value))
        self._public = {u: sorted(v) for u, v in by_unit.items()}
        # later facts by unit, sorted by |value| (with their position in `later`), for `later_matches`
        later: dict[str, list[tuple[float, int]]] = {}
        for i, f in enumerate(self.later):
            later.setdefault(f.unit, []).append((abs(f.value), i))
        self._later = {u: sorted(v) for u, v in later.items()}

    def later_matches(self, n: Number) -> list[Fact]:
        """The later facts `n` matches as printed (`_matches`), in the order of `later`."""
        lo, hi = n.value - n.tol * (1 + 1e-9) - 1e-12, n.value + n.tol * (1 + 1e-9) + 1e-12
        hits = []
        for unit, compatible in _COMPATIBLE.items():
            if n.unit in compatible and unit in self._later:
                vals = self._later[unit]
                i = bisect.bisect_left(vals, (lo, -1))
                while i < len(vals) and vals[i][0] <= hi:
                    hits.append(vals[i][1])
                    i += 1
        return [self.later[i] for i in sorted(hits) if _matches(self.later[i], n)]

    def explained(self, n: Number) -> bool:
        """True when a public value of a compatible unit rounds to `n` as printed."""
        lo, hi = n.value - n.tol * (1 + 1e-9) - 1e-12, n.value + n.tol * (1 + 1e-9) + 1e-12
        for unit, compatible in _COMPATIBLE.items():
            if n.unit in compatible and unit in self._public:
                vals = self._public[unit]
                i = bisect.bisect_left(vals, lo)
                if i < len(vals) and vals[i] <= hi:
                    return True
        return False


def _claim_unit(chk: dict) -> tuple[str, float] | None:
    m = chk["measure"]
    if m in ("close", "open", "high", "low"):
        return "usd", 1.0
    if m == "metric":
        return METRIC_UNITS.get(chk["metric"], "usd_m"), 1.0
    if m in ("contracts_total", "guidance"):
        return "usd_m", 1.0
    if m in ("return", "return_from_price", "worst_return", "decline_from_peak", "growth",
             "operating_margin", "interest_and_da_to_revenue", "share_of_backlog"):
        return "pct", 100.0
    return None


def _spans_in(text: str) -> set:
    return {(t.kind, t.first, t.last) for t in date_tokens(normalise(text))}


def _period(code: str) -> tuple:
    return ("period", *period_bounds(code))


def _day(d) -> tuple:
    d = pd.Timestamp(d).date()
    return ("date", d, d)


def data_facts(as_of, data_dir=None) -> Facts:
    """Later facts, public values and public date spans of the data for `as_of`."""
    from .fundamentals import FLOW_METRICS, quarterly_panel

    cutoff = D.as_of_date(as_of)
    later: list[Fact] = []
    public: list[Fact] = []
    spans: set = set()

    def rows(file, full, visible, value_col, unit_of, label_of, words_of):
        shown = set(visible["line"])
        for r in full.to_dict("records"):
            v = r.get(value_col)
            if v is None or not math.isfinite(float(v)):
                continue
            f = Fact(float(v), unit_of(r), f"{file} line {r['line']}: {label_of(r)}", words_of(r),
                     significant_digits(float(v)) >= 3)
            (public if r["line"] in shown else later).append(f)

    fund_all, fund = D.load_fundamentals(None, data_dir), D.load_fundamentals(as_of, data_dir)
    rows("fundamentals.csv", fund_all, fund, "value", lambda r: r["unit"],
         lambda r: f"{r['metric']} {r['period']} [{r['source']}, published {_iso(r['published'])}]",
         lambda r: tuple(w for w in _words(metric_label(r["metric"])) if w.lower() not in _GENERIC))
    # dates public on as_of: periods of public rows (guidance periods), contract and financing
    # dates, claims' periods and dates, titles of documents of as_of or before, days 0 of public
    # events. Free-text notes and event descriptions are not used: they were written afterwards.
    spans |= {_period(p) for p in fund["period"] if PERIOD_RE.match(p)}
    # figures derived from public rows (Q4 = FY - 9M, ...) and the operating margin computed from them
    flows = tuple(m for m in FLOW_METRICS if m in set(fund["metric"]))
    if len(fund):
        panel = quarterly_panel(fund, first_quarter="2022Q1", metrics=flows).values
        public += [Fact(float(v), "usd_m") for v in panel.to_numpy().ravel() if math.isfinite(v)]
        if {"operating_income", "revenue"} <= set(panel.columns):
            margin = 100 * panel["operating_income"] / panel["revenue"]
            public += [Fact(float(v), "pct") for v in margin if math.isfinite(v)]
    cust_all, cust = D.load_customers(None, data_dir), D.load_customers(as_of, data_dir)
    rows("customers.csv", cust_all, cust, "value", lambda r: "pct",
         lambda r: f"{r['customer']} {r['measure']} {r['period']} [{r['source']}, published {_iso(r['published'])}]",
         lambda r: (*_words(r["customer"]), "customer", "customers"))
    spans |= {_period(p) for p in cust["period"] if PERIOD_RE.match(p)}
    for file, loader, who in (("contracts.csv", D.load_contracts, "counterparty"),
                              ("financings.csv", D.load_financings, "holder")):
        full, vis = loader(None, data_dir), loader(as_of, data_dir)
        rows(file, full, vis, "value_usd_m", lambda r: "usd_m",
             lambda r, w=who: f"{r[w]} {r['kind']} [{r['source']}, announced {_iso(r['announced'])}]",
             lambda r, w=who: _words(r[w], str(r["kind"]).replace("_", " ")))
        for r in vis.to_dict("records"):
            for c in ("start", "announced"):
                if pd.notna(r.get(c)):
                    spans |= _spans_in(pd.Timestamp(r[c]).date().isoformat())
    # debt by facility and contractual maturities (funding section): amounts, rates, and the
    # maturities / schedule years of public rows (contract terms known on as_of)
    fac_all, fac = D.load_debt_facilities(None, data_dir), D.load_debt_facilities(as_of, data_dir)

    def label(r):
        return f"{r['facility']} {r['measure']} at {_iso(r['as_of'])} [{r['source']}, published {_iso(r['published'])}]"

    rows("debt_facilities.csv", fac_all, fac, "amount_usd_m", lambda r: "usd_m", label,
         lambda r: _words(str(r["facility"]).replace("_", " "), "debt", "facility", "principal"))
    for col in ("rate_pct", "rate_high_pct"):
        rows("debt_facilities.csv", fac_all, fac, col, lambda r: "pct", label,
             lambda r: _words(str(r["facility"]).replace("_", " ")))
    for r in fac.to_dict("records"):
        spans |= _spans_in(str(r.get("maturity") or ""))
        spans.add(_day(r["as_of"]))
    mat_all, mat = D.load_debt_maturities(None, data_dir), D.load_debt_maturities(as_of, data_dir)
    rows("debt_maturities.csv", mat_all, mat, "amount_usd_m", lambda r: "usd_m",
         lambda r: f"{r['bucket']} {r['year']} at {_iso(r['as_of'])} [{r['source']}, published {_iso(r['published'])}]",
         lambda r: _words("maturity", "maturities", "principal", "due"))
    for r in mat.to_dict("records"):  # schedule years stand under a "Due"/"Maturity" header: marked
        spans.add(_day(r["as_of"]))
    reg = D.load_sources(data_dir=data_dir)
    for title, d in zip(reg["title"], reg["date"], strict=True):
        if pd.notna(d) and cutoff is not None and d <= cutoff:
            spans |= _spans_in(title)
    px = D.load_prices(data_dir=data_dir)
    if cutoff is not None:
        after, before = px[px["date"] > cutoff], px[px["date"] <= cutoff]
        later += [Fact(float(c), "usd", f"prices/{t}.csv close on {d.date().isoformat()}", (t,),
                       significant_digits(float(c)) >= 3)
                  for t, d, c in zip(after["ticker"], after["date"], after["close"], strict=True) if pd.notna(c)]
        for col in ("open", "high", "low", "close", "adj_close"):
            public += [Fact(float(v), "usd") for v in before[col].dropna().unique()]
    for r in D.load_events(data_dir=data_dir).to_dict("records"):
        toks = [n for n in numbers(normalise(r["description"])) if n.unit in ("usd_m", "usd", "mw", "days")]
        if cutoff is not None and r["announced"] > cutoff:
            names = _words(*re.findall(r"(?<=[\s(])[A-Z][A-Za-z]+", r["description"]), r["origin"])
            later += [Fact(n.value, n.unit, f"events.csv {r['event_id']} (announced {_iso(r['announced'])})",
                           names, n.unit == "mw") for n in toks]
        else:
            public += [Fact(n.value, n.unit) for n in toks]
            spans.add(_day(r["day0"]))
    for c in D.load_claims(as_of=as_of, data_dir=data_dir):
        spans |= _spans_in(c["claim"])
        for chk in c["checks"]:
            for k in ("period", "base", "fiscal_year"):
                if isinstance(chk.get(k), str) and PERIOD_RE.match(chk[k]):
                    spans.add(_period(chk[k]))
            for k in ("date", "start", "end", "published"):
                if isinstance(chk.get(k), date):
                    spans.add(_day(chk[k]))
            u = _claim_unit(chk)
            for k in ("stated", "tolerance"):
                if u and isinstance(chk.get(k), int | float):
                    public.append(Fact(float(chk[k]) * u[1], u[0]))
    return Facts(later, public, frozenset(spans))


def _iso(d) -> str:
    return "unknown" if d is None or pd.isna(d) else pd.Timestamp(d).date().isoformat()


#: a number its sentence labels as an assumption (the project's capitalised ASSUMPTION) is the
#: note's own choice, not a figure from a document: a round one may equal a later fact
_ASSUMPTION = re.compile(r"\bASSUMPTIONS?\b")


def _later_match(n: Number, facts: Facts) -> list[Fact]:
    return [] if facts.explained(n) else facts.later_matches(n)


#: printed digits from which a precise later fact counts wherever it stands ('$1,572.0m', '1,572.0');
#: a rounder number ('$66.8bn', '71%') counts only next to a word that names the fact
STRICT_DIGITS = 4


def _strict(f: Fact, n: Number) -> bool:
    return f.strict and (n.digits >= STRICT_DIGITS or f.unit == "mw")


def audit_figures(segments: list[Segment], as_of: date, facts: Facts, where: str = "html") -> list[Leak]:
    """Numbers that only a fact not public on `as_of` explains. A fact with few significant
    digits counts only when a word naming it stands in the segment's `names`."""
    leaks = []
    for seg in segments:
        for n in numbers(seg.text):
            for f in _later_match(n, facts):
                if _strict(f, n) or (any(_word(w).search(seg.names) for w in f.words)
                                     and not _ASSUMPTION.search(seg.names)):
                    leaks.append(Leak("figure", n.token.strip(), f"matches {f.label}, not public on {as_of.isoformat()}",
                                      _ctx(seg.text, n.start, n.end), where))
                    break
    return leaks


def audit_pdf_figures(pdf: str, html: str, as_of: date, facts: Facts) -> list[Leak]:
    """The PDF text has no structure to tell which words name a number: a precise later figure is
    a leak wherever it stands; a low-precision one when the PDF prints it more often than the
    HTML (whose every occurrence was judged in its sentence or table row) does."""
    html_counts = Counter(n.token.strip() for n in numbers(html))
    seen: Counter = Counter()
    leaks = []
    for n in numbers(pdf):
        later = _later_match(n, facts)
        if not later:
            continue
        strict = [f for f in later if _strict(f, n)]
        tok = n.token.strip()
        seen[tok] += 1
        if strict or seen[tok] > html_counts[tok]:
            f = (strict or later)[0]
            why = f"matches {f.label}, not public on {as_of.isoformat()}" + (
                "" if strict else "; printed in the PDF more often than in the HTML")
            leaks.append(Leak("figure", tok, why, _ctx(pdf, n.start, n.end), "pdf"))
    return leaks


# ============================================================================ the audit

def audit_text(text: str, as_of, data_dir=None, facts: Facts | None = None, where: str = "text") -> list[Leak]:
    """Every leak in one piece of text (checked as one segment) for a note as of `as_of`."""
    cutoff = D.as_of_date(as_of)
    if cutoff is None:
        return []
    facts = facts or data_facts(as_of, data_dir)
    day, text = cutoff.date(), normalise(text)
    return [*audit_dates([_seg(text)], day, facts.public_spans, where), *audit_ids(text, day, data_dir, where),
            *audit_figures([_seg(text)], day, facts, where)]


def audit_documents(html: str, pdf: bytes | str, as_of, data_dir=None) -> list[Leak]:
    """Leaks in a note's HTML (read in segments) and PDF (flat text, compared with the HTML)."""
    cutoff = D.as_of_date(as_of)
    if cutoff is None:
        return []
    day = cutoff.date()
    facts = data_facts(as_of, data_dir)
    segs = html_segments(html)
    flat_pdf = pdf if isinstance(pdf, str) else pdf_text(pdf)
    flat_html = html_text(html)
    return [*audit_dates(segs, day, facts.public_spans, "html"),
            *audit_pdf_dates(flat_pdf, segs, day, facts.public_spans),
            *audit_ids(flat_html, day, data_dir, "html"), *audit_ids(flat_pdf, day, data_dir, "pdf"),
            *audit_figures(segs, day, facts, "html"), *audit_pdf_figures(flat_pdf, flat_html, day, facts)]


def audit_note(note_dir, as_of, data_dir=None) -> list[Leak]:
    """Leaks in `<note_dir>/crwv-note.{html,pdf}` for a note as of `as_of`."""
    d = Path(note_dir)
    return audit_documents((d / "crwv-note.html").read_text(encoding="utf-8"), (d / "crwv-note.pdf").read_bytes(),
                           as_of, data_dir)


def note_as_of(note_dir) -> str | None:
    """The as-of date of the note built in `note_dir` (its overview results), None for latest."""
    import json

    f = Path(note_dir) / "build" / "results" / "00_overview.json"
    a = json.loads(f.read_text(encoding="utf-8")).get("as_of")
    return None if a in (None, "latest") else str(a)


def main(argv=None) -> int:
    """python -m analysis.leaks NOTE_DIR...: audit built notes; exit 1 listing the leaks found."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m analysis.leaks", description=main.__doc__.split(":")[1].strip())
    ap.add_argument("notes", nargs="+", help="folders holding crwv-note.html and crwv-note.pdf")
    a = ap.parse_args(argv)
    bad = 0
    for d in a.notes:
        as_of = note_as_of(d)
        if as_of is None:
            print(f"[leaks] {d}: latest data, nothing to audit")
            continue
        found = audit_note(d, as_of)
        bad += len(found)
        print(f"[leaks] {d} (as of {as_of}): {len(found)} leak{'s' if len(found) != 1 else ''}")
        for lk in found:
            print(f"  {lk}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
