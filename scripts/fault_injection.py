"""Fault injection against the real warehouse write path: does any fault lose or duplicate a row?

    .venv/bin/python scripts/fault_injection.py [--quick] [--out bench/results/fault_injection.json]

Faults (each on a fresh temporary warehouse, through ``open_warehouse`` + ``replace_rows``,
the code every asset writes with):

* ``kill_mid_write``: a child process replaces a 20k-row partition (5k in --quick) and is SIGKILLed, at
  a hook inside the transaction (after the DELETE, or after the INSERT just before the COMMIT)
  or at a random moment of the write. Afterwards the partition must be exactly the old rows or exactly
  the new ones (never a mix, never empty), the other partitions untouched, the lock free, and a
  re-run must complete it.
* ``concurrent_writers``: several processes started together, each replacing its own partition
  several times, while this process keeps opening read-only connections. Every partition must
  end with exactly its last rows; every read that got in must see whole partitions only.
* ``reader_blocks_writer``: a writer started while a read-only connection is open must wait
  for it, not fail.
* ``kill_mid_materialize`` (full mode only): a Dagster ``materialize`` of the corpus assets is
  SIGKILLed at a random moment; the corpus tables must be the old ones or the new ones.
* ``hostile_files``: a folder of malformed and hostile files beside the seed corpus goes through
  ingestion; every file must get a ``documents`` row and the seed papers must all land.

Prints a table (faults tried, runs survived, rows lost, rows duplicated) and exits 1 if any
row was lost or duplicated or any run failed. The script's ``_child`` command is the worker
the child processes run; tests/test_reliability.py drives it too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SEEDS_DIR = ROOT / "corpus" / "examples"
CORPUS_ASSETS = ["questions", "question_files", "arxiv_harvest", "documents", "papers", "prior_reports"]
CORPUS_TABLES = ["documents", "papers", "paper_sources", "prior_reports", "prior_report_claims", "prior_report_references"]


# --- rows that say which write they came from ---------------------------------------------------


def partition_rows(partition: str, generation: int, n: int):
    """``n`` question_papers rows of one partition, every row tagged with its write generation."""
    import polars as pl

    ranks = pl.int_range(1, n + 1, eager=True, dtype=pl.Int32)
    return pl.DataFrame(
        {
            "question_id": pl.repeat(partition, n, eager=True),
            "paper_id": [f"g{generation}-{i:07d}" for i in range(n)],
            "bm25_score": pl.repeat(1.0, n, eager=True),
            "bm25_rank": ranks,
            "dense_similarity": pl.repeat(0.5, n, eager=True),
            "dense_rank": ranks,
            "fused_score": pl.repeat(0.1, n, eager=True),
            "rank": ranks,
            "selected": pl.repeat(True, n, eager=True),
            "selection_reason": pl.repeat(f"generation {generation}", n, eager=True),
            "dense_model": pl.repeat("fault-injection", n, eager=True),
        }
    )


def partition_state(con, partition: str) -> dict:
    """What a partition holds: row count, distinct paper ids, and the write generations present."""
    rows, distinct, generations = con.execute(
        "SELECT count(*), count(DISTINCT paper_id), list(DISTINCT selection_reason ORDER BY selection_reason) "
        "FROM question_papers WHERE question_id = ?",
        [partition],
    ).fetchone()
    return {"rows": rows, "distinct": distinct, "generations": sorted(int(g.split()[-1]) for g in generations or [])}


def check_partition(state: dict, allowed_generations: list[int], n: int) -> tuple[int, int, int | None]:
    """(rows lost, rows duplicated, generation held) against "exactly one allowed generation, n rows"."""
    duplicated = state["rows"] - state["distinct"]
    if len(state["generations"]) == 1 and state["generations"][0] in allowed_generations:
        return max(n - state["distinct"], 0), duplicated, state["generations"][0]
    return n, duplicated, None  # empty or mixed: count the whole expected partition as lost


# --- the child process ----------------------------------------------------------------------------


def _write_atomically(path: Path, text: str) -> None:
    """The parent polls for these files: it must never see one half-written."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


class _PausingConnection:
    """A connection whose ``execute`` stops forever after a chosen statement of ``replace_rows``
    (leaving its transaction open) and says so through a file, so the parent can kill it there."""

    def __init__(self, con, hook: str, signal_file: Path) -> None:
        self._con, self._hook, self._signal = con, hook, signal_file

    def execute(self, sql, *args, **kwargs):
        result = self._con.execute(sql, *args, **kwargs)
        stage = "after_delete" if sql.startswith("DELETE") else "after_insert" if sql.startswith("INSERT") else None
        if stage == self._hook:
            _write_atomically(self._signal, stage)
            while True:
                time.sleep(60)
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def _report(spec: dict, result: dict) -> None:
    if spec.get("result"):
        _write_atomically(Path(spec["result"]), json.dumps(result))


def _touch_and_wait(spec: dict) -> None:
    if spec.get("ready"):
        _write_atomically(Path(spec["ready"]), str(os.getpid()))
    if spec.get("go"):
        go = Path(spec["go"])
        deadline = time.monotonic() + 300
        while not go.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{go} never appeared")
            time.sleep(0.02)


def child(spec: dict) -> int:
    """One worker process: ``write`` rounds of a partition, a ``crash`` write, or a Dagster ``materialize``."""
    kind = spec["kind"]
    if kind == "hostile":
        _report(spec, run_hostile(Path(spec["work"]), spec["names"], seeds=spec["seeds"]))
        return 0
    warehouse = Path(spec["warehouse"])
    if kind == "materialize":
        from dagster import DagsterInstance, materialize

        from orchestration.definitions import all_assets
        from assets.resources import Project

        resources = {
            "project": Project(project_root=spec.get("project_root", str(ROOT)), overrides={
                "warehouse": {"path": str(warehouse)}, "ingest": {"corpus_dirs": spec["corpus_dirs"]}, "arxiv": {"enabled": False},
            }),
        }
        _touch_and_wait(spec)
        if spec.get("signal"):
            _write_atomically(Path(spec["signal"]), "materializing")
        started = time.monotonic()
        result = materialize(list(all_assets), selection=spec["selection"], resources=resources, instance=DagsterInstance.ephemeral(), raise_on_error=False)
        failures = [e.event_specific_data.error.to_string() for e in result.all_events if e.is_step_failure]
        _report(spec, {"kind": kind, "success": result.success, "seconds": round(time.monotonic() - started, 2), "failures": failures})
        return 0 if result.success else 1

    from litsynth.warehouse import open_warehouse, replace_rows

    partition, n = spec["partition"], spec["rows"]
    if kind == "write":
        frames = {g: partition_rows(partition, g, n) for g in range(1, spec["rounds"] + 1)}
        _touch_and_wait(spec)
        waits, started = [], time.monotonic()
        for generation, frame in frames.items():
            asked = time.monotonic()
            with open_warehouse(warehouse) as con:
                waits.append(round(time.monotonic() - asked, 3))
                replace_rows(con, "question_papers", frame, {"question_id": partition})
        _report(spec, {"kind": kind, "partition": partition, "rounds": len(frames), "lock_waits_s": waits, "seconds": round(time.monotonic() - started, 2)})
        return 0
    if kind == "crash":
        frame = partition_rows(partition, spec["generation"], n)
        _touch_and_wait(spec)
        signal_file = Path(spec["signal"])
        with open_warehouse(warehouse) as con:
            if spec.get("hook"):
                con = _PausingConnection(con, spec["hook"], signal_file)
            else:
                _write_atomically(signal_file, "writing")
            replace_rows(con, "question_papers", frame, {"question_id": partition})
        return 0
    raise SystemExit(f"unknown child kind {kind!r}")


def spawn_child(spec: dict, log: Path) -> subprocess.Popen:
    """Start ``child(spec)`` in a new Python process (this script's ``_child`` command).

    Its output goes to ``log`` (a pipe nobody reads would fill up and stall a chatty Dagster run).
    """
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "_child", json.dumps(spec)],
            cwd=str(ROOT), stdout=handle, stderr=subprocess.STDOUT,
        )
    process.log = log  # type: ignore[attr-defined]
    return process


def log_tail(process: subprocess.Popen, chars: int = 3000) -> str:
    return Path(process.log).read_text(encoding="utf-8", errors="replace")[-chars:]  # type: ignore[attr-defined]


def finish(process: subprocess.Popen, timeout_s: float = 300.0) -> int:
    """Wait for a child; raise with its output if it failed."""
    rc = process.wait(timeout_s)
    if rc != 0:
        raise RuntimeError(f"child failed with exit code {rc}:\n{log_tail(process)}")
    return rc


def wait_for_file(path: Path, process: subprocess.Popen, timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if process.poll() is not None:
            raise RuntimeError(f"child exited ({process.returncode}) before {path.name}:\n{log_tail(process)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear in {timeout_s:.0f}s")
        time.sleep(0.01)


# --- the faults ---------------------------------------------------------------------------------


def _read(warehouse: Path, partitions: list[str]) -> dict[str, dict]:
    from litsynth.warehouse import connect_read_only

    con = connect_read_only(warehouse, wait_s=60)
    try:
        return {p: partition_state(con, p) for p in partitions}
    finally:
        con.close()


def _lock_is_free(warehouse: Path) -> bool:
    from litsynth.warehouse import WarehouseBusy, _exclusive_lock

    try:
        with _exclusive_lock(warehouse.with_name(warehouse.name + ".lock"), 0.2):
            return True
    except WarehouseBusy:
        return False


def kill_mid_write(work: Path, trials: int, rows: int, rng: random.Random) -> dict:
    """SIGKILL a child in the middle of replacing a partition, ``trials`` times in a row."""
    from litsynth.warehouse import open_warehouse, replace_rows

    warehouse = work / "crash.duckdb"
    with open_warehouse(warehouse) as con:
        replace_rows(con, "question_papers", partition_rows("bystander", 1, 1000), {"question_id": "bystander"})
        replace_rows(con, "question_papers", partition_rows("target", 1, rows), {"question_id": "target"})
    generation, outcome = 1, {"fault": "kill_mid_write", "trials": 0, "survived": 0, "rows_lost": 0, "rows_duplicated": 0, "details": []}
    hooks = ["after_delete", "after_insert", None]
    for trial in range(trials):
        hook = hooks[trial % len(hooks)]
        signal_file = work / f"crash-{trial}.signal"
        process = spawn_child({"kind": "crash", "warehouse": str(warehouse), "partition": "target", "rows": rows,
                               "generation": generation + 1, "hook": hook, "signal": str(signal_file)}, work / f"crash-{trial}.log")
        wait_for_file(signal_file, process)
        delay = 0.0 if hook else rng.uniform(0.0, 0.5)  # a random point of the write (about 0.5 s for 20k rows here)
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
        lock_free = _lock_is_free(warehouse)
        state = _read(warehouse, ["target", "bystander"])
        lost, duplicated, held = check_partition(state["target"], [generation] if hook else [generation, generation + 1], rows)
        b_lost, b_dup, _ = check_partition(state["bystander"], [1], 1000)
        # a re-run completes the write
        with open_warehouse(warehouse) as con:
            replace_rows(con, "question_papers", partition_rows("target", generation + 1, rows), {"question_id": "target"})
        rerun = _read(warehouse, ["target"])["target"]
        re_lost, re_dup, _ = check_partition(rerun, [generation + 1], rows)
        survived = lock_free and held is not None and not (lost or duplicated or b_lost or b_dup or re_lost or re_dup)
        outcome["trials"] += 1
        outcome["survived"] += survived
        outcome["rows_lost"] += lost + b_lost + re_lost
        outcome["rows_duplicated"] += duplicated + b_dup + re_dup
        outcome["details"].append({"hook": hook or f"random {delay:.2f}s", "killed_rc": process.returncode, "lock_free": lock_free,
                                   "partition_after_kill": "new" if held == generation + 1 else "old" if held == generation else "BROKEN",
                                   "rerun_complete": not (re_lost or re_dup)})
        generation += 1
    return outcome


def concurrent_writers(work: Path, writers: int, rounds: int, rows: int) -> dict:
    """``writers`` processes each replace their own partition ``rounds`` times, all at once, with readers."""
    import duckdb

    from litsynth.warehouse import connect_read_only

    warehouse = work / "concurrent.duckdb"  # not created yet: the writers race to create it too
    go = work / "concurrent.go"
    partitions = [f"writer-{i}" for i in range(writers)]
    processes = [
        spawn_child({"kind": "write", "warehouse": str(warehouse), "partition": p, "rows": rows, "rounds": rounds,
                     "ready": str(work / f"{p}.ready"), "go": str(go), "result": str(work / f"{p}.json")}, work / f"{p}.log")
        for p in partitions
    ]
    for p, process in zip(partitions, processes):
        wait_for_file(work / f"{p}.ready", process)
    go.write_text("go")
    started = time.monotonic()
    reads = {"attempts": 0, "got_in": 0, "refused_while_writing": 0, "refused_while_creating": 0, "torn_partitions_seen": 0}
    while any(process.poll() is None for process in processes):
        if warehouse.exists():
            reads["attempts"] += 1
            size = warehouse.stat().st_size
            try:
                con = connect_read_only(warehouse)
            except duckdb.Error as exc:
                if "Could not set lock" in str(exc):  # DuckDB refuses readers while a writer holds the file
                    reads["refused_while_writing"] += 1
                elif size < 3 * 4096:  # the instant the first writer creates the file, before its header
                    reads["refused_while_creating"] += 1
                else:
                    raise
            else:
                try:
                    reads["got_in"] += 1
                    for p in partitions:
                        state = partition_state(con, p)
                        if state["rows"] and (len(state["generations"]) != 1 or state["rows"] != rows):
                            reads["torn_partitions_seen"] += 1
                finally:
                    con.close()
        time.sleep(1.5)  # each attempt loads the extensions (~0.35 s of CPU): poll gently
    elapsed = time.monotonic() - started
    results = []
    for p, process in zip(partitions, processes):
        ok = process.wait() == 0
        results.append({"rc": process.returncode, "report": json.loads((work / f"{p}.json").read_text()) if ok else None, "log": "" if ok else log_tail(process)})
    final = _read(warehouse, partitions)
    lost = duplicated = 0
    for p in partitions:
        p_lost, p_dup, _ = check_partition(final[p], [rounds], rows)
        lost, duplicated = lost + p_lost, duplicated + p_dup
    survived = sum(r["rc"] == 0 for r in results)
    return {"fault": "concurrent_writers", "trials": writers, "survived": survived if not (lost or duplicated or reads["torn_partitions_seen"]) else 0,
            "rows_lost": lost, "rows_duplicated": duplicated, "seconds": round(elapsed, 2), "reads": reads,
            "max_lock_wait_s": max((max(r["report"]["lock_waits_s"]) for r in results if r["report"]), default=None),
            "errors": [r["log"] for r in results if r["rc"] != 0]}


def reader_blocks_writer(work: Path, rows: int) -> dict:
    """A writer that finds a read-only connection open waits for it to close instead of failing."""
    from litsynth.warehouse import connect_read_only, open_warehouse, replace_rows

    warehouse = work / "reader.duckdb"
    with open_warehouse(warehouse) as con:
        replace_rows(con, "question_papers", partition_rows("p", 1, rows), {"question_id": "p"})
    reader = connect_read_only(warehouse)
    process = spawn_child({"kind": "write", "warehouse": str(warehouse), "partition": "p", "rows": rows, "rounds": 2,
                           "ready": str(work / "reader.ready"), "go": str(work / "reader.go")}, work / "reader.log")
    wait_for_file(work / "reader.ready", process)
    (work / "reader.go").write_text("go")
    time.sleep(1.5)
    waited = process.poll() is None
    reader.close()
    process.wait(120)
    lost, duplicated, _ = check_partition(_read(warehouse, ["p"])["p"], [2], rows)
    ok = waited and process.returncode == 0 and not (lost or duplicated)
    return {"fault": "reader_blocks_writer", "trials": 1, "survived": int(ok), "rows_lost": lost, "rows_duplicated": duplicated,
            "writer_waited_for_reader": waited, "writer_rc": process.returncode, "log": "" if process.returncode == 0 else log_tail(process)}


def _table_snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    from litsynth.warehouse import connect_read_only

    con = connect_read_only(warehouse, wait_s=60)
    try:
        snapshot = {}
        for table in CORPUS_TABLES:
            columns = [
                c for c, t in con.execute(
                    "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if not t.startswith("TIMESTAMP")  # ingested_at: when the run happened
            ]
            snapshot[table] = con.execute(f'SELECT {", ".join(columns)} FROM "{table}" ORDER BY ALL').fetchall()
        return snapshot
    finally:
        con.close()


def kill_mid_materialize(work: Path, trials: int, rng: random.Random) -> dict:
    """SIGKILL a Dagster materialisation of the corpus assets at a random moment."""
    warehouse = work / "dagster.duckdb"
    small, large = work / "corpus-small", work / "corpus-large"
    small.mkdir()
    shutil.copy(next(SEEDS_DIR.glob("001_*.txt")), small)
    shutil.copytree(SEEDS_DIR, large)
    finish(spawn_child({"kind": "materialize", "warehouse": str(warehouse), "corpus_dirs": [str(small)], "selection": CORPUS_ASSETS}, work / "old.log"))
    old = _table_snapshot(warehouse)
    finish(spawn_child({"kind": "materialize", "warehouse": str(work / "reference.duckdb"), "corpus_dirs": [str(large)], "selection": CORPUS_ASSETS}, work / "new.log"))
    new = _table_snapshot(work / "reference.duckdb")
    outcome = {"fault": "kill_mid_materialize", "trials": 0, "survived": 0, "rows_lost": 0, "rows_duplicated": 0, "details": []}
    for trial in range(trials):
        signal_file = work / f"materialize-{trial}.signal"
        process = spawn_child({"kind": "materialize", "warehouse": str(warehouse), "corpus_dirs": [str(large)], "selection": CORPUS_ASSETS,
                               "signal": str(signal_file)}, work / f"materialize-{trial}.log")
        wait_for_file(signal_file, process, 300)
        delay = rng.uniform(0.5, 6.0)  # a run here takes 3-10 s; its writes come near the end
        time.sleep(delay)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
        after = _table_snapshot(warehouse)
        # The multi-asset writes its six tables one transaction each: each table is wholly old or wholly new.
        per_table = {t: "old" if after[t] == old[t] else "new" if after[t] == new[t] else "BROKEN" for t in CORPUS_TABLES}
        broken = [t for t, state in per_table.items() if state == "BROKEN"]
        lost = sum(max(len(new[t]), len(old[t])) for t in broken)
        outcome["trials"] += 1
        outcome["survived"] += not broken and _lock_is_free(warehouse)
        outcome["rows_lost"] += lost
        outcome["details"].append({"killed_after_s": round(delay, 2), "tables": per_table})
        # back to the old state for the next trial
        finish(spawn_child({"kind": "materialize", "warehouse": str(warehouse), "corpus_dirs": [str(small)], "selection": CORPUS_ASSETS}, work / "restore.log"))
    return outcome


def hostile_files(work: Path) -> dict:
    """Malformed and hostile files beside the seeds: every file accounted for, the seed papers intact."""
    from litsynth.corpus import discover_files, ingest_files

    corpus = work / "hostile"
    shutil.copytree(SEEDS_DIR, corpus)
    seed = {p.name[:3]: p.read_bytes() for p in SEEDS_DIR.glob("*.txt")}
    outside = work / "outside.txt"
    outside.write_text("Daily Papers\n\nA Paper Outside The Corpus Folder\n\nWe should never see this.\n", encoding="utf-8")
    bad = {
        "empty.txt": b"",
        "random.bin": random.Random(7).randbytes(4096),
        "truncated.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj << /Type /Pa",
        "too-big.txt": seed["002"] * 2,
        "utf16-no-bom.txt": seed["003"].decode("utf-8").encode("utf-16-le"),
        "latin1.txt": "Daily Papers\n\nCaf\u00e9 Retrieval\n\nAn abstract.\n".encode("latin-1"),
        "page.html": b"<!DOCTYPE html><html><head><script>fetch('/steal')</script></head><body>x</body></html>",
        "wrong-types.json": b'[{"title": 42}, {"title": "A", "authors": "not a list"}]',
        "-x'; DROP TABLE papers; -- \u00fcn\u00ef.txt".encode(): seed["003"] + b"\n",
        b"caf\xe9 name.txt": seed["002"] + b"\n\n",
        ".hidden.txt": outside.read_bytes(),
    }
    for name, data in bad.items():
        (corpus / os.fsdecode(name) if isinstance(name, bytes) else corpus / name).write_bytes(data)
    (corpus / "link-outside.txt").symlink_to(outside)
    files = discover_files([corpus])
    tables = ingest_files(files, root=work, max_file_bytes=100_000)
    seeds_only = ingest_files(discover_files([SEEDS_DIR]), root=ROOT, max_file_bytes=100_000)
    statuses = dict(tables.documents.group_by("status").len().iter_rows())
    missing_rows = len([p for p in corpus.iterdir() if not p.name.startswith(".") and not p.is_symlink()]) - tables.documents.height
    unexplained = tables.documents.filter((tables.documents["status"] != "ingested") & tables.documents["reason"].is_null()).height
    lost = len(set(seeds_only.papers["paper_id"]) - set(tables.papers["paper_id"]))
    leaked = int(tables.papers["title"].str.contains("Outside The Corpus").any())
    ok = missing_rows == 0 and unexplained == 0 and lost == 0 and not leaked
    return {"fault": "hostile_files", "trials": len(bad) + 1, "survived": len(bad) + 1 if ok else 0, "rows_lost": lost + max(missing_rows, 0),
            "rows_duplicated": tables.papers.height - tables.papers["paper_id"].n_unique(), "statuses": statuses,
            "files_without_row": missing_rows, "rejections_without_reason": unexplained, "outside_file_ingested": bool(leaked)}


# --- hostile input by class: every case within its budget, with its reason -------------------------

PATH_MAX = 4096
CASE_TIMEOUT_S = 120.0  # wall clock a case's child may take (parse budget plus start-up), else it "hung"
HOSTILE_MAX_FILE_BYTES = 30_000_000
GOOD_QUESTION = "id: good-question\nquestion: Which retrieval models hold up on hostile input?\nkeywords: [retrieval]\n"


def _pdf_document(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF of numbered ``objects`` (1 is the catalog) with a correct xref table."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def text_pdf(lines: list[str], title: str | None = None) -> bytes:
    """A minimal valid one-page PDF with one text line per item (and a metadata title)."""
    escape = lambda t: t.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")  # noqa: E731
    stream = ("BT /F1 11 Tf 14 TL 72 740 Td " + " ".join(f"({escape(t)}) Tj T*" for t in lines) + " ET").encode()
    return _pdf_document(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
            f"<< /Title ({escape(title)}) >>".encode() if title else b"<< >>",
        ],
        b" /Info 6 0 R",
    )


def shared_stream_bomb(pages: int = 2000, inflated_bytes: int = 20_000_000) -> bytes:
    """About 100 kB: every page draws the same Flate stream, which inflates to ``inflated_bytes`` of text."""
    import zlib

    run = b"(" + b"A" * 4000 + b") Tj "
    content = b"BT /F1 1 Tf 0 0 Td " + run * (inflated_bytes // len(run)) + b"ET"
    packed = zlib.compress(content, 9)
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(packed), packed),
    ]
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    return _pdf_document(objects + [page] * pages)


def encrypted_pdf(*, user_password: str) -> bytes:
    """The small text PDF encrypted (RC4-128) with an owner password and the given user password."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(text_pdf(["Owner Locked Retrieval Paper", "Abstract", "Text.", "1 Introduction"], "Owner Locked Retrieval Paper"))))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _long_path_file(folder: Path) -> None:
    """A file nested in folders whose path is longer than PATH_MAX (made through folder descriptors)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(PATH_MAX // 200 + 2):
            name = "d" * 200
            os.mkdir(name, dir_fd=fd)
            next_fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        out = os.open("deep.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, b"Daily Papers\n\nA Paper Too Deep\n\nNobody reads this.\n")
        os.close(out)
    finally:
        os.close(fd)


def _swap(path: Path, make) -> None:
    path.unlink()
    make(path)


def hostile_cases(work: Path) -> dict[str, dict]:
    """Generated hostile inputs by class: {name: {kind, build(folder), swap(folder)?, text()?, expect}}.

    ``kind`` "corpus" cases are files of a corpus folder (``swap`` runs between listing and
    reading), "questions" cases entries of a questions folder, "text" cases adversarial
    strings for the text functions. ``expect`` is (status, reason fragment).
    """
    outside = work / "outside-secret.txt"
    outside.write_text("Daily Papers\n\nOutside Paper Zeta\n\nWe must never be ingested.\n", encoding="utf-8")
    good = json.dumps({"id": "2501.00001", "title": "A Good Record Beside A Bad One"})
    report_head = "Synthesis\nThis report synthesises findings\nResearch question: Does it scale?\n"
    file = lambda name, data: lambda folder: (folder / name).write_bytes(data)  # noqa: E731

    def fifo(name):
        return lambda folder: os.mkfifo(folder / name)

    def link(name, target):
        return lambda folder: (folder / name).symlink_to(target)

    alias_bomb = "id: alias-bomb\nquestion: What does an alias bomb expand to?\nk: &k " + "x" * 1000 + "\nkeywords: [" + ", ".join(["*k"] * 100_000) + "]\n"
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8))
    laughs = "id: laughs\nquestion: How many laughs are in a billion?\n" + laughs + "keywords: *i\n"
    return {
        # 1. one bad entry must not stop the run
        "surrogate-record.jsonl": {"kind": "corpus", "build": file("surrogate.jsonl", (good + "\n" + json.dumps({"id": "2501.00002", "title": "Bad \ud800 title"}) + "\n").encode()),
                                   "expect": ("ingested", "lone surrogate")},
        "path-over-PATH_MAX": {"kind": "corpus", "build": _long_path_file, "expect": ("rejected", "File name too long")},
        "directory-named-yaml": {"kind": "questions", "build": lambda folder: (folder / "folder.yaml").mkdir(), "expect": ("rejected", "a directory")},
        # 2. super-linear parsing
        "report-200k-digits": {"kind": "corpus", "build": file("digits.txt", (report_head + "1" * 200_000 + "\n").encode()), "expect": ("ingested", None)},
        "listing-500k-newlines": {"kind": "corpus", "build": file("newlines.txt", b"Daily Papers\n" + b"\n" * 500_000 + b"A Paper After Blank Lines\nIts abstract.\n"),
                                  "expect": ("ingested", None)},
        # 3. decompression bomb
        "pdf-shared-stream-bomb": {"kind": "corpus", "build": lambda folder: (folder / "bomb.pdf").write_bytes(shared_stream_bomb()),
                                   "expect": ("rejected", "inflate past|exceeded the parse budget")},
        # 4. checked at listing, swapped before reading; non-regular entries
        "fifo-in-corpus": {"kind": "corpus", "build": fifo("pipe.txt"), "expect": ("rejected", "FIFO")},
        "swapped-for-symlink": {"kind": "corpus", "build": file("swap-link.txt", b"Daily Papers\n\nA Paper\n\nText.\n"),
                                "swap": lambda folder: _swap(folder / "swap-link.txt", lambda p: p.symlink_to(outside)), "expect": ("rejected", "symbolic link")},
        "swapped-for-fifo": {"kind": "corpus", "build": file("swap-fifo.txt", b"Daily Papers\n\nA Paper\n\nText.\n"),
                             "swap": lambda folder: _swap(folder / "swap-fifo.txt", os.mkfifo), "expect": ("rejected", "FIFO")},
        "swapped-for-dev-zero": {"kind": "corpus", "build": file("swap-zero.txt", b"Daily Papers\n\nA Paper\n\nText.\n"),
                                 "swap": lambda folder: _swap(folder / "swap-zero.txt", lambda p: p.symlink_to("/dev/zero")), "expect": ("rejected", "symbolic link")},
        "fifo-question": {"kind": "questions", "build": fifo("pipe.yaml"), "expect": ("rejected", "FIFO")},
        "dev-zero-question": {"kind": "questions", "build": link("zero.yaml", "/dev/zero"), "expect": ("rejected", "outside the questions folder")},
        "symlink-out-question": {"kind": "questions", "build": link("out.yaml", outside), "expect": ("rejected", "outside the questions folder")},
        "empty-question": {"kind": "questions", "build": file("empty.yaml", b""), "expect": ("rejected", "the file is empty")},
        "duplicate-id-question": {"kind": "questions", "build": file("zz-duplicate.yaml", GOOD_QUESTION.encode()), "expect": ("rejected", "already used by")},
        # 5. YAML amplification and nesting
        "alias-amplification": {"kind": "questions", "build": file("alias.yaml", alias_bomb.encode()), "expect": ("rejected", "line 4: more than 1,000 aliases")},
        "alias-amplification-1.1MB": {"kind": "questions", "build": file("alias-big.yaml", alias_bomb.replace("100_000", "").encode() + b"#" * 1_100_000),
                                      "expect": ("rejected", "over the 1,000,000-byte limit")},
        "nested-alias-bomb": {"kind": "questions", "build": file("laughs.yaml", laughs.encode()), "expect": ("rejected", "expands past")},
        "deep-nesting-question": {"kind": "questions", "build": file("deep.yaml", b"id: deep\nquestion: How deep can a question go?\nkeywords: " + b"[" * 50_000 + b"]" * 50_000 + b"\n"),
                                  "expect": ("rejected", "nested deeper")},
        # 6/7. valid input kept
        "atom-cdata-doctype": {"kind": "corpus", "build": file("feed.xml", (
            '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2501.00003v1</id>'
            "<title>A Feed Quoting HTML</title><summary><![CDATA[Pages start with <!DOCTYPE html> and <html>.]]></summary></entry></feed>").encode()),
            "expect": ("ingested", None)},
        "owner-password-pdf": {"kind": "corpus", "build": lambda folder: (folder / "owner.pdf").write_bytes(encrypted_pdf(user_password="")), "expect": ("ingested", None)},
        "user-password-pdf": {"kind": "corpus", "build": lambda folder: (folder / "user.pdf").write_bytes(encrypted_pdf(user_password="user-secret")),
                              "expect": ("rejected", "encrypted with a user password")},
        "jsonl-deep-line": {"kind": "corpus", "build": file("deep.jsonl", ("[" * 100_000 + "]" * 100_000 + "\n" + good + "\n" + json.dumps({"id": "2501.00004", "title": "After"}) + "\n").encode()),
                            "expect": ("ingested", "nested too deeply")},
        "jsonl-20MB-line": {"kind": "corpus", "build": file("big.jsonl", (json.dumps({"id": "2501.00005", "title": "A Long Record", "abstract": "word " * 4_000_000}) + "\n" + good + "\n").encode()),
                            "expect": ("ingested", None)},
        # 8. names that would drive the terminal
        "escape-sequence-name": {"kind": "corpus", "build": file("\x1b[2J\x1b]0;owned\x07\u202e.txt", b"Daily Papers\n\nA Paper With An Odd Name\n\nIts abstract.\n"), "expect": ("ingested", None)},
        # 4 (text): the sentence splitter, claim rules and quantity parser on adversarial text
        "text-200k-digits": {"kind": "text", "text": lambda: "1" * 200_000},
        "text-500k-newlines": {"kind": "text", "text": lambda: "A.\n" + "\n" * 500_000 + "B."},
        "text-20MB-line": {"kind": "text", "text": lambda: "retrieval " * 2_000_000},
        "text-500kB-of-claims": {"kind": "text", "text": lambda: "We show gains of 5% (Fig. 3) on MRR@10 over BM25. " * 10_000},
        "text-deep-nesting": {"kind": "text", "text": lambda: "(" * 500_000 + "x. Y" + ")" * 500_000},
        "text-dot-run": {"kind": "text", "text": lambda: "." * 1_000_000 + " Next."},
    }


def _peak_mb() -> float:
    import resource

    return round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024, 1)


def _text_case(text: str) -> dict:
    """The text as a paper's body through what the pipeline runs on it: sentences, chunks, claims."""
    from litsynth.claims import RuleBasedClaimExtractor
    from litsynth.text import chunk_text, compose_paper_text, split_sentences, whitespace_token_count

    paper_text = compose_paper_text("A Hostile Paper", None, text)
    sentences = split_sentences(paper_text)
    chunks = chunk_text(paper_text, max_tokens=256, count_tokens=whitespace_token_count)
    claims = RuleBasedClaimExtractor().extract("paper", paper_text, chunks, "Which retrieval models hold up?")
    longest = max((e - s for s, e in sentences), default=0)
    return {"status": "ok", "reason": f"{len(sentences):,} sentence(s) (longest {longest:,} characters), {len(chunks):,} chunk(s), {len(claims):,} claim(s)"}


def run_hostile(work: Path, names: list[str], *, seeds: bool) -> dict:
    """Build the named cases in one corpus and one questions folder (beside the seeds and a good
    question when ``seeds``), then list, swap, ingest and scan as the pipeline does."""
    from litsynth.config import IngestSettings, scan_questions
    from litsynth.corpus import discover_files, ingest_files

    cases = hostile_cases(work)
    corpus, questions = work / "corpus", work / "questions"
    if seeds:
        shutil.copytree(SEEDS_DIR, corpus)
    corpus.mkdir(exist_ok=True)
    questions.mkdir(exist_ok=True)
    (questions / "good.yaml").write_text(GOOD_QUESTION, encoding="utf-8")
    for name in names:
        if cases[name]["kind"] != "text":
            cases[name]["build"](corpus if cases[name]["kind"] == "corpus" else questions)
    started = time.monotonic()
    outcome: dict = {"cases": {}}
    files = discover_files([corpus])
    for name in names:
        if "swap" in cases[name]:
            cases[name]["swap"](corpus)
    budget = IngestSettings().parse_budget
    tables = ingest_files(files, root=work, max_file_bytes=HOSTILE_MAX_FILE_BYTES, budget=budget)
    scanned = scan_questions(questions)
    outcome["documents"] = [{"path": r["path"], "status": r["status"], "reason": r["reason"]} for r in tables.documents.iter_rows(named=True)]
    outcome["question_files"] = [{"path": f.path.name, "status": f.status, "reason": f.reason} for f in scanned]
    outcome["papers"] = tables.papers["title"].to_list()
    for name in names:
        if cases[name]["kind"] == "text":
            text_started = time.monotonic()
            outcome["cases"][name] = {**_text_case(cases[name]["text"]()), "seconds": round(time.monotonic() - text_started, 2)}
    outcome["seconds"] = round(time.monotonic() - started, 2)
    outcome["peak_mb"] = _peak_mb()
    return outcome


def _case_outcome(name: str, case: dict, result: dict) -> tuple[str, str | None]:
    """(status, reason) of a case in a child's result: its documents / question_files row, or the text run."""
    if case["kind"] == "text":
        got = result["cases"][name]
        return got["status"], got["reason"]
    rows = result["documents"] if case["kind"] == "corpus" else result["question_files"]
    # the case's entry: the one row that is not a seed file or the good question
    ours = [r for r in rows if not Path(r["path"]).name[:4].rstrip("_").isdigit() and Path(r["path"]).name != "good.yaml"]
    if len(ours) != 1:
        return "missing", f"expected one row for the case, found {len(ours)}"
    return ours[0]["status"], ours[0]["reason"]


def _hostile_child(work: Path, names: list[str], *, seeds: bool, timeout_s: float) -> tuple[dict | None, str | None]:
    """``run_hostile`` in a child process; (its result, None) or (None, why it failed or hung)."""
    result_file = work / "result.json"
    process = spawn_child({"kind": "hostile", "work": str(work), "names": names, "seeds": seeds, "result": str(result_file)}, work / "child.log")
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None, f"hung: still running after {timeout_s:g} s"
    if process.returncode != 0 or not result_file.exists():
        return None, f"child failed ({process.returncode}): {log_tail(process, 600)}"
    return json.loads(result_file.read_text(encoding="utf-8")), None


def _meets(expect: tuple[str, str | None], status: str, reason: str | None) -> bool:
    wanted, fragment = expect
    return status == wanted and (fragment is None or bool(reason and re.search(fragment, reason)))


def hostile_classes(work: Path, quick: bool) -> dict:
    """Each hostile case alone in a child process (its time and peak memory measured there),
    then all of them together beside the seeds and a good question: every case ends within its
    budget with its reason, the seed papers all land, nothing from outside the corpus does, and
    peak memory stays under 2 GB."""
    from litsynth.corpus import discover_files, ingest_files

    cases = hostile_cases(work)
    names = list(cases) if not quick else [n for n in cases if not n.startswith(("text-", "pdf-", "jsonl-20MB"))]
    table, failed = [], []
    for number, name in enumerate(names if not quick else []):  # quick: the whole set only
        folder = work / f"case-{number}"
        folder.mkdir()
        result, error = _hostile_child(folder, [name], seeds=False, timeout_s=CASE_TIMEOUT_S)
        if result is None:
            status, reason, seconds, peak = "error", error, None, None
        else:
            status, reason = _case_outcome(name, cases[name], result)
            seconds = result["cases"][name]["seconds"] if cases[name]["kind"] == "text" else result["seconds"]
            peak = result["peak_mb"]
        ok = result is not None and (status == "ok" if cases[name]["kind"] == "text" else _meets(cases[name]["expect"], status, reason))
        table.append({"case": name, "kind": cases[name]["kind"], "status": status, "reason": reason, "seconds": seconds, "peak_mb": peak, "ok": ok})
        failed += [] if ok else [name]
    whole_dir = work / "whole-set"
    whole_dir.mkdir()
    whole, error = _hostile_child(whole_dir, names, seeds=True, timeout_s=CASE_TIMEOUT_S * 5)
    seed_titles = set(ingest_files(discover_files([SEEDS_DIR]), root=ROOT, max_file_bytes=HOSTILE_MAX_FILE_BYTES).papers["title"])
    whole_ok = whole is not None and whole["peak_mb"] < 2048 and seed_titles <= set(whole["papers"]) and "Outside Paper Zeta" not in whole["papers"]
    if whole is not None:
        for name in names:
            if cases[name]["kind"] != "text":
                rows = whole["documents"] if cases[name]["kind"] == "corpus" else whole["question_files"]
                whole_ok &= any(_meets(cases[name]["expect"], r["status"], r["reason"]) for r in rows)
        whole_ok &= any(f["path"] == "good.yaml" and f["status"] == "loaded" for f in whole["question_files"])
    summary = {"seconds": whole and whole["seconds"], "peak_mb": whole and whole["peak_mb"], "error": error, "ok": whole_ok}
    trials = len(names) + 1
    return {"fault": "hostile_classes", "trials": trials, "survived": trials - len(failed) - (not whole_ok), "rows_lost": 0 if whole_ok else 1,
            "rows_duplicated": 0, "cases": table, "whole_set": summary, "failed_cases": failed}


def print_hostile(fault: dict) -> None:
    print(f"\n{'case':<28} {'outcome':<10} {'s':>7} {'peak MB':>8}  reason")
    for row in fault["cases"]:
        seconds = "-" if row["seconds"] is None else f"{row['seconds']:.2f}"
        peak = "-" if row["peak_mb"] is None else f"{row['peak_mb']:.0f}"
        mark = "" if row["ok"] else "  <-- UNEXPECTED"
        print(f"{row['case']:<28} {row['status']:<10} {seconds:>7} {peak:>8}  {printable_reason(row['reason'])}{mark}")
    whole = fault["whole_set"]
    print(f"whole hostile set beside the seeds: {'ok' if whole['ok'] else 'FAILED'} in {whole['seconds']} s, peak {whole['peak_mb']} MB {whole['error'] or ''}")


def printable_reason(reason: str | None, width: int = 110) -> str:
    from litsynth.safeio import printable

    text = printable(reason or "")
    return text if len(text) <= width else text[: width - 1] + "…"


# --- main ---------------------------------------------------------------------------------------


def run(quick: bool, seed: int, only: str | None = None) -> dict:
    rng = random.Random(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="litsynth-faults-") as tmp:
        work = Path(tmp)
        (work / "classes").mkdir()
        plan = {
            "kill_mid_write": lambda: kill_mid_write(work, trials=3 if quick else 12, rows=5_000 if quick else 20_000, rng=rng),
            "concurrent_writers": lambda: concurrent_writers(work, writers=6 if quick else 10, rounds=1 if quick else 5, rows=200 if quick else 5_000),
            "reader_blocks_writer": lambda: reader_blocks_writer(work, rows=2_000),
            "hostile_files": lambda: hostile_files(work),
            "hostile_classes": lambda: hostile_classes(work / "classes", quick),
        }
        if not quick:
            plan["kill_mid_materialize"] = lambda: kill_mid_materialize(work, trials=3, rng=rng)
        faults = []
        for name, fault in plan.items():
            if only and name != only:
                continue
            fault_started = time.monotonic()
            faults.append({**fault(), "wall_s": round(time.monotonic() - fault_started, 1)})
    totals = {key: sum(f[key] for f in faults) for key in ("trials", "survived", "rows_lost", "rows_duplicated")}
    return {"mode": "quick" if quick else "full", "seed": seed, "seconds": round(time.monotonic() - started, 1), "totals": totals, "faults": faults}


def print_table(report: dict) -> None:
    header = f"{'fault':<22} {'tried':>6} {'survived':>9} {'rows lost':>10} {'rows duplicated':>16}"
    print(header)
    print("-" * len(header))
    for f in [*report["faults"], {"fault": "TOTAL", **report["totals"]}]:
        print(f"{f['fault']:<22} {f['trials']:>6} {f['survived']:>9} {f['rows_lost']:>10} {f['rows_duplicated']:>16}")
    print(f"({report['mode']} mode, {report['seconds']}s)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        return child(json.loads(argv[1]))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer trials (about 30 s); what the test suite runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "fault_injection.json")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the random kill moments")
    parser.add_argument("--only", help="run one fault, e.g. hostile_classes")
    args = parser.parse_args(argv)
    report = run(args.quick, args.seed, args.only)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print_table(report)
    for fault in report["faults"]:
        if fault["fault"] == "hostile_classes":
            print_hostile(fault)
    print(f"report: {args.out}")
    totals = report["totals"]
    return 0 if totals["rows_lost"] == 0 and totals["rows_duplicated"] == 0 and totals["survived"] == totals["trials"] else 1


if __name__ == "__main__":
    sys.exit(main())
