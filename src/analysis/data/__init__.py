"""Validated, point-in-time loaders for every raw data file in data/.

The loaders are imported lazily (PEP 562), so `python -m analysis.data.manifest verify` stays fast:
pandas is loaded only when a loader is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ..errors import DataValidationError

_LAZY = {
    "as_of_date": "load", "load_claims": "load", "load_contracts": "load",
    "load_customers": "load", "load_dividends": "load", "load_events": "load",
    "load_financings": "load", "load_debt_facilities": "load", "load_debt_maturities": "load", "load_fundamentals": "load", "load_prices": "load",
    "load_sources": "load", "price_tickers": "load",
    "validate_all": "validate", "validate_file": "validate",
}

__all__ = ["DataValidationError", *_LAZY]

if TYPE_CHECKING:  # pragma: no cover
    from .load import (  # noqa: F401
        as_of_date,
        load_claims,
        load_contracts,
        load_customers,
        load_debt_facilities,
        load_debt_maturities,
        load_dividends,
        load_events,
        load_financings,
        load_fundamentals,
        load_prices,
        load_sources,
        price_tickers,
    )
    from .validate import validate_all, validate_file  # noqa: F401


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_LAZY])
