"""Selection stage: rank every paper per research question and mark the selected ones."""

import numpy as np
from dagster import AssetCheckResult, AssetCheckSeverity, AssetExecutionContext, MaterializeResult, MetadataValue, asset, asset_check

from litsynth.embeddings import embed_cached
from litsynth import tables
from litsynth.models.text_encoder import selection_encoder
from litsynth.retrieval.selection import paper_search_text, rank_papers
from litsynth.warehouse import replace_rows
from assets.checks import suite_check
from assets.metadata import table_metadata
from assets.partitions import question_partitions
from assets.resources import Project
from assets.automation import DOWNSTREAM


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name="selection",
    kinds={"duckdb", "python", "pytorch"},
    deps=["questions", "papers"],
    description="Every paper ranked for the question (BM25 via DuckDB fts fused with dense similarity), with the selected flag and its reason.",
)
def question_papers(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    settings = project.settings()
    question_id = context.partition_key
    question = settings.question(question_id)
    encoder = selection_encoder(settings)

    with project.connect() as con:
        papers = tables.corpus_papers(con)
        texts = [paper_search_text(title, abstract) for _, title, abstract in papers]
        paper_vectors, computed = embed_cached(con, encoder, texts)
        question_vector, _ = embed_cached(con, encoder, [question.query_text], is_query=True)
        similarity = dict(zip((p[0] for p in papers), (paper_vectors @ question_vector[0]).astype(float) if papers else np.zeros(0)))
        ranked = rank_papers(question, [(p[0], t) for p, t in zip(papers, texts)], similarity, settings.selection, dense_model=encoder.spec.id)
        replace_rows(con, "question_papers", ranked, {"question_id": question_id})
        titles = dict((p[0], p[1]) for p in papers)
        shown = ranked.with_columns(ranked["paper_id"].replace_strict(titles, default="").alias("title"))
        metadata = table_metadata(con, "question_papers", shown, ["rank", "title", "bm25_score", "dense_similarity", "selected"])
    selected = ranked.filter(selected=True)
    context.log.info(f"{question_id}: {selected.height} of {ranked.height} papers selected ({computed} paper texts embedded, rest cached)")
    return MaterializeResult(metadata={**metadata, "selected": selected.height, "texts_embedded": computed})


@asset_check(asset="question_papers", description="The question selected at least one paper.")
def question_has_selected_papers(project: Project) -> AssetCheckResult:
    with project.connect() as con:
        selected = tables.selected_per_question(con)
    empty = [q for q, count in selected.items() if count == 0]
    return AssetCheckResult(
        passed=not empty,
        severity=AssetCheckSeverity.WARN,
        metadata={"selected_per_question": MetadataValue.json(selected), "questions_without_selection": MetadataValue.json(empty)},
    )


question_papers_expectations = suite_check("question_papers", blocking=False)
