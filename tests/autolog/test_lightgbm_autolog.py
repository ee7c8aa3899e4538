"""LightGBM autologging with the real library: ``lightgbm.train`` and the sklearn API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightgbm
import lightgbm.engine
import lightgbm.sklearn
import numpy as np
import pytest
from sklearn.datasets import load_iris

import nbtrack
from nbtrack.autologging import autolog, status
from nbtrack.autologging.lightgbm import MODEL_ARTIFACT


@pytest.fixture
def iris() -> tuple[Any, Any]:
    return load_iris(return_X_y=True)


@pytest.fixture(autouse=True)
def _autolog_off() -> Iterator[None]:
    yield
    autolog(disable=True)


def _runs(client: Any) -> list[Any]:
    return list(client.search_runs(["0"], order_by=["attributes.start_time ASC"]))


def test_sklearn_api_fit_logs_params_metrics_per_iteration_and_model(
    iris: tuple[Any, Any], client: Any, tmp_dir: Path
) -> None:
    X, y = iris
    autolog(frameworks=["lightgbm"])
    assert status() == "on (lightgbm)"
    model = lightgbm.LGBMClassifier(n_estimators=5, num_leaves=7, verbose=-1)
    returned = model.fit(X, y, eval_X=(X[::2],), eval_y=(y[::2],))
    assert returned is model

    (run,) = _runs(client)
    assert (run.info.run_name, run.info.status) == ("LGBMClassifier", "FINISHED")
    assert run.data.tags["nbtrack.autolog"] == "lightgbm"
    assert run.data.tags["estimator_class"] == "lightgbm.sklearn.LGBMClassifier"
    assert run.data.params["n_estimators"] == "5"
    assert run.data.params["num_leaves"] == "7"
    assert run.data.params["training_data.shape"] == "(150, 4)"
    assert len(run.data.tags["training_data.digest"]) == 16
    history = client.get_metric_history(run.info.run_id, "valid_0-multi_logloss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    expected = model.evals_result_["valid_0"]["multi_logloss"]
    assert [m.value for m in history] == pytest.approx(expected)

    # The estimator, in the lightgbm flavor: loaded back as itself and as a pyfunc model.
    uri = f"runs:/{run.info.run_id}/{MODEL_ARTIFACT}"
    assert nbtrack.models.get_model_info(uri).flavors.keys() == {"python_function", "lightgbm"}
    assert (nbtrack.load_model(uri).predict(X) == model.predict(X)).all()
    restored = nbtrack.lightgbm.load_model(uri)
    assert np.allclose(restored.predict_proba(X), model.predict_proba(X))


def test_native_train_logs_a_run_named_lightgbm(iris: tuple[Any, Any], client: Any) -> None:
    X, y = iris
    autolog(frameworks=["lightgbm"], log_models=False)
    data = lightgbm.Dataset(X, label=y)
    valid = lightgbm.Dataset(X, label=y, reference=data)
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1, "learning_rate": 0.2}
    booster = lightgbm.train(
        params,
        data,
        num_boost_round=3,
        valid_sets=[valid],
        valid_names=["check set"],
        callbacks=[lightgbm.log_evaluation(period=0)],
    )
    assert booster.current_iteration() == 3
    (run,) = _runs(client)
    assert (run.info.run_name, run.info.status) == ("lightgbm", "FINISHED")
    assert run.data.params["learning_rate"] == "0.2"
    assert run.data.params["num_boost_round"] == "3"
    assert "estimator_class" not in run.data.tags
    # Set names become valid metric keys.
    assert len(client.get_metric_history(run.info.run_id, "check set-multi_logloss")) == 3
    assert [f.path for f in client.list_artifacts(run.info.run_id)] == []


def test_training_inside_an_active_run_logs_into_it(iris: tuple[Any, Any], client: Any) -> None:
    X, y = iris
    autolog(frameworks=["lightgbm"], log_models=False)
    with nbtrack.start_run(run_name="mine") as run:
        lightgbm.LGBMRegressor(n_estimators=2, verbose=-1).fit(X, y)
        assert nbtrack.active_run() is run
    (stored,) = _runs(client)
    assert stored.info.run_name == "mine" and stored.data.params["n_estimators"] == "2"


def test_failed_training_fails_its_run_and_raises(iris: tuple[Any, Any], client: Any) -> None:
    X, y = iris
    autolog(frameworks=["lightgbm"])
    with pytest.raises(lightgbm.basic.LightGBMError):
        lightgbm.train({"objective": "no-such-objective"}, lightgbm.Dataset(X, label=y))
    (run,) = _runs(client)
    assert run.info.status == "FAILED"
    assert nbtrack.active_run() is None


def test_disable_restores_every_original() -> None:
    originals = {
        "train": lightgbm.train,
        "engine": lightgbm.engine.train,
        "sklearn": lightgbm.sklearn.train,
        "classifier": lightgbm.LGBMClassifier.__dict__["fit"],
        "model": lightgbm.LGBMModel.__dict__["fit"],
    }
    autolog(frameworks=["lightgbm"])
    assert lightgbm.train is not originals["train"]
    assert lightgbm.sklearn.train is lightgbm.train
    autolog(disable=True)
    assert status() == "off"
    assert {
        "train": lightgbm.train,
        "engine": lightgbm.engine.train,
        "sklearn": lightgbm.sklearn.train,
        "classifier": lightgbm.LGBMClassifier.__dict__["fit"],
        "model": lightgbm.LGBMModel.__dict__["fit"],
    } == originals


def test_sklearn_autolog_does_not_patch_lightgbm_estimators() -> None:
    # LGBMClassifier subclasses sklearn's BaseEstimator, yet is not sklearn's own.
    fit = lightgbm.LGBMClassifier.__dict__["fit"]
    autolog(frameworks=["sklearn"])
    assert lightgbm.LGBMClassifier.__dict__["fit"] is fit
