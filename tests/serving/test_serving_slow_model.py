"""A slow model does not stall the scoring server: predictions run off the event loop."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

import nbtrack as nbt
from nbtrack.serving.scorer import ArrayPath


class _Gate:
    """How the test holds a prediction in flight for as long as it likes."""

    armed = False
    started = threading.Event()
    release = threading.Event()


class SlowModel(BaseEstimator):  # type: ignore[misc]
    """A scikit-learn estimator whose predict blocks (like a model taking seconds a call).

    Float columns and a signature: it qualifies for the numpy fast path, the
    path that used to predict on the event loop. Served in this process
    (``nbt.serve``), so the class and its gate are this module's.
    """

    def fit(self, X: Any, y: Any = None) -> SlowModel:
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: Any) -> Any:
        if _Gate.armed:
            _Gate.started.set()
            _Gate.release.wait(timeout=120)  # bounds a hang only
        return np.zeros(len(X))


def test_ping_completes_while_a_predict_is_still_in_flight() -> None:
    X = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    _Gate.armed = False
    _Gate.started.clear()
    _Gate.release.clear()
    with nbt.serve(SlowModel().fit(X), input_example=X) as server:
        # The numpy fast path serves it: the path that predicted on the event loop.
        assert ArrayPath.for_model(server.model) is not None
        _Gate.armed = True
        answers: list[httpx.Response] = []
        done = threading.Event()

        def predict() -> None:
            body = {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, 3.0]]}}
            answers.append(httpx.post(f"{server.url}/invocations", json=body, timeout=120))
            done.set()

        caller = threading.Thread(target=predict, daemon=True)
        caller.start()
        try:
            assert _Gate.started.wait(timeout=60), "the prediction never started"
            # The prediction is blocked in the model; the server must still answer.
            ping = httpx.get(f"{server.url}/ping", timeout=60)
            assert ping.status_code == 200
            assert not done.is_set(), "ping only answered once the prediction had finished"
        finally:
            _Gate.release.set()
            caller.join(timeout=120)
            _Gate.armed = False
        assert answers[0].json() == {"predictions": [0.0]}
