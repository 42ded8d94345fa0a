"""Retrieval metrics, computed here and nowhere else, with BEIR/MTEB (pytrec_eval) definitions.

Definitions, per query, over the ranking of the run's documents:

- Recall@k = |relevant ∩ top k| / |relevant|, relevant meaning grade ≥ 1 (trec_eval ``recall_k``).
- MRR@k = 1 / rank of the first relevant document within the top k, else 0.
- nDCG@k with linear gains (gain = grade, as trec_eval's ``ndcg_cut``; not 2^grade − 1) and
  discount log2(rank + 1); the ideal ranking is every judged grade, best first.

Which queries count: every query of the qrels with at least one relevant document ("queries" in
the result). A query the run leaves out scores zero, as pytrec_eval scores a query with an empty
ranking; run queries without qrels are ignored. Queries whose qrels hold no relevant document
are left out, since every metric is 0 for them whatever the system does.

Ties: documents are ordered by score descending, then doc id ascending (as
``litsynth.retrieval.fusion.ranks``). trec_eval breaks ties by doc id *descending*, so the two
agree exactly on tie-free runs only; the tests check equality with pytrec_eval on such runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

Run = dict[str, dict[str, float]]  # query id -> doc id -> score
Qrels = dict[str, dict[str, int]]  # query id -> doc id -> relevance grade


def ranking(scores: Mapping[str, float]) -> list[str]:
    """Doc ids best first: score descending, then doc id ascending (see the module docstring)."""
    return sorted(scores, key=lambda doc: (-scores[doc], doc))


def _dcg(gains: Iterable[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def query_metrics(ranked: list[str], judged: Mapping[str, int], *, recall_ks: Iterable[int], mrr_k: int, ndcg_k: int) -> dict[str, float]:
    """Every metric for one query: its ranked doc ids and its graded judgements."""
    relevant = {doc for doc, grade in judged.items() if grade >= 1}
    values = {f"recall@{k}": len(relevant.intersection(ranked[:k])) / len(relevant) for k in recall_ks}
    first = next((rank for rank, doc in enumerate(ranked[:mrr_k], start=1) if doc in relevant), None)
    values[f"mrr@{mrr_k}"] = 1.0 / first if first else 0.0
    ideal = _dcg(sorted((max(grade, 0) for grade in judged.values()), reverse=True)[:ndcg_k])
    values[f"ndcg@{ndcg_k}"] = _dcg(max(judged.get(doc, 0), 0) for doc in ranked[:ndcg_k]) / ideal
    return values


def per_query_metrics(
    run: Run, qrels: Qrels, *, recall_ks: Iterable[int] = (1, 5, 10), mrr_k: int = 10, ndcg_k: int = 10
) -> dict[str, dict[str, float]]:
    """Metrics of every evaluated query (those with a relevant document), for reports and tests."""
    ks = sorted(set(recall_ks))
    return {
        query: query_metrics(ranking(run.get(query, {})), judged, recall_ks=ks, mrr_k=mrr_k, ndcg_k=ndcg_k)
        for query, judged in qrels.items()
        if any(grade >= 1 for grade in judged.values())
    }


def retrieval_metrics(
    run: Run,
    qrels: Qrels,
    *,
    recall_ks: Iterable[int] = (1, 5, 10),
    extra_recall_ks: Iterable[int] = (),
    mrr_k: int = 10,
    ndcg_k: int = 10,
) -> dict[str, float]:
    """Mean of each metric over the evaluated queries, plus "queries", their count."""
    per_query = per_query_metrics(run, qrels, recall_ks=[*recall_ks, *extra_recall_ks], mrr_k=mrr_k, ndcg_k=ndcg_k)
    if not per_query:
        raise ValueError("no query of the qrels has a relevant document (grade ≥ 1); nothing to evaluate")
    names = next(iter(per_query.values())).keys()
    means = {name: sum(values[name] for values in per_query.values()) / len(per_query) for name in names}
    return {**means, "queries": len(per_query)}


def hit_recall_at_k(rankings: Mapping[str, list[str]], positives: Mapping[str, set[str]], k: int) -> float:
    """Share of queries with any positive in their top k (image–text recall as CLIP_benchmark counts it).

    Every query of ``positives`` counts; one missing from ``rankings`` is a miss.
    """
    if not positives:
        raise ValueError("no queries with positives to evaluate")
    hits = sum(1 for query, wanted in positives.items() if wanted.intersection(rankings.get(query, [])[:k]))
    return hits / len(positives)
