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
        "autolog": "nbtrack.autologging",
        "register_model": "nbtrack.models",
        "ModelInfo": "nbtrack.models",
        "ModelSignature": "nbtrack.models",
        "infer_signature": "nbtrack.models",
        "lineage": "nbtrack.tracking.lineage",
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
_SUBMODULES = (
    "config",
    "entities",
    "env",
    "errors",
    "models",
    "prompts",
    "store",
    "tracking",
    "uris",
)
#: ``nbt.pyfunc`` is MLflow's name for the generic model interface.
_ALIASES = {"pyfunc": "nbtrack.models.pyfunc"}

__all__ = [
    "ActiveRun",
    "AlreadyExistsError",
    "Client",
    "EvaluationResult",
    "InvalidFilter",
    "InvalidInput",
    "InvalidKey",
    "MetricValueError",
    "MlflowClient",
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
    "delete_prompt_alias",
    "delete_run",
    "delete_tag",
    "download_artifacts",
    "enable",
    "end_run",
    "evaluate",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_metric_history",
    "get_run",
    "get_tracking_uri",
    "infer_signature",
    "last_active_run",
    "lineage",
    "list_artifacts",
    "load_ipython_extension",
    "load_model",
    "load_prompt",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "make_metric",
    "register_model",
    "register_prompt",
    "restore_run",
    "save_model",
    "search_experiments",
    "search_prompts",
    "search_runs",
    "serve",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_prompt_alias",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "show_metrics",
    "show_registry",
    "show_run",
    "show_runs",
    "start_run",
    "unload_ipython_extension",
]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    # The prebuilt JupyterLab extension (``jupyter labextension develop`` links it).
    return [{"src": "labextension", "dest": "nbtrack"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    # Jupyter Server asks the package; the extension itself loads only there.
    return [{"module": "nbtrack.server.jupyter"}]


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is not None:
        import importlib

        attr = "Client" if name == "MlflowClient" else name
        value = getattr(importlib.import_module(module_name), attr)
        globals()[name] = value
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
    from nbtrack.config import get_tracking_uri, set_tracking_uri
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
    from nbtrack.tracking.lineage import lineage
