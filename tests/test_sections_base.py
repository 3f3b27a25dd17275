"""The thin-notebook framework: Section (results + display items), Verdict, event labels."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis import paths
from analysis.report import fmt, style
from analysis.results import read_results, verdict_of
from analysis.sections.base import Section
from analysis.verdicts import QUESTIONS, THESIS, Verdict


def test_verdict_needs_a_known_question_and_words():
    with pytest.raises(KeyError, match="unknown verdict key"):
        Verdict("no_such_question", "holds", "A sentence.", headline="a headline")
    with pytest.raises(ValueError):
        Verdict("margin_vs_cost_of_debt", "holds", "", headline="a headline")
    with pytest.raises(ValueError, match="headline"):
        Verdict("margin_vs_cost_of_debt", "holds", "A sentence.")  # no headline
    with pytest.raises(ValueError, match="at most 22 words"):
        Verdict("margin_vs_cost_of_debt", "holds", "A sentence.", headline=" ".join(["word"] * 23))
    with pytest.raises(ValueError, match="full stop"):
        Verdict("margin_vs_cost_of_debt", "holds", "A sentence.", headline="ends with a stop.")
    v = Verdict("margin_vs_cost_of_debt", "mixed", "Mixed.", {"margin": 0.038}, "2025Q3",
                headline="margin 3.8% against a 9.9% rate (2025Q3)")
    assert v.question == QUESTIONS["margin_vs_cost_of_debt"][1] and not v.conclusive
    assert v.lead == "Mixed: margin 3.8% against a 9.9% rate (2025Q3)."
    assert Verdict.from_dict(v.key, json.loads(json.dumps(v.to_dict()))) == v
    assert v.to_dict()["headline"] == v.headline
    # an answer qualified by ', last known' keeps its (non-)conclusiveness
    assert Verdict("funding_gap", "debt, last known", "S.", headline="h").conclusive
    assert not Verdict("funding_gap", "mixed, last known", "S.", headline="h").conclusive


def test_thesis_asks_every_question_once():
    keys = [k for _, ks in THESIS for k in ks]
    assert sorted(keys) == sorted(QUESTIONS) and len(THESIS) == 5


def test_section_records_results_and_shows_items_by_name(tmp_path, capsys):
    sec = Section("00_overview", {"as_of": "2025-11-10", "tickers": ["CRWV"]})
    sec.value("last_close", 105.61, "usd", "CRWV last close", ["prices:CRWV"], period="2025-11-10")
    sec.table("t", pd.DataFrame({"a": [1.5, float("nan")]}), {"a": "ratio"})
    v = sec.verdict(Verdict("crwv_transmitter", "mixed", "CRWV is a net receiver over the sample but a transmitter lately.",
                            headline="net spillover -8.7% over the sample, +17.6% lately"))
    sec.text("summary", "Some **generated** text.")
    assert sec.names() == ["verdict:crwv_transmitter", "summary"]
    # the section prints the lead (answer and headline, as the thesis does) in bold, then the sentence
    assert fmt.untext(sec.items["verdict:crwv_transmitter"]) == ("**Mixed: net spillover -8.7% over the sample, +17.6% lately.** "
                                                     "CRWV is a net receiver over the sample but a transmitter lately.")
    with pytest.raises(KeyError, match="items: verdict:crwv_transmitter, summary"):
        sec.show("nope")
    sec.write(tmp_path)
    res = read_results("00_overview", tmp_path)
    assert res["values"]["last_close"] == {"value": 105.61, "unit": "usd", "label": "CRWV last close",
                                           "sources": ["prices:CRWV"], "period": "2025-11-10"}
    assert res["tables"]["t"]["rows"] == [[1.5], [None]]
    assert verdict_of(res, "crwv_transmitter") == v and res["params"]["tickers"] == ["CRWV"]


def test_hand_run_writes_to_scratch_not_the_build(tmp_path, monkeypatch):
    monkeypatch.setenv("CRWV_SCRATCH_DIR", str(tmp_path / "scratch"))
    target = Section("00_overview", {"as_of": "latest"}).write(None)
    assert target == tmp_path / "scratch" / "results" / "00_overview.json"
    assert paths.results_dir() not in target.parents


def _label_boxes(fig, ax):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    return [(t.get_text(), t.get_window_extent(r)) for t in ax.texts]


@pytest.mark.parametrize("days", [
    # the note's crowded December 2025 (E15-E19 within six sessions) and a sparse spread
    ["2025-12-08", "2025-12-11", "2025-12-12", "2025-12-15", "2025-12-19", "2026-01-12", "2026-01-26"],
    ["2025-04-01", "2025-07-01", "2025-10-01", "2026-01-02"],
])
def test_event_labels_never_overprint(days):
    fig, ax = style.figure()
    x = pd.date_range("2025-03-28", "2026-10-09", freq="B")
    ax.plot(x, range(len(x)))
    style.event_markers(ax, pd.to_datetime(days), [f"E{15 + i}" for i in range(len(days))])
    boxes = _label_boxes(fig, ax)
    shown = ", ".join(t for t, _ in boxes)
    named = set()
    for part in shown.split(", "):
        lo, _, hi = part.partition("\u2013")
        named |= {f"E{n}" for n in range(int(lo[1:]), int((hi or lo)[1:]) + 1)}
    assert named == {f"E{15 + i}" for i in range(len(days))}, shown
    for i, (_, a) in enumerate(boxes):
        for _, b in boxes[i + 1:]:
            assert not a.overlaps(b), shown
    style.to_svg(fig)
