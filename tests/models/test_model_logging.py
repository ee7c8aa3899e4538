"""log_model into a run's artifacts, and load_model back through runs:/ URIs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import nbtrack as nbt
import nbtrack.models as nbm
from nbtrack.errors import InvalidInput, NotFoundError


def _iris():  # type: ignore[no-untyped-def]
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, LogisticRegression(max_iter=500).fit(X, y)


def test_log_model_and_load_by_runs_uri(tracking_uri: str, tmp_path: Path) -> None:
    X, clf = _iris()
    with nbt.start_run() as run:
        info = nbm.log_model(clf, "model", input_example=X[:5])
    run_id = run.info.run_id
    assert info.model_uri == f"runs:/{run_id}/model"
    assert (info.run_id, info.artifact_path) == (run_id, "model")
    assert "sklearn" in info.flavors and info.signature is not None
    assert len(info.model_uuid) == 32
    files = {f.path for f in nbt.list_artifacts(run_id, "model")}
    assert {"model/MLmodel", "model/model.pkl", "model/requirements.txt"} <= files

    loaded = nbm.load_model(info.model_uri, dst_path=str(tmp_path / "dl"))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.metadata.run_id == run_id
    assert loaded.metadata.artifact_path == "model"
    assert loaded.metadata.model_uuid == info.model_uuid

    (entry,) = json.loads(nbt.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert entry["run_id"] == run_id and entry["artifact_path"] == "model"
    assert entry["model_uuid"] == info.model_uuid and "sklearn" in entry["flavors"]


def test_history_accumulates_and_a_run_is_started_if_none(tracking_uri: str) -> None:
    _, clf = _iris()
    first = nbm.log_model(clf, "a")
    second = nbm.log_model(lambda x: x, "b/fn")
    assert first.run_id == second.run_id == nbt.active_run().info.run_id  # type: ignore[union-attr]
    nbt.end_run()
    history = json.loads(nbt.get_run(first.run_id).data.tags["mlflow.log-model.history"])
    assert [h["artifact_path"] for h in history] == ["a", "b/fn"]
    assert nbm.load_model(second.model_uri).predict(7) == 7


def test_log_model_bad_inputs(tracking_uri: str) -> None:
    _, clf = _iris()
    with nbt.start_run() as run:
        with pytest.raises(InvalidInput, match="cannot contain"):
            nbm.log_model(clf, "model", registered_model_name="bad:name")
        with pytest.raises(InvalidInput):
            nbm.log_model(clf, "../escape")
        with pytest.raises(InvalidInput, match="non-empty name"):
            nbm.log_model(clf, "")
        with pytest.raises(InvalidInput, match="Cannot save"):
            nbm.log_model(object(), "model")
    assert nbt.list_artifacts(run.info.run_id) == []
    assert "mlflow.log-model.history" not in nbt.get_run(run.info.run_id).data.tags
    with pytest.raises(NotFoundError):
        nbm.load_model(f"runs:/{run.info.run_id}/nothing-here")
    with pytest.raises(InvalidInput, match="run id"):
        nbm.load_model("runs:/")


def test_mlmodel_of_a_logged_model_names_run_and_path(tracking_uri: str, tmp_path: Path) -> None:
    _, clf = _iris()
    with nbt.start_run() as run:
        nbm.log_model(clf, "nested/model")
    local = nbt.download_artifacts(run.info.run_id, "nested/model", tmp_path)
    doc = yaml.safe_load((Path(local) / "MLmodel").read_text())
    assert doc["run_id"] == run.info.run_id and doc["artifact_path"] == "nested/model"
