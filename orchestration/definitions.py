"""The litsynth code location (loaded through workspace.yaml)."""

from __future__ import annotations

from dagster import Definitions, load_assets_from_modules

from assets import benchmarks, corpus, embeddings, extraction, metrics, report, selection, verification
from orchestration.automation import automation_sensor
from orchestration.checks import asset_checks
from orchestration.jobs import benchmark_job, corpus_job, question_job, question_model_job, report_job
from orchestration.resources import Project, Warehouse
from orchestration.schedules import schedules
from orchestration.sensors import sensors

all_assets = load_assets_from_modules([corpus, selection, extraction, verification, embeddings, metrics, report, benchmarks])


def build_definitions(project: Project | None = None, warehouse: Warehouse | None = None) -> Definitions:
    """Definitions with the given resources (defaults: the project's own folders and warehouse)."""
    return Definitions(
        assets=all_assets,
        asset_checks=asset_checks,
        jobs=[corpus_job, question_job, question_model_job, report_job, benchmark_job],
        sensors=[*sensors, automation_sensor],
        schedules=schedules,
        resources={"project": project or Project(), "warehouse": warehouse or Warehouse()},
    )


defs = build_definitions()
