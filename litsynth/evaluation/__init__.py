"""Retrieval evaluation: metrics computed in one place, BEIR benchmarks, and the ``eval`` command."""
