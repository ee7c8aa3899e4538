"""Registering models and loading them back by ``models:/`` URIs (issue 4's example)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import nbtrack as nbt
import nbtrack.models as nbm
from nbtrack.errors import InvalidInput, NotFoundError


def test_the_issue_example_end_to_end(tracking_uri: str) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    with nbt.start_run() as run:
        model = LogisticRegression(max_iter=500).fit(X, y)
        info = nbm.log_model(model, "model", input_example=X[:5], registered_model_name="iris")
    assert info.registered_model_version == 1
    nbt.Client().set_registered_model_alias("iris", "champion", info.registered_model_version)
    m = nbm.load_model("models:/iris@champion")
    np.testing.assert_array_equal(m.predict(X[:3]), model.predict(X[:3]))

    version = nbt.Client().get_model_version("iris", 1)
    assert version.run_id == run.info.run_id
    assert version.source == f"runs:/{run.info.run_id}/model"
    assert version.aliases == ["champion"]


def test_every_models_uri_form_resolves(tracking_uri: str, tmp_path: Path) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    first = nbm.save_model(lambda df: np.zeros(len(df)), tmp_path / "zeros")
    assert first is not None
    clf = LogisticRegression(max_iter=500).fit(X, y)
    with nbt.start_run():
        info = nbm.log_model(clf, "model")
    client = nbt.Client()
    v1 = nbm.register_model(str(tmp_path / "zeros"), "iris", tags={"kind": "baseline"})
    v2 = nbm.register_model(info.model_uri, "iris")
    assert (v1.version, v2.version) == (1, 2)
    assert v1.tags == {"kind": "baseline"} and v2.run_id == info.run_id
    client.transition_model_version_stage("iris", 1, "production")

    def predict(uri: str) -> list[float]:
        return list(nbm.load_model(uri).predict(X[:2]))

    expected = list(clf.predict(X[:2]))
    assert predict("models:/iris/2") == expected
    assert predict("models:/iris/latest") == expected
    assert predict("models:/iris/Production") == [0.0, 0.0]
    assert predict("models:/iris/production") == [0.0, 0.0]
    client.set_registered_model_alias("iris", "champion", 2)
    assert predict("models:/iris@champion") == expected

    # Registering a models:/ URI registers its source again, under another name.
    copy = nbm.register_model("models:/iris@champion", "iris-copy")
    assert copy.source == info.model_uri and copy.run_id == info.run_id

    with pytest.raises(NotFoundError, match="no version 5"):
        nbm.load_model("models:/iris/5")
    with pytest.raises(NotFoundError, match="no alias 'gone'"):
        nbm.load_model("models:/iris@gone")
    with pytest.raises(NotFoundError, match="no version in stage 'Staging'"):
        nbm.load_model("models:/iris/Staging")
    with pytest.raises(InvalidInput, match="Invalid model version stage"):
        nbm.load_model("models:/iris/Champion")
    with pytest.raises(InvalidInput, match="Cannot read model URI"):
        nbm.load_model("models:/iris")


def test_log_model_refuses_a_bad_registered_name_before_saving(tracking_uri: str) -> None:
    with nbt.start_run() as run, pytest.raises(InvalidInput, match="cannot contain"):
        nbm.log_model(lambda x: x, "model", registered_model_name="a/b")
    assert nbt.list_artifacts(run.info.run_id) == []
