"""Materialisation metadata shared by the assets: row counts, column schema and a preview."""

from __future__ import annotations

import duckdb
import polars as pl
from dagster import MetadataValue, TableColumn, TableSchema

PREVIEW_ROWS = 10
PREVIEW_CELL_CHARS = 80


def column_schema(con: duckdb.DuckDBPyConnection, table: str) -> TableSchema:
    """The table's columns and types as the warehouse declares them (sql/schema/)."""
    rows = con.execute(
        "SELECT column_name, data_type, is_nullable, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return TableSchema(
        columns=[
            TableColumn(name=name, type=dtype, description=comment or None, constraints=None if nullable else _not_null())
            for name, dtype, nullable, comment in rows
        ]
    )


def _not_null():
    from dagster import TableColumnConstraints

    return TableColumnConstraints(nullable=False)


def preview(frame: pl.DataFrame, columns: list[str] | None = None) -> MetadataValue:
    """A markdown table of the first rows, long text cut for display only."""
    shown = (frame.select(columns) if columns else frame).head(PREVIEW_ROWS).to_pandas()
    shown = shown.map(lambda value: "" if value is None else str(value)[:PREVIEW_CELL_CHARS])
    return MetadataValue.md(shown.to_markdown(index=False))


def table_metadata(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, columns: list[str] | None = None) -> dict:
    return {
        "dagster/row_count": MetadataValue.int(frame.height),
        "dagster/column_schema": column_schema(con, table),
        "dagster/table_name": f"warehouse.main.{table}",
        "preview": preview(frame, columns),
    }
