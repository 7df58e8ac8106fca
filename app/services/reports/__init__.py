"""Reports and de-identified exports: aggregates over non-identifying columns only."""
