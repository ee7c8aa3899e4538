"""``nbtrack import-mlflow`` from stores real MLflow 3.17 wrote, compared field by field.

MLflow (in its own venv) builds one store per kind, once per module: a SQLite
file, an ``mlruns`` folder, and a running ``mlflow server``. It then dumps the
source as JSON with its own client; the test imports into a fresh nbtrack
store and reads the target through ``nbtrack.Client`` into the same shape.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mlflow_scripts import BUILD, DUMP
from rest_server import free_port, wait_until

import nbtrack
from nbtrack.cli.main import cli
from nbtrack.entities import ViewType
from nbtrack.errors import InvalidInput
from nbtrack.migrate.importer import import_mlflow

pytestmark = pytest.mark.slow

SYNCED = ("scikit-learn", "skops", "cloudpickle")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NBTRACK_", "MLFLOW_")) and k != "PYTHONPATH"
    }
    env.update(MLFLOW_DISABLE_TELEMETRY="true", MLFLOW_ALLOW_PICKLE_DESERIALIZATION="true")
    env.update(extra)
    return env


def _run_mlflow(python: str, script: str, cwd: Path, uri: str, **extra: str) -> Any:
    proc = subprocess.run(
        [python, "-c", script],
        cwd=cwd,
        env=_clean_env(TRACKING_URI=uri, **extra),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    code = (
        "import json; from importlib.metadata import version\n"
        f"print(json.dumps({{d: version(d) for d in {SYNCED!r}}}))"
    )
    theirs = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True).stdout)
    # The sklearn model MLflow logs must unpickle here: same versions on both sides.
    wanted = [f"{d}=={version(d)}" for d in SYNCED if theirs.get(d) != version(d)]
    if wanted:
        subprocess.run([python, "-m", "pip", "install", "--quiet", *wanted], check=True)
    return python


def _build(python: str, folder: Path, uri: str, **extra: str) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    _run_mlflow(python, BUILD, folder, uri, **extra)
    return _run_mlflow(python, DUMP, folder, uri, **extra)


@pytest.fixture(scope="module")
def sqlite_source(mlflow_python: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    folder = tmp_path_factory.mktemp("mlflow-sqlite")
    return folder / "mlflow.db", _build(mlflow_python, folder, f"sqlite:///{folder}/mlflow.db")


@pytest.fixture(scope="module")
def mlruns_source(mlflow_python: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    folder = tmp_path_factory.mktemp("mlflow-files")
    uri = f"file://{folder}/mlruns"
    return folder / "mlruns", _build(mlflow_python, folder, uri, MLFLOW_ALLOW_FILE_STORE="true")


@pytest.fixture(scope="module")
def server_source(mlflow_python: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = (folder / "server.log").open("wb")
    args = ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    args += ["--backend-store-uri", f"sqlite:///{folder}/srv.db"]
    args += ["--artifacts-destination", str(folder / "artifacts")]
    proc = subprocess.Popen(
        [mlflow_python, "-m", "mlflow", "server", *args],
        cwd=folder,
        env=_clean_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its workers and job runners form one group to stop
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.poll() is None, (folder / "server.log").read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    try:
        wait_until(healthy, 300, "mlflow server to answer /health")
        yield url, _build(mlflow_python, folder / "client", url)
    finally:
        proc.send_signal(signal.SIGINT)  # mlflow server stops its children on SIGINT
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _target_dump(client: nbtrack.Client, names: set[str]) -> Any:
    """What nbtrack's Client reads of the target, in the shape of MLflow's DUMP."""
    out: dict[str, Any] = {"experiments": [], "runs": {}, "models": [], "prompts": []}
    for exp in client.search_experiments(view_type=ViewType.ALL):
        if exp.name not in names:
            continue
        out["experiments"].append(
            {"name": exp.name, "lifecycle_stage": exp.lifecycle_stage, "tags": exp.tags}
        )
        runs = client.search_runs(
            [exp.experiment_id], run_view_type=ViewType.ALL, max_results=50000
        )
        for found in runs:
            run = client.get_run(found.info.run_id)  # with its dataset inputs
            i = run.info
            repo = client.store.artifact_repository(i.artifact_uri)
            from nbtrack.migrate.copy_run import walk_artifacts

            out["runs"][i.run_id] = {
                "experiment": exp.name,
                "run_name": i.run_name,
                "status": i.status,
                "start_time": i.start_time,
                "end_time": i.end_time,
                "lifecycle_stage": i.lifecycle_stage,
                "user_id": i.user_id,
                "params": run.data.params,
                "tags": run.data.tags,
                "metrics": run.data.metrics,
                "history": {
                    k: sorted([s, t, v] for s, t, v in client.get_metric_points(i.run_id, k))
                    for k in run.data.metrics
                },
                "artifacts": walk_artifacts(repo),
                "inputs": sorted(
                    [
                        d.dataset.name,
                        d.dataset.digest,
                        d.dataset.source_type,
                        d.dataset.source,
                        d.dataset.schema,
                        d.dataset.profile,
                        d.tags,
                    ]
                    for d in run.inputs.dataset_inputs
                ),
            }
    for rm in client.search_registered_models(max_results=1000):
        versions = [
            {
                "version": v.version,
                "run_id": v.run_id,
                "stage": v.current_stage,
                "status": v.status,
                "description": v.description or None,
                "tags": v.tags,
                "aliases": sorted(v.aliases),
            }
            for v in client.search_model_versions(f"name='{rm.name}'")
        ]
        out["models"].append(
            {
                "name": rm.name,
                "description": rm.description or None,
                "tags": rm.tags,
                "aliases": rm.aliases,
                "versions": sorted(versions, key=lambda v: v["version"]),
            }
        )
    for prompt in client.search_prompts():
        for number in (1, 2):
            pv = nbtrack.load_prompt(f"prompts:/{prompt.name}/{number}", client=client)
            out["prompts"].append(
                {
                    "name": prompt.name,
                    "version": pv.version,
                    "template": pv.template,
                    "commit_message": pv.commit_message,
                    "aliases": sorted(pv.aliases),
                }
            )
    return json.loads(json.dumps(out, sort_keys=True))


def _assert_same(client: nbtrack.Client, expected: Any) -> None:
    names = {e["name"] for e in expected["experiments"]}
    got = _target_dump(client, names)
    assert sorted(got["experiments"], key=str) == sorted(expected["experiments"], key=str)
    assert got["runs"].keys() == expected["runs"].keys()
    for run_id, want in expected["runs"].items():
        # MLflow's file store can hold one point twice (it logs a run's metrics again
        # with its model); a SQL store, MLflow's or nbtrack's, keeps one of them.
        want["history"] = {
            k: sorted(map(list, {tuple(p) for p in points}))
            for k, points in want["history"].items()
        }
        assert got["runs"][run_id] == want, run_id
    assert got["models"] == expected["models"]
    assert sorted(got["prompts"], key=str) == sorted(expected["prompts"], key=str)


def _files(path: Path) -> dict[str, str]:
    paths = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _assert_model_loads(tracking_uri: str) -> None:
    nbtrack.set_tracking_uri(tracking_uri)
    model = nbtrack.load_model("models:/wine-model@champion")
    assert list(model.predict([[0.0], [3.0]])) == [0, 1]


def test_import_from_sqlite_copies_every_field_and_never_writes_the_source(
    sqlite_source: tuple[Path, Any], tmp_path: Path
) -> None:
    db, expected = sqlite_source
    before = _files(db.parent)
    target = f"sqlite:///{tmp_path / 'target.db'}"
    first = import_mlflow(f"sqlite:///{db}", target)
    assert first.runs == {"created": len(expected["runs"])}
    client = nbtrack.Client(target)
    _assert_same(client, expected)
    _assert_model_loads(target)
    again = import_mlflow(f"sqlite:///{db}", target)
    assert again.runs == {"skipped": len(expected["runs"])}
    assert again.points == again.bytes == again.model_versions == 0
    _assert_same(client, expected)
    assert _files(db.parent) == before  # no byte changed, no -wal, -shm or -journal appeared


def test_import_from_an_mlruns_folder(mlruns_source: tuple[Path, Any], tmp_path: Path) -> None:
    folder, expected = mlruns_source
    before = _files(folder)
    target = f"sqlite:///{tmp_path / 'target.db'}"
    import_mlflow(folder, target)
    _assert_same(nbtrack.Client(target), expected)
    _assert_model_loads(target)
    assert import_mlflow(folder, target).runs == {"skipped": len(expected["runs"])}
    assert _files(folder) == before


def test_import_from_a_running_mlflow_server(server_source: Any, tmp_path: Path) -> None:
    url, expected = server_source
    target = f"sqlite:///{tmp_path / 'target.db'}"
    import_mlflow(url, target)
    _assert_same(nbtrack.Client(target), expected)
    _assert_model_loads(target)
    assert import_mlflow(url, target).runs == {"skipped": len(expected["runs"])}


_KILLED_IMPORT = r"""
import os, signal, sys
from nbtrack.migrate.importer import import_mlflow
writes = 0
def on_write(points, size):
    global writes
    writes += 1
    if writes == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
import_mlflow(sys.argv[1], sys.argv[2], on_write=on_write)
"""


@pytest.mark.parametrize("kill_at", [1, 3])
def test_an_import_killed_partway_resumes_with_nothing_lost_or_doubled(
    sqlite_source: tuple[Path, Any], tmp_path: Path, kill_at: int
) -> None:
    db, expected = sqlite_source
    target = f"sqlite:///{tmp_path / 'target.db'}"
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_IMPORT, f"sqlite:///{db}", target, str(kill_at)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    resumed = import_mlflow(f"sqlite:///{db}", target)
    assert resumed.runs.get("completed", 0) >= 1
    _assert_same(nbtrack.Client(target), expected)
    _assert_model_loads(target)


def test_the_cli_imports_names_bad_sources_and_unknown_experiments(
    sqlite_source: tuple[Path, Any], tmp_path: Path
) -> None:
    db, expected = sqlite_source
    target = f"sqlite:///{tmp_path / 'target.db'}"
    runner = CliRunner()
    out = runner.invoke(cli, ["import-mlflow", str(db), "--to", target, "-e", "other", "--json"])
    assert out.exit_code == 0, out.output
    summary = json.loads(out.output)
    lonely = [r for r in expected["runs"].values() if r["experiment"] == "other"]
    assert summary["runs"] == {"created": len(lonely)}
    assert sorted(e.name for e in nbtrack.Client(target).search_experiments()) == [
        "Default",
        "other",
    ]
    bad = runner.invoke(cli, ["import-mlflow", str(db), "--to", target, "-e", "nope"])
    assert bad.exit_code == 1 and "No experiment 'nope'" in bad.output and "wine" in bad.output
    nbtrack_store = runner.invoke(
        cli, ["import-mlflow", str(tmp_path / "target.db"), "--to", target]
    )
    assert nbtrack_store.exit_code == 1 and "is an nbtrack store" in nbtrack_store.output
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(InvalidInput, match="not an SQLite database"):
        import_mlflow(text, target)
    with pytest.raises(InvalidInput, match="nothing is there"):
        import_mlflow(tmp_path / "missing", target)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidInput, match="without MLflow experiments"):
        import_mlflow(tmp_path / "empty", target)


@pytest.mark.postgres
def test_import_from_an_mlflow_postgresql_database_in_a_read_only_session(
    mlflow_python: str, tmp_path: Path
) -> None:
    import psycopg
    from backends import POSTGRES_URI

    assert POSTGRES_URI, "the PostgreSQL tests need NBTRACK_TEST_POSTGRES_URI"
    schema = f"mlflow_{os.urandom(6).hex()}"
    plain = POSTGRES_URI.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in plain else "?"
    uri = f"{plain}{sep}options=-csearch_path%3D{schema}"
    try:
        # MLflow's venv has psycopg2, the driver MLflow names postgresql+psycopg2.
        mlflow_uri = uri.replace("postgresql://", "postgresql+psycopg2://", 1)
        expected = _build(mlflow_python, tmp_path / "mlflow", mlflow_uri)

        def digest() -> dict[str, str]:
            with psycopg.connect(uri) as conn:
                tables = [
                    r[0]
                    for r in conn.execute(
                        "SELECT table_name FROM information_schema.tables "
                        "WHERE table_schema = current_schema()"
                    )
                ]
                return {
                    t: str(
                        conn.execute(
                            f"SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) "
                            f'FROM "{t}" x'
                        ).fetchone()
                    )
                    for t in tables
                }

        before = digest()
        target = f"sqlite:///{tmp_path / 'target.db'}"
        import_mlflow(uri, target)
        _assert_same(nbtrack.Client(target), expected)
        _assert_model_loads(target)
        assert import_mlflow(uri, target).runs == {"skipped": len(expected["runs"])}
        assert digest() == before
    finally:
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
