"""A DuckLake writer process for tests/test_ducklake.py (run as ``python -m tests.lake_writer``).

Replaces question partitions of ``question_papers`` through ``open_lake`` + ``replace_rows``,
``--rounds`` times each; every row of one write carries the tag ``<writer>:<round>`` in
``selection_reason``, so a test can tell whose complete write a partition holds. Prints one
JSON line when done. ``--announce-commit`` prints ``COMMITTING`` (flushed) just before each
COMMIT, so the test can SIGKILL the process in the middle of it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]


def rows(question_id: str, n: int, tag: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "question_id": [question_id] * n,
            "paper_id": [f"paper-{i:06d}" for i in range(n)],
            "bm25_score": [float(i) for i in range(n)],
            "bm25_rank": [i + 1 for i in range(n)],
            "dense_similarity": [1.0 / (i + 1) for i in range(n)],
            "dense_rank": [i + 1 for i in range(n)],
            "fused_score": [2.0 / (i + 60) for i in range(n)],
            "rank": [i + 1 for i in range(n)],
            "selected": [i < 12 for i in range(n)],
            "selection_reason": [tag] * n,
            "dense_model": ["minilm-l6"] * n,
        },
        schema_overrides={"bm25_rank": pl.Int32, "dense_rank": pl.Int32, "rank": pl.Int32},
    )


def _announcing_transaction():
    from litsynth import warehouse

    @contextlib.contextmanager
    def transaction(con):
        con.execute("BEGIN TRANSACTION")
        try:
            yield
            print("COMMITTING", flush=True)
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
            raise

    warehouse._transaction = transaction


def _compute(seconds: float) -> None:
    """Busy CPU work on one core for about ``seconds``."""
    deadline, x = time.process_time() + seconds, 0
    while time.process_time() < deadline:
        for i in range(10_000):
            x = (x * 31 + i) % 1_000_003


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", default="")
    parser.add_argument("--data-path", required=True)
    parser.add_argument("--writer", required=True)
    parser.add_argument("--questions", required=True, help="comma-separated question ids (partitions) to replace")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--announce-commit", action="store_true")
    parser.add_argument("--backend", choices=("ducklake", "duckdb"), default="ducklake", help="duckdb: --data-path is the warehouse file")
    parser.add_argument("--compute-s", type=float, default=0.0, help="CPU work (one thread) inside the open connection before each write, as an asset computing while it holds the warehouse")
    args = parser.parse_args(argv)

    from litsynth.config import WarehouseSettings
    from litsynth.lake import open_lake
    from litsynth.warehouse import _WRITE_GUARDS, replace_rows

    if args.announce_commit:
        _announcing_transaction()
    started = time.monotonic()
    written = 0
    if args.backend == "ducklake":
        opened = open_lake(WarehouseSettings(backend="ducklake", catalog_dsn=args.dsn, data_path=args.data_path), ROOT)
    else:
        from litsynth.warehouse import open_warehouse

        opened = open_warehouse(Path(args.data_path))
    with opened as con:
        guard = _WRITE_GUARDS.get(id(con))
        for round_ in range(args.rounds):
            for question in args.questions.split(","):
                if args.compute_s:
                    _compute(args.compute_s)
                written += replace_rows(con, "question_papers", rows(question, args.rows, f"{args.writer}:{round_}"), {"question_id": question})
        conflicts = guard.conflicts if guard is not None else 0
    print(json.dumps({"writer": args.writer, "rows_written": written, "conflicts_retried": conflicts, "seconds": round(time.monotonic() - started, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
