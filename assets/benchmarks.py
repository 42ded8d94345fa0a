"""Benchmark stage: every catalog model on public labelled data, beside its published scores."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from litsynth.datafiles import DataFormatError
from litsynth.evaluation.benchmarks import (
    BEIR_METRICS,
    IMAGE_TEXT_METRICS,
    beir_benchmark_name,
    benchmark_rows,
    evaluate_beir_benchmark,
    evaluate_image_text_benchmark,
    image_text_benchmark_name,
)
from litsynth.evaluation.image_text import DatasetError
from litsynth.models.registry import load_encoder
from litsynth.models.text_encoder import ModelUnavailable
from litsynth.warehouse import replace_rows
from assets.metadata import table_metadata
from assets.partitions import model_partitions
from assets.resources import Project

GROUP = "benchmarks"


def _write(context: AssetExecutionContext, project: Project, benchmark: str, rows) -> MaterializeResult:
    if not rows.height:
        return MaterializeResult(metadata={"benchmark": benchmark, "status": "not applicable to this model's modality"})
    with project.connect() as con:
        replace_rows(con, "benchmark_metrics", rows, {"benchmark": benchmark, "model_id": context.partition_key})
        metadata = table_metadata(con, "benchmark_metrics", rows, ["metric", "value", "published", "status"])
    status = rows["status"][0]
    if status == "skipped":
        context.log.warning(f"{context.partition_key} on {benchmark}: skipped: {rows['reason'][0]}")
    measured = {m: v for m, v in zip(rows["metric"], rows["value"]) if v is not None}
    return MaterializeResult(
        metadata={
            **metadata,
            "benchmark": benchmark,
            "status": status,
            "reason": rows["reason"][0] or "",
            **{m: MetadataValue.float(round(v, 4)) for m, v in measured.items()},
        }
    )


@asset(
    partitions_def=model_partitions,
    group_name=GROUP,
    kinds={"duckdb", "python"},
    description="nDCG@10, Recall@1/5/10/100 and MRR@10 on a BEIR-format dataset (default BEIR SciFact test), as BEIR/MTEB compute them.",
)
def beir_benchmark(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    settings = project.settings()
    catalog = settings.catalog()
    spec = catalog.get(context.partition_key)
    folder = settings.path(settings.benchmarks.beir_dir)
    split = settings.benchmarks.beir_split
    encoders = {}

    def encoder_for(model):
        encoders.setdefault(model.id, load_encoder(model, settings.project_root))
        return encoders[model.id]

    try:
        with project.connect() as con:
            rows = evaluate_beir_benchmark(
                con, folder, split, spec, catalog, encoder_for,
                progress=lambda done, total: context.log.info(f"{spec.id}: embedded {done}/{total} new documents"),
            )
    except (ModelUnavailable, DataFormatError, FileNotFoundError) as exc:
        rows = benchmark_rows(beir_benchmark_name(folder, split), spec, None, names=BEIR_METRICS, reason=str(exc))
    return _write(context, project, beir_benchmark_name(folder, split), rows)


@asset(
    partitions_def=model_partitions,
    group_name=GROUP,
    kinds={"python", "pytorch"},
    description="Text→image and image→text Recall@1/5/10 on a COCO-captions folder (default coco_mini), counted as CLIP_benchmark does.",
)
def image_text_benchmark(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    settings = project.settings()
    spec = settings.catalog().get(context.partition_key)
    captions, images = settings.path(settings.benchmarks.coco_captions), settings.path(settings.benchmarks.coco_images)
    try:
        rows = evaluate_image_text_benchmark(captions, images, spec, settings.project_root)
    except (ModelUnavailable, DatasetError, FileNotFoundError) as exc:
        rows = benchmark_rows(image_text_benchmark_name(images), spec, None, names=IMAGE_TEXT_METRICS, reason=str(exc))
    return _write(context, project, image_text_benchmark_name(images), rows)
