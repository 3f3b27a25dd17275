"""What the price implies: market value, enterprise value, multiples and a reverse DCF.

Money in USD millions unless a name says otherwise (`close` in USD per share, share counts in
shares). Every figure carries the date it refers to; the functions never pick dates themselves:
the caller passes the share count, the close, the debt and the cash it chose, and the results say
which. Assumptions of the reverse DCF (discount rate, years over which the backlog converts, tax
rate, growth after the backlog) are arguments, never data. No target price is computed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _isnan(x) -> bool:
    return x is None or (isinstance(x, float | np.floating) and math.isnan(float(x)))


def market_value(shares: float, close: float) -> float:
    """Market value of equity (USD m) = shares (all classes, A + B + C) x close (USD) / 1e6."""
    if _isnan(shares) or _isnan(close):
        return np.nan
    return shares * close / 1e6


def enterprise_value(market_cap: float, debt: float, cash: float) -> float:
    """Enterprise value (USD m) = market value + debt - cash. The caller states which debt
    (principal or carrying amount) and which cash (with or without restricted cash) it passes."""
    if _isnan(market_cap) or _isnan(debt) or _isnan(cash):
        return np.nan
    return market_cap + debt - cash


def multiple(ev: float, denominator: float) -> float:
    """EV / denominator (x); NaN when either is missing or the denominator is not positive (a
    multiple of a loss says nothing)."""
    if _isnan(ev) or _isnan(denominator) or denominator <= 0:
        return np.nan
    return ev / denominator


def backlog_revenue_path(backlog: float, conversion_years: int) -> np.ndarray:
    """Annual revenue (USD m) if `backlog` converts evenly over `conversion_years` years:
    backlog / conversion_years in each year 1..conversion_years (an ASSUMPTION of the caller)."""
    if conversion_years < 1:
        raise ValueError("conversion_years must be >= 1")
    return np.full(int(conversion_years), float(backlog) / int(conversion_years))


def present_value_of_revenue(path, discount_rate: float, terminal_growth: float) -> float:
    """PV (USD m) of revenue `path` (years 1..T) plus a perpetuity after year T that starts at
    path[-1] x (1 + g) and grows at g: sum R_t / (1+r)^t + R_T (1+g) / ((r - g)(1+r)^T).
    NaN when r <= g (no finite value)."""
    r, g = float(discount_rate), float(terminal_growth)
    if r <= g or r <= -1:
        return np.nan
    path = np.asarray(path, dtype=float)
    t = np.arange(1, len(path) + 1)
    explicit = float(np.sum(path / (1 + r) ** t))
    terminal = float(path[-1] * (1 + g) / (r - g) / (1 + r) ** len(path))
    return explicit + terminal


def implied_operating_margin(ev: float, path, *, discount_rate: float, tax_rate: float,
                             terminal_growth: float = 0.0, capex_to_deliver: float = 0.0) -> float:
    """Steady-state operating margin (fraction) at which the discounted after-tax operating income
    equals the enterprise value: solve EV + capex_to_deliver = m (1 - tax) PV(revenue).

    Free cash flow is taken as operating income after tax, i.e. maintenance capex equal to D&A
    and no net investment after the backlog (with terminal_growth > 0 growth is free, which flatters
    the margin needed). `capex_to_deliver` (USD m, present value, ASSUMPTION) is capex still to be
    spent to deliver the backlog; 0 leaves it out, so the result is then a floor. All rates are
    fractions."""
    pv = present_value_of_revenue(path, discount_rate, terminal_growth)
    if _isnan(ev) or _isnan(pv) or pv <= 0 or not (0 <= tax_rate < 1):
        return np.nan
    return (ev + capex_to_deliver) / ((1.0 - tax_rate) * pv)


def implied_margin_sensitivity(ev: float, backlog: float, *, discount_rates, conversion_years, tax_rate: float,
                               terminal_growth: float = 0.0, capex_to_deliver: float = 0.0) -> pd.DataFrame:
    """`implied_operating_margin` over a grid: rows = discount rates (fractions), columns =
    conversion years. Long frame: discount_rate, conversion_years, annual_revenue (USD m, backlog /
    years), implied_margin (fraction)."""
    rows = []
    for r in discount_rates:
        for n in conversion_years:
            path = backlog_revenue_path(backlog, n)
            rows.append({"discount_rate": float(r), "conversion_years": int(n), "annual_revenue": float(path[0]),
                         "implied_margin": implied_operating_margin(ev, path, discount_rate=float(r), tax_rate=tax_rate,
                                                                    terminal_growth=terminal_growth,
                                                                    capex_to_deliver=capex_to_deliver)})
    return pd.DataFrame(rows, columns=["discount_rate", "conversion_years", "annual_revenue", "implied_margin"])
