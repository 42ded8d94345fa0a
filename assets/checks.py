"""The Great Expectations suite of a table as an asset check; each stage declares its own.

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

from litsynth.quality import SuiteOutcome, suite_path, validate_table
from assets.resources import Project

PARTITION_TAG = "dagster/partition"


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
    def _check(context: AssetCheckExecutionContext, project: Project) -> AssetCheckResult:
        partition = context.run.tags.get(PARTITION_TAG)
        with project.connect() as con:
            outcome = validate_table(con, table, partition)
        return AssetCheckResult(
            passed=outcome.passed,
            severity=AssetCheckSeverity.ERROR,
            metadata={"partition": partition or "(all)", **suite_metadata(outcome)},
        )

    return _check
