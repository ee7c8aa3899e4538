"""Artifacts in S3: the proxy routes over ``s3://`` and nbtrack's own fsspec repository.

Against a real S3-compatible server (moto's standalone server, see
``s3_fixture``), never a mock: objects really go over HTTP into a bucket.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from artifact_servers import MiB, ServerProcess, serve_routes, wait_until
from s3_fixture import S3Server, s3_server  # noqa: F401 - the ``s3`` fixture
from test_artifacts_proxy import (
    ROUTE,
    check_mlflow_round_trip,
    mlflow_logs_and_downloads,
    mlflow_python,  # noqa: F401 - fixture
    stream_round_trip,
)

import nbtrack
from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.store.artifacts import ArtifactRepository


@pytest.fixture
def prefix() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def proxy(s3: S3Server, prefix: str) -> Iterator[httpx.Client]:
    with serve_routes(s3.url(prefix)) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client


def test_the_proxy_stores_and_serves_artifacts_in_the_bucket(
    proxy: httpx.Client, s3: S3Server, prefix: str
) -> None:
    body = b"\x00\x01binary model bytes" * 5000
    assert proxy.put(f"{ROUTE}/3/r1/artifacts/model/model.pkl", content=body).status_code == 200
    proxy.put(f"{ROUTE}/3/r1/artifacts/MLmodel", content=b"flavors: {}\n")

    fs = s3.filesystem()
    assert fs.cat_file(f"{s3.bucket}/{prefix}/3/r1/artifacts/model/model.pkl") == body

    got = proxy.get(f"{ROUTE}/3/r1/artifacts/model/model.pkl")
    assert got.content == body
    assert got.headers["content-type"] == "application/octet-stream"
    listing = proxy.get(ROUTE, params={"path": "3/r1/artifacts"}).json()
    assert listing == {
        "files": [
            {"path": "MLmodel", "is_dir": False, "file_size": 12},
            {"path": "model", "is_dir": True},
        ]
    }

    assert proxy.delete(f"{ROUTE}/3/r1/artifacts/model").json() == {}
    assert not fs.exists(f"{s3.bucket}/{prefix}/3/r1/artifacts/model/model.pkl")
    missing = proxy.get(f"{ROUTE}/3/r1/artifacts/model/model.pkl")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_a_cut_off_upload_leaves_no_object_and_no_pending_upload(
    proxy: httpx.Client, s3: S3Server, prefix: str
) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=s3.endpoint)

    def pending() -> list[str]:
        uploads = client.list_multipart_uploads(Bucket=s3.bucket, Prefix=prefix)
        return [u["Key"] for u in uploads.get("Uploads", [])]

    class Cut(Exception):
        pass

    def body() -> Iterator[bytes]:
        for _ in range(20):  # 20 MiB: two 8 MiB parts go up before the cut
            yield b"y" * MiB
        wait_until(pending, 30, "the server to start a multipart upload")
        raise Cut

    with pytest.raises(Cut):
        proxy.put(
            f"{ROUTE}/3/r2/artifacts/huge.bin",
            content=body(),
            headers={"Content-Length": str(100 * MiB)},
        )
    wait_until(lambda: not pending(), 30, "the server to abort the multipart upload")
    assert not s3.filesystem().exists(f"{s3.bucket}/{prefix}/3/r2/artifacts/huge.bin")
    assert proxy.get(f"{ROUTE}/3/r2/artifacts/huge.bin").status_code == 404


def test_the_fsspec_repository_reads_and_writes_s3(
    s3: S3Server, prefix: str, tmp_path: Path
) -> None:
    repo = ArtifactRepository(s3.url(f"{prefix}/0/run/artifacts"))
    assert not repo.is_local
    (tmp_path / "src/sub").mkdir(parents=True)
    (tmp_path / "src/a.txt").write_text("a")
    (tmp_path / "src/sub/b.txt").write_text("bb")
    repo.log_artifact(tmp_path / "src/a.txt")
    repo.log_artifacts(tmp_path / "src", "tree")
    with repo.open_write("streamed/c.bin", size=3 * MiB) as f:
        for _ in range(3):
            f.write(b"c" * MiB)

    assert [(i.path, i.is_dir, i.file_size) for i in repo.list_artifacts()] == [
        ("a.txt", False, 1),
        ("streamed", True, None),
        ("tree", True, None),
    ]
    assert repo.read_text("tree/sub/b.txt") == "bb"
    reader, size = repo.open_read("streamed/c.bin")
    with reader:
        assert size == 3 * MiB
        assert reader.read(10) == b"c" * 10
    out = Path(repo.download_artifacts("tree", tmp_path / "dl"))
    assert (out / "sub/b.txt").read_text() == "bb"

    with pytest.raises(NotFoundError):
        repo.open_read("streamed/none.bin")
    with pytest.raises(InvalidInput):
        repo.open_read("tree")
    repo.delete_artifacts("tree")
    assert [i.path for i in repo.list_artifacts()] == ["a.txt", "streamed"]


def test_a_local_store_keeps_run_artifacts_in_s3(
    s3: S3Server, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NBTRACK_ARTIFACT_ROOT", s3.url(f"{prefix}/root"))
    client = nbtrack.Client(str(tmp_path / "store"))
    exp = client.create_experiment("s3-artifacts")
    run = client.create_run(exp)
    assert run.info.artifact_uri.startswith(f"s3://{s3.bucket}/{prefix}/root/")
    (tmp_path / "report.md").write_text("# report")
    client.log_artifact(run.info.run_id, tmp_path / "report.md", "docs")
    assert [f.path for f in client.list_artifacts(run.info.run_id, "docs")] == ["docs/report.md"]
    local = client.download_artifacts(run.info.run_id, "docs/report.md", tmp_path / "dl")
    assert Path(local).read_text() == "# report"
    key = run.info.artifact_uri.removeprefix("s3://") + "/docs/report.md"
    assert s3.filesystem().cat_file(key) == b"# report"


@pytest.mark.slow
def test_mlflow_logs_and_downloads_through_a_server_over_s3(
    mlflow_python: str,  # noqa: F811 - the fixture
    s3: S3Server,
    prefix: str,
    tmp_path: Path,
) -> None:
    from nbtrack.server.tracking.app import create_app

    app = create_app(str(tmp_path / "store"), s3.url(prefix))
    with serve_routes(s3.url(prefix), app=app) as url:
        out = mlflow_logs_and_downloads(mlflow_python, url, tmp_path / "work")
    rest = check_mlflow_round_trip(out)
    assert s3.filesystem().cat_file(f"{s3.bucket}/{prefix}/{rest}/docs/report.txt") == b"hello"


@pytest.mark.slow
def test_a_large_file_streams_through_a_server_process_to_s3_in_bounded_memory(
    s3: S3Server, prefix: str, tmp_path: Path
) -> None:
    # 1 GiB, as the issue asks. moto assembles a multipart upload in its own memory
    # (6 s for 1 GiB on a quiet machine, over 60 s on a loaded one), while botocore gives
    # up reading an answer after 60 s and retries CompleteMultipartUpload: moto then
    # completes one upload twice at once and answers 500 "seek of closed file" (a retry
    # reads parts the other completion disposed of: with read_timeout=2, moto logs it).
    # Real S3 answers in time; for moto the server's s3fs waits longer for the answer
    # (fsspec's FSSPEC_S3 config). The server's memory per upload is one part (8 MiB).
    total = 1024 * MiB
    env = {**s3.env, "FSSPEC_S3": '{"config_kwargs": {"read_timeout": 3600}}'}
    server = ServerProcess(s3.url(prefix), tmp_path, env=env)
    try:
        server.wait_ready()
        growth, sent, received = stream_round_trip(
            server.url, "1/big/artifacts/large.bin", total, server.proc.pid
        )
    finally:
        server.stop()
    assert received == sent
    assert s3.filesystem().size(f"{s3.bucket}/{prefix}/1/big/artifacts/large.bin") == total
    assert growth < 100 * MiB, f"server RSS grew by {growth / MiB:.0f} MiB"
