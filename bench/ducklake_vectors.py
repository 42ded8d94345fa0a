"""Vector search under DuckLake (no indexes) vs the DuckDB file backend (HNSW index), k=10.

The same N minilm-l6 vectors of real scientific text (bench/vector_search.py's text corpus and
its cache; queries are SciFact training claims) are written in question partitions
(``--partitions``, as the embeddings asset writes embeddings_<model>) to

- the DuckDB file: sql/templates/embeddings.sql (FLOAT[384]) + the vss HNSW index, built once
  after the load as bench/vector_search.py does;
- a DuckLake on a throw-away PostgreSQL 15 (tests/postgres.py) + a local Parquet data folder,
  through litsynth.lake (FLOAT[] lists, no index).

Methods, all over the whole table unless "question" is in the name:

- file_exact:   vector_store.exact_search (array_cosine_similarity over every row)
- file_hnsw:    vector_store.hnsw_search (HNSW_INDEX_SCAN checked)
- lake_exact:   lake.lake_exact_search (cast to FLOAT[384], scan of the lake's Parquet/inlined rows)
- lake_local_hnsw: lake.LocalVectorIndex (HNSW in a local in-memory DuckDB, built from the
                lake, then kept current from the lake's change feed); its build time, the
                cost of a sync when nothing changed, and of an incremental sync after a
                sync_partition that swaps 10 rows of one partition are reported
- file_exact_question / lake_exact_question: exact search within one question partition,
                the pipeline's per-question case

Queries are interleaved method by method. Ground truth: numpy's exact top-10.

    PYTHONPATH=$PWD .venv/bin/python bench/ducklake_vectors.py [--n 20000] [--queries 200] [--partitions 20]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine_info, median, parser, percentile, write_json  # noqa: E402

K = 10
DIM = 384


def log(msg: str) -> None:
    print(f"[ducklake_vectors] {msg}", file=sys.stderr, flush=True)


def frame(vectors, partitions: int):
    import numpy as np
    import polars as pl

    n = len(vectors)
    question = [f"q{i % partitions:03d}" for i in range(n)]
    return pl.DataFrame(
        {
            "question_id": question,
            "item_type": ["chunk"] * n,
            "item_id": [f"item-{i:07d}" for i in range(n)],
            "paper_id": [f"paper-{i // 10:06d}" for i in range(n)],
            "text_sha256": [f"{i:064x}" for i in range(n)],
            "vector": np.asarray(vectors, dtype=np.float32).tolist(),
        },
        schema_overrides={"vector": pl.List(pl.Float32)},
    )


def summary(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"median_ms": round(median(ms), 3), "p95_ms": round(percentile(ms, 95), 3)}


def main(argv: list[str] | None = None) -> int:
    p = parser("ducklake_vectors", __doc__)
    p.add_argument("--n", type=int, default=20_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--partitions", type=int, default=20)
    p.add_argument("--threads", type=int, default=1, help="DuckDB threads while querying (every method alike)")
    args = p.parse_args(argv)

    import numpy as np
    import polars as pl

    from litsynth.config import WarehouseSettings
    from litsynth.lake import LocalVectorIndex, ensure_lake_vector_table, lake_exact_search, open_lake
    from litsynth.retrieval.vector_store import TEMPLATE, exact_search, hnsw_plan, hnsw_search
    from litsynth.warehouse import open_warehouse, replace_rows, sync_partition
    from tests.postgres import remove, start_postgres
    from vector_search import text_vectors

    info = machine_info()
    vectors, queries = text_vectors(args.data, args.n, args.queries, 2)
    vectors, queries = np.asarray(vectors, dtype=np.float32)[: args.n], np.asarray(queries, dtype=np.float32)[: args.queries]
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :K]
    rows = frame(vectors, args.partitions)
    table = "embeddings_minilm_l6"
    index_of = {f"item-{i:07d}": i for i in range(len(vectors))}
    partitions = rows.partition_by("question_id", as_dict=True)

    with tempfile.TemporaryDirectory(prefix="litsynth-bench-") as tmp:
        tmp = Path(tmp)
        server = start_postgres()
        try:
            # --- file backend
            started = time.monotonic()
            file_con_cm = open_warehouse(tmp / "warehouse.duckdb")
            file_con = file_con_cm.__enter__()
            file_con.execute(TEMPLATE.read_text(encoding="utf-8").format(table=table, dim=DIM))
            for (question,), part in partitions.items():
                replace_rows(file_con, table, part, {"question_id": question})
            file_load_s = time.monotonic() - started
            started = time.monotonic()
            file_con.execute(f"CREATE INDEX {table}_hnsw ON {table} USING HNSW (vector) WITH (metric = 'cosine')")
            file_index_s = time.monotonic() - started
            assert "HNSW_INDEX_SCAN" in hnsw_plan(file_con, table, queries[0], K)

            # --- lake backend
            settings = WarehouseSettings(backend="ducklake", catalog_dsn=server.create_database("bench_lake"), data_path=str(tmp / "lake"))
            lake_cm = open_lake(settings, ROOT)
            lake_con = lake_cm.__enter__()
            ensure_lake_vector_table(lake_con, table, DIM)
            started = time.monotonic()
            for (question,), part in partitions.items():
                replace_rows(lake_con, table, part, {"question_id": question})
            lake_load_s = time.monotonic() - started
            local = LocalVectorIndex(table, DIM)
            local.sync(lake_con)
            lake_local_build_s = local.build_seconds
            unchanged_sync_started = time.monotonic()
            assert local.sync(lake_con) is False
            lake_sync_unchanged_s = time.monotonic() - unchanged_sync_started
            assert "HNSW_INDEX_SCAN" in hnsw_plan(local.connection, table, queries[0], K)
            lake_files = lake_con.execute("SELECT file_count, file_size_bytes FROM ducklake_table_info('lake') WHERE table_name = ?", [table]).fetchone()

            for con in (file_con, lake_con, local.connection):
                con.execute(f"SET threads = {args.threads}")
            methods = {
                "file_exact": lambda q: exact_search(file_con, table, q, K),
                "file_hnsw": lambda q: hnsw_search(file_con, table, q, K),
                "lake_exact": lambda q: lake_exact_search(lake_con, table, q, K),
                "lake_local_hnsw": lambda q: local.search(q, K),
                "file_exact_question": lambda q: exact_search(file_con, table, q, K, question_id="q000"),
                "lake_exact_question": lambda q: lake_exact_search(lake_con, table, q, K, question_id="q000"),
            }
            q000 = np.flatnonzero(rows["question_id"].to_numpy() == "q000")
            truth_q = q000[np.argsort(-(queries @ vectors[q000].T), axis=1)[:, :K]]
            for method in methods.values():  # warm-up
                method(queries[0])
            latencies = {m: [] for m in methods}
            found = {m: [] for m in methods}
            for i, query in enumerate(queries):
                order = list(methods) if i % 2 == 0 else list(reversed(methods))
                for m in order:
                    started = time.perf_counter()
                    result = methods[m](query)
                    latencies[m].append(time.perf_counter() - started)
                    found[m].append([index_of[item] for item, _ in result])
            results = {}
            for m in methods:
                gold = truth_q if m.endswith("_question") else truth
                recall = sum(len(set(f) & set(t.tolist())) for f, t in zip(found[m], gold)) / (K * len(gold))
                results[m] = {"recall_at_10": round(recall, 4), **summary(latencies[m])}
            # a small change (the embeddings asset's sync_partition after one edited paper: 10 rows
            # out, 10 in) reaches the local copy through the change feed, not a rebuild
            q0 = partitions[("q000",)]
            changed = pl.concat([q0.slice(10), q0.head(10).with_columns(pl.format("{}-edited", pl.col("item_id")).alias("item_id"))])
            sync_partition(lake_con, table, changed, {"question_id": "q000"}, ["item_type", "item_id", "paper_id", "text_sha256"])
            assert local.sync(lake_con) and local.last_sync == "incremental"
            lake_incremental_sync_s = local.build_seconds
            local.close()
            lake_cm.__exit__(None, None, None)
            file_con_cm.__exit__(None, None, None)
            lake_bytes = sum(f.stat().st_size for f in (tmp / "lake").rglob("*") if f.is_file())
            file_bytes = (tmp / "warehouse.duckdb").stat().st_size
        finally:
            remove(server)

    report = {
        "benchmark": "ducklake_vectors",
        "command": "PYTHONPATH=$PWD .venv/bin/python bench/ducklake_vectors.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "n_vectors": int(len(vectors)),
        "dim": DIM,
        "queries": int(len(queries)),
        "partitions": args.partitions,
        "rows_per_partition": int(len(vectors) // args.partitions),
        "k": K,
        "threads": args.threads,
        "methods": results,
        "speedup_vs_lake_exact": {m: round(results["lake_exact"]["median_ms"] / r["median_ms"], 2) for m, r in results.items()},
        "load": {
            "file_write_s": round(file_load_s, 2),
            "file_hnsw_build_s": round(file_index_s, 2),
            "lake_write_s": round(lake_load_s, 2),
            "lake_local_hnsw_build_s": round(lake_local_build_s, 2),
            "lake_sync_when_unchanged_ms": round(lake_sync_unchanged_s * 1000, 2),
            "lake_local_hnsw_incremental_sync_20_changed_rows_s": round(lake_incremental_sync_s, 3),
            "lake_table_files": int(lake_files[0]),
            "lake_data_bytes": int(lake_bytes),
            "file_bytes": int(file_bytes),
        },
        "machine": info,
    }
    write_json(args.out, report)
    log(f"wrote {args.out}")
    for m, r in results.items():
        log(f"{m:22s} recall@10 {r['recall_at_10']:.3f}  median {r['median_ms']:8.2f} ms  p95 {r['p95_ms']:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
