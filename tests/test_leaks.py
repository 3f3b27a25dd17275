"""The leak auditor (`analysis.leaks`) on sentences checked against the real data.

Each expectation is read from the raw files by hand: RR is a document of 2026-06-11
(sources.csv), E18 (the WSJ report on Denton) was announced 2025-12-15 (events.csv), C01 was
published 2025-12-17 (claims.yaml), CRWV closed at 88.39 on 2025-11-11 (prices/CRWV.csv), the
Q4-25 revenue of 1,572 is read only in RR (fundamentals.csv), Microsoft's 71% share of 2025Q2
revenue only in VN (customers.csv), and the 2025-11-10 guidance for FY2025 revenue is 5,050-5,150
(TR_25Q3).
"""

from __future__ import annotations

from datetime import date

import pytest

from analysis import leaks as L

AS_OF = "2025-11-10"


@pytest.fixture(scope="module")
def facts():
    return L.data_facts(AS_OF)


def kinds(text, facts, as_of=AS_OF):
    return sorted({lk.kind for lk in L.audit_text(text, as_of, facts=facts)})


# ---- dates

@pytest.mark.parametrize("text", [
    "Fourth-quarter results were published on 2026-02-26.",
    "Revenue in 2025Q4 was strong.",
    "Revenue in Q4 2025 was strong.",
    "Q4-25 revenue was strong.",
    "The FY26 results beat.",
    "In 2026 the company grew.",
    "On 15 December 2025 the WSJ reported a delay.",
    "By Dec 2025 the stock had fallen.",
    "From 2025-10-01 to 2026-02-26 the stock fell.",            # a span ending later: not a term
])
def test_later_dates_are_leaks(text, facts):
    assert kinds(text, facts) == ["date"], text


@pytest.mark.parametrize("text", [
    "The FY2025 revenue guidance was cut to a range.",          # guidance period, and public data has it
    "The notes are due 2031-02-01.",                            # maturity
    "Meta's deal runs through Dec 2031 (option to 2032).",      # contract term
    "Oracle FQ1 FY26 results lifted the sector.",               # another company's fiscal calendar
    "The 2031 senior notes pay 9%.",                            # an instrument's name
    "The third quarter 2025 results came out on 2025-11-10.",   # the year in progress, the as-of day
    "Built with nbconvert 7.16.6 and pandas 2026.1.0.",         # version strings are not dates
    "Under the delay scenario, revenue moves into 2026Q1.",     # a labelled scenario
    "Day 0 of E14 is the next session, 2025-11-11.",            # the next session, marked as such
    "Meta's capacity runs 2027-Dec 2032.",                      # a span of two later dates: a term
    "Contracts signed in 2025Q4 (to date) total $1bn.",         # the quarter to date
])
def test_forward_looking_or_public_dates_are_not_leaks(text, facts):
    assert kinds(text, facts) == [], text


def test_a_table_row_is_covered_by_a_marker_in_its_exhibit_title():
    html = ("<figure><figcaption>Table 9 Revenue guidance by period</figcaption><table><thead><tr><th>Period</th>"
            "<th>Low</th></tr></thead><tbody><tr><td>2025Q4</td><td>n/a</td></tr></tbody></table></figure>"
            "<figure><figcaption>Table 10 Quarterly revenue</figcaption><table><thead><tr><th>Quarter</th>"
            "<th>Revenue</th></tr></thead><tbody><tr><td>2025Q4</td><td>n/a</td></tr></tbody></table></figure>")
    segs = L.html_segments(html)
    found = L.audit_dates(segs, date(2025, 11, 10))
    # the guidance table's row is marked by its title; the revenue table's row is not
    assert [(lk.kind, lk.token) for lk in found] == [("date", "2025Q4")]


def test_the_pdf_may_not_show_a_later_date_more_often_than_the_html():
    segs = L.html_segments("<p>The FY2026 guidance is new.</p>")
    ok = L.audit_pdf_dates("The FY2026 guidance is new.", segs, date(2025, 11, 10))
    extra = L.audit_pdf_dates("The FY2026 guidance is new. Running head FY2026", segs, date(2025, 11, 10))
    assert ok == [] and [lk.token for lk in extra] == ["FY2026"]


# ---- ids

def test_later_source_event_and_claim_ids_are_leaks(facts):
    found = L.audit_text("Backlog per [RR]; see E18 and claim C01.", AS_OF, facts=facts)
    assert sorted((lk.kind, lk.token) for lk in found) == [("claim", "C01"), ("event", "E18"), ("source", "RR")]
    assert "2026-06-11" in next(lk.why for lk in found if lk.kind == "source")


def test_public_ids_are_not_leaks(facts):
    assert kinds("Revenue per [PR_25Q3] and [TR_25Q3]; E14 was that evening; E13 came before.", facts) == []


def test_an_undated_source_is_a_leak_in_a_point_in_time_note(facts):
    found = L.audit_text("A figure from CAYMAN_8K26.", AS_OF, facts=facts)
    assert [(lk.kind, lk.token) for lk in found] == [("source", "CAYMAN_8K26")] and "undated" in found[0].why


# ---- figures

@pytest.mark.parametrize("text, token", [
    ("Fourth-quarter revenue was $1,572.0m.", "$1,572.0m"),          # RR only, 4 significant digits
    ("Revenue 1,572.0 in the table.", "1,572.0"),                    # bare, as in tables in USD millions
    ("The backlog reached $66.8bn.", "$66.8bn"),                     # TR_25Q4 (2026-02-26)
    ("Microsoft accounted for 71.0% of revenue.", "71.0%"),         # VN only; named
    ("Weather cost the 260 MW campus.", "260 MW"),                  # E18 capacity: strict
    ("Rain and wind cost 60 days at Denton.", "60 days"),           # E18 duration, next to a name from it
    ("The stock closed at $88.39.", "$88.39"),                      # the 2025-11-11 close
    ("The GPU useful life is 5 years.", "5 years"),                 # PHYS/10-K, undated: not public
])
def test_later_figures_are_leaks(text, token, facts):
    found = [lk for lk in L.audit_text(text, AS_OF, facts=facts) if lk.kind == "figure"]
    assert [lk.token for lk in found] == [token], text


@pytest.mark.parametrize("text", [
    "Third-quarter revenue was $1,364.7m and the backlog $55.6bn.",     # PR_25Q3, public that day
    "FY2025 revenue guidance was cut to $5.05-5.15bn.",                  # TR_25Q3 guidance
    "The operating margin was 71.0% in a hypothetical.",                # 71% with no word naming Microsoft
    "The event-study estimation window is 60 days long.",               # 60 days, no name from E18
    "2024Q4 interest expense of 149.0 is derived as FY - 9M.",          # derived from public rows
    "The GPU useful life is 5 years (an ASSUMPTION).",                  # a labelled assumption
    "The close on 2025-11-10 was $105.61.",                             # a public close
])
def test_public_or_unrelated_figures_are_not_leaks(text, facts):
    assert [lk for lk in L.audit_text(text, AS_OF, facts=facts) if lk.kind == "figure"] == [], text


def test_the_same_figure_is_public_later(facts):
    # Q4-25 backlog 66,800 (TR_25Q4) is public from 2026-02-26 on
    assert kinds("The backlog reached $66.8bn.", None, "2026-02-26") == []


def test_latest_build_has_nothing_to_audit():
    assert L.audit_text("Revenue in 2026Q3 and [RR].", "latest") == []


def test_numbers_parse_units_ranges_and_precision():
    ns = {n.token.strip(): n for n in L.numbers("$5.05-5.15B, $1,364.7m, 71%, 260 MW, 1.6 GW, 60 days, 2,900, 0.17x")}
    lo, hi = [n for n in L.numbers("$5.05-5.15B")]
    assert (lo.unit, lo.value, hi.value) == ("usd_m", pytest.approx(5050), pytest.approx(5150))
    assert ns["$1,364.7m"].value == pytest.approx(1364.7) and ns["$1,364.7m"].tol == pytest.approx(0.05)
    assert ns["71%"].unit == "pct" and ns["71%"].tol == 0.5
    assert ns["1.6 GW"].unit == "mw" and ns["1.6 GW"].value == pytest.approx(1600)
    assert ns["2,900"].unit == "bare" and "0.17x" not in ns


def test_significant_digits():
    assert [L.significant_digits(v) for v in (1600, 1572, 71, 0.35, 105.61, 55600)] == [2, 4, 2, 2, 5, 3]


def test_the_pdf_is_judged_against_the_html_for_low_precision_figures(facts):
    html = "<p>In 2025Q1 one customer paid 72% of revenue.</p>"
    clean = L.audit_pdf_figures("In 2025Q1 one customer paid 72% of revenue.", L.html_text(html), date(2025, 11, 10), facts)
    extra = L.audit_pdf_figures("In 2025Q1 one customer paid 72% of revenue. Microsoft 71%", L.html_text(html),
                                date(2025, 11, 10), facts)
    assert clean == [] and [lk.token for lk in extra] == ["71%"]


def test_audit_documents_reads_both_renderings():
    html = "<p>The backlog reached $55.6bn.</p><p>Per [RR] the backlog was $66.8bn and Q4 revenue $1,572.0m.</p>"
    pdf = "The backlog reached $55.6bn. Per [RR] the backlog was $66.8bn and Q4 revenue $1,572.0m."
    found = L.audit_documents(html, pdf, AS_OF)
    # a precise figure is caught in both; a rounder one in the HTML (judged next to its words), and
    # in the PDF only where it prints it more often than the HTML
    assert sorted((lk.kind, lk.token, lk.where) for lk in found) == [
        ("figure", "$1,572.0m", "html"), ("figure", "$1,572.0m", "pdf"), ("figure", "$66.8bn", "html"),
        ("source", "RR", "html"), ("source", "RR", "pdf")]
