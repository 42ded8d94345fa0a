"""Rank every paper for a research question and decide which are selected.

Ranking: BM25 (DuckDB fts) of the question plus its keywords over title + abstract, and the
cosine similarity of the dense selection model between the question and title + abstract,
fused by reciprocal rank (k = 60).

Selection rule: a paper is selected when
  1. its fused rank is within ``max_selected``, and
  2. its dense similarity to the question is at least ``min_dense_similarity``,
so a small corpus with nothing on topic selects nothing rather than the least-bad papers, and
a large one is capped to what an analyst can read. Every row carries the reason in words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from litsynth.config import ResearchQuestion, SelectionSettings
from litsynth.retrieval.bm25 import BM25Index
from litsynth.retrieval.fusion import ranks, reciprocal_rank_fusion
from litsynth.warehouse import frame_schema

QUESTION_PAPER_SCHEMA = frame_schema("question_papers")


def paper_search_text(title: str, abstract: str | None) -> str:
    """What a paper is ranked by: its title and abstract (full text would swamp short pages)."""
    return f"{title}\n{abstract}" if abstract else title


def rank_papers(
    question: ResearchQuestion,
    papers: Sequence[tuple[str, str]],
    dense_similarity: Mapping[str, float],
    settings: SelectionSettings,
    *,
    dense_model: str,
) -> pl.DataFrame:
    """One row per paper: scores, ranks, the selected flag and its reason."""
    if not papers:
        return pl.DataFrame(schema=QUESTION_PAPER_SCHEMA)
    index = BM25Index(papers)
    try:
        bm25 = dict(index.search(question.query_text))
    finally:
        index.close()
    bm25_ranks = ranks(bm25)
    dense_ranks = ranks(dense_similarity)
    fused = reciprocal_rank_fusion([bm25_ranks, dense_ranks], k=settings.rrf_k)
    fused_ranks = ranks(fused)

    rows = []
    for paper_id, _ in papers:
        rank = fused_ranks[paper_id]
        similarity = float(dense_similarity[paper_id])
        if similarity < settings.min_dense_similarity:
            selected, reason = False, f"similarity {similarity:.3f} below {settings.min_dense_similarity:.2f}"
        elif rank > settings.max_selected:
            selected, reason = False, f"rank {rank} beyond the top {settings.max_selected}"
        else:
            selected, reason = True, f"rank {rank} within the top {settings.max_selected} and similarity {similarity:.3f} ≥ {settings.min_dense_similarity:.2f}"
        rows.append(
            {
                "question_id": question.id,
                "paper_id": paper_id,
                "bm25_score": bm25.get(paper_id, 0.0),
                "bm25_rank": bm25_ranks.get(paper_id),
                "dense_similarity": similarity,
                "dense_rank": dense_ranks[paper_id],
                "fused_score": fused[paper_id],
                "rank": rank,
                "selected": selected,
                "selection_reason": reason,
                "dense_model": dense_model,
            }
        )
    return pl.DataFrame(rows, schema=QUESTION_PAPER_SCHEMA).sort("rank")
