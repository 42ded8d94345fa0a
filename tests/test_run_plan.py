"""The CLI's run plans: what `litsynth run` / `bench` execute, how a signal stops them, and the
progress lines of long loops."""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from litsynth.embeddings import PROGRESS_BLOCK, embed_cached
from litsynth.progress import Progress, heartbeat
from litsynth.warehouse import connect_read_only, memory_connection, apply_schema
from orchestration.run_plan import PlanSummary, Outcome, StopRequested, benchmark_plan, main_plan

from .conftest import REPO_ROOT, SEEDS_DIR


def test_main_plan_is_the_question_pipeline_without_benchmarks_or_training():
    steps = main_plan(["q1", "q2"], ["minilm-l6", "bm25"])
    assert [s.job for s in steps] == [
        "corpus_job",
        "selection_job", "question_job", "question_model_job", "question_model_job", "report_job",
        "selection_job", "question_job", "question_model_job", "question_model_job", "report_job",
    ]
    assert not {"benchmark_job", "verifier_job"} & {s.job for s in steps}
    assert steps[3].partition.keys_by_dimension == {"question": "q1", "model": "minilm-l6"}
    assert steps[7].requires == "q2 selection" and all(s.requires == "q2" for s in steps[8:])


def test_bench_plan_runs_every_model_then_refreshes_the_reports():
    steps = benchmark_plan(["minilm-l6", "clip"], ["q1"])
    assert [(s.job, s.partition) for s in steps] == [("benchmark_job", "minilm-l6"), ("benchmark_job", "clip"), ("report_job", "q1")]


def test_summary_exit_codes_and_unfinished_steps():
    steps = main_plan(["q1"], ["bm25"])
    ok = PlanSummary.of([Outcome(s, "succeeded", 1.0) for s in steps])
    assert ok.exit_code() == 0 and ok.seconds_by_stage == {"corpus": 1.0, "selection": 1.0, "question": 1.0, "embeddings": 1.0, "report": 1.0}
    failed = PlanSummary.of([Outcome(steps[0], "succeeded"), Outcome(steps[1], "failed"), *(Outcome(s, "skipped") for s in steps[2:])])
    assert "  q1 selection: failed" in failed.lines()
    assert failed.exit_code() == 1
    stopped = PlanSummary.of([Outcome(steps[0], "succeeded"), Outcome(steps[1], "interrupted"), *(Outcome(s, "not started") for s in steps[2:])])
    assert stopped.exit_code() == 130
    assert "  q1 selection: interrupted" in stopped.lines() and "  q1 report: not started" in stopped.lines()


def _wait_for(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_signal_swallowed_by_another_handler_still_stops_the_plan():
    """Dagster's handler between steps only records a SIGINT and forgets it when the run ends;
    the plan must hear of it anyway."""
    lines: list[str] = []
    before = signal.getsignal(signal.SIGINT)
    with StopRequested(lines.append) as stop:
        swallowed = []
        ours = signal.signal(signal.SIGINT, lambda signum, frame: swallowed.append(signum))
        try:
            signal.raise_signal(signal.SIGINT)
        finally:
            signal.signal(signal.SIGINT, ours)
        assert swallowed == [signal.SIGINT]
        assert _wait_for(lambda: stop.signal == signal.SIGINT)
    assert lines == [
        "litsynth: SIGINT received: stopping after the running step (its partition is written whole "
        "or not at all); press Ctrl-C again to stop at once"
    ]
    assert signal.getsignal(signal.SIGINT) is before and signal.set_wakeup_fd(-1) == -1  # all restored


def test_a_second_signal_ends_the_process_at_once():
    code = (
        "import signal, time\n"
        "from orchestration.run_plan import StopRequested\n"
        "with StopRequested(print) as stop:\n"
        "    signal.signal(signal.SIGTERM, lambda *a: None)  # as if a step's handler swallowed both\n"
        "    signal.raise_signal(signal.SIGTERM); signal.raise_signal(signal.SIGTERM)\n"
        "    time.sleep(30)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 130
    assert "SIGTERM received" in done.stdout and "second interrupt: stopping now" in done.stdout


def test_progress_logs_done_total_rate_and_eta_at_most_every_interval(caplog):
    now = [0.0]
    counter = Progress("encoding", 100, unit="texts", every_s=30, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="litsynth.progress"):
        for step in range(1, 101):
            now[0] = step * 1.0  # one text a second
            counter.update(step)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 5  # the first update, every 30 s (31, 61, 91), and the last
    assert lines[1] == "encoding: 31/100 texts (31 %), 1.0 texts/s, elapsed 31 s, ETA 1 min 09 s"
    assert lines[-1].startswith("encoding: 100/100 texts (100 %)") and "ETA" not in lines[-1]


def test_heartbeat_reports_a_silent_call(caplog):
    with caplog.at_level(logging.INFO, logger="litsynth.progress"):
        with heartbeat("fitting", every_s=0.05):
            time.sleep(0.2)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0] == "fitting: started" and lines[-1].startswith("fitting: done in")
    assert any("still running" in line for line in lines[1:-1])


def test_embedding_many_texts_logs_progress_per_block(caplog):
    from litsynth.config import Settings
    from litsynth.models.text_encoder import load_text_encoder

    catalog = Settings(project_root=REPO_ROOT).catalog()
    encoder = load_text_encoder(catalog.get("minilm-l6"), REPO_ROOT)
    con = memory_connection()
    apply_schema(con)
    texts = [f"Recall@{i} of CLIP on MSCOCO is {i}.5 points higher." for i in range(2 * PROGRESS_BLOCK + 1)]
    with caplog.at_level(logging.INFO, logger="litsynth.progress"):
        vectors, computed = embed_cached(con, encoder, texts)
    assert computed == len(texts) and vectors.shape == (len(texts), 384)
    lines = [r.getMessage() for r in caplog.records if r.name == "litsynth.progress"]
    assert lines[0].startswith(f"embedding with minilm-l6: {PROGRESS_BLOCK}/{len(texts)} texts")
    assert lines[-1].startswith(f"embedding with minilm-l6: {len(texts)}/{len(texts)} texts (100 %)")
    assert np.allclose(vectors[3], encoder.encode([texts[3]])[0], atol=1e-5)  # sorted by length, returned in order


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the bundled project: questions, catalog, seed corpus."""
    for name in ("questions", "models.yaml", "workspace.yaml"):
        source = REPO_ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    shutil.copytree(SEEDS_DIR, tmp_path / "corpus" / "examples")
    (tmp_path / "corpus" / "inbox").mkdir()
    return tmp_path


def test_sigint_stops_litsynth_run_as_a_whole(project):
    """Ctrl-C during a question step: that step stops, nothing after it starts, the exit status
    is 130, and the warehouse opens with every partition whole (all of it or none)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "--project", str(project), "run", "--offline"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    seen = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        seen.append(line)
        if "] alignment-vs-contrastive-pretraining\n" in line:  # the first question step started
            break
    else:
        process.kill()
        pytest.fail("the first question step never started:\n" + "".join(seen[-20:]))
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=180)
    err = "".join(seen) + err
    assert process.returncode == 130, err[-3000:]
    assert "SIGINT received: stopping after the running step" in err
    assert "stopped by a signal" in err
    assert "one-to-many-defense-clip report: not started" in out
    assert "] one-to-many-defense-clip\n" not in err  # the second question never started
    con = connect_read_only(project / "var" / "warehouse.duckdb")
    try:
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] > 0  # the corpus step finished
        for table in ("question_papers", "chunks", "claims", "verifications"):
            partitions = con.execute(f"SELECT count(DISTINCT question_id) FROM {table}").fetchone()[0]
            assert partitions <= 1
        claims, verified = con.execute(
            "SELECT (SELECT count(*) FROM claims), (SELECT count(*) FROM verifications)"
        ).fetchone()
        assert verified in (0, claims)  # verifications of the interrupted question: whole or absent
    finally:
        con.close()


def test_a_step_is_up_to_date_until_what_it_reads_changes(tmp_path):
    """StepLedger: a question step recorded after success is up to date; a new paper, an edited
    question or another verifier version makes it due again; its model and report steps follow."""
    from litsynth.config import Settings
    from litsynth.warehouse import open_warehouse
    from orchestration.run_plan import StepLedger

    settings = Settings(project_root=REPO_ROOT, warehouse={"path": str(tmp_path / "warehouse.duckdb")}, reports_dir=str(tmp_path / "reports"))
    verifiers = tmp_path / "verifiers"
    verifiers.mkdir()
    with open_warehouse(settings.warehouse_path) as con:
        con.execute("INSERT INTO questions (question_id, question, keywords, benchmarks, source_file, content_sha256, loaded_at) VALUES ('q1', 'Does CLIP retrieve?', ['CLIP'], [], 'q1.yaml', 'aaa', now()::TIMESTAMP)")
    selection, question, model, report = main_plan(["q1"], ["bm25"])[1:]
    ledger = StepLedger(settings, package_root=REPO_ROOT, verifier_dirs=[verifiers])
    assert not ledger.up_to_date(selection) and not ledger.up_to_date(question)
    for step in (selection, question, model):
        ledger.record(step, 1.0)
    assert ledger.up_to_date(selection) and ledger.up_to_date(question) and ledger.up_to_date(model)
    assert not ledger.up_to_date(report)  # no report file yet
    (tmp_path / "reports" / "q1").mkdir(parents=True)
    (tmp_path / "reports" / "q1" / "report.md").write_text("# q1\n")
    ledger.record(report, 1.0)
    assert ledger.up_to_date(report)

    def add_paper(paper_id: str, selected: bool) -> None:
        with open_warehouse(settings.warehouse_path) as con:
            con.execute(
                f"INSERT INTO papers VALUES ('{paper_id}', 'title:{paper_id}', NULL, NULL, 'CLIP {paper_id}', 'An abstract.', NULL, NULL, [], NULL, NULL, [], NULL, NULL, 'CLIP. An abstract.', 'abstract', 1)"
            )
            con.execute(
                "INSERT INTO question_papers SELECT 'q1', ?, 0, NULL, 0.5, 1, 0.01, 1 + count(*), ?, 'test', 'minilm-l6' FROM question_papers",
                [paper_id, selected],
            )

    add_paper("p1", selected=False)
    assert not ledger.up_to_date(selection)  # a new paper: the ranking is due
    ledger.record(selection, 1.0)
    assert ledger.up_to_date(question) and ledger.up_to_date(model)  # not selected: nothing downstream changes
    assert not ledger.up_to_date(report)  # the report lists the ranking
    ledger.record(report, 1.0)

    add_paper("p2", selected=True)
    ledger.record(selection, 1.0)
    assert not ledger.up_to_date(question)  # a new selected paper
    ledger.record(question, 1.0)
    assert not ledger.up_to_date(model) and not ledger.up_to_date(report)  # downstream of a changed step
    ledger.record(model, 1.0)
    ledger.record(report, 1.0)
    assert ledger.up_to_date(report)

    with open_warehouse(settings.warehouse_path) as con:
        con.execute("UPDATE questions SET content_sha256 = 'bbb'")
    assert not ledger.up_to_date(question)  # the question file was edited
    ledger.record(question, 1.0)
    (verifiers / "0123456789abcdef").mkdir()
    assert not StepLedger(settings, package_root=REPO_ROOT, verifier_dirs=[verifiers]).up_to_date(question)  # a new verifier
