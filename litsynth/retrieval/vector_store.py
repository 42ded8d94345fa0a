"""Per-model vector tables in DuckDB and search over them: exact and HNSW (vss extension).

Each catalog model gets ``embeddings_<model id>`` with a fixed-size ``FLOAT[dim]`` column
(sql/templates/embeddings.sql) and a persistent HNSW index on it. Exact search scores every
row with ``array_cosine_similarity``; HNSW search is an ``ORDER BY array_cosine_distance …
LIMIT k`` that the planner answers from the index (``HNSW_INDEX_SCAN`` in EXPLAIN) when the
query vector is a typed parameter and there is no WHERE clause.
"""

from __future__ import annotations

import re

import duckdb
import numpy as np

from litsynth.config import ModelSpec, project_root

TEMPLATE = project_root() / "sql" / "templates" / "embeddings.sql"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def vector_table(model_id: str) -> str:
    """The table name of a model's vectors (model ids are validated partition keys)."""
    name = "embeddings_" + model_id.replace("-", "_")
    if not _IDENTIFIER.match(name):
        raise ValueError(f"model id {model_id!r} does not make a valid table name")
    return name


def ensure_vector_table(con: duckdb.DuckDBPyConnection, spec: ModelSpec) -> str:
    """Create the model's vector table and its HNSW index if missing; returns the table name."""
    if not spec.dim:
        raise ValueError(f"model {spec.id!r} has no dimension; only dense models have vector tables")
    table = vector_table(spec.id)
    from litsynth.lake import ensure_lake_vector_table, is_lake

    if is_lake(con):  # DuckLake: FLOAT[] lists and no index (searched by lake_exact_search)
        return ensure_lake_vector_table(con, table, int(spec.dim))
    con.execute(TEMPLATE.read_text(encoding="utf-8").format(table=table, dim=int(spec.dim)))
    con.execute(f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} USING HNSW (vector) WITH (metric = 'cosine')")
    return table


def _dimension(con: duckdb.DuckDBPyConnection, table: str) -> int:
    (dtype,) = con.execute(
        "SELECT data_type FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? AND column_name = 'vector'",
        [table],
    ).fetchone()
    return int(re.search(r"\[(\d+)\]", dtype).group(1))


def _checked(table: str) -> str:
    if not _IDENTIFIER.match(table):
        raise ValueError(f"{table!r} is not a vector table name")
    return table


def exact_search(
    con: duckdb.DuckDBPyConnection, table: str, query: np.ndarray, k: int, *, question_id: str | None = None, item_type: str | None = None
) -> list[tuple[str, float]]:
    """(item_id, cosine similarity) of the k nearest rows, scoring every row."""
    dim = _dimension(con, _checked(table))
    rows = con.execute(
        f"""
        SELECT item_id, array_cosine_similarity(vector, ?::FLOAT[{dim}]) AS score FROM {table}
        WHERE (? IS NULL OR question_id = ?) AND (? IS NULL OR item_type = ?)
        ORDER BY score DESC, item_id LIMIT ?
        """,
        [query.astype(np.float32).tolist(), question_id, question_id, item_type, item_type, k],
    ).fetchall()
    return [(item_id, float(score)) for item_id, score in rows]


# The planner uses the index only for ORDER BY <distance> LIMIT k over the bare table; a
# projection computing a similarity from the distance makes it fall back to a full scan.
HNSW_SQL = "SELECT item_id, array_cosine_distance(vector, ?::FLOAT[{dim}]) AS distance FROM {table} ORDER BY distance LIMIT ?"


def hnsw_search(con: duckdb.DuckDBPyConnection, table: str, query: np.ndarray, k: int) -> list[tuple[str, float]]:
    """(item_id, cosine similarity) of about the k nearest rows, from the HNSW index."""
    dim = _dimension(con, _checked(table))
    vector = query.astype(np.float32).tolist()
    rows = con.execute(HNSW_SQL.format(dim=dim, table=table), [vector, k]).fetchall()
    return [(item_id, 1.0 - float(distance)) for item_id, distance in rows]


def hnsw_plan(con: duckdb.DuckDBPyConnection, table: str, query: np.ndarray, k: int) -> str:
    """The physical plan of ``hnsw_search`` (contains HNSW_INDEX_SCAN when the index is used)."""
    dim = _dimension(con, _checked(table))
    vector = query.astype(np.float32).tolist()
    rows = con.execute("EXPLAIN " + HNSW_SQL.format(dim=dim, table=table), [vector, k]).fetchall()
    return "\n".join(r[-1] for r in rows)
