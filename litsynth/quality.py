"""Data-quality suites: Great Expectations 1.x suites stored as JSON under ``expectations/``.

Analysts edit the JSON (add an expectation, change a regex, lower a severity) without touching
Python. A suite's ``meta.id_column`` names the column that identifies a failing row in reports.
Expectations with GE severity ``critical`` make a check fail (and block downstream assets);
``warning``/``info`` expectations are reported but do not fail it.

Great Expectations is imported lazily: its import costs several seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from litsynth.config import ConfigError, project_root

EXPECTATIONS_DIR = project_root() / "expectations"
FRAMES_DIR = project_root() / "sql" / "quality"
MAX_EXAMPLES = 10


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int
    examples: list = field(default_factory=list)  # failing rows: id and offending value


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    rows: int
    results: list[ExpectationOutcome]

    @property
    def passed(self) -> bool:
        """No critical expectation failed."""
        return all(r.success or r.severity != "critical" for r in self.results)

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [r for r in self.results if not r.success]


def suite_path(name: str) -> Path:
    return EXPECTATIONS_DIR / f"{name}.json"


def quality_frame(con: duckdb.DuckDBPyConnection, table: str, partition: str | None = None) -> pd.DataFrame:
    """The rows a table's suite validates, with derived columns (sql/quality/<table>.sql).

    Partitioned frames take ``$partition`` (a question id, or NULL for the whole table).
    """
    sql = (FRAMES_DIR / f"{table}.sql").read_text(encoding="utf-8")
    return con.execute(sql, {"partition": partition} if "$partition" in sql else None).df()


def validate_table(con: duckdb.DuckDBPyConnection, table: str, partition: str | None = None) -> SuiteOutcome:
    return validate_frame(quality_frame(con, table, partition), suite_path(table))


def load_suite_json(path: Path) -> dict:
    """Read a suite file, failing with the file and the problem when it is not a suite."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: expectation suite not found") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list) or not data.get("name"):
        raise ConfigError(f"{path}: a suite needs fields 'name' and 'expectations' (a list)")
    for position, expectation in enumerate(data["expectations"]):
        if not isinstance(expectation, dict) or "type" not in expectation or not isinstance(expectation.get("kwargs", {}), dict):
            raise ConfigError(f"{path}: field 'expectations[{position}]' needs 'type' and a 'kwargs' mapping")
    return data


@lru_cache(maxsize=1)
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _build_suite(data: dict, path: Path):
    import great_expectations as gx
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    suite = gx.ExpectationSuite(name=data["name"], meta=data.get("meta", {}))
    for position, expectation in enumerate(data["expectations"]):
        try:
            suite.add_expectation_configuration(
                ExpectationConfiguration(
                    type=expectation["type"],
                    kwargs=expectation.get("kwargs", {}),
                    meta=expectation.get("meta", {}),
                    severity=expectation.get("severity", "critical"),
                )
            )
        except Exception as exc:  # GE raises several types for an unknown/invalid expectation
            raise ConfigError(f"{path}: field 'expectations[{position}]' ({expectation['type']}): {exc}") from exc
    return suite


def validate_frame(frame: pd.DataFrame, path: Path) -> SuiteOutcome:
    """Run the suite in ``path`` on ``frame`` and summarise each expectation with failing examples."""
    data = load_suite_json(path)
    context = _context()
    suite = _build_suite(data, path)
    name = f"{data['name']}_{len(context.data_sources.all())}"
    batch = context.data_sources.add_pandas(name).add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("all")
    result = batch.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format="COMPLETE")
    id_column = data.get("meta", {}).get("id_column")
    outcomes = []
    for item in result.results:
        config = item.expectation_config
        column = config.kwargs.get("column")
        indexes = (item.result or {}).get("unexpected_index_list") or []
        examples = [
            {
                **({id_column: _show(frame.at[i, id_column])} if id_column in frame.columns else {"row": int(i)}),
                **({column: _show(frame.at[i, column])} if column in frame.columns else {}),
            }
            for i in indexes[:MAX_EXAMPLES]
            if i in frame.index
        ]
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=column,
                severity=str(getattr(config.severity, "value", config.severity)),
                success=bool(item.success),
                unexpected_count=int((item.result or {}).get("unexpected_count") or (0 if item.success else 1)),
                examples=examples,
            )
        )
    return SuiteOutcome(suite=data["name"], rows=len(frame), results=outcomes)


def _show(value: object) -> object:
    """A JSON-ready form of a cell (numpy scalars unwrapped, long text cut for display)."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
