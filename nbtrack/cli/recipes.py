"""``nbtrack recipes``: write a notebook that runs a model workflow end to end."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["recipes"]


@click.group()
def recipes() -> None:
    """Notebook templates: ingest, split, train, evaluate and register, each a %%track cell."""


@recipes.command("new")
@click.argument("kind", type=click.Choice(["classification", "regression"]))
@click.argument("name")
@click.option(
    "-d",
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Where to write NAME.ipynb (default: here).",
)
@click.option("--force", is_flag=True, help="Overwrite NAME.ipynb if it exists.")
def new(kind: str, name: str, folder: Path, force: bool) -> None:
    """Write NAME.ipynb, a KIND recipe on a dataset bundled with scikit-learn.

    NAME also names the experiment and the registered model. Open it with
    `jupyter lab NAME.ipynb` and run all cells; `nbtrack export NAME.ipynb OUT
    --to mlproject` turns it into an MLproject.
    """
    from nbtrack.recipes import new_recipe

    path = new_recipe(kind, name, folder, force)
    click.echo(f"Wrote {path}; open it with: jupyter lab {path}")
