"""Section 06 end to end: papermill at the 2025-11-10 as-of date into a temp folder, results
contract (tables, values with sources, verdicts) checked, and key figures against the documents."""

from __future__ import annotations

import json

import pytest

from analysis import paths

ROOT = paths.ROOT


@pytest.fixture(scope="module")
def res(tmp_path_factory):
    import papermill as pm

    out = tmp_path_factory.mktemp("funding")
    pm.execute_notebook(str(ROOT / "notebooks" / "06_funding.ipynb"), str(out / "executed.ipynb"),
                        parameters={"as_of": "2025-11-10", "sofr_pct": 4.5, "results_dir": str(out)},
                        cwd=str(ROOT / "notebooks"), kernel_name="python3", progress_bar=False)
    return json.loads((out / "06_funding.json").read_text())


def test_results_contract(res):
    t = res["tables"]
    assert t["funding_gap"]["columns"][:4] == ["quarter", "operating_cash_flow", "capex_cash", "funding_gap"]
    for name in ("debt_maturities", "roic", "implied_margin_sensitivity", "debt_stack", "liquidity"):
        assert name in t, name
    assert "sources" in t["funding_gap"]["columns"] and "source" in t["debt_maturities"]["columns"]
    m = res["values"]["marginal_cost_of_debt"]
    assert m["sources"] and m["unit"] == "fraction" and m["period"]
    assert set(res["verdicts"]) == {"funding_gap", "returns_on_capital"}
    for v in res["values"].values():
        assert v["sources"] or v["value"] is None, v


def test_point_in_time_figures(res):
    # as of 2025-11-10 nothing published later is used: the schedule is the Q2-25 one (R41, 2025-08-13)
    rows = res["tables"]["debt_maturities"]["rows"]
    cols = res["tables"]["debt_maturities"]["columns"]
    assert {r[cols.index("as_of")] for r in rows} == {"2025-06-30"}
    # new facilities to 2025-11-10: 2031 notes 9.00% (1,750), DDTL 2.1 SOFR+4.25% (3,000), DDTL 3.0 SOFR+4% (2,600);
    # with SOFR = 4.5% (a parameter): (1,750 x 9.00 + 3,000 x 8.75 + 2,600 x 8.50) / 7,350
    want = (1750 * 9.0 + 3000 * 8.75 + 2600 * 8.5) / 7350 / 100
    assert res["values"]["marginal_cost_of_debt"]["value"] == pytest.approx(want, rel=1e-12)
    assert res["params"]["sofr_pct"] == 4.5
    # the funding verdict rests on the nine months to 2025-09-30 (PR_25Q3)
    assert res["verdicts"]["funding_gap"]["answer"] == "debt"
    assert res["verdicts"]["funding_gap"]["period"] == "2025-9M"
