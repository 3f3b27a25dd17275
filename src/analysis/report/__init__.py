"""Report layer: house style, exhibits, prose formatting, note assembly. Never computes a figure."""
