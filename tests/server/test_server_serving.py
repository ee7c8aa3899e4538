""" "Serve model" through the server extension: real scoring servers in child processes."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import tornado.httpclient
from sklearn.linear_model import LinearRegression

import nbtrack as nbt
from nbtrack.models.api import save_model

pytestmark = pytest.mark.slow


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with ``line`` v1: y = 2x + 1, a scikit-learn model logged to a run."""
    folder = tmp_path / "store"
    client = nbt.Client(str(folder))
    run_id = client.create_run(client.create_experiment("fit"), run_name="fit").info.run_id
    x = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    model = LinearRegression().fit(x, 2 * x["x"] + 1)
    save_model(model, tmp_path / "model", input_example=x.head(2))
    client.log_artifacts(run_id, str(tmp_path / "model"), "model")
    client.set_terminated(run_id)
    client.create_registered_model("line")
    client.create_model_version("line", f"runs:/{run_id}/model", run_id)
    client.flush()
    return folder


@pytest.fixture
def servers(jp_serverapp: Any) -> Iterator[Any]:
    """The extension's scoring servers, all stopped after the test whatever it did."""
    found = jp_serverapp.web_app.settings["nbtrack_servers"]
    yield found
    found.stop_all()


async def _call(jp_fetch: Any, *path: str, **kwargs: Any) -> tuple[int, Any]:
    try:
        response = await jp_fetch("nbtrack", "api", *path, **kwargs)
    except tornado.httpclient.HTTPClientError as error:
        assert error.response is not None
        return error.code, json.loads(error.response.body)
    return response.code, json.loads(response.body)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs: an exited child nobody reaped yet (a zombie) does not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    # A container's PID 1 may never reap orphans; their state letter is Z.
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def _score(url: str, rows: list[float]) -> Any:
    body = json.dumps({"dataframe_split": {"columns": ["x"], "data": [[r] for r in rows]}})
    request = urllib.request.Request(
        f"{url}/invocations", body.encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


async def test_serve_list_score_and_stop_a_model_version(jp_fetch: Any, servers: Any) -> None:
    code, served = await _call(
        jp_fetch, "serving", method="POST", body=json.dumps({"name": "line", "version": 1})
    )
    assert code == 200
    assert served["model_uri"] == "models:/line/1"
    assert served["url"].startswith("http://127.0.0.1:")
    assert served["invocations_url"] == served["url"] + "/invocations"
    predictions = _score(served["url"], [10.0, -1.0])["predictions"]
    assert predictions == pytest.approx([21.0, -1.0])

    # Serving it again answers with the same server instead of starting another.
    code, again = await _call(
        jp_fetch, "serving", method="POST", body=json.dumps({"name": "line", "version": "1"})
    )
    assert code == 200 and again["server_id"] == served["server_id"]
    code, listed = await _call(jp_fetch, "serving")
    assert code == 200
    assert [(s["name"], s["version"], s["url"]) for s in listed["servers"]] == [
        ("line", 1, served["url"])
    ]

    code, stopped = await _call(jp_fetch, "serving", served["server_id"], method="DELETE")
    assert code == 200 and stopped["stopped"]["server_id"] == served["server_id"]
    with pytest.raises(OSError):
        _score(served["url"], [1.0])
    assert (await _call(jp_fetch, "serving"))[1] == {"servers": []}
    assert not _alive(served["pid"])


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"name": "nope", "version": 1}, "nope"),
        ({"name": "line", "version": 7}, "models:/line/7"),
        ({"name": "line", "version": "x"}, "must be a version number"),
        ({"version": 1}, "'name'"),
    ],
)
async def test_serving_an_unknown_model_is_a_400_with_a_message(
    jp_fetch: Any, servers: Any, body: dict[str, Any], needle: str
) -> None:
    code, error = await _call(jp_fetch, "serving", method="POST", body=json.dumps(body))
    assert code == 400
    assert needle in error["message"]
    assert servers.list() == []


async def test_stopping_an_unknown_server_is_a_404(jp_fetch: Any, servers: Any) -> None:
    code, error = await _call(jp_fetch, "serving", "abc123", method="DELETE")
    assert code == 404 and "abc123" in error["message"]


async def test_serving_routes_need_the_token(
    jp_fetch: Any, jp_base_url: str, jp_http_port: int
) -> None:
    client = tornado.httpclient.AsyncHTTPClient()
    url = f"http://localhost:{jp_http_port}{jp_base_url}nbtrack/api/serving"
    for method, body in (("GET", None), ("POST", '{"name": "line", "version": 1}')):
        with pytest.raises(tornado.httpclient.HTTPClientError) as caught:
            await client.fetch(url, method=method, body=body)
        assert caught.value.code == 403, method


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_expected_errors_are_logged_as_one_warning_line(
    jp_fetch: Any, jp_serverapp: Any
) -> None:
    # Tornado logs handler exceptions on its application logger, which Jupyter
    # Server sends to its own log; a handler here sees exactly those records.
    records = _Records()
    logger = logging.getLogger("tornado.application")
    logger.addHandler(records)
    try:
        exp = json.loads((await jp_fetch("nbtrack", "api", "experiments")).body)["experiments"]
        code, _ = await _call(
            jp_fetch,
            "runs",
            params={"experiment_id": exp[0]["experiment_id"], "filter": "metrics.x <"},
        )
        assert code == 400
        code, _ = await _call(jp_fetch, "runs", "0" * 32)
        assert code == 404
    finally:
        logger.removeHandler(records)
    lines = [r.getMessage() for r in records.records]
    assert len(lines) == 2, lines
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in records.records)
    assert lines[0].startswith("400 GET ") and "position" in lines[0] and "\n" not in lines[0]
    assert lines[1].startswith("404 GET ") and "0000" in lines[1]


def test_a_scoring_server_ends_when_the_process_that_started_it_is_killed(
    store: Path, tmp_path: Path
) -> None:
    # The Jupyter server may die without running any cleanup (SIGKILL, OOM):
    # its scoring servers must not outlive it.
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time, nbtrack\n"
            "from nbtrack.server.serving import ModelServers\n"
            "servers = ModelServers(sys.argv[1])\n"
            "served = servers.start(nbtrack.Client(sys.argv[1]), 'line', 1)\n"
            "print(served.pid, served.url, flush=True)\n"
            "time.sleep(600)\n",
            str(store),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    pid_text, url = parent.stdout.readline().split()
    assert _score(url, [1.0])["predictions"] == pytest.approx([3.0])
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _alive(int(pid_text)):
        time.sleep(0.1)
    if _alive(int(pid_text)):
        os.kill(int(pid_text), signal.SIGKILL)
        pytest.fail("the scoring server outlived the process that started it")
    with pytest.raises(OSError):
        _score(url, [1.0])
