"""``nbtrack export`` (notebook → MLproject or model folder) and ``nbtrack run`` (an MLproject)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import click

from nbtrack.cli._common import get_client, state, tracking_uri_option

__all__ = ["export", "run"]


def _pairs(_ctx: click.Context, _param: click.Parameter, items: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}")
        values[key] = value
    return values


_param_option = click.option(
    "-P",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    callback=_pairs,
    help="A parameter value (repeatable).",
)


def _literal(text: str) -> Any:
    """A -P value for a notebook: a Python literal when it reads as one, else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


@click.command()
@click.argument("paths", nargs=-1, metavar="[NOTEBOOK] OUT", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "target",
    type=click.Choice(["mlproject", "model"]),
    required=True,
    help="An MLproject folder, or the model folder the notebook produces.",
)
@click.option("--from-run", metavar="RUN_ID", help="Build the project from a run's lineage.")
@click.option("--model-var", metavar="NAME", help="With --to model: the variable holding it.")
@_param_option
@tracking_uri_option
def export(
    paths: tuple[Path, ...],
    target: str,
    from_run: str | None,
    model_var: str | None,
    params: dict[str, str],
) -> None:
    """Export NOTEBOOK (or --from-run RUN_ID's code) to OUT.

    \b
    --to mlproject: MLproject, main.py, python_env.yaml, requirements.txt and
      the notebook; run it with `nbtrack run OUT -P name=value` or
      `mlflow run OUT --env-manager local`.
    --to model: executes the notebook (with -P values injected after its
      `parameters` cell) and writes the model it produced; serve it with
      `nbtrack serve OUT`.
    """
    import sys

    from nbtrack.cli._common import resolve_run

    # nbformat imports jsonschema, which imports rfc3987_syntax when installed
    # (JupyterLab pulls it in): 2+ s building a grammar for an IRI format check
    # that notebook validation never uses. This process does not need it.
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    if not paths or len(paths) > 2:
        raise click.UsageError("Give NOTEBOOK OUT, or OUT with --from-run RUN_ID")
    notebook, out = (None, paths[0]) if len(paths) == 1 else paths
    if target == "model":
        if notebook is None or from_run:
            raise click.UsageError("--to model needs a NOTEBOOK (and no --from-run)")
        from nbtrack.projects.model_export import export_model

        parameters = {k: _literal(v) for k, v in params.items()}
        done = export_model(notebook, out, model_var, parameters, client=get_client(create=True))
        click.echo(f"Wrote the model of run {done.run_id} to {done.path}")
        return
    if params or model_var:
        raise click.UsageError("-P and --model-var apply to --to model only")
    from nbtrack.projects.export import export_mlproject, export_run_lineage

    if from_run:
        if notebook is not None:
            raise click.UsageError("Give a NOTEBOOK or --from-run, not both")
        run_id = resolve_run(get_client(), from_run).info.run_id
        project = export_run_lineage(run_id, out, get_client())
    elif notebook is None:
        raise click.UsageError("Give the NOTEBOOK to export, or --from-run RUN_ID")
    else:
        project = export_mlproject(notebook, out)
    for warning in project.warnings:
        click.echo(f"warning: {warning}", err=True)
    names = ", ".join(p.name for p in project.parameters) or "none"
    click.echo(f"Wrote {project.path} (parameters: {names})")


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("uri")
@_param_option
@click.option(
    "-e",
    "--entry-point",
    default="main",
    show_default=True,
    help="An entry point of MLproject, or a .py/.sh file of the project.",
)
@click.option(
    "--env-manager",
    type=click.Choice(["local", "virtualenv"]),
    default="local",
    show_default=True,
    help="local: this Python environment; virtualenv: one built from python_env.yaml.",
)
@click.option("--experiment-name", help="The experiment of the run (created if needed).")
@click.option("--run-name", help="The run's name.")
@tracking_uri_option
def run(
    uri: str,
    params: dict[str, str],
    entry_point: str,
    env_manager: str,
    experiment_name: str | None,
    run_name: str | None,
) -> None:
    """Run the MLproject at URI (a local folder) as a tracked run.

    Parameters are checked against MLproject's types before anything runs;
    the command's output streams through and its exit code is returned.
    """
    from nbtrack.projects.runner import run_project

    result = run_project(
        uri,
        params,
        entry_point=entry_point,
        env_manager=env_manager,
        experiment_name=experiment_name,
        run_name=run_name,
        # The store opens while the project's process starts (see run_project).
        tracking_uri=state().tracking_uri,
    )
    click.echo(f"Run {result.run_id} {result.status}", err=True)
    if result.exit_code != 0:
        raise SystemExit(result.exit_code)
