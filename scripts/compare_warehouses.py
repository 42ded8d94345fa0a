"""Compare the rows of two litsynth warehouses, table by table.

Used to show that a refactoring leaves behaviour unchanged: run ``litsynth run`` on the same
project before and after, then ``python scripts/compare_warehouses.py before.duckdb after.duckdb``.
Columns that record when or how long something ran (timestamps, seconds, code fingerprints)
are left out; every other column must match as a multiset of rows. Vectors are compared
after rounding, since BLAS reductions may differ in the last bits. Exit status 1 when any
table differs; the JSON summary on stdout says which and by how many rows.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

VOLATILE_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "DATE")
VOLATILE_COLUMNS = {"seconds", "fingerprint", "code_version"}
FLOAT_DIGITS = 5


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = 'main' AND NOT internal ORDER BY table_name, column_index",
        [catalog],
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        tables.setdefault(table, []).append((column, dtype))
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = ?", [catalog]).fetchall()}
    return {t: c for t, c in tables.items() if t not in views}


def _expression(column: str, dtype: str) -> str:
    quoted = f'"{column}"'
    if dtype in ("DOUBLE", "FLOAT", "REAL"):
        return f"round({quoted}, {FLOAT_DIGITS})"
    if dtype.startswith(("FLOAT[", "DOUBLE[")):
        return f"list_transform({quoted}::DOUBLE[], x -> round(x, {FLOAT_DIGITS}))"
    return quoted


def compare(before: Path, after: Path) -> dict:
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{before}' AS before (READ_ONLY)")
    con.execute(f"ATTACH '{after}' AS after (READ_ONLY)")
    old, new = _tables(con, "before"), _tables(con, "after")
    result: dict = {"only_before": sorted(set(old) - set(new)), "only_after": sorted(set(new) - set(old)), "tables": {}}
    for table in sorted(set(old) & set(new)):
        columns = [(c, t) for c, t in old[table] if (c, t) in new[table] and t not in VOLATILE_TYPES and c not in VOLATILE_COLUMNS]
        select = ", ".join(_expression(c, t) for c, t in columns)
        counts = con.execute(
            f"SELECT (SELECT count(*) FROM before.main.\"{table}\"), (SELECT count(*) FROM after.main.\"{table}\"), "
            f"(SELECT count(*) FROM (SELECT {select} FROM before.main.\"{table}\" EXCEPT ALL SELECT {select} FROM after.main.\"{table}\")), "
            f"(SELECT count(*) FROM (SELECT {select} FROM after.main.\"{table}\" EXCEPT ALL SELECT {select} FROM before.main.\"{table}\"))"
        ).fetchone()
        result["tables"][table] = {
            "rows_before": counts[0], "rows_after": counts[1], "missing_after": counts[2], "new_after": counts[3],
            "columns_compared": len(columns),
            "columns_changed": sorted({c for c, _ in old[table]} ^ {c for c, _ in new[table]}),
        }
    result["identical"] = not result["only_before"] and not result["only_after"] and all(
        t["missing_after"] == 0 and t["new_after"] == 0 and not t["columns_changed"] for t in result["tables"].values()
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    result = compare(args.before, args.after)
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
