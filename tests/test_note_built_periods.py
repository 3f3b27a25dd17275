"""The built notes (latest and 2025-11-10) as a reader checks them: every figure of the unit
economics, funding and valuation verdicts carries its own period and compares like with like, an
assumption is never stated as a fact, labels match what the data say, and one minus sign is used
on every page. Expectations are read from the results files (never typed), and from the data
where a filing fixes them."""

from __future__ import annotations

import json
import re

import pytest

from analysis import paths
from analysis.report import fmt
from analysis.report.pdf import pdf_text

pytestmark = pytest.mark.build

OUT = paths.ROOT / "reports"
VARIANTS = {"latest": OUT, "2025-11-10": OUT / "as-of-2025-11-10"}


@pytest.fixture(scope="module", params=list(VARIANTS))
def note(request):
    out = VARIANTS[request.param]
    pdf = out / "crwv-note.pdf"
    if not pdf.exists():
        pytest.skip(f"{pdf} not built: run `make test` (it builds both notes first)")
    res = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (out / "build" / "results").glob("*.json")}
    # typographic apostrophes of the narrative compared as straight ones; minus signs are left as printed
    text = re.sub(r"\s+", " ", pdf_text(pdf.read_bytes())).replace("\u2019", "'")
    return {"variant": request.param, "text": text, "res": res}


def _table(res: dict, nb: str, name: str) -> list[dict]:
    t = res[nb]["tables"][name]
    return [dict(zip(t["columns"], r, strict=True)) for r in t["rows"]]


def test_verdict_leads_print_with_one_minus_sign(note):
    """Each verdict of sections 01 and 06 prints word for word, minus signs included, on the front page
    and in its section (the narrative once turned '-1.9%' into '−1.9%' beside a front page's '-1.9%')."""
    for nb in ("01_unit_economics", "06_funding"):
        for key, v in note["res"][nb]["verdicts"].items():
            lead = f"{v['answer'][:1].upper()}{v['answer'][1:]}: {v['headline']}."
            assert note["text"].count(lead) >= 2, (key, lead)
    assert not re.search(r"\u2212\$?\d", note["text"].split("Unit economics")[1].split("Backlog conversion")[0])


def test_luria_and_returns_headlines_carry_their_quarter(note):
    """The Luria headline opens with its quarter (so its coverage has that period too); the returns
    headline is at the latest quarter with returns and a rate, against that quarter's rate."""
    res = note["res"]
    lur = res["01_unit_economics"]["verdicts"]["margin_vs_cost_of_debt"]
    assert lur["headline"].startswith(f"in {lur['period']}")
    rates = {r["quarter"]: r["effective_interest_rate"] for r in _table(res, "01_unit_economics",
                                                                         "effective_interest_rate")
             if r["effective_interest_rate"] is not None}
    roic = _table(res, "06_funding", "roic")
    with_returns = {r["quarter"] for r in roic if r["roic_annualised"] is not None}
    want = max(with_returns & set(rates))
    v = res["06_funding"]["verdicts"]["returns_on_capital"]
    assert v["period"] == want and v["headline"].startswith(f"in {want},")
    assert v["headline"].endswith(f"against that quarter's {fmt.pct(rates[want], 1)} effective rate")


def test_an_assumed_life_is_not_stated_as_fact(note):
    v = note["res"]["01_unit_economics"]["verdicts"]["depreciation_life"]
    assumed = "(ASSUMPTION: parameter)" in note["res"]["01_unit_economics"]["values"]["reported_life"]["label"]
    assert v["evidence"]["life_assumed"] == assumed
    if assumed:  # 2025-11-10: no dated statement of the life in the data published by then
        assert v["sentence"].startswith("If the reported life is six years (assumed: no dated statement in the data)")
        assert "rests on the six-year GPU life" not in note["text"]
        assert v["answer"].endswith(", if six years")


def test_no_parameter_names_or_stale_wording_in_prose(note):
    for bad in ("(computing_share_of_da)", "(parameter reported_life)", "an earlier version of this note"):
        assert bad not in note["text"], bad
    if "†" not in note["text"].replace("a ratio with * or † uses", ""):
        assert "a ratio with * or † uses" not in note["text"]  # a mark is explained only where it is used


def test_funding_answer_is_for_the_period_it_rests_on(note):
    v = note["res"]["06_funding"]["verdicts"]["funding_gap"]
    if "context_period" in v["evidence"]:
        assert v["answer"].endswith(f", in {v['evidence']['context_period']}")
        assert "financing unknown" in v["headline"]


def test_new_debt_has_a_dated_issue_and_the_rate_basis_of_the_key_figures(note):
    res = note["res"]
    new = _table(res, "06_funding", "new_facilities")
    # facilities a 10-Q describes at its balance sheet (DDTL 1.0 of 2023, DDTL 2.0 of 2024, the revolver) are not new
    assert not {"ddtl_1_0", "ddtl_2_0", "revolver"} & {r["facility"] for r in new}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}|in \d{4}Q[1-4]", r["raised"]) for r in new)
    q = res["06_funding"]["values"]["average_cost_of_debt"]["period"]
    basis = next(r["effective_rate_basis"] for r in _table(res, "01_unit_economics", "effective_interest_rate")
                 if r["quarter"] == q)
    assert f"effective interest rate, on {basis}, in {q}" in note["text"]
    assert "interest expense on average principal" not in note["text"] or basis == "principal"


def test_share_count_dated_where_the_prose_dates_it(note):
    """Table of share counts and the valuation prose give the full count the same date: the cover
    page's count date (2025-05-07 for the 10-Q of the quarter ended 2025-03-31), not the balance sheet's."""
    rows = [r for r in _table(note["res"], "06_funding", "share_counts") if r["total"] is not None]
    last = rows[-1]
    assert (last["date"], last["period_end"]) == ("2025-05-07", "2025-03-31")
    assert f"{fmt.num(last['total'] / 1e6, 1)}m shares of all classes at the latest full count, on {last['date']}" \
        in note["text"]


def test_implied_margins_above_100_percent_are_flagged(note):
    grid = _table(note["res"], "06_funding", "implied_margin_sensitivity")
    over = [r for r in grid if r["implied_margin"] > 1]
    assert note["text"].count("(unattainable)") >= len(over)
    if over:
        assert "no attainable margin justifies the price" in note["text"]


def test_liquidity_bounds_and_missing_figures(note):
    liq = {r["item"]: r for r in _table(note["res"], "06_funding", "liquidity")}
    for r in liq.values():
        if r["value"] is None and r["low"] is None:
            assert r["confidence"] is None, r
    due = liq["principal due in the next four quarters"]
    if due["value"] is None:
        assert due["low"] is not None and "(low)" not in due["note"]
        assert f"{fmt.usd_m(due['low'], 0)} to {fmt.usd_m(due['high'], 0)}" in note["text"]
    if note["variant"] == "2025-11-10":  # 2025H1 not reported: summed from 2025Q1 and 2025Q2*, marked derived
        gap = {r["quarter"]: r["funding_gap"] for r in _table(note["res"], "06_funding", "funding_gap")}
        h1 = liq["funding gap, 2025H1"]
        assert h1["value"] == pytest.approx(gap["2025Q1"] + gap["2025Q2"]) and "(derived)" in h1["note"]


def test_high_and_low_since_the_ipo_when_the_window_is_cut(note):
    v = note["res"]["00_overview"]["values"]
    since = v["high_52w"]["label"].startswith("since-IPO")
    assert since == (note["variant"] == "2025-11-10")  # listed 2025-03-28: under 52 weeks at 2025-11-10
    assert ("High since the IPO (intraday)" in note["text"]) == since
    assert ("52-week high (intraday)" in note["text"]) == (not since)
