"""Vector search in the warehouse: exact scan vs the DuckDB vss HNSW index, with FAISS HNSW as a peer.

100,000 vectors of dimension 384 go into a vector table made by the pipeline's own code
(ensure_vector_table's FLOAT[384] table, rows written by replace_rows as the embeddings asset
writes them, then the same CREATE INDEX ... USING HNSW ... metric='cosine' statement; the index
is built once over the loaded rows, because maintaining it row by row during a 100k insert
costs ~10x more) in a temporary warehouse file. k=10. Two kinds of vectors (--vectors):

- text (default): minilm-l6 embeddings of real scientific text: the SciFact corpus's
  sentences, adjacent-sentence pairs and titles, the arXiv records' titles and abstract
  sentences, then SciFact runs of three sentences: the first N distinct texts; queries are the first 200 SciFact training claims.
  This is what the pipeline stores. Vectors are cached under var/bench-cache/.
- random: seeded standard-normal unit vectors and queries, the worst case for any HNSW (no
  low-dimensional structure); reported as a bound, not as the pipeline's case.

Methods:

- exact: litsynth.retrieval.vector_store.exact_search (array_cosine_similarity over every row)
- hnsw:  litsynth.retrieval.vector_store.hnsw_search (plan checked for HNSW_INDEX_SCAN),
         at the index's ef_search (vss default 64) and with SET hnsw_ef_search = 128, 256, ...
- faiss: IndexHNSWFlat(384, M=16, inner product on the normalised vectors), efConstruction
         128 (vss's default), efSearch swept the same way; one query per search call.

Exact and HNSW queries are interleaved query by query (alternating which goes first) so that
load on the shared machine hits both alike. Ground truth is numpy's exact top-10.

Targets: HNSW recall@10 >= 0.95 against exact, HNSW median latency >= 10x faster than exact.

    .venv/bin/python bench/vector_search.py [--n 100000] [--queries 200] [--vectors text|random] [--threads 1]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, arxiv_records, machine_info, median, parser, percentile, write_json  # noqa: E402

DIM = 384
K = 10
TARGET_RECALL = 0.95
TARGET_SPEEDUP = 10.0
VSS_DEFAULTS = {"M": 16, "M0": 32, "ef_construction": 128, "ef_search": 64}


def unit_vectors(n: int, seed: int):
    import numpy as np

    x = np.random.default_rng(seed).standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def text_corpus(data: Path, n: int) -> list[str]:
    """The first ``n`` distinct texts of the SciFact corpus and the arXiv records (see module doc)."""
    import json

    from litsynth.verify.evidence import sentence_texts

    scifact = [json.loads(line) for line in (data / "scifact" / "corpus.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]

    def candidates():
        for record in scifact:
            abstract = record["abstract"]
            yield from abstract
            yield from (f"{a} {b}" for a, b in zip(abstract, abstract[1:]))
        yield from (record["title"] for record in scifact)
        for record in arxiv_records(data):
            yield record.get("title", "")
            yield from sentence_texts(record.get("summary") or record.get("abstract") or "")
        for record in scifact:
            abstract = record["abstract"]
            yield from (" ".join(abstract[i : i + 3]) for i in range(len(abstract) - 2))

    seen: dict[str, None] = {}
    for text in candidates():
        text = " ".join(text.split())
        if text and text not in seen:
            seen[text] = None
            if len(seen) == n:
                break
    if len(seen) < n:
        raise SystemExit(f"only {len(seen)} distinct texts under {data}; pass a smaller --n")
    return list(seen)


def text_vectors(data: Path, n: int, queries: int, threads: int):
    """minilm-l6 embeddings of ``text_corpus`` and of the first SciFact claims, cached on disk."""
    import json

    import numpy as np

    cache = ROOT / "var" / "bench-cache" / f"vector_search_minilm_{n}_{queries}.npz"
    if cache.is_file():
        saved = np.load(cache)
        return saved["vectors"], saved["queries"]
    import torch

    from litsynth.config import load_catalog
    from litsynth.models.text_encoder import load_text_encoder

    torch.set_num_threads(threads)
    encoder = load_text_encoder(load_catalog(ROOT / "models.yaml").get("minilm-l6"), ROOT)
    claims = [json.loads(line)["claim"] for line in (data / "scifact" / "claims_train.jsonl").read_text(encoding="utf-8").splitlines()[:queries]]
    vectors = encoder.encode(text_corpus(data, n), batch_size=128)
    query_vectors = encoder.encode(claims, is_query=True)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, vectors=vectors, queries=query_vectors)
    return vectors, query_vectors


def recall(found: list[list[int]], truth) -> float:
    return sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth)) / (K * len(found))


def latency_summary(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"median_ms": median(ms), "p95_ms": percentile(ms, 95), "mean_ms": sum(ms) / len(ms)}


def main(argv: list[str] | None = None) -> int:
    p = parser("vector_search", __doc__)
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--seed", type=int, default=20240501, help="seed of the random vectors")
    p.add_argument("--vectors", choices=("text", "random"), default="text")
    p.add_argument("--threads", type=int, default=1, help="DuckDB and FAISS threads while querying (both sides alike)")
    p.add_argument("--build-threads", type=int, default=os.cpu_count(), help="DuckDB and FAISS threads while building (default: all cores, DuckDB's default)")
    p.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256, 512], help="ef_search values to sweep (first = vss default)")
    p.add_argument("--faiss-ef-construction", type=int, default=VSS_DEFAULTS["ef_construction"])
    args = p.parse_args(argv)

    import duckdb
    import faiss
    import numpy as np
    import polars as pl

    from litsynth.config import ModelSpec
    from litsynth.retrieval.vector_store import HNSW_SQL, exact_search, hnsw_plan, hnsw_search
    from litsynth.retrieval.vector_store import ensure_vector_table
    from litsynth.warehouse import open_warehouse, replace_rows

    began = time.perf_counter()
    log = lambda msg: print(f"[{time.perf_counter() - began:6.1f}s] {msg}", file=sys.stderr, flush=True)  # noqa: E731

    if args.vectors == "text":
        log("embedding the texts with minilm-l6 (cached after the first run)")
        vectors, queries = text_vectors(args.data, args.n, args.queries, args.build_threads)
    else:
        vectors, queries = unit_vectors(args.n, args.seed), unit_vectors(args.queries, args.seed + 1)
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :K]  # numpy exact top-k
    ids = [f"v{i:06d}" for i in range(args.n)]
    to_index = lambda rows: [int(item[1:]) for item, _ in rows]  # noqa: E731
    spec = ModelSpec(id="bench-384", family="sentence-transformers", hub="none", dim=DIM, max_seq_length=32)

    report: dict = {
        "benchmark": "vector_search",
        "machine": machine_info(query_threads=args.threads, build_threads=args.build_threads, duckdb=duckdb.__version__, faiss=faiss.__version__),
        "parameters": {
            "n": args.n, "dim": DIM, "queries": args.queries, "k": K, "seed": args.seed,
            "query_threads": args.threads, "build_threads": args.build_threads,
            "vectors": {"text": "minilm-l6 embeddings of SciFact sentences, sentence pairs and titles, then arXiv titles and sentences; queries: SciFact training claims",
                        "random": "standard normal, L2-normalised (float32)"}[args.vectors],
            "duckdb_index": "CREATE INDEX ... USING HNSW (vector) WITH (metric = 'cosine'), vss defaults, the statement of ensure_vector_table",
            "vss_defaults": VSS_DEFAULTS,
            "insert_path": "replace_rows into the ensure_vector_table table, then the index built once over the loaded rows",
            "faiss": {"index": "IndexHNSWFlat", "M": 16, "metric": "METRIC_INNER_PRODUCT", "efConstruction": args.faiss_ef_construction},
        },
    }
    with tempfile.TemporaryDirectory(prefix="bench_vss_") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        with open_warehouse(path) as con:
            con.execute(f"SET threads = {args.build_threads}")
            table = ensure_vector_table(con, spec)
            con.execute(f"DROP INDEX {table}_hnsw")  # rebuilt below, once, over the loaded rows
            frame = pl.DataFrame(
                {"question_id": "bench", "item_type": "chunk", "item_id": ids, "paper_id": "p", "text_sha256": "x", "vector": vectors},
                schema_overrides={"vector": pl.Array(pl.Float32, DIM)},
            )
            log(f"inserting {args.n} vectors into {table}")
            started = time.perf_counter()
            replace_rows(con, table, frame, {"question_id": "bench"})
            insert = time.perf_counter() - started
            started = time.perf_counter()
            ensure_vector_table(con, spec)  # CREATE INDEX IF NOT EXISTS ... USING HNSW
            index_build = time.perf_counter() - started
            insert_build = insert + index_build
            started = time.perf_counter()
            con.execute("CHECKPOINT")
            checkpoint = time.perf_counter() - started
            con.execute(f"SET threads = {args.threads}")
            log(f"insert {insert:.1f} s, index build {index_build:.1f} s, checkpoint {checkpoint:.1f} s")
            (index_sql,) = con.execute("SELECT sql FROM duckdb_indexes() WHERE table_name = ?", [table]).fetchone()
            plan = hnsw_plan(con, table, queries[0], K)
            assert "HNSW_INDEX_SCAN" in plan, plan
            report["duckdb_build"] = {
                "insert_seconds": insert, "index_build_seconds": index_build, "checkpoint_seconds": checkpoint, "index_sql": index_sql,
                "plan_has_HNSW_INDEX_SCAN": True, "warehouse_bytes_after_checkpoint": path.stat().st_size,
            }
            # Exact vs HNSW (index's own ef_search), interleaved query by query.
            for _ in range(3):  # warm-up
                exact_search(con, table, queries[0], K)
                hnsw_search(con, table, queries[0], K)
            exact_lat, hnsw_lat, exact_found, hnsw_found = [], [], [], []
            for i, q in enumerate(queries):
                order = ("exact", "hnsw") if i % 2 == 0 else ("hnsw", "exact")
                for side in order:
                    started = time.perf_counter()
                    rows = exact_search(con, table, q, K) if side == "exact" else hnsw_search(con, table, q, K)
                    elapsed = time.perf_counter() - started
                    (exact_lat if side == "exact" else hnsw_lat).append(elapsed)
                    (exact_found if side == "exact" else hnsw_found).append(to_index(rows))
            log(f"exact median {median(exact_lat) * 1000:.1f} ms, hnsw median {median(hnsw_lat) * 1000:.2f} ms")
            exact_recall = recall(exact_found, truth)
            hnsw_default_recall = recall(hnsw_found, truth)
            hnsw_vs_duckdb_exact = sum(len(set(h) & set(e)) for h, e in zip(hnsw_found, exact_found)) / (K * len(queries))

            # The same HNSW query without the wrapper's per-call catalog lookup (_dimension).
            sql = HNSW_SQL.format(dim=DIM, table=table)
            raw_lat = []
            for q in queries:
                started = time.perf_counter()
                con.execute(sql, [q.tolist(), K]).fetchall()
                raw_lat.append(time.perf_counter() - started)

            # ... and with the query vector inlined as a constant (no parameter binding of a 384-float list).
            literal_lat = []
            for q in queries:
                literal = "[" + ",".join(repr(float(v)) for v in q) + f"]::FLOAT[{DIM}]"
                started = time.perf_counter()
                con.execute(sql.replace(f"?::FLOAT[{DIM}]", literal, 1), [K]).fetchall()
                literal_lat.append(time.perf_counter() - started)

            # ef_search sweep through the documented session override.
            sweep = {}
            for ef in args.ef_search:
                con.execute(f"SET hnsw_ef_search = {int(ef)}")
                lat, found = [], []
                for q in queries:
                    started = time.perf_counter()
                    rows = hnsw_search(con, table, q, K)
                    lat.append(time.perf_counter() - started)
                    found.append(to_index(rows))
                sweep[ef] = {"recall@10": recall(found, truth), **latency_summary(lat), "raw_seconds": lat}
                log(f"duckdb ef_search={ef}: recall {sweep[ef]['recall@10']:.3f}, median {sweep[ef]['median_ms']:.2f} ms")
            con.execute("RESET hnsw_ef_search")
        warehouse_bytes = path.stat().st_size

        # Re-open: the persisted index is deserialised on first use of the table.
        started = time.perf_counter()
        with open_warehouse(path) as con:
            opened = time.perf_counter() - started
            started = time.perf_counter()
            hnsw_search(con, table, queries[0], K)
            first_query = time.perf_counter() - started
        report["duckdb_reopen"] = {"open_warehouse_seconds": opened, "first_hnsw_query_seconds": first_query}

    # FAISS peer on the same vectors.
    faiss.omp_set_num_threads(args.build_threads)
    index = faiss.IndexHNSWFlat(DIM, 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = args.faiss_ef_construction
    started = time.perf_counter()
    index.add(vectors)
    faiss_build = time.perf_counter() - started
    log(f"faiss build {faiss_build:.1f} s")
    faiss.omp_set_num_threads(args.threads)
    faiss_sweep = {}
    for ef in args.ef_search:
        index.hnsw.efSearch = int(ef)
        lat, found = [], []
        for q in queries:
            started = time.perf_counter()
            _, neighbours = index.search(q[None, :], K)
            lat.append(time.perf_counter() - started)
            found.append(neighbours[0].tolist())
        faiss_sweep[ef] = {"recall@10": recall(found, truth), **latency_summary(lat), "raw_seconds": lat}
        log(f"faiss efSearch={ef}: recall {faiss_sweep[ef]['recall@10']:.3f}, median {faiss_sweep[ef]['median_ms']:.3f} ms")

    exact_med = median(exact_lat)
    reaching = [ef for ef in args.ef_search if sweep[ef]["recall@10"] >= TARGET_RECALL]
    best_ef = reaching[0] if reaching else max(args.ef_search, key=lambda ef: sweep[ef]["recall@10"])
    speedup_default = exact_med / median(hnsw_lat)
    speedup_best = exact_med / (sweep[best_ef]["median_ms"] / 1000)
    report.update(
        duckdb_exact={"recall@10_vs_numpy": exact_recall, **latency_summary(exact_lat), "raw_seconds": exact_lat},
        duckdb_hnsw_index_default={
            "ef_search": VSS_DEFAULTS["ef_search"], "recall@10": hnsw_default_recall, "recall@10_vs_duckdb_exact": hnsw_vs_duckdb_exact,
            **latency_summary(hnsw_lat), "raw_seconds": hnsw_lat, "speedup_vs_exact_median": speedup_default,
        },
        duckdb_hnsw_raw_sql=latency_summary(raw_lat) | {"note": "HNSW_SQL executed directly, without hnsw_search's _dimension catalog query"},
        duckdb_hnsw_literal_sql=latency_summary(literal_lat) | {"note": "HNSW_SQL with the query vector inlined as a FLOAT[384] constant"},
        duckdb_hnsw_ef_search_sweep={str(ef): v for ef, v in sweep.items()},
        faiss={"build_seconds": faiss_build, "efSearch_sweep": {str(ef): v for ef, v in faiss_sweep.items()}},
        warehouse_bytes=warehouse_bytes,
        chosen={"ef_search": best_ef, "recall@10": sweep[best_ef]["recall@10"], "median_ms": sweep[best_ef]["median_ms"],
                "p95_ms": sweep[best_ef]["p95_ms"], "speedup_vs_exact_median": speedup_best, "reaches_recall_target": bool(reaching)},
        targets={
            "HNSW recall@10 >= 0.95 (index default ef_search=64)": {"measured": hnsw_default_recall, "met": hnsw_default_recall >= TARGET_RECALL},
            f"HNSW recall@10 >= 0.95 (best swept, ef_search={best_ef})": {"measured": sweep[best_ef]["recall@10"], "met": bool(reaching)},
            "HNSW >= 10x faster than exact, median (default ef_search)": {"measured": speedup_default, "met": speedup_default >= TARGET_SPEEDUP},
            f"HNSW >= 10x faster than exact, median (ef_search={best_ef})": {"measured": speedup_best, "met": speedup_best >= TARGET_SPEEDUP},
        },
        total_seconds=time.perf_counter() - began,
    )
    write_json(args.out, report)

    kind = "minilm-l6 text embeddings" if args.vectors == "text" else "random unit vectors"
    print(f"\n{args.n:,} {kind} x {DIM}, {args.queries} queries, k={K}, query threads {args.threads}, build threads {args.build_threads}\n")
    print("| method | setting | build s | recall@10 | median ms | p95 ms | speedup vs exact (median) |")
    print("|---|---|---|---|---|---|---|")
    e = report["duckdb_exact"]
    print(f"| DuckDB exact (exact_search) | full scan | – | {e['recall@10_vs_numpy']:.3f} | {e['median_ms']:.1f} | {e['p95_ms']:.1f} | 1.0 |")
    print(f"| DuckDB HNSW (hnsw_search) | ef_search {VSS_DEFAULTS['ef_search']} (index default), interleaved with exact | {insert_build:.1f} | "
          f"{hnsw_default_recall:.3f} | {median(hnsw_lat) * 1000:.2f} | {percentile(hnsw_lat, 95) * 1000:.2f} | {speedup_default:.0f}x |")
    r = report["duckdb_hnsw_raw_sql"]
    print(f"| DuckDB HNSW (raw SQL, no _dimension lookup) | ef_search 64 | | | {r['median_ms']:.2f} | {r['p95_ms']:.2f} | {exact_med * 1000 / r['median_ms']:.0f}x |")
    r = report["duckdb_hnsw_literal_sql"]
    print(f"| DuckDB HNSW (raw SQL, vector inlined as constant) | ef_search 64 | | | {r['median_ms']:.2f} | {r['p95_ms']:.2f} | {exact_med * 1000 / r['median_ms']:.0f}x |")
    for ef, v in sweep.items():
        print(f"| DuckDB HNSW (hnsw_search) | SET hnsw_ef_search = {ef} | | {v['recall@10']:.3f} | {v['median_ms']:.2f} | {v['p95_ms']:.2f} | "
              f"{exact_med * 1000 / v['median_ms']:.0f}x |")
    for ef, v in faiss_sweep.items():
        print(f"| FAISS IndexHNSWFlat M=16 efC={args.faiss_ef_construction} | efSearch {ef} | {faiss_build:.1f} | {v['recall@10']:.3f} | "
              f"{v['median_ms']:.3f} | {v['p95_ms']:.3f} | {exact_med * 1000 / v['median_ms']:.0f}x |")
    print(f"\nwarehouse file: {warehouse_bytes / 1e6:.1f} MB ({args.n:,} rows + HNSW index, after checkpoint); "
          f"re-open {report['duckdb_reopen']['open_warehouse_seconds']:.2f} s, first HNSW query after re-open {report['duckdb_reopen']['first_hnsw_query_seconds']:.2f} s\n")
    for name, target in report["targets"].items():
        print(f"- {'met' if target['met'] else 'MISSED'}: {name} (measured {target['measured']:.3f})")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
