"""Schedules: the nightly refresh of every question."""

from dagster import DefaultScheduleStatus, ScheduleDefinition

from orchestration.jobs import corpus_job

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

schedules = [nightly_refresh]
