"""nbtrack: experiment tracking that lives in the notebook.

``import nbtrack as nbt`` is cheap: it loads this module, the errors and
nothing heavy. The tracking API is re-exported lazily (PEP 562) so pandas and
SQLAlchemy load on first use, not at import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nbtrack.errors import (
    AlreadyExistsError,
    InvalidFilter,
    InvalidInput,
    InvalidKey,
    MetricValueError,
    NbtrackError,
    NotFoundError,
    ParamConflict,
    RunNotActiveError,
    SchemaMismatch,
    StoreError,
    ValueTooLong,
)

__version__ = "0.1.0"

_FLUENT = (
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "download_artifacts",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_metric_history",
    "get_run",
    "last_active_run",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "restore_run",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "start_run",
)
_LAZY: dict[str, str] = {name: "nbtrack.tracking.fluent" for name in _FLUENT}
_LAZY.update(
    {
        "ActiveRun": "nbtrack.tracking.fluent",
        "Client": "nbtrack.tracking.client",
        "MlflowClient": "nbtrack.tracking.client",
        "get_tracking_uri": "nbtrack.config",
        "set_tracking_uri": "nbtrack.config",
    }
)
_SUBMODULES = ("config", "entities", "env", "errors", "store", "tracking", "uris")

__all__ = [
    "ActiveRun",
    "AlreadyExistsError",
    "Client",
    "InvalidFilter",
    "InvalidInput",
    "InvalidKey",
    "MetricValueError",
    "MlflowClient",
    "NbtrackError",
    "NotFoundError",
    "ParamConflict",
    "RunNotActiveError",
    "SchemaMismatch",
    "StoreError",
    "ValueTooLong",
    "__version__",
    "active_run",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "download_artifacts",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_metric_history",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "list_artifacts",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "restore_run",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is not None:
        import importlib

        attr = "Client" if name == "MlflowClient" else name
        value = getattr(importlib.import_module(module_name), attr)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"nbtrack.{name}")
    raise AttributeError(f"module 'nbtrack' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from nbtrack.config import get_tracking_uri, set_tracking_uri
    from nbtrack.tracking.client import Client
    from nbtrack.tracking.client import Client as MlflowClient
    from nbtrack.tracking.fluent import (
        ActiveRun,
        active_run,
        create_experiment,
        delete_experiment,
        delete_run,
        delete_tag,
        download_artifacts,
        end_run,
        flush,
        get_artifact_uri,
        get_experiment,
        get_experiment_by_name,
        get_metric_history,
        get_run,
        last_active_run,
        list_artifacts,
        log_artifact,
        log_artifacts,
        log_dict,
        log_figure,
        log_image,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_table,
        log_text,
        restore_run,
        search_experiments,
        search_runs,
        set_experiment,
        set_experiment_tag,
        set_experiment_tags,
        set_tag,
        set_tags,
        start_run,
    )
