"""The warehouse: offline extensions, schema, atomic partition replacement, the write lock."""

from __future__ import annotations

import multiprocessing

import polars as pl
import pytest

from litsynth.warehouse import WarehouseBusy, _exclusive_lock, open_warehouse, replace_rows, table_counts


def _question_rows(question_id: str, papers: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "question_id": [question_id] * len(papers),
            "paper_id": papers,
            "bm25_score": [1.0] * len(papers),
            "bm25_rank": list(range(1, len(papers) + 1)),
            "dense_similarity": [0.5] * len(papers),
            "dense_rank": list(range(1, len(papers) + 1)),
            "fused_score": [0.1] * len(papers),
            "rank": list(range(1, len(papers) + 1)),
            "selected": [True] * len(papers),
            "selection_reason": ["test"] * len(papers),
            "dense_model": ["minilm-l6"] * len(papers),
        }
    )


def test_extensions_load_offline_and_schema_exists(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        loaded = {r[0] for r in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
        assert {"fts", "vss"} <= loaded
        assert {"documents", "papers", "question_papers", "questions", "embedding_cache"} <= set(table_counts(con))


def test_replace_rows_replaces_only_its_partition(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        replace_rows(con, "question_papers", _question_rows("q1", ["a", "b"]), {"question_id": "q1"})
        replace_rows(con, "question_papers", _question_rows("q2", ["a"]), {"question_id": "q2"})
        replace_rows(con, "question_papers", _question_rows("q1", ["c"]), {"question_id": "q1"})
        rows = con.execute("SELECT question_id, paper_id FROM question_papers ORDER BY ALL").fetchall()
    assert rows == [("q1", "c"), ("q2", "a")]


def test_a_failed_write_leaves_the_partition_as_it_was(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        replace_rows(con, "question_papers", _question_rows("q1", ["a", "b"]), {"question_id": "q1"})
        duplicate_key = _question_rows("q1", ["x", "x"])  # violates the primary key mid-insert
        with pytest.raises(Exception, match="(?i)constraint|duplicate"):
            replace_rows(con, "question_papers", duplicate_key, {"question_id": "q1"})
        rows = con.execute("SELECT paper_id FROM question_papers ORDER BY 1").fetchall()
    assert rows == [("a",), ("b",)]


def test_rows_outside_the_partition_and_unknown_columns_are_refused(tmp_path):
    with open_warehouse(tmp_path / "w.duckdb") as con:
        with pytest.raises(ValueError, match="must all have question_id='q1'"):
            replace_rows(con, "question_papers", _question_rows("q2", ["a"]), {"question_id": "q1"})
        with pytest.raises(KeyError, match="no column"):
            replace_rows(con, "question_papers", _question_rows("q1", ["a"]).with_columns(pl.lit(1).alias("bogus")), {"question_id": "q1"})
        with pytest.raises(KeyError, match="not in the warehouse schema"):
            replace_rows(con, "no_such_table; DROP TABLE papers", _question_rows("q1", ["a"]))


def _hold_lock(path, held, release):
    with _exclusive_lock(path, 60):
        held.set()
        release.wait(60)


def test_a_second_writer_waits_for_the_lock_and_times_out_clearly(tmp_path):
    lock = tmp_path / "w.duckdb.lock"
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock, args=(lock, held, release))
    holder.start()
    try:
        assert held.wait(60)
        with pytest.raises(WarehouseBusy, match="held the warehouse"):
            with _exclusive_lock(lock, 0.3):
                pass
        release.set()
        with _exclusive_lock(lock, 30):  # waits for the holder instead of failing
            holder.join(30)
            assert not holder.is_alive()
    finally:
        release.set()
        holder.join()


def _vectors(question_id: str, texts: dict[str, str]) -> pl.DataFrame:
    """Rows of a 4-d vector table: one per item, the vector derived from the text hash."""
    import hashlib

    rows = []
    for item_id, text in texts.items():
        digest = hashlib.sha256(text.encode()).digest()
        rows.append({"question_id": question_id, "item_type": "chunk", "item_id": item_id, "paper_id": "p",
                     "text_sha256": digest.hex(), "vector": [b / 255 for b in digest[:4]]})
    schema = {"question_id": pl.Utf8, "item_type": pl.Utf8, "item_id": pl.Utf8, "paper_id": pl.Utf8, "text_sha256": pl.Utf8, "vector": pl.Array(pl.Float32, 4)}
    return pl.DataFrame(rows, schema=schema)


def test_sync_partition_ends_like_replace_rows_and_touches_only_changes(tmp_path):
    from litsynth.config import ModelSpec
    from litsynth.retrieval.vector_store import ensure_vector_table
    from litsynth.warehouse import sync_partition

    spec = ModelSpec(id="tiny-4", family="sentence-transformers", hub="none", dim=4, max_seq_length=16)
    match = ["item_type", "item_id", "paper_id", "text_sha256"]
    first = {f"c{i}": f"text {i}" for i in range(50)}
    second = {**{k: v for k, v in first.items() if k != "c0"}, "c1": "text 1, edited", "c50": "text 50"}
    with open_warehouse(tmp_path / "sync.duckdb") as synced, open_warehouse(tmp_path / "replaced.duckdb") as replaced:
        tables = [ensure_vector_table(con, spec) for con in (synced, replaced)]
        for con, table in zip((synced, replaced), tables):
            replace_rows(con, table, _vectors("other", {"x": "bystander"}), {"question_id": "other"})
        assert sync_partition(synced, tables[0], _vectors("q", first), {"question_id": "q"}, match) == (0, 50)
        assert sync_partition(synced, tables[0], _vectors("q", first), {"question_id": "q"}, match) == (0, 0)  # a re-run writes nothing
        assert sync_partition(synced, tables[0], _vectors("q", second), {"question_id": "q"}, match) == (2, 2)  # c0 gone, c1 edited, c50 new
        replace_rows(replaced, tables[1], _vectors("q", second), {"question_id": "q"})
        query = f"SELECT * FROM {tables[0]} ORDER BY ALL"
        assert synced.execute(query).fetchall() == replaced.execute(query).fetchall()
        assert synced.execute(f"SELECT count(*) FROM {tables[0]} WHERE question_id = 'other'").fetchone() == (1,)
        assert sync_partition(synced, tables[0], _vectors("q", {}), {"question_id": "q"}, match) == (50, 0)  # empty: partition emptied
        with pytest.raises(KeyError, match="no_such_column"):
            sync_partition(synced, tables[0], _vectors("q", first), {"question_id": "q"}, ["no_such_column"])
