"""Evaluation plots as altair charts: confusion matrix, ROC, PR, calibration, residuals.

Each function takes plain arrays and returns an ``altair.Chart``; curves are
computed with scikit-learn and thinned to at most a few hundred points so the
vega-lite JSON stays small for 10,000-row evaluations.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "calibration_chart",
    "confusion_matrix_chart",
    "pr_chart",
    "predicted_vs_actual_chart",
    "residuals_chart",
    "roc_chart",
]

_MAX_POINTS = 400
_SIZE = {"width": 260, "height": 220}


def _thin(frame: Any) -> Any:
    if len(frame) <= _MAX_POINTS:
        return frame
    step = len(frame) / _MAX_POINTS
    keep = sorted({int(i * step) for i in range(_MAX_POINTS)} | {len(frame) - 1})
    return frame.iloc[keep]


def confusion_matrix_chart(targets: Any, predictions: Any, labels: Any) -> Any:
    """Counts of true vs predicted labels, annotated."""
    import altair as alt
    import pandas as pd
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(targets, predictions, labels=labels)
    rows = [
        {"true": str(t), "predicted": str(p), "count": int(matrix[i, j])}
        for i, t in enumerate(labels)
        for j, p in enumerate(labels)
    ]
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x=alt.X("predicted:N", sort=[str(x) for x in labels]),
        y=alt.Y("true:N", sort=[str(x) for x in labels]),
    )
    heat = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(scheme="blues")))
    text = base.mark_text().encode(text="count:Q")
    return (heat + text).properties(title="Confusion matrix", **_SIZE)


def _curves(targets: Any, probabilities: Any, labels: Any, kind: str) -> Any:
    import numpy as np
    import pandas as pd
    from sklearn.metrics import precision_recall_curve, roc_curve

    classes = [labels[1]] if len(labels) == 2 else list(labels)
    parts = []
    for index, label in enumerate(classes):
        column = probabilities[:, 1 if len(labels) == 2 else index]
        truth = np.asarray(targets) == label
        if kind == "roc":
            x, y, _ = roc_curve(truth, column)
        else:
            y, x, _ = precision_recall_curve(truth, column)
        parts.append(_thin(pd.DataFrame({"x": x, "y": y, "class": str(label)})))
    return pd.concat(parts, ignore_index=True)


def _curve_chart(data: Any, x_title: str, y_title: str, title: str) -> Any:
    import altair as alt

    return (
        alt.Chart(data)
        .mark_line()
        .encode(x=alt.X("x:Q", title=x_title), y=alt.Y("y:Q", title=y_title), color="class:N")
        .properties(title=title, **_SIZE)
    )


def roc_chart(targets: Any, probabilities: Any, labels: Any) -> Any:
    """ROC curve (one per class for multiclass, one-vs-rest)."""
    data = _curves(targets, probabilities, labels, "roc")
    return _curve_chart(data, "False positive rate", "True positive rate", "ROC curve")


def pr_chart(targets: Any, probabilities: Any, labels: Any) -> Any:
    """Precision-recall curve (one per class for multiclass)."""
    data = _curves(targets, probabilities, labels, "pr")
    return _curve_chart(data, "Recall", "Precision", "Precision-recall curve")


def calibration_chart(targets: Any, probabilities: Any, labels: Any) -> Any:
    """Observed frequency vs mean predicted probability of the positive class (binary)."""
    import altair as alt
    import numpy as np
    import pandas as pd
    from sklearn.calibration import calibration_curve

    truth = np.asarray(targets) == labels[1]
    observed, predicted = calibration_curve(truth, probabilities[:, 1], n_bins=10)
    data = pd.DataFrame({"predicted": predicted, "observed": observed})
    diagonal = pd.DataFrame({"predicted": [0.0, 1.0], "observed": [0.0, 1.0]})
    ideal = alt.Chart(diagonal).mark_line(strokeDash=[4, 4], color="gray")
    curve = alt.Chart(data).mark_line(point=True)
    encoding = {
        "x": alt.X("predicted:Q", title="Mean predicted probability"),
        "y": alt.Y("observed:Q", title="Fraction of positives"),
    }
    return (ideal.encode(**encoding) + curve.encode(**encoding)).properties(
        title="Calibration", **_SIZE
    )


def residuals_chart(targets: Any, predictions: Any) -> Any:
    """Residual (actual - predicted) against the prediction."""
    import altair as alt
    import numpy as np
    import pandas as pd

    data = _thin(
        pd.DataFrame(
            {"predicted": predictions, "residual": np.asarray(targets) - np.asarray(predictions)}
        )
    )
    return (
        alt.Chart(data)
        .mark_circle(size=18)
        .encode(x="predicted:Q", y="residual:Q")
        .properties(title="Residuals", **_SIZE)
    )


def predicted_vs_actual_chart(targets: Any, predictions: Any) -> Any:
    """Predicted against actual values, with the identity line."""
    import altair as alt
    import pandas as pd

    data = _thin(pd.DataFrame({"actual": targets, "predicted": predictions}))
    low = float(min(data["actual"].min(), data["predicted"].min()))
    high = float(max(data["actual"].max(), data["predicted"].max()))
    identity = alt.Chart(pd.DataFrame({"actual": [low, high], "predicted": [low, high]}))
    return (
        identity.mark_line(strokeDash=[4, 4], color="gray").encode(x="actual:Q", y="predicted:Q")
        + alt.Chart(data).mark_circle(size=18).encode(x="actual:Q", y="predicted:Q")
    ).properties(title="Predicted vs actual", **_SIZE)
