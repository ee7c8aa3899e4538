"""``nbtrack import-mlflow SOURCE``: copy an MLflow store into an nbtrack store.

SOURCE is any MLflow tracking URI; the target is ``--to`` or the store in
force (``--tracking-uri`` / ``NBTRACK_TRACKING_URI`` / ``.nbtrack/``). The
work is :func:`nbtrack.migrate.importer.import_mlflow`: resumable, idempotent,
and the source is only read.
"""

from __future__ import annotations

import json
import sys

import click

from nbtrack.cli._common import get_client, json_option, tracking_uri_option

__all__ = ["import_mlflow"]


@click.command("import-mlflow")
@click.argument("source")
@click.option(
    "--experiment",
    "-e",
    "experiments",
    multiple=True,
    metavar="NAME",
    help="Copy only this experiment (repeat for more). Default: every experiment.",
)
@click.option(
    "--to", "to", metavar="URI", help="The nbtrack store to copy into. Default: the one in force."
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@json_option
@tracking_uri_option
def import_mlflow(
    source: str, experiments: tuple[str, ...], to: str | None, quiet: bool, as_json: bool
) -> None:
    """Copy an MLflow store: experiments, runs (ids kept), metric histories, artifacts,
    logged models, registered models with versions, aliases, stages, and prompts.

    SOURCE is sqlite:///mlflow.db, an ./mlruns folder, postgresql://… or an
    MLflow server http://host:5000. It is opened read-only and never written.
    Running the command again copies only what is missing, so an import cut
    off by Ctrl-C resumes where it stopped.
    """
    from nbtrack.migrate.importer import import_mlflow as run_import
    from nbtrack.tracking.client import Client

    target = Client(to) if to else get_client(create=True)
    try:
        summary = run_import(
            source, target, experiments or None, progress=not quiet and not as_json
        )
    except KeyboardInterrupt:
        # Every write is atomic and each run is marked complete last: nothing to undo.
        click.echo("Interrupted: run the same command again to resume where it stopped.", err=True)
        sys.exit(130)
    if as_json:
        click.echo(json.dumps(summary.__dict__, indent=2, sort_keys=True))
        return
    runs = ", ".join(f"{n} {action}" for action, n in sorted(summary.runs.items())) or "none"
    click.echo(
        f"Imported {summary.source} into {summary.target}: {summary.experiments} experiments; "
        f"runs: {runs}; {summary.points:,} metric points, {summary.bytes:,} artifact bytes; "
        f"{summary.registered_models} registered models and prompts "
        f"({summary.model_versions} new versions)"
    )
    for reason in summary.conflicts:
        click.echo(f"Skipped (conflict): {reason}", err=True)
