"""Every point-in-time note `make test` builds contains nothing published after its as-of date,
and a later fact planted in a copy of a notebook is caught (`analysis.leaks`).

The variants are found on disk: every folder under reports/ with a built note whose results
say it is as of a date (make test builds at least the 2025-11-10 note and one of 2026).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from analysis import leaks, paths

pytestmark = pytest.mark.build

REPORTS = paths.ROOT / "reports"
EVENING = "2025-11-10"


def _as_of(note_dir: Path) -> str | None:
    f = note_dir / "build" / "results" / "00_overview.json"
    if not f.is_file():
        return None
    a = json.loads(f.read_text(encoding="utf-8")).get("as_of")
    return None if a in (None, "latest") else str(a)


#: the notes `make test` builds (Makefile: the default note, TEST_VARIANTS, and the 2026-02-26 note
#: of the history). `make history` audits each note of the history itself (leak-audit.txt); set
#: CRWV_AUDIT_ALL=1 to audit every note found under reports/ here.
MAKE_TEST_NOTES = ("", "as-of-2025-11-10", "history/2026-02-26")


def _built(d: Path) -> bool:
    return (d / "crwv-note.html").is_file() and (d / "crwv-note.pdf").is_file()


def built_notes() -> list[Path]:
    if os.environ.get("CRWV_AUDIT_ALL"):
        return sorted(h.parent for h in REPORTS.rglob("crwv-note.html") if _built(h.parent))
    return [REPORTS / n if n else REPORTS for n in MAKE_TEST_NOTES if _built(REPORTS / n if n else REPORTS)]


def point_in_time_notes() -> dict[Path, str]:
    return {d: a for d in built_notes() if (a := _as_of(d))}


NOTES = point_in_time_notes()


def _note(as_of: str) -> Path:
    hits = [d for d, a in NOTES.items() if a == as_of]
    if not hits:
        pytest.skip(f"no note as of {as_of} built (make test builds it)")
    return hits[0]


def test_make_test_builds_the_evening_of_2025_11_10_and_a_2026_note():
    dates = set(NOTES.values())
    assert EVENING in dates, f"no note as of {EVENING} under reports/"
    assert any(d.startswith("2026") for d in dates), f"no 2026 note under reports/ (found {sorted(dates)})"


@pytest.mark.parametrize("note_dir", list(NOTES), ids=[str(d.relative_to(REPORTS)) for d in NOTES])
def test_a_point_in_time_note_leaks_nothing(note_dir):
    found = leaks.audit_note(note_dir, NOTES[note_dir])
    assert not found, f"{len(found)} leaks in {note_dir.relative_to(paths.ROOT)}:\n" + "\n".join(map(str, found))


def _copy_build(src: Path, dst: Path) -> Path:
    build = dst / "build"
    for sub in ("executed", "results"):
        shutil.copytree(src / "build" / sub, build / sub)
    return build


def _params_file(as_of: str, tmp: Path) -> Path:
    from analysis.history import params_text

    p = tmp / f"planted-{as_of}.yaml"
    p.write_text(params_text(paths.ROOT / "params" / "default.yaml", as_of), encoding="utf-8")
    return p


def _render(build: Path, out: Path, params_file: Path) -> None:
    from analysis.build import build_meta, load_params
    from analysis.report.note import render_note

    params = load_params(params_file)
    render_note(build, out, params, build_meta(params))


def test_a_later_fact_computed_in_a_notebook_is_caught(tmp_path):
    """In a copy of the checkout, add to the overview notebook a cell that reads the fundamentals
    without `as_of` (the bug a leak is) and prints the Q4-25 revenue, and build the 2025-11-10
    note there with make (the other notebooks come from the shared run cache): the audit must
    name the planted figure, in the HTML and in the PDF."""
    from faults import harness

    _note(EVENING)
    co = harness.copy_checkout(tmp_path / "checkout")
    path = co.root / "notebooks" / "00_overview.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = nbformat.v4.new_code_cell(
        "from IPython.display import Markdown, display\n"
        "from analysis.data import load_fundamentals\n"
        "from analysis.report import fmt\n"
        "_f = load_fundamentals()  # no as_of: every row, later ones included\n"
        "_rev = _f[(_f['metric'] == 'revenue') & (_f['period'] == '2025Q4')]['value'].min()\n"
        "display(Markdown(f'Fourth-quarter revenue came to {fmt.usd_m(_rev)}.'))\n")
    cell.metadata["tags"] = ["hide-input"]
    nb.cells.insert(len(nb.cells) - 1, cell)
    nbformat.write(nb, path)
    r = co.make("report", "PARAMS=params/as-of-2025-11-10.yaml")
    assert r.returncode == 0, r.stderr[-3000:]
    found = leaks.audit_note(co.root / "reports" / "as-of-2025-11-10", EVENING)
    # RR (2026-06-11) gives Q4-25 revenue as 1,572 (fundamentals.csv)
    assert any(lk.kind == "figure" and lk.token == "$1,572.0m" and "2025Q4" in lk.why for lk in found), \
        "the planted Q4-25 revenue was not caught:\n" + "\n".join(map(str, found))
    assert {lk.where for lk in found if lk.token == "$1,572.0m"} == {"html", "pdf"}


def test_later_dates_ids_and_figures_typed_into_a_notebook_are_caught(tmp_path):
    """Typed prose, one later fact of each kind, in a copy of an executed notebook."""
    src = _note(EVENING)
    build = _copy_build(src, tmp_path)
    executed = build / "executed" / "00_overview.ipynb"
    nb = nbformat.read(executed, as_version=4)
    typed = {
        "date": "The fourth-quarter results came out on 2026-02-26.",
        "source": "The backlog split is from the research report [RR].",
        "event": "Event E18 moved the shares.",
        "claim": "Claim C01 was checked.",
        "figure": "Rain and wind cost the 260 MW campus two months.",
    }
    for text in typed.values():
        nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, executed)
    params = _params_file(EVENING, tmp_path)
    out = tmp_path / "note"
    _render(build, out, params)
    found = leaks.audit_note(out, EVENING)
    caught = {(lk.kind, lk.where) for lk in found}
    for kind in typed:
        assert (kind, "html") in caught, f"planted {kind} not caught: {found}"
    # ids and precise figures are caught in the PDF's own text too; a later date in the PDF is
    # judged against the HTML, where it was caught in its sentence (test_leaks.py shows the PDF
    # alone is caught when it prints a later date more often than the HTML)
    for kind in ("source", "event", "claim", "figure"):
        assert (kind, "pdf") in caught, f"planted {kind} not caught in the PDF: {found}"


def _close_on(day: str) -> float:
    import csv

    with open(paths.data_dir() / "prices" / "CRWV.csv", newline="") as fh:
        return next(float(r["close"]) for r in csv.DictReader(fh) if r["date"] == day)


def test_the_evening_note_shows_that_days_close_and_not_the_next():
    d = _note(EVENING)
    texts = {"html": leaks.html_text((d / "crwv-note.html").read_text(encoding="utf-8")),
             "pdf": leaks.pdf_text((d / "crwv-note.pdf").read_bytes())}
    close, nxt = _close_on(EVENING), _close_on("2025-11-11")
    assert close == pytest.approx(105.61, abs=0.005)  # reference close in data/prices/PROVENANCE.md
    for kind, text in texts.items():
        assert f"As of {EVENING}" in text or f"as of {EVENING}" in text, f"{kind}: the as-of date is not printed"
        assert f"${close:,.2f}" in text, f"{kind}: the {EVENING} close is not shown"
        assert f"${nxt:,.2f}" not in text, f"{kind}: the 2025-11-11 close ${nxt:,.2f} appears"


def _prose(html: str) -> str:
    """The note's text without its contents list and from its Reproducibility section on (which
    names files, parameters and the build)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["nav", "script", "style", "svg"]):
        tag.decompose()
    text = leaks.normalise(soup.get_text(" "))
    i = text.find("Reproducibility Built from commit")
    return text if i < 0 else text[:i]


@pytest.mark.parametrize("note_dir", built_notes(), ids=[str(d.relative_to(REPORTS)) for d in built_notes()])
def test_no_build_log_phrasing_in_prose(note_dir):
    """'this build' and data field names ('gpu_useful_life_years') are for logs, not readers."""
    from analysis.data.schema import METRIC_UNITS

    text = _prose((note_dir / "crwv-note.html").read_text(encoding="utf-8"))
    bad = [m.group(0) for m in re.finditer(r"[^.;]{0,60}\bthis build\b[^.;]{0,40}", text)]
    bad += [f"field name {m}: ...{text[max(0, x.start() - 60): x.end() + 40]}..." for m in METRIC_UNITS if "_" in m
            for x in re.finditer(rf"(?<![\w/]){m}(?![\w])", text)]
    assert not bad, "build-log phrasing in the note's prose:\n" + "\n".join(bad)


def test_the_evening_note_has_no_denton_delay():
    """The Denton delay's size (fundamentals.csv delay_days / delay_site_power_mw, from the WSJ
    report of 2025-12-15, event E18) is absent from the 2025-11-10 note: '260 MW' nowhere, and a
    number of days only away from the words of a delivery delay ('60 days' is also the event
    study's estimation window, a method parameter). Kept from the sections helper's test."""
    import csv

    later_mw, later_days = [], []
    with open(paths.data_dir() / "fundamentals.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["published"] > EVENING:
                v = f"{float(row['value']):,.0f}"
                if row["metric"] == "delay_site_power_mw":
                    later_mw += [f"{v} MW", f"{v}-megawatt", f"{v} megawatts"]
                elif row["metric"] == "delay_days":
                    later_days += [f"{v} days", f"{v}-day"]
    assert "260 MW" in later_mw and "60 days" in later_days  # the rows the issue names are there
    delay_words = re.compile(r"delay|site|campus|denton|data.centre|data center", re.IGNORECASE)
    d = _note(EVENING)
    for kind, text in {"html": leaks.html_text((d / "crwv-note.html").read_text(encoding="utf-8")),
                       "pdf": leaks.pdf_text((d / "crwv-note.pdf").read_bytes())}.items():
        found = [x for x in later_mw if x in text]
        for x in later_days:
            found += [text[max(0, m.start() - 80): m.end() + 80] for m in re.finditer(re.escape(x), text)
                      if delay_words.search(text[max(0, m.start() - 120): m.end() + 120])]
        assert not found, f"{kind}: later facts printed: {found}"


def test_the_evening_front_page_leads_with_that_evenings_cuts():
    """The 2025-11-10 front page's first box: the Q3-25 results and that evening's cuts of the
    FY2025 revenue and capex guidance and of the year-end power target (TR_25Q3)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup((_note(EVENING) / "crwv-note.html").read_text(encoding="utf-8"), "html.parser")
    box = soup.select_one(".summary-box")
    title = leaks.normalise(box.select_one(".box-title").get_text())
    text = leaks.normalise(box.get_text(" "))
    assert title == f"What was new on the evening of {EVENING}"
    for words in ("reported its 2025Q3 results", "FY2025 revenue guidance was cut", "FY2025 capex guidance was cut",
                  "year-end active power target was cut", "E14 came after the last close"):
        assert words in text, words
    assert "260 MW" not in text and "60 days" not in text
