"""The default metrics of ``nbt.evaluate``, per model type, computed with scikit-learn.

Names are MLflow's (``accuracy_score``, ``f1_score``, ``roc_auc``,
``root_mean_squared_error``…) so that dashboards and thresholds written for
``mlflow.evaluate`` read the same keys. Multiclass scores are averaged with
``weighted`` as MLflow does; binary ones score the positive (larger) label.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EvaluationMetric",
    "classifier_metrics",
    "make_metric",
    "regressor_metrics",
    "text_metrics",
]


@dataclass(frozen=True)
class EvaluationMetric:
    """A custom metric: ``fn(predictions, targets)`` returning a number or one value per row.

    A per-row result adds a column to the results table and logs its mean.
    """

    name: str
    fn: Callable[[Any, Any], Any]
    greater_is_better: bool = True

    def compute(self, predictions: Any, targets: Any) -> tuple[float, list[float] | None]:
        """Return the aggregate value and, for per-row metrics, the row values."""
        import numpy as np

        value = self.fn(predictions, targets)
        array = np.asarray(value, dtype=float)
        if array.ndim == 0:
            return float(array), None
        if len(array) != len(predictions):
            raise ValueError(
                f"Metric {self.name!r} returned {len(array)} values for {len(predictions)} rows"
            )
        return float(np.nanmean(array)), array.tolist()


def make_metric(
    fn: Callable[[Any, Any], Any], greater_is_better: bool = True, name: str | None = None
) -> EvaluationMetric:
    """Make a custom metric from ``fn(predictions, targets)``.

    Parameters
    ----------
    fn:
        Returns a number (aggregate) or a sequence with one value per row.
    greater_is_better:
        Direction, used by thresholds against a baseline.
    name:
        The metric key; ``fn.__name__`` by default.
    """
    key = name or getattr(fn, "__name__", None)
    if not key or key == "<lambda>":
        raise ValueError("make_metric needs name= for a lambda or unnamed callable")
    return EvaluationMetric(key, fn, greater_is_better)


#: Direction of every default metric, for thresholds.
GREATER_IS_BETTER = {
    "accuracy_score": True,
    "precision_score": True,
    "recall_score": True,
    "f1_score": True,
    "log_loss": False,
    "roc_auc": True,
    "precision_recall_auc": True,
    "mean_absolute_error": False,
    "mean_squared_error": False,
    "root_mean_squared_error": False,
    "r2_score": True,
    "mean_absolute_percentage_error": False,
    "max_error": False,
    "exact_match": True,
    "similarity": True,
    "latency": False,
}


def classifier_metrics(
    targets: Any, predictions: Any, probabilities: Any, labels: Any
) -> dict[str, float]:
    """Accuracy, precision, recall, F1, and with probabilities log loss, ROC AUC and PR AUC."""
    from sklearn import metrics as m

    binary = len(labels) == 2
    average = "binary" if binary else "weighted"
    options: dict[str, Any] = {"average": average, "zero_division": 0}
    if binary:
        options["pos_label"] = labels[1]
    found = {
        "example_count": float(len(targets)),
        "accuracy_score": m.accuracy_score(targets, predictions),
        "precision_score": m.precision_score(targets, predictions, **options),
        "recall_score": m.recall_score(targets, predictions, **options),
        "f1_score": m.f1_score(targets, predictions, **options),
    }
    if binary:
        tn, fp, fn, tp = m.confusion_matrix(targets, predictions, labels=labels).ravel()
        found.update(true_negatives=tn, false_positives=fp, false_negatives=fn, true_positives=tp)
    if probabilities is not None:
        found["log_loss"] = m.log_loss(targets, probabilities, labels=labels)
        if binary:
            positive = probabilities[:, 1]
            found["roc_auc"] = m.roc_auc_score(targets == labels[1], positive)
            found["precision_recall_auc"] = m.average_precision_score(
                targets == labels[1], positive
            )
        else:
            found["roc_auc"] = m.roc_auc_score(
                targets, probabilities, multi_class="ovr", average="weighted", labels=labels
            )
            found["precision_recall_auc"] = m.average_precision_score(
                _one_hot(targets, labels), probabilities, average="weighted"
            )
    return {k: float(v) for k, v in found.items()}


def _one_hot(targets: Any, labels: Any) -> Any:
    import numpy as np

    return (np.asarray(targets)[:, None] == np.asarray(labels)[None, :]).astype(int)


def regressor_metrics(targets: Any, predictions: Any) -> dict[str, float]:
    """MAE, MSE, RMSE, R², MAPE, max error, and the targets' sum and mean."""
    import numpy as np
    from sklearn import metrics as m

    mse = m.mean_squared_error(targets, predictions)
    return {
        "example_count": float(len(targets)),
        "mean_absolute_error": float(m.mean_absolute_error(targets, predictions)),
        "mean_squared_error": float(mse),
        "root_mean_squared_error": math.sqrt(mse),
        "r2_score": float(m.r2_score(targets, predictions)),
        "mean_absolute_percentage_error": float(
            m.mean_absolute_percentage_error(targets, predictions)
        ),
        "max_error": float(m.max_error(targets, predictions)),
        "sum_on_target": float(np.sum(targets)),
        "mean_on_target": float(np.mean(targets)),
    }


def text_metrics(
    targets: Any, predictions: list[str], latencies_ms: list[float]
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Exact match (with targets), token counts and latency: aggregates and per-row columns."""
    tokens = [float(len(str(p).split())) for p in predictions]
    rows: dict[str, list[float]] = {"token_count": tokens, "latency": list(latencies_ms)}
    found = {
        "example_count": float(len(predictions)),
        "token_count": sum(tokens) / len(tokens) if tokens else 0.0,
        "latency": sum(latencies_ms) / len(latencies_ms) if latencies_ms else 0.0,
    }
    if targets is not None:
        matches = [
            float(str(p).strip() == str(t).strip())
            for p, t in zip(predictions, targets, strict=True)
        ]
        rows["exact_match"] = matches
        found["exact_match"] = sum(matches) / len(matches) if matches else 0.0
    return found, rows
