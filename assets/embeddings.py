"""Embedding stage: chunks and claims of each question embedded by each catalog model."""

import time

import polars as pl
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from litsynth import tables
from litsynth.embeddings import embed_items
from litsynth.models.registry import load_encoder
from litsynth.models.text_encoder import ModelUnavailable
from litsynth.retrieval.vector_store import ensure_vector_table
from litsynth.warehouse import frame_schema, replace_rows, sync_partition
from assets.metadata import table_metadata
from assets.partitions import question_and_model, question_model_partitions
from assets.resources import Project
from assets.automation import DOWNSTREAM

STATUS_SCHEMA = frame_schema("embedding_status")


@asset(
    partitions_def=question_model_partitions,
    automation_condition=DOWNSTREAM,
    group_name="embeddings",
    kinds={"duckdb", "pytorch"},
    deps=["chunks", "claims"],
    description=(
        "Vectors of the question's chunks and claims under one catalog model (embeddings_<model> tables, fixed-size "
        "arrays with an HNSW index), through a content-hash cache; lexical models and models without weights say so."
    ),
)
def embeddings(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    question_id, model_id = question_and_model(context)
    settings = project.settings()
    spec = settings.catalog().get(model_id)
    started = time.perf_counter()
    status = {"question_id": question_id, "model_id": model_id, "vector_table": None, "newly_embedded": 0, "truncated": 0, "reason": None}

    encoder = None
    if not spec.is_dense:
        status.update(status="lexical", reason=f"{spec.family} ranks by terms at query time; it has no vectors")
    else:
        try:
            encoder = load_encoder(spec, settings.project_root)
        except ModelUnavailable as exc:
            status.update(status="skipped", reason=str(exc))
            context.log.warning(f"{model_id}: skipped: {exc}")

    with project.connect() as con:
        items = tables.embedding_items(con, question_id)
        status["chunks"] = sum(1 for i in items if i[0] == "chunk")
        status["claims"] = len(items) - status["chunks"]
        metadata = {}
        if encoder is not None:
            table = ensure_vector_table(con, spec)
            rows, misses = embed_items(
                con, encoder, question_id, items,
                progress=lambda done, total: context.log.info(f"{model_id}: embedded {done}/{total} new texts"),
            )
            frame = pl.from_arrow(rows)
            # Rows whose text hash is unchanged keep their place in the HNSW index: a re-run after
            # one new paper writes that paper's rows only (same end state as replace_rows).
            removed, added = sync_partition(con, table, frame, {"question_id": question_id}, ["item_type", "item_id", "paper_id", "text_sha256"])
            context.log.info(f"{table}: {added} rows added, {removed} removed, {frame.height - added} unchanged")
            truncated = sum(1 for *_, text in items if encoder.count_tokens(text) > spec.max_seq_length)
            status.update(status="embedded", vector_table=table, newly_embedded=misses, truncated=truncated)
            if truncated:
                status["reason"] = f"{truncated} texts exceed {spec.max_seq_length} tokens and are truncated by this model"
            metadata = table_metadata(con, table, frame.drop("vector"), ["item_type", "item_id", "paper_id"])
        status["seconds"] = time.perf_counter() - started
        status_row = pl.DataFrame([status], schema=STATUS_SCHEMA)
        replace_rows(con, "embedding_status", status_row, {"question_id": question_id, "model_id": model_id})
    return MaterializeResult(
        metadata={
            **metadata,
            "status": status["status"],
            "reason": status["reason"] or "",
            "chunks": status["chunks"],
            "claims": status["claims"],
            "newly_embedded": status["newly_embedded"],
            "from_cache": (status["chunks"] + status["claims"] - status["newly_embedded"]) if encoder else 0,
            "truncated": status["truncated"],
            "seconds": MetadataValue.float(round(status["seconds"], 3)),
        }
    )
