"""``examples/export_and_serve.ipynb``: run in a kernel, exported, run as a project, served."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ipykernel  # noqa: F401  (the kernel the notebook runs in)
import nbclient
import nbformat
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet
from sklearn.model_selection import train_test_split

import nbtrack as nbt
from nbtrack.projects import export_mlproject, run_project
from nbtrack.projects.model_export import export_model

EXAMPLE = Path(__file__).parents[2] / "examples" / "export_and_serve.ipynb"

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_example_exports_runs_and_serves(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = tmp_dir / EXAMPLE.name
    shutil.copy(EXAMPLE, notebook)
    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    nb = nbformat.read(notebook, as_version=4)
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=180, resources={"metadata": {"path": str(tmp_dir)}}
    ).execute()  # its last cells serve the model in the kernel and check the answers
    client = nbt.Client(str(store))

    project = export_mlproject(notebook, tmp_dir / "project")
    assert [p.name for p in project.parameters] == ["alpha", "l1_ratio"]
    result = run_project(project.path, {"alpha": "0.1"}, experiment_name="proj", client=client)
    (train,) = client.search_runs(
        [client.get_experiment_by_name("proj").experiment_id], "attributes.run_name = 'train'"
    )
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    expected = ElasticNet(alpha=0.1, l1_ratio=0.1).fit(X_train, y_train)
    assert result.status == "FINISHED"
    assert train.data.metrics["r2"] == pytest.approx(expected.score(X_test, y_test))

    model_dir = export_model(notebook, tmp_dir / "model", model_var="model", client=client).path
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "nbtrack", "serve", str(model_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
                break
            except OSError:
                assert server.poll() is None, "nbtrack serve exited"
                assert time.monotonic() < deadline, "nbtrack serve never answered /ping"
                time.sleep(0.2)
        rows = X_test.head(3)
        body = json.dumps({"dataframe_split": rows.to_dict(orient="split")}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations", body, {"Content-Type": "application/json"}
        )
        served = json.loads(urllib.request.urlopen(request, timeout=10).read())["predictions"]
    finally:
        server.terminate()
        server.wait(timeout=10)
    notebook_model = ElasticNet(alpha=0.5, l1_ratio=0.1).fit(X_train, y_train)
    assert served == pytest.approx(notebook_model.predict(rows).tolist())
