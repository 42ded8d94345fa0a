"""Evaluation stage: retrieval quality per question × model, on the question's own claims."""

import numpy as np
import polars as pl
from dagster import (
    AssetDep,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    MultiPartitionKey,
    MultiToSingleDimensionPartitionMapping,
    asset,
)

from litsynth.evaluation.question_retrieval import VectorsUnavailable, question_dataset, question_metrics, question_run
from litsynth.retrieval.vector_store import vector_table
from litsynth.warehouse import replace_rows
from orchestration.metadata import table_metadata
from orchestration.partitions import question_model_partitions
from orchestration.resources import Project, Warehouse
from orchestration.automation import DOWNSTREAM

METRIC_COLUMNS = {"recall@1": "recall_1", "recall@5": "recall_5", "recall@10": "recall_10", "mrr@10": "mrr_10", "ndcg@10": "ndcg_10"}
METRICS_SCHEMA = {
    "question_id": pl.Utf8,
    "model_id": pl.Utf8,
    "status": pl.Utf8,
    "reason": pl.Utf8,
    "queries": pl.Int32,
    "documents": pl.Int32,
    **{column: pl.Float64 for column in METRIC_COLUMNS.values()},
}


def _stored_vectors(con, question_id: str, model_ids: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Vectors already embedded for this question, per dense model that has them."""
    embedded = {
        model_id
        for (model_id,) in con.execute(
            "SELECT model_id FROM embedding_status WHERE question_id = ? AND status = 'embedded'", [question_id]
        ).fetchall()
    }
    stored = {}
    for model_id in sorted(embedded & set(model_ids)):
        rows = con.execute(f"SELECT item_id, vector FROM {vector_table(model_id)} WHERE question_id = ?", [question_id]).fetchall()
        stored[model_id] = {item_id: np.asarray(vector, dtype=np.float32) for item_id, vector in rows}
    return stored


@asset(
    partitions_def=question_model_partitions,
    automation_condition=DOWNSTREAM,
    group_name="embeddings",
    kinds={"duckdb", "python"},
    deps=["embeddings", AssetDep("verifications", partition_mapping=MultiToSingleDimensionPartitionMapping(partition_dimension_name="question"))],
    description=(
        "Recall@1/5/10, MRR@10 and nDCG@10 of the model retrieving each claim's evidence (its source chunk and "
        "verified supporting chunks) among the question's chunks; the same protocol for every model, bm25 and hybrid included."
    ),
)
def retrieval_metrics(context: AssetExecutionContext, project: Project, warehouse: Warehouse) -> MaterializeResult:
    key = context.partition_key
    assert isinstance(key, MultiPartitionKey)
    question_id, model_id = key.keys_by_dimension["question"], key.keys_by_dimension["model"]
    catalog = project.settings().catalog()
    spec = catalog.get(model_id)
    with warehouse.connect() as con:
        chunks = con.execute("SELECT chunk_id, text FROM chunks WHERE question_id = ? ORDER BY chunk_id", [question_id]).fetchall()
        claims = con.execute("SELECT claim_id, text, chunk_id FROM claims WHERE question_id = ? ORDER BY claim_id", [question_id]).fetchall()
        supporting: dict[str, set[str]] = {}
        for claim_id, chunk_id in con.execute(
            "SELECT claim_id, evidence_chunk_id FROM verifications WHERE question_id = ? AND label = 'supported'", [question_id]
        ).fetchall():
            supporting.setdefault(claim_id, set()).add(chunk_id)
        dataset = question_dataset(chunks, claims, supporting)
        row = {"question_id": question_id, "model_id": model_id, "queries": len(claims), "documents": len(chunks), "reason": None}
        try:
            if not claims:
                raise VectorsUnavailable("the question has no claims to search with")
            run = question_run(dataset, spec, catalog, _stored_vectors(con, question_id, catalog.ids))
            metrics = question_metrics(dataset, run)
            row.update(status="measured", **{column: metrics[name] for name, column in METRIC_COLUMNS.items()})
        except VectorsUnavailable as exc:
            row.update(status="skipped", reason=str(exc))
            context.log.warning(f"{model_id}: metrics skipped: {exc}")
        frame = pl.DataFrame([row], schema=METRICS_SCHEMA)
        replace_rows(con, "retrieval_metrics", frame, {"question_id": question_id, "model_id": model_id})
        metadata = table_metadata(con, "retrieval_metrics", frame, ["model_id", "status", *METRIC_COLUMNS.values()])
    return MaterializeResult(
        metadata={
            **metadata,
            "status": row["status"],
            "reason": row["reason"] or "",
            **{column: MetadataValue.float(float(row[column])) for column in METRIC_COLUMNS.values() if row.get(column) is not None},
        }
    )
