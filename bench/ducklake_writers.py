"""Partition writers on the DuckDB file (serialised by its lock) vs on DuckLake + PostgreSQL
(parallel), and readers during the writes, in one run.

``--partitions`` writer processes start at once, one question partition each, on each backend
in turn (tests/lake_writer.py): each opens the warehouse, does ``--compute-s`` of CPU work on
one core *inside* the open connection (as the embeddings asset embeds while it holds the
warehouse), then replaces its partition of question_papers (``--rows`` rows) with
replace_rows. While they run, this process opens a read-only connection, counts the rows and
closes it, every 50 ms (file: connect_read_only without waiting; lake: connect_lake_read_only),
and on the lake also queries one read-only connection kept open throughout (on the file an
open reader would stop every writer, so there is no such reader there).

Reported per backend: wall time from the first start to the last exit, the ratio file/lake,
reader attempts, failures (lock errors), latency of the successful reads, and the final row
counts (every partition whole). This measures the warehouse path (lock, commit, readers) with
synthetic compute, not the pipeline's models: on this 2-core machine any CPU-bound speed-up
is capped near 2x and shared with whatever else runs (load average recorded).

    PYTHONPATH=$PWD .venv/bin/python bench/ducklake_writers.py [--partitions 6] [--rows 2000] [--compute-s 2]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, machine_info, median, parser, percentile, write_json  # noqa: E402


def log(msg: str) -> None:
    print(f"[ducklake_writers] {msg}", file=sys.stderr, flush=True)


def run_backend(backend: str, target: str, dsn: str, args, readers: dict) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.lake_writer", "--backend", backend, "--dsn", dsn, "--data-path", target,
             "--writer", f"w{i}", "--questions", f"q{i:03d}", "--rows", str(args.rows), "--rounds", "1", "--compute-s", str(args.compute_s)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(args.partitions)
    ]
    stats = {name: {"attempts": 0, "failures": 0, "latencies": [], "errors": []} for name in readers}
    while any(p.poll() is None for p in procs):
        for name, read in readers.items():
            stat = stats[name]
            stat["attempts"] += 1
            t = time.monotonic()
            try:
                read()
                stat["latencies"].append(time.monotonic() - t)
            except Exception as exc:  # noqa: BLE001 - a failed read is what is counted
                stat["failures"] += 1
                if len(stat["errors"]) < 3:
                    stat["errors"].append(str(exc).splitlines()[0][:200])
        time.sleep(0.05)
    wall = time.monotonic() - started
    writers = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"{backend} writer failed: {err[-2000:]}")
        writers.append(json.loads(out.strip().splitlines()[-1]))
    out = {
        "wall_s": round(wall, 2),
        "writer_seconds_median": round(median([w["seconds"] for w in writers]), 2),
        "commit_conflicts_retried": sum(w["conflicts_retried"] for w in writers),
    }
    for name, stat in stats.items():
        ms = [x * 1000 for x in stat["latencies"]]
        out[f"reader_{name}"] = {
            "attempts": stat["attempts"],
            "failures": stat["failures"],
            "failure_examples": stat["errors"],
            "latency_median_ms": round(median(ms), 1) if ms else None,
            "latency_p95_ms": round(percentile(ms, 95), 1) if ms else None,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser("ducklake_writers", __doc__)
    p.add_argument("--partitions", type=int, default=6)
    p.add_argument("--rows", type=int, default=2000)
    p.add_argument("--compute-s", type=float, default=2.0)
    args = p.parse_args(argv)

    from litsynth.config import WarehouseSettings
    from litsynth.lake import connect_lake_read_only, open_lake
    from litsynth.warehouse import connect_read_only, open_warehouse
    from tests.postgres import remove, start_postgres

    info = machine_info()
    report = {"benchmark": "ducklake_writers", "command": "PYTHONPATH=$PWD .venv/bin/python bench/ducklake_writers.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "partitions": args.partitions, "rows_per_partition": args.rows, "compute_s_per_partition": args.compute_s}
    count_sql = "SELECT question_id, count(*), count(DISTINCT paper_id) FROM question_papers GROUP BY ALL"
    with tempfile.TemporaryDirectory(prefix="litsynth-bench-") as tmp:
        tmp = Path(tmp)
        file_path = tmp / "warehouse.duckdb"
        with open_warehouse(file_path):
            pass

        def read_file():
            con = connect_read_only(file_path)
            try:
                con.execute(count_sql).fetchall()
            finally:
                con.close()

        log("file backend")
        report["duckdb_file"] = run_backend("duckdb", str(file_path), "", args, {"connect_query_close": read_file})
        with open_warehouse(file_path) as con:
            report["duckdb_file"]["final_partitions"] = sorted(con.execute(count_sql).fetchall())

        server = start_postgres()
        try:
            settings = WarehouseSettings(backend="ducklake", catalog_dsn=server.create_database("bench_writers"), data_path=str(tmp / "lake"))
            with open_lake(settings, ROOT):
                pass

            def read_lake():
                con = connect_lake_read_only(settings, ROOT)
                try:
                    con.execute(count_sql).fetchall()
                finally:
                    con.close()

            persistent = connect_lake_read_only(settings, ROOT)  # one open analyst connection: sees each new commit

            def read_persistent():
                persistent.execute(count_sql).fetchall()

            log("ducklake backend")
            report["ducklake"] = run_backend("ducklake", settings.data_path, settings.catalog_dsn, args,
                                             {"connect_query_close": read_lake, "open_connection_query": read_persistent})
            persistent.close()
            with open_lake(settings, ROOT) as con:
                report["ducklake"]["final_partitions"] = sorted(con.execute(count_sql).fetchall())
                report["ducklake"]["catalog"] = {
                    "snapshots": con.execute("SELECT count(*) FROM lake.snapshots()").fetchone()[0],
                    "files_question_papers": con.execute("SELECT file_count FROM ducklake_table_info('lake') WHERE table_name = 'question_papers'").fetchone()[0],
                }
        finally:
            remove(server)
    expected = sorted((f"q{i:03d}", args.rows, args.rows) for i in range(args.partitions))
    for backend in ("duckdb_file", "ducklake"):
        report[backend]["final_partitions_whole"] = [tuple(r) for r in report[backend]["final_partitions"]] == expected
        del report[backend]["final_partitions"]
    report["wall_ratio_file_over_lake"] = round(report["duckdb_file"]["wall_s"] / report["ducklake"]["wall_s"], 2)
    report["machine"] = info
    write_json(args.out, report)
    log(json.dumps({k: report[k] for k in ("duckdb_file", "ducklake", "wall_ratio_file_over_lake")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
