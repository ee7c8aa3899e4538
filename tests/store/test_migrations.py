"""Schema creation and upgrades: on open, under a lock, refusing a newer schema."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import nbtrack as nbt
from nbtrack.store.sql.migrations import HEAD, REVISIONS, SCRIPT_LOCATION


def test_head_constant_matches_alembic_scripts() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(SCRIPT_LOCATION)
    assert scripts.get_heads() == [HEAD]
    chain = [s.revision for s in scripts.walk_revisions()][::-1]
    assert tuple(chain) == REVISIONS


def test_migrated_schema_matches_the_orm_models(sql_tracking_uri: str) -> None:
    # SQL backends only: a REST store has no schema of its own (its server's is tested here).
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    # sync_state declares its tables on SqlBase too; importing it puts them in the metadata.
    import nbtrack.store.sql.sync_state  # noqa: F401
    from nbtrack.store.sql.schema import SqlBase

    store = nbt.Client().store
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        diff = compare_metadata(MigrationContext.configure(conn), SqlBase.metadata)
    assert diff == []


def test_new_store_is_created_at_head_with_wal(tmp_dir: Path) -> None:
    nbt.Client(str(tmp_dir / "s"))
    engine = create_engine(f"sqlite:///{tmp_dir / 's' / 'nbtrack.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_store_newer_than_the_code_is_refused_untouched(tmp_dir: Path) -> None:
    client = nbt.Client(str(tmp_dir / "s"))
    run_id = client.create_run("0").info.run_id
    from nbtrack.store.factory import forget_stores

    forget_stores()
    engine = create_engine(f"sqlite:///{tmp_dir / 's' / 'nbtrack.db'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(nbt.SchemaMismatch, match=r"9999_future.*Upgrade nbtrack"):
        nbt.Client(str(tmp_dir / "s"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT run_uuid FROM runs")).scalar() == run_id
    engine.dispose()


def test_a_store_at_an_older_revision_is_upgraded_on_open_keeping_its_data(tmp_dir: Path) -> None:
    """Build a store at the oldest revision with Alembic, fill it, open it with nbtrack."""
    from nbtrack.store.sql.engine import open_engine, upgrade

    url = f"sqlite:///{tmp_dir / 's' / 'nbtrack.db'}"
    engine = open_engine(url)
    upgrade(engine, REVISIONS[0])
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) "
                "VALUES (0, 'Default', '/x', 'active'), (7, 'old', '/x/7', 'active')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, "
                "lifecycle_stage, artifact_uri) VALUES ('r1', 'old-run', 7, 'u', 'FINISHED', 1, "
                "'active', '/x/7/r1/artifacts')"
            )
        )
    engine.dispose()
    client = nbt.Client(str(tmp_dir / "s"))
    assert REVISIONS[0] != HEAD
    assert client.get_experiment("7").name == "old"
    assert client.get_run("r1").info.run_name == "old-run"
    with client.store.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD
        assert conn.execute(text("SELECT count(*) FROM cell_executions")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM registered_models")).scalar() == 0
    client.create_registered_model("upgraded")
    assert client.create_model_version("upgraded", "runs:/r1/model").run_id == "r1"


def _open_store(
    folder: str, barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue
) -> None:
    import nbtrack

    barrier.wait()
    try:
        client = nbtrack.Client(folder)
        client.create_run("0")
        out.put("ok")
    except Exception as exc:
        out.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.slow
def test_processes_opening_a_new_store_at_once_do_not_race(tmp_dir: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    out = ctx.Queue()
    folder = str(tmp_dir / "shared")
    procs = [ctx.Process(target=_open_store, args=(folder, barrier, out)) for _ in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert results == ["ok"] * 4
    assert nbt.Client(folder).store.count_runs() == 4  # type: ignore[attr-defined]


def test_a_new_sqlite_file_is_switched_to_wal_under_the_store_lock(tmp_dir: Path) -> None:
    # Two connections switching a new file to WAL at once make SQLite fail one
    # of them with "database is locked" straight away; the switch must wait for
    # whoever holds the store's lock and leave the file in WAL mode.
    import threading

    from filelock import FileLock

    from nbtrack.store.sql.engine import open_engine

    db_file = tmp_dir / "new" / "nbtrack.db"
    db_file.parent.mkdir()
    opened = threading.Event()
    with FileLock(str(db_file) + ".lock"):
        opener = threading.Thread(
            target=lambda: (open_engine(f"sqlite:///{db_file}"), opened.set())
        )
        opener.start()
        assert not opened.wait(0.5), "the file was set up while another process held the lock"
        assert not db_file.exists()
    opener.join(timeout=30)
    assert opened.is_set()
    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
