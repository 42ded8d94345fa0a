"""Retrieval quality per question and model: can the model find each claim's evidence?

The question's claims are the queries and its chunks the documents; a claim's source chunk is
relevant (grade 1), and so is any chunk a verifier found to support it. Dense models score
with the vectors already stored by the embeddings asset; bm25 indexes the chunks; hybrid fuses
its components' runs, exactly as on the public benchmarks (litsynth.evaluation.beir).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from litsynth.config import ModelCatalog, ModelSpec
from litsynth.evaluation.beir import RECALL_KS, BeirDataset, bm25_run, fuse_runs
from litsynth.retrieval.dense import top_k_run
from litsynth.evaluation.metrics import Qrels, Run, retrieval_metrics

TOP_K = 100


def question_dataset(
    chunks: Sequence[tuple[str, str]],
    claims: Sequence[tuple[str, str, str]],
    supporting: Mapping[str, set[str]] | None = None,
) -> BeirDataset:
    """A BEIR-shaped dataset of the question: chunks (id, text), claims (id, text, source chunk id)."""
    qrels: Qrels = {}
    for claim_id, _, chunk_id in claims:
        qrels[claim_id] = {chunk_id: 1, **{c: 1 for c in (supporting or {}).get(claim_id, ())}}
    return BeirDataset(
        corpus={chunk_id: ("", text) for chunk_id, text in chunks},
        queries={claim_id: text for claim_id, text, _ in claims},
        qrels=qrels,
    )


class VectorsUnavailable(LookupError):
    """A dense model's vectors for the question are not in the warehouse (skipped or not embedded)."""


def stored_vector_run(dataset: BeirDataset, vectors: Mapping[str, np.ndarray], *, top_k: int = TOP_K) -> Run:
    """Exact cosine top-k from stored (normalised) vectors keyed by chunk / claim id."""
    doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
    missing = [i for i in doc_ids + query_ids if i not in vectors]
    if missing:
        raise VectorsUnavailable(f"{len(missing)} chunks/claims have no stored vector (first: {missing[0]})")
    return top_k_run(query_ids, np.stack([vectors[q] for q in query_ids]), doc_ids, np.stack([vectors[d] for d in doc_ids]), top_k=top_k)


def question_run(dataset: BeirDataset, spec: ModelSpec, catalog: ModelCatalog, stored: Mapping[str, Mapping[str, np.ndarray]]) -> Run:
    """The model's run; ``stored`` maps a dense model id to its vectors for this question."""
    if spec.family == "bm25":
        return bm25_run(dataset, top_k=TOP_K)
    if spec.family == "hybrid":
        runs = []
        for component in spec.components:
            try:
                runs.append(question_run(dataset, catalog.get(component), catalog, stored))
            except VectorsUnavailable:
                continue  # a component without weights here is left out of the fusion, and said so upstream
        return fuse_runs(runs, top_k=TOP_K)
    if spec.id not in stored:
        raise VectorsUnavailable(f"no vectors of {spec.id} for this question (see embedding_status)")
    return stored_vector_run(dataset, stored[spec.id])


def question_metrics(dataset: BeirDataset, run: Run) -> dict[str, float]:
    return retrieval_metrics(run, dataset.qrels, recall_ks=RECALL_KS)
