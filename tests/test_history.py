"""`analysis.history`: results dates, generated parameter files, and what changed between dates.

The results dates are those of data/FUNDAMENTALS.md ("Publication dates": the Q1-25 ... Q2-26
releases). The what-changed computations are checked on results files written with the
results contract for two made-up snapshots (values chosen to exercise each branch, not data).
"""

from __future__ import annotations

import os
import time

import pandas as pd
import pytest
import yaml

from analysis import history as H
from analysis import paths
from analysis import whatchanged as W
from analysis.results import Results
from analysis.verdicts import Verdict

DEFAULT = paths.ROOT / "params" / "default.yaml"
RELEASES = ["2025-05-14", "2025-08-12", "2025-11-10", "2026-02-26", "2026-05-07", "2026-08-11"]


def test_dates_are_every_quarterly_release_then_latest():
    assert H.dates() == RELEASES
    assert H.variant_names() == [*RELEASES, "latest"]


def test_a_generated_variant_is_the_base_with_as_of_and_the_point_in_time_assumptions():
    base = yaml.safe_load(DEFAULT.read_text())
    extra = yaml.safe_load(H.POINT_IN_TIME.read_text())["notebooks"]
    gen = yaml.safe_load(H.params_text(DEFAULT, "2025-11-10"))
    assert gen["as_of"] == "2025-11-10" and gen["first_quarter"] == base["first_quarter"]
    for stem, section in base["notebooks"].items():
        assert gen["notebooks"][stem] == {**section, **extra.get(stem, {})}
    assert gen["notebooks"]["01_unit_economics"]["reported_life"] == 6  # an assumption no as-of data gives
    latest = yaml.safe_load(H.params_text(DEFAULT, "latest"))
    assert latest == {**base, "as_of": "latest"}  # the latest note reads the life from the data


def test_the_latest_variant_names_the_dates_it_compares():
    gen = yaml.safe_load(H.params_text(DEFAULT, "latest", RELEASES))
    assert gen["as_of"] == "latest" and gen["notebooks"][H.HISTORY_SECTION] == {"history": RELEASES}


def test_write_params_is_idempotent_and_removes_stale_files(tmp_path):
    (tmp_path / "2024-01-01.yaml").write_text("as_of: '2024-01-01'\n")
    files = H.write_params(DEFAULT, tmp_path)
    assert [f.stem for f in files] == [*RELEASES, "latest"]
    assert sorted(p.stem for p in tmp_path.glob("*.yaml")) == sorted(f.stem for f in files)
    stamp = {f: f.stat().st_mtime_ns for f in files}
    old = time.time() - 100
    for f in files:
        os.utime(f, (old, old))
    H.write_params(DEFAULT, tmp_path)
    assert all(f.stat().st_mtime_ns < stamp[f] for f in files)  # nothing rewritten
    assert yaml.safe_load(files[2].read_text())["as_of"] == "2025-11-10"


def _write(dirpath, figures, verdict=None):
    r = Results("01_unit_economics", None, {})
    r.table("key_figures", pd.DataFrame(figures, columns=["label", "period", "value", "unit", "sources"]))
    if verdict:
        r.verdict(verdict)
    r.write(dirpath)


@pytest.fixture
def two_dates(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _write(a, [["Revenue", "2025Q2", 1212.8, "usd_m", "PR_25Q2"], ["Operating margin", "2025Q2", 0.016, "fraction", "PR_25Q2"],
               ["Interest coverage", "2025Q2", 0.07, "ratio", "PR_25Q2"]],
           Verdict("margin_vs_cost_of_debt", "below", "The margin is below the rate.", {}, "2025Q2",
                   headline="margin below the rate (2025Q2)"))
    _write(b, [["Revenue", "2025Q3", 1364.7, "usd_m", "PR_25Q3"], ["Operating margin", "2025Q3", 0.038, "fraction", "PR_25Q3"],
               ["Interest coverage", "2025Q3", 0.07, "ratio", "PR_25Q3"], ["Backlog", "2025Q3", 55600.0, "usd_m", "PR_25Q3"]],
           Verdict("margin_vs_cost_of_debt", "below", "The margin is still below the rate.", {}, "2025Q3",
                   headline="margin below the rate (2025Q3)"))
    return {"2025-08-12": W.snapshot(a), "2025-11-10": W.snapshot(b)}


def test_transitions_name_each_moved_figure_and_sentence(two_dates):
    order = list(two_dates)
    t = W.transitions(W.figures_long(two_dates), W.verdicts_long(two_dates), order)
    fig = t[t["kind"] == "figure"].set_index("item")
    assert fig.at["Revenue", "before"] == "$1,212.8m (2025Q2)" and fig.at["Revenue", "after"] == "$1,364.7m (2025Q3)"
    assert fig.at["Revenue", "change"] == "+12.5%"
    assert fig.at["Operating margin", "change"] == "+2.2 pp"
    assert fig.at["Interest coverage", "change"] == "unchanged"  # same value, new period: still listed
    assert fig.at["Backlog", "before"] == "n/a" and fig.at["Backlog", "change"] == "first figure"
    assert list(t.loc[t["kind"] == "verdict", "item"]) == []  # the answer did not change ...
    s = t[t["kind"] == "sentence"].iloc[0]  # ... but its sentence did
    assert s["change"] == "same answer, new evidence" and s["after"] == "The margin is still below the rate."


def test_ratio_series_and_tables(two_dates):
    order = list(two_dates)
    figs = W.figures_long(two_dates)
    r = W.ratio_series(figs, order)
    assert list(r.columns) == ["Operating margin", "Interest coverage"] and list(r.index) == order
    assert r.loc["2025-11-10", "Operating margin"] == pytest.approx(0.038)
    wide = W.figures_by_date(figs, order).set_index("Figure")
    assert list(wide.columns) == ["2025-08-12 (2025Q2)", "2025-11-10 (2025Q3)"]
    assert wide.at["Backlog", "2025-08-12 (2025Q2)"] == "n/a"
    assert wide.at["Revenue", "2025-11-10 (2025Q3)"] == "$1,364.7m"  # the note's own quarter: no period
    v = W.verdicts_by_date(W.verdicts_long(two_dates), order)
    assert v.columns.tolist() == ["Question", *order] and v.iloc[0, 1:].tolist() == ["below", "below"]
    s = W.sentence_moves(W.verdicts_long(two_dates), order).iloc[0]
    assert s["changed_at"] == ["2025-11-10"] and s["last_sentence"] == "The margin is still below the rate."


def test_the_section_compares_the_variants_and_this_note(two_dates, tmp_path):
    from analysis.sections import what_changed as W

    root = tmp_path / "history"
    for d, sub in (("2025-08-12", "a"), ("2025-11-10", "b")):
        (root / d / "build").mkdir(parents=True)
        (root / d / "build" / "results").symlink_to(tmp_path / sub)
    sec = W.build(history=["2025-08-12", "2025-11-10"], history_root=root, this_note=tmp_path / "b")
    assert sec.names() == ["heading", "intro", "figures_by_date", "transitions", "verdicts_by_date", "sentences",
                           "small_multiples"]
    assert "Changed at 2025-11-10" in sec.items["sentences"]
    assert list(sec.data["ratios"].index) == ["2025-08-12", "2025-11-10", W.THIS_NOTE]
    assert sec.results.values["figures_changed"]["value"] == 4  # revenue, margin, coverage, backlog
    assert W.build().names() == []  # no history: nothing to show


def test_the_section_refuses_a_missing_variant(tmp_path):
    from analysis.errors import DataValidationError
    from analysis.sections import what_changed as W

    with pytest.raises(DataValidationError, match="2025-11-10"):
        W.build(history=["2025-11-10"], history_root=tmp_path)


def test_hand_made_as_of_variants_are_the_generated_ones():
    """So a hand-made variant and the history's note of the same date share every run."""
    for p in sorted((paths.ROOT / "params").glob("as-of-*.yaml")):
        doc = yaml.safe_load(p.read_text())
        assert yaml.safe_load(H.params_text(DEFAULT, doc["as_of"])) == doc, p.name
