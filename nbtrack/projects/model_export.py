"""Export the model a notebook produces: execute it in a fresh kernel, keep the model folder.

The notebook runs with nbclient in a new ``python3`` kernel, in its own
folder, with parameters injected after its ``parameters`` cell as papermill
does. The model is the variable ``--model-var`` names (logged by a cell added
at the end, in a run of its own) or else the last model the notebook logged
with ``nbt.log_model``. Either way a run records it, and the model folder is
copied to the output folder, ready for ``nbtrack serve``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack import env
from nbtrack.errors import InvalidInput, NotFoundError

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["ExportedModel", "export_model"]

_MARKER = "NBTRACK_EXPORTED_MODEL "
_HISTORY_TAG = "mlflow.log-model.history"


@dataclass(frozen=True, slots=True)
class ExportedModel:
    """The model folder written, and the run that holds the model."""

    path: Path
    run_id: str
    model_uri: str


def _injected_parameters(parameters: dict[str, Any]) -> str:
    lines = ["# Parameters injected by nbtrack export"]
    lines += [f"{name} = {value!r}" for name, value in parameters.items()]
    return "\n".join(lines)


def _log_variable_cell(variable: str, notebook_name: str) -> str:
    return "\n".join(
        [
            "import json as _nbtrack_json",
            "import nbtrack as _nbtrack",
            "",
            f"_nbtrack_model = {variable}",
            "with _nbtrack.start_run(",
            f"    run_name={('export-' + Path(notebook_name).stem)!r},",
            "    nested=_nbtrack.active_run() is not None,",
            f"    tags={{'nbtrack.export.notebook': {notebook_name!r}}},",
            "):",
            "    _nbtrack_info = _nbtrack.log_model(_nbtrack_model, 'model')",
            f"print({_MARKER!r} + _nbtrack_json.dumps("
            "{'run_id': _nbtrack_info.run_id, 'path': _nbtrack_info.artifact_path}))",
        ]
    )


def _marker(notebook: Any) -> dict[str, str] | None:
    for output in notebook.cells[-1].get("outputs", []):
        for line in str(output.get("text", "")).splitlines():
            if line.startswith(_MARKER):
                found: dict[str, str] = json.loads(line[len(_MARKER) :])
                return found
    return None


def _last_logged_model(client: Client, since_ms: int) -> dict[str, str] | None:
    from nbtrack.entities import ViewType

    experiments = [e.experiment_id for e in client.search_experiments(ViewType.ACTIVE_ONLY)]
    runs = client.search_runs(
        experiments,
        f"attributes.start_time >= {since_ms}",
        order_by=["attributes.start_time DESC"],
        max_results=1000,
    )
    for run in runs:
        history = run.data.tags.get(_HISTORY_TAG)
        if history:
            entries = json.loads(history)
            if entries:
                return {"run_id": run.info.run_id, "path": entries[-1]["artifact_path"]}
    return None


def export_model(
    notebook_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    model_var: str | None = None,
    parameters: dict[str, Any] | None = None,
    timeout: int = 600,
    client: Client | None = None,
) -> ExportedModel:
    """Execute a notebook and write the model it produced as a model folder.

    Parameters
    ----------
    notebook_path:
        The ``.ipynb`` file.
    out:
        A new or empty folder for the model.
    model_var:
        The variable holding the model; None takes the last model the
        notebook logged.
    parameters:
        Values injected after the cell tagged ``parameters``.
    timeout:
        Seconds each cell may take.
    client:
        The store the notebook tracks into; the current tracking URI's by default.

    Raises
    ------
    InvalidInput
        No such notebook, ``out`` not empty, a bad variable name, a cell that
        failed (its error is quoted), or no model found.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from nbtrack.projects.parameters import PARAMETERS_TAG
    from nbtrack.tracking.client import Client

    source = Path(notebook_path)
    if not source.is_file():
        raise InvalidInput(f"No notebook at {source}")
    target = Path(out)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"Cannot export to {target}: it exists and is not an empty folder")
    if model_var is not None and not model_var.isidentifier():
        raise InvalidInput(f"--model-var must be a Python name, got {model_var!r}")
    notebook = nbformat.read(source, as_version=4)
    if parameters:
        tagged = [
            i
            for i, cell in enumerate(notebook.cells)
            if PARAMETERS_TAG in cell.get("metadata", {}).get("tags", [])
        ]
        position = tagged[0] + 1 if tagged else 0
        cell = nbformat.v4.new_code_cell(
            _injected_parameters(parameters), metadata={"tags": ["injected-parameters"]}
        )
        notebook.cells.insert(position, cell)
    if model_var is not None:
        notebook.cells.append(nbformat.v4.new_code_cell(_log_variable_cell(model_var, source.name)))

    client = client or Client()
    uri = client.tracking_uri
    absolute = uri if "://" in uri else os.path.abspath(uri)
    saved = os.environ.get(env.NBTRACK_TRACKING_URI)
    os.environ[env.NBTRACK_TRACKING_URI] = absolute
    started = int(time.time() * 1000)
    try:
        NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            resources={"metadata": {"path": str(source.parent.resolve())}},
        ).execute()
    except CellExecutionError as exc:
        first = str(exc).strip().splitlines()
        raise InvalidInput(
            f"{source.name} failed while running: {first[-1] if first else exc}"
        ) from None
    finally:
        if saved is None:
            os.environ.pop(env.NBTRACK_TRACKING_URI, None)
        else:
            os.environ[env.NBTRACK_TRACKING_URI] = saved
    found = _marker(notebook) if model_var is not None else _last_logged_model(client, started)
    if found is None:
        raise NotFoundError(
            f"{source.name} logged no model; name the variable holding it with --model-var"
        )
    local = client.download_artifacts(found["run_id"], found["path"])
    target.mkdir(parents=True, exist_ok=True)
    for item in Path(local).iterdir():
        destination = target / item.name
        if item.is_dir():
            shutil.copytree(item, destination)
        else:
            shutil.copy2(item, destination)
    model_uri = f"runs:/{found['run_id']}/{found['path']}"
    return ExportedModel(target, found["run_id"], model_uri)
