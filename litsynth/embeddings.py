"""Embedding with a content-hash cache in the warehouse.

The cache key is (model id, sha256 of the exact text the model sees, prefix included), so the
same text is embedded once per model across every partition, run and use: the pipeline, the
benchmarks, verifier training and ``eval verify`` share the warehouse's ``embedding_cache``.
Whitespace is collapsed before encoding (the catalog's tokenizers ignore it anyway), so an
abstract written with newlines between sentences and the same abstract on one line are one
text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import duckdb
import numpy as np
import pyarrow as pa

from litsynth.config import ModelSpec
from litsynth.ids import sha256_hex
from litsynth.progress import Progress

log = logging.getLogger(__name__)

# Texts encoded between two progress checks: ~30 s of the slowest catalog text model
# (all-mpnet-base-v2 on full abstracts, 2 CPU cores), so a long embedding never goes silent.
PROGRESS_BLOCK = 48


class Encoder(Protocol):
    """What the cache needs from a model (TextEncoder satisfies it)."""

    spec: ModelSpec

    def encode(self, texts: list[str], *, is_query: bool = False, batch_size: int = 64) -> np.ndarray: ...


def model_text(text: str) -> str:
    """The text as the model is given it: whitespace runs collapsed to one space."""
    return " ".join(text.split())


def cache_key(encoder: Encoder, text: str, *, is_query: bool) -> str:
    prefix = encoder.spec.query_prefix if is_query else encoder.spec.document_prefix
    return sha256_hex(prefix + model_text(text))


def embed_cached(
    con: duckdb.DuckDBPyConnection,
    encoder: Encoder,
    texts: Sequence[str],
    *,
    is_query: bool = False,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts`` in order, and how many had to be computed (cache misses)."""
    model_id = encoder.spec.id
    keys = [cache_key(encoder, t, is_query=is_query) for t in texts]
    wanted = pa.table({"text_sha256": list(dict.fromkeys(keys))})
    con.register("_wanted_keys", wanted)
    try:
        found = con.execute(
            "SELECT c.text_sha256, c.vector FROM embedding_cache c JOIN _wanted_keys w USING (text_sha256) WHERE c.model_id = ?",
            [model_id],
        ).fetchall()
    finally:
        con.unregister("_wanted_keys")
    vectors = {k: np.asarray(v, dtype=np.float32) for k, v in found}

    missing = [(k, model_text(t)) for k, t in dict(zip(keys, texts)).items() if k not in vectors]
    missing.sort(key=lambda kt: len(kt[1]))  # similar lengths per block: little padding
    counter = Progress(f"embedding with {model_id}", len(missing), unit="texts")
    for start in range(0, len(missing), PROGRESS_BLOCK):
        block = missing[start : start + PROGRESS_BLOCK]
        encoded = encoder.encode([t for _, t in block], is_query=is_query, batch_size=batch_size)
        rows = pa.table({
            "model_id": [model_id] * len(block),
            "text_sha256": [k for k, _ in block],
            "vector": pa.array([v.tolist() for v in encoded], type=pa.list_(pa.float32())),
        })
        con.register("_new_vectors", rows)
        try:
            # No INSERT OR IGNORE: DuckLake has no keys. Two lake writers may both add a text;
            # the lookup above tolerates the duplicate (same content hash, same vector).
            con.execute(
                """INSERT INTO embedding_cache SELECT n.model_id, n.text_sha256, n.vector FROM _new_vectors n
                   WHERE NOT EXISTS (SELECT 1 FROM embedding_cache c WHERE c.model_id = n.model_id AND c.text_sha256 = n.text_sha256)"""
            )
        finally:
            con.unregister("_new_vectors")
        vectors.update({k: v for (k, _), v in zip(block, encoded)})
        done = min(start + len(block), len(missing))
        if len(missing) > PROGRESS_BLOCK:
            counter.update(done)
        if progress:
            progress(done, len(missing))
    if missing:
        log.info("model %s: embedded %d new texts, %d from cache", model_id, len(missing), len(set(keys)) - len(missing))
    dim = next(iter(vectors.values())).shape[0] if vectors else 0
    matrix = np.stack([vectors[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)
    return matrix, len(missing)


def dense_relevance(con: duckdb.DuckDBPyConnection, encoder: Encoder) -> Callable[[str, list[str]], list[float]]:
    """A claim-relevance scorer: cosine between the question (as a query) and each text, cached."""

    def score(question: str, texts: list[str]) -> list[float]:
        query, _ = embed_cached(con, encoder, [question], is_query=True)
        vectors, _ = embed_cached(con, encoder, texts)
        return (vectors @ query[0]).astype(float).tolist()

    return score


VECTOR_ROW_COLUMNS = ("question_id", "item_type", "item_id", "paper_id", "text_sha256", "vector")


def embed_items(
    con: duckdb.DuckDBPyConnection,
    encoder: Encoder,
    question_id: str,
    items: Sequence[tuple[str, str, str, str]],
    *,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pa.Table, int]:
    """Vectors for (item_type, item_id, paper_id, text) items as rows of a vector table.

    Claims are embedded as queries (they are what retrieval_metrics searches with), chunks as
    documents; both go through the cache. Returns the rows and the number of cache misses.
    """
    rows: dict[str, list] = {c: [] for c in VECTOR_ROW_COLUMNS}
    misses = 0
    for item_type, is_query in (("chunk", False), ("claim", True)):
        chosen = [i for i in items if i[0] == item_type]
        texts = [text for _, _, _, text in chosen]
        vectors, computed = embed_cached(con, encoder, texts, is_query=is_query, batch_size=batch_size, progress=progress)
        misses += computed
        rows["question_id"] += [question_id] * len(chosen)
        rows["item_type"] += [item_type] * len(chosen)
        rows["item_id"] += [item_id for _, item_id, _, _ in chosen]
        rows["paper_id"] += [paper_id for _, _, paper_id, _ in chosen]
        rows["text_sha256"] += [cache_key(encoder, t, is_query=is_query) for t in texts]
        rows["vector"] += [v.tolist() for v in vectors]
    dim = int(encoder.spec.dim)
    schema = pa.schema([(c, pa.string()) for c in VECTOR_ROW_COLUMNS[:-1]] + [("vector", pa.list_(pa.float32(), dim))])
    return pa.table(rows, schema=schema), misses
