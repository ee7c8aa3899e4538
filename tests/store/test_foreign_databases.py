"""A file that is not an nbtrack store is refused untouched, with what it is."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

import nbtrack as nbt
from nbtrack.errors import NotAStore


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file of the folder with its digest: what a refusal must leave as it was."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


@pytest.mark.slow
def test_an_mlflow_store_is_named_and_left_untouched(tmp_path: Path) -> None:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    script = (
        "import mlflow\n"
        "mlflow.set_tracking_uri('sqlite:///mlflow.db')\n"
        "with mlflow.start_run():\n"
        "    mlflow.log_metric('loss', 0.5)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    subprocess.run([python, "-c", script], cwd=tmp_path, env=env, check=True, timeout=600)
    db = tmp_path / "mlflow.db"
    before = _snapshot(tmp_path)
    assert "mlflow.db" in before
    with pytest.raises(NotAStore, match="is an MLflow store") as caught:
        nbt.Client(f"sqlite:///{db}").search_experiments()
    assert f"nbtrack import-mlflow sqlite:///{db}" in str(caught.value)
    assert _snapshot(tmp_path) == before  # no WAL switch, no -wal/-shm, no lock file
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_another_programs_database_is_named_by_its_tables(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("CREATE TABLE authors (name TEXT)")
    before = _snapshot(tmp_path)
    with pytest.raises(
        NotAStore, match=r"another program's SQLite database \(tables: authors, notes\)"
    ):
        nbt.Client(f"sqlite:///{db}").search_experiments()
    assert _snapshot(tmp_path) == before


def test_a_file_that_is_no_database_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "data.db"
    db.write_text("id,value\n1,2\n")
    before = _snapshot(tmp_path)
    with pytest.raises(NotAStore, match="is not an SQLite database"):
        nbt.Client(f"sqlite:///{db}").search_experiments()
    assert _snapshot(tmp_path) == before


def test_an_empty_database_and_an_nbtrack_store_open(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert [e.name for e in nbt.Client(f"sqlite:///{empty}").search_experiments()] == ["Default"]
    folder = tmp_path / "store"
    nbt.Client(str(folder)).create_experiment("again")
    nbt.Client(str(folder)).flush()
    from nbtrack.store import factory

    factory.forget_stores()
    names = {e.name for e in nbt.Client(str(folder)).search_experiments()}
    assert names == {"Default", "again"}
