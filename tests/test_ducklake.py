"""The DuckLake backend against a real PostgreSQL server (tests/postgres.py): schema, atomic and
idempotent partition writes, concurrent writer processes, a writer killed mid-commit, readers
during writes. No mocks; skipped only when the PostgreSQL binaries are absent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests import postgres
from tests.lake_writer import rows

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def pg_server():
    if postgres.find_pg_bin() is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin; scripts/bootstrap.sh installs them")
    server = postgres.start_postgres()
    try:
        yield server
    finally:
        postgres.remove(server)
    assert server.pid is None


@pytest.fixture()
def lake(pg_server, tmp_path):
    """WarehouseSettings for a fresh lake: its own catalog database and data folder."""
    from litsynth.config import WarehouseSettings

    dsn = pg_server.create_database("lake_" + uuid.uuid4().hex[:12])
    return WarehouseSettings(backend="ducklake", catalog_dsn=dsn, data_path=str(tmp_path / "lake-data"))


def _writer(lake, writer: str, questions: list[str], *, n: int, rounds: int, announce: bool = False) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tests.lake_writer", "--dsn", lake.catalog_dsn, "--data-path", lake.data_path,
           "--writer", writer, "--questions", ",".join(questions), "--rows", str(n), "--rounds", str(rounds)]
    if announce:
        cmd.append("--announce-commit")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _partition_state(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int, int]]:
    """question_id -> (rows, distinct paper ids, distinct write tags)."""
    return {
        q: (n, distinct, tags)
        for q, n, distinct, tags in con.execute(
            "SELECT question_id, count(*), count(DISTINCT paper_id), count(DISTINCT selection_reason) FROM question_papers GROUP BY ALL"
        ).fetchall()
    }


def test_fixture_is_a_real_server(pg_server):
    import psycopg2

    con = psycopg2.connect(pg_server.dsn())
    try:
        with con.cursor() as cur:
            cur.execute("SELECT version(), inet_server_addr()::text, pg_backend_pid()")
            version, address, _ = cur.fetchone()
    finally:
        con.close()
    assert version.startswith("PostgreSQL") and address.startswith("127.0.0.1")
    assert int((pg_server.data_dir / "postmaster.pid").read_text().split()[0]) == pg_server.pid


def test_schema_applies_on_the_lake(lake):
    from litsynth.lake import build_lake_schema, open_lake, snapshot_id
    from litsynth.warehouse import _columns_by_table, apply_schema

    expected = duckdb.connect(":memory:")
    apply_schema(expected)
    file_tables = _columns_by_table(expected)
    schema = build_lake_schema()
    with open_lake(lake, ROOT) as con:
        tables = _columns_by_table(con)
        assert set(tables) == set(file_tables)
        for table, columns in file_tables.items():  # same names, same types (fixed arrays as lists)
            assert [c for c, _ in tables[table]] == [c for c, _ in columns]
        views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = 'lake'").fetchall()}
        assert set(schema.view_names) <= views
        for view in schema.view_names:
            con.execute(f"SELECT * FROM {view}").fetchall()
        # NOT NULL is enforced by the lake itself
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO plan_steps (job) VALUES (NULL)")
        before = snapshot_id(con)
    with open_lake(lake, ROOT) as con:  # re-opening an up-to-date lake commits nothing
        assert snapshot_id(con) == before
    assert schema.rules["papers"].keys == (("paper_id",), ("dedup_key",))
    assert any("text_level" in c for c in schema.rules["papers"].checks)


def test_replace_rows_is_atomic_and_idempotent(lake):
    from litsynth.lake import open_lake
    from litsynth.warehouse import replace_rows, replace_tables

    with open_lake(lake, ROOT) as con:
        for _ in range(2):
            assert replace_rows(con, "question_papers", rows("qa", 50, "w:0"), {"question_id": "qa"}) == 50
            assert replace_rows(con, "question_papers", rows("qb", 20, "w:0"), {"question_id": "qb"}) == 20
        assert _partition_state(con) == {"qa": (50, 50, 1), "qb": (20, 20, 1)}
        replace_rows(con, "question_papers", rows("qa", 30, "w:1"), {"question_id": "qa"})
        assert _partition_state(con) == {"qa": (30, 30, 1), "qb": (20, 20, 1)}
        # keys and CHECKs of sql/schema are enforced on what is written; the partition is kept
        with pytest.raises(duckdb.ConstraintException, match="duplicate key"):
            replace_rows(con, "question_papers", pl.concat([rows("qa", 5, "bad"), rows("qa", 5, "bad")]), {"question_id": "qa"})
        bad = rows("qa", 3, "bad")
        with pytest.raises(duckdb.ConstraintException, match="CHECK"):
            replace_rows(con, "verifications", pl.DataFrame({
                "question_id": ["qa"], "claim_id": ["c"], "verifier": ["baseline"], "label": ["maybe"], "confidence": [0.5],
                "evidence_paper_id": [None], "evidence_chunk_id": [None], "evidence_text": [None], "evidence_score": [None],
                "evidence_candidates": [0], "grounding": ["faithful"], "grounding_score": [1.0], "claim_scope": ["own"], "reason": ["r"],
            }, schema_overrides={"evidence_paper_id": pl.Utf8, "evidence_chunk_id": pl.Utf8, "evidence_text": pl.Utf8, "evidence_score": pl.Float64, "evidence_candidates": pl.Int32}), {"question_id": "qa"})
        # a write that fails inside the transaction leaves every table as it was
        with pytest.raises(duckdb.Error):
            replace_tables(con, [("question_papers", bad, {"question_id": "qa"}), ("question_papers", bad.with_columns(pl.lit(None).cast(pl.Utf8).alias("dense_model")), {"question_id": "qa"})])
        assert _partition_state(con) == {"qa": (30, 30, 1), "qb": (20, 20, 1)}


def test_concurrent_writers_lose_and_duplicate_nothing_while_readers_read(lake):
    """8 writer processes: 4 on their own partitions, 4 all on one shared partition, 2 rounds
    each, while this process keeps reading through read-only connections."""
    from litsynth.lake import connect_lake_read_only, open_lake

    n_rows = {"own": 300, "shared": 250}
    with open_lake(lake, ROOT):  # create the lake first, so readers can attach from the start
        pass
    rounds = 2
    procs = [_writer(lake, f"own{i}", [f"q{i}"], n=n_rows["own"], rounds=rounds) for i in range(4)]
    procs += [_writer(lake, f"shared{i}", ["qshared"], n=n_rows["shared"], rounds=rounds) for i in range(4)]
    reads, read_errors, torn, latencies = 0, [], [], []
    while any(p.poll() is None for p in procs):
        started = time.monotonic()
        try:
            con = connect_lake_read_only(lake, ROOT)
            try:
                state = _partition_state(con)
            finally:
                con.close()
            reads += 1
            latencies.append(time.monotonic() - started)
            for q, (n, distinct, tags) in state.items():  # a reader sees whole writes only
                expected = n_rows["shared"] if q == "qshared" else n_rows["own"]
                if (n, distinct, tags) != (expected, expected, 1):
                    torn.append((q, n, distinct, tags))
        except duckdb.Error as exc:
            read_errors.append(str(exc))
        time.sleep(0.05)
    results = []
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert read_errors == [] and torn == []
    assert reads >= 3, f"only {reads} reads happened during the writes"
    with open_lake(lake, ROOT) as con:
        state = _partition_state(con)
        tags = dict(con.execute("SELECT question_id, any_value(selection_reason) FROM question_papers GROUP BY ALL").fetchall())
    assert state == {**{f"q{i}": (300, 300, 1) for i in range(4)}, "qshared": (250, 250, 1)}
    assert all(tags[f"q{i}"].startswith(f"own{i}:") for i in range(4)) and tags["qshared"].startswith("shared")
    assert sum(r["rows_written"] for r in results) == 4 * rounds * 300 + 4 * rounds * 250
    print(f"\n{reads} reads during writes, read latency median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms; commits retried on conflict: {sum(r['conflicts_retried'] for r in results)}")


def test_writer_killed_mid_commit_leaves_the_lake_consistent(lake):
    from litsynth.lake import connect_lake_read_only, maintain, open_lake, referenced_files
    from litsynth.warehouse import replace_rows

    with open_lake(lake, ROOT) as con:
        replace_rows(con, "question_papers", rows("qk", 400, "before:0"), {"question_id": "qk"})
    outcomes = []
    for delay_s in (0.0, 0.002, 0.01, 0.03, 0.1):
        proc = _writer(lake, f"killed{delay_s}", ["qk"], n=400, rounds=1, announce=True)
        line = proc.stdout.readline()
        assert line.strip() == "COMMITTING", proc.stderr.read()[-3000:]
        time.sleep(delay_s)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        con = connect_lake_read_only(lake, ROOT)
        try:
            state = _partition_state(con)
            (tag,) = con.execute("SELECT DISTINCT selection_reason FROM question_papers WHERE question_id = 'qk'").fetchone()
        finally:
            con.close()
        assert state["qk"] == (400, 400, 1)  # the old write or the killed one, whole, never a mix
        outcomes.append(tag)
        with open_lake(lake, ROOT, lock_timeout_s=30) as con:  # every file the catalog names is there, whole
            for path, size in referenced_files(con, "question_papers"):
                assert Path(path).is_file() and Path(path).stat().st_size == size
    # its partition lock died with its PostgreSQL session: a re-run gets it at once and completes
    proc = _writer(lake, "rerun", ["qk"], n=123, rounds=1)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    with open_lake(lake, ROOT, lock_timeout_s=30) as con:
        assert _partition_state(con) == {"qk": (123, 123, 1)}
        orphans = {str(p) for p in Path(lake.data_path).rglob("*.parquet")} - {path for path, _ in referenced_files(con, "question_papers")}
        maintain(con, older_than="0 seconds")  # compaction and cleanup work on what the kills left
        assert _partition_state(con) == {"qk": (123, 123, 1)}
        on_disk = {str(p) for p in Path(lake.data_path).rglob("*.parquet")}
        assert on_disk == {path for path, _ in referenced_files(con, "question_papers")}  # no orphan left behind
    print(f"\nkilled writers' outcomes (the partition's tag after each kill): {outcomes}; "
          f"{len(orphans)} Parquet files not read by the current snapshot before maintain() (older snapshots, killed writers), none after")


def test_readers_open_while_a_writer_holds_a_transaction(lake):
    """The file backend refuses readers while a writer is open; the lake does not."""
    from litsynth.lake import connect_lake_read_only, open_lake
    from litsynth.warehouse import replace_rows

    with open_lake(lake, ROOT) as writer:
        replace_rows(writer, "question_papers", rows("qr", 10, "w:0"), {"question_id": "qr"})
        writer.execute("BEGIN TRANSACTION")
        writer.execute("DELETE FROM question_papers")
        reader = connect_lake_read_only(lake, ROOT)
        try:
            assert _partition_state(reader) == {"qr": (10, 10, 1)}  # the committed snapshot
            with pytest.raises(duckdb.Error):
                reader.execute("DELETE FROM question_papers")
        finally:
            reader.close()
        writer.execute("ROLLBACK")


# --- Dagster on PostgreSQL (deploy/) ------------------------------------------------------


@pytest.fixture()
def dagster_home(pg_server, tmp_path, monkeypatch):
    """A DAGSTER_HOME holding deploy/dagster.yaml as shipped, pointed at a fresh database."""
    db = "dagster_" + uuid.uuid4().hex[:12]
    pg_server.create_database(db)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "deploy" / "dagster.yaml").read_text())
    monkeypatch.setenv("LITSYNTH_DAGSTER_PG_URL", pg_server.url(db))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def test_deploy_profiles_load_and_validate(dagster_home, monkeypatch):
    import yaml
    from dagster import DagsterInstance
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_celery import celery_executor  # noqa: F401
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    from tests.dagster_lake_job import defs

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        settings = instance.get_concurrency_config()
        assert settings.run_queue_config.max_concurrent_runs == 8
        assert {limit["key"] for limit in settings.run_queue_config.tag_concurrency_limits} == {"litsynth/model-heavy", "dagster/partition"}
        assert settings.pool_config.default_pool_limit == 4
        instance.event_log_storage.set_concurrency_slots("lake_writers", 6)
        assert instance.event_log_storage.get_concurrency_info("lake_writers").slot_count == 6

    from dagster import validate_run_config

    job = defs.resolve_job_def("lake_job")
    validate_run_config(job, yaml.safe_load((ROOT / "deploy" / "run_config.multiprocess.yaml").read_text()))
    # the several-hosts profile: the same assets with dagster-celery's executor
    monkeypatch.setenv("LITSYNTH_CELERY_BROKER", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("LITSYNTH_CELERY_BACKEND", "redis://127.0.0.1:6379/1")
    celery_job = defs.resolve_job_def("lake_celery_job")
    assert celery_job.executor_def is celery_executor
    validate_run_config(celery_job, yaml.safe_load((ROOT / "deploy" / "run_config.celery.yaml").read_text()))
    with pytest.raises(Exception):
        validate_run_config(celery_job, {"execution": {"config": {"brokr": "typo"}}})


def test_dagster_on_postgres_runs_two_partitions_in_parallel(dagster_home, lake):
    """Two runs (two question partitions) at once on the PostgreSQL instance, each with the
    multiprocess executor, both writing through the lake."""
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.add_dynamic_partitions("questions", ["qa", "qb"])
        instance.event_log_storage.set_concurrency_slots("lake_writers", 4)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITSYNTH_LAKE_DSN": lake.catalog_dsn, "LITSYNTH_LAKE_DATA": lake.data_path}
    started = time.monotonic()
    procs = {q: subprocess.Popen([sys.executable, "-m", "tests.dagster_lake_job", q], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for q in ("qa", "qb")}
    for q, p in procs.items():
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"{q}: {out[-2000:]} {err[-4000:]}"
    wall = time.monotonic() - started

    from litsynth.lake import open_lake_read_only

    with open_lake_read_only(lake, ROOT) as con:
        assert _partition_state(con) == {"qa": (200, 200, 1), "qb": (200, 200, 1)}
        assert dict(con.execute("SELECT question_id, count(*) FROM chunks GROUP BY ALL").fetchall()) == {"qa": 50, "qb": 50}
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))
        assert sorted(r.tags.get("dagster/partition") for r in runs) == ["qa", "qb"]
        windows: dict[tuple[str, str], tuple[float, float]] = {}
        for run in runs:
            for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
                materialization = record.dagster_event.event_specific_data.materialization
                meta = materialization.metadata
                if "started" in meta:
                    windows[(run.tags["dagster/partition"], materialization.asset_key.to_user_string())] = (meta["started"].value, meta["finished"].value)
                if materialization.asset_key.to_user_string() == "lake_summary":
                    assert (meta["papers"].value, meta["chunks"].value) == (200, 50)

    def overlap(a, b) -> bool:
        return windows[a][0] < windows[b][1] and windows[b][0] < windows[a][1]

    assert len(windows) == 4
    assert overlap(("qa", "lake_rows"), ("qb", "lake_rows")) or overlap(("qa", "lake_rows"), ("qb", "lake_chunks")), windows  # the two runs in parallel
    assert overlap(("qa", "lake_rows"), ("qa", "lake_chunks")) and overlap(("qb", "lake_rows"), ("qb", "lake_chunks")), windows  # steps of a run in parallel
    print(f"\ntwo partition runs on the PostgreSQL instance: {wall:.1f} s wall; step windows {windows}")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def redis_broker(tmp_path):
    """Debian redis-server on loopback and a free port, no persistence, stopped by PID."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed (apt-get install redis-server); the celery profile is tested without a broker only")
    port = _free_port()
    proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise
            time.sleep(0.1)
    try:
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_dagster_celery_workers_run_the_steps(dagster_home, lake, redis_broker, monkeypatch):
    """The several-hosts profile on one machine: two named Celery workers (stand-ins for two
    hosts) take the steps of a partition run from a real Redis broker."""
    from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

    monkeypatch.setenv("LITSYNTH_CELERY_BROKER", redis_broker + "/0")
    monkeypatch.setenv("LITSYNTH_CELERY_BACKEND", redis_broker + "/1")
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        instance.add_dynamic_partitions("questions", ["qc"])
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
           "LITSYNTH_LAKE_DSN": lake.catalog_dsn, "LITSYNTH_LAKE_DATA": lake.data_path}
    workers = [
        subprocess.Popen([str(Path(bin_dir) / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(ROOT / "deploy" / "run_config.celery.yaml"),
                          "-n", name, "--", "--concurrency=1", "--pool=prefork"],
                         cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        for name in ("host-a", "host-b")
    ]
    try:
        run = subprocess.run([sys.executable, "-m", "tests.dagster_lake_job", "qc", "celery"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-6000:]
    finally:
        for worker in workers:  # dagster-celery execs celery in its own process group: stop that group
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
    logs = "".join(w.stdout.read() for w in workers)
    from litsynth.lake import open_lake_read_only

    with open_lake_read_only(lake, ROOT) as con:
        assert _partition_state(con) == {"qc": (200, 200, 1)}
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        (record,) = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.SUCCESS]))
        pids = set()
        for event in instance.all_logs(record.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
            meta = event.dagster_event.event_specific_data.materialization.metadata
            if "pid" in meta:
                pids.add(meta["pid"].value)
    assert record.tags.get("dagster/partition") == "qc"
    assert "host-a" in logs and "host-b" in logs, logs[-3000:]
    print(f"\ncelery run {record.run_id}: writing steps ran in worker processes {sorted(pids)}")


def test_vector_search_on_the_lake_matches_the_file(lake, tmp_path):
    """Exact search on the lake returns what exact search on the file returns; the local HNSW
    copy follows the lake's snapshots (rebuilt after a write to its table, not after others)."""
    import numpy as np

    from litsynth.config import ModelSpec
    from litsynth.lake import LocalVectorIndex, ensure_lake_vector_table, lake_exact_search, open_lake
    from litsynth.retrieval.vector_store import ensure_vector_table, exact_search, vector_table
    from litsynth.warehouse import open_warehouse, replace_rows, sync_partition

    dim, n = 16, 300
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    frame = pl.DataFrame({
        "question_id": [f"q{i % 3}" for i in range(n)], "item_type": ["chunk" if i % 4 else "claim" for i in range(n)],
        "item_id": [f"item-{i:04d}" for i in range(n)], "paper_id": [f"p{i // 5}" for i in range(n)],
        "text_sha256": [f"{i:064x}" for i in range(n)], "vector": vectors.tolist(),
    }, schema_overrides={"vector": pl.List(pl.Float32)})
    spec = ModelSpec(id="tiny-model", family="sentence-transformers", hub="x/tiny", dim=dim, max_seq_length=64)
    table = vector_table(spec.id)
    queries = rng.standard_normal((5, dim)).astype(np.float32)
    with open_warehouse(tmp_path / "w.duckdb") as file_con:
        ensure_vector_table(file_con, spec)
        for (q,), part in frame.partition_by("question_id", as_dict=True).items():
            replace_rows(file_con, table, part.with_columns(pl.col("vector").cast(pl.Array(pl.Float32, dim))), {"question_id": q})
        expected = [exact_search(file_con, table, query, 10) for query in queries]
        expected_q1 = [exact_search(file_con, table, query, 5, question_id="q1", item_type="claim") for query in queries]
    with open_lake(lake, ROOT) as con:
        ensure_lake_vector_table(con, table, dim)
        for (q,), part in frame.partition_by("question_id", as_dict=True).items():
            replace_rows(con, table, part, {"question_id": q})
        got = [lake_exact_search(con, table, query, 10) for query in queries]
        got_q1 = [lake_exact_search(con, table, query, 5, question_id="q1", item_type="claim") for query in queries]
        for a, b in zip([*expected, *expected_q1], [*got, *got_q1]):
            assert [i for i, _ in a] == [i for i, _ in b] and np.allclose([s for _, s in a], [s for _, s in b], atol=1e-5)
        with pytest.raises(duckdb.ConstraintException, match="CHECK"):  # the template's CHECK holds on the lake
            replace_rows(con, table, frame.head(3).with_columns(pl.lit("page").alias("item_type"), pl.lit("q0").alias("question_id")), {"question_id": "q0"})
        local = LocalVectorIndex(table, dim)
        try:
            assert local.sync(con) and local.rows == n
            top = local.search(queries[0], 10)
            assert len({i for i, _ in top} & {i for i, _ in expected[0]}) >= 8
            replace_rows(con, "question_papers", rows("qx", 3, "w"), {"question_id": "qx"})
            assert local.sync(con) is False  # another table changed: the copy stays
            # a small change (sync_partition drops 5 rows, adds 1) is applied from the change feed
            q0 = frame.filter(pl.col("question_id") == "q0")
            changed = pl.concat([q0.slice(5), frame.filter(pl.col("question_id") == "q1").head(1).with_columns(pl.lit("q0").alias("question_id"), pl.lit("new-item").alias("item_id"))])
            assert sync_partition(con, table, changed, {"question_id": "q0"}, ["item_type", "item_id", "paper_id", "text_sha256"]) == (5, 1)
            assert local.sync(con) is True and local.last_sync == "incremental" and local.rows == n - 4
            fresh = LocalVectorIndex(table, dim)
            try:
                fresh.sync(con)
                for query in queries:  # HNSW is approximate: near the exact answer, like a fresh copy
                    exact = {i for i, _ in lake_exact_search(con, table, query, 10)}
                    assert len({i for i, _ in local.search(query, 10)} & exact) >= 8 and len({i for i, _ in fresh.search(query, 10)} & exact) >= 8
                stored = sorted(r[0] for r in local.connection.execute(f"SELECT item_id FROM {table}").fetchall())
                assert stored == sorted(r[0] for r in con.execute(f"SELECT item_id FROM {table}").fetchall())
            finally:
                fresh.close()
            # a large one (a whole partition replaced) rebuilds
            replace_rows(con, table, q0.head(10), {"question_id": "q0"})
            assert local.sync(con) is True and local.last_sync == "full" and local.rows == n - (n // 3) + 10
        finally:
            local.close()


# --- the same warehouse behaviour on both backends ---------------------------------------


@pytest.fixture(params=["duckdb", "ducklake"])
def backend(request, tmp_path):
    """A function opening the warehouse of the parametrised backend through open_backend, and
    one that makes a model's vector table on it: the switch is configuration only."""
    from litsynth.config import WarehouseSettings
    from litsynth.lake import ensure_lake_vector_table, open_backend

    if request.param == "duckdb":
        settings = WarehouseSettings(path=str(tmp_path / "w.duckdb"))

        def vectors(con, spec):
            from litsynth.retrieval.vector_store import ensure_vector_table

            return ensure_vector_table(con, spec)
    else:
        settings = request.getfixturevalue("lake")

        def vectors(con, spec):
            from litsynth.retrieval.vector_store import vector_table

            return ensure_lake_vector_table(con, vector_table(spec.id), spec.dim)
    return (lambda: open_backend(settings, ROOT)), vectors


def test_backends_replace_only_their_partition(backend):
    from litsynth.warehouse import replace_rows
    from tests.test_warehouse import _question_rows

    opened, _ = backend
    with opened() as con:
        replace_rows(con, "question_papers", _question_rows("q1", ["a", "b"]), {"question_id": "q1"})
        replace_rows(con, "question_papers", _question_rows("q2", ["a"]), {"question_id": "q2"})
        replace_rows(con, "question_papers", _question_rows("q1", ["c"]), {"question_id": "q1"})
        assert con.execute("SELECT question_id, paper_id FROM question_papers ORDER BY ALL").fetchall() == [("q1", "c"), ("q2", "a")]
        with pytest.raises(Exception, match="(?i)constraint|duplicate"):
            replace_rows(con, "question_papers", _question_rows("q1", ["x", "x"]), {"question_id": "q1"})
        assert con.execute("SELECT paper_id FROM question_papers WHERE question_id = 'q1'").fetchall() == [("c",)]
        with pytest.raises(ValueError, match="must all have question_id='q1'"):
            replace_rows(con, "question_papers", _question_rows("q2", ["a"]), {"question_id": "q1"})
        with pytest.raises(KeyError, match="no column"):
            replace_rows(con, "question_papers", _question_rows("q1", ["a"]).with_columns(pl.lit(1).alias("bogus")), {"question_id": "q1"})
        with pytest.raises(KeyError, match="not in the warehouse schema"):
            replace_rows(con, "no_such_table; DROP TABLE papers", _question_rows("q1", ["a"]))
    with opened() as con:  # re-opening keeps the rows
        assert con.execute("SELECT count(*) FROM question_papers").fetchone() == (2,)


def test_backends_sync_partition_alike(backend):
    from litsynth.config import ModelSpec
    from litsynth.warehouse import replace_rows, sync_partition
    from tests.test_warehouse import _vectors

    opened, vectors = backend
    spec = ModelSpec(id="tiny-4", family="sentence-transformers", hub="none", dim=4, max_seq_length=16)
    match = ["item_type", "item_id", "paper_id", "text_sha256"]
    first = {f"c{i}": f"text {i}" for i in range(50)}
    second = {**{k: v for k, v in first.items() if k != "c0"}, "c1": "text 1, edited", "c50": "text 50"}
    with opened() as con:
        table = vectors(con, spec)
        replace_rows(con, table, _vectors("other", {"x": "bystander"}), {"question_id": "other"})
        assert sync_partition(con, table, _vectors("q", first), {"question_id": "q"}, match) == (0, 50)
        assert sync_partition(con, table, _vectors("q", first), {"question_id": "q"}, match) == (0, 0)
        assert sync_partition(con, table, _vectors("q", second), {"question_id": "q"}, match) == (2, 2)
        stored = con.execute(f"SELECT item_id, text_sha256, vector::FLOAT[4] FROM {table} WHERE question_id = 'q' ORDER BY ALL").fetchall()
        expected = _vectors("q", second).sort("item_id")
        assert [(r[0], r[1]) for r in stored] == sorted(zip(expected["item_id"], expected["text_sha256"]))
        assert con.execute(f"SELECT count(*) FROM {table} WHERE question_id = 'other'").fetchone() == (1,)
        assert sync_partition(con, table, _vectors("q", {}), {"question_id": "q"}, match) == (50, 0)


# --- the pipeline itself on the lake ---------------------------------------------------------

PIPELINE_QUESTION = "alignment-vs-contrastive-pretraining"
PIPELINE_TABLES = ("papers", "question_papers", "chunks", "claims", "claim_entities", "verifications", "claim_relations", "embedding_status", "retrieval_metrics")


def _pipeline_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of the pipeline's tables, timestamps and timings left out, in a stable order."""
    out = {}
    for table in PIPELINE_TABLES:
        columns = [c for c, t in con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? ORDER BY column_index", [table]
        ).fetchall() if not t.startswith("TIMESTAMP") and c != "seconds"]
        select = ", ".join(f'round("{c}", 5)' if c in ("confidence", "evidence_score", "relevance", "bm25_score", "dense_similarity", "fused_score", "score") else f'"{c}"' for c in columns)
        out[table] = sorted(map(str, con.execute(f'SELECT {select} FROM "{table}"').fetchall()))
    return out


def test_the_pipeline_runs_on_the_lake_as_on_the_file(lake, tmp_path):
    """The real assets (corpus, one question's selection, extraction, verification, minilm
    embeddings and metrics, its report) through Dagster on each backend: the same rows."""
    from dagster import DagsterInstance, MultiPartitionKey, materialize

    from assets.resources import Project
    from litsynth.lake import connect_backend_read_only
    from orchestration.definitions import all_assets, asset_checks

    question_assets = ["question_papers", "chunks", "claims", "claim_entities", "question_concepts", "prior_claim_matches", "verifications", "claim_relations"]
    results = {}
    for name, warehouse in (("file", {"path": str(tmp_path / "file.duckdb")}), ("lake", lake.model_dump())):
        project = Project(project_root=str(ROOT), overrides={
            "warehouse": warehouse, "arxiv": {"enabled": False}, "verifier": {"train": False},
            "ingest": {"corpus_dirs": [str(ROOT / "corpus" / "examples")]}, "reports_dir": str(tmp_path / name / "reports"),
        })
        instance = DagsterInstance.ephemeral()
        run = lambda selection, partition=None: materialize(  # noqa: E731
            [*all_assets, *asset_checks], selection=selection, resources={"project": project}, instance=instance, partition_key=partition
        )
        assert run(["questions", "question_files", "documents", "papers", "prior_reports"]).success
        assert run(question_assets, PIPELINE_QUESTION).success
        assert run(["embeddings", "retrieval_metrics"], MultiPartitionKey({"question": PIPELINE_QUESTION, "model": "minilm-l6"})).success
        assert run(["report"], PIPELINE_QUESTION).success
        assert (tmp_path / name / "reports" / PIPELINE_QUESTION / "report.md").is_file()
        settings = project.settings()
        con = connect_backend_read_only(settings.warehouse, settings.project_root)
        try:
            results[name] = _pipeline_rows(con)
        finally:
            con.close()
    assert results["lake"]["verifications"] and results["lake"]["claims"]
    for table in PIPELINE_TABLES:
        assert results["lake"][table] == results["file"][table], table
