"""Asset checks: every input accounted for, and each table's Great Expectations suite.

Suites live in ``expectations/<table>.json`` and validate the frame in
``sql/quality/<table>.sql``. Checks on tables whose defects would make everything downstream
garbage (truncated claims, offsets that do not reproduce the text, duplicate ids) block
downstream materialisation.
"""

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetChecksDefinition,
    MetadataValue,
    asset_check,
)

from litsynth.corpus import discover_files
from litsynth.quality import SuiteOutcome, suite_path, validate_table
from orchestration.resources import Project, Warehouse

PARTITION_TAG = "dagster/partition"


@asset_check(asset="documents", blocking=True, description="Every file under the corpus folders has exactly one documents row.")
def every_file_accounted_for(project: Project, warehouse: Warehouse) -> AssetCheckResult:
    settings = project.settings()
    on_disk = len(discover_files(settings.path(d) for d in settings.ingest.corpus_dirs))
    with warehouse.connect() as con:
        (rows,) = con.execute("SELECT count(*) FROM documents").fetchone()
    return AssetCheckResult(passed=rows == on_disk, metadata={"files_on_disk": on_disk, "document_rows": rows})


@asset_check(asset="question_papers", description="The question selected at least one paper.")
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


def suite_metadata(outcome: SuiteOutcome) -> dict:
    """Counts per expectation and the failing examples, for the check's page in the UI."""
    lines = ["| expectation | column | severity | result | unexpected |", "|---|---|---|---|---|"]
    lines += [
        f"| {r.expectation} | {r.column or ''} | {r.severity} | {'pass' if r.success else 'FAIL'} | {r.unexpected_count} |"
        for r in outcome.results
    ]
    return {
        "suite": outcome.suite,
        "rows_validated": outcome.rows,
        "expectations": len(outcome.results),
        "expectations_failed": len(outcome.failures),
        "results": MetadataValue.md("\n".join(lines)),
        "failing_examples": MetadataValue.json(
            {f"{r.expectation}:{r.column}": {"unexpected": r.unexpected_count, "examples": r.examples} for r in outcome.failures}
        ),
    }


def suite_check(table: str, *, blocking: bool) -> AssetChecksDefinition:
    """The asset check that runs ``expectations/<table>.json`` on the run's partition (or the whole table)."""

    @asset_check(
        asset=table,
        name=f"{table}_expectations",
        blocking=blocking,
        description=f"Great Expectations suite {suite_path(table).name} on the materialised rows.",
    )
    def _check(context: AssetCheckExecutionContext, warehouse: Warehouse) -> AssetCheckResult:
        partition = context.run.tags.get(PARTITION_TAG)
        with warehouse.connect() as con:
            outcome = validate_table(con, table, partition)
        return AssetCheckResult(
            passed=outcome.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"partition": partition or "(all)", **suite_metadata(outcome)},
        )

    return _check


asset_checks = [
    every_file_accounted_for,
    question_has_selected_papers,
    suite_check("documents", blocking=False),
    suite_check("question_files", blocking=False),
    suite_check("papers", blocking=True),
    suite_check("question_papers", blocking=False),
    suite_check("chunks", blocking=True),
    suite_check("claims", blocking=True),
    suite_check("claim_entities", blocking=False),
    suite_check("claim_relations", blocking=False),
    suite_check("prior_claim_matches", blocking=False),
]
