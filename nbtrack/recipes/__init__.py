"""Recipes: notebook templates that run a whole model workflow end to end.

MLflow removed its recipes in 3.0; nbtrack's are plain notebooks.
``nbtrack recipes new classification|regression NAME`` writes ``NAME.ipynb``:
a ``parameters`` cell (papermill's convention, read by ``nbtrack export`` and
``nbtrack run``), then one ``%%track`` cell per step (ingest, split, train,
evaluate with ``nbt.evaluate``, register), each a run in the experiment
``NAME``. The data is a dataset bundled with scikit-learn, so a new recipe runs
as written, offline; replace the ingest step with your own data.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from nbtrack.errors import AlreadyExistsError, InvalidInput

__all__ = ["RECIPES", "new_recipe", "recipe_notebook"]

#: Recipe kind -> module holding its steps.
RECIPES = {
    "classification": "nbtrack.recipes.classification",
    "regression": "nbtrack.recipes.regression",
}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name):
        raise InvalidInput(
            f"Recipe name {name!r} must start with a letter or digit and hold only letters, "
            "digits, '_', '.' and '-' (it names the notebook, the experiment and the model)"
        )


def recipe_notebook(kind: str, name: str) -> Any:
    """Return the recipe notebook (an ``nbformat`` node) of ``kind`` for ``name``.

    Raises
    ------
    InvalidInput
        An unknown kind or an invalid name.
    """
    import importlib

    import nbformat

    if kind not in RECIPES:
        raise InvalidInput(f"Unknown recipe {kind!r}; known: {', '.join(sorted(RECIPES))}")
    _check_name(name)
    steps = importlib.import_module(RECIPES[kind])
    cells = []
    for cell_type, source, tags in steps.cells(name):
        make = (
            nbformat.v4.new_markdown_cell if cell_type == "markdown" else nbformat.v4.new_code_cell
        )
        cell = make(source.strip("\n"))
        if tags:
            cell.metadata["tags"] = list(tags)
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    notebook.metadata["nbtrack"] = {"recipe": kind}
    return notebook


def new_recipe(
    kind: str, name: str, folder: str | os.PathLike[str] = ".", force: bool = False
) -> Path:
    """Write the recipe notebook ``<folder>/<name>.ipynb`` and return its path.

    Raises
    ------
    InvalidInput
        An unknown kind or an invalid name.
    AlreadyExistsError
        The notebook exists (pass ``force=True`` to overwrite it).
    """
    import nbformat

    notebook = recipe_notebook(kind, name)
    path = Path(folder) / f"{name}.ipynb"
    if path.exists() and not force:
        raise AlreadyExistsError(f"{path} exists; pick another name or overwrite it with --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path
