"""The commands that reach the database, on every backend (SQLite; PostgreSQL when configured)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from nbtrack.cli.main import cli
from nbtrack.store.sql.migrations import HEAD


def _run(uri: str, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--tracking-uri", uri, *args], catch_exceptions=False)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def test_run_lifecycle_on_the_backend(sql_tracking_uri: str) -> None:
    # SQL backends only: it checks the artifact folder on disk, which a server keeps to itself.
    import nbtrack as nbt

    tracking_uri = sql_tracking_uri
    client = nbt.Client(tracking_uri)
    exp = client.create_experiment("backend")
    runs = {}
    for name, rmse in (("first", 0.4), ("second", 0.9)):
        run = client.create_run(exp, run_name=name)
        client.log_param(run.info.run_id, "depth", 3)
        client.log_metric(run.info.run_id, "rmse", rmse)
        client.log_text(run.info.run_id, name, "note.txt")
        client.set_terminated(run.info.run_id)
        runs[name] = run.info.run_id

    rows = json.loads(
        _run(tracking_uri, "runs", "list", "--filter", "metrics.rmse < 0.5", "--json").stdout
    )
    assert [(r["run_name"], r["metrics.rmse"]) for r in rows] == [("first", 0.4)]
    shown = _run(tracking_uri, "runs", "show", runs["second"][:10]).stdout
    assert shown.startswith(f"Run {runs['second']}  second")

    artifact_dir = Path(client.get_run(runs["second"]).info.artifact_uri)
    assert (artifact_dir / "note.txt").is_file()
    _run(tracking_uri, "runs", "delete", runs["second"])
    out = _run(tracking_uri, "gc").stdout
    assert out.endswith("Purged 1 run and 0 experiments.\n")
    assert not artifact_dir.exists()
    left = json.loads(_run(tracking_uri, "runs", "list", "--view", "all", "--json").stdout)
    assert [r["run_name"] for r in left] == ["first"]


def test_db_upgrade_and_doctor_on_the_backend(sql_tracking_uri: str) -> None:
    # SQL backends only: `db upgrade` and the schema check act on a database.
    import nbtrack as nbt

    tracking_uri = sql_tracking_uri
    nbt.Client(tracking_uri)
    out = _run(tracking_uri, "db", "upgrade").stdout
    assert out.endswith(f"schema revision {HEAD} (HEAD {HEAD}): up to date.\n")
    report = json.loads(_run(tracking_uri, "doctor", "--json").stdout)
    assert report["ok"] is True
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["schema"]["status"] == "ok"
    assert checks["experiments"]["detail"] == "1 (0 deleted)"
    assert ":***@" in checks["database"]["detail"] or tracking_uri.startswith("/")
