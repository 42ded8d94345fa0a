"""Corpus stage: research questions, the online arXiv source, and ingestion of every input file."""

from dagster import AssetCheckResult, AssetExecutionContext, AssetSpec, MaterializeResult, MetadataValue, asset, asset_check, multi_asset

from litsynth.corpus import discover_files, ingest_files, question_files_table, questions_table
from litsynth.harvest import harvest_arxiv
from litsynth.safeio import printable
from litsynth.tables import document_count
from litsynth.warehouse import replace_tables
from assets.checks import suite_check
from assets.metadata import table_metadata
from assets.partitions import QUESTION_PARTITIONS_NAME
from assets.resources import Project

# Written together in one transaction: a crash never leaves tables from two runs.
CORPUS_TABLES = ("documents", "papers", "paper_sources", "prior_reports", "prior_report_claims", "prior_report_references")
GROUP = "corpus"
KINDS = {"duckdb", "python"}


@multi_asset(
    specs=[
        AssetSpec("questions", group_name=GROUP, kinds=KINDS,
                  description="Research questions from questions/*.yaml; each id is a question partition."),
        AssetSpec("question_files", group_name=GROUP, kinds=KINDS,
                  description="Every entry of the questions folder, loaded or rejected with the field and the fix."),
    ],
    can_subset=True,
    description="Read the questions folder: a bad file is rejected with its reason and the other questions still run.",
)
def questions(context: AssetExecutionContext, project: Project):
    settings = project.settings()
    files = settings.question_files()  # ConfigError only when the folder is missing; nothing written then
    for rejected in (f for f in files if f.status == "rejected"):
        context.log.warning(printable(f"question file rejected: {rejected.path}: {rejected.reason}"))
    tables = {"questions": questions_table(files, root=settings.project_root), "question_files": question_files_table(files, root=settings.project_root)}
    selected = [key.to_user_string() for key in context.selected_asset_keys]
    with project.connect() as con:
        replace_tables(con, [(name, tables[name], None) for name in selected])
        for name in selected:
            columns = ["question_id", "question", "source_file"] if name == "questions" else ["file", "status", "reason"]
            extra = {f"files_{s}": sum(f.status == s for f in files) for s in ("loaded", "rejected")} if name == "question_files" else {}
            yield MaterializeResult(asset_key=name, metadata={**table_metadata(con, name, tables[name], columns), **extra})
    loaded = [f.question.id for f in files if f.status == "loaded"]
    new = [i for i in loaded if not context.instance.has_dynamic_partition(QUESTION_PARTITIONS_NAME, i)]
    if new:
        context.instance.add_dynamic_partitions(QUESTION_PARTITIONS_NAME, new)
        context.log.info(f"added question partitions {new}")


@asset(
    group_name=GROUP,
    kinds={"python", "arxiv"},
    deps=["questions"],
    description="arXiv search results per question (JSONL under var/arxiv), when the network is there.",
)
def arxiv_harvest(context: AssetExecutionContext, project: Project) -> MaterializeResult:
    settings = project.settings()
    if not settings.arxiv.enabled:
        context.log.info("arXiv source disabled (setting arxiv.enabled is false, or --offline); using local files only")
        return MaterializeResult(metadata={"status": "disabled"})
    outcomes = harvest_arxiv(settings.loaded_questions(), settings.path(settings.arxiv.download_dir), max_results=settings.arxiv.max_results)
    for outcome in outcomes:
        log = context.log.warning if outcome.status == "offline" else context.log.info
        log(f"{outcome.question_id}: {outcome.message}")
    return MaterializeResult(
        metadata={
            "status": "offline" if any(o.status == "offline" for o in outcomes) else "online",
            "papers_fetched": sum(o.papers for o in outcomes),
            "per_question": MetadataValue.json({o.question_id: {"status": o.status, "papers": o.papers, "message": o.message} for o in outcomes}),
        }
    )


@multi_asset(
    specs=[
        AssetSpec("documents", group_name=GROUP, kinds=KINDS, deps=[arxiv_harvest],
                  description="Every input file, ingested / duplicate / rejected, with the reason."),
        AssetSpec("papers", group_name=GROUP, kinds=KINDS, deps=["documents"],
                  description="One row per paper, deduplicated by arXiv id else normalised title (with paper_sources)."),
        AssetSpec("prior_reports", group_name=GROUP, kinds=KINDS, deps=["documents", "questions"],
                  description="Imported machine-written synthesis reports, their claims and references, to be audited."),
    ],
    description="Parse every file under the corpus folders (parsers chosen by content) into the corpus tables.",
)
def corpus(context: AssetExecutionContext, project: Project):
    settings = project.settings()
    files = discover_files(settings.path(d) for d in settings.ingest.corpus_dirs)
    tables = ingest_files(
        files, root=settings.project_root, max_file_bytes=settings.ingest.max_file_bytes,
        questions=settings.loaded_questions(), budget=settings.ingest.parse_budget,
    )
    rejected = tables.documents.filter(status="rejected")
    for row in rejected.iter_rows(named=True):
        context.log.warning(printable(f"rejected {row['path']}: {row['reason']}"))
    with project.connect() as con:
        replace_tables(con, [(table, getattr(tables, table), None) for table in CORPUS_TABLES])
        statuses = dict(tables.documents.group_by("status").len().iter_rows())
        yield MaterializeResult(
            asset_key="documents",
            metadata={
                **table_metadata(con, "documents", tables.documents, ["path", "format", "status", "papers_found", "reason"]),
                **{f"files_{status}": statuses.get(status, 0) for status in ("ingested", "duplicate", "rejected")},
            },
        )
        levels = dict(tables.papers.group_by("text_level").len().iter_rows())
        yield MaterializeResult(
            asset_key="papers",
            metadata={
                **table_metadata(con, "papers", tables.papers, ["title", "arxiv_id", "published", "text_level"]),
                **{f"papers_{level}": levels.get(level, 0) for level in ("title_only", "abstract", "full_text")},
                "paper_sources": tables.paper_sources.height,
            },
        )
        yield MaterializeResult(
            asset_key="prior_reports",
            metadata={
                **table_metadata(con, "prior_reports", tables.prior_reports, ["title", "question_id", "claims_stated", "verified_stated", "review_score"]),
                "prior_claims": tables.prior_report_claims.height,
                "references_in_corpus": tables.prior_report_references.filter(tables.prior_report_references["paper_id"].is_not_null()).height,
                "references": tables.prior_report_references.height,
            },
        )


@asset_check(asset="documents", blocking=True, description="Every file under the corpus folders has exactly one documents row.")
def every_file_accounted_for(project: Project) -> AssetCheckResult:
    settings = project.settings()
    on_disk = len(discover_files(settings.path(d) for d in settings.ingest.corpus_dirs))
    with project.connect() as con:
        rows = document_count(con)
    return AssetCheckResult(passed=rows == on_disk, metadata={"files_on_disk": on_disk, "document_rows": rows})


documents_expectations = suite_check("documents", blocking=False)
question_files_expectations = suite_check("question_files", blocking=False)
papers_expectations = suite_check("papers", blocking=True)
