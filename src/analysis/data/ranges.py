"""Plausible ranges of every number in the raw data: the one table of domain checks.

A figure outside its range is refused (`DataValidationError` with file, line, column, value
and the range with its reason). The bounds come from what a figure means, not from today's
values: money that cannot be negative (revenue, capex, debt, backlog), percentages of a whole
(0..100), prices (> 0), and an upper bound far above any real company so that only a unit slip
(a figure typed in USD or thousands instead of USD millions) or a corrupt value reaches it.

`METRIC_RANGES` is also the list of the metrics fundamentals.csv knows: `schema.METRIC_UNITS`
(metric -> unit) is read from it, so a new metric is added here, once, with one of the kinds
(or a new `Range` with its reason and unit).

A figure inside its range that jumps against its neighbours (a flow 5x, a balance 10x the
adjacent quarters; a close 3x both the day before and after) is only a warning: see
`rules.quarter_jumps` and `rules.price_spikes`. Flows, which a decimal slip moves 10x, use the
lower factor; balances such as a revolver's drawn amount legitimately move more.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    """Closed interval [lo, hi] (None = unbounded; `lo_open`: lo itself excluded), in `unit`.

    `jump`: a quarterly figure this many times above (or below 1/jump of) every adjacent
    quarter is flagged as a warning (`rules.quarter_jumps`); only for figures that cannot be
    negative."""

    lo: float | None
    hi: float | None
    unit: str
    why: str
    lo_open: bool = False
    jump: float = 10.0

    def problem(self, x: float) -> str | None:
        """None when `x` is inside the range, else the expectation for the error message."""
        if self.lo is not None and (x <= self.lo if self.lo_open else x < self.lo):
            bound = ("a positive number" if self.lo == 0 else f"a number > {self.lo:g}") if self.lo_open \
                else f"a number >= {self.lo:g}"
        elif self.hi is not None and x > self.hi:
            bound = f"a number <= {self.hi:g}"
        else:
            return None
        return f"{bound} ({self.text()})"

    def text(self) -> str:
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        brackets = ("(" if self.lo_open else "[") + f"{lo}, {hi}]"
        return f"{self.unit} within {brackets}: {self.why}"


# ---- kinds of figures -------------------------------------------------------------------------
TRILLION = 1e6  # USD millions
_SLIP = "beyond it is a unit slip (USD or thousands instead of USD millions) or a corrupt value"

FLOW = Range(0, TRILLION, "usd_m",
             "an amount for one period that cannot be negative, below $1 trillion (more than any "
             "company has reported in a year); " + _SLIP, jump=5.0)
SIGNED_FLOW = Range(-TRILLION, TRILLION, "usd_m",
                    "a signed amount for one period (a profit or a loss) within +-$1 trillion; " + _SLIP)
BALANCE = Range(0, 10 * TRILLION, "usd_m",
                "a balance, debt or backlog, which cannot be negative, below $10 trillion (more than "
                "the assets of any non-bank company); " + _SLIP)
SHARE_PCT = Range(0, 100, "pct", "a part of a whole, in percent")
MARGIN_PCT = Range(-10_000, 100, "pct",
                   "a margin in percent: profit cannot exceed revenue (<= 100); a loss beyond 100x "
                   "revenue (-10,000) is a unit or sign slip")
POWER_MW = Range(0, 100_000, "mw",
                 "data-centre power in megawatts: not negative; 100 GW is more than all US data "
                 "centres draw")
SHARES = Range(0, 1e11, "count",
               "a number of shares: not negative; 100 billion is more than any listed company has")
USEFUL_LIFE = Range(1, 15, "years",
                    "the depreciation life of computing equipment: 1 to 15 years")
DELAY_DAYS = Range(0, 3650, "days", "a delivery delay in days: not negative, under ten years")
RATE_PCT = Range(0, 100, "pct", "an interest rate in percent a year: not negative, below 100")
PRICE = Range(0, 1e6, "usd",
              "a share price in USD: positive; $1 million a share is above any listed share",
              lo_open=True)

# ---- fundamentals.csv: metric -> range; the metrics and units of schema.METRIC_UNITS -----------
METRIC_RANGES: dict[str, Range] = {
    **{m: FLOW for m in (
        "revenue", "cost_of_revenue", "technology_and_infrastructure", "sales_and_marketing",
        "general_and_administrative", "operating_expenses_total", "revenue_us",
        "interest_expense_debt_total", "capitalized_interest", "cash_interest_paid_net",
        "depreciation_and_amortization", "capex_cash", "capex_company", "capex_noncash_oem_reduction",
        "revenue_guidance_low", "revenue_guidance_high", "interest_expense_guidance_low",
        "interest_expense_guidance_high", "capex_guidance_low", "capex_guidance_high",
    )},
    # signed: profits and cash flows; interest_expense is net of interest income (data/README.md:
    # positive when an expense); stock-based compensation turns negative when forfeitures are reversed
    **{m: SIGNED_FLOW for m in (
        "operating_income", "adjusted_operating_income", "adjusted_ebitda", "adjusted_net_income",
        "net_income", "operating_cash_flow", "investing_cash_flow", "interest_expense",
        "stock_based_compensation", "adjusted_operating_income_guidance_low",
        "adjusted_operating_income_guidance_high",
    )},
    **{m: BALANCE for m in (
        "cash_and_equivalents", "cash_restricted_and_securities", "cash_and_restricted_cash",
        "restricted_cash_current", "restricted_cash_noncurrent", "marketable_securities",
        "construction_in_progress", "debt_current", "debt_noncurrent", "debt_total_net",
        "debt_principal_total", "debt_total", "debt_total_indebtedness", "debt_ddtl_1_0",
        "debt_ddtl_2_0", "debt_senior_notes_2030", "debt_term_loan_2024", "debt_revolver",
        "debt_oem_financing", "debt_magnetar_loan", "debt_recourse_current",
        "debt_recourse_noncurrent", "debt_nonrecourse_current", "debt_nonrecourse_noncurrent",
        "senior_notes_2030_fair_value", "senior_notes_2031_fair_value", "undrawn_debt_availability",
        "rpo_total", "revenue_backlog",
    )},
    **{m: SHARE_PCT for m in (
        "rpo_within_24m_pct", "rpo_months_25_48_pct", "revenue_backlog_within_24m_pct",
        "revenue_backlog_within_48m_pct", "committed_contract_revenue_pct",
    )},
    "operating_margin_pct": MARGIN_PCT,
    **{m: POWER_MW for m in ("active_power_mw", "contracted_power_mw", "active_power_mw_target")},
    **{m: SHARES for m in (
        "shares_outstanding_class_a", "shares_outstanding_class_b", "shares_outstanding_class_c",
        "shares_outstanding_class_a_balance_sheet", "shares_outstanding_class_b_balance_sheet",
        "weighted_avg_shares_basic",
    )},
    "gpu_useful_life_years": USEFUL_LIFE,
    # metrics of the funding section
    **{m: FLOW for m in ("proceeds_from_debt", "repayments_of_debt", "ipo_net_proceeds",
                         "ipo_overallotment_net_proceeds", "contractual_interest_expense")},
    **{m: BALANCE for m in ("property_and_equipment_gross", "property_and_equipment_net",
                            "revolver_capacity", "revolver_available")},
    "short_term_debt_weighted_rate_pct": RATE_PCT,
    "shares_outstanding_redeemable_class_a": SHARES,
    # a delivery delay at one site (backlog section's delay scenario)
    "delay_site_power_mw": POWER_MW,
    "delay_days": DELAY_DAYS,
    "convertible_notes_2031_conversion_price": PRICE,  # funding section, unit usd
}

def metric_range(metric: str) -> Range:
    """The plausible range of a fundamentals figure (every known metric has one)."""
    return METRIC_RANGES[metric]


# ---- other numeric columns (schema.Col(..., range=...)) -----------------------------------------
VOLUME = Range(0, 1e11, "shares", "shares traded in a day: not negative; 100 billion is more than "
               "any exchange trades in a day")

DIVIDEND = Range(0, 1e6, "usd", "a cash dividend per share in USD: positive, below the price bound",
                 lo_open=True)
CONTRACT_VALUE = Range(0, TRILLION, "usd_m",
                       "the value of one contract or financing: not negative, below $1 trillion (more "
                       "than any single deal); " + _SLIP)
TERM_YEARS = Range(0, 100, "years", "a contract or loan term in years: not negative, under a century")

# ---- claims.yaml: what a stated value can be, by measure -----------------------------------------
RETURN = Range(-1, None, "fraction", "a return as a fraction (-0.163 = -16.3%): a price cannot fall "
               "more than 100%")
DECLINE = Range(-1, 0, "fraction", "a decline from a peak as a fraction: between -1 (-100%) and 0")
MARGIN_FRACTION = Range(-100, 1, "fraction", "a margin as a fraction (0.04 = 4%): profit cannot "
                        "exceed revenue (<= 1)")
NONNEGATIVE_RATIO = Range(0, None, "ratio", "a ratio of amounts that cannot be negative")
CLAIM_STATED: dict[str, Range] = {
    "close": PRICE, "open": PRICE, "high": PRICE, "low": PRICE,
    "return": RETURN, "return_from_price": RETURN, "worst_return": RETURN,
    "decline_from_peak": DECLINE,
    "operating_margin": MARGIN_FRACTION,
    "interest_and_da_to_revenue": NONNEGATIVE_RATIO,
    "contracts_total": CONTRACT_VALUE,
    "share_of_backlog": NONNEGATIVE_RATIO,
    # "metric" and "guidance" use the metric's range (METRIC_RANGES); "growth" of a metric that
    # cannot be negative is a RETURN; margin_to_interest_rate is unbounded
}
