"""The DuckDB warehouse: connection, offline extensions, schema, and atomic partition writes.

One process writes at a time: DuckDB allows a single read-write process per file, so every
connection takes an exclusive advisory lock on ``<warehouse>.lock`` first and waits for it
(with a timeout) instead of failing with a lock error; it then also waits out read-only
connections other processes hold (DuckDB refuses a writer while any is open). Partition
writes delete and insert inside one transaction, so a crash leaves the previous partition
intact.

The DuckLake backend (litsynth.lake: PostgreSQL catalog, Parquet data, many writers) reuses
replace_rows / replace_tables / sync_partition through a registered WriteGuard instead of the
file lock.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Protocol, TypeVar

import duckdb
import polars as pl

from litsynth.config import project_root

log = logging.getLogger(__name__)

SCHEMA_DIR = project_root() / "sql" / "schema"
VIEWS_DIR = project_root() / "sql" / "views"
EXTENSIONS = ("fts", "vss")
T = TypeVar("T")


class WarehouseBusy(TimeoutError):
    """Another process held the warehouse longer than the lock timeout."""


def extension_path(name: str) -> Path:
    """The extension binary shipped by the ``duckdb-extension-<name>`` pip package."""
    package = importlib.import_module(f"duckdb_extension_{name}")
    version = duckdb.__version__
    path = Path(package.__file__).parent / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: DuckDB extension {name!r} for duckdb {version} is missing. Fix: pip install duckdb-extension-{name}=={version}")
    return path


def load_extensions(con: duckdb.DuckDBPyConnection, names: tuple[str, ...] = EXTENSIONS) -> None:
    for name in names:
        con.execute(f"LOAD '{extension_path(name)}'")


def memory_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the offline extensions loaded (for scratch work such as BM25)."""
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    load_extensions(con)
    return con


@contextmanager
def _exclusive_lock(lock_path: Path, timeout_s: float) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        delay = 0.05
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseBusy(f"{lock_path}: another process held the warehouse for over {timeout_s:.0f}s") from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _columns_by_table(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in con.execute(
        "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c "
        "JOIN duckdb_tables() t ON t.database_name = c.database_name AND t.schema_name = c.schema_name AND t.table_name = c.table_name "
        "WHERE c.database_name = current_database() AND c.schema_name = 'main' ORDER BY c.table_name, c.column_index"
    ).fetchall():
        tables.setdefault(table, []).append((column, dtype))
    return tables


def _schema_sql() -> list[str]:
    return [p.read_text(encoding="utf-8") for d in (SCHEMA_DIR, VIEWS_DIR) for p in sorted(d.glob("*.sql"))]


@lru_cache(maxsize=1)
def _declared() -> duckdb.DuckDBPyConnection:
    """An in-memory database holding the declared schema (tables and views, no rows); read it
    through a ``cursor()`` so that threads do not share one connection."""
    con = duckdb.connect(":memory:")
    for sql in _schema_sql():
        con.execute(sql)
    return con


# DuckDB column types -> polars dtypes, for frames built in Python before they are written.
_POLARS_TYPES = {
    "VARCHAR": pl.Utf8,
    "INTEGER": pl.Int32,
    "BIGINT": pl.Int64,
    "SMALLINT": pl.Int16,
    "DOUBLE": pl.Float64,
    "FLOAT": pl.Float32,
    "BOOLEAN": pl.Boolean,
    "TIMESTAMP": pl.Datetime("us"),
    "DATE": pl.Date,
    "VARCHAR[]": pl.List(pl.Utf8),
    "INTEGER[]": pl.List(pl.Int32),
    "DOUBLE[]": pl.List(pl.Float64),
}


@lru_cache(maxsize=None)
def frame_schema(table: str) -> dict[str, pl.DataType]:
    """The polars schema of ``table`` as ``sql/schema/`` declares it (column order kept)."""
    rows = _declared().cursor().execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
    ).fetchall()
    if not rows:
        raise KeyError(f"table {table!r} is not declared in sql/schema/. Fix: add its CREATE TABLE there")
    unknown = [f"{column} {dtype}" for column, dtype in rows if dtype not in _POLARS_TYPES]
    if unknown:
        raise TypeError(f"table {table!r}: no polars type for {unknown}; add the mapping to litsynth.warehouse._POLARS_TYPES")
    return {column: _POLARS_TYPES[dtype] for column, dtype in rows}


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=frame_schema(table))


def apply_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create every missing table and view; re-create tables whose columns changed.

    Every table is derived from the corpus and the questions, so a table written by an older
    schema is dropped and re-created empty (its assets must be re-materialised); the names of
    such tables are returned and logged.
    """
    wanted = _columns_by_table(_declared().cursor())
    existing = _columns_by_table(con)
    changed = [t for t in wanted if t in existing and existing[t] != wanted[t]]
    for table in changed:
        log.warning("warehouse table %s has an older schema; re-creating it empty (re-materialise its asset)", table)
        con.execute(f'DROP TABLE "{table}" CASCADE')
    for sql in _schema_sql():
        con.execute(sql)
    return changed


def _is_file_lock_conflict(exc: duckdb.Error) -> bool:
    return isinstance(exc, duckdb.IOException) and "Could not set lock on file" in str(exc)


def _attach(path: Path, *, read_only: bool, wait_s: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Load the extensions first, then attach the file: replaying a WAL that touches an HNSW
    index needs vss loaded before the database is opened.

    The advisory lock only orders litsynth's writers; a read-only connection open in another
    process (a notebook, the DuckDB CLI) still makes DuckDB refuse a writer, and an open writer
    refuses readers. Such a conflict is retried with backoff for up to ``wait_s`` seconds, then
    reported as WarehouseBusy (at once, as DuckDB's own error, when ``wait_s`` is 0).
    """
    con = memory_connection()
    try:
        con.execute("SET hnsw_enable_experimental_persistence = true")
        quoted = "'" + str(path).replace("'", "''") + "'"  # ATTACH takes no bound parameters
        deadline, delay = time.monotonic() + wait_s, 0.05
        while True:
            try:
                con.execute(f"ATTACH {quoted} AS warehouse{' (READ_ONLY)' if read_only else ''}")
                break
            except duckdb.Error as exc:
                if wait_s <= 0 or not _is_file_lock_conflict(exc):
                    raise
                if time.monotonic() > deadline:
                    raise WarehouseBusy(f"{path}: still locked by another process after {wait_s:.0f}s: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
        con.execute("USE warehouse")
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def open_warehouse(path: Path, *, lock_timeout_s: float = 1800.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for reading and writing, holding the cross-process lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with _exclusive_lock(path.with_name(path.name + ".lock"), lock_timeout_s):
        # Readers take no advisory lock; wait for their connections to close (same budget).
        con = _attach(path, read_only=False, wait_s=max(lock_timeout_s - (time.monotonic() - started), 0.0))
        try:
            apply_schema(con)
            yield con
        finally:
            con.close()


def connect_read_only(path: Path, *, wait_s: float = 0.0) -> duckdb.DuckDBPyConnection:
    """A read-only connection for analysts and tests (extensions loaded, no lock taken).

    While a writer has the file open DuckDB refuses it; ``wait_s`` > 0 retries for that long
    (then raises WarehouseBusy), 0 fails at once with DuckDB's lock error. Keep read-only
    connections short: while one is open, writers wait for it to close.
    """
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no warehouse here yet. Fix: run `litsynth run` first")
    return _attach(path, read_only=True, wait_s=wait_s)


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    if not rows:
        raise KeyError(f"table {table!r} is not in the warehouse schema (sql/schema/)")
    return [r[0] for r in rows]


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: pl.DataFrame,
    partition: Mapping[str, object] | None = None,
) -> int:
    """Replace a partition of ``table`` (or the whole table) with ``rows`` in one transaction.

    ``partition`` maps key columns to values, e.g. ``{"question_id": "q1"}``; rows outside it are
    untouched. Identifiers are checked against the schema; values are always bound parameters.
    """
    return replace_tables(con, [(table, rows, partition)])[table]


def _check_write(con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame, partition: Mapping[str, object], extra: Sequence[str] = ()) -> None:
    """Every named column exists in ``table`` and every row lies in ``partition``."""
    columns = _table_columns(con, table)
    unknown = [c for c in [*partition, *rows.columns, *extra] if c not in columns]
    if unknown:
        raise KeyError(f"table {table!r} has no column(s) {unknown}; its columns are {columns}")
    for key, value in partition.items():
        if rows.height and not (rows[key] == value).all():
            raise ValueError(f"rows written to {table} partition {key}={value!r} must all have {key}={value!r}")


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT, or ROLLBACK on any error (a kill included) and re-raise.

    A COMMIT that fails (a DuckLake commit conflict) has already ended the transaction; the
    ROLLBACK then finds none, and the commit's error is the one re-raised."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException as exc:
            if "no transaction is active" not in str(exc):
                raise
        raise


class WriteGuard(Protocol):
    """What a backend other than the DuckDB file adds around partition writes (litsynth.lake):
    ``validate`` checks rows against constraints the backend does not enforce, ``run`` holds the
    partitions' locks and retries ``write`` (one whole transaction) on commit conflicts."""

    def validate(self, con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame) -> None: ...

    def run(self, targets: Sequence[tuple[str, Mapping[str, object]]], write: Callable[[], T]) -> T: ...


_WRITE_GUARDS: dict[int, WriteGuard] = {}


def register_write_guard(con: duckdb.DuckDBPyConnection, guard: WriteGuard | None) -> None:
    """Route this connection's replace_rows / replace_tables / sync_partition through ``guard``
    (None removes it; do so before the connection is closed)."""
    if guard is None:
        _WRITE_GUARDS.pop(id(con), None)
    else:
        _WRITE_GUARDS[id(con)] = guard


def _guarded(con: duckdb.DuckDBPyConnection, checked: Sequence[tuple[str, pl.DataFrame, Mapping[str, object]]], write: Callable[[], T]) -> T:
    guard = _WRITE_GUARDS.get(id(con))
    if guard is None:
        return write()
    for table, rows, _ in checked:
        guard.validate(con, table, rows)
    return guard.run([(table, partition) for table, _, partition in checked], write)


@contextmanager
def _incoming(con: duckdb.DuckDBPyConnection, rows: pl.DataFrame) -> Iterator[None]:
    """``rows`` visible to SQL as ``_incoming_rows`` for the duration."""
    con.register("_incoming_rows", rows.to_arrow())
    try:
        yield
    finally:
        con.unregister("_incoming_rows")


def _partition_where(partition: Mapping[str, object], alias: str) -> str:
    return " AND ".join(f'{alias}."{c}" = ?' for c in partition) or "TRUE"


def replace_tables(
    con: duckdb.DuckDBPyConnection,
    writes: Sequence[tuple[str, pl.DataFrame, Mapping[str, object] | None]],
) -> dict[str, int]:
    """Several :func:`replace_rows` writes in one transaction: all tables change or none does."""
    checked = [(table, rows, dict(partition or {})) for table, rows, partition in writes]
    for table, rows, partition in checked:
        _check_write(con, table, rows, partition)

    def write() -> None:
        with _transaction(con):
            for table, rows, partition in checked:
                con.execute(f'DELETE FROM "{table}" AS stored WHERE {_partition_where(partition, "stored")}', list(partition.values()))
                if rows.height:
                    with _incoming(con, rows):
                        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming_rows')

    _guarded(con, checked, write)
    return {table: rows.height for table, rows, _ in checked}


def sync_partition(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: pl.DataFrame,
    partition: Mapping[str, object],
    match_columns: Sequence[str],
) -> tuple[int, int]:
    """Make a partition equal to ``rows``, as :func:`replace_rows` does, but touch only what
    changed: stored rows equal to an incoming row on ``match_columns`` stay, the others are
    deleted, incoming rows not yet stored are inserted, in one transaction. For tables whose
    rewrite is costly (an HNSW index is maintained row by row) when a re-run changes few rows;
    ``match_columns`` must determine every other column (e.g. a text hash determines a vector).
    Returns (rows deleted, rows inserted)."""
    partition = dict(partition)
    if not match_columns:
        raise ValueError("sync_partition needs match_columns")
    _check_write(con, table, rows, partition, match_columns)
    where = _partition_where(partition, "stored")
    same = " AND ".join(f'i."{c}" = stored."{c}"' for c in match_columns)

    def write() -> tuple[int, int]:
        with _transaction(con), _incoming(con, rows):
            (deleted,) = con.execute(
                f'DELETE FROM "{table}" AS stored WHERE {where} AND NOT EXISTS (SELECT 1 FROM _incoming_rows AS i WHERE {same})',
                list(partition.values()),
            ).fetchone()
            (inserted,) = con.execute(
                f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming_rows AS i '
                f'WHERE NOT EXISTS (SELECT 1 FROM "{table}" AS stored WHERE {where} AND {same})',
                list(partition.values()),
            ).fetchone()
        return int(deleted), int(inserted)

    return _guarded(con, [(table, rows, partition)], write)


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name").fetchall()]
    return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
