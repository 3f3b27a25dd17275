"""CoreWeave research-note analysis library."""
