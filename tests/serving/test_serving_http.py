"""The scoring server over real HTTP on 127.0.0.1.

``nbtrack serve`` in a subprocess (one worker and two), ``nbt.serve()`` in a
background thread, and ``%nbtrack serve`` in IPython's shell.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from click.testing import CliRunner

import nbtrack as nbt
from nbtrack.cli.main import cli
from nbtrack.serving import ModelServer

# Generous: the server imports scikit-learn, and CI machines are busy.
_START_DEADLINE_S = 120.0
# The CLI as a fresh interpreter runs it, whether or not the console script is on PATH.
_NBTRACK = (sys.executable, "-c", "from nbtrack.cli.main import cli; cli()")


class Served:
    """A running ``nbtrack serve`` process and a client of it."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc = proc
        self.url = url
        self.log = log
        self.http = httpx.Client(base_url=url, timeout=30.0)

    def post(self, body: Any) -> httpx.Response:
        """POST a JSON body to /invocations."""
        return self.http.post("/invocations", json=body)


@pytest.fixture
def serve_cli(tmp_path: Path) -> Iterator[Any]:
    """``serve_cli(*args, port=P)`` starts ``nbtrack serve ARGS --port P``; waits for /ping."""
    started: list[Served] = []

    def start(*args: str, port: int) -> Served:
        log = tmp_path / f"serve-{len(started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [*_NBTRACK, "serve", *args, "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(os.environ),
            )
        served = Served(proc, f"http://127.0.0.1:{port}", log)
        started.append(served)
        deadline = time.monotonic() + _START_DEADLINE_S
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"nbtrack serve exited {proc.returncode}:\n{log.read_text()}")
            try:
                if served.http.get("/ping", timeout=1.0).status_code == 200:
                    return served
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no /ping answer in {_START_DEADLINE_S} s:\n{log.read_text()}"
                )
            time.sleep(0.1)

    try:
        yield start
    finally:
        for served in started:
            served.http.close()
            if served.proc.poll() is None:
                served.proc.terminate()
                try:
                    served.proc.wait(15)
                except subprocess.TimeoutExpired:
                    served.proc.kill()
                    served.proc.wait()


@pytest.mark.slow
def test_nbtrack_serve_a_runs_uri_over_http(serve_cli: Any, iris: Any, free_port: int) -> None:
    served = serve_cli(iris.uri, "--tracking-uri", iris.tracking_uri, port=free_port)
    assert served.post(iris.split()).json() == {"predictions": [0]}
    assert served.post(iris.split(iris.setosa, [6.7, 3.0, 5.2, 2.3])).json() == {
        "predictions": [0, 2]
    }
    assert served.http.get("/version").text == nbt.__version__
    assert served.http.get("/metadata").json()["run_id"] == iris.model.metadata.run_id
    # Binds 127.0.0.1 only, unless told otherwise.
    listening = [
        c.laddr
        for c in psutil.Process(served.proc.pid).net_connections()
        if c.status == psutil.CONN_LISTEN
    ]
    assert [(a.ip, a.port) for a in listening] == [("127.0.0.1", free_port)]


@pytest.mark.slow
def test_nbtrack_serve_answers_bad_requests_and_keeps_serving(
    serve_cli: Any, iris: Any, free_port: int
) -> None:
    served = serve_cli(iris.folder, "--max-body-bytes", "2000", port=free_port)
    json_type = {"Content-Type": "application/json"}
    no_sepal_length = {"columns": iris.columns[1:], "data": [iris.setosa[1:]]}
    cases = [
        ({"content": b"{", "headers": json_type}, 400, "not valid JSON"),
        ({"json": {"dataframe_split": no_sepal_length}}, 400, "'sepal length (cm)'"),
        ({"json": iris.split(["x", 1, 1, 1])}, 400, "cannot convert value 'x'"),
        ({"content": b"1,2", "headers": {"Content-Type": "text/html"}}, 415, "'text/html'"),
        ({"json": iris.split(*[iris.setosa] * 200)}, 413, "limit of 2,000 bytes"),
    ]
    for request, status, named in cases:
        response = served.http.post("/invocations", **request)
        assert response.status_code == status, response.text
        assert response.json()["error_code"] == "BAD_REQUEST"
        assert named in response.json()["message"]
        assert served.post(iris.split()).json() == {"predictions": [0]}
    assert served.proc.poll() is None


@pytest.mark.slow
def test_nbtrack_serve_with_two_workers(serve_cli: Any, iris: Any, free_port: int) -> None:
    served = serve_cli(iris.folder, "--workers", "2", port=free_port)

    def listening_workers() -> list[psutil.Process]:
        # uvicorn's workers are multiprocessing children (spawn_main), beside
        # multiprocessing's resource tracker; each listens on the shared socket.
        found = []
        for child in psutil.Process(served.proc.pid).children(recursive=True):
            try:
                if "spawn_main" not in " ".join(child.cmdline()):
                    continue
                ports = {c.laddr.port for c in child.net_connections() if c.status == "LISTEN"}
            except psutil.NoSuchProcess:
                continue
            if free_port in ports:
                found.append(child)
        return found

    deadline = time.monotonic() + _START_DEADLINE_S
    while len(listening_workers()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = listening_workers()
    assert len(workers) == 2
    # A fresh connection per request, so that the kernel hands them to either worker.
    for _ in range(20):
        with httpx.Client(base_url=served.url, timeout=30.0) as fresh:
            assert fresh.post("/invocations", json=iris.split()).json() == {"predictions": [0]}
    assert all(p.is_running() for p in workers)


def test_nbtrack_serve_refuses_a_bad_uri_with_one_line() -> None:
    result = CliRunner().invoke(cli, ["serve", "/no/such/model"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "Error: No model at '/no/such/model': the path does not exist"
    ]
    result = CliRunner().invoke(cli, ["serve", "s3://bucket/model"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "Unsupported model URI 's3://bucket/model'" in result.stderr


def test_nbtrack_serve_help_says_it_binds_localhost() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "127.0.0.1" in result.stdout
    assert "--workers" in result.stdout
    assert "--max-body-bytes" in result.stdout


# --- nbt.serve(): the same server in a background thread --------------------------------


def test_nbt_serve_a_loaded_model_in_the_background(iris: Any) -> None:
    with nbt.serve(iris.model) as server:
        assert isinstance(server, ModelServer)
        assert server.url.startswith("http://127.0.0.1:")
        assert server.running
        response = httpx.post(f"{server.url}/invocations", json=iris.split(), timeout=30.0)
        assert response.json() == {"predictions": [0]}
        bad = httpx.post(f"{server.url}/invocations", json={"inputs": "x", "params": 1})
        assert bad.status_code == 400
        assert httpx.get(f"{server.url}/ping").status_code == 200
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/ping", timeout=5.0)
    server.stop()  # idempotent
    assert "stopped" in repr(server)


def test_nbt_serve_a_uri_on_a_chosen_port(iris: Any, free_port: int) -> None:
    server = nbt.serve(iris.uri, port=free_port)
    try:
        assert server.url == f"http://127.0.0.1:{free_port}"
        response = httpx.post(f"{server.url}/invocations", json=iris.split(), timeout=30.0)
        assert response.json() == {"predictions": [0]}
    finally:
        server.stop()


def test_nbt_serve_a_raw_estimator_with_an_input_example() -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    estimator = LogisticRegression(max_iter=500).fit(X, y)
    with nbt.serve(estimator, input_example=X[:3]) as server:
        meta = httpx.get(f"{server.url}/metadata", timeout=30.0).json()
        assert [c["name"] for c in meta["signature"]["inputs"]] == list(X.columns)
        body = {"dataframe_split": {"columns": list(X.columns)[:2], "data": [[5.1, 3.5]]}}
        missing = httpx.post(f"{server.url}/invocations", json=body, timeout=30.0)
        assert missing.status_code == 400
        assert "'petal length (cm)'" in missing.json()["message"]
        temp_folder = Path(server.model.path)
        assert temp_folder.is_dir()
    assert not temp_folder.exists()


def test_nbt_serve_a_taken_port_raises(iris: Any) -> None:
    with nbt.serve(iris.model) as first, pytest.raises(OSError):
        nbt.serve(iris.model, port=first.port)


# --- %nbtrack serve ---------------------------------------------------------------------


@pytest.fixture
def ip(tracking_uri: str) -> Iterator[Any]:
    """IPython's in-process shell with nbtrack loaded."""
    from IPython.testing.globalipapp import get_ipython

    shell = get_ipython()
    shell.reset(new_session=False)
    shell.run_line_magic("load_ext", "nbtrack")
    try:
        yield shell
    finally:
        handle = shell.user_ns.get("nbtrack_server")
        if isinstance(handle, ModelServer):
            handle.stop()
        shell.run_line_magic("unload_ext", "nbtrack")
        shell.reset(new_session=False)


def test_nbtrack_serve_magic_keeps_the_handle_and_prints_the_url(
    ip: Any, iris: Any, capsys: Any
) -> None:
    from IPython.core.error import UsageError

    ip.run_line_magic("nbtrack", f"serve {iris.uri}")
    first = ip.user_ns["nbtrack_server"]
    out = capsys.readouterr().out
    assert f"{first.url}/invocations" in out
    assert "nbtrack_server.stop()" in out
    response = httpx.post(f"{first.url}/invocations", json=iris.split(), timeout=30.0)
    assert response.json() == {"predictions": [0]}
    # Running it again replaces the server instead of leaving the old one behind.
    ip.run_line_magic("nbtrack", f"serve {iris.folder}")
    assert not first.running
    assert ip.user_ns["nbtrack_server"].running
    with pytest.raises(UsageError, match="%nbtrack serve"):
        ip.run_line_magic("nbtrack", "serve /no/such/model")
    with pytest.raises(UsageError, match="usage"):
        ip.run_line_magic("nbtrack", "serve")
