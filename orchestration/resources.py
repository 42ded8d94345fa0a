"""Dagster resources: the project settings and the DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from litsynth.config import (
    ArxivSettings,
    BenchmarkSettings,
    IngestSettings,
    SelectionSettings,
    Settings,
    VerifierSettings,
    project_root,
)
from litsynth.warehouse import open_warehouse

_DEFAULTS = Settings(project_root=project_root())


class Project(ConfigurableResource):
    """Where the project's inputs and outputs are, and the knobs of each stage.

    Relative paths are resolved against ``project_root``; tests point it at temporary folders.
    """

    project_root: str = str(project_root())
    questions_dir: str = _DEFAULTS.questions_dir
    models_file: str = _DEFAULTS.models_file
    reports_dir: str = _DEFAULTS.reports_dir
    beir_dir: str = _DEFAULTS.benchmarks.beir_dir
    beir_split: str = _DEFAULTS.benchmarks.beir_split
    coco_captions: str = _DEFAULTS.benchmarks.coco_captions
    coco_images: str = _DEFAULTS.benchmarks.coco_images
    corpus_dirs: list[str] = list(_DEFAULTS.ingest.corpus_dirs)
    inbox_dir: str = _DEFAULTS.ingest.inbox_dir
    max_file_bytes: int = _DEFAULTS.ingest.max_file_bytes
    parse_timeout_s: float = _DEFAULTS.ingest.parse_timeout_s
    parse_memory_bytes: int = _DEFAULTS.ingest.parse_memory_bytes
    max_decompressed_bytes: int = _DEFAULTS.ingest.max_decompressed_bytes
    max_question_bytes: int = _DEFAULTS.max_question_bytes
    arxiv_enabled: bool = _DEFAULTS.arxiv.enabled
    arxiv_max_results: int = _DEFAULTS.arxiv.max_results
    arxiv_download_dir: str = _DEFAULTS.arxiv.download_dir
    train_verifier: bool = _DEFAULTS.verifier.train
    verifier_backbone: str = _DEFAULTS.verifier.backbone
    verifier_claims: str = _DEFAULTS.verifier.claims
    verifier_corpus: str = _DEFAULTS.verifier.corpus
    verifier_source_url: str | None = _DEFAULTS.verifier.source_url
    verifier_download_dir: str = _DEFAULTS.verifier.download_dir
    verifier_model_dir: str = _DEFAULTS.verifier.model_dir
    max_selected: int = _DEFAULTS.selection.max_selected
    min_dense_similarity: float = _DEFAULTS.selection.min_dense_similarity

    def settings(self) -> Settings:
        return Settings(
            project_root=Path(self.project_root),
            questions_dir=self.questions_dir,
            models_file=self.models_file,
            reports_dir=self.reports_dir,
            benchmarks=BenchmarkSettings(
                beir_dir=self.beir_dir, beir_split=self.beir_split, coco_captions=self.coco_captions, coco_images=self.coco_images
            ),
            max_question_bytes=self.max_question_bytes,
            ingest=IngestSettings(
                corpus_dirs=tuple(self.corpus_dirs), inbox_dir=self.inbox_dir, max_file_bytes=self.max_file_bytes,
                parse_timeout_s=self.parse_timeout_s, parse_memory_bytes=self.parse_memory_bytes,
                max_decompressed_bytes=self.max_decompressed_bytes,
            ),
            arxiv=ArxivSettings(enabled=self.arxiv_enabled, max_results=self.arxiv_max_results, download_dir=self.arxiv_download_dir),
            verifier=VerifierSettings(
                train=self.train_verifier, backbone=self.verifier_backbone, claims=self.verifier_claims, corpus=self.verifier_corpus,
                source_url=self.verifier_source_url, download_dir=self.verifier_download_dir, model_dir=self.verifier_model_dir,
            ),
            selection=SelectionSettings(max_selected=self.max_selected, min_dense_similarity=self.min_dense_similarity),
        )


class Warehouse(ConfigurableResource):
    """The DuckDB file every asset reads and writes (one writer at a time, see litsynth.warehouse)."""

    path: str = str(project_root() / _DEFAULTS.warehouse)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_warehouse(Path(self.path)) as con:
            yield con
