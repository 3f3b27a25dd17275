"""Reader-facing names of data fields: what prose and tables call a metric or a measure.

Column and metric names (`gpu_useful_life_years`) are for code; a note says "the GPU useful life".
A name missing here falls back to the field name with spaces, never to an error.
"""

from __future__ import annotations

#: fundamentals.csv `metric` -> name in prose (lower case; `label(..., capital=True)` capitalises)
METRIC_LABELS: dict[str, str] = {
    "revenue": "revenue",
    "cost_of_revenue": "cost of revenue",
    "technology_and_infrastructure": "technology and infrastructure expense",
    "sales_and_marketing": "sales and marketing expense",
    "general_and_administrative": "general and administrative expense",
    "operating_expenses_total": "total operating expenses",
    "operating_income": "operating income",
    "adjusted_operating_income": "adjusted operating income",
    "adjusted_ebitda": "adjusted EBITDA",
    "adjusted_net_income": "adjusted net income",
    "net_income": "net income",
    "interest_expense": "interest expense, net",
    "interest_expense_debt_total": "interest expense on debt",
    "capitalized_interest": "capitalised interest",
    "cash_interest_paid_net": "cash interest paid",
    "depreciation_and_amortization": "depreciation and amortisation",
    "stock_based_compensation": "stock-based compensation",
    "operating_cash_flow": "operating cash flow",
    "investing_cash_flow": "investing cash flow",
    "capex_cash": "cash purchases of property and equipment",
    "capex_company": "capital expenditure (company definition)",
    "capex_noncash_oem_reduction": "capex reclassified as non-cash OEM financing",
    "cash_and_equivalents": "cash and equivalents",
    "cash_restricted_and_securities": "cash, restricted cash and securities",
    "cash_and_restricted_cash": "cash and restricted cash",
    "restricted_cash_current": "current restricted cash",
    "restricted_cash_noncurrent": "non-current restricted cash",
    "marketable_securities": "marketable securities",
    "construction_in_progress": "construction in progress",
    "property_and_equipment_net": "net property and equipment",
    "property_and_equipment_gross": "gross property and equipment",
    "proceeds_from_debt": "proceeds from debt",
    "repayments_of_debt": "repayments of debt",
    "ipo_net_proceeds": "IPO proceeds, net",
    "ipo_overallotment_net_proceeds": "over-allotment proceeds, net",
    "debt_current": "current debt",
    "debt_noncurrent": "non-current debt",
    "debt_total_net": "total debt, net",
    "debt_principal_total": "debt principal",
    "debt_total": "total debt",
    "debt_total_indebtedness": "total indebtedness",
    "debt_ddtl_1_0": "DDTL 1.0 debt",
    "debt_ddtl_2_0": "DDTL 2.0 debt",
    "debt_senior_notes_2030": "2030 senior notes",
    "debt_term_loan_2024": "2024 term loan",
    "debt_revolver": "revolving credit facility",
    "debt_oem_financing": "OEM financing",
    "debt_magnetar_loan": "Magnetar loan",
    "debt_recourse_current": "current recourse debt",
    "debt_recourse_noncurrent": "non-current recourse debt",
    "debt_nonrecourse_current": "current non-recourse debt",
    "debt_nonrecourse_noncurrent": "non-current non-recourse debt",
    "senior_notes_2030_fair_value": "fair value of the 2030 senior notes",
    "senior_notes_2031_fair_value": "fair value of the 2031 senior notes",
    "undrawn_debt_availability": "undrawn debt capacity",
    "rpo_total": "remaining performance obligations",
    "rpo": "RPO",
    "revenue_backlog": "revenue backlog",
    "revenue_us": "US revenue",
    "revenue_guidance_low": "revenue guidance (low end)",
    "revenue_guidance_high": "revenue guidance (high end)",
    "adjusted_operating_income_guidance_low": "adjusted operating income guidance (low end)",
    "adjusted_operating_income_guidance_high": "adjusted operating income guidance (high end)",
    "interest_expense_guidance_low": "interest expense guidance (low end)",
    "interest_expense_guidance_high": "interest expense guidance (high end)",
    "capex_guidance_low": "capex guidance (low end)",
    "capex_guidance_high": "capex guidance (high end)",
    "rpo_within_24m_pct": "share of RPO due within 24 months",
    "rpo_months_25_48_pct": "share of RPO due in months 25 to 48",
    "revenue_backlog_within_24m_pct": "share of backlog due within 24 months",
    "revenue_backlog_within_48m_pct": "share of backlog due within 48 months",
    "committed_contract_revenue_pct": "share of revenue under committed contracts",
    "operating_margin_pct": "operating margin (as reported)",
    "active_power_mw": "active power",
    "contracted_power_mw": "contracted power",
    "active_power_mw_target": "year-end active power target",
    "shares_outstanding_class_a": "Class A shares outstanding",
    "shares_outstanding_class_b": "Class B shares outstanding",
    "shares_outstanding_class_c": "Class C shares outstanding",
    "shares_outstanding_class_a_balance_sheet": "Class A shares outstanding (balance sheet)",
    "shares_outstanding_class_b_balance_sheet": "Class B shares outstanding (balance sheet)",
    "weighted_avg_shares_basic": "weighted average shares (basic)",
    "gpu_useful_life_years": "GPU useful life",
    "delay_site_power_mw": "power of the delayed site",
    "delay_days": "delivery delay",
}

#: customers.csv `measure` -> name in prose
MEASURE_LABELS: dict[str, str] = {
    "revenue_share": "share of revenue",
    "accounts_receivable_share": "share of accounts receivable",
    "revenue_backlog_share": "share of the revenue backlog",
    "expected_committed_revenue_share": "share of expected committed revenue",
}


#: events.csv `kind` -> name in tables and prose
EVENT_KIND_LABELS: dict[str, str] = {
    "sector_news": "sector news",
    "ipo": "IPO",
    "earnings": "earnings",
    "m_and_a": "M&A",
    "lockup": "lock-up expiry",
    "contract": "contract",
    "guidance": "guidance",
    "financing": "financing",
    "index": "index inclusion",
    "other": "other",
}


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def metric_label(metric: str, capital: bool = False) -> str:
    """'gpu_useful_life_years' -> 'GPU useful life' (unknown names: underscores become spaces)."""
    s = METRIC_LABELS.get(metric) or METRIC_LABELS.get(str(metric).lower()) or str(metric).replace("_", " ")
    return _cap(s) if capital else s


def measure_label(measure: str, capital: bool = False) -> str:
    """'revenue_share' -> 'share of revenue'."""
    s = MEASURE_LABELS.get(measure) or str(measure).replace("_", " ")
    return _cap(s) if capital else s


def event_kind_label(kind: str, capital: bool = False) -> str:
    """'m_and_a' -> 'M&A', 'sector_news' -> 'sector news' (events.csv `kind`)."""
    s = EVENT_KIND_LABELS.get(kind) or str(kind).replace("_", " ")
    return _cap(s) if capital else s
