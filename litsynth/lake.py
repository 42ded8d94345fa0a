"""The DuckLake warehouse backend: catalog in PostgreSQL, data as Parquet files, many writers.

``open_lake`` yields a DuckDB connection whose current database is the lake, so the
warehouse's ``replace_rows`` / ``replace_tables`` / ``sync_partition`` and every query work
unchanged. What differs from the DuckDB file (litsynth.warehouse):

- No process-wide file lock. Writers in any number of processes or hosts commit DuckLake
  snapshots. Each write still replaces its partitions in one transaction. Two things are
  added around it (``LakeWriteGuard``):
  * a PostgreSQL advisory lock per (table, partition), held on the catalog server from before
    BEGIN until after COMMIT: exclusive for the partition, shared on the table (a whole-table
    write takes the table exclusively). DuckLake does not see two transactions that both
    delete an empty partition and insert into it as a conflict, so without this lock the
    partition would be written twice (measured: 2 copies). The lock lives in a PostgreSQL
    session, so a writer that is killed releases it when its socket closes.
  * a retry of the whole transaction, with jittered backoff, when the commit hits a DuckLake
    conflict (e.g. "another transaction has deleted inlined data from it": writers of
    *different* partitions of one table can conflict this way).
- DuckLake accepts no PRIMARY KEY, UNIQUE or CHECK constraint, no index and no fixed-size
  array type. ``lake_schema_sql`` rebuilds the DDL of sql/schema/*.sql from DuckDB's own
  parse of it (column names, types, NOT NULL, DEFAULT), with ``FLOAT[N]`` as ``FLOAT[]``;
  the keys and CHECK expressions are kept and enforced on the rows each write brings
  (``LakeWriteGuard.validate``). Views (sql/views/*.sql) apply as they are.
- Readers (``connect_lake_read_only``) attach the lake READ_ONLY and read a snapshot: they
  never wait for writers and never fail because one is writing.
- Extensions load offline from their pip packages (duckdb-extension-ducklake and
  duckdb-extension-postgres, pinned to the DuckDB version), like fts and vss. The postgres
  package ships ``postgres.duckdb_extension`` but its entry point is named after
  ``postgres_scanner``, and DuckDB derives the entry point from the file name, so it is loaded
  through a symlink ``var/duckdb-extensions/v<version>/postgres_scanner.duckdb_extension``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

from litsynth.config import WarehouseSettings
from litsynth.warehouse import (
    SCHEMA_DIR,
    VIEWS_DIR,
    WarehouseBusy,
    _columns_by_table,
    extension_path,
    load_extensions,
    register_write_guard,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

LAKE = "lake"  # the attached catalog's name; USE'd, so SQL names tables without it
_FIXED_ARRAY = re.compile(r"\[\d+\]")
_LOCK_NAMESPACE = 0x4C53  # 'LS': first key of every advisory lock litsynth takes
_SCHEMA_LOCK = "litsynth:schema"


class LakeUnavailable(RuntimeError):
    """The catalog server cannot be reached or the lake was never created."""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def postgres_extension_path(project_root: Path) -> Path:
    """The postgres extension under the file name DuckDB needs (``postgres_scanner``): a symlink
    in var/duckdb-extensions/ to the pip package's binary, made atomically."""
    target = extension_path("postgres")
    folders = [project_root / "var" / "duckdb-extensions" / f"v{duckdb.__version__}",
               Path.home() / ".cache" / "litsynth" / "duckdb-extensions" / f"v{duckdb.__version__}"]  # when var/ is read-only
    for folder in folders:
        link = folder / "postgres_scanner.duckdb_extension"
        if link.is_symlink() and Path(os.readlink(link)) == target:
            return link
        try:
            folder.mkdir(parents=True, exist_ok=True)
            temporary = folder / f".postgres_scanner.{os.getpid()}.{random.getrandbits(32):08x}"
            os.symlink(target, temporary)
            os.replace(temporary, link)
            return link
        except OSError as exc:
            log.info("cannot link the postgres extension in %s (%s)", folder, exc)
    raise OSError(f"cannot make postgres_scanner.duckdb_extension in any of {[str(f) for f in folders]}")


def load_lake_extensions(con: duckdb.DuckDBPyConnection, project_root: Path) -> None:
    """fts and vss (as every warehouse connection), then postgres and ducklake, offline."""
    load_extensions(con)
    con.execute(f"LOAD {_quote(str(postgres_extension_path(project_root)))}")
    con.execute(f"LOAD {_quote(str(extension_path('ducklake')))}")


def data_path(settings: WarehouseSettings, project_root: Path) -> str:
    """The lake's data folder as an absolute path (object-store URLs pass through)."""
    if "://" in settings.data_path:
        return settings.data_path
    path = Path(settings.data_path)
    return str(path if path.is_absolute() else (project_root / path).resolve())


# --- schema -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRules:
    """What sql/schema declares for a table that DuckLake does not enforce."""

    keys: tuple[tuple[str, ...], ...] = ()  # PRIMARY KEY and UNIQUE column lists
    checks: tuple[str, ...] = ()  # CHECK expressions


@dataclass(frozen=True)
class LakeSchema:
    tables: dict[str, str]  # table -> CREATE TABLE for DuckLake
    columns: dict[str, list[tuple[str, str]]]  # table -> (column, DuckLake type)
    rules: dict[str, TableRules]
    views: list[str]  # CREATE OR REPLACE VIEW statements, as written
    view_names: list[str]


def _sql_files(folder: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.sql"))]


def lake_type(duckdb_type: str) -> str:
    """A DuckDB column type as DuckLake stores it: fixed-size arrays become lists."""
    return _FIXED_ARRAY.sub("[]", duckdb_type)


def build_lake_schema(extra_tables: Sequence[str] = ()) -> LakeSchema:
    """Parse sql/schema/*.sql (plus ``extra_tables`` DDL) in an in-memory DuckDB and rewrite each
    table for DuckLake: same columns, NOT NULL and DEFAULTs; keys and CHECKs moved to TableRules."""
    scratch = duckdb.connect(":memory:")
    try:
        for sql in [*_sql_files(SCHEMA_DIR), *extra_tables]:
            scratch.execute(sql)
        tables: dict[str, str] = {}
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, dtype, nullable, default in scratch.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default FROM duckdb_columns() "
            "WHERE database_name = 'memory' AND schema_name = 'main' ORDER BY table_name, column_index"
        ).fetchall():
            columns.setdefault(table, []).append((column, lake_type(dtype)))
            tables.setdefault(table, "")
            tables[table] += f',\n    "{column}" {lake_type(dtype)}' + ("" if nullable else " NOT NULL") + (f" DEFAULT {default}" if default is not None else "")
        ddl = {t: f'CREATE TABLE IF NOT EXISTS "{t}" (' + body.lstrip(",") + "\n)" for t, body in tables.items()}
        keys: dict[str, list[tuple[str, ...]]] = {}
        checks: dict[str, list[str]] = {}
        for table, kind, names, expression in scratch.execute(
            "SELECT table_name, constraint_type, constraint_column_names, expression FROM duckdb_constraints() "
            "WHERE database_name = 'memory' AND schema_name = 'main' ORDER BY table_name, constraint_index"
        ).fetchall():
            if kind in ("PRIMARY KEY", "UNIQUE"):
                keys.setdefault(table, []).append(tuple(names))
            elif kind == "CHECK":
                checks.setdefault(table, []).append(expression)
        rules = {t: TableRules(tuple(dict.fromkeys(keys.get(t, []))), tuple(checks.get(t, []))) for t in ddl}
    finally:
        scratch.close()
    views = _sql_files(VIEWS_DIR)
    view_names = [re.search(r"CREATE\s+OR\s+REPLACE\s+VIEW\s+(\w+)", v, re.I).group(1) for v in views]
    return LakeSchema(ddl, columns, rules, views, view_names)


def _existing_views(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main'").fetchall()}


def apply_lake_schema(con: duckdb.DuckDBPyConnection, schema: LakeSchema) -> list[str]:
    """Create missing tables and views; re-create (empty) tables whose columns changed, as
    warehouse.apply_schema does. Does nothing (no snapshot) when the lake is up to date."""
    existing = _columns_by_table(con)
    changed = [t for t in schema.tables if t in existing and existing[t] != schema.columns[t]]
    missing = [t for t in schema.tables if t not in existing]
    if not changed and not missing and set(schema.view_names) <= _existing_views(con):
        return []
    con.execute("BEGIN TRANSACTION")
    try:
        for table in changed:
            log.warning("lake table %s has an older schema; re-creating it empty (re-materialise its asset)", table)
            con.execute(f'DROP TABLE "{table}"')
        for ddl in schema.tables.values():
            con.execute(ddl)
        for view in schema.views:
            con.execute(view)
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass
        raise
    return changed


# --- writes -----------------------------------------------------------------------------


def _lock_key(name: str) -> int:
    """A signed 32-bit key for pg_advisory_lock(namespace, key)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def is_commit_conflict(exc: BaseException) -> bool:
    """A DuckLake commit that lost to a concurrent one: the transaction may simply be redone."""
    text = str(exc)
    if not isinstance(exc, duckdb.Error):
        return False
    if "Transaction conflict" in text:
        return True
    # a commit that lost the race for the catalog's next snapshot id (after DuckLake's own retries)
    return isinstance(exc, duckdb.TransactionException) and any(
        m in text for m in ("conflict", "could not serialize", "duplicate key value violates unique constraint")
    )


@dataclass
class LakeWriteGuard:
    """Per-partition advisory locks on the catalog server and commit-conflict retries (see the
    module doc). One PostgreSQL session per open lake connection."""

    dsn: str
    lock_timeout_s: float = 1800.0
    retry_for_s: float = 600.0
    rules: dict[str, TableRules] = field(default_factory=dict)
    conflicts: int = 0  # commits retried on this connection (for tests and logs)
    _pg: object = None

    def connect(self) -> "LakeWriteGuard":
        import psycopg2

        try:
            self._pg = psycopg2.connect(self.dsn, application_name="litsynth-lake-locks", connect_timeout=30)
        except psycopg2.OperationalError as exc:
            raise LakeUnavailable(f"DuckLake catalog server unreachable at {self.dsn!r}: {exc}".strip()) from exc
        self._pg.autocommit = True
        return self

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()  # ends the session: every lock it held is released
            self._pg = None

    def _try(self, sql: str, key: int) -> bool:
        with self._pg.cursor() as cur:
            cur.execute(sql, (_LOCK_NAMESPACE, key))
            return bool(cur.fetchone()[0])

    @contextmanager
    def locked(self, names: Sequence[tuple[str, bool]]) -> Iterator[None]:
        """Hold advisory locks on ``names`` ((name, exclusive) pairs, taken in sorted order so
        writers cannot deadlock), waiting up to ``lock_timeout_s``."""
        wanted: dict[str, bool] = {}
        for name, exclusive in names:
            wanted[name] = wanted.get(name, False) or exclusive
        held: list[tuple[int, bool]] = []
        deadline = time.monotonic() + self.lock_timeout_s
        try:
            for name, exclusive in sorted(wanted.items()):
                key, delay = _lock_key(name), 0.02
                while not self._try("SELECT pg_try_advisory_lock(%s, %s)" if exclusive else "SELECT pg_try_advisory_lock_shared(%s, %s)", key):
                    if time.monotonic() > deadline:
                        raise WarehouseBusy(f"lake lock {name!r} held by another writer for over {self.lock_timeout_s:.0f}s")
                    time.sleep(delay * (0.5 + random.random()))
                    delay = min(delay * 2, 0.5)
                held.append((key, exclusive))
            yield
        finally:
            for key, exclusive in reversed(held):
                self._try("SELECT pg_advisory_unlock(%s, %s)" if exclusive else "SELECT pg_advisory_unlock_shared(%s, %s)", key)

    @staticmethod
    def lock_names(targets: Sequence[tuple[str, Mapping[str, object]]]) -> list[tuple[str, bool]]:
        names: list[tuple[str, bool]] = []
        for table, partition in targets:
            if partition:
                names.append((f"table:{table}", False))
                names.append((f"partition:{table}:" + repr(sorted((k, str(v)) for k, v in partition.items())), True))
            else:
                names.append((f"table:{table}", True))
        return names

    def run(self, targets: Sequence[tuple[str, Mapping[str, object]]], write: Callable[[], T]) -> T:
        with self.locked(self.lock_names(targets)):
            return self.retry(write)

    def retry(self, write: Callable[[], T]) -> T:
        """``write`` (one whole transaction) again after a commit conflict, with jittered backoff."""
        deadline, delay = time.monotonic() + self.retry_for_s, 0.05
        while True:
            try:
                return write()
            except duckdb.Error as exc:
                if not is_commit_conflict(exc) or time.monotonic() > deadline:
                    raise
                self.conflicts += 1
                log.info("DuckLake commit conflict, retrying in ~%.2fs: %s", delay, str(exc).splitlines()[-1])
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 2.0)

    def validate(self, con: duckdb.DuckDBPyConnection, table: str, rows: pl.DataFrame) -> None:
        """The keys and CHECKs of sql/schema hold for the rows written (the lake enforces none)."""
        rules = self.rules.get(table)
        if rules is None or not rows.height:
            return
        for key in rules.keys:
            if all(c in rows.columns for c in key) and rows.select(key).is_duplicated().any():
                dup = rows.filter(rows.select(key).is_duplicated()).select(key).row(0)
                raise duckdb.ConstraintException(f"Constraint Error: duplicate key {dict(zip(key, dup))} in rows written to {table} (key {list(key)})")
        if rules.checks:
            con.register("_lake_checked_rows", rows.to_arrow())
            try:
                for expression in rules.checks:
                    (bad,) = con.execute(f"SELECT count(*) FROM _lake_checked_rows WHERE NOT ({expression})").fetchone()
                    if bad:
                        raise duckdb.ConstraintException(f"Constraint Error: CHECK({expression}) fails for {bad} row(s) written to {table}")
            finally:
                con.unregister("_lake_checked_rows")


# --- connections ------------------------------------------------------------------------


def _new_connection(settings: WarehouseSettings, project_root: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    if settings.backend != "ducklake" or not settings.catalog_dsn:
        raise ValueError("litsynth.lake needs WarehouseSettings(backend='ducklake', catalog_dsn=...)")
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        load_lake_extensions(con, project_root)
        options = "READ_ONLY" if read_only else f"DATA_PATH {_quote(data_path(settings, project_root))}"
        try:
            con.execute(f"ATTACH {_quote('ducklake:postgres:' + settings.catalog_dsn)} AS {LAKE} ({options})")
        except duckdb.Error as exc:
            raise LakeUnavailable(f"cannot attach the DuckLake catalog at {settings.catalog_dsn!r}: {exc}") from exc
        con.execute(f"USE {LAKE}")
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def open_lake(
    settings: WarehouseSettings,
    project_root: Path,
    *,
    lock_timeout_s: float = 1800.0,
    retry_for_s: float = 600.0,
    extra_tables: Sequence[str] = (),
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to the lake, schema applied (``extra_tables``: more DDL, e.g.
    vector tables), writes guarded by LakeWriteGuard. Any number may be open at once."""
    if "://" not in settings.data_path:
        Path(data_path(settings, project_root)).mkdir(parents=True, exist_ok=True)
    schema = build_lake_schema(extra_tables)
    guard = LakeWriteGuard(settings.catalog_dsn or "", lock_timeout_s=lock_timeout_s, retry_for_s=retry_for_s, rules=schema.rules).connect()
    con = None
    try:
        # The first ATTACH creates the catalog tables and the first writer creates the schema:
        # one process at a time, so that concurrent first starts do not race.
        with guard.locked([(_SCHEMA_LOCK, True)]):
            con = _new_connection(settings, project_root, read_only=False)
            guard.retry(lambda: apply_lake_schema(con, schema))
        register_write_guard(con, guard)
        yield con
    finally:
        if con is not None:
            register_write_guard(con, None)
            con.close()
        guard.close()


def connect_lake_read_only(settings: WarehouseSettings, project_root: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection for analysts, reports and the UI: it reads committed snapshots and
    never waits for writers. The caller closes it."""
    return _new_connection(settings, project_root, read_only=True)


@contextmanager
def open_lake_read_only(settings: WarehouseSettings, project_root: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect_lake_read_only(settings, project_root)
    try:
        yield con
    finally:
        con.close()


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's current database is the attached DuckLake."""
    return con.execute("SELECT current_database()").fetchone()[0] == LAKE


def snapshot_id(con: duckdb.DuckDBPyConnection) -> int:
    """The lake's latest snapshot id (every commit makes one)."""
    return int(con.execute(f"SELECT max(snapshot_id) FROM {LAKE}.snapshots()").fetchone()[0])


def maintain(con: duckdb.DuckDBPyConnection, *, older_than: str = "1 day") -> None:
    """Compaction and cleanup: flush rows inlined in the catalog to Parquet, merge small files,
    expire snapshots older than ``older_than``, delete the files only expired snapshots used and
    orphaned files older than ``older_than``. Run it from one process (a schedule), not from
    every writer."""
    con.execute(f"CALL ducklake_flush_inlined_data({_quote(LAKE)})")
    con.execute(f"CALL ducklake_merge_adjacent_files({_quote(LAKE)})")
    con.execute(f"CALL ducklake_expire_snapshots({_quote(LAKE)}, older_than => now() - INTERVAL {_quote(older_than)})")
    con.execute(f"CALL ducklake_cleanup_old_files({_quote(LAKE)}, cleanup_all => true)")
    # Parquet files no snapshot references: written by a transaction that never committed (a
    # writer killed mid-write, a lost conflict). Only files older than ``older_than`` go, so a
    # writer that is still writing keeps its files.
    con.execute(f"CALL ducklake_delete_orphaned_files({_quote(LAKE)}, older_than => now() - INTERVAL {_quote(older_than)})")


def referenced_files(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, int]]:
    """(data file, size in bytes) of every Parquet file the lake's current snapshot reads for ``table``."""
    return [(f, int(n)) for f, n in con.execute(
        f"SELECT data_file, data_file_size_bytes FROM ducklake_list_files({_quote(LAKE)}, ?)", [table]
    ).fetchall()]


def open_backend(settings: WarehouseSettings, project_root: Path, **kwargs):
    """``open_warehouse`` for either backend: the DuckDB file (lock) or the lake (guard)."""
    if settings.backend == "ducklake":
        return open_lake(settings, project_root, **kwargs)
    from litsynth.warehouse import open_warehouse

    return open_warehouse(settings.file(project_root), **{k: v for k, v in kwargs.items() if k == "lock_timeout_s"})


def connect_backend_read_only(settings: WarehouseSettings, project_root: Path, *, wait_s: float = 0.0) -> duckdb.DuckDBPyConnection:
    """``connect_read_only`` for either backend; the caller closes it."""
    if settings.backend == "ducklake":
        return connect_lake_read_only(settings, project_root)
    from litsynth.warehouse import connect_read_only

    return connect_read_only(settings.file(project_root), wait_s=wait_s)


# --- vectors ----------------------------------------------------------------------------
#
# DuckLake has no indexes and no fixed-size arrays: embeddings_<model> keeps its vectors as
# FLOAT[] lists. Two ways to search them (measured in bench/ducklake_vectors.py):
# - lake_exact_search: an exact scan in SQL over the lake (array_cosine_similarity after a cast
#   to FLOAT[dim]); always current, no state; what per-question searches (a few thousand rows,
#   filtered by question_id) use.
# - LocalVectorIndex: an HNSW index (vss) in a local in-memory DuckDB, built from the lake's
#   rows and brought up to date from the lake's change feed (ducklake_table_changes) when a
#   newer snapshot touched the table; for searches over every question's vectors at once,
#   where a scan grows with the whole table.


def _vector_table_name(table: str) -> str:
    """A vector table name as vector_store.vector_table makes them (the same regex), else ValueError."""
    from litsynth.retrieval.vector_store import _checked

    return _checked(table)


def lake_vector_ddl(table: str, dim: int) -> str:
    """sql/templates/embeddings.sql for ``table`` (keys and CHECKs become TableRules)."""
    from litsynth.retrieval.vector_store import TEMPLATE

    return TEMPLATE.read_text(encoding="utf-8").format(table=_vector_table_name(table), dim=int(dim))


def ensure_lake_vector_table(con: duckdb.DuckDBPyConnection, table: str, dim: int) -> str:
    """The model's vector table on the lake (no index: DuckLake has none); its key and CHECK are
    added to the connection's write guard. Returns the table name."""
    from litsynth.warehouse import _WRITE_GUARDS

    schema = build_lake_schema([lake_vector_ddl(table, dim)])
    guard = _WRITE_GUARDS.get(id(con))
    if table not in {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}:
        create = lambda: con.execute(schema.tables[table])  # noqa: E731
        guard.retry(create) if guard is not None else create()
    if guard is not None:
        guard.rules[table] = schema.rules[table]
    return table


def lake_exact_search(
    con: duckdb.DuckDBPyConnection, table: str, query, k: int, *, question_id: str | None = None, item_type: str | None = None
) -> list[tuple[str, float]]:
    """(item_id, cosine similarity) of the k nearest rows of a lake vector table, scoring every
    row (same result and order as vector_store.exact_search on the file)."""
    import numpy as np

    table = _vector_table_name(table)
    vector = np.asarray(query, dtype=np.float32)
    dim = int(vector.shape[0])
    rows = con.execute(
        f"""
        SELECT item_id, array_cosine_similarity(vector::FLOAT[{dim}], ?::FLOAT[{dim}]) AS score FROM "{table}"
        WHERE (? IS NULL OR question_id = ?) AND (? IS NULL OR item_type = ?)
        ORDER BY score DESC, item_id LIMIT ?
        """,
        [vector.tolist(), question_id, question_id, item_type, item_type, k],
    ).fetchall()
    return [(item_id, float(score)) for item_id, score in rows]


def _table_version(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The latest snapshot that changed ``table`` (inserted into it, deleted from it, created it)."""
    (table_id,) = con.execute(
        f"SELECT table_id FROM ducklake_table_info({_quote(LAKE)}) WHERE table_name = ?", [table]
    ).fetchone()
    (version,) = con.execute(
        f"""SELECT max(snapshot_id) FROM {LAKE}.snapshots()
            WHERE list_contains(map_extract_value(changes, 'tables_inserted_into'), ?)
               OR list_contains(map_extract_value(changes, 'tables_deleted_from'), ?)
               OR list_contains(map_extract_value(changes, 'inlined_insert'), ?)
               OR list_contains(map_extract_value(changes, 'inlined_delete'), ?)
               OR list_contains(map_extract_value(changes, 'tables_created'), ?)""",
        [str(table_id)] * 4 + [f"main.{table}"],
    ).fetchone()
    return int(version or 0)


@dataclass
class LocalVectorIndex:
    """A local HNSW copy of one lake vector table, kept in sync by snapshot.

    ``sync`` compares the lake's latest snapshot that changed the table with the one the copy
    reflects. When newer, it applies the changes in between (``ducklake_table_changes``: rows
    deleted and inserted, identified by the lake's row ids, which are never reused) to the copy,
    whose HNSW index is maintained row by row; the first sync, a change touching more than
    ``rebuild_fraction`` of the rows, or changes the lake no longer has (expired snapshots) make
    it rebuild instead (load the rows, then build the index once). Search is
    vector_store.hnsw_search on the copy (HNSW_INDEX_SCAN)."""

    table: str
    dim: int
    metric: str = "cosine"
    rebuild_fraction: float = 0.25
    version: int = -1
    rows: int = 0
    build_seconds: float = 0.0  # the last sync that did work
    last_sync: str = "none"  # "full", "incremental" or "unchanged"
    _local: duckdb.DuckDBPyConnection | None = None

    def __post_init__(self) -> None:
        self.table = _vector_table_name(self.table)
        self.dim = int(self.dim)
        if self.metric not in ("cosine", "l2sq", "ip"):
            raise ValueError(f"metric {self.metric!r} is not one of vss's cosine, l2sq, ip")

    def _columns(self) -> str:
        return f"question_id, item_type, item_id, paper_id, vector::FLOAT[{self.dim}] AS vector"

    def _rebuild(self, lake_con: duckdb.DuckDBPyConnection, version: int) -> None:
        frame = lake_con.execute(f'SELECT rowid AS lake_rowid, question_id, item_type, item_id, paper_id, vector FROM "{self.table}"').to_arrow_table()
        local = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
        load_extensions(local, ("vss",))
        local.register("_lake_rows", frame)
        local.execute(f'CREATE TABLE "{self.table}" AS SELECT lake_rowid, {self._columns()} FROM _lake_rows')
        local.unregister("_lake_rows")
        local.execute(f'CREATE INDEX "{self.table}_hnsw" ON "{self.table}" USING HNSW (vector) WITH (metric = {_quote(self.metric)})')
        if self._local is not None:
            self._local.close()
        self._local, self.last_sync = local, "full"

    def _apply_changes(self, lake_con: duckdb.DuckDBPyConnection, version: int) -> bool:
        """Apply the lake's changes after self.version; False when a rebuild is the better way."""
        try:
            changes = lake_con.execute(
                f"SELECT rowid AS lake_rowid, change_type, question_id, item_type, item_id, paper_id, vector "
                f"FROM ducklake_table_changes({_quote(LAKE)}, 'main', {_quote(self.table)}, ?, ?)",
                [self.version + 1, version],
            ).to_arrow_table()
        except duckdb.Error as exc:
            log.info("local HNSW copy of %s: changes unavailable (%s); rebuilding", self.table, str(exc).splitlines()[0])
            return False
        if changes.num_rows > self.rebuild_fraction * max(self.rows, 1):
            return False
        local = self.connection
        local.register("_lake_changes", changes)
        try:
            local.execute("BEGIN TRANSACTION")
            local.execute(
                f"DELETE FROM \"{self.table}\" WHERE lake_rowid IN (SELECT lake_rowid FROM _lake_changes WHERE change_type IN ('delete', 'update_preimage'))"
            )
            local.execute(
                f'INSERT INTO "{self.table}" SELECT lake_rowid, {self._columns()} FROM _lake_changes AS c '
                "WHERE change_type IN ('insert', 'update_postimage') "
                "AND lake_rowid NOT IN (SELECT lake_rowid FROM _lake_changes WHERE change_type IN ('delete', 'update_preimage'))"
            )
            local.execute("COMMIT")
        finally:
            local.unregister("_lake_changes")
        self.last_sync = "incremental"
        return True

    def sync(self, lake_con: duckdb.DuckDBPyConnection) -> bool:
        """Bring the copy up to the lake's latest snapshot of the table; True when it changed."""
        version = _table_version(lake_con, self.table)
        if version == self.version and self._local is not None:
            self.last_sync = "unchanged"
            return False
        started = time.monotonic()
        if self._local is None or not self._apply_changes(lake_con, version):
            self._rebuild(lake_con, version)
        self.version = version
        self.rows = int(self.connection.execute(f'SELECT count(*) FROM "{self.table}"').fetchone()[0])
        self.build_seconds = time.monotonic() - started
        return True

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._local is None:
            raise RuntimeError("LocalVectorIndex.sync(lake_connection) first")
        return self._local

    def search(self, query, k: int) -> list[tuple[str, float]]:
        from litsynth.retrieval.vector_store import hnsw_search

        return hnsw_search(self.connection, self.table, query, k)

    def close(self) -> None:
        if self._local is not None:
            self._local.close()
            self._local = None
