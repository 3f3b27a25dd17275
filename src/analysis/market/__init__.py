"""Market-data analytics for the sector-contagion section: returns (`returns`), windows derived from
dated events (`windows`: clean estimation windows, event clusters, crisis windows), the event study
(`event_study`) and its pooling across events (`pooling`), Forbes-Rigobon contagion tests and rolling
betas (`contagion`), Diebold-Yilmaz connectedness (`connectedness`), and small reshaping helpers
(`summary`). Each verdict of the section is drawn by one function next to its statistic.

Conventions: returns are simple daily returns as fractions (0.01 = 1%) unless a function says
log; dates are pandas Timestamps (ISO dates in tables); missing days are never filled.
"""
