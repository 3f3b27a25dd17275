"""Market-data analytics for the sector-contagion section: returns, event study,
Forbes-Rigobon contagion tests, Diebold-Yilmaz connectedness, rolling betas.

Conventions: returns are simple daily returns as fractions (0.01 = 1%) unless a function says
log; dates are pandas Timestamps (ISO dates in tables); missing days are never filled.
"""
