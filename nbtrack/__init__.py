"""nbtrack: experiment tracking that lives in the notebook.

``import nbtrack as nbt`` is cheap: it loads this module, the errors and
nothing heavy. The tracking API is re-exported lazily (PEP 562) so pandas and
SQLAlchemy load on first use, not at import.
"""

from __future__ import annotations

import sys
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
#: MLflow's other classic fluent names (registry searches, parents, settings…).
_FLUENT_EXTRAS = (
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
)
_LAZY: dict[str, str] = {name: "nbtrack.tracking.fluent" for name in _FLUENT}
_LAZY.update({name: "nbtrack.tracking.fluent_extras" for name in _FLUENT_EXTRAS})
_LAZY.update(
    {
        "ActiveRun": "nbtrack.tracking.fluent",
        "autolog": "nbtrack.autologging",
        "register_model": "nbtrack.models",
        "ModelInfo": "nbtrack.models",
        "ModelSignature": "nbtrack.models",
        "infer_signature": "nbtrack.models",
        "Image": "nbtrack.tracking.multimedia",
        "lineage": "nbtrack.tracking.lineage",
        "lineage_script": "nbtrack.tracking.lineage",
        "get_registry_uri": "nbtrack.config",
        "is_tracking_uri_set": "nbtrack.config",
        "set_registry_uri": "nbtrack.config",
        "load_model": "nbtrack.models",
        "log_model": "nbtrack.models",
        "save_model": "nbtrack.models",
        "serve": "nbtrack.serving",
        "Client": "nbtrack.tracking.client",
        "MlflowClient": "nbtrack.tracking.client",
        "get_tracking_uri": "nbtrack.config",
        "compare_prompts": "nbtrack.prompts",
        "EvaluationResult": "nbtrack.evaluation",
        "Threshold": "nbtrack.evaluation",
        "make_metric": "nbtrack.evaluation",
        "evaluate": "nbtrack.evaluation",
        "PromptVersion": "nbtrack.prompts",
        "register_prompt": "nbtrack.prompts",
        "load_prompt": "nbtrack.prompts",
        "search_prompts": "nbtrack.prompts",
        "set_prompt_alias": "nbtrack.prompts",
        "delete_prompt_alias": "nbtrack.prompts",
        "set_tracking_uri": "nbtrack.config",
        "compare": "nbtrack.widgets",
        "show_metrics": "nbtrack.widgets",
        "show_registry": "nbtrack.widgets",
        "show_run": "nbtrack.widgets",
        "show_runs": "nbtrack.widgets",
    }
)
#: Loaded on first attribute access, so ``import nbtrack as mlflow; mlflow.sklearn.log_model``
#: works without ``import nbtrack.sklearn`` while ``import nbtrack`` stays light.
_SUBMODULES = (
    "artifacts",
    "config",
    "data",
    "deployments",
    "entities",
    "env",
    "errors",
    "exceptions",
    "lightgbm",
    "metrics",
    "models",
    "prompts",
    "pyfunc",
    "sklearn",
    "store",
    "tracking",
    "uris",
    "xgboost",
)
_ALIASES: dict[str, str] = {}

#: MLflow's name for nbtrack's base error (``nbtrack.exceptions.MlflowException``).
MlflowException = NbtrackError

__all__ = [
    "ActiveRun",
    "AlreadyExistsError",
    "Client",
    "EvaluationResult",
    "Image",
    "InvalidFilter",
    "InvalidInput",
    "InvalidKey",
    "MetricValueError",
    "MlflowClient",
    "MlflowException",
    "ModelInfo",
    "ModelSignature",
    "NbtrackError",
    "NotFoundError",
    "ParamConflict",
    "PromptVersion",
    "RunNotActiveError",
    "SchemaMismatch",
    "StoreError",
    "Threshold",
    "ValueTooLong",
    "__version__",
    "active_run",
    "autolog",
    "compare",
    "compare_prompts",
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_prompt_alias",
    "delete_run",
    "delete_tag",
    "disable_system_metrics_logging",
    "doctor",
    "download_artifacts",
    "enable",
    "enable_system_metrics_logging",
    "end_run",
    "evaluate",
    "flush",
    "flush_artifact_async_logging",
    "flush_async_logging",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_metric_history",
    "get_parent_run",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "infer_signature",
    "is_tracking_uri_set",
    "last_active_run",
    "lineage",
    "lineage_script",
    "list_artifacts",
    "load_ipython_extension",
    "load_model",
    "load_prompt",
    "load_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_stream",
    "log_table",
    "log_text",
    "make_metric",
    "register_model",
    "register_prompt",
    "restore_experiment",
    "restore_run",
    "run",
    "save_model",
    "search_experiments",
    "search_model_versions",
    "search_prompts",
    "search_registered_models",
    "search_runs",
    "serve",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_model_version_tag",
    "set_prompt_alias",
    "set_registry_uri",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "show_metrics",
    "show_registry",
    "show_run",
    "show_runs",
    "start_run",
    "unload_ipython_extension",
    "validate_evaluation_results",
]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    # The prebuilt JupyterLab extension (``jupyter labextension develop`` links it).
    return [{"src": "labextension", "dest": "nbtrack"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    # Jupyter Server asks the package; the extension itself loads only there.
    return [{"module": "nbtrack.server.jupyter"}]


#: Names whose results the widgets layer shows as panels in a running kernel.
_SHOWN_AS_PANELS = frozenset({"evaluate", "compare_prompts"})


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is not None:
        import importlib

        attr = "Client" if name == "MlflowClient" else name
        value = getattr(importlib.import_module(module_name), attr)
        globals()[name] = value
        if name in _SHOWN_AS_PANELS and "IPython" in sys.modules:
            # Their results are panels in a kernel even without %load_ext nbtrack.
            from nbtrack.widgets.display import register_display

            register_display()
        return value
    if name in _SUBMODULES or name in _ALIASES:
        import importlib

        return importlib.import_module(_ALIASES.get(name, f"nbtrack.{name}"))
    raise AttributeError(f"module 'nbtrack' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """Let ``%load_ext nbtrack`` register the magics and the kernel hook."""
    from nbtrack.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Let ``%unload_ext nbtrack`` remove the magics and the kernel hook."""
    from nbtrack.magics import unload_ipython_extension as unload

    unload(ipython)


def enable() -> None:
    """Do what ``%load_ext nbtrack`` does, from Python code running in IPython or Jupyter."""
    from nbtrack.magics import enable as enable_magics

    enable_magics()


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:
    from nbtrack.autologging import autolog
    from nbtrack.config import (
        get_registry_uri,
        get_tracking_uri,
        is_tracking_uri_set,
        set_registry_uri,
        set_tracking_uri,
    )
    from nbtrack.models import (
        ModelInfo,
        ModelSignature,
        infer_signature,
        load_model,
        log_model,
        register_model,
        save_model,
    )
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
    from nbtrack.tracking.fluent_extras import (
        delete_experiment_tag,
        disable_system_metrics_logging,
        doctor,
        enable_system_metrics_logging,
        flush_artifact_async_logging,
        flush_async_logging,
        get_parent_run,
        load_table,
        log_inputs,
        log_stream,
        restore_experiment,
        run,
        search_model_versions,
        search_registered_models,
        set_model_version_tag,
        set_system_metrics_node_id,
        set_system_metrics_samples_before_logging,
        set_system_metrics_sampling_interval,
        validate_evaluation_results,
    )
    from nbtrack.tracking.lineage import lineage, lineage_script
    from nbtrack.tracking.multimedia import Image
