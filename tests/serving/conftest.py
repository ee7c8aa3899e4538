"""Fixtures of the serving tests: models to serve, and a client of the app in-process.

- ``iris``: scikit-learn's LogisticRegression on iris, logged with
  ``nbt.log_model`` (signature from the input example) in a fresh store;
- ``ab_model``: a LogisticRegression on integer columns ``a`` and ``b``, the
  columns MLflow's own documentation uses in its request examples;
- ``describe_model``: a PythonModel that answers with what it received
  (type, columns, shape, params), to check what each payload becomes.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import nbtrack as nbt
from nbtrack.models.pyfunc import PyFuncModel, PythonModel

IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


@dataclass
class Iris:
    """The logged iris model: its runs:/ URI, local folder, store and loaded form.

    ``columns`` are its signature's; ``setosa`` the first flower (class 0).
    """

    uri: str
    folder: str
    tracking_uri: str
    model: PyFuncModel
    columns: list[str] = field(default_factory=lambda: list(IRIS_COLUMNS))
    setosa: list[float] = field(default_factory=lambda: [5.1, 3.5, 1.4, 0.2])

    def split(self, *rows: list[Any]) -> dict[str, Any]:
        """A ``dataframe_split`` body of ``rows`` (the setosa if none)."""
        return {"dataframe_split": {"columns": self.columns, "data": list(rows) or [self.setosa]}}


@pytest.fixture
def iris(tracking_uri: str) -> Iris:
    """LogisticRegression on iris, logged with its input example (hence its signature)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True, as_frame=True)
    with nbt.start_run():
        estimator = LogisticRegression(max_iter=500).fit(X, y)
        info = nbt.log_model(estimator, "model", input_example=X[:5])
    model = nbt.load_model(info.model_uri)
    return Iris(info.model_uri, model.path, tracking_uri, model)


@pytest.fixture
def ab_model(tmp_path: Path) -> PyFuncModel:
    """LogisticRegression fitted on integer columns ``a`` and ``b`` (class = a > b)."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"a": [1, 3, 5, 6, 2, 9, 0, 7], "b": [2, 4, 6, 1, 8, 3, 5, 2]})
    target = (frame["a"] > frame["b"]).astype(int)
    estimator = LogisticRegression().fit(frame, target)
    nbt.save_model(estimator, tmp_path / "ab", input_example=frame[:2])
    return nbt.load_model(tmp_path / "ab")


def describe(value: Any) -> Any:
    """A JSON-able description of one model input."""
    import numpy as np
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return {"frame": [str(c) for c in value.columns], "rows": len(value)}
    if isinstance(value, np.ndarray):
        return {"array": list(value.shape), "kind": value.dtype.kind}
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    return {"value": value}


class Describe(PythonModel):
    """Answers with a description of its input and the params it was given."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return {"input": describe(model_input), "params": params}


@pytest.fixture
def describe_model(tmp_path: Path) -> PyFuncModel:
    """A PythonModel without signature that describes what it receives."""
    nbt.save_model(Describe(), tmp_path / "describe")
    return nbt.load_model(tmp_path / "describe")


class InApp:
    """A synchronous face of ``httpx.AsyncClient`` over ``ASGITransport`` (no server, no port)."""

    def __init__(self, app: Any) -> None:
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://scoring"
        )
        self._loop = asyncio.new_event_loop()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request to the app and return its response."""
        return self._loop.run_until_complete(self._client.request(method, path, **kwargs))

    def get(self, path: str) -> httpx.Response:
        """``GET path``."""
        return self.request("GET", path)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        """``POST path`` with httpx's ``json=``, ``content=`` and ``headers=``."""
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        """Close the client and its loop."""
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@pytest.fixture
def in_app() -> Iterator[Any]:
    """``in_app(model, max_body_bytes=...)`` → an :class:`InApp` client of a new app."""
    from nbtrack.serving.app import MAX_BODY_BYTES, create_app

    clients: list[InApp] = []

    def make(model: PyFuncModel, max_body_bytes: int = MAX_BODY_BYTES) -> InApp:
        client = InApp(create_app(model, max_body_bytes))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
