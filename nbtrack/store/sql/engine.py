"""Opening a SQL store: the engine, SQLite's settings, and schema upgrades on open.

SQLite is set up for many writers: WAL journal, ``synchronous=NORMAL`` (durable
against a crashed process, which is what a killed kernel is), a long busy
timeout, and write transactions that start with ``BEGIN IMMEDIATE`` so two
writers queue on the busy timeout instead of failing with "database is
locked" when a read transaction tries to upgrade.

A store written by an older nbtrack is upgraded on open under a lock (a file
lock beside a SQLite file, an advisory lock on PostgreSQL), so two processes
opening a new store at once do not race. Turning a new SQLite file to WAL is
done under the same file lock: two connections switching the journal mode at
once deadlock inside SQLite, which then fails one of them with "database is
locked" without waiting on the busy timeout.

Before any of that, an existing SQLite file is looked at read-only
(:func:`identify_sqlite_file`): another program's database (an MLflow
``mlflow.db``…) or a file that is no database is refused untouched, with what
it is, instead of being switched to WAL and then failing on its schema.
That look also reads the schema revision, so a SQLite store already at
``HEAD`` opens with the standard library alone (:mod:`nbtrack.store.sql.sqlite_db`);
SQLAlchemy is imported here only when an engine is made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack.errors import NotAStore, SchemaMismatch, StoreError
from nbtrack.store.sql.migrations import HEAD, REVISIONS, SCRIPT_LOCATION

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

BUSY_TIMEOUT_MS = 60_000
MMAP_SIZE = 1 << 30
_PG_MIGRATION_LOCK_ID = 0x6E627472  # "nbtr"


def sqlite_path(url: str) -> Path | None:
    """Return the database file of a ``sqlite:///`` URL, else None."""
    if url.startswith("sqlite"):
        return Path(url.split(":///", 1)[1])
    return None


def open_engine(url: str, prepared: bool = False) -> Engine:
    """Create the engine for ``url`` with nbtrack's settings, creating folders as needed.

    ``prepared`` says a SQLite file was already identified and switched to WAL
    (by :func:`prepare_sqlite_file`).
    """
    from sqlalchemy import create_engine, event

    db_file = sqlite_path(url)
    if db_file is None:
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    if not prepared and str(db_file) != ":memory:":
        prepare_sqlite_file(db_file)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        # Writers hold a connection per thread (raw.py): never make a thread wait for one.
        pool_size=8,
        max_overflow=-1,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so BEGIN IMMEDIATE can be issued.
        dbapi_connection.isolation_level = None
        set_pragmas(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("nbtrack_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if mode else "BEGIN")

    return engine


def set_pragmas(dbapi_connection: Any) -> None:
    """Apply nbtrack's settings to a new sqlite3 connection (every path that opens one)."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA cache_size = -32000")
    # Search probes child tables once per run; reading them through a memory
    # map instead of read() calls into the page cache halves a sort over
    # 100,000 runs. It is address space, not memory, and writes still go
    # through the WAL.
    cursor.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
    cursor.close()


def prepare_sqlite_file(db_file: Path) -> str | None:
    """Identify ``db_file``, create its folder, switch it to WAL; return its revision.

    The revision is the one recorded before any change (None for a new store).
    """
    revision = identify_sqlite_file(db_file)
    db_file.parent.mkdir(parents=True, exist_ok=True)
    if not _is_wal_file(db_file):
        _switch_to_wal(db_file)
    return revision


_SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables only nbtrack's schema has (MLflow's shares experiments, runs, metrics…).
_NBTRACK_TABLES = frozenset({"cell_executions"})
_MLFLOW_TABLES = frozenset({"experiments", "runs", "metrics", "params", "alembic_version"})


def identify_sqlite_file(db_file: Path) -> str | None:
    """Refuse a file that is not an nbtrack store, reading it only (no pragma that writes).

    A missing or empty file, or an SQLite database without tables, is a new
    store; one with nbtrack's revision or tables is nbtrack's (a newer
    revision is :class:`~nbtrack.errors.SchemaMismatch`'s business later).
    Returns the Alembic revision the file records (None for a new store).

    Raises
    ------
    NotAStore
        The file is not an SQLite database, is an MLflow store, or is another
        program's database (its tables are named).
    """
    import sqlite3

    try:
        with db_file.open("rb") as fh:
            header = fh.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise NotAStore(str(db_file), "a folder", "name the folder that holds it") from None
    if not header:
        return None
    if header != _SQLITE_MAGIC:
        raise NotAStore(str(db_file), "not an SQLite database", "name another file or folder")
    # mode=ro: no journal switch, no schema; immutable is not used, so a live WAL is read.
    conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        revision = None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise NotAStore(
            str(db_file), f"an unreadable SQLite database ({exc})", "name another file"
        ) from None
    finally:
        conn.close()
    if not tables or revision in REVISIONS or tables & _NBTRACK_TABLES:
        return revision
    if tables >= _MLFLOW_TABLES:
        raise NotAStore(
            str(db_file),
            "an MLflow store",
            f"copy it into an nbtrack store with `nbtrack import-mlflow sqlite:///{db_file}`",
        )
    shown = ", ".join(sorted(tables)[:8]) + (", …" if len(tables) > 8 else "")
    raise NotAStore(
        str(db_file), f"another program's SQLite database (tables: {shown})", "name another file"
    )


# A SQLite file in WAL mode has 2 in both bytes of its header's format versions.
_WAL_HEADER_OFFSET = 18


def _is_wal_file(db_file: Path) -> bool:
    try:
        with db_file.open("rb") as fh:
            fh.seek(_WAL_HEADER_OFFSET)
            return fh.read(2) == b"\x02\x02"
    except FileNotFoundError:
        return False


def _switch_to_wal(db_file: Path) -> None:
    import sqlite3

    with file_lock(db_file, "set up"):
        if _is_wal_file(db_file):
            return  # another process switched it while we waited
        conn = sqlite3.connect(db_file, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()


@contextlib.contextmanager
def file_lock(db_file: Path, doing: str) -> Iterator[None]:
    """Hold the lock file beside ``db_file`` (setting up or upgrading the store)."""
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(db_file) + ".lock", timeout=120):
            yield
    except Timeout as exc:
        raise StoreError(
            f"Timed out waiting for another process to {doing} the store at {db_file}"
        ) from exc


def current_revision(conn: Connection) -> str | None:
    """Return the Alembic revision recorded in the database, None for an empty one."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except (OperationalError, ProgrammingError):
        conn.rollback()
        return None
    return row[0] if row else None


def ensure_schema(engine: Engine, location: str) -> None:
    """Create or upgrade the schema to ``HEAD``; refuse a schema newer than this code."""
    with engine.connect() as conn:
        found = current_revision(conn)
        conn.rollback()
    if found == HEAD:
        return
    if found is not None and found not in REVISIONS:
        raise SchemaMismatch(location, found, HEAD)
    with _migration_lock(engine):
        with engine.connect() as conn:
            found = current_revision(conn)
            conn.rollback()
        if found == HEAD:
            return  # another process upgraded while we waited
        if found is not None and found not in REVISIONS:
            raise SchemaMismatch(location, found, HEAD)
        upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run Alembic's upgrade to ``revision`` on ``engine`` (no lock; callers hold one)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    with engine.connect().execution_options(nbtrack_write=True) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    db_file = sqlite_path(str(engine.url))
    if db_file is not None:
        with file_lock(db_file, "upgrade"):
            yield
        return
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK_ID})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK_ID})
                conn.commit()
        return
    yield
