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
    warehouse = Path(spec["warehouse"])
    if kind == "materialize":
        from dagster import DagsterInstance, materialize

        from orchestration.definitions import all_assets
        from orchestration.resources import Project, Warehouse

        resources = {
            "project": Project(project_root=spec.get("project_root", str(ROOT)), corpus_dirs=spec["corpus_dirs"], arxiv_enabled=False),
            "warehouse": Warehouse(path=str(warehouse)),
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


# --- main ---------------------------------------------------------------------------------------


def run(quick: bool, seed: int) -> dict:
    rng = random.Random(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="litsynth-faults-") as tmp:
        work = Path(tmp)
        plan = [
            lambda: kill_mid_write(work, trials=3 if quick else 12, rows=5_000 if quick else 20_000, rng=rng),
            lambda: concurrent_writers(work, writers=6 if quick else 10, rounds=1 if quick else 5, rows=200 if quick else 5_000),
            lambda: reader_blocks_writer(work, rows=2_000),
            lambda: hostile_files(work),
        ]
        if not quick:
            plan.append(lambda: kill_mid_materialize(work, trials=3, rng=rng))
        faults = []
        for fault in plan:
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
    args = parser.parse_args(argv)
    report = run(args.quick, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print_table(report)
    print(f"report: {args.out}")
    totals = report["totals"]
    return 0 if totals["rows_lost"] == 0 and totals["rows_duplicated"] == 0 and totals["survived"] == totals["trials"] else 1


if __name__ == "__main__":
    sys.exit(main())
