"""Jobs: the corpus refresh (unpartitioned) and the per-question pipeline."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from orchestration.partitions import question_partitions

corpus_job = define_asset_job(
    "corpus_job",
    selection=AssetSelection.groups("corpus"),
    description="Load questions, search arXiv (when online) and ingest every corpus file.",
)

question_job = define_asset_job(
    "question_job",
    selection=AssetSelection.all() - AssetSelection.groups("corpus"),
    partitions_def=question_partitions,
    description="Everything downstream of the corpus for one research question.",
)
