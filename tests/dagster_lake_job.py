"""A small, self-contained Dagster asset graph that writes through the DuckLake backend, for
tests/test_ducklake.py: question-partitioned (dynamic partitions, as the pipeline's) assets run
by the multiprocess executor on an instance whose storage is PostgreSQL (deploy/dagster.yaml).

``lake_rows`` replaces its question's partition of ``question_papers`` (pool ``lake_writers``),
``lake_chunks`` its partition of ``chunks``, both from the same upstream; ``lake_summary`` reads
both back read-only. Each step records when it ran (metadata ``started``/``finished``, epoch
seconds) so a test can see runs overlap. The lake comes from LITSYNTH_LAKE_DSN and
LITSYNTH_LAKE_DATA.

    python -m tests.dagster_lake_job QUESTION [celery]   # one run for one partition on $DAGSTER_HOME's instance
"""


import os
import sys
import time
from pathlib import Path

import polars as pl
from dagster import (
    AssetExecutionContext,
    DagsterInstance,
    Definitions,
    DynamicPartitionsDefinition,
    MaterializeResult,
    asset,
    define_asset_job,
    execute_job,
    reconstructable,
)
from dagster_celery import celery_executor

ROOT = Path(__file__).resolve().parents[1]
questions = DynamicPartitionsDefinition(name="questions")
STEP_SECONDS = 0.5  # each writing step also waits this long, so overlap is measurable


def _settings():
    from litsynth.config import WarehouseSettings

    return WarehouseSettings(backend="ducklake", catalog_dsn=os.environ["LITSYNTH_LAKE_DSN"], data_path=os.environ["LITSYNTH_LAKE_DATA"])


@asset(partitions_def=questions)
def lake_question(context: AssetExecutionContext) -> MaterializeResult:
    return MaterializeResult(metadata={"question": context.partition_key})


@asset(partitions_def=questions, deps=[lake_question], pool="lake_writers")
def lake_rows(context: AssetExecutionContext) -> MaterializeResult:
    from litsynth.lake import open_lake
    from litsynth.warehouse import replace_rows
    from tests.lake_writer import rows

    started = time.time()
    question = context.partition_key
    with open_lake(_settings(), ROOT) as con:
        n = replace_rows(con, "question_papers", rows(question, 200, f"dagster:{context.run_id}"), {"question_id": question})
    time.sleep(STEP_SECONDS)
    return MaterializeResult(metadata={"rows": n, "started": started, "finished": time.time(), "pid": os.getpid()})


@asset(partitions_def=questions, deps=[lake_question], pool="lake_writers")
def lake_chunks(context: AssetExecutionContext) -> MaterializeResult:
    from litsynth.lake import open_lake
    from litsynth.warehouse import replace_rows

    started = time.time()
    question = context.partition_key
    n = 50
    frame = pl.DataFrame(
        {
            "question_id": [question] * n,
            "chunk_id": [f"{question}-chunk-{i}" for i in range(n)],
            "paper_id": [f"paper-{i % 7}" for i in range(n)],
            "position": list(range(n)),
            "char_start": [i * 10 for i in range(n)],
            "char_end": [i * 10 + 9 for i in range(n)],
            "text": [f"sentence {i} of {question}" for i in range(n)],
            "n_tokens": [5] * n,
            "token_budget": [256] * n,
        },
        schema_overrides={c: pl.Int32 for c in ("position", "char_start", "char_end", "n_tokens", "token_budget")},
    )
    with open_lake(_settings(), ROOT) as con:
        written = replace_rows(con, "chunks", frame, {"question_id": question})
    time.sleep(STEP_SECONDS)
    return MaterializeResult(metadata={"rows": written, "started": started, "finished": time.time(), "pid": os.getpid()})


@asset(partitions_def=questions, deps=[lake_rows, lake_chunks])
def lake_summary(context: AssetExecutionContext) -> MaterializeResult:
    from litsynth.lake import open_lake_read_only

    with open_lake_read_only(_settings(), ROOT) as con:
        (papers,) = con.execute("SELECT count(*) FROM question_papers WHERE question_id = ?", [context.partition_key]).fetchone()
        (chunks,) = con.execute("SELECT count(*) FROM chunks WHERE question_id = ?", [context.partition_key]).fetchone()
    return MaterializeResult(metadata={"papers": int(papers), "chunks": int(chunks)})


# the default executor, as the pipeline's jobs: run config execution.config.multiprocess selects multiprocess
lake_job = define_asset_job("lake_job", partitions_def=questions)
# the several-hosts profile: every step a Celery task (deploy/run_config.celery.yaml)
lake_celery_job = define_asset_job("lake_celery_job", partitions_def=questions, executor_def=celery_executor)
defs = Definitions(assets=[lake_question, lake_rows, lake_chunks, lake_summary], jobs=[lake_job, lake_celery_job])


def build_lake_job():
    return defs.resolve_job_def("lake_job")


def build_lake_celery_job():
    return defs.resolve_job_def("lake_celery_job")


def run_partition(question: str, instance: DagsterInstance, *, celery: bool = False) -> tuple[str, bool]:
    if celery:
        import yaml

        job, run_config = build_lake_celery_job, yaml.safe_load((ROOT / "deploy" / "run_config.celery.yaml").read_text())
    else:
        # forkserver with this module preloaded: step processes fork from a warm server instead of
        # importing dagster, polars and duckdb again each
        job, run_config = build_lake_job, {"execution": {"config": {"multiprocess": {
            "max_concurrent": 2, "start_method": {"forkserver": {"preload_modules": ["tests.dagster_lake_job", "litsynth.lake", "tests.lake_writer"]}}}}}}
    result = execute_job(reconstructable(job), instance=instance, tags={"dagster/partition": question}, run_config=run_config)
    return result.run_id, result.success


if __name__ == "__main__":
    with DagsterInstance.get() as instance:
        run_id, ok = run_partition(sys.argv[1], instance, celery=sys.argv[2:] == ["celery"])
    print(run_id, "SUCCESS" if ok else "FAILURE", flush=True)
    sys.exit(0 if ok else 1)
