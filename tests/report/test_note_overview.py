"""The real overview notebook through the renderer: PDF and HTML carry its key figures."""

from __future__ import annotations

import re

import pytest

from analysis import paths
from analysis.report import fmt
from analysis.report import note as note_mod
from analysis.report.pdf import pdf_text
from analysis.results import read_results, value_of

pytestmark = pytest.mark.build

META = {"as_of": "2025-11-10", "build_date": "2025-11-10", "point_in_time": True, "commit": "test",
        "versions": {}, "checksums": [], "params": {"as_of": "2025-11-10"}}


def test_overview_note(tmp_path):
    import papermill as pm

    src = paths.ROOT / "notebooks" / "00_overview.ipynb"
    if not src.exists():
        pytest.skip("notebooks/00_overview.ipynb not written yet")
    build = tmp_path / "build"
    (build / "executed").mkdir(parents=True)
    pm.execute_notebook(str(src), str(build / "executed" / "00_overview.ipynb"), cwd=str(src.parent),
                        parameters={"as_of": "2025-11-10", "results_dir": str(build / "results")},
                        kernel_name="python3", progress_bar=False)
    html_path, pdf_path = note_mod.render_note(build, tmp_path, {"common": {"as_of": "2025-11-10"}}, META)
    res = read_results("00_overview", build / "results")
    text = re.sub(r"\s+", " ", pdf_text(pdf_path.read_bytes()).replace("\u2212", "-"))
    page = html_path.read_text(encoding="utf-8")
    assert "CoreWeave, Inc. (CRWV)" in text
    for figure in (fmt.usd(value_of(res, "last_close")), fmt.pct(value_of(res, "change_since_ipo"), sign=True),
                   fmt.date(value_of(res, "last_date"))):
        assert figure in text and figure in page
    assert value_of(res, "last_date") <= "2025-11-10"
    assert "Table 1" in text and "Figure 1" in text and "Page 1 of" in text
