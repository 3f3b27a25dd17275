"""Checksum manifest (data/MANIFEST.sha256) and vendoring (python -m analysis.data.vendor)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

import pytest
from edits import set_cell

from analysis import paths
from analysis.data import manifest, vendor
from analysis.errors import DataValidationError

DATA = paths.ROOT / "data"
ENV = {**os.environ, "PYTHONPATH": str(paths.ROOT / "src")}


def _cli(module, *args, cwd):
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          cwd=cwd, env=ENV)


def _snapshot(folder):
    """{relative path: (bytes, mtime_ns)} of every file under `folder`."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# ---- manifest ----------------------------------------------------------------------------------

def test_real_data_matches_its_manifest():
    assert (DATA / "MANIFEST.sha256").is_file(), "run: python -m analysis.data.manifest write"
    assert manifest.verify(DATA) == []


def test_manifest_format(data_copy):
    (data_copy / "MANIFEST.sha256").unlink()
    manifest.write(data_copy)
    text = (data_copy / "MANIFEST.sha256").read_text(encoding="utf-8")
    entries = [line.split("  ", 1) for line in text.splitlines()]
    files = sorted(p.relative_to(data_copy).as_posix() for p in data_copy.rglob("*")
                   if p.is_file() and p.name not in ("MANIFEST.sha256", "VENDORED.sha256"))
    assert [rel for _, rel in entries] == files  # every file but itself and the vendoring record, sorted
    assert len(files) == 37  # 8 tables, claims.yaml, 24 price files, dividends, 3 *.md
    assert "README.md" in files and "prices/PROVENANCE.md" in files
    for digest, rel in entries:
        assert digest == hashlib.sha256((data_copy / rel).read_bytes()).hexdigest()
    if shutil.which("sha256sum"):  # the format `sha256sum -c` reads
        subprocess.run(["sha256sum", "--quiet", "-c", "MANIFEST.sha256"], cwd=data_copy, check=True)


def test_write_leaves_an_up_to_date_manifest_alone(data_copy):
    m = data_copy / "MANIFEST.sha256"
    os.utime(m, ns=(1_000_000_000, 1_000_000_000))
    manifest.write(data_copy)
    assert m.stat().st_mtime_ns == 1_000_000_000


def test_verify_reports_the_loader_error_of_a_corrupted_file(data_copy):
    set_cell(data_copy / "prices/CRWV.csv", 159, "high", "80")  # below low 88.00
    problems = manifest.verify(data_copy)
    assert len(problems) == 1
    p = problems[0]
    assert "prices/CRWV.csv, line 159, column 'high': got 80.0; expected high >= low (88.0)" in p
    assert "changed since the manifest was written (checksum" in p


def test_verify_refuses_a_valid_edit(data_copy):
    set_cell(data_copy / "fundamentals.csv", 285, "value", "1364.677")
    problems = manifest.verify(data_copy)
    assert len(problems) == 1
    assert "fundamentals.csv changed since the manifest was written (checksum " in problems[0]
    assert ("if the change is intended, run `python -m analysis.data.manifest write`"
            in problems[0])


def test_verify_reports_added_and_removed_files(data_copy):
    (data_copy / "prices/AMD.csv").unlink()  # AMD pays no dividend: nothing else breaks
    (data_copy / "notes.txt").write_text("scratch\n")
    problems = manifest.verify(data_copy)
    assert len(problems) == 2
    assert "notes.txt is not in" in problems[0]
    assert "prices/AMD.csv is missing (listed in" in problems[1]


def test_verify_removed_file_reports_dependent_loader_errors(data_copy):
    (data_copy / "prices/AVGO.csv").unlink()  # dividends.csv line 2 is AVGO
    (p,) = manifest.verify(data_copy)
    assert "prices/dividends.csv, line 2, column 'ticker': got 'AVGO'" in p
    assert "prices/AVGO.csv is missing" in p


def test_verify_without_manifest(data_copy):
    (data_copy / "MANIFEST.sha256").unlink()
    (p,) = manifest.verify(data_copy)
    assert "MANIFEST.sha256" in p and "make vendor" in p


def test_malformed_manifest_line(data_copy):
    m = data_copy / "MANIFEST.sha256"
    m.write_text(m.read_text().replace("  README.md", " README.md"))
    with pytest.raises(DataValidationError) as ei:
        manifest.read(data_copy)
    assert ei.value.column == "sha256" and ei.value.line is not None


def test_cli_verify(data_copy, monkeypatch, capsys):
    ok = _cli("analysis.data.manifest", "verify", "--data-dir", "data", cwd=data_copy.parent)
    assert ok.returncode == 0, ok.stderr
    # checksums, then every validator (matching checksums do not make the data valid)
    assert ok.stdout.splitlines() == ["data: 37 files match MANIFEST.sha256", "data: 34 data files valid"]
    assert ok.stderr == ""
    fast = _cli("analysis.data.manifest", "verify", "--checksums-only", "--data-dir", "data", cwd=data_copy.parent)
    assert fast.returncode == 0 and fast.stdout.strip() == "data: 37 files match MANIFEST.sha256", fast.stderr
    set_cell(data_copy / "events.csv", 4, "day0", "2025-03-26")
    monkeypatch.chdir(data_copy.parent)
    assert manifest.main(["verify", "--data-dir", "data"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert ("data/events.csv, line 4, column 'day0': got '2025-03-26'; "
            "expected a date on or after announced (2025-03-27)") in err
    assert "data check failed: 1 problem(s)" in err


def test_verify_is_fast_and_does_not_import_pandas():
    code = ("import sys, time; t = time.perf_counter(); from analysis.data import manifest as m; "
            "assert m.verify() == []; print(time.perf_counter() - t, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV,
                         check=True).stdout.split()
    assert out[1] == "False"
    # generous bound: timings are noisy on a loaded 2-core machine (typically ~0.05 s)
    assert float(out[0]) < 5.0


# ---- vendor ------------------------------------------------------------------------------------

@pytest.fixture
def upstream(tmp_path):
    """A copy of the vendored data standing in for ../shared/data (without a manifest)."""
    src = tmp_path / "shared" / "data"
    shutil.copytree(DATA, src, ignore=shutil.ignore_patterns("MANIFEST.sha256", "VENDORED.sha256"))
    return src


def test_default_source_is_shared_data_beside_the_repo():
    assert vendor.default_source() == paths.ROOT.parent / "shared" / "data"


def test_vendor_into_empty_then_update(tmp_path, upstream):
    dest = tmp_path / "repo" / "data"
    changes = vendor.vendor(upstream, dest)
    assert len(changes["added"]) == 37 and not changes["removed"] and not changes["modified"]
    assert manifest.verify(dest) == []
    assert (dest / "MANIFEST.sha256").read_bytes() == (DATA / "MANIFEST.sha256").read_bytes()
    before = _snapshot(dest)
    # upstream: a doc edited, a price file removed, one added (a copy of SPY under a new ticker)
    with open(upstream / "README.md", "a", encoding="utf-8") as fh:
        fh.write("\nOne more line.\n")
    (upstream / "prices/AMD.csv").unlink()
    shutil.copy(upstream / "prices/SPY.csv", upstream / "prices/XYZ.csv")
    changes = vendor.vendor(upstream, dest)
    assert changes["added"] == ["prices/XYZ.csv"]
    assert changes["removed"] == ["prices/AMD.csv"]
    assert changes["modified"] == ["README.md"]
    assert len(changes["unchanged"]) == 35
    assert not (dest / "prices/AMD.csv").exists() and (dest / "prices/XYZ.csv").is_file()
    assert manifest.verify(dest) == []
    after = _snapshot(dest)
    for rel in changes["unchanged"]:  # unchanged files keep their mtime: make rebuilds nothing
        assert after[rel] == before[rel], rel
    assert [p.name for p in dest.parent.iterdir()] == ["data"]  # no staging folder left


def test_vendor_refuses_invalid_input_and_leaves_data_untouched(tmp_path, upstream):
    dest = tmp_path / "repo" / "data"
    vendor.vendor(upstream, dest)
    before = _snapshot(dest)
    (upstream / "README.md").write_text("changed\n")
    set_cell(upstream / "prices/CRWV.csv", 159, "close", "99")  # above high 98.00
    (upstream / "stray.json").write_text("{}\n")
    with pytest.raises(vendor.VendorError) as ei:
        vendor.vendor(upstream, dest)
    errs = ei.value.errors
    assert len(errs) == 2
    assert errs[0].file.endswith("shared/data/prices/CRWV.csv")  # named in the source folder
    assert (errs[0].line, errs[0].column, errs[0].value) == (159, "close", 99.0)
    assert errs[1].value == "stray.json"
    assert _snapshot(dest) == before
    assert [p.name for p in dest.parent.iterdir()] == ["data"]


def test_vendor_cli(tmp_path, upstream, monkeypatch, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    assert vendor.main(["--from", str(upstream), "--data-dir", "data"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "37 added, 0 removed, 0 modified, 0 unchanged" in out[0]
    assert "  + prices/CRWV.csv" in out
    assert vendor.main(["--from", str(upstream), "--data-dir", "data"]) == 0
    assert capsys.readouterr().out.strip().endswith("0 added, 0 removed, 0 modified, 37 unchanged")
    set_cell(upstream / "events.csv", 4, "timing", "evening")
    assert vendor.main(["--from", str(upstream), "--data-dir", "data"]) == 1
    err = capsys.readouterr().err
    assert "events.csv, line 4, column 'timing': got 'evening'" in err
    assert "refused to vendor" in err and "left untouched" in err
    assert manifest.verify(repo / "data") == []


def _append(path, text):
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def test_vendor_records_what_it_took_in(tmp_path, upstream):
    dest = tmp_path / "repo" / "data"
    vendor.vendor(upstream, dest)
    rec = manifest.read(dest, manifest.VENDORED_NAME)
    assert rec == manifest.compute(upstream)  # the source's checksums, file by file
    assert manifest.VENDORED_NAME not in manifest.data_files(dest)  # not a data file itself
    assert manifest.verify(dest) == []


def test_vendor_refuses_to_overwrite_local_changes(tmp_path, upstream):
    dest = tmp_path / "repo" / "data"
    vendor.vendor(upstream, dest)
    # data/ is the project's own: a row added to fundamentals.csv, a line to the README
    _append(dest / "fundamentals.csv", "2025Q3,2025-07-01,2025-09-30,2025-11-10,capex_cash,1.0,usd_m,"
                                       "press_release,PR_25Q3,high,local test row\n")
    _append(dest / "README.md", "\nA local line.\n")
    manifest.write(dest)
    # upstream changed both files (and another one)
    _append(upstream / "fundamentals.csv", "2025Q3,2025-07-01,2025-09-30,2025-11-10,capex_cash,2.0,usd_m,"
                                           "press_release,PR_25Q3,high,upstream test row\n")
    _append(upstream / "README.md", "\nAn upstream line.\n")
    _append(upstream / "FUNDAMENTALS.md", "\nUpstream only.\n")
    before = _snapshot(dest)
    with pytest.raises(vendor.VendorError) as ei:
        vendor.vendor(upstream, dest)
    assert ei.value.conflicts == ["README.md", "fundamentals.csv"]
    msg = str(ei.value)
    assert "README.md" in msg and "fundamentals.csv" in msg and "left untouched" in msg
    assert "FUNDAMENTALS.md" not in msg  # changed upstream only: not a conflict
    assert _snapshot(dest) == before
    assert [p.name for p in dest.parent.iterdir()] == ["data"]


def test_vendor_keeps_local_changes_and_takes_upstream_ones(tmp_path, upstream):
    dest = tmp_path / "repo" / "data"
    vendor.vendor(upstream, dest)
    _append(dest / "README.md", "\nA local line.\n")
    (dest / "NOTES.md").write_text("local only\n")
    manifest.write(dest)
    local_readme = (dest / "README.md").read_bytes()
    _append(upstream / "FUNDAMENTALS.md", "\nUpstream only.\n")
    changes = vendor.vendor(upstream, dest)
    assert changes["modified"] == ["FUNDAMENTALS.md"]  # taken in
    assert changes["kept_local"] == ["NOTES.md", "README.md"]
    assert (dest / "README.md").read_bytes() == local_readme  # never overwritten
    assert (dest / "NOTES.md").read_text() == "local only\n"
    assert (dest / "FUNDAMENTALS.md").read_bytes() == (upstream / "FUNDAMENTALS.md").read_bytes()
    assert manifest.verify(dest) == []
    assert manifest.read(dest, manifest.VENDORED_NAME) == manifest.compute(upstream)
    # the same local edit made upstream later is no conflict
    shutil.copyfile(dest / "README.md", upstream / "README.md")
    vendor.vendor(upstream, dest)
    assert (dest / "README.md").read_bytes() == local_readme


def test_vendor_refuses_removing_a_locally_changed_file(tmp_path, upstream):
    dest = tmp_path / "repo" / "data"
    vendor.vendor(upstream, dest)
    _append(dest / "FUNDAMENTALS.md", "\nlocal\n")
    manifest.write(dest)
    (upstream / "FUNDAMENTALS.md").unlink()
    with pytest.raises(vendor.VendorError) as ei:
        vendor.vendor(upstream, dest)
    assert ei.value.conflicts == ["FUNDAMENTALS.md"]


def test_vendor_without_a_record_refuses_any_difference(tmp_path, upstream):
    # no record of the last vendoring: nothing can be assumed unchanged, so a file that differs
    # from the source is never overwritten
    dest = tmp_path / "repo" / "data"
    vendor.vendor(upstream, dest)
    (dest / manifest.VENDORED_NAME).unlink()
    _append(upstream / "README.md", "\nupstream\n")
    with pytest.raises(vendor.VendorError) as ei:
        vendor.vendor(upstream, dest)
    assert ei.value.conflicts == ["README.md"]


@pytest.mark.parametrize("record, local, source, expected", [
    ({"a": "1"}, {"a": "1"}, {"a": "1"}, {"keep": ["a"]}),
    ({"a": "1"}, {"a": "1"}, {"a": "2"}, {"take": ["a"]}),
    ({"a": "1"}, {"a": "3"}, {"a": "1"}, {"keep": ["a"]}),
    ({"a": "1"}, {"a": "3"}, {"a": "2"}, {"conflict": ["a"]}),
    ({"a": "1"}, {"a": "2"}, {"a": "2"}, {"keep": ["a"]}),
    ({}, {}, {"a": "2"}, {"take": ["a"]}),
    ({}, {"a": "1"}, {"a": "2"}, {"conflict": ["a"]}),
    ({}, {"a": "1"}, {}, {"keep": ["a"]}),
    ({"a": "1"}, {"a": "1"}, {}, {"remove": ["a"]}),
    ({"a": "1"}, {"a": "3"}, {}, {"conflict": ["a"]}),
])
def test_vendor_plan(record, local, source, expected):
    full = {"take": [], "keep": [], "remove": [], "conflict": [], **expected}
    assert vendor.plan(record, local, source) == full


def test_real_data_record_names_only_shared_files():
    # data/VENDORED.sha256 lists what was last taken in from ../shared/data
    rec = manifest.read(DATA, manifest.VENDORED_NAME)
    assert "claims.yaml" in rec and "fundamentals.csv" in rec
    assert set(rec) <= set(manifest.data_files(DATA))


def test_vendor_missing_source(tmp_path):
    with pytest.raises(vendor.VendorError, match="no data folder"):
        vendor.vendor(tmp_path / "nope", tmp_path / "data")


def test_validate_cli(data_copy, monkeypatch, capsys):
    from analysis.data import validate

    monkeypatch.chdir(data_copy.parent)
    assert validate.main(["--data-dir", "data"]) == 0
    assert capsys.readouterr().out.strip() == "data: 34 data files valid"  # 37 files - 3 *.md
    set_cell(data_copy / "customers.csv", 3, "value", "135")
    set_cell(data_copy / "prices/SPY.csv", 5, "open", "-1")
    assert validate.main(["--data-dir", "data"]) == 1
    err = capsys.readouterr().err
    assert "data/customers.csv, line 3, column 'value': got '135'; expected a number <= 100" in err
    assert "data/prices/SPY.csv, line 5, column 'open': got '-1'; expected a positive number" in err
