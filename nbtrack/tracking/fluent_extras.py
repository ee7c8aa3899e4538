"""The rest of MLflow's classic fluent API: registry searches, parents, tables, settings.

These are module-level functions over the same client and run stack as
``fluent.py`` (kept apart so that file stays about runs and logging). Each
does what its MLflow namesake does; where nbtrack has nothing to do (artifact
writes are synchronous, so there is no async artifact queue to flush) the
docstring says so.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack.entities import DatasetInput
from nbtrack.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

    from nbtrack.entities import ModelVersion, RegisteredModel, Run
    from nbtrack.tracking.client import Client

__all__ = [
    "delete_experiment_tag",
    "disable_system_metrics_logging",
    "doctor",
    "enable_system_metrics_logging",
    "flush_artifact_async_logging",
    "flush_async_logging",
    "get_parent_run",
    "load_table",
    "log_inputs",
    "log_stream",
    "restore_experiment",
    "run",
    "search_model_versions",
    "search_registered_models",
    "set_model_version_tag",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "validate_evaluation_results",
]


def _client() -> Client:
    from nbtrack.tracking import fluent

    return fluent._client()


def _registry() -> Client:
    from nbtrack.config import check_registry_uri

    check_registry_uri()
    return _client()


# runs and experiments ------------------------------------------------------------


def get_parent_run(run_id: str) -> Run | None:
    """Return the parent of a nested run, or None for a top-level run."""
    return _client().get_parent_run(run_id)


def restore_experiment(experiment_id: str) -> None:
    """Bring a deleted experiment (and its runs) back from the bin."""
    _client().restore_experiment(experiment_id)


def delete_experiment_tag(key: str) -> None:
    """Remove a tag of the active experiment (as set by ``set_experiment``, else Default)."""
    from nbtrack.tracking.fluent import _current_experiment_id

    _client().delete_experiment_tag(_current_experiment_id(), key)


def log_inputs(
    datasets: Sequence[Any] | None = None,
    contexts: Sequence[str | None] | None = None,
    tags_list: Sequence[dict[str, str] | None] | None = None,
    models: Sequence[Any] | None = None,
) -> None:
    """Record several datasets on the active run at once, each with its context and tags.

    Raises
    ------
    InvalidInput
        ``contexts`` or ``tags_list`` is not as long as ``datasets``, or
        ``models`` is given (nbtrack has no logged-model entities).
    """
    from nbtrack.tracking.datasets import as_dataset
    from nbtrack.tracking.fluent import _run_for_logging

    if models:
        raise InvalidInput(
            "log_inputs(models=...) needs MLflow 3's logged models, which nbtrack lacks"
        )
    items = list(datasets or [])
    for label, other in (("contexts", contexts), ("tags_list", tags_list)):
        if other is not None and len(other) != len(items):
            raise InvalidInput(f"{label} has {len(other)} items for {len(items)} datasets")
    inputs = []
    for i, dataset in enumerate(items):
        tags = dict((tags_list[i] if tags_list else None) or {})
        context = contexts[i] if contexts else None
        if context:
            tags["mlflow.data.context"] = context
        inputs.append(DatasetInput(as_dataset(dataset), tags))
    if inputs:
        _client().log_inputs(_run_for_logging().info.run_id, inputs)


def log_stream(stream: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Save a binary file-like object (``io.BytesIO``…) as an artifact of the active run."""
    from nbtrack.tracking.fluent import _run_for_logging

    _client().log_stream(run_id or _run_for_logging().info.run_id, stream, artifact_file)


def load_table(
    artifact_file: str, run_ids: list[str] | None = None, extra_columns: list[str] | None = None
) -> pd.DataFrame:
    """Concatenate the ``log_table`` table ``artifact_file`` of the active experiment's runs."""
    from nbtrack.tracking.fluent import _current_experiment_id

    return _client().load_table(_current_experiment_id(), artifact_file, run_ids, extra_columns)


def flush_async_logging() -> None:
    """Write every buffered metric point now (metrics are nbtrack's only asynchronous writes)."""
    from nbtrack.tracking.fluent import flush

    flush()


def flush_artifact_async_logging() -> None:
    """Do nothing: nbtrack writes artifacts before ``log_artifact`` returns (for MLflow code)."""


# registry ------------------------------------------------------------------------


def _all_pages(search: Any, max_results: int | None, **kwargs: Any) -> list[Any]:
    if max_results is not None and not isinstance(max_results, int):
        raise InvalidInput(
            f"max_results must be an int, not {max_results!r}; as in MLflow it comes first "
            "(pass filter_string= by name)"
        )
    out: list[Any] = []
    token = None
    limit = max_results if max_results is not None else sys.maxsize
    while len(out) < limit:
        page = search(max_results=min(limit - len(out), 1000), page_token=token, **kwargs)
        out.extend(page)
        token = page.token
        if not token:
            break
    return out


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[RegisteredModel]:
    """Return every registered model matching ``filter_string`` (``"name LIKE 'iris%'"``…)."""
    return _all_pages(
        _registry().search_registered_models,
        max_results,
        filter_string=filter_string,
        order_by=order_by,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[ModelVersion]:
    """Return every model version matching ``filter_string`` (``"name = 'iris'"``…)."""
    return _all_pages(
        _registry().search_model_versions,
        max_results,
        filter_string=filter_string,
        order_by=order_by,
    )


def set_model_version_tag(
    name: str, version: str | int | None = None, key: str | None = None, value: Any = None
) -> None:
    """Set a tag on a model version.

    Raises
    ------
    InvalidInput
        ``version`` or ``key`` is missing.
    """
    if version is None or key is None:
        raise InvalidInput("set_model_version_tag needs version= and key=")
    _registry().set_model_version_tag(name, version, key, value)


# system metrics ------------------------------------------------------------------


def enable_system_metrics_logging() -> None:
    """Sample CPU, memory, disk and GPU into every run started from now on (needs psutil)."""
    from nbtrack.tracking.system_metrics import configure

    configure(enabled=True)


def disable_system_metrics_logging() -> None:
    """Stop sampling system metrics for runs that do not ask for it."""
    from nbtrack.tracking.system_metrics import configure

    configure(enabled=False)


def set_system_metrics_sampling_interval(interval: float) -> None:
    """Sample system metrics every ``interval`` seconds in runs started from now on."""
    from nbtrack.tracking.system_metrics import configure

    configure(interval=interval)


def set_system_metrics_samples_before_logging(samples: int) -> None:
    """Log the mean of every ``samples`` system-metric samples as one point."""
    from nbtrack.tracking.system_metrics import configure

    configure(samples_before_logging=samples)


def set_system_metrics_node_id(node_id: str) -> None:
    """Log system metrics under ``system/<node_id>/…`` (to tell machines of one run apart)."""
    from nbtrack.tracking.system_metrics import configure

    configure(node_id=node_id)


# projects, evaluation, diagnostics -----------------------------------------------


class SubmittedRun:
    """What ``run`` returns: the project's ``run_id``; it ran to the end already."""

    def __init__(self, run_id: str, status: str) -> None:
        self.run_id = run_id
        self._status = status

    def wait(self) -> bool:
        """Return whether the run finished successfully (it already ended)."""
        return self._status == "FINISHED"

    def get_status(self) -> str:
        """Return the run's final status."""
        return self._status


def run(
    uri: str,
    entry_point: str = "main",
    parameters: dict[str, Any] | None = None,
    experiment_name: str | None = None,
    run_name: str | None = None,
    env_manager: str | None = None,
    synchronous: bool = True,
    **options: Any,
) -> SubmittedRun:
    """Run an entry point of the local MLproject at ``uri`` as a tracked run, as ``mlflow.run``.

    Raises
    ------
    InvalidInput
        ``synchronous=False`` or an MLflow option nbtrack does not run
        (docker, a remote backend, a git URI version…).
    """
    unsupported = sorted(k for k, v in options.items() if v not in (None, "local", False))
    if unsupported or not synchronous:
        raise InvalidInput(
            "nbtrack runs local projects synchronously; unsupported: "
            f"{unsupported or 'synchronous=False'}"
        )
    from nbtrack.projects.runner import run_project

    result = run_project(
        uri,
        parameters={k: str(v) for k, v in (parameters or {}).items()},
        entry_point=entry_point,
        env_manager=env_manager or "local",
        experiment_name=experiment_name,
        run_name=run_name,
    )
    return SubmittedRun(result.run_id, result.status)


def validate_evaluation_results(
    validation_thresholds: dict[str, Any],
    candidate_result: Any,
    baseline_result: Any = None,
) -> None:
    """Check an ``evaluate`` result against thresholds (and a baseline result).

    Raises
    ------
    ModelValidationFailed
        Listing each missed threshold.
    """
    from nbtrack.evaluation.metrics import GREATER_IS_BETTER
    from nbtrack.evaluation.thresholds import ModelValidationFailed, check_thresholds

    baseline = dict(baseline_result.metrics) if baseline_result is not None else None
    failures = check_thresholds(
        validation_thresholds, dict(candidate_result.metrics), baseline, dict(GREATER_IS_BETTER)
    )
    if failures:
        raise ModelValidationFailed(failures)


def doctor(mask_envs: bool = False) -> None:
    """Print what a bug report needs: versions, the tracking URI, and nbtrack's env vars."""
    import platform

    import nbtrack
    from nbtrack.config import get_tracking_uri

    lines = [
        f"System information: {platform.platform()}",
        f"Python version: {platform.python_version()}",
        f"nbtrack version: {nbtrack.__version__}",
        f"nbtrack module location: {os.path.dirname(nbtrack.__file__)}",
        f"Tracking URI: {get_tracking_uri()}",
    ]
    names = sorted(k for k in os.environ if k.startswith(("NBTRACK_", "MLFLOW_")))
    if names:
        lines.append("Environment variables:")
        lines += [f"  {k}: {'***' if mask_envs else os.environ[k]}" for k in names]
    print("\n".join(lines))
