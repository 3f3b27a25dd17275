"""Validated, point-in-time loaders for every raw data file in data/."""

from ..errors import DataValidationError
from .load import (
    as_of_date,
    load_claims,
    load_contracts,
    load_customers,
    load_dividends,
    load_events,
    load_financings,
    load_fundamentals,
    load_prices,
    load_sources,
    price_tickers,
)

__all__ = [
    "DataValidationError", "as_of_date", "load_claims", "load_contracts", "load_customers",
    "load_dividends", "load_events", "load_financings", "load_fundamentals", "load_prices",
    "load_sources", "price_tickers",
]
