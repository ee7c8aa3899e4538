"""A SQLite store at the current schema opens and logs without SQLAlchemy or Alembic.

The first tracked cell of a kernel must not pay for importing them: the
checks here run in fresh processes, as a kernel would, and look at what got
imported. The schema a new store gets from ``head_schema.json`` is compared
with the one Alembic's migrations make, so the two can never differ.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import nbtrack as nbt
from nbtrack.store.sql import sqlite_db
from nbtrack.store.sql.migrations import HEAD, REVISIONS


def _run(script: str, cwd: Path) -> dict[str, object]:
    """Run ``script`` in a fresh interpreter; it prints one JSON line, returned here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


_FIRST_POINT = """
import json, sys
import nbtrack as nbt
nbt.set_tracking_uri("store")
run = nbt.start_run()
nbt.log_metric("loss", 0.25, step=3)
nbt.log_param("lr", "0.1")
nbt.set_tag("team", "a")
nbt.end_run()
print(json.dumps({
    "run_id": run.info.run_id,
    "sqlalchemy": "sqlalchemy" in sys.modules,
    "alembic": "alembic" in sys.modules,
}))
"""

_READ_BACK = """
import json, sys
import nbtrack as nbt
nbt.set_tracking_uri("store")
run = nbt.get_run(RUN_ID)
history = nbt.get_metric_history(run.info.run_id, "loss")
print(json.dumps({
    "status": run.info.status,
    "metrics": run.data.metrics,
    "params": run.data.params,
    "team": run.data.tags.get("team"),
    "history": [[m.step, m.value] for m in history],
    "sqlalchemy": "sqlalchemy" in sys.modules,
}))
"""


def _schema_rows(db_file: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(db_file) as conn:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
    conn.close()
    return sorted(rows, key=lambda r: (r[0], r[1]))


def test_the_first_point_in_a_new_and_in_an_existing_store_loads_no_sqlalchemy(
    tmp_path: Path,
) -> None:
    new = _run(_FIRST_POINT, tmp_path)
    assert new["sqlalchemy"] is False and new["alembic"] is False
    again = _run(_FIRST_POINT, tmp_path)
    assert again["sqlalchemy"] is False and again["alembic"] is False
    # Another process reads what the first one wrote, without SQLAlchemy either.
    read = _run(_READ_BACK.replace("RUN_ID", repr(new["run_id"])), tmp_path)
    assert read == {
        "status": "FINISHED",
        "metrics": {"loss": 0.25},
        "params": {"lr": "0.1"},
        "team": "a",
        "history": [[3, 0.25]],
        "sqlalchemy": False,
    }


def test_a_new_store_gets_exactly_the_schema_alembic_makes(tmp_path: Path) -> None:
    nbt.Client(str(tmp_path / "fast"))
    sqlite_db.render_head_schema(tmp_path)  # builds tmp_path/head.db through Alembic
    fast, migrated = tmp_path / "fast" / "nbtrack.db", tmp_path / "head.db"
    assert _schema_rows(fast) == _schema_rows(migrated)
    with sqlite3.connect(fast) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_head_schema_json_is_up_to_date_with_the_migrations(tmp_path: Path) -> None:
    expected = sqlite_db.render_head_schema(tmp_path)
    assert sqlite_db.HEAD_SCHEMA_FILE.read_text(encoding="utf-8") == expected, (
        "nbtrack/store/sql/head_schema.json is stale: regenerate it with "
        "`python -m nbtrack.store.sql.sqlite_db`"
    )


def test_a_stale_head_schema_file_leaves_a_new_store_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({"revision": REVISIONS[0], "statements": ["CREATE TABLE x (a)"]}))
    monkeypatch.setattr(sqlite_db, "HEAD_SCHEMA_FILE", stale)
    client = nbt.Client(str(tmp_path / "s"))
    run_id = client.create_run("0").info.run_id
    sqlite_db.render_head_schema(tmp_path)
    assert _schema_rows(tmp_path / "s" / "nbtrack.db") == _schema_rows(tmp_path / "head.db")
    assert client.get_run(run_id).info.status == "RUNNING"


def test_an_older_store_is_upgraded_through_alembic_on_open(tmp_path: Path) -> None:
    from nbtrack.store.sql.engine import open_engine, upgrade

    engine = open_engine(f"sqlite:///{tmp_path / 'store' / 'nbtrack.db'}")
    upgrade(engine, REVISIONS[0])
    engine.dispose()
    opened = _run(_FIRST_POINT, tmp_path)
    assert opened["alembic"] is True  # the upgrade is Alembic's, as it always was
    with sqlite3.connect(tmp_path / "store" / "nbtrack.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD,)]
    conn.close()
    assert _run(_FIRST_POINT, tmp_path)["alembic"] is False


def test_the_first_call_that_needs_sqlalchemy_turns_the_store_into_a_sql_store(
    tmp_dir: Path,
) -> None:
    from nbtrack.store.sql.core import SqlStoreCore
    from nbtrack.store.sql.store import SqlStore

    client = nbt.Client(str(tmp_dir / "s"))
    store = client.store
    assert type(store) is SqlStoreCore
    run = client.create_run("0")
    client.log_metric(run.info.run_id, "m", 1.5)
    client.flush()
    found = client.search_runs(["0"], "metrics.m > 1")
    assert type(store) is SqlStore and client.store is store
    assert [r.info.run_id for r in found] == [run.info.run_id]
    # Hot paths keep working on the same connections after the switch.
    client.set_terminated(run.info.run_id)
    assert client.get_run(run.info.run_id).info.status == "FINISHED"


def test_probing_a_store_for_attributes_it_lacks_does_not_switch_it(tmp_dir: Path) -> None:
    from nbtrack.store.sql.core import SqlStoreCore

    store = nbt.Client(str(tmp_dir / "s")).store
    assert getattr(store, "remote", None) is None
    assert getattr(store, "http", None) is None
    with pytest.raises(AttributeError):
        store.no_such_method  # type: ignore[attr-defined]  # noqa: B018
    assert type(store) is SqlStoreCore


def test_experiments_made_on_the_fast_path_are_those_searches_find(tmp_dir: Path) -> None:
    client = nbt.Client(str(tmp_dir / "s"))
    exp_id = client.create_experiment("mine", tags={"k": "v"})
    with pytest.raises(nbt.AlreadyExistsError, match="mine"):
        client.create_experiment("mine")
    client.set_experiment_tag(exp_id, "k2", "v2")
    exp = client.get_experiment_by_name("mine")
    assert exp is not None and exp.experiment_id == exp_id
    assert exp.tags == {"k": "v", "k2": "v2"}
    assert exp.artifact_location.endswith(f"/{exp_id}")
    found = client.search_experiments(filter_string="name = 'mine'")
    assert [(e.experiment_id, e.tags) for e in found] == [(exp_id, exp.tags)]
