"""Opening a SQLite store with the standard library alone.

The first tracked cell of a kernel opens the store, and SQLAlchemy plus
Alembic cost most of a second to import; SQLite is a file and ``sqlite3``
ships with Python. So a SQLite store is opened here: the file is identified
read-only and its revision read (:func:`~nbtrack.store.sql.engine.prepare_sqlite_file`);
a store at ``HEAD`` needs nothing more, and the store's hot paths run on
:class:`SqliteDatabase` connections. SQLAlchemy is imported when an
operation built on it (searches, the registry…) is first called.

A new store gets the ``HEAD`` schema from ``head_schema.json``: the exact
``CREATE`` statements Alembic's migrations leave in ``sqlite_master`` (JSON
keeps their whitespace byte for byte), with the revision they stand for. A
test builds a store through Alembic and compares the two schemas, so the file
cannot drift from the migrations; when its revision is not ``HEAD`` (a migration was added and the
file not regenerated with ``python -m nbtrack.store.sql.sqlite_db``) a new
store is made through Alembic, slower but the same. Older stores are always
upgraded through Alembic, under the file lock, as before.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from nbtrack.errors import SchemaMismatch
from nbtrack.store.sql.engine import (
    BUSY_TIMEOUT_MS,
    file_lock,
    prepare_sqlite_file,
    set_pragmas,
)
from nbtrack.store.sql.migrations import HEAD, REVISIONS

__all__ = [
    "HEAD_SCHEMA_FILE",
    "SqliteDatabase",
    "head_statements",
    "open_sqlite",
    "render_head_schema",
    "schema_of",
]

HEAD_SCHEMA_FILE = Path(__file__).with_name("head_schema.json")


class SqliteDatabase:
    """A SQLite file as a :class:`~nbtrack.store.sql.raw.Database`: sqlite3 connections
    with nbtrack's pragmas, in autocommit mode so ``BEGIN IMMEDIATE`` is ours to issue."""

    dialect_name = "sqlite"
    qmark = True
    dbapi: Any = sqlite3

    def __init__(self, db_file: Path) -> None:
        self.db_file = db_file

    def __repr__(self) -> str:
        return f"SqliteDatabase({str(self.db_file)!r})"

    def connect(self) -> sqlite3.Connection:
        """Open a connection to the file, usable from any thread (one at a time)."""
        conn = sqlite3.connect(
            self.db_file,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        set_pragmas(conn)
        return conn


def open_sqlite(db_file: Path, location: str) -> SqliteDatabase | None:
    """Open the store in ``db_file`` without SQLAlchemy; None when Alembic must upgrade it.

    Raises
    ------
    NotAStore
        The file is another program's (see ``identify_sqlite_file``).
    SchemaMismatch
        The store was written by a newer nbtrack.
    """
    revision = prepare_sqlite_file(db_file)
    if revision == HEAD:
        return SqliteDatabase(db_file)
    if revision is not None and revision not in REVISIONS:
        raise SchemaMismatch(location, revision, HEAD)
    if revision is None and _create(db_file):
        return SqliteDatabase(db_file)
    return None


def head_statements() -> list[str] | None:
    """Return the statements that create the ``HEAD`` schema, None if the file is stale."""
    saved = json.loads(HEAD_SCHEMA_FILE.read_text(encoding="utf-8"))
    if saved["revision"] != HEAD:
        return None
    return list(saved["statements"])


def _create(db_file: Path) -> bool:
    """Create the ``HEAD`` schema in an empty file (under the file lock); False to leave
    the file to Alembic (a stale ``head_schema.sql``, or tables another process made)."""
    statements = head_statements()
    if statements is None:
        return False
    with file_lock(db_file, "set up"):
        conn = SqliteDatabase(db_file).connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            made = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if made:
                conn.execute("ROLLBACK")
                # Another process created the store while this one waited for the lock.
                return _revision(conn) == HEAD
            for stmt in statements:
                conn.execute(stmt)
            conn.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (HEAD,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
    return True


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def schema_of(conn: sqlite3.Connection) -> list[str]:
    """Return the ``CREATE`` statements of a database, in the order they were made.

    SQLite's own tables and automatic indexes (no SQL text) are left out:
    SQLite makes them itself.
    """
    rows = conn.execute(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
    )
    return [row[0] for row in rows]


def render_head_schema(folder: Path) -> str:
    """Build a store in ``folder`` through Alembic's migrations; return ``head_schema.json``'s
    text."""
    from nbtrack.store.sql.engine import open_engine, upgrade

    db_file = folder / "head.db"
    engine = open_engine(f"sqlite:///{db_file}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    conn = sqlite3.connect(db_file)
    try:
        statements = schema_of(conn)
    finally:
        conn.close()
    return json.dumps({"revision": HEAD, "statements": statements}, indent=1) + "\n"


def _main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        HEAD_SCHEMA_FILE.write_text(render_head_schema(Path(tmp)), encoding="utf-8")
    print(f"wrote {HEAD_SCHEMA_FILE} at revision {HEAD}")


if __name__ == "__main__":
    _main()
