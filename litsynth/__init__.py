"""litsynth: evidence-graded literature syntheses over a DuckDB warehouse."""
