"""Claims ledger: every measure on real data against values computed here independently
(prices read with the csv module, fundamentals/contracts rows read from the CSVs), verdict logic
on constructed cases, and claims.yaml errors on corrupted temp copies of data/."""

import csv
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import claims as C
from analysis.data import (
    DataValidationError,
    load_claims,
    load_contracts,
    load_fundamentals,
    load_prices,
    load_sources,
)
from analysis.paths import data_dir

DATA = data_dir()


# --------------------------------------------------------------------------- helpers
def _bars(ticker: str) -> list[dict]:
    """Rows of data/prices/<ticker>.csv read with the csv module (strings; '' = missing)."""
    with open(DATA / "prices" / f"{ticker}.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _px(ticker: str, date: str, field: str = "close") -> float:
    for r in _bars(ticker):
        if r["date"] == date:
            return float(r[field])
    raise KeyError(date)


def _fund_rows(metric: str, period: str) -> list[dict]:
    with open(DATA / "fundamentals.csv", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["metric"] == metric and r["period"] == period]


def _fund_value(metric: str, period: str, source: str) -> float:
    (row,) = [r for r in _fund_rows(metric, period) if r["source"] == source]
    return float(row["value"])


def _data(as_of=None) -> C.ClaimData:
    """Inputs built by hand from the loaders (no panel/ratios: those come from load_claim_data)."""
    return C.ClaimData(
        prices=load_prices(as_of=as_of), fundamentals=load_fundamentals(as_of=as_of),
        contracts=load_contracts(as_of=as_of), sources=load_sources(),
        as_of=None if as_of is None else pd.Timestamp(as_of))


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def ledger():
    d = C.load_claim_data()
    checks = C.evaluate_claims(load_claims(), d)
    return checks, C.claim_verdicts(checks)


def _row(checks, cid, no):
    return checks[(checks["claim_id"] == cid) & (checks["check_no"] == no)].iloc[0]


# --------------------------------------------------------------------------- price measures
def test_price_levels_match_the_csv(data):
    # PROVENANCE.md checks: close 105.61 on 2025-11-10, 88.39 on 2025-11-11, high 187.00 on
    # 2025-06-20, low 63.80 on 2025-12-17; IPO day open 39.00, close 40.00.
    for field, day, golden in [("close", "2025-11-10", 105.61), ("close", "2025-11-11", 88.39),
                               ("high", "2025-06-20", 187.00), ("low", "2025-12-17", 63.80),
                               ("open", "2025-03-28", 39.00), ("close", "2025-03-28", 40.00)]:
        a = C.price_level(data, "CRWV", day, field)
        assert a.value == _px("CRWV", day, field)
        assert a.value == pytest.approx(golden, abs=0.005)
        assert a.sources == ("prices:CRWV",) and a.confidence == "high" and a.unit == "usd"


def test_one_day_return_crwv_after_q3_results(data):
    a = C.price_return(data, "CRWV", date="2025-11-11")
    hand = _px("CRWV", "2025-11-11") / _px("CRWV", "2025-11-10") - 1
    assert a.value == pytest.approx(hand, rel=1e-12)
    assert a.value == pytest.approx(-0.1631, abs=5e-5)  # -16.31% (PROVENANCE.md, CONTEXT.md)
    assert a.basis.startswith("close ")


def test_period_return_and_return_from_price(data):
    a = C.price_return(data, "CRWV", start="2025-10-31", end="2025-11-28")
    assert a.value == pytest.approx(_px("CRWV", "2025-11-28") / _px("CRWV", "2025-10-31") - 1, rel=1e-12)
    b = C.return_from_price(data, "CRWV", 40.0, "2025-06-27")
    assert b.value == pytest.approx(_px("CRWV", "2025-06-27") / 40.0 - 1, rel=1e-12)


def test_one_day_return_uses_adj_close_where_only_that_exists(data):
    # SMH has only adj_close in 2025 (PROVENANCE.md)
    rows = {r["date"]: r for r in _bars("SMH")}
    assert rows["2025-03-26"]["close"] == "" and rows["2025-03-25"]["close"] == ""
    a = C.price_return(data, "SMH", date="2025-03-26")
    hand = float(rows["2025-03-26"]["adj_close"]) / float(rows["2025-03-25"]["adj_close"]) - 1
    assert a.value == pytest.approx(hand, rel=1e-12)
    assert "adj_close" in a.basis
    # NVDA the same day: close-to-close, -5.742% per PROVENANCE.md
    n = C.price_return(data, "NVDA", date="2025-03-26")
    assert n.value == pytest.approx(-0.05742, abs=5e-6) and "adj_close" not in n.basis


def test_smh_open_missing_is_not_zero(data):
    a = C.price_level(data, "SMH", "2025-03-26", "open")
    assert a.missing and "no open" in a.reason


def test_worst_three_day_return_by_hand(data):
    rows = [r for r in _bars("AVGO")]
    dates = [r["date"] for r in rows]
    closes = [float(r["close"]) for r in rows]
    best = min((closes[i] / closes[i - 3] - 1, dates[i]) for i in range(3, len(rows))
               if "2025-12-08" <= dates[i] <= "2025-12-17")
    a = C.worst_return(data, "AVGO", "2025-12-08", "2025-12-17", 3)
    assert a.value == pytest.approx(best[0], rel=1e-12)
    assert a.basis.endswith(best[1])
    assert a.value < -0.17  # the press: Broadcom fell more than 17% over three days


def test_decline_from_peak_by_hand(data):
    rows = [r for r in _bars("CRWV") if "2025-11-05" <= r["date"] <= "2025-12-17"]
    peak = max(float(r["close"]) for r in rows)
    a = C.decline_from_peak(data, "CRWV", "2025-11-05", "2025-12-17")
    assert a.value == pytest.approx(_px("CRWV", "2025-12-17") / peak - 1, rel=1e-12)
    # from the record close 183.58 (2025-06-20) to 64.55 on 2025-12-17: -64.8%
    b = C.decline_from_peak(data, "CRWV", "2025-03-28", "2025-12-17")
    assert b.value == pytest.approx(_px("CRWV", "2025-12-17") / _px("CRWV", "2025-06-20") - 1, rel=1e-12)


def test_record_close_date(data):
    a = C.record_close_date(data, "CRWV", "2025-12-30")
    assert a.value == pd.Timestamp("2025-06-20")  # record close 183.58 (PROVENANCE.md)
    rows = [r for r in _bars("CRWV") if r["date"] <= "2025-12-30"]
    assert max(rows, key=lambda r: float(r["close"]))["date"] == "2025-06-20"
    # before the peak existed, the record was earlier
    assert C.record_close_date(data, "CRWV", "2025-06-18").value < pd.Timestamp("2025-06-18")


@pytest.mark.parametrize("day, words", [
    ("2025-11-15", "Saturday"),                    # weekend
    ("2025-11-27", "exchange holiday"),            # Thanksgiving: no bar in any file
    ("2025-03-27", "before the first CRWV price"),  # the day before the IPO
])
def test_non_trading_day_is_not_verifiable_and_never_nudged(data, day, words):
    for a in (C.price_level(data, "CRWV", day, "close"), C.price_return(data, "CRWV", date=day),
              C.return_from_price(data, "CRWV", 40.0, day)):
        assert a.missing and words in a.reason and day in a.reason


def test_first_day_has_no_one_day_return(data):
    a = C.price_return(data, "CRWV", date="2025-03-28")
    assert a.missing and "no previous close" in a.reason


def test_price_after_as_of_is_not_verifiable():
    d = _data(as_of="2025-11-10")
    a = C.price_level(d, "CRWV", "2025-11-11", "close")
    assert a.missing and "as-of date 2025-11-10" in a.reason
    assert C.worst_return(d, "AVGO", "2025-12-08", "2025-12-17", 3).missing
    assert C.record_close_date(d, "CRWV", "2025-12-30").missing


# --------------------------------------------------------------------------- fundamentals, contracts
def test_metric_and_growth(data):
    a = C.metric(data, "revenue", "2025Q3")
    assert a.value == _fund_value("revenue", "2025Q3", "PR_25Q3")  # 1,364.676 (Q3-25 PR)
    assert a.sources == ("PR_25Q3",) and a.confidence == "high" and a.unit == "usd_m"
    g = C.growth(data, "revenue", "2025Q3", "2024Q3")
    hand = _fund_value("revenue", "2025Q3", "PR_25Q3") / _fund_value("revenue", "2024Q3", "PR_25Q3") - 1
    assert g.value == pytest.approx(hand, rel=1e-12)
    life = C.metric(data, "gpu_useful_life_years", "FY2025")
    assert life.unit == "years" and life.value == 6.0 and "not verified" in life.basis


def test_missing_fundamental_is_missing_not_zero(data):
    a = C.metric(data, "operating_income", "2026Q3")  # no 2026Q3 figures (FUNDAMENTALS.md)
    assert a.missing and a.reason


def test_fundamental_not_public_at_as_of():
    d = _data(as_of="2025-11-09")  # the Q3-25 release came out on 2025-11-10
    a = C.metric(d, "revenue", "2025Q3")
    assert a.missing and "as of 2025-11-09" in a.reason
    assert C.metric(_data(as_of="2025-11-10"), "revenue", "2025Q3").value == pytest.approx(1364.676)


def test_guidance_exact_publication_date(data):
    lo = C.guidance(data, "revenue", "FY2025", "2025-05-14", "low")
    hi = C.guidance(data, "revenue", "FY2025", "2025-05-14", "high")
    assert lo.value == _fund_value("revenue_guidance_low", "FY2025", "WSCN") == 4900
    assert hi.value == _fund_value("revenue_guidance_high", "FY2025", "WSCN") == 5100
    assert lo.confidence == "low" and lo.sources == ("WSCN",)
    # the Q3-25 call cut the range to 5,050-5,150 (TR_25Q3)
    assert C.guidance(data, "revenue", "FY2025", "2025-11-10", "low").value == 5050
    miss = C.guidance(data, "revenue", "FY2025", "2025-05-15", "low")  # a day off: not nudged
    assert miss.missing and "2025-05-14" in miss.reason


def test_contracts_total_and_share_of_backlog(data):
    with open(DATA / "contracts.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["counterparty"] == "OpenAI" and "2025-01-01" <= r["announced"] <= "2025-12-31"]
    hand = sum(float(r["value_usd_m"]) for r in rows)
    assert hand == 11900 + 4000 + 6500 == 22400  # OpenAI 2025 contracts (CONTEXT.md)
    a = C.contracts_total(data, "OpenAI", "2025-01-01", "2025-12-31")
    assert a.value == hand and set(a.sources) == {"10Q_25Q1", "PR_25Q3"} and a.confidence == "high"
    s = C.share_of_backlog(data, "OpenAI", "2025Q3", "2025-01-01", "2025-12-31")
    assert s.value == pytest.approx(22400 / _fund_value("revenue_backlog", "2025Q3", "PR_25Q3"), rel=1e-12)
    assert C.contracts_total(data, "NVIDIA", "2025-01-01", "2025-12-31").value == 6300
    none = C.contracts_total(data, "Microsoft", "2025-01-01", "2025-12-31")
    assert none.missing and "no contract with Microsoft" in none.reason


def test_contract_without_value_is_not_summed(data):
    import dataclasses

    # constructed case on a copy of the real contracts: blank the value of OpenAI's May-2025 add-on
    c = data.contracts.copy()
    c.loc[(c["counterparty"] == "OpenAI") & (c["announced"] == "2025-05-14"), "value_usd_m"] = float("nan")
    a = C.contracts_total(dataclasses.replace(data, contracts=c), "OpenAI", "2025-01-01", "2025-12-31")
    assert a.missing and "no value" in a.reason and "2025-05-14" in a.reason  # never summed as zero
    # an acquisition is not a customer contract: Core Scientific has no contract to sum
    b = C.contracts_total(data, "Core Scientific", "2025-01-01", "2025-12-31")
    assert b.missing and "no contract" in b.reason


# --------------------------------------------------------------------------- ratio measures
def test_ratio_measures_from_unit_economics():
    d = C.load_claim_data()
    oi, rev = _fund_value("operating_income", "2025Q3", "PR_25Q3"), _fund_value("revenue", "2025Q3", "PR_25Q3")
    m = C.ratio(d, "operating_margin", "2025Q3")
    assert m.value == pytest.approx(oi / rev, rel=1e-9)  # 51.85 / 1,364.676 = 3.80% (Q3-25 PR)
    assert "PR_25Q3" in m.sources and m.confidence == "high"
    # (interest + D&A) / revenue, 2025Q1 = (263.835 + 443.497) / 981.632 = 72.1% (Q1-25 10-Q)
    x = C.ratio(d, "interest_and_da_to_revenue", "2025Q1")
    hand = (_fund_value("interest_expense", "2025Q1", "10Q_25Q1")
            + _fund_value("depreciation_and_amortization", "2025Q1", "10Q_25Q1")) / \
        _fund_value("revenue", "2025Q1", "10Q_25Q1")
    assert x.value == pytest.approx(hand, rel=1e-9) and x.value == pytest.approx(0.721, abs=5e-4)
    # margin / (4 x interest / average of the two quarter-end debt principals)
    rate = 4 * _fund_value("interest_expense", "2025Q3", "PR_25Q3") / (
        (_fund_value("debt_principal_total", "2025Q2", "SEC_R41")
         + _fund_value("debt_principal_total", "2025Q3", "SEC_R97_25Q3")) / 2)
    r = C.ratio(d, "margin_to_interest_rate", "2025Q3")
    assert r.value == pytest.approx((oi / rev) / rate, rel=1e-9)
    assert r.unit == "ratio"


# --------------------------------------------------------------------------- verdict logic
@pytest.mark.parametrize("actual, stated, rel, tol, verdict, diff", [
    (105.61000061, 105.61, "approx", 0.01, "confirmed", None),
    (105.625, 105.61, "approx", 0.01, "differs", 0.015),
    (1.0049, 1.0, "approx", 0.005, "confirmed", None),   # inside the band
    (-0.177, -0.17, "below", None, "confirmed", None),
    (-0.16, -0.17, "below", None, "differs", 0.01),
    (-0.17, -0.17, "below", None, "differs", 0.0),       # strict: equal is not below
    (1.34, 1.0, "above", None, "confirmed", None),
    (6.0, 6, "equals", None, "confirmed", None),
    (5.0, 6, "equals", None, "differs", -1.0),
    (math.nan, 6, "equals", None, "not verifiable", None),
    (None, 1.0, "approx", 0.1, "not verifiable", None),
])
def test_compare_constructed(actual, stated, rel, tol, verdict, diff):
    v, d = C.compare(actual, stated, rel, tol)
    assert v == verdict
    if diff is None:
        assert math.isnan(d)
    else:
        assert d == pytest.approx(diff, abs=1e-12)


def test_compare_dates_in_days():
    assert C.compare(pd.Timestamp("2025-06-20"), pd.Timestamp("2025-06-20"), "equals") == ("confirmed", pytest.approx(math.nan, nan_ok=True))
    v, d = C.compare(pd.Timestamp("2025-07-11"), pd.Timestamp("2025-07-10"), "equals")
    assert v == "differs" and d == 1.0


@pytest.mark.parametrize("verdicts, claim", [
    (["confirmed", "confirmed"], "confirmed"),
    (["confirmed", "differs", "not verifiable"], "differs"),
    (["differs"], "differs"),
    (["confirmed", "not verifiable"], "partly verifiable"),
    (["not verifiable", "not verifiable"], "not verifiable"),
])
def test_combine_verdicts(verdicts, claim):
    assert C.combine_verdicts(verdicts) == claim


def test_combine_verdicts_rejects_nonsense():
    with pytest.raises(ValueError):
        C.combine_verdicts([])
    with pytest.raises(ValueError):
        C.combine_verdicts(["maybe"])


def test_claim_verdicts_and_counts_constructed():
    checks = pd.DataFrame({
        "claim_id": ["X1", "X1", "X2", "X3", "X3", "X4"],
        "published": pd.to_datetime(["2025-01-01"] * 6), "outlet": ["A"] * 6, "claim": ["t"] * 6,
        "verdict": ["confirmed", "confirmed", "differs", "confirmed", "not verifiable", "not verifiable"],
        "sources": ["P1", "P2", None, "P1", None, None], "confidence": ["high", "low", None, "high", None, None],
    })
    v = C.claim_verdicts(checks)
    assert list(v["verdict"]) == ["confirmed", "differs", "partly verifiable", "not verifiable"]
    assert v.loc[0, "sources"] == "P1; P2" and v.loc[0, "confidence"] == "low"
    n = C.verdict_counts(v, checks).set_index("verdict")
    # each column counts one thing: claims with the verdict, and all the checks of those claims
    assert n.loc["confirmed", "claims"] == 1 and n.loc["confirmed", "checks"] == 2
    assert n.loc["partly verifiable", "claims"] == 1 and n.loc["partly verifiable", "checks"] == 2
    assert n.loc["partly verifiable", "checks_confirmed"] == 1 and n.loc["partly verifiable", "checks_not_verifiable"] == 1
    assert n.loc["not verifiable", "checks"] == 1 and n.loc["differs", "checks_differs"] == 1
    assert n["share_of_claims"].sum() == pytest.approx(1.0)
    assert n["claims"].sum() == len(v) and n["checks"].sum() == len(checks)
    assert n[list(C.CHECK_COUNT_COLUMNS.values())].to_numpy().sum() == len(checks)


def test_verdict_counts_add_up_on_the_ledger(ledger):
    """Every claim in one row and every check once (A22: 'partly verifiable' had no checks, and
    'not verifiable: 1 claim, 6 checks' counted checks of other claims)."""
    checks, verdicts = ledger
    n = C.verdict_counts(verdicts, checks).set_index("verdict")
    assert n["claims"].sum() == len(verdicts) == 31
    assert n["checks"].sum() == len(checks)
    per_claim = verdicts.set_index("claim_id")["n_checks"]
    for v in C.CLAIM_VERDICTS:
        ids = verdicts.loc[verdicts["verdict"] == v, "claim_id"]
        assert n.loc[v, "checks"] == per_claim[ids].sum()
    assert n.loc["partly verifiable", "checks"] > 0
    assert n.loc["not verifiable", "checks"] == n.loc["not verifiable", "claims"] == 1


def test_check_names_are_reader_words(ledger):
    checks, _ = ledger
    assert not checks["check"].str.contains("_").any(), list(checks.loc[checks["check"].str.contains("_"), "check"])
    names = set(checks["check"])
    assert "interest plus D&A over revenue 2025Q1" in names and "GPU useful life FY2025" in names


def test_claim_texts_print_in_the_pdf_fonts():
    """Claim, outlet, check note and reason reach the note; the PDF fonts must draw every character
    (A7: 'the seed's (CJK text)' in the table of checks that cannot be settled)."""
    from analysis.report.pdf import replace_unprintable

    texts = []
    for c in load_claims():
        texts += [c["claim"], c["outlet"]]
        texts += [str(k.get(f)) for k in c["checks"] for f in ("reason", "note") if k.get(f)]
    bad = [t for t in texts if replace_unprintable(t) != t]
    assert not bad
    assert not [t for t in texts if "seed" in t.lower()]  # the project's own word, not the reader's


def test_tolerance_scale():
    claim = {"id": "X1", "published": "2025-12-30", "outlet": "o", "claim": "c", "checks": [
        {"measure": "close", "ticker": "CRWV", "date": pd.Timestamp("2025-07-11").date(),
         "stated": 126.0, "relation": "approx", "tolerance": 0.1}]}
    d = _data()
    # close 125.84 on 2025-07-11: 0.16 away from 126.0
    assert C.evaluate_claims([claim], d)["verdict"].iloc[0] == "differs"
    assert C.evaluate_claims([claim], d, tolerance_scale=2.0)["verdict"].iloc[0] == "confirmed"


# --------------------------------------------------------------------------- the real ledger
def test_every_claim_gets_a_verdict(ledger):
    checks, verdicts = ledger
    assert len(verdicts) == 31 and set(verdicts["verdict"]) <= set(C.CLAIM_VERDICTS)
    n_checks = sum(len(c["checks"]) for c in load_claims())
    assert len(checks) == n_checks
    # every computed actual names its sources and a confidence
    have = checks[checks["actual"].notna()]
    assert have["sources"].notna().all() and have["confidence"].notna().all()
    # differences only where it differs; reasons only where not verifiable
    assert checks.loc[checks["verdict"] != "differs", "difference"].isna().all()
    assert checks.loc[checks["verdict"] == "differs", "difference"].notna().all()
    assert checks.loc[checks["verdict"] == "not verifiable", "reason"].notna().all()


def test_story_c15_wrong_day(ledger):
    # TradingKey gave the post-results fall (-16.3% on 2025-11-11) as 14 November, -14%:
    # the close-to-close return on 2025-11-14 is 77.36 / 78.34 - 1 = -1.25%.
    checks, verdicts = ledger
    r = _row(checks, "C15", 1)
    hand = _px("CRWV", "2025-11-14") / _px("CRWV", "2025-11-13") - 1
    assert r["verdict"] == "differs"
    assert r["actual"] == pytest.approx(hand, rel=1e-12)
    assert r["difference"] == pytest.approx(hand - (-0.14), rel=1e-12)
    assert verdicts.set_index("claim_id").loc["C15", "verdict"] == "differs"


def test_story_c23_close_is_the_previous_days(ledger):
    # 138.29 was the close of 2025-07-10; on 2025-07-11 it closed at 125.84 (PROVENANCE.md).
    # The check has date_slack: 1 (a Chinese-language outlet dating the US session of 10 July as
    # 11 July): it holds only on the session before, so it is confirmed on that session, by name,
    # never plainly.
    checks, verdicts = ledger
    assert _row(checks, "C23", 1)["verdict"] == "confirmed"  # the $187 high is right
    assert pd.isna(_row(checks, "C23", 1)["matched_session"])
    r = _row(checks, "C23", 2)
    assert r["verdict"] == C.CONFIRMED_EARLIER != "confirmed"
    assert r["matched_session"] == pd.Timestamp("2025-07-10")
    assert r["actual"] == pytest.approx(_px("CRWV", "2025-07-10"), rel=1e-12)
    assert _px("CRWV", "2025-07-10") == pytest.approx(138.29, abs=0.005)
    assert "2025-07-10" in r["basis"] and "stated 2025-07-11" in r["basis"]
    assert "125.84" in r["basis"]  # what the stated date itself gave
    assert pd.isna(r["difference"])
    v = verdicts.set_index("claim_id").loc["C23"]
    assert v["verdict"] == C.CONFIRMED_EARLIER
    assert (v["n_confirmed"], v["n_confirmed_earlier"]) == (1, 1)
    assert C.check_tally(v["n_checks"], v["n_confirmed"], v["n_differs"], v["n_not_verifiable"]) == (
        "1 of 2 checks confirmed, 1 only on an earlier session")
    # only checks that carry date_slack look at an earlier session
    assert checks["matched_session"].notna().sum() == 1


def _slack_claim(date, stated, slack=None, tol=0.01, measure="close"):
    chk = {"measure": measure, "ticker": "CRWV", "date": pd.Timestamp(date).date(), "stated": stated,
           "relation": "approx", "tolerance": tol}
    if slack is not None:
        chk["date_slack"] = slack
    return {"id": "X1", "published": "2025-12-30", "outlet": "o", "claim": "c", "checks": [chk]}


def test_date_slack_synthetic(data):
    # closes (csv): 2025-07-08 151.45, 07-09 153.05, 07-10 138.29, 07-11 125.84, 07-14 132.375
    ev = C.evaluate_claims
    # a match on the stated date is a plain confirmation; the slack is not used
    r = ev([_slack_claim("2025-07-11", 125.84, slack=2)], data).iloc[0]
    assert r["verdict"] == "confirmed" and pd.isna(r["matched_session"])
    # two sessions back, with slack 2: confirmed on 2025-07-09 (07-10 in between does not match)
    r = ev([_slack_claim("2025-07-11", 153.05, slack=2)], data).iloc[0]
    assert r["verdict"] == C.CONFIRMED_EARLIER
    assert r["matched_session"] == pd.Timestamp("2025-07-09")
    assert r["actual"] == pytest.approx(_px("CRWV", "2025-07-09"), rel=1e-12)
    assert "2 trading sessions before the stated 2025-07-11" in r["basis"]
    # the same with slack 1 does not reach 07-09: it differs, by the stated date's close
    r = ev([_slack_claim("2025-07-11", 153.05, slack=1)], data).iloc[0]
    assert r["verdict"] == "differs" and pd.isna(r["matched_session"])
    assert r["difference"] == pytest.approx(_px("CRWV", "2025-07-11") - 153.05, rel=1e-12)
    # the session before a Monday is the Friday (weekend skipped): 07-14 -> 07-11
    r = ev([_slack_claim("2025-07-14", 125.84, slack=1)], data).iloc[0]
    assert r["matched_session"] == pd.Timestamp("2025-07-11")
    # a stated date that is a Saturday is not verifiable on its own; the slack finds the Friday
    r = ev([_slack_claim("2025-07-12", 125.84, slack=1)], data).iloc[0]
    assert r["verdict"] == C.CONFIRMED_EARLIER and r["matched_session"] == pd.Timestamp("2025-07-11")
    assert "Saturday" in r["basis"]
    assert ev([_slack_claim("2025-07-12", 125.84)], data).iloc[0]["verdict"] == "not verifiable"
    # one-day returns take date_slack too: 2025-07-10 return = 138.29 / 153.05 - 1
    hand = _px("CRWV", "2025-07-10") / _px("CRWV", "2025-07-09") - 1
    r = ev([_slack_claim("2025-07-11", round(hand, 4), slack=1, tol=0.0001, measure="return")], data).iloc[0]
    assert r["verdict"] == C.CONFIRMED_EARLIER and r["matched_session"] == pd.Timestamp("2025-07-10")
    # the claim verdict is never a plain confirmation when a check matched only earlier
    assert C.combine_verdicts(["confirmed", C.CONFIRMED_EARLIER]) == C.CONFIRMED_EARLIER
    assert C.combine_verdicts([C.CONFIRMED_EARLIER, "not verifiable"]) == "partly verifiable"
    assert C.combine_verdicts([C.CONFIRMED_EARLIER, "differs"]) == "differs"


def test_date_slack_no_earlier_session(data):
    # the IPO day (first CRWV price) has no session before it: the slack finds nothing
    assert C.earlier_sessions(data, "CRWV", "2025-03-28", 3) == []
    assert C.earlier_sessions(data, "CRWV", "2025-04-01", 3) == [pd.Timestamp("2025-03-31"),
                                                                   pd.Timestamp("2025-03-28")]


def test_story_c12_interest_understated(ledger):
    # Q1-25 interest expense, net 263.835 (10-Q); Q3-25 310.555 (PR): the press said 75 and 125
    checks, verdicts = ledger
    q1, q3 = _row(checks, "C12", 1), _row(checks, "C12", 2)
    assert q1["verdict"] == q3["verdict"] == "differs"
    assert q1["difference"] == pytest.approx(_fund_value("interest_expense", "2025Q1", "10Q_25Q1") - 75, rel=1e-12)
    assert q3["difference"] == pytest.approx(_fund_value("interest_expense", "2025Q3", "PR_25Q3") - 125, rel=1e-12)
    assert 75 / q1["actual"] < 1 / 3  # the stated figure is less than a third of the filed one
    assert q1["sources"] == "10Q_25Q1" and q1["confidence"] == "high"
    assert verdicts.set_index("claim_id").loc["C12", "verdict"] == "differs"


def test_story_confirmed_price_claims(ledger):
    checks, _ = ledger
    for cid, no in [("C04", 1), ("C04", 2), ("C04", 3), ("C08", 3), ("C21", 2), ("C30", 6)]:
        assert _row(checks, cid, no)["verdict"] == "confirmed", (cid, no)
    assert _row(checks, "C08", 3)["actual"] == pd.Timestamp("2025-06-20")


def test_none_measure_is_not_verifiable_with_reason(ledger):
    checks, verdicts = ledger
    r = _row(checks, "C31", 1)
    assert r["verdict"] == "not verifiable" and "credit default swap" in r["reason"]
    assert verdicts.set_index("claim_id").loc["C31", "verdict"] == "not verifiable"


def test_point_in_time_ledger():
    # as of 2025-11-10 only claims published by then are in; an undated FY2025 useful life is out
    d = C.load_claim_data(as_of="2025-11-10")
    claims = load_claims(as_of="2025-11-10")
    assert all(pd.Timestamp(c["published"]) <= pd.Timestamp("2025-11-10") for c in claims)
    checks = C.evaluate_claims(claims, d)
    r = _row(checks, "C26", 1)
    assert r["verdict"] == "not verifiable" and "2025-11-10" in r["reason"]
    # a claim about Q3-25 checked with data as of the day before the release
    late = [c for c in load_claims() if c["id"] == "C05"]
    early = C.evaluate_claims(late, _data(as_of="2025-11-09"))
    assert (early["verdict"] == "not verifiable").all()
    assert early["reason"].str.contains("as of 2025-11-09").all()


# --------------------------------------------------------------------------- claims.yaml errors
def _corrupt(tmp_path: Path, old: str, new: str) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst)
    p = dst / "claims.yaml"
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")
    return dst


def test_yaml_unknown_measure(tmp_path):
    d = _corrupt(tmp_path, "{measure: close, ticker: CRWV, date: 2025-11-10",
                 "{measure: closing_price, ticker: CRWV, date: 2025-11-10")
    with pytest.raises(DataValidationError) as e:
        load_claims(data_dir=d)
    assert e.value.column == "C04.checks[0].measure" and e.value.value == "closing_price"
    assert "C04" in str(e.value)


def test_yaml_missing_argument(tmp_path):
    d = _corrupt(tmp_path, "{measure: worst_return, ticker: ORCL, start: 2025-12-08, end: 2025-12-17, days: 3,",
                 "{measure: worst_return, ticker: ORCL, start: 2025-12-08, end: 2025-12-17,")
    with pytest.raises(DataValidationError) as e:
        load_claims(data_dir=d)
    assert e.value.column == "C02.checks[1].days"


def test_yaml_bad_date(tmp_path):
    d = _corrupt(tmp_path, "date: 2025-11-14, stated: -0.14", "date: 2025/11/14, stated: -0.14")
    with pytest.raises(DataValidationError) as e:
        load_claims(data_dir=d)
    assert e.value.column == "C15.checks[0].date" and "2025/11/14" in str(e.value)


def test_yaml_impossible_calendar_date(tmp_path):
    d = _corrupt(tmp_path, "date: 2025-11-14, stated: -0.14", "date: 2025-11-31, stated: -0.14")
    with pytest.raises(DataValidationError) as e:
        load_claims(data_dir=d)
    assert e.value.column == "C15.checks[0].date" and "2025-11-31" in str(e.value)


def test_yaml_ratio_missing_period(tmp_path):
    d = _corrupt(tmp_path, "{measure: operating_margin, period: 2025Q3, stated: 0.04",
                 "{measure: operating_margin, stated: 0.04")
    with pytest.raises(DataValidationError) as e:
        load_claims(data_dir=d)
    assert e.value.column == "C06.checks[0].period"


def test_yaml_date_slack_only_on_dated_price_checks(tmp_path):
    d = _corrupt(tmp_path, "{measure: operating_margin, period: 2025Q3, stated: 0.04",
                 "{measure: operating_margin, period: 2025Q3, date_slack: 1, stated: 0.04")
    with pytest.raises(DataValidationError) as e:
        load_claims(data_dir=d)
    assert e.value.column == "C06.checks[0].date_slack" and "price measures with a date" in str(e.value)


@pytest.mark.parametrize("bad", ["0", "1.5", "yes"])
def test_yaml_date_slack_whole_sessions(tmp_path, bad):
    d = _corrupt(tmp_path, "tolerance: 0.5, date_slack: 1,", f"tolerance: 0.5, date_slack: {bad},")
    with pytest.raises(DataValidationError) as e:
        load_claims(data_dir=d)
    assert e.value.column == "C23.checks[1].date_slack" and "trading sessions" in str(e.value)


def test_yaml_bad_claim_published_date(tmp_path):
    d = _corrupt(tmp_path, "- id: C31\n  published: 2025-12-17", "- id: C31\n  published: 17 Dec 2025")
    with pytest.raises(DataValidationError) as e:
        load_claims(data_dir=d)
    assert e.value.column == "C31.published"


def test_every_measure_computes_on_real_data(ledger):
    # every measure of schema.CLAIM_MEASURES but 'none' yields at least one actual in the ledger
    from analysis.data.schema import CLAIM_MEASURES

    checks, _ = ledger
    computed = set(checks.loc[checks["actual"].notna(), "measure"])
    assert computed == set(CLAIM_MEASURES) - {"none"}


def test_story_c13_operating_margins(ledger):
    # 10-Q / PRs: Q1-25 -27.47 / 981.632 = -2.80%; Q2-25 19.209 / 1,212.788 = +1.58%;
    # Q3-25 51.85 / 1,364.676 = 3.80%: the press had the signs and sizes wrong
    checks, verdicts = ledger
    q1 = _fund_value("operating_income", "2025Q1", "10Q_25Q1") / _fund_value("revenue", "2025Q1", "10Q_25Q1")
    q2 = _fund_value("operating_income", "2025Q2", "PR_25Q2") / _fund_value("revenue", "2025Q2", "PR_25Q2")
    q3 = _fund_value("operating_income", "2025Q3", "PR_25Q3") / _fund_value("revenue", "2025Q3", "PR_25Q3")
    for no, hand, stated in [(1, q1, 0.042), (2, q2, 0.0), (3, q3, 0.0088)]:
        r = _row(checks, "C13", no)
        assert r["verdict"] == "differs"
        assert r["actual"] == pytest.approx(hand, rel=1e-9)
        assert r["difference"] == pytest.approx(hand - stated, rel=1e-9)
    assert verdicts.set_index("claim_id").loc["C13", "verdict"] == "differs"


def test_story_c01_six_weeks_vs_record(ledger):
    # "more than 60% in six weeks": from the 2025-11-05 close it is -43.6%; from the record close -64.8%
    checks, verdicts = ledger
    assert _row(checks, "C01", 1)["verdict"] == "differs"
    assert _row(checks, "C01", 2)["verdict"] == "confirmed"
    assert _row(checks, "C01", 3)["verdict"] == "not verifiable"
    assert verdicts.set_index("claim_id").loc["C01", "verdict"] == "differs"


def test_missing_metric_keeps_its_unit():
    d = _data(as_of="2025-11-10")  # the useful-life rows are undated: out of point-in-time builds
    a = C.metric(d, "gpu_useful_life_years", "FY2025")
    assert a.missing and a.unit == "years" and "2025-11-10" in a.reason


def test_differing_checks_and_ledger_order(ledger):
    checks, _ = ledger
    diff = C.differing_checks(checks)
    assert set(diff["verdict"]) == {"differs"}
    c12 = diff[(diff["claim_id"] == "C12")].iloc[0]
    assert c12["relative_difference"] == pytest.approx(abs(c12["actual"] - 75) / 75, rel=1e-12)
    rows = C.ledger_rows(checks)
    assert len(rows) == len(checks)
    # outlets appear as contiguous blocks, newest outlet first
    starts = rows.loc[rows["first_of_outlet"], "outlet"].tolist()
    assert len(starts) == checks["outlet"].nunique()
    latest = rows.groupby("outlet", sort=False)["published"].max().tolist()
    assert latest == sorted(latest, reverse=True)
    assert rows["first_of_claim"].sum() == checks["claim_id"].nunique()


def test_ratio_not_public_before_release():
    d = C.load_claim_data(as_of="2025-11-09")  # Q3-25 results came out on 2025-11-10
    a = C.ratio(d, "operating_margin", "2025Q3")
    assert a.missing and "2025Q3" in a.reason and "as of 2025-11-09" in a.reason
    # Q1-25 (published 2025-05-14) is known: -27.47 / 981.632 (10-Q)
    q1 = C.ratio(d, "operating_margin", "2025Q1")
    assert q1.value == pytest.approx(-27.47 / 981.632, rel=1e-9)


# --------------------------------------------------------------------------- exhibit helpers
def _verdict_frame():
    # constructed: outlet A has claims dated 2025-03-01 and 2025-06-01, outlet B one of 2025-04-01
    return pd.DataFrame({
        "claim_id": ["X3", "X1", "X2", "X4"],
        "published": pd.to_datetime(["2025-06-01", "2025-03-01", "2025-04-01", "2025-03-01"]),
        "outlet": ["A", "A", "B", "A"],
        "verdict": ["differs", "confirmed", "partly verifiable", "confirmed"],
    })


def test_claims_by_outlet_and_summary_constructed():
    v = _verdict_frame()
    rows = C.claims_by_outlet(v)
    # A's latest claim (2025-06-01) is newer than B's (2025-04-01): A first, claims by id inside
    assert rows["claim_id"].tolist() == ["X1", "X3", "X4", "X2"]
    assert rows["first_of_outlet"].tolist() == [True, False, False, True]
    s = C.outlet_summary(v)
    assert s["outlet"].tolist() == ["A", "B"]
    a = s.iloc[0]
    assert (a["claims"], a["confirmed"], a["differs"], a["partly_verifiable"], a["not_verifiable"]) == (3, 2, 1, 0, 0)
    assert a["published"] == pd.Timestamp("2025-06-01") and (a["first_claim"], a["last_claim"]) == ("X1", "X4")
    assert s.iloc[1]["partly_verifiable"] == 1


@pytest.mark.parametrize("counts, words", [
    ((1, 1, 0, 0), "the check is confirmed"),
    ((2, 2, 0, 0), "both checks confirmed"),
    ((3, 3, 0, 0), "all 3 checks confirmed"),
    ((1, 0, 1, 0), "the check differs"),
    ((3, 1, 1, 1), "1 of 3 checks differs"),
    ((3, 1, 2, 0), "2 of 3 checks differ"),
    ((2, 1, 0, 1), "1 of 2 checks confirmed, 1 not verifiable"),
    ((1, 0, 0, 1), "the check is not verifiable"),
    ((2, 0, 0, 2), "none of 2 checks verifiable"),
    ((1, 0, 0, 0, 1), "the check is confirmed only on an earlier session"),
    ((2, 1, 0, 0, 1), "1 of 2 checks confirmed, 1 only on an earlier session"),
    ((3, 1, 0, 1, 1), "1 of 3 checks confirmed, 1 only on an earlier session, 1 not verifiable"),
    ((2, 1, 0, 0), "1 of 2 checks confirmed, 1 only on an earlier session"),  # the rest: earlier
])
def test_check_tally(counts, words):
    assert C.check_tally(*counts) == words


def test_check_tally_rejects_counts_that_do_not_add_up():
    with pytest.raises(ValueError):
        C.check_tally(3, 2, 2, 0)  # more than the checks
    with pytest.raises(ValueError):
        C.check_tally(3, 1, 1, 0, n_confirmed_earlier=0)
    with pytest.raises(ValueError):
        C.check_tally(0, 0, 0, 0)


def test_not_verifiable_checks_and_widest_gap(ledger):
    checks, verdicts = ledger
    nv = C.not_verifiable_checks(checks)
    assert len(nv) == int((checks["verdict"] == "not verifiable").sum()) and nv["reason"].notna().all()
    # same order as the ledger: the claims' order in claims_by_outlet
    order = C.claims_by_outlet(verdicts)["claim_id"].tolist()
    pos = [order.index(c) for c in nv["claim_id"]]
    assert pos == sorted(pos)
    diff = C.differing_checks(checks)
    g = C.widest_gap(diff)
    # computed by hand over the differing checks: |actual - stated| / |stated|; dates, ratios and
    # returns (gaps in days and percentage points, never percent of a small base) and zero stated left out
    best = max(((abs(r["actual"] - r["stated"]) / abs(r["stated"]), r["claim_id"], r["check_no"])
                for _, r in diff.iterrows() if r["unit"] not in ("date", "fraction") and r["stated"] != 0))
    assert diff.loc[diff["unit"] == "fraction", "relative_difference"].isna().all()
    assert (g["claim_id"], g["check_no"]) == (best[1], best[2])
    assert g["relative_difference"] == pytest.approx(best[0], rel=1e-12)
    assert C.widest_gap(diff.iloc[0:0]) is None


def test_adj_close_only_spans_match_the_raw_csv():
    # independent: rows of each price CSV with an empty close and a non-empty adj_close
    expected = {}
    for f in sorted((DATA / "prices").glob("*.csv")):
        with open(f, newline="") as fh:
            dates = [r["date"] for r in csv.DictReader(fh) if r.get("close") == "" and r.get("adj_close", "") != ""]
        if dates:
            expected[f.stem] = (min(dates), max(dates), len(dates))
    spans = C.adj_close_only_spans(load_prices())
    got = {r.ticker: (r.start.strftime("%Y-%m-%d"), r.end.strftime("%Y-%m-%d"), int(r.n_days))
           for r in spans.itertuples()}
    assert expected  # the data has such a stretch (SMH), so the test can fail
    assert got == expected


def test_adj_close_only_spans_constructed():
    px = pd.DataFrame({"ticker": ["A", "A", "A", "B"],
                       "date": pd.to_datetime(["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-02"]),
                       "close": [float("nan"), 10.0, float("nan"), 5.0],
                       "adj_close": [9.0, 9.5, 9.8, float("nan")]})
    spans = C.adj_close_only_spans(px)
    assert spans["ticker"].tolist() == ["A"]
    assert spans.iloc[0]["start"] == pd.Timestamp("2025-01-02")
    assert spans.iloc[0]["end"] == pd.Timestamp("2025-01-06")
    assert spans.iloc[0]["n_days"] == 2
