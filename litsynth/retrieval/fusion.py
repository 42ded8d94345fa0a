"""Reciprocal-rank fusion (Cormack et al., 2009): robust to the different scales of BM25 and cosine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

RRF_K = 60  # the k of Cormack et al., used by every fusion in litsynth


def ranks(scores: Mapping[str, float]) -> dict[str, int]:
    """1-based ranks, best score first; ties broken by id so ranks are deterministic."""
    ordered = sorted(scores, key=lambda k: (-scores[k], k))
    return {k: i for i, k in enumerate(ordered, start=1)}


def reciprocal_rank_fusion(rankings: Sequence[Mapping[str, int]], *, k: int = RRF_K) -> dict[str, float]:
    """Sum of 1 / (k + rank) over the rankings that contain each item."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for item, rank in ranking.items():
            fused[item] = fused.get(item, 0.0) + 1.0 / (k + rank)
    return fused
