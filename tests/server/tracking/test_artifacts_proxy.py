"""MLflow's artifact proxy routes over a local destination, through real HTTP on 127.0.0.1.

The routes run in a Starlette app of their own (``artifact_servers``) so they
are tested apart from the rest of the server; real MLflow 3.17's
``HttpArtifactRepository`` (its client for these routes) talks to them from its
own venv; and a 1 GB file goes up and down through a server process whose RSS
must not grow with it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from artifact_servers import MiB, ServerProcess, pattern_chunks, serve_routes, wait_until

ROUTE = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "destination"
    folder.mkdir()
    return folder


@pytest.fixture
def http(dest: Path) -> Iterator[httpx.Client]:
    with serve_routes(str(dest)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def test_a_file_goes_up_lists_comes_down_and_is_deleted(http: httpx.Client, dest: Path) -> None:
    body = b"accuracy,0.93\n" * 1000
    put = http.put(f"{ROUTE}/1/run1/artifacts/tables/scores.csv", content=body)
    assert put.status_code == 200, put.text
    assert put.json() == {}
    assert (dest / "1/run1/artifacts/tables/scores.csv").read_bytes() == body

    got = http.get(f"{ROUTE}/1/run1/artifacts/tables/scores.csv")
    assert got.status_code == 200
    assert got.content == body
    assert got.headers["content-type"].startswith("text/plain")  # MLflow's type for .csv
    assert got.headers["content-length"] == str(len(body))
    assert got.headers["content-disposition"] == 'attachment; filename="scores.csv"'

    top = http.get(ROUTE, params={"path": "1/run1/artifacts"}).json()
    assert top == {"files": [{"path": "tables", "is_dir": True}]}
    inner = http.get(ROUTE, params={"path": "1/run1/artifacts/tables"}).json()
    assert inner == {"files": [{"path": "scores.csv", "is_dir": False, "file_size": len(body)}]}
    assert http.get(ROUTE, params={"path": "1/nothing-here"}).json() == {}

    assert http.delete(f"{ROUTE}/1/run1/artifacts/tables").json() == {}
    assert not (dest / "1/run1/artifacts/tables").exists()
    missing = http.get(f"{ROUTE}/1/run1/artifacts/tables/scores.csv")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "tables/scores.csv" in missing.json()["message"]


def test_content_type_follows_the_suffix(http: httpx.Client) -> None:
    for name, expected in [
        ("model.pkl", "application/octet-stream"),
        ("plot.png", "image/png"),
        ("MLmodel", "text/plain"),
        ("notes.json", "text/plain"),
        ("page.html", "text/html"),
    ]:
        http.put(f"{ROUTE}/0/r/artifacts/{name}", content=b"x")
        got = http.get(f"{ROUTE}/0/r/artifacts/{name}")
        assert got.headers["content-type"].split(";")[0] == expected, name
        assert got.headers["x-content-type-options"] == "nosniff"


def test_an_upload_replaces_the_previous_file(http: httpx.Client) -> None:
    http.put(f"{ROUTE}/0/r/artifacts/a.txt", content=b"first version, longer")
    http.put(f"{ROUTE}/0/r/artifacts/a.txt", content=b"second")
    assert http.get(f"{ROUTE}/0/r/artifacts/a.txt").content == b"second"


@pytest.mark.parametrize(
    "raw",
    [
        "0/r/%2E%2E/%2E%2E/secret.txt",  # .. after one decoding
        "%2E%2E/secret.txt",
        "0/%252E%252E/%252E%252E/%252E%252E/secret.txt",  # .. after two decodings (MLflow too)
        "/etc/passwd",  # absolute: the route's path starts with '/'
        "0/r/a%5Cb.txt",  # backslash
        "0/r/a%00b.txt",  # NUL
    ],
)
def test_unsafe_paths_are_refused_naming_them(http: httpx.Client, dest: Path, raw: str) -> None:
    (dest.parent / "secret.txt").write_text("outside the destination")
    for method in ("GET", "PUT", "DELETE"):
        resp = http.request(method, f"{ROUTE}/{raw}", content=b"x" if method == "PUT" else None)
        assert resp.status_code == 400, (method, raw, resp.text)
        body = resp.json()
        assert body["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "Invalid artifact path" in body["message"]
    listed = http.get(ROUTE, params={"path": "../.."})
    assert listed.status_code == 400
    assert "'../..'" in listed.json()["message"]
    assert (dest.parent / "secret.txt").read_text() == "outside the destination"
    assert list(dest.iterdir()) == []


def test_a_folder_and_the_root_are_not_downloadable_files(http: httpx.Client) -> None:
    http.put(f"{ROUTE}/0/r/artifacts/sub/a.txt", content=b"a")
    folder = http.get(f"{ROUTE}/0/r/artifacts/sub")
    assert folder.status_code == 400
    assert folder.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    root = http.delete(f"{ROUTE}/")
    assert root.status_code == 400
    assert http.get(f"{ROUTE}/0/r/artifacts/sub/a.txt").content == b"a"


def test_links_out_of_the_destination_are_not_followed(http: httpx.Client, dest: Path) -> None:
    secret = dest.parent / "secret.txt"
    secret.write_text("outside the destination")
    (dest / "0/r/artifacts").mkdir(parents=True)
    (dest / "0/r/artifacts/leak.txt").symlink_to(secret)
    (dest / "0/r/artifacts/out").symlink_to(dest.parent, target_is_directory=True)
    assert http.get(f"{ROUTE}/0/r/artifacts/leak.txt").status_code == 400
    assert http.get(f"{ROUTE}/0/r/artifacts/out/secret.txt").status_code == 400
    assert http.put(f"{ROUTE}/0/r/artifacts/out/secret.txt", content=b"x").status_code == 400
    assert http.delete(f"{ROUTE}/0/r/artifacts/leak.txt").json() == {}  # the link, not its target
    assert not (dest / "0/r/artifacts/leak.txt").is_symlink()
    assert secret.read_text() == "outside the destination"


def test_a_chunked_upload_without_length_arrives_whole(http: httpx.Client) -> None:
    parts = [bytes([i]) * 300_000 for i in range(7)]
    put = http.put(f"{ROUTE}/0/r/artifacts/chunked.bin", content=iter(parts))
    assert put.status_code == 200
    assert http.get(f"{ROUTE}/0/r/artifacts/chunked.bin").content == b"".join(parts)


def test_other_requests_are_served_while_an_upload_streams(http: httpx.Client, dest: Path) -> None:
    http.put(f"{ROUTE}/0/r/artifacts/small.txt", content=b"small")
    resume = threading.Event()
    result: dict[str, int] = {}

    def body() -> Iterator[bytes]:
        yield b"z" * (2 * MiB)
        resume.wait(60)
        yield b"z" * MiB

    def upload() -> None:
        with httpx.Client(base_url=str(http.base_url), timeout=60) as other:
            result["status"] = other.put(
                f"{ROUTE}/0/r/artifacts/slow.bin", content=body()
            ).status_code

    thread = threading.Thread(target=upload)
    thread.start()
    try:
        folder = dest / "0/r/artifacts"
        wait_until(
            lambda: any(p.name.startswith(".nbtrack-tmp-") for p in folder.iterdir()),
            30,
            "the upload to start",
        )
        assert http.get(f"{ROUTE}/0/r/artifacts/small.txt").content == b"small"
        listed = http.get(ROUTE, params={"path": "0/r/artifacts"}).json()
        assert [f["path"] for f in listed["files"]] == ["small.txt"]  # not the partial upload
    finally:
        resume.set()
        thread.join(60)
    assert result["status"] == 200
    assert len(http.get(f"{ROUTE}/0/r/artifacts/slow.bin").content) == 3 * MiB


def test_deleting_a_missing_path_is_not_an_error(http: httpx.Client) -> None:
    assert http.delete(f"{ROUTE}/0/none/artifacts/x.txt").json() == {}


def test_multipart_and_presigned_answer_not_implemented_as_mlflow(http: httpx.Client) -> None:
    for method, path in [
        ("POST", "/api/2.0/mlflow-artifacts/mpu/create/0/r/artifacts"),
        ("POST", "/api/2.0/mlflow-artifacts/mpu/complete/0/r/artifacts"),
        ("POST", "/api/2.0/mlflow-artifacts/mpu/abort/0/r/artifacts"),
        ("GET", "/api/2.0/mlflow-artifacts/presigned/0/r/artifacts/a.bin"),
    ]:
        resp = http.request(method, path, json={"path": "a.bin", "num_parts": 2})
        assert resp.status_code == 501
        assert resp.json()["error_code"] == "NOT_IMPLEMENTED"
        assert resp.json()["message"].endswith("not supported for the current artifact repository")


def test_a_cut_off_upload_leaves_the_previous_file(http: httpx.Client, dest: Path) -> None:
    http.put(f"{ROUTE}/0/r/artifacts/big.bin", content=b"complete old content")

    class Cut(Exception):
        pass

    folder = dest / "0/r/artifacts"

    def partial() -> list[Path]:
        return [p for p in folder.iterdir() if p.name.startswith(".nbtrack-tmp-")]

    def body() -> Iterator[bytes]:
        yield b"x" * (3 * MiB)
        wait_until(partial, 30, "the server to start writing the upload")
        raise Cut  # the client drops the connection mid-body

    with pytest.raises(Cut):
        http.put(
            f"{ROUTE}/0/r/artifacts/big.bin",
            content=body(),
            headers={"Content-Length": str(10 * MiB)},
        )
    wait_until(lambda: not partial(), 30, "the server to discard the partial upload")
    assert http.get(f"{ROUTE}/0/r/artifacts/big.bin").content == b"complete old content"
    assert sorted(p.name for p in (dest / "0/r/artifacts").iterdir()) == ["big.bin"]


# -- MLflow's own client ------------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_python() -> str:
    from bench.runner import default_cache_dir, ensure_mlflow

    return ensure_mlflow(default_cache_dir())


def run_mlflow(python: str, script: str, cwd: Path, **extra_env: str) -> Any:
    """Run ``script`` in MLflow's venv with a clean env; return its last stdout line as JSON."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NBTRACK_", "MLFLOW_")) and k != "PYTHONPATH"
    }
    env.update(MLFLOW_DISABLE_TELEMETRY="true", **extra_env)
    proc = subprocess.run(
        [python, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


HTTP_REPO_SCRIPT = """
import json, os, sys
from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository
repo = HttpArtifactRepository(sys.argv[1] + "/api/2.0/mlflow-artifacts/artifacts/7/abc/artifacts")
os.makedirs("src/deep", exist_ok=True)
open("src/model.pkl", "wb").write(bytes(range(256)) * 4000)
open("src/deep/notes.txt", "w").write("notes")
repo.log_artifact("src/model.pkl")
repo.log_artifacts("src", "copy")
top = [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts()]
copy = [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts("copy")]
file_listing = repo.list_artifacts("model.pkl")
os.makedirs("dl")
out = repo.download_artifacts("", "dl")
same = open("dl/model.pkl", "rb").read() == open("src/model.pkl", "rb").read()
notes = open("dl/copy/deep/notes.txt").read()
repo.delete_artifacts("copy")
after = [f.path for f in repo.list_artifacts()]
print(json.dumps({"top": top, "copy": copy, "file_listing": len(file_listing), "same": same,
                  "notes": notes, "after": after}))
"""


@pytest.mark.slow
def test_mlflow_http_artifact_repository_through_the_routes(
    mlflow_python: str, dest: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    with serve_routes(str(dest)) as url:
        out = run_mlflow(mlflow_python, HTTP_REPO_SCRIPT.replace("sys.argv[1]", repr(url)), work)
    size = 256 * 4000
    assert out["top"] == [["copy", True, None], ["model.pkl", False, size]]
    assert out["copy"] == [
        ["copy/deep", True, None],
        ["copy/model.pkl", False, size],
    ]
    assert out["file_listing"] == 0  # MLflow's client: listing a file gives nothing
    assert out["same"] is True
    assert out["notes"] == "notes"
    assert out["after"] == ["model.pkl"]
    assert (dest / "7/abc/artifacts/model.pkl").stat().st_size == size


@pytest.mark.slow
def test_mlflow_forced_multipart_upload_falls_back_to_a_plain_put(
    mlflow_python: str, dest: Path, tmp_path: Path
) -> None:
    script = """
import json, os
from mlflow.store.artifact.http_artifact_repo import HttpArtifactRepository
repo = HttpArtifactRepository(URL + "/api/2.0/mlflow-artifacts/artifacts/7/abc/artifacts")
open("blob.bin", "wb").write(os.urandom(3 * 1024 * 1024))
repo.log_artifact("blob.bin")
print(json.dumps([(f.path, f.file_size) for f in repo.list_artifacts()]))
"""
    with serve_routes(str(dest)) as url:
        out = run_mlflow(
            mlflow_python,
            script.replace("URL", repr(url)),
            tmp_path,
            MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD="true",
            MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE="1024",
        )
    assert out == [["blob.bin", 3 * MiB]]


MLFLOW_RUN_SCRIPT = """
import json, os
import mlflow
from mlflow.artifacts import download_artifacts
mlflow.set_tracking_uri(URL)
exp = mlflow.create_experiment("proxied-artifacts")
os.makedirs("tree/sub", exist_ok=True)
open("tree/sub/b.txt", "w").write("bb")
open("report.txt", "w").write("hello")
with mlflow.start_run(experiment_id=exp) as run:
    mlflow.log_artifact("report.txt", "docs")
    mlflow.log_artifacts("tree", "tree")
    mlflow.log_text("inline", "notes/inline.txt")
run_id = run.info.run_id
client = mlflow.MlflowClient()
one = download_artifacts(run_id=run_id, artifact_path="docs/report.txt", dst_path="dl1")
everything = download_artifacts(artifact_uri=run.info.artifact_uri, dst_path="dl2")
print(json.dumps({
    "exp": exp, "run_id": run_id, "artifact_uri": run.info.artifact_uri,
    "top": [(f.path, f.is_dir) for f in client.list_artifacts(run_id)],
    "tree": [(f.path, f.file_size) for f in client.list_artifacts(run_id, "tree/sub")],
    "one": open(one).read(),
    "inline": open(os.path.join(everything, "notes", "inline.txt")).read(),
    "b": open(os.path.join(everything, "tree", "sub", "b.txt")).read(),
}))
"""


def mlflow_logs_and_downloads(python: str, url: str, work: Path) -> Any:
    """Run MLflow's fluent API against ``url``: log artifacts in a run, list, download them."""
    work.mkdir(exist_ok=True)
    return run_mlflow(python, MLFLOW_RUN_SCRIPT.replace("URL", repr(url)), work)


def check_mlflow_round_trip(out: Any) -> str:
    """Assert what MLflow's client saw; return ``<exp>/<run_id>/artifacts``."""
    rest = f"{out['exp']}/{out['run_id']}/artifacts"
    assert out["artifact_uri"] == f"mlflow-artifacts:/{rest}"
    assert out["top"] == [["docs", True], ["notes", True], ["tree", True]]
    assert out["tree"] == [["tree/sub/b.txt", 2]]
    assert (out["one"], out["inline"], out["b"]) == ("hello", "inline", "bb")
    return rest


@pytest.mark.slow
def test_mlflow_logs_and_downloads_artifacts_through_the_tracking_server(
    mlflow_python: str, dest: Path, tmp_path: Path
) -> None:
    from nbtrack.server.tracking.app import create_app

    app = create_app(str(tmp_path / "store"), str(dest))
    with serve_routes(str(dest), app=app) as url:
        out = mlflow_logs_and_downloads(mlflow_python, url, tmp_path / "work")
    rest = check_mlflow_round_trip(out)
    assert (dest / rest / "docs/report.txt").read_text() == "hello"


# -- bounded memory -----------------------------------------------------------------


class RssWatch:
    """Sample a process's RSS every 20 ms in a thread; ``peak`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def stream_round_trip(url: str, path: str, total: int, pid: int) -> tuple[int, str, str]:
    """PUT then GET ``total`` bytes at ``path``; return (RSS growth, sent hash, received hash).

    A small file goes first, so the imports and buffers every transfer needs are
    in the baseline and only growth with the file's size is measured.
    """
    with httpx.Client(base_url=url, timeout=httpx.Timeout(600, connect=30)) as http:
        http.put(f"{ROUTE}/warmup/w.bin", content=b"w" * (4 * MiB)).raise_for_status()
        http.get(f"{ROUTE}/warmup/w.bin").raise_for_status()
        baseline = psutil.Process(pid).memory_info().rss
        sent, received = hashlib.md5(), hashlib.md5()
        with RssWatch(pid) as watch:
            put = http.put(
                f"{ROUTE}/{path}",
                content=pattern_chunks(total, sent),
                headers={"Content-Length": str(total), "Content-Type": "application/octet-stream"},
            )
            assert put.status_code == 200, put.text
            with http.stream("GET", f"{ROUTE}/{path}") as got:
                assert got.status_code == 200
                assert got.headers["content-length"] == str(total)
                n = 0
                for chunk in got.iter_raw(MiB):
                    received.update(chunk)
                    n += len(chunk)
            assert n == total
    return watch.peak - baseline, sent.hexdigest(), received.hexdigest()


@pytest.mark.slow
def test_one_gigabyte_streams_through_a_server_process_in_bounded_memory(
    tmp_path: Path, dest: Path
) -> None:
    server = ServerProcess(str(dest), tmp_path)
    try:
        server.wait_ready()
        growth, sent, received = stream_round_trip(
            server.url, "1/big/artifacts/one-gb.bin", 1024 * MiB, server.proc.pid
        )
    finally:
        server.stop()
    assert received == sent
    assert (dest / "1/big/artifacts/one-gb.bin").stat().st_size == 1024 * MiB
    assert growth < 100 * MiB, f"server RSS grew by {growth / MiB:.0f} MiB"
