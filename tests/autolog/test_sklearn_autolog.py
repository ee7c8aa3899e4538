"""sklearn autologging: runs from ``fit``, child runs for searches, exact restore, import hooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import nbtrack
from nbtrack.autologging import autolog, status
from nbtrack.errors import NbtrackWarning


@pytest.fixture(autouse=True)
def _autolog_off() -> Iterator[None]:
    yield
    autolog(disable=True)


@pytest.fixture
def iris() -> tuple[Any, Any]:
    return load_iris(return_X_y=True)


def _runs(client: nbtrack.Client) -> list[Any]:
    runs = client.search_runs(["0"], order_by=["attributes.start_time ASC"])
    return list(runs)


def test_fit_logs_params_metrics_data_and_a_loadable_model(
    client: nbtrack.Client, iris: tuple[Any, Any]
) -> None:
    X, y = iris
    autolog()
    model = LogisticRegression(max_iter=300, C=0.5)
    assert model.fit(X, y) is model
    (run,) = _runs(client)
    assert run.info.status == "FINISHED" and run.info.run_name == "LogisticRegression"
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["C"] == "0.5" and params["max_iter"] == "300"
    assert params["training_data.shape"] == "(150, 4)"
    assert len(tags["training_data.digest"]) == 16
    assert tags["estimator_name"] == "LogisticRegression"
    assert tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
    for key in ("training_score", "training_accuracy", "training_f1", "training_precision"):
        assert 0.9 < metrics[key] <= 1.0
    assert metrics["training_score"] == pytest.approx(model.score(X, y))
    loaded = nbtrack.load_model(f"runs:/{run.info.run_id}/model")
    assert (loaded.predict(X[:10]) == model.predict(X[:10])).all()


def test_regressor_metrics_and_no_model(client: nbtrack.Client, iris: tuple[Any, Any]) -> None:
    from sklearn.linear_model import Ridge

    X, y = iris
    autolog(log_models=False)
    Ridge().fit(X, y.astype(float))
    (run,) = _runs(client)
    assert set(run.data.metrics) >= {"training_mse", "training_rmse", "training_mae", "training_r2"}
    assert run.data.metrics["training_rmse"] == pytest.approx(
        run.data.metrics["training_mse"] ** 0.5
    )
    assert client.list_artifacts(run.info.run_id) == []


def test_training_metrics_match_sklearn_metrics() -> None:
    import numpy as np
    from sklearn import metrics

    from nbtrack.autologging.sklearn import _classifier_metrics, _regressor_metrics

    rng = np.random.default_rng(0)
    y = rng.choice(["a", "b", "c"], 200)
    predicted = rng.choice(["a", "b", "d"], 200)  # "c" never predicted, "d" never true
    fast = _classifier_metrics(y, predicted)
    assert fast["training_accuracy"] == pytest.approx(metrics.accuracy_score(y, predicted))
    for name, function in (
        ("training_f1", metrics.f1_score),
        ("training_precision", metrics.precision_score),
        ("training_recall", metrics.recall_score),
    ):
        expected = function(y, predicted, average="weighted", zero_division=0)
        assert fast[name] == pytest.approx(expected)
    target, guess = rng.normal(size=50), rng.normal(size=50)
    fast = _regressor_metrics(target, guess)
    assert fast["training_mse"] == pytest.approx(metrics.mean_squared_error(target, guess))
    assert fast["training_mae"] == pytest.approx(metrics.mean_absolute_error(target, guess))
    assert fast["training_r2"] == pytest.approx(metrics.r2_score(target, guess))
    assert _regressor_metrics(np.ones(3), np.ones(3))["training_r2"] == 1.0


def test_pipeline_makes_one_run(client: nbtrack.Client, iris: tuple[Any, Any]) -> None:
    X, y = iris
    autolog(log_models=False)
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(X, y)
    (run,) = _runs(client)
    assert run.info.run_name == "Pipeline"
    assert "steps" in run.data.params and "training_accuracy" in run.data.metrics


def test_grid_search_logs_parent_and_one_child_per_candidate(
    client: nbtrack.Client, iris: tuple[Any, Any]
) -> None:
    X, y = iris
    autolog(log_models=False)
    search = GridSearchCV(LogisticRegression(max_iter=300), {"C": [0.1, 1.0, 10.0]}, cv=3)
    search.fit(X, y)
    runs = _runs(client)
    parents = [r for r in runs if "nbtrack.parent_run_id" not in r.data.tags]
    children = [r for r in runs if "nbtrack.parent_run_id" in r.data.tags]
    (parent,) = parents
    assert parent.info.run_name == "GridSearchCV"
    assert parent.data.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert len(children) == 3
    assert {c.data.tags["nbtrack.parent_run_id"] for c in children} == {parent.info.run_id}
    assert sorted(c.data.params["C"] for c in children) == ["0.1", "1.0", "10.0"]
    for child in children:
        assert {"mean_test_score", "std_test_score", "rank_test_score"} <= set(child.data.metrics)
        assert child.info.status == "FINISHED"


def test_fit_inside_an_active_run_logs_into_it(
    client: nbtrack.Client, iris: tuple[Any, Any]
) -> None:
    X, y = iris
    autolog(log_models=False)
    with nbtrack.start_run(run_name="mine") as run:
        LogisticRegression(max_iter=300).fit(X, y)
        LogisticRegression(max_iter=300, C=2.0).fit(X, y)  # params stay the first fit's
        assert nbtrack.active_run() is not None
    (logged,) = _runs(client)
    assert logged.info.run_id == run.info.run_id and logged.info.run_name == "mine"
    assert logged.data.params["C"] == "1.0"
    assert logged.data.tags["estimator_name"] == "LogisticRegression"
    assert "training_score" in logged.data.metrics


def test_failing_fit_leaves_a_failed_run_and_the_users_error(
    client: nbtrack.Client, iris: tuple[Any, Any]
) -> None:
    X, y = iris
    bad = X.copy()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError) as plain:
        LogisticRegression().fit(bad, y)
    autolog()
    with pytest.raises(ValueError) as logged:
        LogisticRegression().fit(bad, y)
    assert type(logged.value) is type(plain.value)
    assert str(logged.value) == str(plain.value)
    (run,) = _runs(client)
    assert run.info.status == "FAILED"
    assert nbtrack.active_run() is None


def test_disable_restores_every_original(iris: tuple[Any, Any], tracking_uri: str) -> None:
    import sklearn.metrics

    originals = {cls: cls.fit for cls in (LogisticRegression, Pipeline, GridSearchCV)}
    accuracy = sklearn.metrics.accuracy_score
    autolog()
    # LightGBM, also installed, is on too (or waits for its import).
    assert status().startswith("on (sklearn, lightgbm")
    assert all(cls.fit is not fit for cls, fit in originals.items())
    assert sklearn.metrics.accuracy_score is not accuracy
    autolog(disable=True)
    assert status() == "off"
    assert all(cls.fit is fit for cls, fit in originals.items())
    assert sklearn.metrics.accuracy_score is accuracy


def test_metric_calls_after_the_fit_are_logged_to_its_run(
    client: nbtrack.Client, iris: tuple[Any, Any]
) -> None:
    import sklearn.metrics

    X, y = iris
    autolog(log_models=False)
    model = LogisticRegression(max_iter=300).fit(X, y)
    first = sklearn.metrics.accuracy_score(y, model.predict(X))
    second = sklearn.metrics.accuracy_score(y[:50], model.predict(X[:50]))
    report = sklearn.metrics.confusion_matrix(y, model.predict(X))  # not a scoring function
    assert report.shape == (3, 3)
    (run,) = _runs(client)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["accuracy_score"] == pytest.approx(first)
    assert run.data.metrics["accuracy_score-2"] == pytest.approx(second)


def test_internal_error_is_one_warning_and_the_fit_is_untouched(
    client: nbtrack.Client, iris: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbtrack.autologging import sklearn as sk

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(sk, "_log_fit", broken)
    X, y = iris
    autolog()
    model = LogisticRegression(max_iter=300)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert model.fit(X, y) is model
    assert [w.category for w in caught] == [NbtrackWarning]
    assert "disk full" in str(caught[0].message)
    assert hasattr(model, "coef_")
    (run,) = _runs(client)
    assert run.info.status == "FINISHED" and nbtrack.active_run() is None
    autolog(silent=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    assert caught == []


def test_over_long_params_are_truncated_with_a_note(client: nbtrack.Client) -> None:
    import numpy as np

    from nbtrack.errors import NbtrackWarning

    autolog(log_models=False)
    with pytest.warns(NbtrackWarning, match="Param 'kw_args' has a value of"):
        FunctionTransformer(kw_args={"text": "x" * 7000}).fit(np.ones((3, 2)))
    (run,) = _runs(client)
    value = run.data.params["kw_args"]
    assert len(value) == 6000 and value.endswith("(truncated by nbtrack)")


def test_dataframe_training_data_is_logged_as_an_input(
    client: nbtrack.Client, iris: tuple[Any, Any]
) -> None:
    import pandas as pd

    X, y = iris
    autolog(log_models=False)
    LogisticRegression(max_iter=300).fit(pd.DataFrame(X, columns=list("abcd")), y)
    (found,) = _runs(client)
    (dataset_input,) = client.get_run(found.info.run_id).inputs.dataset_inputs
    assert dataset_input.dataset.name == "training_data"
    assert json.loads(dataset_input.dataset.profile)["num_rows"] == 150


def test_unknown_framework_is_refused() -> None:
    with pytest.raises(nbtrack.InvalidInput, match=r"'torch'.*sklearn"):
        autolog(frameworks=["torch"])


@pytest.mark.slow
def test_sklearn_imported_after_autolog_is_patched_on_import(tmp_dir: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        import nbtrack
        from nbtrack.autologging import autolog, status
        autolog(log_models=False)
        assert "sklearn" not in sys.modules and "lightgbm" not in sys.modules
        expected = "on (lightgbm (on import), sklearn (on import), xgboost (on import))"
        assert status() == expected, status()
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression
        assert status() == "on (sklearn, lightgbm (on import), xgboost (on import))", status()
        X, y = load_iris(return_X_y=True)
        LogisticRegression(max_iter=300).fit(X, y)
        run = nbtrack.last_active_run()
        print(run.info.run_name, run.info.status, run.data.params["C"])
        """
    )
    env = {**os.environ, "NBTRACK_TRACKING_URI": str(tmp_dir / "store")}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["LogisticRegression", "FINISHED", "1.0"]


@pytest.mark.kernel
@pytest.mark.slow
def test_track_autolog_in_a_real_kernel(tmp_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ipykernel  # noqa: F401  (the kernel the notebook runs in)
    import nbclient
    import nbformat

    cells = [
        "%load_ext nbtrack",
        "%track_autolog on",
        "from sklearn.datasets import load_iris\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "X, y = load_iris(return_X_y=True)",
        "model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)\n"
        "from sklearn.metrics import accuracy_score\n"
        "accuracy_score(y, model.predict(X))",
        "%nbtrack status",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    store = tmp_dir / "store"
    monkeypatch.setenv("NBTRACK_TRACKING_URI", str(store))
    nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_dir)}}
    ).execute()
    status_text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "autolog: on (sklearn, lightgbm (on import), xgboost (on import))" in status_text
    client = nbtrack.Client(str(store))
    (run,) = _runs(client)
    assert (run.info.run_name, run.info.status) == ("Pipeline", "FINISHED")
    assert run.data.metrics["accuracy_score"] == pytest.approx(run.data.metrics["training_score"])
    assert "model" in [f.path for f in client.list_artifacts(run.info.run_id)]
