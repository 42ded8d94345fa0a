"""The ``project`` resource: the project's settings (litsynth.config.Settings) inside Dagster.

Settings have one owner, the pydantic model; the resource names the project folder and may
override any setting with a nested mapping of the same names (the Dagster launchpad's
``overrides``, or ``Project(overrides={"selection": {"max_selected": 8}})`` in code), on top
of the project's ``litsynth.yaml``. The warehouse is opened from those settings too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from dagster import ConfigurableResource

from litsynth.config import Settings, project_root
from litsynth.lake import open_backend

PROJECT_ENV = "LITSYNTH_PROJECT"  # the code location's project folder (set by `litsynth ui --project`)


class Project(ConfigurableResource):
    """Where the project's inputs and outputs are, and the knobs of each stage (README, Configuration)."""

    project_root: str = str(project_root())
    overrides: dict[str, Any] = {}

    def settings(self) -> Settings:
        return Settings.load(Path(self.project_root), self.overrides)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse the settings name, for reading and writing: the DuckDB file (one writer
        at a time) or the DuckLake (concurrent writers, each partition replaced in one commit)."""
        settings = self.settings()
        with open_backend(settings.warehouse, settings.project_root) as con:
            yield con


def location_project() -> Project:
    """The project this code location serves: ``LITSYNTH_PROJECT`` (set by ``litsynth ui
    --project DIR`` for the webserver and daemon it starts) or this checkout."""
    folder = os.environ.get(PROJECT_ENV)
    return Project(project_root=str(Path(folder).resolve())) if folder else Project()
