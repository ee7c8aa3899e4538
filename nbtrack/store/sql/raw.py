"""Write transactions on the bare DBAPI connection, for the store's hot paths.

Creating a run, logging a batch and flushing metric points are done
thousands of times a second; SQLAlchemy's per-statement execution machinery
costs more than SQLite itself there. These paths take a pooled connection,
run plain SQL with ``?`` placeholders (rewritten for drivers that use
``%s``), and commit. Errors come out as SQLAlchemy's exception classes so
callers catch one family whichever path wrote; SQLAlchemy is imported only
when such an error happens, because a SQLite store at the current schema
opens and writes without loading it (:class:`Database`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, cast

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

__all__ = [
    "Database",
    "EngineDatabase",
    "RawCursor",
    "cursor_of",
    "database_of",
    "raw_read",
    "raw_transaction",
    "release_held",
    "write_lock",
]

_LOCK_RETRIES = 3
_held: dict[tuple[int, int], tuple[int, Any, Any]] = {}
_write_locks: dict[int, threading.RLock] = {}
_wrappers: dict[int, EngineDatabase] = {}


class Database(Protocol):
    """Where the raw paths get DBAPI connections: an engine's pool, or a SQLite file.

    ``dialect_name`` is ``"sqlite"`` or ``"postgresql"``; ``dbapi`` is the
    driver module (its ``IntegrityError`` and ``OperationalError`` are caught).
    """

    dialect_name: str
    qmark: bool
    dbapi: Any

    def connect(self) -> Any:
        """Return a new DBAPI connection (autocommit off on PostgreSQL, as drivers do)."""
        ...


class EngineDatabase:
    """A SQLAlchemy engine seen as a :class:`Database` (connections from its pool)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect_name: str = engine.dialect.name
        self.qmark = engine.dialect.paramstyle == "qmark"
        self.dbapi: Any = engine.dialect.loaded_dbapi

    def connect(self) -> Any:
        """Check a connection out of the engine's pool."""
        return self.engine.raw_connection()


def database_of(source: Database | Engine) -> Database:
    """Return ``source`` as a :class:`Database` (an engine is wrapped, once)."""
    if not hasattr(source, "raw_connection"):
        return source
    engine = cast("Engine", source)
    wrapper = _wrappers.get(id(engine))
    if wrapper is None or wrapper.engine is not engine:
        wrapper = _wrappers[id(engine)] = EngineDatabase(engine)
    return wrapper


def _reraise(err: Exception, integrity: bool) -> NoReturn:
    # Imported here: only a failed statement pays for loading SQLAlchemy.
    from sqlalchemy import exc as sa_exc

    cls = sa_exc.IntegrityError if integrity else sa_exc.OperationalError
    raise cls(None, None, err) from err


class RawCursor:
    """A DBAPI cursor that speaks ``?`` placeholders on every driver.

    ``postgres`` says the database takes arrays, so a batch of rows can go as one
    ``unnest`` statement instead of a statement per row.
    """

    __slots__ = ("_cursor", "_qmark", "postgres")

    def __init__(self, cursor: Any, qmark: bool, postgres: bool = False) -> None:
        self._cursor = cursor
        self._qmark = qmark
        self.postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql if self._qmark else sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement; returns the cursor (``fetchone``/``fetchall``/``rowcount``)."""
        self._cursor.execute(self._sql(sql), params)
        return self._cursor

    def execute_columns(self, sql: str, columns: Sequence[list[Any]]) -> None:
        """PostgreSQL: run ``sql`` once with one array parameter per column, sent in binary.

        Binary arrays skip the per-element quoting of the text format, which
        costs more than the round trip for a batch of 1,000 rows.
        """
        self._cursor.execute(self._sql(sql), columns, binary=True)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters (a sequence, or an iterator)."""
        if isinstance(rows, Sequence) and not rows:
            return
        self._cursor.executemany(self._sql(sql), rows)

    def in_list(self, n: int) -> str:
        """Return ``(?, ?, …)`` with ``n`` placeholders."""
        return "(" + ", ".join("?" * n) + ")"


@contextlib.contextmanager
def raw_transaction(source: Database | Engine) -> Iterator[RawCursor]:
    """Yield a cursor inside a write transaction; commit on success, roll back on error.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE`` so concurrent
    writers queue on the busy timeout; a "database is locked" that still
    escapes (the timeout expired) is retried a few times before it surfaces.
    """
    db = database_of(source)
    with write_lock(db), _transaction(db) as cur:
        yield cur


@contextlib.contextmanager
def _transaction(db: Database) -> Iterator[RawCursor]:
    sqlite = db.dialect_name == "sqlite"
    dbapi = db.dbapi
    for attempt in range(_LOCK_RETRIES + 1):
        conn = _checkout(db)
        cursor = conn.cursor()
        try:
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            break
        except dbapi.OperationalError as err:
            cursor.close()
            conn.close()
            if "locked" in str(err) and attempt < _LOCK_RETRIES:
                time.sleep(0.05 * (attempt + 1))
                continue
            _reraise(err, integrity=False)
    try:
        yield RawCursor(cursor, qmark=db.qmark, postgres=db.dialect_name == "postgresql")
        conn.commit()
    except dbapi.IntegrityError as err:
        conn.rollback()
        _reraise(err, integrity=True)
    except dbapi.OperationalError as err:
        conn.rollback()
        _reraise(err, integrity=False)
    except BaseException:
        conn.rollback()
        raise
    finally:
        cursor.close()
        _checkin(db, conn)


def cursor_of(conn: Connection) -> RawCursor:
    """Return a :class:`RawCursor` inside ``conn``'s own transaction."""
    return RawCursor(
        conn.connection.cursor(),
        qmark=conn.dialect.paramstyle == "qmark",
        postgres=conn.dialect.name == "postgresql",
    )


def write_lock(source: Database | Engine) -> threading.RLock:
    """Return the lock that serialises this process's write transactions on ``source``.

    Threads of one process queue here, where the hand-over is immediate,
    instead of on SQLite's busy handler, which sleeps in steps of milliseconds.
    Other processes still meet through the database's own locking.
    """
    db = database_of(source)
    lock = _write_locks.get(id(db))
    if lock is None:
        lock = _write_locks.setdefault(id(db), threading.RLock())
    return lock


@contextlib.contextmanager
def raw_read(source: Database | Engine, snapshot: bool = False) -> Iterator[RawCursor]:
    """Yield a cursor for reads: of a single consistent statement, or with ``snapshot``
    of several that see one state of the database (a read transaction on SQLite;
    PostgreSQL's driver opens one anyway)."""
    db = database_of(source)
    sqlite = db.dialect_name == "sqlite"
    conn = _checkout(db)
    cursor = conn.cursor()
    try:
        if snapshot and sqlite:
            cursor.execute("BEGIN")
        yield RawCursor(cursor, qmark=db.qmark, postgres=db.dialect_name == "postgresql")
    finally:
        cursor.close()
        if not sqlite or snapshot:
            conn.rollback()  # end the read transaction
        _checkin(db, conn)


def _checkout(db: Database) -> Any:
    # On SQLite each thread keeps one connection for its writes: checking one
    # out of the pool per transaction costs about as much as the commit.
    if db.dialect_name == "sqlite":
        entry = _held.pop((id(db), threading.get_ident()), None)
        if entry is not None and entry[0] == os.getpid() and entry[1] is db:
            return entry[2]
    return db.connect()


def _checkin(db: Database, conn: Any) -> None:
    key = (id(db), threading.get_ident())
    if db.dialect_name != "sqlite" or key in _held:
        conn.close()
        return
    _held[key] = (os.getpid(), db, conn)
    if len(_held) > 64:  # threads come and go: return connections of dead ones
        alive = {t.ident for t in threading.enumerate()}
        for stale in [k for k in _held if k[1] not in alive]:
            _release(_held.pop(stale))


def _release(entry: tuple[int, Any, Any]) -> None:
    if entry[0] == os.getpid():
        entry[2].close()


def release_held(source: Database | Engine) -> None:
    """Return every connection held for ``source`` (before disposing of it)."""
    db = database_of(source)
    for key in [k for k in _held if k[0] == id(db)]:
        _release(_held.pop(key))
