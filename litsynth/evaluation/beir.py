"""BEIR-format benchmarks: load a dataset, run a catalog model over it, and score the run.

Layouts read by ``load_beir(folder)``: a standard BEIR folder (``corpus.jsonl`` with
``_id``/``title``/``text``, ``queries.jsonl``, ``qrels/<split>.tsv`` with a header), and the
shared SciFact layout, where ``folder`` holds the queries and qrels and the corpus is the official
SciFact ``../corpus.jsonl`` (``doc_id``/``title``/``abstract`` sentences, joined by one space as
BEIR's own SciFact export does). A malformed file stops the load: a benchmark over a silently
shortened corpus or qrels would report wrong numbers.

Models are run the standard BEIR/MTEB way, so published scores are reproducible:

- sentence-transformers: document text = title + " " + text, normalised embeddings, exact
  top-k by dot product (= cosine).
- bm25: DuckDB fts over the same text with the pipeline's BM25 settings (``BEIR_BM25``; why there).
- hybrid: reciprocal-rank fusion (k = 60) of the components' top-k runs. On SciFact train it
  beat every single model, so no score-normalising fusion is needed (see bench/beir_reproduction.py).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litsynth.config import ModelCatalog, ModelSpec
from litsynth.datafiles import DataFormatError, jsonl_records, read_corpus, required_field
from litsynth.evaluation.metrics import Qrels, Run, ranking, retrieval_metrics
from litsynth.retrieval.bm25 import BM25Index, BM25Params
from litsynth.retrieval.fusion import ranks, reciprocal_rank_fusion

# The pipeline's BM25 (Porter stemmer, English stop words, Elasticsearch's k1 = 1.2, b = 0.75;
# close to the "english" analyzer BEIR ran) reproduces BEIR's number untuned. A grid on SciFact
# *train* (stemmer porter/english/none x stop words english/none x (k1, b) in {(1.2, .75), (.9, .4)})
# gained at most +0.005 nDCG@10 (porter, no stop words) and no stemming lost 0.02, so the
# defaults stay and benchmark and pipeline rank alike.
BEIR_BM25 = BM25Params()
BEIR_FOLDER = "a BEIR folder (corpus.jsonl, queries.jsonl, qrels/)"
RECALL_KS = (1, 5, 10)
EXTRA_RECALL_KS = (100,)


@dataclass(frozen=True)
class BeirDataset:
    corpus: dict[str, tuple[str, str]]  # doc id -> (title, text)
    queries: dict[str, str]  # query id -> text; only the queries of the split's qrels
    qrels: Qrels


@dataclass(frozen=True)
class EvalResult:
    metrics: dict[str, float]
    run: Run
    seconds: float


def load_corpus(path: Path) -> dict[str, tuple[str, str]]:
    """doc id -> (title, text); a SciFact sentence list is joined into one text."""
    return {
        doc_id: (title, body if isinstance(body, str) else " ".join(body))
        for doc_id, (title, body) in read_corpus(path, expected=BEIR_FOLDER).items()
    }


def load_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    for number, record in jsonl_records(path, expected=BEIR_FOLDER):
        query_id = str(required_field(path, number, record, "_id", (str, int)))
        queries[query_id] = required_field(path, number, record, "text", str)
    return queries


def load_qrels(path: Path) -> Qrels:
    """``query-id<TAB>corpus-id<TAB>score`` rows after one header row."""
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE))
    except FileNotFoundError as exc:
        split = path.stem
        raise DataFormatError(f"{path}: file not found. Fix: give a split that exists in {path.parent} (not {split!r})") from exc
    if not rows or rows[0][:1] != ["query-id"]:
        raise DataFormatError(f"{path}: line 1: expected the header 'query-id<TAB>corpus-id<TAB>score'")
    qrels: Qrels = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 3:
            raise DataFormatError(f"{path}: line {number}: expected 3 tab-separated columns (query-id, corpus-id, score), got {len(row)}")
        query_id, doc_id, grade = row
        try:
            qrels.setdefault(query_id, {})[doc_id] = int(grade)
        except ValueError as exc:
            raise DataFormatError(f"{path}: line {number}: score {grade!r} is not an integer relevance grade") from exc
    if not qrels:
        raise DataFormatError(f"{path}: no judgements after the header")
    return qrels


def load_beir(folder: Path, split: str = "test") -> BeirDataset:
    """The corpus, the split's qrels and the queries they judge (the only ones evaluated)."""
    folder = Path(folder)
    corpus_path = next((p for p in (folder / "corpus.jsonl", folder.parent / "corpus.jsonl") if p.is_file()), None)
    if corpus_path is None:
        raise DataFormatError(f"{folder}: no corpus.jsonl here or in {folder.parent}. Fix: point at a BEIR folder")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    qrels = load_qrels(qrels_path)
    queries_path = folder / "queries.jsonl"
    all_queries = load_queries(queries_path)
    missing = sorted(set(qrels) - set(all_queries))
    if missing:
        raise DataFormatError(f"{qrels_path}: query ids {missing[:5]} are not in {queries_path}. Fix: the qrels must judge queries of that file")
    return BeirDataset(load_corpus(corpus_path), {q: all_queries[q] for q in qrels}, qrels)


def document_text(title: str, text: str) -> str:
    """Title + " " + text, as BEIR's SentenceBERT wrapper and MTEB encode a document."""
    return f"{title} {text}".strip()


def dense_run(dataset: BeirDataset, spec: ModelSpec, *, project_root: Path, batch_size: int, top_k: int) -> Run:
    """Exact top-k by cosine over normalised embeddings."""
    from litsynth.models.text_encoder import load_text_encoder

    encoder = load_text_encoder(spec, project_root)
    doc_ids = list(dataset.corpus)
    docs = encoder.encode([document_text(*dataset.corpus[d]) for d in doc_ids], batch_size=batch_size)
    query_ids = list(dataset.queries)
    queries = encoder.encode([dataset.queries[q] for q in query_ids], is_query=True, batch_size=batch_size)
    scores = queries @ docs.T
    k = min(top_k, len(doc_ids))
    best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return {q: {doc_ids[j]: float(scores[i, j]) for j in best[i]} for i, q in enumerate(query_ids)}


def bm25_run(dataset: BeirDataset, *, top_k: int) -> Run:
    index = BM25Index([(d, document_text(*dataset.corpus[d])) for d in dataset.corpus], BEIR_BM25)
    try:
        return {q: dict(index.search(text, top_k)) for q, text in dataset.queries.items()}
    finally:
        index.close()


def fuse_runs(runs: list[Run], *, top_k: int) -> Run:
    """Reciprocal-rank fusion per query of the components' runs, cut to the top k."""
    fused: Run = {}
    for query in set().union(*runs):
        scores = reciprocal_rank_fusion([ranks(run.get(query, {})) for run in runs])
        fused[query] = {doc: scores[doc] for doc in ranking(scores)[:top_k]}
    return fused


def evaluate_model(
    dataset: BeirDataset,
    spec: ModelSpec,
    *,
    project_root: Path,
    catalog: ModelCatalog,
    batch_size: int = 64,
    top_k: int = 100,
    component_runs: Mapping[str, Run] | None = None,
) -> EvalResult:
    """Run the model's top k and score it: Recall@1/5/10/100, MRR@10, nDCG@10.

    A hybrid reuses the runs in ``component_runs`` (by model id) and runs its other components;
    ``seconds`` is the wall time of this model's run (for a hybrid given every component run, the fusion).
    """
    started = time.perf_counter()
    if spec.family == "sentence-transformers":
        run = dense_run(dataset, spec, project_root=project_root, batch_size=batch_size, top_k=top_k)
    elif spec.family == "bm25":
        run = bm25_run(dataset, top_k=top_k)
    elif spec.family == "hybrid":
        known = component_runs or {}
        runs = [
            known[c] if c in known else evaluate_model(dataset, catalog.get(c), project_root=project_root, catalog=catalog, batch_size=batch_size, top_k=top_k).run
            for c in spec.components
        ]
        run = fuse_runs(runs, top_k=top_k)
    else:
        raise ValueError(f"model {spec.id!r}: family {spec.family!r} retrieves no text documents. Fix: evaluate a text model on BEIR")
    seconds = time.perf_counter() - started
    metrics = retrieval_metrics(run, dataset.qrels, recall_ks=RECALL_KS, extra_recall_ks=EXTRA_RECALL_KS)
    return EvalResult(metrics, run, seconds)
