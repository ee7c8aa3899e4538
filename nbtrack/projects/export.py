"""Export a notebook (or a run's recorded lineage) as an MLproject folder.

The folder holds ``MLproject`` (entry point ``main`` with the notebook's
parameters), ``main.py`` (:mod:`nbtrack.projects.script`),
``nbtrack_runtime.py`` (:mod:`nbtrack.projects.runtime`, so that the project
needs no nbtrack to run under MLflow), ``python_env.yaml`` /
``requirements.txt`` / ``conda.yaml`` pinned to the packages the notebook
imports, and the notebook itself.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbtrack.errors import InvalidInput

if TYPE_CHECKING:
    from nbformat import NotebookNode

    from nbtrack.projects.parameters import ProjectParameter
    from nbtrack.tracking.client import Client

__all__ = ["ExportedProject", "export_mlproject", "export_run_lineage"]

MLPROJECT_FILE = "MLproject"
SCRIPT_FILE = "main.py"
RUNTIME_FILE = "nbtrack_runtime.py"


@dataclass
class ExportedProject:
    """What an export wrote: the folder, its parameters, and what main.py leaves out."""

    path: Path
    parameters: list[ProjectParameter]
    requirements: list[str]
    warnings: list[str] = field(default_factory=list)


def _prepare(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInput(f"Cannot export to {out}: it exists and is not an empty folder")
    out.mkdir(parents=True, exist_ok=True)


def _mlproject(name: str, parameters: list[ProjectParameter]) -> str:
    import yaml

    entry: dict[str, Any] = {}
    if parameters:
        entry["parameters"] = {
            p.name: {"type": p.mlproject_type, "default": p.mlproject_default} for p in parameters
        }
    options = " ".join(f"--{p.name} {{{p.name}}}" for p in parameters)
    entry["command"] = f"python {SCRIPT_FILE} {options}".rstrip()
    document = {"name": name, "python_env": "python_env.yaml", "entry_points": {"main": entry}}
    return yaml.safe_dump(document, sort_keys=False, width=1000)


def _project_name(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem).strip("-")
    return cleaned or "notebook"


def _write_project(notebook: NotebookNode, notebook_name: str, out: Path) -> ExportedProject:
    import nbformat

    from nbtrack.models.environment import pinned, write_environment
    from nbtrack.projects import runtime
    from nbtrack.projects.script import notebook_to_script

    try:
        script = notebook_to_script(notebook, notebook_name)
    except ValueError as exc:
        raise InvalidInput(f"{notebook_name}: {exc}") from None
    _prepare(out)
    (out / SCRIPT_FILE).write_text(script.text, encoding="utf-8")
    shutil.copyfile(runtime.__file__, out / RUNTIME_FILE)
    (out / MLPROJECT_FILE).write_text(
        _mlproject(_project_name(Path(notebook_name).stem), script.parameters), encoding="utf-8"
    )
    # The project's own runtime needs nothing; nbtrack itself is left out, since
    # the project runs under either tracker (the runner installs nbtrack).
    requirements = [r for r in pinned(sorted(script.imports)) if not r.startswith("nbtrack==")]
    write_environment(out, requirements)
    nbformat.write(notebook, out / notebook_name)
    warnings = list(script.warnings)
    for parameter in script.parameters:
        if parameter.kind == "path" and not (out / str(parameter.default)).exists():
            warnings.append(
                f"parameter {parameter.name!r} defaults to the path {parameter.default!r}, "
                "which is not in the project folder: copy it there or pass "
                f"-P {parameter.name}=..."
            )
    return ExportedProject(out, script.parameters, requirements, warnings)


def export_mlproject(
    notebook_path: str | os.PathLike[str], out: str | os.PathLike[str]
) -> ExportedProject:
    """Write an MLproject folder for a notebook.

    Parameters
    ----------
    notebook_path:
        The ``.ipynb`` file.
    out:
        A new or empty folder.

    Returns
    -------
    ExportedProject

    Raises
    ------
    InvalidInput
        The notebook is missing or unreadable, a cell cannot be converted (its
        number is named), or ``out`` is not empty.
    """
    import nbformat

    source = Path(notebook_path)
    if not source.is_file():
        raise InvalidInput(f"No notebook at {source}")
    try:
        notebook = nbformat.read(source, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad files
        raise InvalidInput(f"Cannot read {source} as a notebook: {exc}") from None
    return _write_project(notebook, source.name, Path(out))


def export_run_lineage(
    run_id: str, out: str | os.PathLike[str], client: Client | None = None
) -> ExportedProject:
    """Write an MLproject folder from the code that really ran for a run, in the order it ran.

    The run's lineage (``nbt.lineage``) becomes a notebook, ``lineage.ipynb``,
    one cell per successful execution (failed ones are left out: they changed
    nothing a replay needs, or left state a replay cannot rebuild), which is
    then exported like any notebook.

    Raises
    ------
    NotFoundError
        No such run, or the run recorded no lineage.
    InvalidInput
        ``out`` is not empty, or a cell cannot be converted.
    """
    import nbformat

    from nbtrack.tracking.lineage import lineage

    executions = lineage(run_id, client)
    cells = [
        nbformat.v4.new_code_cell(
            e.source, metadata={"nbtrack": {"execution_count": e.execution_count}}
        )
        for e in executions
        if e.ok is not False
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["nbtrack"] = {"lineage_of_run": run_id}
    return _write_project(notebook, "lineage.ipynb", Path(out))
