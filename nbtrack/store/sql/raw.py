"""Write transactions on the bare DBAPI connection, for the store's hot paths.

Creating a run, logging a batch and flushing metric points are done
thousands of times a second; SQLAlchemy's per-statement execution machinery
costs more than SQLite itself there. These paths take a pooled connection,
run plain SQL with ``?`` placeholders (rewritten for drivers that use
``%s``), and commit. Errors come out as SQLAlchemy's exception classes so
callers catch one family whichever path wrote.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import exc as sa_exc

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

__all__ = [
    "RawCursor",
    "cursor_of",
    "raw_read",
    "raw_transaction",
    "release_held",
    "write_lock",
]

_LOCK_RETRIES = 3
_held: dict[tuple[int, int], tuple[int, Any, Any]] = {}
_write_locks: dict[int, threading.RLock] = {}


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
def raw_transaction(engine: Engine) -> Iterator[RawCursor]:
    """Yield a cursor inside a write transaction; commit on success, roll back on error.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE`` so concurrent
    writers queue on the busy timeout; a "database is locked" that still
    escapes (the timeout expired) is retried a few times before it surfaces.
    """
    with write_lock(engine), _transaction(engine) as cur:
        yield cur


@contextlib.contextmanager
def _transaction(engine: Engine) -> Iterator[RawCursor]:
    sqlite = engine.dialect.name == "sqlite"
    dbapi = engine.dialect.loaded_dbapi
    for attempt in range(_LOCK_RETRIES + 1):
        conn = _checkout(engine)
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
            raise sa_exc.OperationalError(None, None, err) from err
    try:
        yield RawCursor(
            cursor,
            qmark=engine.dialect.paramstyle == "qmark",
            postgres=engine.dialect.name == "postgresql",
        )
        conn.commit()
    except dbapi.IntegrityError as err:
        conn.rollback()
        raise sa_exc.IntegrityError(None, None, err) from err
    except dbapi.OperationalError as err:
        conn.rollback()
        raise sa_exc.OperationalError(None, None, err) from err
    except BaseException:
        conn.rollback()
        raise
    finally:
        cursor.close()
        _checkin(engine, conn)


def cursor_of(conn: Connection) -> RawCursor:
    """Return a :class:`RawCursor` inside ``conn``'s own transaction."""
    return RawCursor(
        conn.connection.cursor(),
        qmark=conn.dialect.paramstyle == "qmark",
        postgres=conn.dialect.name == "postgresql",
    )


def write_lock(engine: Engine) -> threading.RLock:
    """Return the lock that serialises this process's write transactions on ``engine``.

    Threads of one process queue here, where the hand-over is immediate,
    instead of on SQLite's busy handler, which sleeps in steps of milliseconds.
    Other processes still meet through the database's own locking.
    """
    lock = _write_locks.get(id(engine))
    if lock is None:
        lock = _write_locks.setdefault(id(engine), threading.RLock())
    return lock


@contextlib.contextmanager
def raw_read(engine: Engine) -> Iterator[RawCursor]:
    """Yield a cursor for reads of a single consistent statement (no explicit transaction)."""
    conn = _checkout(engine)
    cursor = conn.cursor()
    try:
        yield RawCursor(
            cursor,
            qmark=engine.dialect.paramstyle == "qmark",
            postgres=engine.dialect.name == "postgresql",
        )
    finally:
        cursor.close()
        if engine.dialect.name != "sqlite":
            conn.rollback()  # end the transaction the driver opened implicitly
        _checkin(engine, conn)


def _checkout(engine: Engine) -> Any:
    # On SQLite each thread keeps one connection for its writes: checking one
    # out of the pool per transaction costs about as much as the commit.
    if engine.dialect.name == "sqlite":
        entry = _held.pop((id(engine), threading.get_ident()), None)
        if entry is not None and entry[0] == os.getpid() and entry[1] is engine:
            return entry[2]
    return engine.raw_connection()


def _checkin(engine: Engine, conn: Any) -> None:
    key = (id(engine), threading.get_ident())
    if engine.dialect.name != "sqlite" or key in _held:
        conn.close()
        return
    _held[key] = (os.getpid(), engine, conn)
    if len(_held) > 64:  # threads come and go: return connections of dead ones
        alive = {t.ident for t in threading.enumerate()}
        for stale in [k for k in _held if k[1] not in alive]:
            _release(_held.pop(stale))


def _release(entry: tuple[int, Any, Any]) -> None:
    if entry[0] == os.getpid():
        entry[2].close()


def release_held(engine: Engine) -> None:
    """Return every connection held for ``engine`` (before disposing of it)."""
    for key in [k for k in _held if k[0] == id(engine)]:
        _release(_held.pop(key))
