"""The overview notebook end to end: papermill with non-default parameters, results checked
against figures computed here independently from the raw CSV (csv module, no project code)."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest

from analysis import paths

ROOT = paths.ROOT


def _bars(ticker: str, as_of: date) -> list[dict]:
    with open(ROOT / "data" / "prices" / f"{ticker}.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if date.fromisoformat(r["date"]) <= as_of]
    return rows


@pytest.fixture(scope="module")
def overview_as_of_2025_11_10(tmp_path_factory):
    import papermill as pm

    out = tmp_path_factory.mktemp("overview")
    pm.execute_notebook(
        str(ROOT / "notebooks" / "00_overview.ipynb"), str(out / "executed.ipynb"),
        parameters={"as_of": "2025-11-10", "tickers": ["CRWV", "SPY", "NVDA"], "benchmark": "SPY",
                    "results_dir": str(out)},
        cwd=str(ROOT / "notebooks"), kernel_name="python3", progress_bar=False,
    )
    return json.loads((out / "00_overview.json").read_text())


def test_overview_key_data_matches_raw_prices(overview_as_of_2025_11_10):
    res = overview_as_of_2025_11_10
    v = {k: e["value"] for k, e in res["values"].items()}
    bars = _bars("CRWV", date(2025, 11, 10))
    closes = [(r["date"], float(r["close"])) for r in bars]
    last_d, last_c = closes[-1]
    first_d, first_c = closes[0]
    assert last_d == "2025-11-10" and round(last_c, 2) == 105.61  # PROVENANCE.md: close 105.61 on 2025-11-10
    assert v["last_date"] == last_d and v["last_close"] == pytest.approx(last_c, abs=1e-9)
    assert v["ipo_date"] == first_d == "2025-03-28" and v["first_close"] == pytest.approx(40.0)
    assert v["change_since_ipo"] == pytest.approx(last_c / first_c - 1, rel=1e-12)
    rec_d, rec_c = max(closes, key=lambda x: x[1])
    assert (rec_d, round(rec_c, 2)) == ("2025-06-20", 183.58)  # record close per PROVENANCE.md
    assert v["record_close_date"] == rec_d and v["record_close"] == pytest.approx(rec_c)
    assert v["drawdown_from_record"] == pytest.approx(last_c / rec_c - 1, rel=1e-12)
    start = date(2025, 11, 10) - timedelta(days=365)
    win = [r for r in bars if date.fromisoformat(r["date"]) > start]
    assert v["high_52w"] == pytest.approx(max(float(r["high"]) for r in win))
    assert v["low_52w"] == pytest.approx(min(float(r["low"]) for r in win))
    # the 365-day window starts before the first trading day: the high and low are since the IPO, and say so
    assert date.fromisoformat(first_d) > start
    assert res["values"]["high_52w"]["label"] == "since-IPO intraday high"
    assert res["values"]["low_52w"]["label"] == "since-IPO intraday low"


def test_key_data_window_since_first_only_when_cut_by_the_ipo():
    from analysis.data import load_prices
    from analysis.overview import key_data

    assert key_data(load_prices(["CRWV"], as_of="2025-11-10"), "CRWV")["window_since_first"]
    assert not key_data(load_prices(["CRWV"], as_of="2026-05-01"), "CRWV")["window_since_first"]


def test_overview_total_returns_and_params(overview_as_of_2025_11_10):
    res = overview_as_of_2025_11_10
    assert res["as_of"] == "2025-11-10" and res["params"]["tickers"] == ["CRWV", "SPY", "NVDA"]
    v = {k: e["value"] for k, e in res["values"].items()}
    # NVDA paid cash dividends in the window: total return = product of (close_t + div_t) / close_{t-1}
    with open(ROOT / "data" / "prices" / "dividends.csv", newline="") as fh:
        divs = {(r["ticker"], r["ex_date"]): float(r["dividend"]) for r in csv.DictReader(fh)}
    for t in ("CRWV", "SPY", "NVDA"):
        bars = [r for r in _bars(t, date(2025, 11, 10)) if r["date"] >= "2025-03-28"]
        growth = 1.0
        for prev, cur in zip(bars, bars[1:], strict=False):
            growth *= (float(cur["close"]) + divs.get((t, cur["date"]), 0.0)) / float(prev["close"])
        assert v[f"tr_since_ipo_{t}"] == pytest.approx(growth - 1, rel=1e-10), t
    # point in time: nothing after the as-of date
    rebased = res["tables"]["rebased"]
    assert max(r[0] for r in rebased["rows"]) == "2025-11-10"
    assert all(r[1] <= "2025-11-10" for r in res["tables"]["events_marked"]["rows"])


def test_source_notebooks_are_committed_without_outputs():
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert not [c for c in code if c.get("outputs") or c.get("execution_count")], f"{nb_path.name}: run `make strip`"
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{nb_path.name}: exactly one cell tagged 'parameters'"
        params_src = "".join(tagged[0]["source"])
        assert "as_of" in params_src and "results_dir" in params_src, nb_path.name


def test_environment_yml_matches_the_lock():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(ROOT / "tools" / "environment_yml.py"), "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_abridge_cuts_at_a_word_boundary():
    from analysis.overview import abridge

    text = "Jim Chanos publicly argues CoreWeave GPU economics imply ~0% ROIC once realistic economic depreciation is charged; later"
    out = abridge(text, 60)
    assert out == "Jim Chanos publicly argues CoreWeave GPU economics imply\u2026"
    assert abridge("Short; second clause", 60) == "Short"


def test_abridge_keeps_parentheses_balanced():
    """A clause is never cut open inside a parenthesis (events.csv E03, E23), and a
    label quoted in brackets drops its own parentheticals: no nested, no unbalanced ones."""
    from analysis.data import load_events
    from analysis.overview import abridge

    ev = load_events().set_index("event_id")["description"]
    # the ';' inside E03's parenthesis does not end the clause: the parenthetical is kept whole
    assert abridge(ev["E03"]).startswith("CoreWeave IPO priced Thursday evening at $40 (below $47-55 range")
    assert abridge(ev["E03"]).endswith(")")
    assert abridge(ev["E07"], 60, brackets=False) == "Q2 2025 results: revenue $1.213B, backlog $30.1B, FY25\u2026"
    for d in ev:
        for out in (abridge(d), abridge(d, 60), abridge(d, 60, brackets=False)):
            depth = 0
            for ch in out:
                depth += {"(": 1, ")": -1}.get(ch, 0)
                assert depth >= 0, out
            assert depth == 0, out
        assert "(" not in abridge(d, 60, brackets=False)


def test_the_events_table_lists_every_dated_event_with_reader_labels():
    """Table 3 lists every event the event study tests (E01 and E02 came before the IPO), so the
    counts agree with section 04's; kinds read as words, never as codes."""
    from analysis.data import load_events
    from analysis.sections import overview as section

    sec = section.build(as_of="latest")
    tbl = sec.items["events"].data
    ids = [r[0] for r in tbl["table"]["rows"]]
    assert ids == sorted(load_events()["event_id"]) and ids[:2] == ["E01", "E02"]
    assert tbl["title"].startswith(f"{len(ids)} dated events") and "2 came before the IPO" in tbl["title"]
    assert "E01 and E02 came before CRWV's listing on 2025-03-28" in sec.items["events_intro"]
    kinds = {r[2] for r in tbl["table"]["rows"]}
    assert {"M&A", "sector news", "IPO"} <= kinds and not any("_" in k for k in kinds)


def test_common_period_returns_stops_at_the_last_date_every_column_has():
    # hand-worked: B ends a day early, so the common end is 2025-01-02; A 100 -> 110 = +10%,
    # B 100 -> 95 = -5%; A's later 150 is ignored.
    import math

    import pandas as pd

    from analysis.overview import common_period_returns

    idx = pd.DataFrame({"A": [100.0, 110.0, 150.0], "B": [100.0, 95.0, math.nan]},
                       index=pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03"]))
    end, ret = common_period_returns(idx)
    assert end == pd.Timestamp("2025-01-02")
    assert ret["A"] == pytest.approx(0.10, abs=1e-12)
    assert ret["B"] == pytest.approx(-0.05, abs=1e-12)


def test_that_evenings_event_is_listed_for_the_next_session(overview_as_of_2025_11_10):
    """E14 (events.csv: Q3-25 results, announced 2025-11-10 after the close, day 0 2025-11-11)
    belongs in the 2025-11-10 note's event table, with no date after the note's."""
    from analysis.sections import overview as section

    sec = section.build(as_of="2025-11-10")
    rows = {r[0]: r for r in sec.items["events"].data["table"]["rows"]}
    assert rows["E14"][1] == section.NEXT_SESSION
    assert "E14" in sec.items["events_intro"]
    assert "E14" not in set(overview_as_of_2025_11_10["tables"]["events_marked"]["rows"][i][0]
                            for i in range(len(overview_as_of_2025_11_10["tables"]["events_marked"]["rows"])))
    kinds = [r[0] for r in overview_as_of_2025_11_10["tables"]["whats_new"]["rows"]]
    assert kinds[0] == "results" and "guidance" in kinds
