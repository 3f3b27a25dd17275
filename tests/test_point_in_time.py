"""The as-of-2025-11-10 note contains nothing dated after that day (issue 7).

Reads the built variant reports/as-of-2025-11-10/crwv-note.{pdf,html} (`make report
PARAMS=params/as-of-2025-11-10.yaml`; `make test` builds it first), extracts the text (pypdf for
the PDF, BeautifulSoup for the HTML) and checks every ISO date (YYYY-MM-DD), ISO month (YYYY-MM)
and quarter label (2025Q4) in it against the as-of date. Chart text is drawn as outlines
(svg.fonttype 'path'), so axis labels are not covered here: only text the reader can select.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from analysis.paths import data_dir

pytestmark = pytest.mark.build

AS_OF = "2025-11-10"
VARIANT = Path(__file__).resolve().parents[1] / "reports" / "as-of-2025-11-10"
PDF, HTML = VARIANT / "crwv-note.pdf", VARIANT / "crwv-note.html"

# Strings that are later than AS_OF yet legitimate because they are not data known after AS_OF.
# Each entry: (exact later string, a piece of text that must surround it, why it is allowed).
# None is expected for dates and months.
ALLOWED_LATER: list[tuple[str, str, str]] = [
    # event E11 (announced 2025-09-30, data/events.csv): the Meta contract's term as announced that
    # day, a date in the contract known at the as-of date, not a figure published later
    ("2031", "deal through Dec 2031", "contract term in the 2025-09-30 Meta announcement"),
    ("2032", "(option to 2032)", "contract option in the 2025-09-30 Meta announcement"),
]

# Contract terms known at the as-of date (issue 11, funding section): debt maturities and the
# names of notes carry later years ("2031 senior notes", "DDTL 2.0 ... 2029-05", the maturity
# schedule "2026 $4,218m"). A later date or year is allowed when one of these markers of a
# contractual maturity appears within CONTRACT_REACH characters before it.
CONTRACT_MARKERS = ("Effective rate Maturity", "Due Principal Share of total", "senior notes", "Senior Notes due",
                    "rest of 20")
CONTRACT_REACH = 260

# Quarter labels after the as-of quarter are allowed only as labels of the backlog-delay
# scenario (notebook 02): projections of when delayed revenue would land, not reported figures.
SCENARIO_WORD = "scenario"
SCENARIO_REACH = 80  # characters either side of the label in which the word must appear

_DATE = re.compile(r"(?<![\d-])(20\d\d)-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?(?![\d])")
_YEAR = re.compile(r"(?<![\d-])(20\d\d)(?![\d-]| ?Q[1-4])")  # a bare year, not a date or quarter
_QUARTER = re.compile(r"(?<!\d)(20\d\d) ?Q([1-4])(?!\d)")


def _texts() -> dict[str, str]:
    missing = [p for p in (PDF, HTML) if not p.exists()]
    if missing:
        pytest.skip(f"point-in-time note not built ({', '.join(str(p) for p in missing)}): run "
                    "`make report PARAMS=params/as-of-2025-11-10.yaml` (make test builds it)")
    from bs4 import BeautifulSoup
    from pypdf import PdfReader

    pdf = "\n".join(page.extract_text() or "" for page in PdfReader(PDF).pages)
    html = BeautifulSoup(HTML.read_text(encoding="utf-8"), "html.parser").get_text(" ")
    # PDF line breaks can split a date after a hyphen ("2025-11-\n10"): join them back
    pdf = re.sub(r"(\d)-\s*\n\s*(\d)", r"\1-\2", pdf)
    return {"pdf": pdf, "html": " ".join(html.split())}


@pytest.fixture(scope="module")
def texts():
    return _texts()


def _context(text: str, m: re.Match, reach: int = 90) -> str:
    return " ".join(text[max(0, m.start() - reach): m.end() + reach].split())


def _allowed(s: str, ctx: str) -> bool:
    return any(s == a and around in ctx for a, around, _why in ALLOWED_LATER)


def _contract_term(text: str, m: re.Match) -> bool:
    """A maturity or a note's name (marker before it, or right after: "2031 senior notes"), or a
    year inside a source id ("8K_2031NOTES")."""
    if m.start() > 0 and text[m.start() - 1] == "_":
        return True
    near = " ".join(text[max(0, m.start() - CONTRACT_REACH): m.end() + len(" senior notes")].split())
    return any(k in near for k in CONTRACT_MARKERS)


def test_no_date_month_or_year_after_as_of(texts):
    later = []
    for kind, text in texts.items():
        for m in _DATE.finditer(text):
            y, mo, d = m.groups()
            s = m.group(0)
            is_later = s > AS_OF if d else s > AS_OF[:7]
            if is_later and not _allowed(s, _context(text, m)) and not _contract_term(text, m):
                later.append(f"{kind}: {s} in '...{_context(text, m)}...'")
        for m in _YEAR.finditer(text):
            if m.group(1) > AS_OF[:4] and not _allowed(m.group(1), _context(text, m)) and not _contract_term(text, m):
                later.append(f"{kind}: year {m.group(1)} in '...{_context(text, m)}...'")
    assert not later, f"{len(later)} dates after {AS_OF} in the point-in-time note:\n" + "\n".join(later)


def test_quarters_after_as_of_only_as_scenario_labels(texts):
    y0, q0 = int(AS_OF[:4]), (int(AS_OF[5:7]) - 1) // 3 + 1  # 2025Q4: the quarter holding the as-of day
    bad = []
    for kind, text in texts.items():
        for m in _QUARTER.finditer(text):
            # a quarter's figures are public only after it ends: the as-of quarter counts as later
            if (int(m.group(1)), int(m.group(2))) < (y0, q0):
                continue
            near = text[max(0, m.start() - SCENARIO_REACH): m.end() + SCENARIO_REACH]
            if SCENARIO_WORD not in near.lower():
                bad.append(f"{kind}: {m.group(0)} in '...{_context(text, m)}...'")
    assert not bad, "quarter labels at or after the as-of quarter outside the delay scenario:\n" + "\n".join(bad)


def _close_on(day: str) -> float:
    """CRWV close on `day`, read from data/prices/CRWV.csv with the csv module."""
    with open(data_dir() / "prices" / "CRWV.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["date"] == day:
                return float(row["close"])
    raise KeyError(day)


def test_as_of_date_and_last_close_are_shown(texts):
    close = _close_on(AS_OF)
    assert close == pytest.approx(105.61, abs=0.005)  # reference close in data/prices/PROVENANCE.md
    for kind, text in texts.items():
        assert f"As of {AS_OF}" in text or f"as of {AS_OF}" in text, f"{kind}: the as-of date is not printed"
        assert f"${close:,.2f}" in text, f"{kind}: the {AS_OF} close ${close:,.2f} is not shown"
        # no later close: the next session's close (2025-11-11) must not appear as a price
        nxt = _close_on("2025-11-11")
        assert f"${nxt:,.2f}" not in text, f"{kind}: the 2025-11-11 close ${nxt:,.2f} appears"


def test_no_fact_published_after_as_of(texts):
    """Facts about the world that were made public after AS_OF are absent: the Denton delay's size
    (data/fundamentals.csv rows delay_days and delay_site_power_mw, from the WSJ report of
    2025-12-15, event E18) must not be printed in the 2025-11-10 note. A site's power is matched
    anywhere ('260 MW', '260-megawatt'); a number of days only near the words of a delivery delay
    (delay, site, campus, Denton, data-centre), since '60 days' also names the event study's
    estimation window, a method parameter."""
    later_mw, later_days = [], []
    with open(data_dir() / "fundamentals.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["published"] > AS_OF:
                v = f"{float(row['value']):,.0f}"
                if row["metric"] == "delay_site_power_mw":
                    later_mw += [f"{v} MW", f"{v}-megawatt", f"{v} megawatts"]
                elif row["metric"] == "delay_days":
                    later_days += [f"{v} days", f"{v}-day"]
    assert "260 MW" in later_mw and "60 days" in later_days  # the rows the issue names are there
    delay_words = re.compile(r"delay|site|campus|denton|data.centre|data center", re.IGNORECASE)
    for kind, text in texts.items():
        found = [x for x in later_mw if x in text]
        for x in later_days:
            for m in re.finditer(re.escape(x), text):
                if delay_words.search(text[max(0, m.start() - 120): m.end() + 120]):
                    found.append(f"{x} in '...{_context(text, m)}...'")
        assert not found, f"{kind}: later facts printed: {found}"
