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
    """8 writer processes: 4 on their own partitions, 4 all on one shared partition, 3 rounds
    each, while this process keeps reading through read-only connections."""
    from litsynth.lake import connect_lake_read_only, open_lake

    n_rows = {"own": 300, "shared": 250}
    with open_lake(lake, ROOT):  # create the lake first, so readers can attach from the start
        pass
    procs = [_writer(lake, f"own{i}", [f"q{i}"], n=n_rows["own"], rounds=3) for i in range(4)]
    procs += [_writer(lake, f"shared{i}", ["qshared"], n=n_rows["shared"], rounds=3) for i in range(4)]
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
    assert sum(r["rows_written"] for r in results) == 4 * 3 * 300 + 4 * 3 * 250
    print(f"\n{reads} reads during writes, read latency median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms; commits retried on conflict: {sum(r['conflicts_retried'] for r in results)}")


def test_writer_killed_mid_commit_leaves_the_lake_consistent(lake):
    from litsynth.lake import connect_lake_read_only, maintain, open_lake
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
    # its partition lock died with its PostgreSQL session: a re-run gets it at once and completes
    proc = _writer(lake, "rerun", ["qk"], n=123, rounds=1)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    with open_lake(lake, ROOT, lock_timeout_s=30) as con:
        assert _partition_state(con) == {"qk": (123, 123, 1)}
        maintain(con, older_than="0 seconds")  # compaction and cleanup work on what the kills left
        assert _partition_state(con) == {"qk": (123, 123, 1)}
    print(f"\nkilled writers' outcomes (the partition's tag after each kill): {outcomes}")


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
