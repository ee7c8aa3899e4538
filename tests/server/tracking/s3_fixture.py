"""A real S3-compatible server for the artifact tests: moto's standalone server on 127.0.0.1.

Test modules import the fixture explicitly (``from s3_fixture import s3_server``,
then ask for ``s3``); no ``pytest_plugins``. When ``NBTRACK_TEST_S3_ENDPOINT``
names a running server (``.ci/run`` starts one), the fixture uses it; otherwise it starts
``python -m moto.server`` as a subprocess on a free port for the session.

Each session gets its own bucket, so sessions sharing one server do not see each
other's objects. Credentials are moto's dummies; the endpoint reaches s3fs (and
so nbtrack's fsspec ``ArtifactRepository`` and the server's destination) through
``AWS_ENDPOINT_URL_S3``, which botocore reads itself, in this process and in every
subprocess started with :attr:`S3Server.env`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["ENDPOINT_ENV", "S3Server", "s3_server"]

ENDPOINT_ENV = "NBTRACK_TEST_S3_ENDPOINT"


@dataclass
class S3Server:
    """A running S3-compatible endpoint with one bucket for this session."""

    endpoint: str
    bucket: str
    env: dict[str, str] = field(default_factory=dict)

    def url(self, prefix: str) -> str:
        """Return ``s3://<bucket>/<prefix>``."""
        return f"s3://{self.bucket}/{prefix.strip('/')}"

    def filesystem(self):  # type: ignore[no-untyped-def]
        """A fresh s3fs filesystem on this endpoint (no instance cache, no listing cache)."""
        import s3fs

        return s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_answering(endpoint: str, proc: subprocess.Popen[bytes] | None, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 60  # bounds a hang only
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"moto server exited: {log.read_text()[-2000:]}")
        try:
            httpx.get(endpoint, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no S3 server answers at {endpoint}") from None
            time.sleep(0.1)


@pytest.fixture(scope="session", name="s3")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """The S3 server and this session's bucket, with the AWS variables set in ``os.environ``."""
    endpoint = os.environ.get(ENDPOINT_ENV, "").rstrip("/")
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    proc: subprocess.Popen[bytes] | None = None
    if not endpoint:
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        with open(log, "wb") as out:  # moto logs every request: a file, never a pipe
            proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_S3": endpoint,
    }
    server = S3Server(endpoint, f"nbtrack-test-{uuid.uuid4().hex[:12]}", env)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        mp.delenv("AWS_PROFILE", raising=False)
        try:
            _wait_answering(endpoint, proc, log)
            fs = server.filesystem()
            fs.mkdir(server.bucket)
            yield server
            fs.rm(server.bucket, recursive=True)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
