"""Okapi BM25 through DuckDB's fts extension (loaded offline from its pip package).

The index is built in a scratch in-memory database, so ranking never writes to the warehouse.
Tokenisation: lower-cased, accents stripped, Porter-stemmed, English stop words removed, and
digits kept (``R@1`` and ``MSCOCO`` style tokens matter in retrieval research).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from litsynth.warehouse import memory_connection


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    stemmer: str = "porter"
    stopwords: str = "english"
    ignore: str = r"(\.|[^a-z0-9])+"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class BM25Index:
    """An fts index over (doc_id, text) pairs, queried one query at a time."""

    def __init__(self, documents: Sequence[tuple[str, str]], params: BM25Params = BM25Params()) -> None:
        self.params = params
        self.con = memory_connection()
        table = pa.table({"doc_id": [d for d, _ in documents], "body": [t for _, t in documents]})
        self.con.register("_documents", table)
        self.con.execute("CREATE TABLE documents AS SELECT * FROM _documents")
        self.con.unregister("_documents")
        # PRAGMA takes no bound parameters; the options are code-level settings, quoted here.
        options = ", ".join(f"{name} = {_quote(value)}" for name, value in (("stemmer", params.stemmer), ("stopwords", params.stopwords), ("ignore", params.ignore)))
        self.con.execute(f"PRAGMA create_fts_index('documents', 'doc_id', 'body', {options}, strip_accents = 1, lower = 1, overwrite = 1)")

    def search(self, query: str, top_k: int | None = None) -> list[tuple[str, float]]:
        """(doc_id, score) best first; documents matching no query term are left out."""
        rows = self.con.execute(
            """
            SELECT doc_id, score FROM (
                SELECT doc_id, fts_main_documents.match_bm25(doc_id, ?, k := ?, b := ?) AS score FROM documents
            ) WHERE score IS NOT NULL ORDER BY score DESC, doc_id LIMIT ?
            """,
            [query, self.params.k1, self.params.b, top_k if top_k is not None else 2**62],
        ).fetchall()
        return [(doc_id, float(score)) for doc_id, score in rows]

    def close(self) -> None:
        self.con.close()
