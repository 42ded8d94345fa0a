"""Retrieval quality per question and model, by an inverse cloze protocol that copying text cannot pass.

Protocol (:data:`PROTOCOL`, printed beside the leaderboard): each claim is a query; its
relevant document is the rest of its own passage, the passage with the claim sentence cut out
(its *context*, the inverse cloze task of Lee et al., 2019). The documents are the contexts of
all the question's claims. A context that still contains the query sentence (another claim's
context in the same passage) is left out of that query's ranking, and a claim whose context is
shorter than ``MIN_CONTEXT_WORDS`` words is not a query. So no query is a substring of its
relevant document: a model scores by finding the passage a sentence belongs to from its
meaning and its shared terms, not by matching the sentence itself. Dense models embed queries
and contexts through the embedding cache; bm25 indexes the contexts; hybrid fuses its
components' runs, exactly as on the public benchmarks (litsynth.evaluation.beir).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from litsynth.config import ModelCatalog, ModelSpec
from litsynth.evaluation.beir import RECALL_KS, BeirDataset, bm25_run, fuse_runs
from litsynth.evaluation.metrics import Run, retrieval_metrics
from litsynth.retrieval.dense import top_k_run

TOP_K = 100
MIN_CONTEXT_WORDS = 8
PROTOCOL = (
    "inverse cloze: each claim is a query for the rest of its own passage (the passage with the claim sentence cut out), "
    "among the contexts of all the question's claims; contexts that still contain the query sentence are left out of its "
    "ranking, so no query is a substring of its relevant passage and copying text scores nothing. "
    "Relevant: the claim's own context (one per query). The same protocol for every model, bm25 and hybrid included."
)


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class ClozeDataset:
    """Queries, contexts and qrels, plus per query the contexts left out because they contain it."""

    dataset: BeirDataset
    leaks: dict[str, set[str]]


@dataclass(frozen=True)
class ClaimSpan:
    claim_id: str
    text: str
    chunk_id: str
    start: int  # into the paper text, as claims.char_start
    end: int


def cloze_dataset(chunks: Mapping[str, tuple[int, str]], claims: Sequence[ClaimSpan]) -> ClozeDataset:
    """The protocol's dataset from chunks (id -> (char_start in the paper, text)) and claims."""
    corpus, queries, qrels = {}, {}, {}
    for claim in claims:
        offset, text = chunks[claim.chunk_id]
        lo, hi = max(claim.start - offset, 0), min(claim.end - offset, len(text))
        context = " ".join(f"{text[:lo]} {text[hi:]}".split())
        if len(context.split()) < MIN_CONTEXT_WORDS or _normalised(claim.text) in _normalised(context):
            continue
        doc_id = f"context:{claim.claim_id}"
        corpus[doc_id] = ("", context)
        queries[claim.claim_id] = claim.text
        qrels[claim.claim_id] = {doc_id: 1}
    normalised = {doc_id: _normalised(text) for doc_id, (_, text) in corpus.items()}
    leaks = {q: {d for d, text in normalised.items() if _normalised(query) in text} for q, query in queries.items()}
    return ClozeDataset(BeirDataset(corpus=corpus, queries=queries, qrels=qrels), leaks)


class VectorsUnavailable(LookupError):
    """A dense model cannot embed the question's texts here (no weights, or skipped)."""


VectorSource = Callable[[ModelSpec, BeirDataset], Mapping[str, np.ndarray]]


def vector_run(dataset: BeirDataset, vectors: Mapping[str, np.ndarray], *, top_k: int = TOP_K) -> Run:
    """Exact cosine top-k from normalised vectors keyed by document / query id."""
    doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
    missing = [i for i in doc_ids + query_ids if i not in vectors]
    if missing:
        raise VectorsUnavailable(f"{len(missing)} queries/documents have no vector (first: {missing[0]})")
    return top_k_run(query_ids, np.stack([vectors[q] for q in query_ids]), doc_ids, np.stack([vectors[d] for d in doc_ids]), top_k=top_k)


def question_run(cloze: ClozeDataset, spec: ModelSpec, catalog: ModelCatalog, vectors_of: VectorSource) -> Run:
    """The model's run with each query's leaking contexts removed; ``vectors_of`` embeds a
    dataset's queries and documents under a dense model or raises :class:`VectorsUnavailable`."""
    dataset = cloze.dataset
    top_k = TOP_K + max((len(v) for v in cloze.leaks.values()), default=0)
    if spec.family == "bm25":
        run = bm25_run(dataset, top_k=top_k)
    elif spec.family == "hybrid":
        runs = []
        for component in spec.components:
            try:
                runs.append(question_run(cloze, catalog.get(component), catalog, vectors_of))
            except VectorsUnavailable:
                continue  # a component without weights here is left out of the fusion, and said so upstream
        run = fuse_runs(runs, top_k=top_k)
    else:
        run = vector_run(dataset, vectors_of(spec, dataset), top_k=top_k)
    return {q: {d: s for d, s in docs.items() if d not in cloze.leaks.get(q, ())} for q, docs in run.items()}


def question_metrics(cloze: ClozeDataset, run: Run) -> dict[str, float]:
    return retrieval_metrics(run, cloze.dataset.qrels, recall_ks=RECALL_KS)
