"""Section 04 as built by `make test` (latest note and the 2025-11-10 note): results contract,
verdicts printed word for word, the issue's rules on the real data, nothing after the as-of date."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from analysis import paths
from analysis.data import load_prices
from analysis.report import fmt
from analysis.results import read_results, table_frame, value_of
from analysis.verdicts import QUESTIONS

pytestmark = pytest.mark.build

NB = "04_sector_contagion"
KEYS = [k for k, (section, _) in QUESTIONS.items() if section == NB]
VARIANTS = {"latest": paths.ROOT / "reports", "2025-11-10": paths.ROOT / "reports" / "as-of-2025-11-10"}


def _built(variant):
    out = VARIANTS[variant]
    if not (out / "build" / "results" / f"{NB}.json").exists():
        pytest.skip(f"{out} not built: run `make test` (it builds both notes first)")
    return out


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\u2212", "-").replace("\u00ad", "")).strip()


@pytest.fixture(scope="module", params=list(VARIANTS))
def built(request):
    out = _built(request.param)
    res = read_results(NB, out / "build" / "results")
    nb = json.loads((out / "build" / "executed" / f"{NB}.ipynb").read_text(encoding="utf-8"))
    shown = [_norm(fmt.untext("".join(o.get("data", {}).get("text/markdown", ""))))
             for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    html = BeautifulSoup((out / "crwv-note.html").read_text(encoding="utf-8"), "html.parser")
    return request.param, res, shown, html


def test_results_contract_and_new_tables(built):
    _, res, _, _ = built
    assert set(res["verdicts"]) == set(KEYS)
    ew = table_frame(res, "estimation_windows")
    assert list(ew.columns[:1]) == ["event_id"] and {"start", "end", "days_used", "days_removed"} <= set(ew.columns)
    cl = table_frame(res, "event_clusters")
    assert list(cl.columns[:2]) == ["cluster", "event_ids"]
    ids = [e for s in cl["event_ids"] for e in s.split(", ")]
    assert sorted(ids) == sorted(ew["event_id"]) and len(ids) == len(set(ids))
    assert 0.03 <= value_of(res, "fr_size_at_5pct") <= 0.07
    assert 0 < value_of(res, "fr_power_slope_doubling") <= 1
    for key in ("car_table", "pooled_tests", "forbes_rigobon", "dy_static", "dy_rolling"):
        assert key in res["tables"]
    assert "crwv_net_spillover_latest" in res["values"]


def _lead(v: dict) -> str:
    """Answer and headline as the thesis and the section print them (`Verdict.lead`)."""
    return _norm(f"{v['answer'][:1].upper()}{v['answer'][1:]}: {v['headline']}.")


def test_each_verdict_is_printed_word_for_word_with_period_and_statistic(built):
    _, res, shown, html = built
    text = _norm(html.get_text(" "))
    for key in KEYS:
        v = res["verdicts"][key]
        # the section shows the lead in bold, then the full sentence (one display item)
        assert f"**{_lead(v)}** {_norm(v['sentence'])}" in shown, f"{key}: the section does not show its verdict"
        assert _norm(v["sentence"]) in text and _lead(v) in text
        for s in (v["sentence"], v["headline"]):
            assert re.search(r"\d{4}-\d{2}-\d{2}", s), f"{key}: no period in {s!r}"
        assert re.search(r"[-+]?\d+\.\d", v["sentence"]), f"{key}: no statistic in the sentence"
        # the headline's key number: a statistic or a count, besides its dates
        assert re.search(r"\d", re.sub(r"\d{4}-\d{2}-\d{2}", "", v["headline"])), f"{key}: no number in the headline"


def test_front_page_states_the_same_verdicts(built):
    """The front page's thesis states each of the section's verdicts (answer and headline, word for
    word, in the bullet on how CoreWeave shocks travel), and the section states the same answer and
    headline before its full sentence."""
    _, res, shown, html = built
    thesis = next(b for b in html.select(".summary-box") if _norm(b.select_one(".box-title").get_text()) == "Thesis")
    bullet = next(_norm(li.get_text()) for li in thesis.select("li") if "CoreWeave shocks" in li.strong.get_text())
    section = " ".join(shown)  # what the section's notebook displays
    for key in KEYS:
        v = res["verdicts"][key]
        assert _lead(v) in bullet, f"front page lacks the {key} verdict"
        assert f"**{_lead(v)}** {_norm(v['sentence'])}" in section, f"the section does not state the {key} verdict"
    # the bullet opens with the question's label, then the verdicts in question order
    assert bullet == "How CoreWeave shocks travel. " + " ".join(_lead(res["verdicts"][k]) for k in KEYS)


def test_the_issue_rules_hold_on_the_real_data(built):
    _, res, _, _ = built
    cw = table_frame(res, "crisis_windows")
    tested = cw[cw["status"] == "ok"]
    assert ((tested["delta"] <= 0) == (tested["answer"] == "not applicable")).all()
    fr = table_frame(res, "forbes_rigobon")
    assert (fr.loc[fr["delta"] <= 0, "verdict"] == "not applicable").all()
    v = res["verdicts"]["contagion_or_interdependence"]
    if (tested["answer"] == "not applicable").all():
        assert v["answer"] == "not applicable" and "calmer" in v["sentence"]
    if tested["answer"].nunique() > 1:
        assert v["answer"] == "mixed"
    # transmitter only when the whole sample and the latest windows agree
    t = res["verdicts"]["crwv_transmitter"]
    static = value_of(res, "crwv_net_spillover_static")
    roll = table_frame(res, "dy_rolling")["crwv_net"].dropna().tail(20)
    agree = bool(((roll > 0) == (static > 0)).all())
    assert (t["answer"] in ("transmitter", "receiver")) == agree
    # pooled statistics never count a return day twice: the pooled events' spans [-1,+5] are disjoint
    ct = table_frame(res, "car_table")
    d0 = pd.to_datetime(ct.loc[ct["in_pooled"].astype(bool), "day0"]).drop_duplicates().sort_values()
    cal = pd.DatetimeIndex(sorted(load_prices(["SPY"])["date"].unique()))
    pos = cal.get_indexer(d0)
    assert (pos >= 0).all() and (pos[1:] - pos[:-1] > 6).all()


def test_pooled_peer_test_power_at_the_note_events(built):
    """The pooled peer test's size (about 5%) and power, recomputed from the results tables at the
    note's own events (seeded, so exactly as recorded); with 3 pooled events at 2025-11-10 its power
    is below 80%, so no rejection reads "not shown", never "no"."""
    from analysis.market import pooling as pl

    variant, res, _, _ = built
    par = res["params"]
    window = "[0,+1]"
    ct = table_frame(res, "car_table")
    src = pl.source_events(ct, ct[["event_id", "origin"]].drop_duplicates(), "CRWV", window)
    peers = [t for t in par["tickers"][1:] if t != par["benchmark"]]
    design = pl.power_inputs(ct, table_frame(res, "pooled_tests"), src, peers, window)
    power = pl.aligned_group_power(design, par["peer_power_share"], alpha=par["alpha"], reps=par["peer_power_reps"],
                                   seed=par["seed"])
    assert power == pytest.approx(value_of(res, "peers_test_power"), abs=1e-12)
    assert 0.03 <= value_of(res, "peers_test_size") <= 0.07
    v = res["verdicts"]["peers_move_on_crwv_shocks"]
    assert v["evidence"]["power"] == pytest.approx(power, abs=1e-12)
    if v["evidence"]["p"] > par["alpha"] and v["evidence"]["peers_significant_bh"] == 0:
        assert v["answer"] == ("not shown" if power < par["min_power"] else "no")
    if variant == "2025-11-10":
        assert len(design) == 3 and power < 0.8 and v["answer"] == "not shown"
        assert f"power {power:.0%}" in v["headline"]


def _section_text(out) -> str:
    text = _norm(BeautifulSoup((out / "crwv-note.html").read_text(encoding="utf-8"), "html.parser").get_text(" "))
    start = text.rindex("Sector contagion: how")  # the section, not the contents list
    return text[start:text.index("Claims ledger", start)]


def test_data_ends_are_stated_per_ticker_and_where_they_bite(built):
    """Each ticker's returns span (from the price files), the common sample, where the whole-sample
    spillover ends and why (front page too), the peers a table lacks for want of prices; no
    'stops trading' (nothing says CORZ was delisted), no code-ish plurals, no build telemetry."""
    variant, res, _, _ = built
    sec = _section_text(VARIANTS[variant])
    as_of = None if variant == "latest" else variant
    px = load_prices(as_of=as_of)
    span = {t: (g["date"].iloc[1], g["date"].iloc[-1]) for t, g in px.sort_values("date").groupby("ticker")}
    first, last = span["CRWV"]
    assert f"CRWV {first.date()} to {last.date()}" in sec
    common = (max(a for a, _ in span.values()), min(b for _, b in span.values()))
    assert f"from {common[0].date()} to {common[1].date()} (the common sample)" in sec
    assert "stops trading" not in sec and "lag(s)" not in sec and "Run time" not in sec
    assert not re.search(r"\((\d+) to \1 tickers\)", sec) and not re.search(r"\b1 crisis windows\b", sec)
    v = res["verdicts"]["crwv_transmitter"]
    if variant == "latest":
        assert span["CORZ"][1] < last  # CORZ's prices end before CRWV's: said where it bites
        assert f"CORZ {span['CORZ'][0].date()} to {span['CORZ'][1].date()} (its price data ends there)" in sec
        assert f"to {span['CORZ'][1].date()}, where CORZ's price data ends" in v["headline"]
        assert "CRWV for E01, E02 (its returns start" in sec and "CORZ for E25, E26 (its price data ends" in sec
    else:
        assert "price data ends" not in v["headline"] and "(21 tickers)" in sec


def test_section_reads_as_prose(built):
    """The event kinds as words, the contagion headline without bare date lists, and the CAR-paths
    chart (an event-study chart) shown with the event study, before the Forbes-Rigobon part."""
    variant, res, shown, _ = built
    sec = _section_text(VARIANTS[variant])
    assert "m_and_a" not in sec and "sector_news" not in sec and "m and a" not in sec
    h = res["verdicts"]["contagion_or_interdependence"]["headline"]
    assert not re.search(r"\d{4}-\d{2}-\d{2}, \d{4}-\d{2}-\d{2}", h), h
    nb = json.loads((VARIANTS[variant] / "build" / "executed" / f"{NB}.ipynb").read_text(encoding="utf-8"))
    src = [("".join(c["source"])) for c in nb["cells"]]
    es_cell = next(i for i, t in enumerate(src) if '"headline_cars"' in t)
    assert '"car_paths"' in src[es_cell] and not any('"car_paths"' in t for t in src[es_cell + 1:])


def test_latest_note_verdicts_before_and_after_the_issue():
    """The numbers behind the issue: with the full data CRWV's whole-sample net spillover is
    negative while the latest window's is positive, so the verdict is 'mixed', not 'transmitter'."""
    out = _built("latest")
    res = read_results(NB, out / "build" / "results")
    assert value_of(res, "crwv_net_spillover_static") < 0 < value_of(res, "crwv_net_spillover_latest")
    assert res["verdicts"]["crwv_transmitter"]["answer"] == "mixed"
    ew = table_frame(res, "estimation_windows")
    assert (ew["days_removed"] > 0).sum() == 25


def test_as_of_note_has_no_window_after_its_date():
    out = _built("2025-11-10")
    res = read_results(NB, out / "build" / "results")
    as_of = pd.Timestamp("2025-11-10")
    cw = table_frame(res, "crisis_windows")
    assert (pd.to_datetime(cw["end"]) <= as_of).all() and (pd.to_datetime(cw["tranquil_end"]) <= as_of).all()
    for tab, col in (("car_paths", "date"), ("dy_rolling", "date"), ("rolling_beta", "date")):
        assert (pd.to_datetime(table_frame(res, tab)[col]) <= as_of).all()
    text = _norm(BeautifulSoup((out / "crwv-note.html").read_text(encoding="utf-8"), "html.parser").get_text(" "))
    start = text.rindex("Sector contagion: how")  # the section, not the contents list
    sec = text[start:text.index("Claims ledger", start)]
    assert "E14" in sec and "not traded yet" in sec
    later = [d for d in re.findall(r"\d{4}-\d{2}-\d{2}", sec) if pd.Timestamp(d) > as_of]
    assert not later, f"dates after the note's date in section 04: {sorted(set(later))}"
