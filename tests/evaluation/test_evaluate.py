"""``nbt.evaluate``: numbers checked against scikit-learn, what is logged, thresholds, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as m
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split

import nbtrack as nbt
from nbtrack.errors import InvalidInput
from nbtrack.evaluation import ModelValidationFailed


@pytest.fixture
def store(tmp_dir: Path) -> nbt.Client:
    nbt.set_tracking_uri(str(tmp_dir / "store"))
    return nbt.Client()


def _split(loader: Any) -> tuple[Any, Any, Any, Any]:
    X, y = loader(return_X_y=True, as_frame=True)
    return train_test_split(X, y, random_state=0)


def test_binary_classifier_metrics_plots_and_table(store: nbt.Client) -> None:
    X_train, X_test, y_train, y_test = _split(load_breast_cancer)
    model = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    result = nbt.evaluate(model, X_test.assign(target=y_test), targets="target")

    predicted = model.predict(X_test)
    proba = model.predict_proba(X_test)[:, 1]
    expected = {
        "accuracy_score": m.accuracy_score(y_test, predicted),
        "precision_score": m.precision_score(y_test, predicted),
        "recall_score": m.recall_score(y_test, predicted),
        "f1_score": m.f1_score(y_test, predicted),
        "log_loss": m.log_loss(y_test, model.predict_proba(X_test)),
        "roc_auc": m.roc_auc_score(y_test, proba),
        "precision_recall_auc": m.average_precision_score(y_test, proba),
    }
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value), name
    tn, fp, fn, tp = m.confusion_matrix(y_test, predicted).ravel()
    keys = ("true_negatives", "false_positives", "false_negatives", "true_positives")
    assert [result.metrics[k] for k in keys] == [tn, fp, fn, tp]

    run = store.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["f1_score"] == pytest.approx(expected["f1_score"])
    logged = {f.path for f in store.list_artifacts(result.run_id, "eval")}
    for chart in ("confusion_matrix", "roc_curve", "precision_recall_curve", "calibration_curve"):
        assert {f"eval/{chart}.png", f"eval/{chart}.vl.json"} <= logged
    local = Path(store.download_artifacts(result.run_id, "eval"))
    assert (local / "roc_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((local / "roc_curve.vl.json").read_text())["$schema"].startswith(
        "https://vega.github.io/schema/vega-lite/"
    )
    table = result.tables["eval_results_table"]
    assert len(table) == len(X_test)
    assert table["prediction"].tolist() == predicted.tolist()

    report = result._repr_html_()
    assert "<svg" in report and "f1_score" in report
    assert "<script" not in report


def test_multiclass_uses_weighted_averages(store: nbt.Client) -> None:
    X_train, X_test, y_train, y_test = _split(load_iris)
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    result = nbt.evaluate(model, X_test, targets=y_test.to_numpy())
    predicted = model.predict(X_test)
    assert result.metrics["f1_score"] == pytest.approx(
        m.f1_score(y_test, predicted, average="weighted")
    )
    assert result.metrics["roc_auc"] == pytest.approx(
        m.roc_auc_score(y_test, model.predict_proba(X_test), multi_class="ovr", average="weighted")
    )
    assert "calibration_curve" not in result.charts


def test_regressor_metrics_match_scikit_learn(store: nbt.Client) -> None:
    X_train, X_test, y_train, y_test = _split(load_diabetes)
    model = LinearRegression().fit(X_train, y_train)
    with nbt.start_run(run_name="outer") as run:
        result = nbt.evaluate(model, X_test.assign(y=y_test), targets="y", model_type="regressor")
    assert result.run_id == run.info.run_id  # logged to the active run
    predicted = model.predict(X_test)
    expected = {
        "mean_absolute_error": m.mean_absolute_error(y_test, predicted),
        "mean_squared_error": m.mean_squared_error(y_test, predicted),
        "root_mean_squared_error": np.sqrt(m.mean_squared_error(y_test, predicted)),
        "r2_score": m.r2_score(y_test, predicted),
        "mean_absolute_percentage_error": m.mean_absolute_percentage_error(y_test, predicted),
        "max_error": m.max_error(y_test, predicted),
    }
    for name, value in expected.items():
        assert result.metrics[name] == pytest.approx(value), name
    assert set(result.charts) == {"residuals", "predicted_vs_actual"}


def test_model_uri_pyfunc_and_callable_give_the_same_numbers(store: nbt.Client) -> None:
    X_train, X_test, y_train, y_test = _split(load_iris)
    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    with nbt.start_run():
        uri = nbt.log_model(model, "model", input_example=X_train[:3]).model_uri
    by_uri = nbt.evaluate(uri, X_test, targets=y_test.to_numpy())
    by_pyfunc = nbt.evaluate(nbt.load_model(uri), X_test, targets=y_test.to_numpy())
    by_callable = nbt.evaluate(model.predict, X_test, targets=y_test.to_numpy())
    assert by_uri.metrics == by_pyfunc.metrics
    assert by_uri.metrics["accuracy_score"] == by_callable.metrics["accuracy_score"]
    assert "log_loss" not in by_callable.metrics  # a bare callable has no probabilities


def test_thresholds_against_absolute_values_and_a_baseline(store: nbt.Client) -> None:
    X_train, X_test, y_train, y_test = _split(load_breast_cancer)
    strong = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    weak = LogisticRegression(max_iter=5000).fit(X_train.iloc[:, :2], y_train)
    data = X_test.assign(target=y_test)
    passed = nbt.evaluate(
        strong,
        data,
        targets="target",
        baseline_model=lambda frame: weak.predict(frame.iloc[:, :2]),
        thresholds={"accuracy_score": nbt.Threshold(min_absolute=0.9, min_relative_change=0.01)},
    )
    assert passed.baseline_metrics["accuracy_score"] < passed.metrics["accuracy_score"]
    with pytest.raises(ModelValidationFailed) as failed:
        nbt.evaluate(
            lambda frame: weak.predict(frame.iloc[:, :2]),
            data,
            targets="target",
            baseline_model=strong,
            thresholds={
                "accuracy_score": nbt.Threshold(min_absolute=0.99, min_relative_change=0.01),
                "f1_score": nbt.Threshold(min_absolute_change=0.0),
            },
        )
    failures = failed.value.failures
    assert len(failures) == 3
    assert failures[0].startswith("accuracy_score:") and "below min_absolute 0.99" in failures[0]
    assert "min_relative_change 1.00%" in failures[1]
    assert failures[2].startswith("f1_score:")
    with pytest.raises(InvalidInput, match="Threshold on unknown metric 'r2_score'"):
        nbt.evaluate(strong, data, targets="target", thresholds={"r2_score": nbt.Threshold(0.5)})
    with pytest.raises(InvalidInput, match="pass baseline_model="):
        nbt.evaluate(
            strong,
            data,
            targets="target",
            thresholds={"f1_score": nbt.Threshold(min_relative_change=0.1)},
        )


def test_custom_metrics_aggregate_and_per_row(store: nbt.Client) -> None:
    X_train, X_test, y_train, y_test = _split(load_diabetes)
    model = LinearRegression().fit(X_train, y_train)

    def within_10(predictions: Any, targets: Any) -> Any:
        return np.abs(np.asarray(predictions) - np.asarray(targets)) <= 10

    result = nbt.evaluate(
        model,
        X_test.assign(y=y_test),
        targets="y",
        model_type="regressor",
        extra_metrics=[
            nbt.make_metric(within_10),
            nbt.make_metric(lambda p, t: float(np.median(t)), name="median_target"),
        ],
    )
    expected = np.abs(model.predict(X_test) - y_test.to_numpy()) <= 10
    assert result.metrics["within_10"] == pytest.approx(expected.mean())
    assert (
        result.tables["eval_results_table"]["within_10"].tolist() == expected.astype(float).tolist()
    )
    assert result.metrics["median_target"] == pytest.approx(float(np.median(y_test)))
    with pytest.raises(ValueError, match="needs name= for a lambda"):
        nbt.make_metric(lambda p, t: 0.0)


def test_text_models(store: nbt.Client) -> None:
    import time

    def slow_upper(question: str) -> str:
        time.sleep(0.02)  # each call takes at least 20 ms: latency measures it
        return question.upper()

    data = pd.DataFrame({"question": ["a b", "c", "d e f"], "answer": ["A B", "x", "D E F"]})
    result = nbt.evaluate(slow_upper, data, targets="answer", model_type="text")
    assert result.metrics["exact_match"] == pytest.approx(2 / 3)
    assert result.metrics["token_count"] == pytest.approx(2.0)
    table = result.tables["eval_results_table"]
    assert min(table["latency"]) >= 20  # milliseconds, per row
    assert result.metrics["latency"] == pytest.approx(table["latency"].mean())
    assert table["outputs"].tolist() == ["A B", "C", "D E F"]
    assert table["exact_match"].tolist() == [1.0, 0.0, 1.0]


def test_bad_input_is_refused_before_anything_is_logged(store: nbt.Client) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    with pytest.raises(InvalidInput, match=r"No target column 'label' in data; its columns: sepal"):
        nbt.evaluate(model, X, targets="label")
    with pytest.raises(InvalidInput, match="data has 150 rows but targets has 3 values"):
        nbt.evaluate(model, X, targets=[0, 1, 2])
    with pytest.raises(InvalidInput, match="Unknown model_type 'ranker'"):
        nbt.evaluate(model, X, targets=y.to_numpy(), model_type="ranker")
    with pytest.raises(InvalidInput, match="Cannot evaluate a int"):
        nbt.evaluate(3, X, targets=y.to_numpy())
    with pytest.raises(InvalidInput, match="returned 1 predictions for 150 rows"):
        nbt.evaluate(lambda frame: [0], X, targets=y.to_numpy())
    relative = {"accuracy_score": nbt.Threshold(min_relative_change=0.1)}
    with pytest.raises(InvalidInput, match="pass baseline_model="):
        nbt.evaluate(model, X, targets=y.to_numpy(), thresholds=relative)
    with pytest.raises(InvalidInput, match=r"thresholds\['accuracy_score'\] must be a Threshold"):
        nbt.evaluate(model, X, targets=y.to_numpy(), thresholds={"accuracy_score": 0.9})
    assert store.search_runs(["0"]) == []
