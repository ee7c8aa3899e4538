"""``nbt.evaluate``: score a model on labelled data, log everything, show a report.

The model may be a ``PyFuncModel``, a model URI, a fitted estimator, or any
callable taking the features. Data is a DataFrame with a target column
(``targets="label"``), or features with ``targets`` as an array. Metrics,
charts (PNG + vega-lite JSON) and the per-row results table go to the active
run, or to a new run when none is active.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbtrack.errors import InvalidInput
from nbtrack.evaluation.metrics import (
    GREATER_IS_BETTER,
    EvaluationMetric,
    classifier_metrics,
    regressor_metrics,
    text_metrics,
)
from nbtrack.evaluation.result import EvaluationResult
from nbtrack.evaluation.thresholds import (
    ModelValidationFailed,
    Threshold,
    check_thresholds,
    validate_thresholds,
)

__all__ = ["MODEL_TYPES", "evaluate"]

MODEL_TYPES = ("classifier", "regressor", "text")


class _Model:
    """A uniform view of whatever was passed as the model."""

    def __init__(self, model: Any) -> None:
        from nbtrack.models.pyfunc import PyFuncModel, load_model

        if isinstance(model, str):
            model = load_model(model)
        self.inner = model.unwrap_python_model() if isinstance(model, PyFuncModel) else model
        self.model = model
        if not (hasattr(model, "predict") or callable(model)):
            raise InvalidInput(
                f"Cannot evaluate a {type(model).__name__}: pass a model with predict(), "
                "a model URI, or a callable"
            )

    def predict(self, features: Any) -> Any:
        if hasattr(self.model, "predict"):
            return self.model.predict(features)
        return self.model(features)

    def probabilities(self, features: Any) -> Any:
        method = getattr(self.inner, "predict_proba", None)
        if method is None:
            return None
        try:
            return method(features)
        except Exception:  # a model may expose predict_proba and still refuse to use it
            return None

    def predict_one(self, value: Any) -> str:
        """One text output: ``predict([value])[0]`` for models, ``model(value)`` for callables."""
        import numpy as np

        if hasattr(self.model, "predict"):
            return str(np.asarray(self.model.predict([value]), dtype=object).ravel()[0])
        return str(self.model(value))


def _split(data: Any, targets: Any) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        if isinstance(targets, str):
            if targets not in data.columns:
                columns = ", ".join(map(str, data.columns))
                raise InvalidInput(f"No target column {targets!r} in data; its columns: {columns}")
            return data.drop(columns=[targets]), data[targets].to_numpy()
        features = data
    else:
        features = data if isinstance(data, np.ndarray) else list(data)
        if isinstance(targets, str):
            raise InvalidInput(
                f"targets={targets!r} names a column, but data is not a DataFrame: "
                "pass the targets as an array"
            )
    if targets is None:
        return features, None
    values = np.asarray(targets)
    if len(values) != len(features):
        raise InvalidInput(f"data has {len(features)} rows but targets has {len(values)} values")
    return features, values


def _labels(targets: Any, predictions: Any, model: _Model) -> list[Any]:
    import numpy as np

    known = getattr(model.inner, "classes_", None)
    if known is not None:
        return list(known)
    return sorted(set(np.asarray(targets).tolist()) | set(np.asarray(predictions).tolist()))


def _score(
    model: _Model, features: Any, targets: Any, model_type: str, embedder: Any = None
) -> tuple[dict[str, float], dict[str, Any], dict[str, list[Any]]]:
    """Metrics, charts and per-row columns of one model."""
    import numpy as np

    from nbtrack.evaluation import plots

    charts: dict[str, Any] = {}
    if model_type == "text":
        if hasattr(features, "to_dict"):
            # One input column: its values; several (template variables): one dict per row.
            single = len(features.columns) == 1
            rows = features.iloc[:, 0].tolist() if single else features.to_dict("records")
        else:
            rows = list(features)
        outputs, latencies = [], []
        for row in rows:
            started = time.perf_counter()
            outputs.append(model.predict_one(row))
            latencies.append((time.perf_counter() - started) * 1000)
        metrics, columns = text_metrics(targets, outputs, latencies)
        if targets is not None and embedder is not None:
            from nbtrack.evaluation.similarity import similarities

            scores = similarities(embedder, outputs, [str(t) for t in targets])
            columns["similarity"] = scores
            metrics["similarity"] = sum(scores) / len(scores) if scores else 0.0
        return metrics, charts, {"outputs": outputs, **columns}
    predictions = np.asarray(model.predict(features)).ravel()
    if targets is None:
        raise InvalidInput(f"A {model_type} evaluation needs targets")
    if len(predictions) != len(targets):
        raise InvalidInput(
            f"The model returned {len(predictions)} predictions for {len(targets)} rows"
        )
    if model_type == "regressor":
        metrics = regressor_metrics(targets, predictions)
        charts["residuals"] = plots.residuals_chart(targets, predictions)
        charts["predicted_vs_actual"] = plots.predicted_vs_actual_chart(targets, predictions)
        return metrics, charts, {"prediction": predictions.tolist()}
    labels = _labels(targets, predictions, model)
    probabilities = model.probabilities(features)
    metrics = classifier_metrics(targets, predictions, probabilities, labels)
    charts["confusion_matrix"] = plots.confusion_matrix_chart(targets, predictions, labels)
    if probabilities is not None:
        charts["roc_curve"] = plots.roc_chart(targets, probabilities, labels)
        charts["precision_recall_curve"] = plots.pr_chart(targets, probabilities, labels)
        if len(labels) == 2:
            charts["calibration_curve"] = plots.calibration_chart(targets, probabilities, labels)
    return metrics, charts, {"prediction": predictions.tolist()}


def _log(
    metrics: dict[str, float], charts: dict[str, Any], table: Any, run_name: str | None
) -> tuple[str, dict[str, str]]:
    import vl_convert

    from nbtrack.tracking import fluent

    started = fluent.active_run() is None
    run = fluent.start_run(run_name=run_name or "evaluation") if started else fluent.active_run()
    assert run is not None
    artifacts: dict[str, str] = {}
    try:
        fluent.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for name, chart in charts.items():
                spec = chart.to_json()
                (folder / f"{name}.vl.json").write_text(spec)
                (folder / f"{name}.png").write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
                artifacts[name] = f"eval/{name}.png"
            fluent.log_artifacts(str(folder), "eval")
        fluent.log_table(table, "eval/eval_results_table.json")
        artifacts["eval_results_table"] = "eval/eval_results_table.json"
    finally:
        if started:
            fluent.end_run()
    return run.info.run_id, artifacts


def _inputs_table(features: Any) -> Any:
    """The inputs as the first columns of the results table."""
    import numpy as np
    import pandas as pd

    if isinstance(features, pd.DataFrame):
        return features.reset_index(drop=True)
    array = features if isinstance(features, np.ndarray) else np.asarray(features, dtype=object)
    if array.ndim == 2:
        return pd.DataFrame(array, columns=[f"feature_{i}" for i in range(array.shape[1])])
    return pd.DataFrame({"input": list(features)})


def evaluate(
    model: Any,
    data: Any,
    targets: Any = None,
    model_type: str = "classifier",
    extra_metrics: Sequence[EvaluationMetric] | None = None,
    baseline_model: Any = None,
    thresholds: dict[str, Threshold] | None = None,
    run_name: str | None = None,
    embedder: Any = None,
) -> EvaluationResult:
    """Evaluate ``model`` on ``data``, log the results, and return a report.

    Parameters
    ----------
    model:
        A ``PyFuncModel``, a model URI, a fitted estimator, or a callable.
    data:
        A DataFrame (with the target column when ``targets`` names it), an
        array, or a list of inputs.
    targets:
        The target column's name, or the targets as an array (optional for text).
    model_type:
        ``"classifier"``, ``"regressor"`` or ``"text"``.
    extra_metrics:
        Metrics made with :func:`nbtrack.make_metric`.
    baseline_model:
        A model to compare with; its metrics go in ``baseline_metrics``.
    thresholds:
        ``{metric: Threshold(...)}``; missed ones raise after logging.
    run_name:
        The name of the run made when none is active.
    embedder:
        For text: ``texts -> vectors`` (e.g. ``nbt.evaluation.OpenAIEmbeddings``)
        to score outputs' similarity to the references; by default
        all-MiniLM-L6-v2 when sentence-transformers has it locally.

    Returns
    -------
    EvaluationResult
        Displays as a report in a notebook.

    Raises
    ------
    InvalidInput
        An unknown model type, a missing target column, mismatched lengths,
        or a threshold on a metric that was not computed.
    ModelValidationFailed
        A threshold was missed; the message lists every miss.
    """

    if model_type not in MODEL_TYPES:
        raise InvalidInput(
            f"Unknown model_type {model_type!r}; use one of {', '.join(MODEL_TYPES)}"
        )
    if thresholds is not None:
        # Every input check comes before anything is logged.
        thresholds = validate_thresholds(thresholds, baseline_model is not None)
    features, target_values = _split(data, targets)
    candidate = _Model(model)
    if model_type == "text" and embedder is None and target_values is not None:
        from nbtrack.evaluation.similarity import default_embedder

        embedder = default_embedder()
    metrics, charts, columns = _score(candidate, features, target_values, model_type, embedder)
    directions = dict(GREATER_IS_BETTER)
    table = _inputs_table(features)
    if target_values is not None:
        table["target"] = target_values
    predictions = columns.get("prediction", columns.get("outputs"))
    for name, values in columns.items():
        table[name] = values
    for metric in extra_metrics or []:
        try:
            value, per_row = metric.compute(predictions, target_values)
        except Exception as exc:
            raise InvalidInput(f"Metric {metric.name!r} failed: {exc}") from exc
        metrics[metric.name] = value
        directions[metric.name] = metric.greater_is_better
        if per_row is not None:
            table[metric.name] = per_row
    baseline_metrics = None
    if baseline_model is not None:
        baseline_metrics, _, base_columns = _score(
            _Model(baseline_model), features, target_values, model_type, embedder
        )
        base_predictions = base_columns.get("prediction", base_columns.get("outputs"))
        for metric in extra_metrics or []:
            baseline_metrics[metric.name] = metric.compute(base_predictions, target_values)[0]
    if thresholds:
        # Refuse thresholds on unknown metrics before anything is logged.
        unknown = sorted(set(thresholds) - set(metrics))
        if unknown:
            known = ", ".join(sorted(metrics))
            raise InvalidInput(f"Threshold on unknown metric {unknown[0]!r}; computed: {known}")
    run_id, artifacts = _log(metrics, charts, table, run_name)
    result = EvaluationResult(
        metrics=metrics,
        run_id=run_id,
        model_type=model_type,
        baseline_metrics=baseline_metrics,
        charts=charts,
        tables={"eval_results_table": table},
        artifacts=artifacts,
    )
    if thresholds:
        failures = check_thresholds(thresholds, metrics, baseline_metrics, directions)
        if failures:
            raise ModelValidationFailed(failures)
    return result
