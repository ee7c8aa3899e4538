"""XGBoost autologging with the real library: ``xgboost.train`` and the scikit-learn API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xgboost
from sklearn.datasets import load_iris

import nbtrack
from nbtrack.autologging import autolog, status


@pytest.fixture
def iris() -> tuple[Any, Any]:
    return load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(autouse=True)
def _autolog_off() -> Iterator[None]:
    yield
    autolog(disable=True)


def _runs(client: Any) -> list[Any]:
    return list(client.search_runs(["0"], order_by=["attributes.start_time ASC"]))


def test_fit_logs_params_metrics_early_stopping_importance_and_model(
    iris: tuple[Any, Any], client: Any, tmp_dir: Path
) -> None:
    X, y = iris
    autolog(frameworks=["xgboost"])
    assert status() == "on (xgboost)"
    model = xgboost.XGBClassifier(n_estimators=30, max_depth=2, early_stopping_rounds=3)
    returned = model.fit(X[::2], y[::2], eval_set=[(X[1::2], y[1::2])], verbose=False)
    assert returned is model

    (run,) = _runs(client)
    assert (run.info.run_name, run.info.status) == ("XGBClassifier", "FINISHED")
    assert run.data.tags["nbtrack.autolog"] == "xgboost"
    assert run.data.tags["estimator_class"] == "xgboost.sklearn.XGBClassifier"
    assert run.data.params["max_depth"] == "2"
    assert run.data.params["n_estimators"] == "30"
    assert run.data.params["training_data.shape"] == "(75, 4)"
    # One point per boosting round, equal to what XGBoost itself recorded.
    history = client.get_metric_history(run.info.run_id, "validation_0-mlogloss")
    expected = model.evals_result()["validation_0"]["mlogloss"]
    assert [m.step for m in history] == list(range(len(expected)))
    assert [m.value for m in history] == pytest.approx(expected)
    assert run.data.metrics["best_iteration"] == model.best_iteration
    assert run.data.metrics["stopped_iteration"] == len(expected) - 1

    # Importance: MLflow's JSON table, and a chart.
    paths = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"feature_importance_weight.json", "feature_importance_weight.svg", "model"} <= paths
    table = json.loads(
        Path(
            client.download_artifacts(
                run.info.run_id, "feature_importance_weight.json", tmp_dir / "dl"
            )
        ).read_text()
    )
    assert table == model.get_booster().get_score(importance_type="weight")
    svg = Path(tmp_dir / "dl" / "feature_importance_weight.svg")
    client.download_artifacts(run.info.run_id, "feature_importance_weight.svg", tmp_dir / "dl")
    assert svg.read_text().lstrip().startswith("<svg")

    # The estimator, in the xgboost flavor.
    uri = f"runs:/{run.info.run_id}/model"
    assert nbtrack.models.get_model_info(uri).flavors.keys() == {"python_function", "xgboost"}
    assert (nbtrack.load_model(uri).predict(X) == model.predict(X)).all()
    restored = nbtrack.xgboost.load_model(uri)
    assert type(restored) is xgboost.XGBClassifier
    assert np.allclose(restored.predict_proba(X), model.predict_proba(X))


def test_native_train_logs_a_run_named_xgboost(iris: tuple[Any, Any], client: Any) -> None:
    X, y = iris
    autolog(frameworks=["xgboost"], log_models=False)
    data = xgboost.DMatrix(X, label=y)
    mine: dict[str, Any] = {}
    booster = xgboost.train(
        {"objective": "multi:softprob", "num_class": 3, "eta": 0.3},
        data,
        num_boost_round=4,
        evals=[(data, "train")],
        evals_result=mine,
        verbose_eval=False,
    )
    assert booster.num_boosted_rounds() == 4
    # The caller's own evals_result is still filled.
    assert len(mine["train"]["mlogloss"]) == 4
    (run,) = _runs(client)
    assert (run.info.run_name, run.info.status) == ("xgboost", "FINISHED")
    assert run.data.params["eta"] == "0.3"
    assert run.data.params["num_boost_round"] == "4"
    assert run.data.params["training_data.shape"] == "(150, 4)"
    assert "estimator_class" not in run.data.tags
    # One point per round; no model without log_models.
    history = client.get_metric_history(run.info.run_id, "train-mlogloss")
    assert [m.value for m in history] == pytest.approx(mine["train"]["mlogloss"])
    assert "model" not in {f.path for f in client.list_artifacts(run.info.run_id)}


def test_failed_training_fails_its_run_and_raises(iris: tuple[Any, Any], client: Any) -> None:
    X, y = iris
    autolog(frameworks=["xgboost"])
    with pytest.raises(xgboost.core.XGBoostError):
        xgboost.train({"objective": "no-such-objective"}, xgboost.DMatrix(X, label=y), 2)
    (run,) = _runs(client)
    assert run.info.status == "FAILED"
    assert nbtrack.active_run() is None


def test_disable_restores_every_original() -> None:
    import xgboost.sklearn
    import xgboost.training

    def current() -> dict[str, Any]:
        return {
            "train": xgboost.train,
            "training": xgboost.training.train,
            "sklearn": xgboost.sklearn.train,
            "classifier": xgboost.XGBClassifier.__dict__["fit"],
            "model": xgboost.XGBModel.__dict__["fit"],
        }

    originals = current()
    autolog(frameworks=["xgboost"])
    assert xgboost.train is not originals["train"]
    assert xgboost.sklearn.train is xgboost.train
    autolog(disable=True)
    assert current() == originals
