"""Evaluation stage: retrieval quality per question × model, by the inverse cloze protocol on the question's claims."""

import polars as pl
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from litsynth import tables
from litsynth.embeddings import embed_cached
from litsynth.evaluation.question_retrieval import PROTOCOL, ClaimSpan, VectorsUnavailable, cloze_dataset, question_metrics, question_run
from litsynth.models.registry import load_encoder
from litsynth.models.text_encoder import ModelUnavailable
from litsynth.warehouse import frame_schema, replace_rows
from assets.metadata import table_metadata
from assets.partitions import question_and_model, question_model_partitions
from assets.resources import Project
from assets.automation import DOWNSTREAM

METRIC_COLUMNS = {"recall@1": "recall_1", "recall@5": "recall_5", "recall@10": "recall_10", "mrr@10": "mrr_10", "ndcg@10": "ndcg_10"}
METRICS_SCHEMA = frame_schema("retrieval_metrics")


@asset(
    partitions_def=question_model_partitions,
    automation_condition=DOWNSTREAM,
    group_name="evaluation",
    kinds={"duckdb", "python"},
    deps=["embeddings"],
    description="Recall@1/5/10, MRR@10 and nDCG@10 of the model on the question's passages. Protocol: " + PROTOCOL,
)
def retrieval_metrics(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    question_id, model_id = question_and_model(context)
    settings = project.settings()
    catalog = settings.catalog()
    spec = catalog.get(model_id)
    with project.connect() as con:
        chunks = {chunk_id: (start, text) for chunk_id, _, start, _, text, _ in tables.question_chunks(con, question_id)}
        claims = [
            ClaimSpan(claim_id, text, chunk_id, start, end)
            for claim_id, _, text, chunk_id, start, end in tables.question_claims(con, question_id)
        ]
        cloze = cloze_dataset(chunks, claims)

        def vectors_of(dense, dataset):
            """Queries and contexts under a dense model, through the embedding cache."""
            try:
                encoder = load_encoder(dense, settings.project_root)
            except ModelUnavailable as exc:
                raise VectorsUnavailable(str(exc)) from exc
            queries, _ = embed_cached(con, encoder, list(dataset.queries.values()), is_query=True)
            documents, _ = embed_cached(con, encoder, [text for _, text in dataset.corpus.values()])
            return {**dict(zip(dataset.queries, queries)), **dict(zip(dataset.corpus, documents))}

        queries = len(cloze.dataset.queries)
        row = {"question_id": question_id, "model_id": model_id, "queries": queries, "documents": len(cloze.dataset.corpus), "reason": None}
        try:
            if not queries:
                raise VectorsUnavailable("no claim of the question has a context to search for")
            metrics = question_metrics(cloze, question_run(cloze, spec, catalog, vectors_of))
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
