"""Schedules: the nightly refresh of every question and the weekly public benchmarks."""

from dagster import DefaultScheduleStatus, RunRequest, ScheduleDefinition, ScheduleEvaluationContext, schedule

from orchestration.jobs import benchmark_job, corpus_job
from assets.partitions import model_partitions

# Re-reads the questions, searches arXiv when online and re-ingests the corpus; the assets'
# automation conditions then refresh every question partition whose inputs changed.
nightly_refresh = ScheduleDefinition(
    name="nightly_refresh",
    job=corpus_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Nightly: questions, arXiv search (when online), ingestion; downstream follows by automation.",
)


@schedule(
    name="weekly_benchmarks",
    job=benchmark_job,
    cron_schedule="0 4 * * 0",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Sundays: every catalog model on the public benchmarks (what `litsynth bench` runs); embeddings come from the cache.",
)
def weekly_benchmarks(context: ScheduleEvaluationContext):
    for model_id in model_partitions.get_partition_keys():
        yield RunRequest(run_key=f"{context.scheduled_execution_time:%Y-%m-%d}:{model_id}", partition_key=model_id)


schedules = [nightly_refresh, weekly_benchmarks]
