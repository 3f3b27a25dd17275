"""Sections 02 (backlog conversion) and 03 (customer concentration) built on the real data: periods
of the delay scenario, the chart's gaps, the 'about' rule, and the choice of the exposure scenario's
counterparty.

Golden values (data/fundamentals.csv, contracts.csv, customers.csv, sources.csv):
- Denton delay: 60 days at a 260 MW campus, period 2025Q3, WSJ report of 2025-12-15 via TheMinerMag
  [MINERMAG_WSJ] ("delayed construction by 60 days": not an approximate figure).
- revenue 2026Q2 2,575 [PHYS] is the last reported quarter of the full data; the debt balance at
  2026-03-31 is not in the data, so the effective rate, and the scenario's basis, stop at 2025Q4.
- revenue backlog 2026Q2 "about $104B" [PHYS]; Meta's announced contracts 14,200 [PR_25Q3] + 21,000
  [RR] = 35,200 (34% of it); OpenAI 22,400; as of 2025-11-10 the largest is OpenAI (22,400 / 55,600).
- VN (a secondary note quoting the S-1) is dated 2026-05-08 in the source registry; the Microsoft
  FY2024 share it quotes (62%) became public with the S-1 on 2025-03-03.
"""

from __future__ import annotations

import math

import pytest

from analysis import concentration as C
from analysis.report import exhibits, fmt
from analysis.sections import backlog_conversion as BC
from analysis.sections import customer_concentration as CC


@pytest.fixture(scope="module")
def backlog_latest():
    return BC.build(as_of="latest")


@pytest.fixture(scope="module")
def conc_latest():
    return CC.build(as_of="latest")


def _text(sec, name) -> str:
    return str(sec.items[name])


def _table(sec, name) -> dict:
    return sec.items[name].data


# ---- delay scenario ---------------------------------------------------------------------------------

def test_delay_scenario_quarters_follow_the_last_reported_revenue(backlog_latest):
    d = backlog_latest.data["delay"]
    si, scen = d["si"], d["scen"]
    assert si["quarter"] == "2025Q4" and si["last_reported_quarter"] == "2026Q2"
    # no scenario quarter is a quarter with reported revenue (2026Q1 2,078 and 2026Q2 2,575 are reported)
    assert list(scen.table["quarter"]) == ["2026Q3", "2026Q4", "2027Q1", "2027Q2"]
    t = _table(backlog_latest, "delay_table")
    assert "start after 2026Q2, the last quarter with reported revenue" in t["notes"]


def test_delay_inputs_one_quarter_and_the_text_says_which_input_limits_it(backlog_latest):
    t = _table(backlog_latest, "delay_inputs")["table"]
    rows = {r[0]: r for r in t["rows"]}
    quarter = t["columns"].index("Quarter")
    company = [r for name, r in rows.items() if r[-1] == "data" and name not in ("Delay", "Site power")]
    assert {r[quarter] for r in company} == {"2025Q4"}
    # the delay is the reported event, with its own quarter and date, and printed as the source gives it
    assert rows["Delay"][quarter] == "2025Q3 event, reported 2025-12-15" and rows["Delay"][1] == "60 days"
    txt = _text(backlog_latest, "delay_text")
    assert "as reported on 2025-12-15 [MINERMAG_WSJ], to " in txt and "about 60 days" not in txt
    assert "is taken at one quarter, 2025Q4 (table below)" in txt
    assert ("but the effective interest rate only up to 2025Q4, since it needs the debt on one basis at both ends of "
            "a quarter and the data hold no debt balance at the end of 2026Q1") in txt


def test_delay_verdict_note_compares_with_reported_revenue(backlog_latest):
    d = backlog_latest.data["delay"]
    first = d["scen"].table.iloc[0]
    note = _text(backlog_latest, "verdict_notes")
    # shifted revenue against the basis quarter's reported revenue and against the latest reported quarter's
    assert f"of the revenue reported for 2025Q4, the quarter it is sized on ({fmt.pct(first['revenue_shifted'] / 2575)}" \
           " of the $2,575.0m reported for 2026Q2" in note
    assert "2025Q4 rate" not in note


def test_methods_say_the_delay_comes_from_dated_data():
    from analysis.report import front

    methods = " ".join(t for keys, t in front.METHODS if "02_backlog_conversion" in keys)
    assert "number of days the parameters set" not in methods
    assert "delivery delay read in the data" in methods and "placed after the last quarter with reported revenue" in methods


def test_guidance_table_title_grammar(backlog_latest):
    # 11 ranges for 7 periods, one cut (FY2025 on 2025-11-10 [TR_25Q3])
    assert _table(backlog_latest, "guidance_table")["title"] == "11 revenue guidance ranges for 7 periods, 1 of them a cut"


# ---- chart -------------------------------------------------------------------------------------------

def test_rpo_line_breaks_at_a_missing_quarter(monkeypatch):
    # as of 2025-11-10 there is RPO for 2025Q1 (14,700) and 2025Q3 (about 50,000) but none for 2025Q2
    figs = []
    real = exhibits.figure
    monkeypatch.setattr(exhibits, "figure", lambda fig, **kw: (figs.append([ln.get_ydata() for ln in fig.axes[0].lines]),
                                                                real(fig, **kw))[1])
    BC.build(as_of="2025-11-10")
    lines = figs[0]  # the backlog chart: revenue backlog line, then RPO line
    quarters = ["2024Q1", "2024Q2", "2024Q3", "2024Q4", "2025Q1", "2025Q2", "2025Q3"]
    rpo = list(lines[1])
    assert len(rpo) == len(quarters) and math.isnan(rpo[quarters.index("2025Q2")])
    assert rpo[quarters.index("2025Q1")] == pytest.approx(14.7)


def test_backlog_chart_key_matches_the_confidence_levels(backlog_latest):
    notes = _table(backlog_latest, "backlog_chart")["notes"]
    assert "Hollow markers: figures of low confidence; filled markers: high or medium confidence" in notes
    assert "secondary or news" not in notes


# ---- conversion verdict across the history ------------------------------------------------------------

def test_as_of_note_gives_no_ratio_from_the_2025q1_rpo_split():
    sec = BC.build(as_of="2025-11-10")
    v = sec.results.verdicts["backlog_conversion"]
    assert v["answer"] == "not measurable" and "58%" not in v["headline"] and "1.1x" not in v["headline"]


# ---- concentration -----------------------------------------------------------------------------------

def test_scenario_counterparty_is_the_verdicts_largest(conc_latest):
    v = conc_latest.results.verdicts["customer_concentration"]
    assert v["evidence"]["backlog_top_counterparty"] == "Meta"
    scen = conc_latest.data["scen"]
    assert scen.inputs["customer"] == "Meta" and scen.inputs["exposure_usd_m"] == pytest.approx(14_200 + 21_000)
    txt = _text(conc_latest, "scenario_text")
    assert txt.startswith("The scenario removes Meta, the largest named counterparty by announced contract value")
    # a parameter may name another counterparty: the text then names the largest beside it
    pick = C.scenario_counterparty(conc_latest.data["btop"], "OpenAI")
    assert (pick["customer"], pick["rule"], pick["largest"]) == ("OpenAI", "parameter", "Meta")
    assert C.scenario_counterparty(CC.build(as_of="2025-11-10").data["btop"])["customer"] == "OpenAI"


def test_scenario_notes_have_no_raw_mode_name(conc_latest):
    notes = _table(conc_latest, "scenario_table")["notes"]
    assert "mode '" not in notes and notes.startswith("Scenario at 2026Q2: the value is lost and leaves the backlog.")


def test_backlog_shares_of_an_approximate_backlog_print_about(conc_latest):
    t = _table(conc_latest, "backlog_table")
    rows = {r[0]: dict(zip(t["table"]["columns"], r, strict=True)) for r in t["table"]["rows"]}
    assert rows["2026Q2"]["Backlog, USD m"] == "about 104,000" and rows["2026Q2"]["Meta"] == "about 34%"
    assert rows["2025Q1"]["Backlog, USD m"] == "25,900"  # exact (PR_25Q1)
    assert t["title"].startswith("Meta's announced contracts equal about 34% of the 2026Q2 revenue backlog")
    v = conc_latest.results.verdicts["customer_concentration"]
    assert v["headline"].endswith("Meta's contracts up to about 34% of the 2026Q2 backlog")


def test_hhi_text_names_the_single_period_below_the_band(conc_latest):
    txt = _text(conc_latest, "hhi_text")
    assert "the others (" not in txt and "FY2022 does not reach it even on the upper bound (1,072)" in txt


def test_event_citation_uses_the_registry_date_of_the_document(conc_latest):
    txt = _text(conc_latest, "events_text")
    assert "[VN, a document dated 2026-05-08; the figure public 2025-03-03, after E01]" in txt
    assert "[VN, public 2025-03-03" not in txt
    assert "[10Q_25Q1, public 2025-05-14, after E01, E02]" in txt


def test_exposure_text_spreads_no_split_of_another_quarter():
    # as of 2025-11-10 the only 24-month split is the 2025Q1 RPO's (58%): not spread over the 2025Q3 backlog
    sec = CC.build(as_of="2025-11-10")
    assert sec.data["scen"].inputs["timing_quarter"] == "2025Q1"
    assert "Spreading the disclosed 24-month share" not in _text(sec, "scenario_text")
    # latest: the 2026Q2 RPO split (41%) is of the scenario quarter, so the comparison is made
    assert "Spreading the disclosed 24-month share of the backlog evenly would give $21.3bn" in _text(
        CC.build(as_of="latest"), "scenario_text")


def test_backlog_chart_stays_after_its_paragraph_in_the_pdf(backlog_latest):
    # a floated figure landed at the top of the next page, inside the roll-forward paragraph that
    # ran over the page break ('2.1x the' / Figure 4 / '2026Q2 annualised revenue'): this one is kept in flow
    from analysis.report import pdf

    d = {**_table(backlog_latest, "backlog_chart"), "label": "Figure 4"}
    assert d["in_flow"] is True
    assert pdf.exhibit_typst(d, "f.svg").endswith('path: "f.svg", in-flow: true)')
    other = {**_table(backlog_latest, "guidance_chart"), "label": "Figure 5"}
    assert "in_flow" not in other and "in-flow" not in pdf.exhibit_typst(other, "g.svg")
