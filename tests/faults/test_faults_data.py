"""Fault catalog, data side (issue 14): bad input is refused with file, line, column, value and
expectation; hostile text in the data is shown literally and never runs or fetches anything.

- `test_case`: every corruption in `data_cases.CASES`, on a temp copy of data/, through the
  validators that `make check-data`, `make vendor` and `manifest verify` run.
- `test_make_*`: an end-to-end subset with `make` in a copy of the checkout: non-zero exit, the
  error named, the previous note byte-identical, data/ untouched.
- `test_payload_*`: script, image, link and Typst payloads in every free-text field of every
  data file, through the loaders, the claims-ledger notebook and both renderers.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from analysis.data import load as L
from analysis.data import manifest, validate
from analysis.data import schema as S
from analysis.data.vendor import VendorError, vendor
from analysis.errors import DataValidationError
from analysis.report import exhibits, fmt, front
from analysis.report import note as note_mod
from analysis.report.html import UnsafePageError, render_html
from analysis.report.pdf import pdf_text, render_pdf, replace_unprintable

from . import harness
from .data_cases import (
    CASES,
    E2E_REPORT,
    FREE_TEXT,
    PAYLOAD,
    REAL_DATA,
    REV_25Q3,
    ROOT,
    case,
    execute_in_process,
    plant_payload,
    set_cell,
)

NOTE = ("crwv-note.html", "crwv-note.pdf")


def _copy_data(tmp_path: Path) -> Path:
    dest = tmp_path / "data"
    shutil.copytree(REAL_DATA, dest)
    return dest


def _errors_for(data_dir: Path, c) -> list[DataValidationError]:
    """What the validators say about the copy: the edited file's loaders (as `manifest verify`
    runs for a changed file), or every validator for added and deleted files."""
    if c.kind == "files":
        return validate.validate_all(data_dir)
    try:
        validate.validate_file(c.file, data_dir)
    except DataValidationError as exc:
        return [exc]
    return []


def _assert_names(err: DataValidationError, c, data_dir: Path) -> None:
    msg = str(err)
    assert Path(err.file).resolve() == (data_dir / c.file).resolve(), msg
    assert err.line == c.line, msg
    assert err.column == c.column, msg
    assert c.fragment in err.expected, msg
    where = err.file + (f", line {c.line}" if c.line else "") + (f", column '{c.column}'" if c.column else "")
    assert msg.startswith(where + ": got "), msg
    assert "expected " in msg


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_case(c, tmp_path):
    data_dir = _copy_data(tmp_path)
    if c.kind != "files":  # (validate_all on the real data: test_snapshot_* and tests/data)
        assert not _errors_for(data_dir, c), "the real data must pass before the edit"
    c.edit(data_dir)
    errors = _errors_for(data_dir, c)
    mine = [e for e in errors if Path(e.file).resolve() == (data_dir / c.file).resolve()]
    assert mine, f"no error names {c.file}: {[str(e) for e in errors]}"
    _assert_names(mine[0], c, data_dir)


def test_catalog_covers_every_kind_of_fault():
    kinds = {c.kind for c in CASES}
    assert kinds == {"negative", "magnitude", "percentage", "date", "corrupt", "yaml", "files"}
    assert len(CASES) >= 50
    assert len({c.id for c in CASES}) == len(CASES)


# ---- plausibility: a jump inside the range is a warning, not an error ---------------------------

def test_quarter_jump_is_a_warning_not_an_error(tmp_path):
    data_dir = _copy_data(tmp_path)
    assert validate.plausibility_warnings(data_dir) == [], "the real data has no implausible jump"
    set_cell(data_dir, "fundamentals.csv", REV_25Q3, "value", "13646.76")  # 10x, inside the range
    assert validate.validate_all(data_dir) == []
    (w,) = validate.plausibility_warnings(data_dir)
    assert w.file.endswith("fundamentals.csv") and w.line == REV_25Q3 and w.column == "value"
    assert "revenue, 2025Q3" in w.message and "the adjacent quarter(s)" in w.message
    assert re.search(r"is [5-9](\.\d+)?x the adjacent", w.message), w.message  # a flow: 5x flags


def test_price_spike_is_a_warning_printed_by_the_data_check(tmp_path, capsys):
    data_dir = _copy_data(tmp_path)
    line = next(n for n, t in enumerate((data_dir / "prices/CRWV.csv").read_text().splitlines(), 1)
                if t.startswith("2025-11-11,"))
    for col in ("open", "high", "low", "close"):
        set_cell(data_dir, "prices/CRWV.csv", line, col, "883.9")  # a price typed 10x, one day
    assert validate.report(data_dir) == 0
    err = capsys.readouterr().err
    assert re.search(rf"warning: .*prices/CRWV\.csv, line {line}, column 'close': 883\.9 is \d", err), err


# ---- snapshot date ----------------------------------------------------------------------------

def test_snapshot_date_is_the_last_price_date():
    last = max((REAL_DATA / "prices" / f"{t}.csv").read_text().splitlines()[-1].split(",")[0]
               for t in L.price_tickers())
    assert L.snapshot_date().isoformat() == last == "2026-10-09"


def test_everything_public_by_the_snapshot_date():
    """The vendored data passes its own snapshot rule with the dates the note relies on."""
    snap = L.snapshot_date()
    assert L.load_fundamentals()["published"].max().date() <= snap
    assert max(c["published"] for c in L.load_claims()) <= snap


# ---- vendor -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["-1364.676", "1e20"])
def test_vendor_refuses_implausible_revenue(tmp_path, value):
    src = _copy_data(tmp_path / "shared")
    dest = _copy_data(tmp_path / "repo")
    # dest as just vendored from src (no local edits), then src gets the implausible figure
    (dest / manifest.VENDORED_NAME).write_text(manifest.format_manifest(manifest.compute(src)), encoding="utf-8")
    set_cell(src, "fundamentals.csv", REV_25Q3, "value", value)
    before = {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    with pytest.raises(VendorError) as ei:
        vendor(src, dest)
    (err,) = ei.value.errors
    assert (err.line, err.column) == (REV_25Q3, "value") and "fundamentals.csv" in err.file
    assert {p: p.read_bytes() for p in dest.rglob("*") if p.is_file()} == before


# ---- end to end: make in a copy of the checkout -----------------------------------------------

@pytest.fixture(scope="module")
def built_note():
    paths = [ROOT / "reports" / n for n in NOTE]
    if not all(p.is_file() for p in paths) or not (ROOT / "reports/build/executed").is_dir():
        pytest.skip("the default note is not built: run `make report` (make test builds it)")
    return paths


@pytest.mark.parametrize("case_id", E2E_REPORT)
def test_make_report_refuses_and_keeps_the_previous_note(built_note, tmp_path, case_id):
    c = case(case_id)
    co = harness.copy_checkout(tmp_path / "repo")
    repo = co.root
    before = co.note_bytes()
    c.edit(repo / "data")
    co.write_manifest()  # as the issue did: the checksums match, the validators must refuse
    r = co.make("report")
    assert r.returncode != 0, r.stdout + r.stderr
    where = f"data/{c.file}" + (f", line {c.line}" if c.line else "") + (f", column '{c.column}'" if c.column else "")
    assert where in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert co.note_bytes() == before


def test_make_check_data_runs_every_validator(built_note, tmp_path):
    c = case("deleted_cited_price_file")
    co = harness.copy_checkout(tmp_path / "repo")
    c.edit(co.root / "data")
    co.write_manifest()
    r = co.make("check-data")
    assert r.returncode != 0
    assert f"data/claims.yaml, line {c.line}, column '{c.column}'" in r.stderr, r.stderr
    assert "data/prices/SMH.csv does not exist" in r.stderr


def test_make_vendor_refuses_negative_revenue(built_note, tmp_path):
    co = harness.copy_checkout(tmp_path / "repo")
    repo = co.root
    shared = tmp_path / "shared" / "data"  # `make vendor` reads ../shared/data beside the checkout
    shutil.copytree(REAL_DATA, shared, ignore=shutil.ignore_patterns(manifest.MANIFEST_NAME, manifest.VENDORED_NAME))
    # the checkout as just vendored from `shared` (no local edits), then `shared` gets the bad figure
    (repo / "data" / manifest.VENDORED_NAME).write_text(manifest.format_manifest(manifest.compute(shared)),
                                                        encoding="utf-8")
    set_cell(shared, "fundamentals.csv", REV_25Q3, "value", "-1364.676")
    before = {p.relative_to(repo): p.read_bytes() for p in (repo / "data").rglob("*") if p.is_file()}
    r = co.make("vendor")
    assert r.returncode != 0
    assert re.search(rf"shared/data/fundamentals\.csv, line {REV_25Q3}, column 'value': got -1364\.676; "
                     r"expected revenue: a number >= 0", r.stderr), r.stderr
    assert {p.relative_to(repo): p.read_bytes() for p in (repo / "data").rglob("*") if p.is_file()} == before


# ---- payloads ---------------------------------------------------------------------------------

EXTERNAL = re.compile(r"^\s*(https?:|//|ftp:|file:|javascript:|data:text)", re.I)


def _assert_inert(page: str) -> BeautifulSoup:
    """No script, no event handler, nothing external (src/href), in the page."""
    soup = BeautifulSoup(page, "html.parser")
    assert soup.find(["script", "iframe", "object", "embed", "link", "base", "form"]) is None
    for tag in soup.find_all(True):
        for attr, v in tag.attrs.items():
            assert not attr.lower().startswith("on"), f"<{tag.name} {attr}=...>"
            if attr.lower() in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
                assert not EXTERNAL.match(str(v)), f"<{tag.name} {attr}={v}>"
    assert soup.find("img") is None, "no image comes from text"
    return soup


def _squash(s: str) -> str:
    """Text as extracted from a PDF, for a literal comparison: no whitespace or invisible break
    hints; Typst's typographic quotes as the straight quotes typed."""
    s = s.translate({0x201C: '"', 0x201D: '"', 0x2018: "'", 0x2019: "'", 0x2212: "-"})
    return re.sub(r"[\s\u200b\u2060\u00ad]+", "", s)


def _render(cells, tmp_path: Path) -> tuple[str, str]:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    for i, c in enumerate(nb.cells):
        c["id"] = f"cell-{i:04d}"
    note_mod.number_exhibits(nb.cells)
    page = render_html(nb).decode("utf-8")
    pdf = render_pdf(nb, tmp_path / "typst", {"title": "t", "short_title": "t", "as_of": "2026-10-09",
                                              "date": "2026-10-09"})
    return page, pdf_text(pdf)


def test_free_text_registry_lists_every_free_text_column():
    """A str column without allowed values or a pattern is free text, unless it holds source ids."""
    schemas = [S.FUNDAMENTALS, S.CUSTOMERS, S.CONTRACTS, S.FINANCINGS, S.SOURCES, S.EVENTS]
    for sch in schemas:
        cited = "source_exists" in sch.checks
        free = {c.name for c in sch.columns if c.kind == "str" and not c.choices and not c.pattern
                and not (cited and c.name == "source")}
        assert free == set(FREE_TEXT[sch.file]), sch.file


@pytest.fixture(scope="module")
def payload_data(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("payload") / "data"
    shutil.copytree(REAL_DATA, data_dir)
    counts = plant_payload(data_dir)
    assert all(n > 0 for n in counts.values()), counts
    return data_dir


def test_payload_loads_unchanged(payload_data):
    """Hostile text is valid text: every validator accepts it and every loader returns it as
    written (escaping is the renderer's job, not the data's)."""
    assert validate.validate_all(payload_data) == []
    for rel, fields in FREE_TEXT.items():
        if rel == "claims.yaml":
            claims = L.load_claims(data_dir=payload_data)
            values = [c[f] for c in claims for f in ("outlet", "claim", "note") if f in c]
            values += [k[f] for c in claims for k in c["checks"] for f in ("note", "reason", "counterparty") if f in k]
            assert len(values) > 2 * len(claims)
            assert all(re.fullmatch(re.escape(PAYLOAD) + r" #\d+", v) for v in values)
            continue
        df = validate._TABLES[rel](data_dir=payload_data)
        for f in fields:
            assert len(df[f].dropna()) and all(re.fullmatch(re.escape(PAYLOAD) + r" #\d+", v) for v in df[f].dropna()), (rel, f)


def test_payload_claims_ledger_inert_and_literal(payload_data, tmp_path, monkeypatch):
    """The claims ledger built from claims.yaml with the payload in every outlet, claim, note and
    reason: the page carries nothing executable or external, and both the HTML and the PDF show
    the payload as written, the "widest gap" sentence included."""
    monkeypatch.setenv("CRWV_DATA_DIR", str(payload_data))
    nb = execute_in_process(ROOT / "notebooks" / "07_claims_ledger.ipynb",
                            {"results_dir": str(tmp_path / "results")})
    page, text = _render(note_mod.clean_notebook(nb), tmp_path)
    soup = _assert_inert(page)
    shown = soup.get_text(" ")
    assert PAYLOAD in re.sub(r"\s+", " ", shown)
    gap = [p.get_text(" ") for p in soup.find_all("p") if "widest gap" in p.get_text()]
    assert gap and all(PAYLOAD in re.sub(r"\s+", " ", g) for g in gap), gap
    assert _squash(PAYLOAD) in _squash(text)
    assert "evil.invalid" not in "".join(a.get("href", "") + a.get("src", "") for a in soup.find_all(True))


ATTACKS = {
    "script": "<script>alert(1)</script>",
    "image_tag": '<img src="http://evil.invalid/i.png" onerror="alert(2)">',
    "handler": '<a href="#x" onclick="alert(3)">x</a>',
    "md_link": "[m](http://evil.invalid/l)",
    "md_image": "![i](http://evil.invalid/i.png)",
    "autolink": "<http://evil.invalid/a>",
    "typst_link": '#link("http://evil.invalid/t")[t]',
    "typst_image": '#image("http://evil.invalid/x.png")',
    "typst_set": "#set page(fill: red)",
    "typst_raw": "`#link(\"http://evil.invalid/r\")[r]`{=typst}",
    "citation": "@evil and $x^2$",
}


@pytest.fixture(scope="module")
def attacks_rendered(tmp_path_factory):
    """Each payload through every way text reaches the note, all in one render: escaped data
    text in markdown (`fmt.text`, what section code does), the same text unescaped (a section
    that forgot: defence in depth), an exhibit's title, cells, notes and source, a front-page box."""
    import pandas as pd

    cells = [nbformat.v4.new_markdown_cell("## Section")]
    for name, p in ATTACKS.items():
        ex = exhibits.table(pd.DataFrame({"Outlet": [p]}), title=f"Title {name}: {p}",
                            source=f"Source {name}: {p}", notes=f"Notes {name}: {p}")
        cells += [
            nbformat.v4.new_markdown_cell(f"Escaped {name}: {fmt.text(p)} end."),
            nbformat.v4.new_markdown_cell(f"Raw {name}: {p} end."),
            nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data=ex._repr_mimebundle_())]),
            front.summary_cell([f"Finding {name}: {p}"]),
        ]
    page, text = _render(cells, tmp_path_factory.mktemp("attacks"))
    soup = _assert_inert(page)
    return re.sub(r"\s+", " ", soup.get_text(" ")), _squash(text)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_payload_in_every_display_path(name, attacks_rendered):
    p = ATTACKS[name]
    body, squashed = attacks_rendered
    assert f"Escaped {name}: {p} end." in body, "fmt.text shows the data text as written"
    assert _squash(f"Escaped {name}: {p} end.") in squashed
    for where in ("Title", "Source", "Notes", "Finding"):
        assert f"{where} {name}: {p}" in body, where
        assert _squash(f"{where} {name}: {p}") in squashed, where
    start = body.index(f"Raw {name}:")
    raw = body[start:body.index("end.", start)]
    assert "evil.invalid" in raw or name in ("script", "handler", "typst_set", "citation"), raw


def test_unsafe_html_output_is_refused(tmp_path):
    """Last line of defence: a display that carries live HTML (not through fmt or exhibits)
    stops the render instead of reaching the page."""
    for bad in ('<script>alert(1)</script>', '<img src="http://evil.invalid/i.png">',
                '<p onclick="alert(1)">x</p>', '<div style="background:url(http://evil.invalid/b.png)">x</div>'):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data",
                                                                             data={"text/html": bad})])]
        with pytest.raises(UnsafePageError, match="the note's HTML would carry"):
            render_html(nb)


# ---- ordinary text renders as before ------------------------------------------------------------

def _real_free_text() -> list[str]:
    """Every free-text value of the vendored data (FREE_TEXT), in file order."""
    out: list[str] = []
    for rel, fields in FREE_TEXT.items():
        if rel == "claims.yaml":
            for c in L.load_claims():
                out += [c[f] for f in ("outlet", "claim", "note") if f in c]
                out += [k[f] for k in c["checks"] for f in ("note", "reason", "counterparty") if f in k]
            continue
        df = validate._TABLES[rel]()
        out += [v for f in fields for v in df[f].dropna()]
    return list(dict.fromkeys(v for v in out if v.strip()))


def _typographic(s: str) -> str:
    """Pandoc's smart typography, which applies to all narrative alike (not an escaping effect)."""
    s = s.replace("\u2026", "...").replace("\u2014", "---").replace("\u2013", "--")
    return _squash(s).replace("-", "")  # hyphens: Typst hyphenates long words at line ends


def test_real_data_text_shows_as_written(tmp_path):
    """fmt.text does not change how ordinary text renders: every free-text value of the real data,
    escaped and rendered, shows exactly as written in the HTML and, up to Pandoc's typographic
    quotes and dashes, in the PDF."""
    values = _real_free_text()
    assert len(values) > 300
    cells = [nbformat.v4.new_markdown_cell(fmt.text(v)) for v in values]
    page, text = _render(cells, tmp_path)
    soup = _assert_inert(page)
    shown = [re.sub(r"\s+", " ", d.get_text()).strip() for d in soup.select("div.cell-markdown")]
    assert shown == [" ".join(v.split()) for v in values]
    # page furniture (running head, folio) can fall inside a long value at a page break
    body = "\n".join(line for line in text.split("\n")
                     if not re.fullmatch(r"Page \d+ of \d+|.{0,80}As of \d{4}-\d{2}-\d{2}|Independent research\. Not investment advice\.",
                                         line.strip()))
    flat, pos = _typographic(body), 0
    for v in values:
        # text no font of the PDF can draw is described there, "(CJK text)" (pdf.replace_unprintable)
        i = flat.find(_typographic(replace_unprintable(v)), pos)
        assert i >= 0, v
        pos = i
