"""scikit-learn autologging: ``fit`` logs a run; ``sklearn.metrics`` calls after it log metrics.

Every estimator class that defines its own ``fit`` gets a wrapper; the
original function is kept and put back exactly by ``disable``. Only the
outermost ``fit`` of a thread logs (a Pipeline's steps and a search's refits
run inside it), and the same depth counter keeps sklearn's internal metric
calls, and our own training metrics, from being logged as the user's.

Anything that goes wrong while logging becomes one ``NbtrackWarning``; the
user's ``fit``, its return value and its exceptions are never touched.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nbtrack._validation import captured_param
from nbtrack.autologging.patches import Patches
from nbtrack.autologging.session import (
    Session,
    Warner,
    begin,
    fail,
    finish,
    log_model_into,
    new_params,
)
from nbtrack.autologging.session import client as fluent_client
from nbtrack.entities import Metric, Param, RunStatus, RunTag

if TYPE_CHECKING:
    from nbtrack.autologging import AutologConfig

__all__ = ["METRIC_FUNCTIONS", "MODULE", "disable", "enable", "is_enabled"]

MODULE = "sklearn"

#: ``sklearn.metrics`` functions whose calls after a fit are logged to its run.
METRIC_FUNCTIONS = (
    "accuracy_score",
    "balanced_accuracy_score",
    "explained_variance_score",
    "f1_score",
    "log_loss",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "median_absolute_error",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
    "root_mean_squared_error",
)
#: Grid-search candidates logged as child runs; the rest are counted in a tag.
MAX_CHILD_RUNS = 50
#: Training data up to this size is hashed whole; larger data by its first rows.
MAX_DIGEST_BYTES = 10_000_000

_local = threading.local()
_config: AutologConfig | None = None
#: (owner, attribute name, original value) of everything patched, to restore exactly.
_patched = Patches()
#: The run the last autologged fit logged to, and how often each metric was logged there.
_last_run_id: str | None = None
_metric_counts: Counter[str] = Counter()


def is_enabled() -> bool:
    """Return whether sklearn autologging is on."""
    return _config is not None


def _depth() -> int:
    depth: int = getattr(_local, "depth", 0)
    return depth


#: Logging failures become one warning each (none with autolog(silent=True)).
_warn = Warner(lambda: _config is not None and _config.silent, "fit")


# patching ---------------------------------------------------------------------


def _estimator_classes() -> list[type]:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators()]
    for extra in (Pipeline, GridSearchCV, RandomizedSearchCV):
        if extra not in classes:
            classes.append(extra)
    return classes


def enable(config: AutologConfig) -> None:
    """Patch ``fit`` of every sklearn estimator class and the metric functions.

    Calling it again only updates the configuration.

    Parameters
    ----------
    config:
        What to log (models or not, warnings or not).
    """
    global _config
    _config = config
    if _patched:
        return
    owners: dict[type, None] = {}
    for cls in _estimator_classes():
        # Patch ``fit`` where it is defined: GridSearchCV inherits it from
        # BaseSearchCV, which all_estimators() does not list.
        owner = next((c for c in cls.__mro__ if "fit" in c.__dict__), None)
        if owner is not None:
            owners.setdefault(owner)
    for owner in owners:
        original = owner.__dict__["fit"]
        # Plain functions only: other descriptors are left alone.
        if callable(original) and hasattr(original, "__code__"):
            _patched.replace(owner, "fit", original, _wrap_fit(original))
    import sklearn.metrics

    for name in METRIC_FUNCTIONS:
        function = getattr(sklearn.metrics, name, None)
        if function is not None:
            _patched.replace(sklearn.metrics, name, function, _wrap_metric(name, function))


def disable() -> None:
    """Restore every patched method and function exactly as it was."""
    global _config, _last_run_id
    _config = None
    _last_run_id = None
    _metric_counts.clear()
    _patched.restore()


def _wrap_fit(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        depth = _depth()
        if depth or _config is None:
            _local.depth = depth + 1
            try:
                return original(self, *args, **kwargs)
            finally:
                _local.depth = depth
        _local.depth = 1
        try:
            session = _begin(self)
            try:
                result = original(self, *args, **kwargs)
            except BaseException as error:
                if session is not None:
                    fail(session, error, _warn)
                raise
            if session is not None:
                _finish(session, self, args, kwargs)
            return result
        finally:
            _local.depth = 0

    fit.__nbtrack_original__ = original  # type: ignore[attr-defined]
    return fit


def _wrap_metric(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def metric(*args: Any, **kwargs: Any) -> Any:
        value = original(*args, **kwargs)
        if _depth() == 0 and _last_run_id is not None and _config is not None:
            _log_metric_call(name, value)
        return value

    return metric


# logging ----------------------------------------------------------------------


def _begin(estimator: Any) -> Session | None:
    cls = type(estimator)
    return begin(cls.__name__, _estimator_tags(cls), _warn)


def _finish(
    session: Session, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    def log() -> None:
        global _last_run_id
        _log_fit(session, estimator, args, kwargs)
        _last_run_id = session.run_id
        _metric_counts.clear()

    finish(session, log, f"{type(estimator).__name__}.fit", _warn)


def _estimator_tags(cls: type) -> dict[str, str]:
    return {
        "estimator_name": cls.__name__,
        "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
        "nbtrack.autolog": "sklearn",
    }


def _log_fit(
    session: Session, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    client = fluent_client()
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    params = {k: captured_param(k, v) for k, v in estimator.get_params(deep=False).items()}
    tags: dict[str, str] = {} if session.owned else _estimator_tags(type(estimator))
    metrics = _training_metrics(estimator, X, y) if y is not None else {}
    best_params = getattr(estimator, "best_params_", None)
    if isinstance(best_params, dict):
        params.update({f"best_{k}": captured_param(f"best_{k}", v) for k, v in best_params.items()})
        best_score = getattr(estimator, "best_score_", None)
        if isinstance(best_score, (int, float)):
            metrics["best_cv_score"] = float(best_score)
    if X is not None:
        params["training_data.shape"] = str(getattr(X, "shape", None) or (len(X),))
        digest = data_digest(X)
        if digest is not None:
            tags["training_data.digest"] = digest
    params = new_params(session, client, params)
    now = int(time.time() * 1000)
    client.log_batch(
        session.run_id,
        metrics=[Metric(k, v, now, 0) for k, v in metrics.items()],
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )
    if type(X).__module__.startswith("pandas") and hasattr(X, "dtypes"):
        from nbtrack.entities import DatasetInput
        from nbtrack.tracking.datasets import from_pandas

        dataset = from_pandas(X, name="training_data")
        client.log_inputs(
            session.run_id, [DatasetInput(dataset, {"mlflow.data.context": "training"})]
        )
    if hasattr(estimator, "cv_results_"):
        _log_candidates(session.run_id, estimator)
    if _config is not None and _config.log_models:
        log_model_into(session, estimator)


def _training_metrics(estimator: Any, X: Any, y: Any) -> dict[str, float]:
    from sklearn.base import ClassifierMixin, RegressorMixin, is_classifier, is_regressor

    metrics: dict[str, float] = {}
    classifier, regressor = is_classifier(estimator), is_regressor(estimator)
    score = getattr(type(estimator), "score", None)
    # The mixins' score is accuracy or R², computed below from the same
    # predictions: calling it would predict and validate a second time.
    default_score = (classifier and score is ClassifierMixin.score) or (
        regressor and score is RegressorMixin.score
    )
    try:
        if score is not None and not default_score:
            metrics["training_score"] = float(estimator.score(X, y))
        if not hasattr(estimator, "predict") or not (classifier or regressor):
            return metrics
        predicted = estimator.predict(X)
        if classifier:
            metrics.update(_classifier_metrics(y, predicted))
            if default_score:
                metrics["training_score"] = metrics["training_accuracy"]
        else:
            metrics.update(_regressor_metrics(y, predicted))
            if default_score:
                metrics["training_score"] = metrics["training_r2"]
    except (ValueError, TypeError, AttributeError, NotImplementedError):
        # Training metrics are a bonus, not the run: multi-output targets or estimators
        # whose predict refuses the training data leave them out, and the fit is logged.
        pass
    return metrics


def _as_1d(y: Any, predicted: Any) -> tuple[Any, Any] | None:
    """Return both as 1-D numpy arrays of equal length, or None when they are not."""
    import numpy as np

    y, predicted = np.asarray(y), np.asarray(predicted)
    if y.ndim != 1 or predicted.ndim != 1 or len(y) != len(predicted) or not len(y):
        return None
    return y, predicted


def _classifier_metrics(y: Any, predicted: Any) -> dict[str, float]:
    """Accuracy and weighted precision/recall/F1, as sklearn.metrics computes them.

    For 1-D labels this is done with numpy directly (sklearn's functions spend
    milliseconds validating their input); other targets go through sklearn.
    """
    import numpy as np

    pair = _as_1d(y, predicted)
    if pair is None:
        from sklearn.metrics._classification import (
            accuracy_score,
            precision_recall_fscore_support,
        )

        p, r, f, _ = precision_recall_fscore_support(
            y, predicted, average="weighted", zero_division=0
        )
        return {
            "training_accuracy": float(accuracy_score(y, predicted)),
            "training_f1": float(f),
            "training_precision": float(p),
            "training_recall": float(r),
        }
    y, predicted = pair
    labels, codes = np.unique(np.concatenate([y, predicted]), return_inverse=True)
    true, pred = codes[: len(y)], codes[len(y) :]
    hits = true == pred
    n = len(labels)
    tp = np.bincount(true[hits], minlength=n).astype(float)
    support = np.bincount(true, minlength=n).astype(float)
    guessed = np.bincount(pred, minlength=n).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(guessed > 0, tp / guessed, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        denominator = precision + recall
        f1 = np.where(denominator > 0, 2 * precision * recall / denominator, 0.0)
    weights = support / support.sum()
    return {
        "training_accuracy": float(hits.mean()),
        "training_f1": float((f1 * weights).sum()),
        "training_precision": float((precision * weights).sum()),
        "training_recall": float((recall * weights).sum()),
    }


def _regressor_metrics(y: Any, predicted: Any) -> dict[str, float]:
    """MSE, RMSE, MAE and R² (with sklearn's conventions for a constant target)."""
    import numpy as np

    pair = _as_1d(y, predicted)
    if pair is None:
        from sklearn.metrics._regression import mean_absolute_error, mean_squared_error, r2_score

        mse = float(mean_squared_error(y, predicted))
        mae, r2 = float(mean_absolute_error(y, predicted)), float(r2_score(y, predicted))
    else:
        y, predicted = (a.astype(float) for a in pair)
        error = y - predicted
        mse = float(np.mean(error**2))
        mae = float(np.mean(np.abs(error)))
        total = float(np.sum((y - y.mean()) ** 2))
        residual = float(np.sum(error**2))
        r2 = 1.0 - residual / total if total else (1.0 if residual == 0 else 0.0)
    return {
        "training_mse": mse,
        "training_rmse": mse**0.5,
        "training_mae": mae,
        "training_r2": r2,
    }


def data_digest(X: Any) -> str | None:
    """Return a short sha256 digest of the training data (its first rows when it is large)."""
    import numpy as np

    if type(X).__module__.startswith("pandas"):
        return None  # log_input records the DataFrame's own digest
    if hasattr(X, "tocsr"):  # scipy sparse: its stored values and their positions
        csr = X.tocsr()
        parts = [csr.data, csr.indices, csr.indptr]
    else:
        array = np.asarray(X)
        if array.dtype == object:
            return None
        if array.nbytes > MAX_DIGEST_BYTES and array.ndim:
            rows = max(1, MAX_DIGEST_BYTES // max(1, array[:1].nbytes))
            array = array[:rows]
        parts = [np.ascontiguousarray(array)]
    sha = hashlib.sha256(str(getattr(X, "shape", "")).encode())
    for part in parts:
        sha.update(np.ascontiguousarray(part).data)
    return sha.hexdigest()[:16]


def _log_candidates(parent_run_id: str, search: Any) -> None:
    client = fluent_client()
    results = search.cv_results_
    candidates = results.get("params", [])
    score_keys = [k for k in results if k.startswith(("mean_test_", "std_test_", "rank_test_"))]
    experiment_id = client.get_run(parent_run_id).info.experiment_id
    name = type(search.estimator).__name__
    for index, params in enumerate(candidates[:MAX_CHILD_RUNS]):
        run = client.create_run(
            experiment_id,
            tags={
                "nbtrack.parent_run_id": parent_run_id,
                "mlflow.parentRunId": parent_run_id,
                "nbtrack.autolog": "sklearn",
            },
            run_name=f"{name}-candidate-{index}",
        )
        now = int(time.time() * 1000)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric(k, float(results[k][index]), now, 0) for k in score_keys],
            params=[Param(k, captured_param(k, v)) for k, v in params.items()],
        )
        client.set_terminated(run.info.run_id, RunStatus.FINISHED)
    if len(candidates) > MAX_CHILD_RUNS:
        client.set_tag(
            parent_run_id,
            "nbtrack.autolog.note",
            f"{len(candidates)} candidates; child runs logged for the first {MAX_CHILD_RUNS}",
        )


def _log_metric_call(name: str, value: Any) -> None:
    """Log a ``sklearn.metrics`` call as ``name`` (``name-2``… on repeats) of the last run."""
    import numbers

    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return  # per-class arrays, reports: not one number
    run_id = _last_run_id
    assert run_id is not None
    try:
        _metric_counts[name] += 1
        count = _metric_counts[name]
        key = name if count == 1 else f"{name}-{count}"
        client = fluent_client()
        metric = Metric(key, float(value), int(time.time() * 1000), 0)
        info = client.get_run(run_id).info
        if not RunStatus.is_terminated(info.status):
            client.log_batch(run_id, metrics=[metric])
            return
        # The store only writes to running runs: reopen the ended one for this
        # point and end it again with its own status and end time.
        client.update_run(run_id, status=RunStatus.RUNNING)
        try:
            client.log_batch(run_id, metrics=[metric])
        finally:
            client.set_terminated(run_id, info.status, end_time=info.end_time)
    except Exception as exc:  # guard: the user's metric value must be returned
        _warn(f"log {name} to run {run_id}", exc)
