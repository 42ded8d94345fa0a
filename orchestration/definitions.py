"""The litsynth code location (loaded through workspace.yaml)."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import Definitions, load_assets_from_modules

from assets import benchmarks, corpus, embeddings, extraction, metrics, report, selection, verification
from orchestration.automation import automation_sensor
from orchestration.checks import asset_checks
from orchestration.jobs import benchmark_job, corpus_job, question_job, question_model_job, report_job, selection_job, verifier_job
from orchestration.resources import Project, Warehouse
from orchestration.schedules import schedules
from orchestration.sensors import sensors

all_assets = load_assets_from_modules([corpus, selection, extraction, verification, embeddings, metrics, report, benchmarks])
jobs = [corpus_job, selection_job, question_job, question_model_job, report_job, benchmark_job, verifier_job]


def build_definitions(project: Project | None = None, warehouse: Warehouse | None = None) -> Definitions:
    """Definitions with the given resources (defaults: the project's own folders, and the warehouse
    the project's settings name)."""
    project = project or Project()
    warehouse = warehouse or Warehouse(path=str(project.settings().warehouse_path))
    return Definitions(
        assets=all_assets,
        asset_checks=asset_checks,
        jobs=jobs,
        sensors=[*sensors, automation_sensor],
        schedules=schedules,
        resources={"project": project, "warehouse": warehouse},
    )


def _project_from_environment() -> Project:
    """`litsynth ui --project DIR` starts the webserver with LITSYNTH_PROJECT=DIR."""
    folder = os.environ.get("LITSYNTH_PROJECT")
    return Project(project_root=str(Path(folder).resolve())) if folder else Project()


defs = build_definitions(_project_from_environment())
