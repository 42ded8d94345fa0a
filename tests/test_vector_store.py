"""Vector tables in DuckDB: HNSW is used (EXPLAIN) and agrees with exact search; the cache embeds once."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from litsynth.config import ModelSpec
from litsynth.embeddings import embed_cached
from litsynth.retrieval.vector_store import ensure_vector_table, exact_search, hnsw_plan, hnsw_search, vector_table
from litsynth.warehouse import open_warehouse, replace_rows

SPEC = ModelSpec(id="toy-16", family="sentence-transformers", hub="none", dim=16, max_seq_length=32)


def _random_unit(n: int, dim: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def filled_table(tmp_path):
    vectors = _random_unit(3000, SPEC.dim, seed=1)
    with open_warehouse(tmp_path / "w.duckdb") as con:
        table = ensure_vector_table(con, SPEC)
        rows = pl.DataFrame(
            {
                "question_id": ["q"] * len(vectors),
                "item_type": ["chunk"] * len(vectors),
                "item_id": [f"c{i:05d}" for i in range(len(vectors))],
                "paper_id": ["p"] * len(vectors),
                "text_sha256": ["x"] * len(vectors),
                "vector": vectors,
            },
            schema_overrides={"vector": pl.Array(pl.Float32, SPEC.dim)},
        )
        replace_rows(con, table, rows, {"question_id": "q"})
        yield con, table, vectors


def test_vector_table_name_is_checked():
    assert vector_table("minilm-l6") == "embeddings_minilm_l6"
    with pytest.raises(ValueError):
        vector_table("x; DROP TABLE papers")


def test_hnsw_plan_is_used_and_agrees_with_exact_search(filled_table):
    con, table, vectors = filled_table
    queries = _random_unit(25, SPEC.dim, seed=2)
    assert "HNSW_INDEX_SCAN" in hnsw_plan(con, table, queries[0], 10)
    overlap = []
    for query in queries:
        exact = exact_search(con, table, query, 10)
        approximate = hnsw_search(con, table, query, 10)
        truth = np.argsort(-(vectors @ query))[:10]
        assert [item for item, _ in exact] == [f"c{i:05d}" for i in truth]
        assert exact[0][1] == pytest.approx(float(vectors[truth[0]] @ query), abs=1e-5)
        overlap.append(len({i for i, _ in exact} & {i for i, _ in approximate}) / 10)
    assert np.mean(overlap) >= 0.9


class CountingEncoder:
    """A deterministic stand-in for a model, counting what it is asked to encode."""

    spec = SPEC

    def __init__(self):
        self.encoded: list[str] = []

    def encode(self, texts, *, is_query=False, batch_size=64):
        self.encoded += texts
        return np.stack([_random_unit(1, SPEC.dim, seed=sum(map(ord, t)))[0] for t in texts])


def test_cache_embeds_each_text_once_per_model(tmp_path):
    encoder = CountingEncoder()
    with open_warehouse(tmp_path / "w.duckdb") as con:
        first, misses = embed_cached(con, encoder, ["a claim.", "a chunk", "a claim."])
        assert misses == 2 and sorted(encoder.encoded) == ["a chunk", "a claim."]  # each once, shortest first
        second, misses = embed_cached(con, encoder, ["a chunk", "a claim.", "new text"])
        assert misses == 1 and encoder.encoded[-1] == "new text"
        np.testing.assert_allclose(second[0], first[1])
        np.testing.assert_allclose(second[1], first[0])
