"""Asset checks: every input accounted for, and the invariants later stages rely on."""

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from litsynth.corpus import discover_files
from orchestration.resources import Project, Warehouse


@asset_check(asset="documents", blocking=True, description="Every file under the corpus folders has exactly one documents row.")
def every_file_accounted_for(project: Project, warehouse: Warehouse) -> AssetCheckResult:
    settings = project.settings()
    on_disk = len(discover_files(settings.path(d) for d in settings.ingest.corpus_dirs))
    with warehouse.connect() as con:
        rows, without_reason = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status <> 'ingested' AND reason IS NULL) FROM documents"
        ).fetchone()
    return AssetCheckResult(
        passed=rows == on_disk and without_reason == 0,
        metadata={"files_on_disk": on_disk, "document_rows": rows, "not_ingested_without_reason": without_reason},
    )


@asset_check(asset="question_papers", description="The question selected at least one paper (nothing on topic is worth a look).")
def question_has_selected_papers(warehouse: Warehouse) -> AssetCheckResult:
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT question_id, count(*) FILTER (WHERE selected) FROM question_papers GROUP BY question_id ORDER BY question_id"
        ).fetchall()
    empty = [q for q, selected in rows if selected == 0]
    return AssetCheckResult(
        passed=not empty,
        severity=AssetCheckSeverity.WARN,
        metadata={"selected_per_question": MetadataValue.json(dict(rows)), "questions_without_selection": MetadataValue.json(empty)},
    )


asset_checks = [every_file_accounted_for, question_has_selected_papers]
