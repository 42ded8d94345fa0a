"""Selection stage: rank every paper per research question and mark the selected ones."""

import numpy as np
from dagster import AssetExecutionContext, MaterializeResult, asset

from litsynth.embeddings import embed_cached
from litsynth.models.text_encoder import load_text_encoder
from litsynth.retrieval.selection import paper_search_text, rank_papers
from litsynth.warehouse import replace_rows
from orchestration.metadata import table_metadata
from orchestration.partitions import question_partitions
from orchestration.resources import Project, Warehouse
from orchestration.automation import DOWNSTREAM


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name="selection",
    kinds={"duckdb", "python", "pytorch"},
    deps=["questions", "papers"],
    description="Every paper ranked for the question (BM25 via DuckDB fts fused with dense similarity), with the selected flag and its reason.",
)
def question_papers(context: AssetExecutionContext, project: Project, warehouse: Warehouse) -> MaterializeResult:
    settings = project.settings()
    question_id = context.partition_key
    question = next((q for q in settings.loaded_questions() if q.id == question_id), None)
    if question is None:
        raise ValueError(f"question partition {question_id!r} has no file in {settings.path(settings.questions_dir)}. Fix: restore its YAML or delete the partition")
    catalog = settings.catalog()
    encoder = load_text_encoder(catalog.get(catalog.selection_model), settings.project_root)

    with warehouse.connect() as con:
        papers = con.execute("SELECT paper_id, title, abstract FROM papers ORDER BY paper_id").fetchall()
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
