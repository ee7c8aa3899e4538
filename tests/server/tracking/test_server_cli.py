"""``nbtrack server`` itself: the network warning, N worker processes, and PostgreSQL.

Real processes on real ports: the command as a user types it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tracking_servers import start_server, stop_server

from nbtrack.cli.server import is_loopback, without_password

M = "/api/2.0/mlflow"
POSTGRES_URI = os.environ.get("NBTRACK_TEST_POSTGRES_URI")


def test_is_loopback() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "localhost", "::1", "127.0.0.2", "[::1]"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "192.168.1.4", "example.org"]))


def test_the_startup_line_hides_the_database_password() -> None:
    uri = "postgresql+psycopg://team:s3cret@db.example:5432/nbtrack?sslmode=require"
    assert without_password(uri) == (
        "postgresql+psycopg://team:***@db.example:5432/nbtrack?sslmode=require"
    )
    assert without_password("/home/me/.nbtrack") == "/home/me/.nbtrack"
    assert without_password("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def _exercise(url: str) -> str:
    """Create an experiment and runs, log and read back through ``url``; return the exp id."""
    with httpx.Client(base_url=url, timeout=30) as http:
        name = f"cli-{uuid.uuid4().hex[:8]}"
        exp_id = http.post(f"{M}/experiments/create", json={"name": name}).json()["experiment_id"]
        run_ids = []
        for i in range(6):  # enough requests to land on both workers
            run = http.post(f"{M}/runs/create", json={"experiment_id": exp_id, "start_time": i})
            run_id = run.json()["run"]["info"]["run_id"]
            metrics = [{"key": "m", "value": float(s), "timestamp": s, "step": s} for s in range(3)]
            response = http.post(f"{M}/runs/log-batch", json={"run_id": run_id, "metrics": metrics})
            assert response.status_code == 200, response.text
            run_ids.append(run_id)
        found = http.post(f"{M}/runs/search", json={"experiment_ids": [exp_id]}).json()["runs"]
        assert sorted(r["info"]["run_id"] for r in found) == sorted(run_ids)
        history = http.get(
            f"{M}/metrics/get-history", params={"run_id": run_ids[0], "metric_key": "m"}
        ).json()["metrics"]
        assert [m["value"] for m in history] == [0.0, 1.0, 2.0]
        return str(exp_id)


def test_public_host_warns_and_workers_serve(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    proc, url = start_server(
        str(tmp_path / "store"),
        str(tmp_path / "artifacts"),
        log,
        "--host",
        "0.0.0.0",
        "--workers",
        "2",
    )
    try:
        _exercise(url)
    finally:
        stop_server(proc)
    text = log.read_text()
    assert "without --auth: anyone on the network can read and write" in text
    assert "2 workers" in text


def test_auth_without_users_says_how_to_create_one(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    proc, url = start_server(str(tmp_path / "store"), str(tmp_path / "artifacts"), log, "--auth")
    try:
        refused = httpx.post(f"{url}{M}/experiments/search", json={}, timeout=30)
    finally:
        stop_server(proc)
    assert refused.status_code == 401
    text = log.read_text()
    assert "the store has no users yet" in text
    assert "nbtrack server users create NAME --admin" in text
    assert "anyone on the network" not in text


@pytest.fixture
def postgres_uri() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    assert POSTGRES_URI
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URI)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URI else "?"
    try:
        yield f"{POSTGRES_URI}{sep}options=-csearch_path%3D{schema}"
    finally:
        from nbtrack.store import factory

        factory.forget_stores()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URI, reason="needs NBTRACK_TEST_POSTGRES_URI")
def test_server_over_postgresql(tmp_path: Path, postgres_uri: str) -> None:
    import nbtrack

    proc, url = start_server(postgres_uri, str(tmp_path / "artifacts"), tmp_path / "server.log")
    try:
        exp_id = _exercise(url)
        rid = uuid.uuid4().hex
        with httpx.Client(base_url=url, timeout=30) as http:
            run_id = http.post(f"{M}/runs/create", json={"experiment_id": exp_id}).json()["run"][
                "info"
            ]["run_id"]
            body = {"run_id": run_id, "metrics": [{"key": "x", "value": 1.0, "timestamp": 1}]}
            for _ in range(2):  # a retry with the same id is stored once
                assert (
                    http.post(
                        f"{M}/runs/log-batch", json=body, headers={"Nbtrack-Request-Id": rid}
                    ).status_code
                    == 200
                )
    finally:
        stop_server(proc)
    client = nbtrack.Client(postgres_uri, artifact_root=str(tmp_path / "artifacts"))
    assert len(client.search_runs(exp_id)) == 7
    assert len(client.get_metric_history(run_id, "x")) == 1
    run = client.get_run(run_id)
    assert run.info.artifact_uri == f"{tmp_path / 'artifacts'}/{exp_id}/{run_id}/artifacts"
