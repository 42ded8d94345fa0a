"""The run plans of the CLI: which jobs run on which partitions, in order, and how a plan stops.

``litsynth run`` is the question pipeline: the corpus, then per question its selection /
extraction / verification, its embeddings and metrics under every catalog model, and its
report. Benchmarks (``litsynth bench``) and verifier training (``litsynth verifier train``) are
plans of their own: long and rare, never part of a first run. The jobs themselves are defined
once in :mod:`orchestration.jobs`; a plan only orders them over partitions.

A step is skipped as up to date when its fingerprint (code, settings, verifier versions and the
warehouse rows it reads) equals the one recorded in ``plan_steps`` when it last succeeded; the
corpus step always runs (it is where new papers come in), so a re-run with nothing new only
re-reads the corpus.

A plan stops as a whole on SIGINT or SIGTERM: the running step is interrupted or let finish
(its partition write is one transaction, so it is either whole or absent), and no further step
starts. A second signal exits at once.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from dagster import DagsterInstance, Definitions, MultiPartitionKey
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.execution.plan.objects import ErrorSource

RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass(frozen=True)
class Step:
    """One job run on one partition; ``requires`` names the step whose success it needs."""

    stage: str
    job: str
    label: str
    partition: str | MultiPartitionKey | None = None
    requires: str | None = None

    @property
    def partition_key(self) -> str:
        return "" if self.partition is None else str(self.partition)


class Ledger(Protocol):
    """What :func:`execute_plan` asks before and tells after each step (see :class:`StepLedger`)."""

    def up_to_date(self, step: Step) -> bool: ...

    def record(self, step: Step, seconds: float) -> None: ...


class RunEverything:
    def up_to_date(self, step: Step) -> bool:
        return False

    def record(self, step: Step, seconds: float) -> None:
        pass


@dataclass
class Outcome:
    step: Step
    status: str  # succeeded | up to date | failed | interrupted | skipped | not started
    seconds: float = 0.0
    reason: str = ""


def main_plan(question_ids: Sequence[str], model_ids: Sequence[str]) -> list[Step]:
    """The question pipeline over every question and model partition."""
    steps = [Step("corpus", "corpus_job", "corpus")]
    for question_id in question_ids:
        steps.append(Step("selection", "selection_job", f"{question_id} selection", question_id, requires="corpus"))
        steps.append(Step("question", "question_job", question_id, question_id, requires=f"{question_id} selection"))
        for model_id in model_ids:
            key = MultiPartitionKey({"question": question_id, "model": model_id})
            steps.append(Step("embeddings", "question_model_job", f"{question_id} × {model_id}", key, requires=question_id))
        steps.append(Step("report", "report_job", f"{question_id} report", question_id, requires=question_id))
    return steps


def benchmark_plan(model_ids: Sequence[str], question_ids: Sequence[str]) -> list[Step]:
    """Every catalog model on the public benchmarks, then the reports again so they show them."""
    steps = [Step("benchmarks", "benchmark_job", f"benchmarks for {m}", m) for m in model_ids]
    return steps + [Step("report", "report_job", f"{q} report", q) for q in question_ids]


def verifier_plan() -> list[Step]:
    return [Step("verifier", "verifier_job", "verifier training")]


class StopRequested:
    """SIGINT / SIGTERM handling for a plan: the first signal asks the plan to stop after the
    running step, a second one exits the process at once (status 130).

    While a step runs, Dagster installs its own SIGINT handler: it interrupts the step's compute
    but only records a signal that lands between steps, and forgets it when the run ends. So the
    plan does not rely on whichever Python handler is installed: ``signal.set_wakeup_fd`` has the
    interpreter write every caught signal to a pipe, and a watcher thread counts them there."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.signal: int | None = None
        self.in_run = False  # a job run is starting or ending, outside Dagster's own handler
        self._received = 0
        self._lock = threading.RLock()  # re-entrant: the handler may run while main holds it
        self._previous: dict[int, object] = {}
        self._previous_fd = -1
        self._write_fd = -1

    def _handle(self, signum, _frame) -> None:
        self.note(signum)
        if self.in_run:
            raise KeyboardInterrupt

    def _watch(self, read_fd: int) -> None:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while data := pipe.read(64):
                self._count(data)

    def _count(self, data: bytes) -> None:
        for signum in data:
            if signum not in self.SIGNALS:
                continue
            with self._lock:
                self._received += 1
                if self._received > 1:
                    self.echo("litsynth: second interrupt: stopping now")
                    os._exit(130)
            self.note(signum)

    def note(self, signum: int) -> None:
        with self._lock:
            if self.signal is not None:
                return
            self.signal = signum
        self.echo(
            f"litsynth: {signal.Signals(signum).name} received: stopping after the running step "
            "(its partition is written whole or not at all); press Ctrl-C again to stop at once"
        )

    def __enter__(self) -> "StopRequested":
        read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._previous_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        threading.Thread(target=self._watch, args=(read_fd,), name="litsynth-signals", daemon=True).start()
        for signum in self.SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd)
        os.close(self._write_fd)  # the watcher reads end-of-file and returns


def _was_interrupted(result) -> bool:
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.error_source == ErrorSource.INTERRUPT:
            return True
    return any(e.event_type_value in ("PIPELINE_CANCELED", "RUN_CANCELED", "PIPELINE_CANCELING", "RUN_CANCELING") for e in result.all_events)


def execute_plan(
    defs: Definitions,
    instance: DagsterInstance,
    steps: Iterable[Step],
    *,
    ledger: Ledger = RunEverything(),
    echo: Callable[[str], None] = print,
) -> list[Outcome]:
    """Run the steps in order; a failed step skips the steps that require it, a step the
    ledger finds up to date is not run."""
    steps = list(steps)
    outcomes: list[Outcome] = []
    failed: set[str] = set()
    with StopRequested(echo) as stop:
        for index, step in enumerate(steps):
            if stop.signal is not None:
                outcomes.extend(Outcome(s, "not started") for s in steps[index:])
                break
            if step.requires in failed:
                failed.add(step.label)
                outcomes.append(Outcome(step, "skipped", reason=f"{step.requires} did not succeed"))
                continue
            if ledger.up_to_date(step):
                echo(f"litsynth: [{index + 1}/{len(steps)}] {step.label}: up to date")
                outcomes.append(Outcome(step, "up to date"))
                continue
            echo(f"litsynth: [{index + 1}/{len(steps)}] {step.label}")
            started = time.monotonic()
            try:
                stop.in_run = True
                result = defs.resolve_job_def(step.job).execute_in_process(
                    instance=instance, partition_key=step.partition, run_config=RUN_CONFIG, raise_on_error=False
                )
                stop.in_run = False
                interrupted, succeeded = _was_interrupted(result), result.success
            except (KeyboardInterrupt, DagsterExecutionInterruptedError):
                stop.in_run = False
                interrupted, succeeded = True, False
            seconds = time.monotonic() - started
            if interrupted:
                stop.note(signal.SIGINT)
                outcomes.append(Outcome(step, "interrupted", seconds))
                failed.add(step.label)
            elif succeeded:
                ledger.record(step, seconds)
                outcomes.append(Outcome(step, "succeeded", seconds))
            else:
                outcomes.append(Outcome(step, "failed", seconds, "see the run log above"))
                failed.add(step.label)
    return outcomes


@dataclass
class PlanSummary:
    outcomes: list[Outcome]
    seconds_by_stage: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, outcomes: list[Outcome]) -> "PlanSummary":
        by_stage: dict[str, float] = {}
        for o in outcomes:
            by_stage[o.step.stage] = by_stage.get(o.step.stage, 0.0) + o.seconds
        return cls(outcomes, by_stage)

    @property
    def interrupted(self) -> bool:
        return any(o.status in ("interrupted", "not started") for o in self.outcomes)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status in ("failed", "skipped")]

    def exit_code(self) -> int:
        return 130 if self.interrupted else (1 if self.failed else 0)

    def lines(self) -> list[str]:
        total = sum(self.seconds_by_stage.values())
        lines = ["litsynth: time per stage"]
        lines += [f"  {stage:<11} {seconds:8.1f} s" for stage, seconds in self.seconds_by_stage.items()]
        lines.append(f"  {'total':<11} {total:8.1f} s")
        unfinished = [o for o in self.outcomes if o.status not in ("succeeded", "up to date")]
        if unfinished:
            lines.append("litsynth: not finished")
            lines += [f"  {o.step.label}: {o.status}" + (f" ({o.reason})" if o.reason else "") for o in unfinished]
        ran = sum(o.status == "succeeded" for o in self.outcomes)
        fresh = sum(o.status == "up to date" for o in self.outcomes)
        lines.append(f"litsynth: {ran} of {len(self.outcomes)} steps ran and succeeded, {fresh} were up to date")
        return lines


def echo_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- fingerprints ----------------------------------------------------------------------------

CODE_FOLDERS = ("litsynth", "assets", "orchestration", "sql", "expectations")
CODE_SUFFIXES = (".py", ".sql", ".json")
SELECTION_INPUTS = ("papers",)
QUESTION_INPUTS = ("prior_reports", "prior_report_claims")


def code_version(package_root: Path) -> str:
    """sha256 over the source, SQL and expectation files the pipeline runs."""
    digest = hashlib.sha256()
    for folder in CODE_FOLDERS:
        for path in sorted((package_root / folder).rglob("*")):
            if path.suffix in CODE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(package_root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _sha256(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def table_digest(con, table: str, where: str = "", parameters: Sequence = ()) -> str:
    """md5 of every row of ``table`` (optionally filtered), in a canonical order."""
    sql = f'SELECT count(*), md5(coalesce(string_agg(t::VARCHAR, chr(31) ORDER BY t::VARCHAR), \'\')) FROM "{table}" t {where}'
    count, digest = con.execute(sql, list(parameters)).fetchone()
    return f"{table}:{count}:{digest}"


class StepLedger:
    """Fingerprints of plan steps, kept in the warehouse table ``plan_steps``.

    Every fingerprint covers the code, the settings, the verifier versions on disk and the
    question's own file. A selection step adds the papers; a question step the selected papers
    (ids in rank order, their rows) and the prior reports; a question × model step its question
    step and the model's catalog entry; a report step its question's selection, question and
    model steps and the benchmark table, and it is up to date only while its report file exists.
    """

    def __init__(self, settings, *, package_root: Path, verifier_dirs: Sequence[Path]) -> None:
        self.settings = settings
        versions = sorted(f"{d}/{v.name}" for d in verifier_dirs if d.is_dir() for v in d.iterdir())
        self.base = _sha256(code_version(package_root), settings.model_dump_json(), *versions)

    def _connect(self):
        from litsynth.lake import open_backend

        return open_backend(self.settings.warehouse, self.settings.project_root)

    def fingerprint(self, con, step: Step) -> str | None:
        if step.job in ("selection_job", "question_job"):
            (question,) = con.execute("SELECT content_sha256 FROM questions WHERE question_id = ?", [step.partition]).fetchone() or (None,)
            if question is None:
                return None
            if step.job == "selection_job":
                return _sha256(self.base, question, *(table_digest(con, t) for t in SELECTION_INPUTS))
            # extraction and verification read only the selected papers, in rank order: a new
            # paper that is not selected leaves them as they are
            (selected,) = con.execute(
                "SELECT string_agg(paper_id, ',' ORDER BY rank) FROM question_papers WHERE question_id = ? AND selected", [step.partition]
            ).fetchone()
            papers = table_digest(con, "papers", "WHERE paper_id IN (SELECT paper_id FROM question_papers WHERE question_id = ? AND selected)", [step.partition])
            return _sha256(self.base, question, selected or "", papers, *(table_digest(con, t) for t in QUESTION_INPUTS))
        if step.job == "question_model_job":
            question_id, model_id = step.partition.keys_by_dimension["question"], step.partition.keys_by_dimension["model"]
            spec = self.settings.catalog().get(model_id).model_dump_json()
            return _sha256(self._recorded(con, "question_job", question_id) or "", spec)
        if step.job == "report_job":
            report = self.settings.path(self.settings.reports_dir) / str(step.partition) / "report.md"
            if not report.is_file():
                return None
            keys = [str(MultiPartitionKey({"question": str(step.partition), "model": m})) for m in self.settings.catalog().ids]
            upstream = [self._recorded(con, job, str(step.partition)) or "" for job in ("selection_job", "question_job")]
            upstream += [self._recorded(con, "question_model_job", key) or "" for key in keys]
            return _sha256(*upstream, table_digest(con, "benchmark_metrics"))
        return None  # the corpus, benchmarks and training always run

    def _recorded(self, con, job: str, partition_key: str) -> str | None:
        row = con.execute("SELECT fingerprint FROM plan_steps WHERE job = ? AND partition_key = ?", [job, partition_key]).fetchone()
        return row[0] if row else None

    def up_to_date(self, step: Step) -> bool:
        if self.settings.warehouse.backend == "duckdb" and not self.settings.warehouse_path.is_file():
            return False
        with self._connect() as con:
            current = self.fingerprint(con, step)
            return current is not None and current == self._recorded(con, step.job, step.partition_key)

    def record(self, step: Step, seconds: float) -> None:
        with self._connect() as con:
            current = self.fingerprint(con, step)
            if current is None:
                return
            # delete + insert in one transaction, not INSERT OR REPLACE: DuckLake has no keys
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute("DELETE FROM plan_steps WHERE job = ? AND partition_key = ?", [step.job, step.partition_key])
                con.execute("INSERT INTO plan_steps VALUES (?, ?, ?, ?, now()::TIMESTAMP)", [step.job, step.partition_key, current, seconds])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
