"""Catalog models on public benchmarks, as rows of ``benchmark_metrics``.

Text models run on a BEIR-format folder (default: SciFact test under the shared data); dense
document vectors go through the warehouse's embedding cache, so a re-run re-encodes nothing.
open_clip models run image–text retrieval on a COCO-captions folder. A model that cannot run
(no weights here, wrong modality, data missing) gets rows that say why, never made-up numbers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from litsynth.config import ModelCatalog, ModelSpec
from litsynth.embeddings import embed_cached
from litsynth.evaluation.beir import EXTRA_RECALL_KS, RECALL_KS, BeirDataset, bm25_run, document_text, fuse_runs, load_beir
from litsynth.evaluation.metrics import Run, retrieval_metrics
from litsynth.retrieval.dense import top_k_run
from litsynth.warehouse import frame_schema

TOP_K = 100
BEIR_METRICS = ("ndcg@10", "recall@1", "recall@5", "recall@10", "recall@100", "mrr@10")
IMAGE_TEXT_METRICS = tuple(f"{d}/recall@{k}" for d in ("text_to_image", "image_to_text") for k in (1, 5, 10))
BENCHMARK_SCHEMA = frame_schema("benchmark_metrics")


def beir_benchmark_name(folder: Path, split: str) -> str:
    """e.g. beir/scifact:test (a folder named "beir" is named after its parent, as in the shared layout)."""
    name = folder.parent.name if folder.name == "beir" else folder.name
    return f"beir/{name}:{split}"


def image_text_benchmark_name(images: Path) -> str:
    return f"coco-captions/{images.parent.name}"


def benchmark_rows(
    benchmark: str, spec: ModelSpec, metrics: dict[str, float] | None, *, names: tuple[str, ...], reason: str | None = None,
    queries: int | None = None, seconds: float | None = None,
) -> pl.DataFrame:
    """One row per metric: measured values, or the reason nothing was measured (no rows: not applicable)."""
    published = spec.published.get(benchmark.split(":")[0], {})
    return pl.DataFrame(
        [
            {
                "benchmark": benchmark,
                "model_id": spec.id,
                "metric": name,
                "value": metrics.get(name) if metrics else None,
                "published": published.get(name),
                "status": "measured" if metrics else "skipped",
                "reason": reason,
                "queries": queries,
                "seconds": seconds,
            }
            for name in names
        ],
        schema=BENCHMARK_SCHEMA,
    )


def cached_dense_run(con: duckdb.DuckDBPyConnection, dataset: BeirDataset, encoder, *, top_k: int = TOP_K, progress: Callable | None = None) -> Run:
    doc_ids, query_ids = list(dataset.corpus), list(dataset.queries)
    docs, _ = embed_cached(con, encoder, [document_text(*dataset.corpus[d]) for d in doc_ids], progress=progress)
    queries, _ = embed_cached(con, encoder, [dataset.queries[q] for q in query_ids], is_query=True)
    return top_k_run(query_ids, queries, doc_ids, docs, top_k=top_k)


def beir_model_run(con, dataset: BeirDataset, spec: ModelSpec, catalog: ModelCatalog, load_encoder: Callable, progress=None) -> Run:
    if spec.family == "bm25":
        return bm25_run(dataset, top_k=TOP_K)
    if spec.family == "hybrid":
        return fuse_runs([beir_model_run(con, dataset, catalog.get(c), catalog, load_encoder, progress) for c in spec.components], top_k=TOP_K)
    return cached_dense_run(con, dataset, load_encoder(spec), progress=progress)


def evaluate_beir_benchmark(
    con: duckdb.DuckDBPyConnection, folder: Path, split: str, spec: ModelSpec, catalog: ModelCatalog, load_encoder: Callable, progress=None
) -> pl.DataFrame:
    """Rows for one model on one BEIR folder (raises ModelUnavailable / DataFormatError to the caller)."""
    benchmark = beir_benchmark_name(folder, split)
    if spec.family == "open_clip":
        return benchmark_rows(benchmark, spec, None, names=(), reason="not applicable: image-text model")
    dataset = load_beir(folder, split)
    started = time.perf_counter()
    run = beir_model_run(con, dataset, spec, catalog, load_encoder, progress)
    metrics = retrieval_metrics(run, dataset.qrels, recall_ks=RECALL_KS, extra_recall_ks=EXTRA_RECALL_KS)
    return benchmark_rows(benchmark, spec, metrics, names=BEIR_METRICS, queries=int(metrics["queries"]), seconds=time.perf_counter() - started)


def evaluate_image_text_benchmark(captions: Path, images: Path, spec: ModelSpec, project_root: Path) -> pl.DataFrame:
    from litsynth.evaluation.image_text import evaluate_image_text, load_coco_captions
    from litsynth.models.image_text import load_image_text_encoder

    benchmark = image_text_benchmark_name(images)
    if spec.family != "open_clip":
        return benchmark_rows(benchmark, spec, None, names=(), reason="not applicable: no image tower")
    dataset = load_coco_captions(captions, images)
    encoder = load_image_text_encoder(spec, project_root)
    result = evaluate_image_text(dataset, encoder)
    metrics = {f"{direction}/{name}": value for direction in ("text_to_image", "image_to_text") for name, value in result[direction].items()}
    return benchmark_rows(benchmark, spec, metrics, names=IMAGE_TEXT_METRICS, queries=result["counts"]["text_queries"], seconds=result["seconds"]["total"])
