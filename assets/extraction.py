"""Extraction stage: chunks of the selected papers, complete typed claims, and the audit of
the claims of prior machine-written reports."""

from collections import Counter

import polars as pl
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from litsynth.claims import RuleBasedClaimExtractor
from litsynth.concepts import concept_rows, coverage, question_concepts
from litsynth.entities import own_systems
from litsynth.embeddings import dense_relevance
from litsynth.extraction import audit_prior_claims, chunk_papers, claim_subjects, entity_rows, extract_claims
from litsynth import tables
from litsynth.models.text_encoder import selection_encoder
from litsynth.models.tokens import token_budget
from litsynth.text import Chunk
from litsynth.warehouse import replace_rows, replace_tables
from assets.checks import suite_check
from assets.metadata import table_metadata
from assets.partitions import question_partitions
from assets.resources import Project
from assets.automation import DOWNSTREAM

GROUP = "extraction"
KINDS = {"duckdb", "python"}


def paper_systems(con, question_id: str) -> dict[str, tuple[str, ...]]:
    """Each selected paper's own systems (litsynth.entities.own_systems), to resolve "we" and "our"."""
    return {paper_id: own_systems(title, text) for paper_id, title, text in tables.selected_paper_titles(con, question_id)}


def question_subjects(con, question_id: str) -> dict:
    """What each of the question's claims is about (litsynth.extraction.claim_subjects)."""
    claims = [(claim_id, paper_id, text) for claim_id, paper_id, text, *_ in tables.question_claims(con, question_id)]
    return claim_subjects(claims, paper_systems(con, question_id))


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name=GROUP,
    kinds=KINDS,
    deps=["question_papers"],
    description="Sentence-aware passages of the selected papers, each within every catalog text model's token limit; exact offsets.",
)
def chunks(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    settings = project.settings()
    budget = token_budget(settings.catalog(), settings.project_root)
    for model_id, why in budget.unavailable.items():
        context.log.warning(f"tokenizer of {model_id} unavailable, chunks not measured with it: {why}")
    with project.connect() as con:
        papers = tables.selected_papers(con, context.partition_key)
        rows, _ = chunk_papers(context.partition_key, papers, max_tokens=budget.max_tokens, count_tokens=budget.count)
        replace_rows(con, "chunks", rows, {"question_id": context.partition_key})
        metadata = table_metadata(con, "chunks", rows, ["paper_id", "position", "n_tokens", "text"])
    return MaterializeResult(
        metadata={
            **metadata,
            "papers": len(papers),
            "token_budget": budget.max_tokens,
            "tokenizers": MetadataValue.json(sorted(budget.tokenizers)),
            "max_tokens_seen": int(rows["n_tokens"].max() or 0),
        }
    )


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name=GROUP,
    kinds=KINDS,
    deps=["chunks"],
    description="Complete claims (never cut) from the selected papers: type, quantities (claim_quantities), source span, relevance.",
)
def claims(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    settings = project.settings()
    question = settings.question(context.partition_key)
    encoder = selection_encoder(settings)
    with project.connect() as con:
        papers = tables.selected_papers(con, question.id)
        chunks_by_paper = {p.paper_id: [] for p in papers}
        for paper_id, *chunk in tables.chunks_in_paper_order(con, question.id):
            chunks_by_paper.setdefault(paper_id, []).append(Chunk(*chunk))
        extractor = RuleBasedClaimExtractor(relevance=dense_relevance(con, encoder))
        claim_rows, quantity_rows = extract_claims(
            question.id, question.query_text, papers, chunks_by_paper, extractor, extractor_name=f"rules+{encoder.spec.id}"
        )
        replace_rows(con, "claims", claim_rows, {"question_id": question.id})
        replace_rows(con, "claim_quantities", quantity_rows, {"question_id": question.id})
        metadata = table_metadata(con, "claims", claim_rows.sort("relevance", descending=True), ["claim_type", "relevance", "text"])
    types = dict(claim_rows.group_by("claim_type").len().iter_rows())
    return MaterializeResult(metadata={**metadata, "claim_types": MetadataValue.json(types), "quantities": quantity_rows.height})


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name=GROUP,
    kinds=KINDS,
    deps=["claims"],
    description=(
        "The systems, datasets and metrics each claim names, its scope (own contribution, named system, comparison, "
        "general) and the systems it is about, \"our method\" resolved to the paper's own system name."
    ),
)
def claim_entities(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    with project.connect() as con:
        subjects = question_subjects(con, context.partition_key)
        rows = entity_rows(context.partition_key, subjects)
        replace_rows(con, "claim_entities", rows, {"question_id": context.partition_key})
        metadata = table_metadata(con, "claim_entities", rows, ["kind", "name", "is_subject", "claim_scope"])
    scopes = Counter(subject.scope for subject in subjects.values())
    return MaterializeResult(metadata={**metadata, "claim_scopes": MetadataValue.json(dict(sorted(scopes.items())))})


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name=GROUP,
    kinds=KINDS,
    name="question_concepts",
    deps=["claims", "questions"],
    description="The question's concepts (keywords, named entities, phrases) and the selected papers and claims that cover each (question_concepts, concept_coverage).",
)
def question_concepts_asset(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    question = project.settings().question(context.partition_key)
    concepts = question_concepts(question.id, question.question, question.keywords)
    with project.connect() as con:
        papers = [(paper_id, f"{title} {text}") for paper_id, title, text in tables.selected_paper_titles(con, question.id)]
        claims = [(claim_id, paper_id, text) for claim_id, paper_id, text, *_ in tables.question_claims(con, question.id)]
        covered = coverage(question.id, concepts, papers, claims)
        rows = concept_rows(question.id, concepts)
        replace_tables(con, [(table, frame, {"question_id": question.id}) for table, frame in (("question_concepts", rows), ("concept_coverage", covered))])
        metadata = table_metadata(con, "question_concepts", rows, ["concept", "source"])
    uncovered = sorted(set(rows["concept_id"]) - set(covered.filter(pl.col("item_type") == "paper")["concept_id"]))
    return MaterializeResult(
        metadata={**metadata, "not_covered": MetadataValue.json([c.text for c in concepts if c.concept_id in uncovered])}
    )


@asset(
    partitions_def=question_partitions,
    automation_condition=DOWNSTREAM,
    group_name=GROUP,
    kinds=KINDS,
    deps=["prior_reports", "papers", "questions"],
    description="Each claim of a prior report on this question traced to its full source sentence, or unmatched with the reason.",
)
def prior_claim_matches(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    question_id = context.partition_key
    with project.connect() as con:
        prior, references = tables.prior_claims(con, question_id), tables.prior_references(con, question_id)
        rows = audit_prior_claims(question_id, prior, references, tables.corpus_paper_texts(con))
        replace_rows(con, "prior_claim_matches", rows, {"question_id": question_id})
        metadata = table_metadata(con, "prior_claim_matches", rows, ["printed_complete", "matched", "printed_text", "reason"])
    return MaterializeResult(
        metadata={
            **metadata,
            "matched": int(rows["matched"].sum()),
            "unmatched": int((~rows["matched"]).sum()),
            "printed_truncated": int((~rows["printed_complete"]).sum()),
        }
    )


chunks_expectations = suite_check("chunks", blocking=True)
claims_expectations = suite_check("claims", blocking=True)
claim_entities_expectations = suite_check("claim_entities", blocking=False)
prior_claim_matches_expectations = suite_check("prior_claim_matches", blocking=False)
