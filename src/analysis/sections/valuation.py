"""The valuation block of section 06: what the price implies (market value, enterprise value,
multiples, and the steady-state operating margin a reverse DCF needs). Not rated: no target price.

Every input is the newest figure the data hold on the note's date (`analysis.valuation_inputs`),
stated with its date, basis and confidence; the enterprise value is also shown on the other bases
the data allow (the latest full share count, the weighted-average shares, the earlier common
balance-sheet date) so a reader sees how much a stale input moves it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import backlog as BL
from .. import funding as FN
from .. import valuation as V
from .. import valuation_inputs as VI
from ..data import load_prices
from ..precision import ratio_unit, sum_unit
from ..report import exhibits, fmt
from .base import Section


def _na(x) -> bool:
    return x is None or (not isinstance(x, str) and pd.isna(x))


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


def _backlog(fund: pd.DataFrame) -> dict:
    """Latest company-defined revenue backlog with its precision: {quarter, value, unit, source, confidence}."""
    bp = BL.backlog_panel(fund)
    rb = bp[bp["metric"] == "revenue_backlog"].sort_values("period_end")
    if rb.empty:
        return {"quarter": None, "value": np.nan, "unit": 0.0, "source": None, "confidence": None}
    r = rb.iloc[-1]
    return {"quarter": r["quarter"], "value": float(r["value"]), "unit": float(r["rounding_unit"]),
            "source": r["source"], "confidence": r["confidence"]}


# --------------------------------------------------------------------------- words for figures
def _shares(fig, unit=None) -> str:
    """480.0m / about 550m."""
    if fig is None:
        return fmt.NA
    u = fig["unit"] if unit is None else unit
    return fmt.about(fig["value"] / 1e6, u / 1e6, "num", 1) + "m"


def _ge(text: str, bound: str) -> str:
    """A table cell resting on a lower-bound share count: '≥ about $75bn'."""
    return f"≥ {text}" if bound == "lower bound" and text != fmt.NA else text


#: an operating margin cannot exceed this: revenue less all costs is at most revenue
MAX_MARGIN = 1.0
UNATTAINABLE = "unattainable"


def _margin_cell(x, unit, bound) -> str:
    """An implied margin for a table cell, flagged when no attainable margin reaches it."""
    cell = _ge(fmt.about(x, unit, "pct", 1), bound)
    return f"{cell} ({UNATTAINABLE})" if not _na(x) and x > MAX_MARGIN else cell


def _count(x) -> str:
    """Shares in millions for prose: 0 -> '0', 118,102,040 -> '118.1m'."""
    return fmt.NA if _na(x) else ("0" if x == 0 else f"{fmt.num(x / 1e6, 1)}m")


def _missing_classes(fig) -> str:
    """'Class C is not given at that date (0 at 2025-05-07 [10Q_25Q1])'."""
    parts = []
    for m in fig.get("missing", []):
        c = VI.SHARE_CLASSES[m["class"]]
        last = (f"{_count(m['value'])} at {fmt.date(m['date'])} [{m['sources']}]" if not _na(m["value"])
                else "never given in the data")
        parts.append(f"Class {c} is not given at that date ({last})")
    return "; ".join(parts)


def _share_phrase(fig) -> str:
    """How the note names a share basis in prose (a full clause)."""
    if fig is None:
        return "no share count is in the data"
    if fig["kind"] == "average":
        return (f"{_shares(fig)}, the weighted-average basic shares of all classes in {fig['period']} "
                f"[{fig['sources']}; {fig['confidence']} confidence; an average over the quarter, not a count at a date]")
    quality = ", ".join(x for x in (f"{fig['confidence']} confidence",
                                    "approximations in the source" if fig["approximate"] else "",
                                    "publication date not verified" if fig["undated"] else "") if x)
    s = (f"{_shares(fig)} {VI.classes_text(VI.classes_of(fig))} shares counted at {fmt.date(fig['date'])} "
         f"[{fig['sources']}; {quality}]")
    if fig["bound"] == "lower bound":
        s += (f". {_missing_classes(fig)}, so this count, and the market and enterprise values built on it, are "
              "lower bounds")
    return s


def _debt_cash_phrase(debt, cash) -> str:
    if debt is None or cash is None:
        return "debt or cash not in the data"
    if debt["date"] == cash["date"]:
        return (f"debt at its {debt['basis']} of {fmt.usd_bn(debt['value'])} and {cash['basis']} of "
                f"{fmt.usd_bn(cash['value'])}, both at {fmt.date(debt['date'])}")
    return (f"debt at its {debt['basis']} of {fmt.usd_bn(debt['value'])} at {fmt.date(debt['date'])} and "
            f"{cash['basis']} of {fmt.usd_bn(cash['value'])} at {fmt.date(cash['date'])}")


#: short basis names for table cells
_SHORT = {"principal": "principal", "carrying amount": "carrying", "cash and cash equivalents": "cash",
          "cash incl. restricted cash": "cash incl. restricted"}


def _basis_cell(fig) -> str:
    if fig is None:
        return fmt.NA
    if fig["kind"] == "average":
        return f"{_shares(fig)}, {fig['period']} average ({fig['confidence']})"
    letters = " + ".join(VI.SHARE_CLASSES[c] for c in VI.classes_of(fig))
    return (f"{_shares(fig)} {letters}, {fmt.date(fig['date'])} "
            f"({'lower bound; ' if fig['bound'] == 'lower bound' else ''}{fig['confidence']})")


def _balance_cell(debt, cash) -> str:
    if debt is None or cash is None:
        return fmt.NA
    when = (fmt.date(debt["date"]) if debt["date"] == cash["date"]
            else f"{fmt.date(debt['date'])} and {fmt.date(cash['date'])}")
    return (f"{fmt.usd_m(debt['value'], 0)} {_SHORT.get(debt['basis'], debt['basis'])} - "
            f"{fmt.usd_m(cash['value'], 0)} {_SHORT.get(cash['basis'], cash['basis'])}, {when}")


# --------------------------------------------------------------------------- computation
def _value(close, shares, debt, cash, denominators, backlog, marg, mid_years, tax_rate, terminal_growth) -> dict:
    """Market value, EV and its ratios on one basis, each with its rounding unit and bound."""
    sv = shares["value"] if shares else np.nan
    mv = V.market_value(sv, close)
    mv_u = ratio_unit(mv, (sv, shares["unit"] if shares else 0.0))
    ev = V.enterprise_value(mv, debt["value"] if debt else np.nan, cash["value"] if cash else np.nan)
    ev_u = sum_unit(mv_u, debt["unit"] if debt else 0.0, cash["unit"] if cash else 0.0)
    mult = {k: V.multiple(ev, d) for k, d in denominators.items()}
    path = (V.backlog_revenue_path(backlog["value"], mid_years)
            if not _na(backlog["value"]) and mid_years else None)
    implied = (V.implied_operating_margin(ev, path, discount_rate=marg, tax_rate=tax_rate,
                                          terminal_growth=terminal_growth)
               if path is not None and not _na(marg) else np.nan)
    return {"market_value": mv, "market_value_unit": mv_u, "enterprise_value": ev, "enterprise_value_unit": ev_u,
            "multiples": mult, "multiple_units": {k: ratio_unit(x, (ev, ev_u)) for k, x in mult.items()},
            "implied": implied,
            "implied_unit": ratio_unit(implied, (ev, ev_u), (backlog["value"], backlog["unit"])),
            "bound": shares["bound"] if shares else None}


EARLIER_LABEL = "Earlier basis: full count, earlier balance sheet"


def _bases(shares: dict, bal: dict) -> list[tuple[str, dict, dict]]:
    """(label, share figure, {'debt', 'cash'}) for each basis shown, headline first; the same
    inputs are never listed twice."""
    new_s, new_b, old_b = shares["newest"], bal["newest"], bal["earlier"]
    same_bal = old_b is not None and all(VI.same_figure(new_b[k], old_b[k]) for k in ("debt", "cash"))
    out = [("Newest of each input", new_s, new_b)]
    if old_b is not None and not same_bal:
        out.append((EARLIER_LABEL if VI.same_figure(shares["complete"], new_s) else "Newest shares, earlier balance sheet",
                    new_s, old_b))
    alt = [("complete", "Full count"), ("average", "Weighted average")]
    for key, label in alt:
        fig = shares[key]
        if fig is None or VI.same_figure(fig, new_s) or any(VI.same_figure(fig, b[1]) for b in out[1:]):
            continue
        out.append((f"{label}, newest balance sheet", fig, new_b))
        if key == "complete" and old_b is not None and not same_bal:
            out.append((EARLIER_LABEL, fig, old_b))
    return out


def add(sec: Section, *, fund, panel, ratios, reg, ticker, as_of, tax_rate, terminal_growth, conversion_years,
        discount_spreads_pp) -> None:
    px = load_prices([ticker], as_of=as_of).dropna(subset=["close"])
    close, close_date = (float(px["close"].iloc[-1]), px["date"].iloc[-1]) if len(px) else (np.nan, pd.NaT)
    shares = VI.share_bases(fund)
    bal = VI.balance_bases(fund)
    sh, debt, cash = shares["newest"], bal["newest"]["debt"], bal["newest"]["cash"]
    v = panel.values
    lastq = v["revenue"].dropna().index[-1] if v["revenue"].notna().any() else None
    rev_rr = 4 * v.at[lastq, "revenue"] if lastq else np.nan
    eb_q = v["adjusted_ebitda"].dropna().index[-1] if v["adjusted_ebitda"].notna().any() else None
    ebitda_rr = 4 * v.at[eb_q, "adjusted_ebitda"] if eb_q else np.nan
    g_rev, g_aoi = _guidance(fund, "revenue"), _guidance(fund, "adjusted_operating_income")
    bl = _backlog(fund)
    marg = sec.data.get("marginal", {}).get("value", np.nan)
    mid_years = list(conversion_years)[len(conversion_years) // 2] if len(conversion_years) else None
    denominators = {"revenue_run_rate": rev_rr, "revenue_guidance_low": g_rev["low"],
                    "revenue_guidance_high": g_rev["high"], "ebitda_run_rate": ebitda_rr,
                    "aoi_guidance_mid": (g_aoi["low"] + g_aoi["high"]) / 2, "backlog": bl["value"]}
    calc = lambda s, b: _value(close, s, b["debt"], b["cash"], denominators, bl, marg, mid_years,  # noqa: E731
                               tax_rate, terminal_growth)
    bases = _bases(shares, bal)
    results = [(label, s, b, calc(s, b)) for label, s, b in bases]
    head = results[0][3]
    earlier = next((r for r in results if r[0] == EARLIER_LABEL), None)
    mv, ev, bound = head["market_value"], head["enterprise_value"], head["bound"]
    about = lambda x, u, style="usd_bn", d=1: _ge(fmt.about(x, u, style, d), bound)  # noqa: E731
    words = lambda x, u, style="usd_bn", d=1: (("at least " if bound == "lower bound" else "")  # noqa: E731
                                               + fmt.about(x, u, style, d))

    def rec(q, m):
        r = panel.record(q, m) if q else {}
        return r.get("source"), r.get("confidence")

    def date_cell(fig, text):
        return text + (" (publication date not verified)" if fig and fig["undated"] else "")

    # ---- inputs table: the headline basis, each input with its date, basis and confidence
    inputs = [("Close", fmt.usd(close), fmt.date(close_date), f"prices:{ticker}", "high")]
    if sh is not None:
        label = ("Shares, weighted average of the quarter (all classes)" if sh["kind"] == "average" else
                 f"Shares, {VI.classes_text(VI.classes_of(sh))}" + (" (lower bound)" if sh["bound"] == "lower bound"
                                                                    else ""))
        when = f"{sh['period']} average" if sh["kind"] == "average" else f"count at {fmt.date(sh['date'])}"
        inputs.append((label, _shares(sh), date_cell(sh, when), sh["sources"], sh["confidence"]))
        for m in sh["missing"]:
            inputs.append((f"Class {VI.SHARE_CLASSES[m['class']]}, not given at {fmt.date(sh['date'])}; latest",
                           _count(m["value"]),
                           f"count at {fmt.date(m['date'])}", m["sources"] or "", m["confidence"] or ""))
    else:
        inputs.append(("Shares", fmt.NA, "no share count in the data", "", ""))
    inputs.append(("Market value", about(mv, head["market_value_unit"]), "close x shares", "", ""))
    for name, fig in (("Debt", debt), ("Cash", cash)):
        if fig is None:
            inputs.append((name, fmt.NA, "not in the data", "", ""))
            continue
        inputs.append((f"{name}, {fig['basis']}" if name == "Debt" else fig["basis"].capitalize(),
                       fmt.usd_m(fig["value"], 0),
                       date_cell(fig, fmt.date(fig["date"]) + (" (derived: sum of components)" if fig["derived"] else "")),
                       fig["sources"], fig["confidence"]))
    inputs += [
        ("Enterprise value", about(ev, head["enterprise_value_unit"]), "market value + debt - cash", "", ""),
        ("Revenue, run-rate", fmt.usd_m(rev_rr, 0), f"{lastq} x 4", *rec(lastq, "revenue")),
        ("Adjusted EBITDA, run-rate", fmt.usd_m(ebitda_rr, 0), f"{eb_q} x 4", *rec(eb_q, "adjusted_ebitda")),
        ("Revenue guidance", f"{fmt.usd_m(g_rev['low'], 0)} to {fmt.usd_m(g_rev['high'], 0)}",
         f"{g_rev['period']}, given {fmt.date(g_rev['published'])}", g_rev["source"] or "", g_rev["confidence"] or ""),
        ("Adjusted operating income guidance", f"{fmt.usd_m(g_aoi['low'], 0)} to {fmt.usd_m(g_aoi['high'], 0)}",
         f"{g_aoi['period']}, given {fmt.date(g_aoi['published'])}", g_aoi["source"] or "", g_aoi["confidence"] or ""),
        ("Revenue backlog", fmt.about(bl["value"], bl["unit"], "usd_m", 0), bl["quarter"] or fmt.NA, bl["source"] or "",
         bl["confidence"] or ""),
    ]
    in_tbl = pd.DataFrame(inputs, columns=["Input", "Value", "Date or period", "Source", "Confidence"])
    sec.table("valuation_inputs", in_tbl)

    # ---- results values
    share_src = (sh["sources"].split("; ") if sh else [])
    bal_src = [s for f in (debt, cash) if f for s in f["sources"].split("; ")]
    sec.value("shares_used", sh["value"] if sh else np.nan, "count",
              f"Shares behind the market value: {sh['basis'] if sh else 'none'} ({sh['bound'] if sh else 'n/a'})",
              share_src, period=fmt.date(sh["date"]) if sh else None)
    sec.value("market_value", mv, "usd_m", "Market value: newest share figure x close"
              + (" (lower bound: a class is missing)" if bound == "lower bound" else ""),
              [f"prices:{ticker}", *share_src],
              period=f"shares {sh['basis'] if sh else 'n/a'}, close {fmt.date(close_date)}")
    sec.value("enterprise_value", ev, "usd_m",
              f"Enterprise value on the newest inputs (debt {debt['basis'] if debt else 'n/a'}, "
              f"{cash['basis'] if cash else 'cash n/a'})" + (" (lower bound)" if bound == "lower bound" else ""),
              [f"prices:{ticker}", *share_src, *bal_src],
              period=(f"close {fmt.date(close_date)}; shares {fmt.date(sh['date']) if sh else 'n/a'}; debt "
                      f"{fmt.date(debt['date']) if debt else 'n/a'}; cash {fmt.date(cash['date']) if cash else 'n/a'}"))
    if earlier is not None:
        e = earlier[3]
        sec.value("enterprise_value_earlier_basis", e["enterprise_value"], "usd_m",
                  "Enterprise value on the earlier basis (latest full share count; principal and cash incl. restricted "
                  "at the latest date with both)",
                  [f"prices:{ticker}", *earlier[1]["sources"].split("; "),
                   *(s for f in earlier[2].values() for s in f["sources"].split("; "))],
                  period=f"shares {fmt.date(earlier[1]['date'])}; balance sheet {fmt.date(earlier[2]['debt']['date'])}")
        sec.value("implied_operating_margin_earlier_basis", e["implied"], "fraction",
                  "Implied steady-state operating margin on the earlier-basis EV (same ASSUMPTIONS)",
                  [f"prices:{ticker}", bl["source"] or ""], period=f"balance sheet {fmt.date(earlier[2]['debt']['date'])}")
    ev_rows = []
    for label, s, b, r in results:
        ev_rows.append({"basis": label, "shares": s["value"] if s else np.nan, "shares_basis": s["basis"] if s else None,
                        "shares_date": fmt.date(s["date"]) if s else None, "shares_bound": s["bound"] if s else None,
                        "debt": b["debt"]["value"] if b["debt"] else np.nan,
                        "debt_basis": b["debt"]["basis"] if b["debt"] else None,
                        "debt_date": fmt.date(b["debt"]["date"]) if b["debt"] else None,
                        "cash": b["cash"]["value"] if b["cash"] else np.nan,
                        "cash_basis": b["cash"]["basis"] if b["cash"] else None,
                        "cash_date": fmt.date(b["cash"]["date"]) if b["cash"] else None,
                        "market_value": r["market_value"], "enterprise_value": r["enterprise_value"],
                        "ev_revenue_run_rate": r["multiples"]["revenue_run_rate"], "implied_margin": r["implied"],
                        "sources": "; ".join(dict.fromkeys(
                            [*(s["sources"].split("; ") if s else []),
                             *(x for f in b.values() if f for x in f["sources"].split("; "))]))})
    ev_tbl = pd.DataFrame(ev_rows)
    sec.table("enterprise_value_bases", ev_tbl,
              {"shares": "count", "debt": "usd_m", "cash": "usd_m", "market_value": "usd_m",
               "enterprise_value": "usd_m", "ev_revenue_run_rate": "ratio", "implied_margin": "fraction"})

    mult = [
        ("EV / revenue, run-rate", "revenue_run_rate", f"{lastq} x 4"),
        ("EV / revenue, guidance (low)", "revenue_guidance_low", g_rev["period"]),
        ("EV / revenue, guidance (high)", "revenue_guidance_high", g_rev["period"]),
        ("EV / adjusted EBITDA, run-rate", "ebitda_run_rate", f"{eb_q} x 4"),
        ("EV / adjusted operating income, guidance (midpoint)", "aoi_guidance_mid", g_aoi["period"]),
        ("EV / revenue backlog", "backlog", bl["quarter"]),
    ]
    mt = pd.DataFrame([(name, head["multiples"][k], earlier[3]["multiples"][k] if earlier else np.nan, per)
                       for name, k, per in mult],
                      columns=["multiple", "value", "value_earlier_basis", "denominator_period"])
    sec.table("multiples", mt, {"value": "ratio", "value_earlier_basis": "ratio"})
    for name, key in (("EV / revenue, run-rate", "ev_revenue_run_rate"),
                      ("EV / adjusted EBITDA, run-rate", "ev_ebitda_run_rate"), ("EV / revenue backlog", "ev_backlog")):
        row = mt[mt["multiple"] == name].iloc[0]
        sec.value(key, row["value"], "ratio", f"{name} (newest inputs)", [f"prices:{ticker}", *share_src, *bal_src],
                  period=row["denominator_period"])

    # ---- reverse DCF on the headline EV
    rates = [marg + s / 100.0 for s in discount_spreads_pp] if not _na(marg) else []
    grid = (V.implied_margin_sensitivity(ev, bl["value"], discount_rates=rates, conversion_years=conversion_years,
                                         tax_rate=tax_rate, terminal_growth=terminal_growth)
            if rates and not _na(bl["value"]) and not _na(ev)
            else pd.DataFrame(columns=["discount_rate", "conversion_years", "annual_revenue", "implied_margin"]))
    sec.table("implied_margin_sensitivity", grid.assign(spread_over_cost_of_debt_pp=[
        round((r - marg) * 100, 6) for r in grid["discount_rate"]]),
        {"discount_rate": "fraction", "annual_revenue": "usd_m", "implied_margin": "fraction",
         "conversion_years": "years", "spread_over_cost_of_debt_pp": "pct_points"})
    implied, implied_u = head["implied"], head["implied_unit"]
    sec.value("implied_operating_margin", implied, "fraction",
              f"Steady-state operating margin the EV on the newest inputs implies (discount = marginal cost of debt, "
              f"backlog over {mid_years} years; ASSUMPTIONS)", [f"prices:{ticker}", bl["source"] or "", *share_src,
                                                               *bal_src],
              period=(f"close {fmt.date(close_date)}; debt {fmt.date(debt['date']) if debt else 'n/a'}; "
                      f"backlog {bl['quarter']}"))
    om_q = ratios["operating_margin"].dropna()
    aom_q = ratios["adjusted_operating_margin"].dropna()
    om = (om_q.index[-1], om_q.iloc[-1]) if len(om_q) else (None, np.nan)
    aom = (aom_q.index[-1], aom_q.iloc[-1]) if len(aom_q) else (None, np.nan)
    sec.data.update(valuation={"ev": ev, "market_value": mv, "implied": implied, "grid": grid, "bases": results,
                               "shares": shares, "balance": bal})

    # ---- prose
    mu = head["multiple_units"]
    ev_rr = fmt.about(head["multiples"]["revenue_run_rate"], mu["revenue_run_rate"], "ratio", 1)
    ev_bl = fmt.about(head["multiples"]["backlog"], mu["backlog"], "ratio", 2)
    lb = " (a lower bound)" if bound == "lower bound" else ""
    txt = [f"Not rated: the note sets no target price. At the {fmt.date(close_date)} close of {fmt.usd(close)}, "
           f"the newest share figure in the data gives a market value of {fmt.about(mv, head['market_value_unit'], 'usd_bn')}"
           f"{lb}: {_share_phrase(sh)}. "
           f"With {_debt_cash_phrase(debt, cash)} (the newest figure of each), the enterprise value is "
           f"{fmt.about(ev, head['enterprise_value_unit'], 'usd_bn')}{lb}: {ev_rr} run-rate revenue ({lastq} x 4) "
           f"and {ev_bl} the {bl['quarter']} backlog."]
    if earlier is not None:
        e, es, eb = earlier[3], earlier[1], earlier[2]
        full_new = next((r[3] for r in results if r[1] is es and r[2] is bal["newest"]), None)
        bal_effect = full_new["enterprise_value"] - e["enterprise_value"] if full_new else np.nan
        share_effect = ev - full_new["enterprise_value"] if full_new else np.nan
        carrying_then = VI.balance_figure(fund, "debt_carrying_total", "carrying amount", eb["debt"]["date"])
        basis_gap = (f" (at {fmt.date(eb['debt']['date'])} principal and carrying amount differ by only "
                     f"{fmt.usd_bn(eb['debt']['value'] - carrying_then['value'])}: the change is the debt raised, "
                     "not the basis)" if carrying_then is not None and debt and debt["basis"] != eb["debt"]["basis"]
                     else "")
        txt.append(
            f"On the earlier basis ({fmt.num(es['value'] / 1e6, 1)}m shares of all classes counted at "
            f"{fmt.date(es['date'])}, {_debt_cash_phrase(eb['debt'], eb['cash'])}) the enterprise value is "
            f"{fmt.usd_bn(e['enterprise_value'])} ({fmt.ratio(e['multiples']['revenue_run_rate'], 1)} run-rate "
            f"revenue): the newer balance sheet adds {fmt.usd_bn(bal_effect)}{basis_gap}, and the newer share "
            f"figure {fmt.about(share_effect, head['enterprise_value_unit'], 'usd_bn')}.")
    txt.append(
        f"Discounting at the {fmt.pct(marg, 1)} cost of new debt and converting the {bl['quarter']} backlog evenly "
        f"over {mid_years} years with no growth after it, the enterprise value on the newest inputs needs a "
        f"steady-state operating margin of {fmt.about(implied, implied_u, 'pct', 1)}"
        + (" or more" if bound == "lower bound" else "")
        + (" (above 100%, which no business earns: on these inputs no attainable margin justifies the price)"
           if not _na(implied) and implied > MAX_MARGIN else "")
        + (f" ({fmt.about(earlier[3]['implied'], earlier[3]['implied_unit'], 'pct', 1)} on the earlier basis)"
           if earlier is not None else "")
        + f", against {fmt.pct(om[1], 1)} GAAP ({om[0]}) and {fmt.pct(aom[1], 1)} adjusted ({aom[0]}). "
        "The capex still needed to deliver the backlog is left out, which also makes the margin a floor.")
    sec.text("valuation_summary", " ".join(txt))

    # ---- exhibits
    ids = [f"prices:{ticker}"] + [s for x in in_tbl["Source"] if isinstance(x, str)
                                  for s in x.replace(";", " ").split() if not s.startswith("prices:")]
    src_line = exhibits.sources_line([*dict.fromkeys(i for i in ids if not i.startswith("prices:")), f"prices:{ticker}"], reg)
    sec.exhibit("valuation_inputs", exhibits.table(
        in_tbl.assign(Source=in_tbl["Source"].map(lambda x: exhibits.source_cell(x) if isinstance(x, str) else x)),
        title=f"Enterprise value {words(ev, head['enterprise_value_unit'])}: each input with its date",
        source=f"{src_line}.",
        notes=("Each input is the newest figure in the data on the note's date, with the date it refers to. "
               "Shares: cover-page counts by class, or the weighted-average basic shares of a quarter (an average, "
               "not a count at a date); a count missing a class is a lower bound and the latest figure for that "
               "class is shown on the next line, not added in. Debt: principal where the newest balance sheet gives "
               "it, else the carrying amount (net of discount and issuance costs). Cash: cash and cash equivalents "
               "where given (restricted cash partly secures the delayed-draw loans), else incl. restricted cash. "
               "Guidance and backlog as last published.")))
    sec.exhibit("enterprise_value_bases", exhibits.table(
        pd.DataFrame({"Basis": [r[0] for r in results],
                      "Shares": [_basis_cell(r[1]) for r in results],
                      "Debt - cash": [_balance_cell(r[2]["debt"], r[2]["cash"]) for r in results],
                      "Enterprise value": [_ge(fmt.about(r[3]["enterprise_value"], r[3]["enterprise_value_unit"],
                                                         "usd_bn"), r[3]["bound"]) for r in results],
                      "EV / run-rate revenue": [_ge(fmt.about(r[3]["multiples"]["revenue_run_rate"],
                                                              r[3]["multiple_units"]["revenue_run_rate"], "ratio", 1),
                                                    r[3]["bound"]) for r in results],
                      "Implied margin": [_margin_cell(r[3]["implied"], r[3]["implied_unit"], r[3]["bound"])
                                         for r in results]}),
        title=(f"The enterprise value is {words(ev, head['enterprise_value_unit'])} on the newest inputs"
               + (f", against {fmt.usd_bn(earlier[3]['enterprise_value'])} on the earlier basis"
                  if earlier is not None else "")),
        source="Inputs table above; " + exhibits.sources_line(
            list(dict.fromkeys(s for x in ev_tbl["sources"] for s in x.split("; ") if not s.startswith("prices:"))),
            reg) + ".",
        notes=(f"Close {fmt.usd(close)} on {fmt.date(close_date)} on every row. Run-rate revenue {lastq} x 4. Implied "
               f"margin: the reverse DCF below at its middle cell (discount = cost of new debt, backlog over "
               f"{mid_years} years; ASSUMPTIONS). "
               + ("≥: a lower bound (the share count lacks a class). " if any(r[3]["bound"] == "lower bound"
                                                                               for r in results) else "")
               + "Cash = cash and cash equivalents. Earlier basis: the latest share count that gives all three classes, "
               "with debt principal and cash incl. restricted cash at the latest balance-sheet date that has both "
               "(one common date).")))
    digits = {"backlog": 2}
    eu = earlier[3]["multiple_units"] if earlier is not None else {}
    mt_tbl = pd.DataFrame({
        "Multiple": mt["multiple"],
        "Newest inputs": [_ge(fmt.about(x, mu[k], "ratio", digits.get(k, 1)), bound)
                          for x, (_, k, _) in zip(mt["value"], mult, strict=True)],
        "Earlier basis": [fmt.about(x, eu.get(k, 0.0), "ratio", digits.get(k, 1))
                          for x, (_, k, _) in zip(mt["value_earlier_basis"], mult, strict=True)],
        "Denominator period": mt["denominator_period"].fillna(fmt.NA)})
    if earlier is None:
        mt_tbl = mt_tbl.drop(columns="Earlier basis")
    sec.exhibit("multiples", exhibits.table(
        mt_tbl, title=(f"The enterprise value is {'at least ' if bound == 'lower bound' else ''}{ev_rr} run-rate "
                      f"revenue ({lastq} x 4)"),
        source="Inputs table above.",
        notes="n/a: the denominator is missing or not positive. Newest inputs and earlier basis as in the table above."))
    if not len(grid):
        sec.text("implied_margin", "The reverse DCF needs the enterprise value, the backlog and the marginal cost of "
                 "debt; one of them is not in the data at the note's date.")
    else:
        piv = grid.pivot(index="discount_rate", columns="conversion_years", values="implied_margin")
        tbl = pd.DataFrame({"Discount rate": [f"{fmt.pct(r, 1)} (cost of debt {'+' if s >= 0 else ''}{s:g} pp)"
                                              for r, s in zip(piv.index, discount_spreads_pp, strict=True)]})
        for n in piv.columns:
            tbl[f"Backlog over {int(n)} years"] = [
                _margin_cell(x, ratio_unit(x, (ev, head["enterprise_value_unit"]), (bl["value"], bl["unit"])), bound)
                for x in piv[n]]
        over = grid[grid["implied_margin"] > MAX_MARGIN]
        sec.exhibit("implied_margin", exhibits.table(
            tbl, title=(f"The price implies a steady-state operating margin of "
                        f"{fmt.about(implied, implied_u, 'pct', 1)} or more"),
            source="Inputs table above; marginal cost of debt from the cost-of-debt table.",
            notes=(f"Reverse DCF on the enterprise value of the newest inputs ({words(ev, head['enterprise_value_unit'])}"
                   f"; the table above gives the middle cell on the other bases): EV = margin x (1 - tax) x PV(revenue). "
                   f"Revenue = backlog / years in each year of conversion, then flat forever (growth "
                   f"{fmt.pct(terminal_growth, 0)}); tax {fmt.pct(tax_rate, 0)}; maintenance capex = D&A, so free cash "
                   "flow = operating income after tax. All of these, the discount rates and the conversion years are "
                   "ASSUMPTIONS (parameters), not data. New bookings beyond the backlog are ignored (raises the margin "
                   "needed); the capex still to be spent on the backlog is ignored (lowers it)."
                   + (f" {len(over)} of {len(grid)} cells {'needs' if len(over) == 1 else 'need'} a margin above 100% "
                      "(marked unattainable): no business earns more than its revenue, so on those inputs no attainable "
                      "margin justifies the price." if len(over) else ""))))
