"""The valuation block of section 06: what the price implies (market value, enterprise value,
multiples, and the steady-state operating margin a reverse DCF needs). Not rated: no target price."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .. import fundamentals as F
from .. import funding as FN
from .. import valuation as V
from ..data import load_prices
from ..report import exhibits, fmt
from .base import Section


def _na(x) -> bool:
    return x is None or (not isinstance(x, str) and pd.isna(x))


def _common_balance_date(best: pd.DataFrame):
    """Latest period end with both total debt principal and cash incl. restricted cash."""
    debt = best.loc[best["metric"] == "debt_principal_total", "period_end"]
    cash = best.loc[best["metric"] == "cash_and_restricted_cash", "period_end"]
    both = sorted(set(debt) & set(cash))
    return both[-1] if both else None


def _share_date(sh) -> str:
    """'cover page as of <date>' from a share-count row's note, else its period end."""
    if sh is None:
        return fmt.NA
    m = re.search(r"as of (\d{4}-\d{2}-\d{2})", str(sh["note"]))
    return f"cover page as of {m.group(1)}" if m else fmt.date(sh["date"])


def _guidance(fund: pd.DataFrame, metric: str) -> dict:
    """Latest published full-year guidance range for `metric` ('revenue', ...): {period, low, high,
    published, source, confidence}; NaN when none."""
    rows = fund[fund["metric"].isin([f"{metric}_guidance_low", f"{metric}_guidance_high"])
                & fund["period"].str.startswith("FY") & fund["published"].notna()]
    if rows.empty:
        return {"period": None, "low": np.nan, "high": np.nan, "published": pd.NaT, "source": None, "confidence": None}
    last = rows.sort_values(["period", "published"]).iloc[-1]
    sel = rows[(rows["period"] == last["period"]) & (rows["published"] == last["published"])]
    get = {m.rsplit("_", 1)[-1]: float(v) for m, v in zip(sel["metric"], sel["value"], strict=True)}
    return {"period": last["period"], "low": get.get("low", np.nan), "high": get.get("high", np.nan),
            "published": last["published"], "source": "; ".join(dict.fromkeys(sel["source"])),
            "confidence": FN._min_conf(sel["confidence"])}


def add(sec: Section, *, fund, panel, ratios, reg, ticker, as_of, tax_rate, terminal_growth, conversion_years,
        discount_spreads_pp) -> None:
    best = F.best_figures(fund)
    px = load_prices([ticker], as_of=as_of).dropna(subset=["close"])
    close, close_date = (float(px["close"].iloc[-1]), px["date"].iloc[-1]) if len(px) else (np.nan, pd.NaT)
    shares = FN.share_counts(fund)
    full = shares.dropna(subset=["total"])
    sh = full.iloc[-1] if len(full) else None
    mv = V.market_value(sh["total"] if sh is not None else np.nan, close)
    on = _common_balance_date(best)
    debt = FN.latest_figure(fund, "debt_principal_total", on, best) if on is not None else {"value": np.nan}
    cash = FN.latest_figure(fund, "cash_and_restricted_cash", on, best) if on is not None else {"value": np.nan}
    ev = V.enterprise_value(mv, debt["value"], cash["value"])
    v = panel.values
    lastq = v["revenue"].dropna().index[-1] if v["revenue"].notna().any() else None
    rev_rr = 4 * v.at[lastq, "revenue"] if lastq else np.nan
    eb_q = v["adjusted_ebitda"].dropna().index[-1] if v["adjusted_ebitda"].notna().any() else None
    ebitda_rr = 4 * v.at[eb_q, "adjusted_ebitda"] if eb_q else np.nan
    g_rev, g_aoi = _guidance(fund, "revenue"), _guidance(fund, "adjusted_operating_income")
    bl_q = F.last_quarter(best, "revenue_backlog")
    backlog = F.figure(fund, "revenue_backlog", bl_q, best) if bl_q else {"value": None}
    bl = np.nan if backlog.get("value") is None else backlog["value"]

    def rec(q, m):
        r = panel.record(q, m) if q else {}
        return r.get("source"), r.get("confidence")

    inputs = [
        ("Close", fmt.usd(close), fmt.date(close_date), f"prices:{ticker}", "high"),
        ("Shares, Class A + B + C", fmt.num(sh["total"] / 1e6, 1) + "m" if sh is not None else fmt.NA,
         _share_date(sh),
         sh["sources"] if sh is not None else "", sh["confidence"] if sh is not None else ""),
        ("Market value", fmt.usd_m(mv, 0), "close x shares", "", ""),
        ("Debt, total principal", fmt.usd_m(debt["value"], 0), fmt.date(on), debt.get("source") or "",
         debt.get("confidence") or ""),
        ("Cash incl. restricted cash", fmt.usd_m(cash["value"], 0), fmt.date(on), cash.get("source") or "",
         cash.get("confidence") or ""),
        ("Enterprise value", fmt.usd_m(ev, 0), "market value + debt - cash", "", ""),
        ("Revenue, run-rate", fmt.usd_m(rev_rr, 0), f"{lastq} x 4", *rec(lastq, "revenue")),
        ("Adjusted EBITDA, run-rate", fmt.usd_m(ebitda_rr, 0), f"{eb_q} x 4", *rec(eb_q, "adjusted_ebitda")),
        ("Revenue guidance", f"{fmt.usd_m(g_rev['low'], 0)} to {fmt.usd_m(g_rev['high'], 0)}",
         f"{g_rev['period']}, given {fmt.date(g_rev['published'])}", g_rev["source"] or "", g_rev["confidence"] or ""),
        ("Adjusted operating income guidance", f"{fmt.usd_m(g_aoi['low'], 0)} to {fmt.usd_m(g_aoi['high'], 0)}",
         f"{g_aoi['period']}, given {fmt.date(g_aoi['published'])}", g_aoi["source"] or "", g_aoi["confidence"] or ""),
        ("Revenue backlog", fmt.usd_m(bl, 0), bl_q or fmt.NA, backlog.get("source") or "", backlog.get("confidence") or ""),
    ]
    in_tbl = pd.DataFrame(inputs, columns=["Input", "Value", "Date or period", "Source", "Confidence"])
    sec.table("valuation_inputs", in_tbl)
    sec.value("market_value", mv, "usd_m", "Market value, shares of all classes x close",
              [f"prices:{ticker}", *(str(sh["sources"]).split("; ") if sh is not None else [])],
              period=f"shares {fmt.date(sh['date']) if sh is not None else 'n/a'}, close {fmt.date(close_date)}")
    sec.value("enterprise_value", ev, "usd_m", "Enterprise value (principal debt, cash incl. restricted)",
              [s for s in (debt.get("source"), cash.get("source"), f"prices:{ticker}") if s], period=fmt.date(on))
    mult = [
        ("EV / revenue, run-rate", V.multiple(ev, rev_rr), f"{lastq} x 4"),
        ("EV / revenue, guidance (low)", V.multiple(ev, g_rev["low"]), g_rev["period"]),
        ("EV / revenue, guidance (high)", V.multiple(ev, g_rev["high"]), g_rev["period"]),
        ("EV / adjusted EBITDA, run-rate", V.multiple(ev, ebitda_rr), f"{eb_q} x 4"),
        ("EV / adjusted operating income, guidance (midpoint)",
         V.multiple(ev, (g_aoi["low"] + g_aoi["high"]) / 2), g_aoi["period"]),
        ("EV / revenue backlog", V.multiple(ev, bl), bl_q),
    ]
    mt = pd.DataFrame(mult, columns=["multiple", "value", "denominator_period"])
    sec.table("multiples", mt, {"value": "ratio"})
    for name, key in (("EV / revenue, run-rate", "ev_revenue_run_rate"), ("EV / adjusted EBITDA, run-rate",
                                                                         "ev_ebitda_run_rate"),
                      ("EV / revenue backlog", "ev_backlog")):
        row = mt[mt["multiple"] == name].iloc[0]
        sec.value(key, row["value"], "ratio", name, [f"prices:{ticker}"], period=row["denominator_period"])
    # reverse DCF
    marg = sec.data.get("marginal", {}).get("value", np.nan)
    rates = [marg + s / 100.0 for s in discount_spreads_pp] if not _na(marg) else []
    grid = (V.implied_margin_sensitivity(ev, bl, discount_rates=rates, conversion_years=conversion_years,
                                         tax_rate=tax_rate, terminal_growth=terminal_growth)
            if rates and not _na(bl) else pd.DataFrame(columns=["discount_rate", "conversion_years", "annual_revenue",
                                                                "implied_margin"]))
    sec.table("implied_margin_sensitivity", grid.assign(spread_over_cost_of_debt_pp=[
        round((r - marg) * 100, 6) for r in grid["discount_rate"]]),
        {"discount_rate": "fraction", "annual_revenue": "usd_m", "implied_margin": "fraction",
         "conversion_years": "years", "spread_over_cost_of_debt_pp": "pct_points"})
    mid_years = list(conversion_years)[len(conversion_years) // 2]
    base = grid[(grid["conversion_years"] == mid_years) & np.isclose(grid["discount_rate"], marg)] if len(grid) else grid
    implied = float(base["implied_margin"].iloc[0]) if len(base) else np.nan
    sec.value("implied_operating_margin", implied, "fraction",
              f"Steady-state operating margin the EV implies (discount = marginal cost of debt, backlog over "
              f"{mid_years} years; ASSUMPTIONS)", [f"prices:{ticker}", backlog.get("source") or ""],
              period=f"EV {fmt.date(on)} balance sheet, close {fmt.date(close_date)}, backlog {bl_q}")
    om_q = ratios["operating_margin"].dropna()
    aom_q = ratios["adjusted_operating_margin"].dropna()
    om = (om_q.index[-1], om_q.iloc[-1]) if len(om_q) else (None, np.nan)
    aom = (aom_q.index[-1], aom_q.iloc[-1]) if len(aom_q) else (None, np.nan)
    sec.data.update(valuation={"ev": ev, "market_value": mv, "implied": implied, "grid": grid})
    newer = FN.latest_figure(fund, "debt_recourse_noncurrent", None, best)
    sec.text("valuation_summary", (
        f"Not rated: the note sets no target price. At the {fmt.date(close_date)} close of {fmt.usd(close)}, "
        f"the {fmt.num(sh['total'] / 1e6, 1) if sh is not None else fmt.NA}m shares of all classes counted on the "
        f"latest full cover page are worth {fmt.usd_bn(mv)}; adding debt principal and subtracting cash (incl. "
        f"restricted) at {fmt.date(on)}, the latest date with both, gives an enterprise value of {fmt.usd_bn(ev)}, "
        f"{fmt.ratio(V.multiple(ev, rev_rr), 1)} run-rate revenue ({lastq} x 4) and "
        f"{fmt.ratio(V.multiple(ev, bl), 2)} the {bl_q} backlog. "
        f"Discounting at the {fmt.pct(marg, 1)} cost of new debt and converting the backlog evenly over {mid_years} "
        f"years with no growth after it, the price needs a steady-state operating margin of {fmt.pct(implied, 1)}, "
        f"against {fmt.pct(om[1], 1)} GAAP ({om[0]}) and {fmt.pct(aom[1], 1)} adjusted ({aom[0]}). "
        + (f"Debt has grown since {fmt.date(on)}: the balance sheet at {fmt.date(newer['date'])} carries "
           "recourse and non-recourse debt whose total is not on the same basis (carrying amounts; the cash of that "
           "date is not in the data), so the enterprise value above is a floor. " if not _na(newer["value"])
           and newer["date"] > pd.Timestamp(on) else "")
        + "The capex still needed to deliver the backlog is left out, which also makes the margin a floor."))
    sec.exhibit("valuation_inputs", exhibits.table(
        in_tbl, title=f"Enterprise value {fmt.usd_bn(ev)}: each input with its date",
        source="See the Source column; prices:CRWV = data/prices/CRWV.csv.",
        notes=("Shares: the latest date with all three classes in the data (later counts are approximations without "
               "Class C). Debt and cash at one balance-sheet date. Guidance and backlog as last published.")))
    sec.exhibit("multiples", exhibits.table(
        pd.DataFrame({"Multiple": mt["multiple"], "Value": [fmt.ratio(x, 1) for x in mt["value"]],
                      "Denominator period": mt["denominator_period"].fillna(fmt.NA)}),
        title=f"The enterprise value is {fmt.ratio(V.multiple(ev, rev_rr), 1)} run-rate revenue",
        source="Inputs table above.", notes="n/a: the denominator is missing or not positive."))
    if not len(grid):
        sec.text("implied_margin", "The reverse DCF needs the enterprise value, the backlog and the marginal cost of "
                 "debt; one of them is not in the data at the note's date.")
    else:
        piv = grid.pivot(index="discount_rate", columns="conversion_years", values="implied_margin")
        tbl = pd.DataFrame({"Discount rate": [f"{fmt.pct(r, 1)} (cost of debt {'+' if s >= 0 else ''}{s:g} pp)"
                                              for r, s in zip(piv.index, discount_spreads_pp, strict=True)]})
        for n in piv.columns:
            tbl[f"Backlog over {int(n)} years"] = [fmt.pct(x, 1) for x in piv[n]]
        sec.exhibit("implied_margin", exhibits.table(
            tbl, title=f"The price implies a steady-state operating margin of {fmt.pct(implied, 1)} or more",
            source="Inputs table above; marginal cost of debt from the cost-of-debt table.",
            notes=(f"Reverse DCF: EV = margin x (1 - tax) x PV(revenue). Revenue = backlog / years in each year of "
                   f"conversion, then flat forever (growth {fmt.pct(terminal_growth, 0)}); tax {fmt.pct(tax_rate, 0)}; "
                   "maintenance capex = D&A, so free cash flow = operating income after tax. All of these, the discount "
                   "rates and the conversion years are ASSUMPTIONS (parameters), not data. New bookings beyond the "
                   "backlog are ignored (raises the margin needed); the capex still to be spent on the backlog is "
                   "ignored (lowers it).")))
