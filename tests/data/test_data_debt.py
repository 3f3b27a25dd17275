"""Debt by facility (data/debt_facilities.csv) and the maturity schedule (data/debt_maturities.csv):
loaders, point-in-time filtering and every validation rule on corrupted temp copies.

Line numbers were read with `grep -n` (debt_facilities.csv 7 = DDTL 1.0 at 2025-03-31, 23 = 2031
Senior Notes issued; debt_maturities.csv 3 = 2026 at 2025-03-31, 14 = the 2025-06-30 total).
"""

from __future__ import annotations

import pandas as pd
import pytest
from edits import set_cell

from analysis import data as D
from analysis.errors import DataValidationError


def _err(fn, data_dir) -> DataValidationError:
    with pytest.raises(DataValidationError) as ei:
        fn(data_dir=data_dir)
    return ei.value


def test_facilities_loader_types_and_lines():
    df = D.load_debt_facilities()
    assert df["as_of"].dtype.kind == "M" and df["amount_usd_m"].dtype.kind == "f"
    r = df[df["line"] == 7].iloc[0]
    assert (r["as_of"], r["facility"], r["measure"]) == (pd.Timestamp("2025-03-31"), "ddtl_1_0", "principal")
    assert (r["amount_usd_m"], r["rate_kind"], r["rate_pct"], r["maturity"]) == (1897.5, "effective", 15.0, "2028-03")
    terms = df[df["measure"] == "terms"]
    assert len(terms) and terms["amount_usd_m"].isna().all()


def test_maturities_loader_and_schedules_add_up():
    df = D.load_debt_maturities()
    for (as_of, src), g in df.groupby(["as_of", "source"]):
        total = g.loc[g["bucket"] == "total", "amount_usd_m"].iloc[0]
        assert g.loc[g["bucket"] != "total", "amount_usd_m"].sum() == pytest.approx(total, abs=1.0), (as_of, src)


def test_point_in_time_filters_on_published():
    # before the Q2-25 10-Q (2025-08-13) only the 2025-03-31 schedule exists
    df = D.load_debt_maturities(as_of="2025-08-12")
    assert set(df["as_of"]) == {pd.Timestamp("2025-03-31")}
    fac = D.load_debt_facilities(as_of="2025-11-10")
    assert fac["as_of"].max() == pd.Timestamp("2025-09-30")
    assert "RR" not in set(fac["source"])  # a 2026 secondary report is not public in 2025


def test_terms_row_takes_no_amount(data_copy):
    f = data_copy / "debt_facilities.csv"
    line = next(n for n, t in enumerate(f.read_text().splitlines(), 1) if ",terms," in t)
    set_cell(f, line, "amount_usd_m", "100")
    e = _err(D.load_debt_facilities, data_copy)
    assert (e.line, e.column) == (line, "amount_usd_m") and "terms" in str(e)


@pytest.mark.parametrize(("column", "value", "fragment"), [
    ("amount_usd_m", "", "an amount"),   # a principal row needs an amount
    ("rate_kind", "", ""),               # a rate needs its kind
    ("rate_high_pct", "12", ">= rate_pct"),  # the high end of a rate range
])
def test_facility_row_rules(data_copy, column, value, fragment):
    set_cell(data_copy / "debt_facilities.csv", 7, column, value)
    e = _err(D.load_debt_facilities, data_copy)
    assert (e.line, e.column) == (7, column) and fragment in str(e)


def test_unknown_facility_and_bad_maturity(data_copy):
    set_cell(data_copy / "debt_facilities.csv", 7, "facility", "ddtl_9_9")
    e = _err(D.load_debt_facilities, data_copy)
    assert (e.line, e.column, e.value) == (7, "facility", "ddtl_9_9")
    set_cell(data_copy / "debt_facilities.csv", 7, "facility", "ddtl_1_0")
    set_cell(data_copy / "debt_facilities.csv", 7, "maturity", "March 2028")
    e = _err(D.load_debt_facilities, data_copy)
    assert (e.line, e.column) == (7, "maturity")


def test_unknown_source(data_copy):
    set_cell(data_copy / "debt_facilities.csv", 23, "source", "NOPE")
    e = _err(D.load_debt_facilities, data_copy)
    assert (e.line, e.column, e.value) == (23, "source", "NOPE")


def test_schedule_must_add_up(data_copy):
    set_cell(data_copy / "debt_maturities.csv", 3, "amount_usd_m", "3182.359")  # +10
    e = _err(D.load_debt_maturities, data_copy)
    assert e.line == 7 and e.column == "amount_usd_m" and "sum of the schedule" in str(e)  # the total's line


def test_year_bucket_needs_a_year(data_copy):
    set_cell(data_copy / "debt_maturities.csv", 3, "year", "")
    e = _err(D.load_debt_maturities, data_copy)
    assert (e.line, e.column) == (3, "year")
    set_cell(data_copy / "debt_maturities.csv", 3, "year", "2026")
    set_cell(data_copy / "debt_maturities.csv", 14, "year", "2031")
    e = _err(D.load_debt_maturities, data_copy)
    assert (e.line, e.column) == (14, "year")
