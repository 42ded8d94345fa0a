"""The litsynth code location (loaded through workspace.yaml): every stage's assets and checks,
the jobs, schedules and sensors, and the ``project`` resource."""

from __future__ import annotations

from dagster import Definitions, load_asset_checks_from_modules, load_assets_from_modules

from assets import benchmarks, corpus, embeddings, evaluation, extraction, report, selection, verification
from assets.partitions import model_partitions
from assets.resources import Project, location_project
from litsynth.config import ConfigError
from orchestration.jobs import jobs
from orchestration.schedules import schedules
from orchestration.sensors import sensors

STAGES = [corpus, selection, extraction, verification, embeddings, evaluation, report, benchmarks]
all_assets = load_assets_from_modules(STAGES)
asset_checks = load_asset_checks_from_modules(STAGES)


def build_definitions(project: Project | None = None) -> Definitions:
    """Definitions around ``project`` (default: the code location's project)."""
    project = project or location_project()
    settings = project.settings()
    catalog_ids = settings.catalog().ids
    if list(catalog_ids) != list(model_partitions.get_partition_keys()):
        raise ConfigError(
            f"{settings.path(settings.models_file)}: models {list(catalog_ids)} differ from this code "
            f"location's model partitions {model_partitions.get_partition_keys()}. Fix: start the location on that project "
            "(`litsynth ui --project DIR` or LITSYNTH_PROJECT=DIR)"
        )
    return Definitions(
        assets=all_assets,
        asset_checks=asset_checks,
        jobs=jobs,
        sensors=sensors,
        schedules=schedules,
        resources={"project": project},
    )


defs = build_definitions()
