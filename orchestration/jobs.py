"""Jobs: the corpus refresh, the per-question pipeline, the per question x model stage, the report;
and, apart from the main job, the benchmarks per model and verifier training."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from assets.partitions import model_partitions, question_model_partitions, question_partitions

CORPUS_GROUPS = ("corpus",)
QUESTION_GROUPS = ("extraction", "verification")
REPORT_GROUPS = ("report",)
MODEL_GROUPS = ("embeddings", "evaluation")

corpus_job = define_asset_job(
    "corpus_job",
    selection=AssetSelection.groups(*CORPUS_GROUPS),
    description="Load questions, search arXiv (when online), ingest every corpus file.",
)

verifier_job = define_asset_job(
    "verifier_job",
    selection=AssetSelection.assets("verifier_model"),
    description="(Re)train the claim verifier from the configured SciFact-format data (a version per content hash; reused when unchanged).",
)

selection_job = define_asset_job(
    "selection_job",
    selection=AssetSelection.groups("selection"),
    partitions_def=question_partitions,
    description="Rank every paper for one research question and mark the selected ones.",
)

question_job = define_asset_job(
    "question_job",
    selection=AssetSelection.groups(*QUESTION_GROUPS) - AssetSelection.assets("verifier_model"),
    partitions_def=question_partitions,
    description="Extraction and verification for one research question, over its selected papers.",
)

question_model_job = define_asset_job(
    "question_model_job",
    selection=AssetSelection.groups(*MODEL_GROUPS),
    partitions_def=question_model_partitions,
    description="Embeddings and retrieval metrics for one research question under one model.",
)

report_job = define_asset_job(
    "report_job",
    selection=AssetSelection.groups(*REPORT_GROUPS),
    partitions_def=question_partitions,
    description="Write the question's report from what the warehouse holds.",
)

benchmark_job = define_asset_job(
    "benchmark_job",
    selection=AssetSelection.groups("benchmarks"),
    partitions_def=model_partitions,
    description="Measure one catalog model on the public benchmarks (BEIR, COCO captions).",
)

jobs = [corpus_job, selection_job, question_job, question_model_job, report_job, benchmark_job, verifier_job]
