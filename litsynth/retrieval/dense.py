"""Exact dense retrieval: top-k by cosine over normalised vectors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def top_k_run(
    query_ids: Sequence[str], queries: np.ndarray, doc_ids: Sequence[str], docs: np.ndarray, *, top_k: int
) -> dict[str, dict[str, float]]:
    """query id -> {doc id: cosine} for the k best documents (vectors must be L2-normalised)."""
    if not len(doc_ids) or not len(query_ids):
        return {q: {} for q in query_ids}
    scores = queries @ docs.T
    k = min(top_k, len(doc_ids))
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return {q: {doc_ids[j]: float(scores[i, j]) for j in best[i]} for i, q in enumerate(query_ids)}
