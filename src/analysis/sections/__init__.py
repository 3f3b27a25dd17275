"""Section builders: one module per notebook, between the library and the notebooks.

`build(**params)` computes a section's figures with the library, records them in the results
contract (labels, units, sources, periods, verdicts) and prepares its prose and exhibits, so the
notebook only declares what it shows: parameters, narrative headings, `sec.show(...)`.
"""
