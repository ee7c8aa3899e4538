"""``nbtrack sync``: push the local store's runs to a team server, sending only what is new.

The target is an nbtrack server or a plain MLflow server; the first line of
output says which, and how run ids and links are kept there. The work is in
:mod:`nbtrack.sync`; this module parses options and prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nbtrack.cli._common import get_client, tracking_uri_option

if TYPE_CHECKING:
    from nbtrack.sync.engine import SyncReport

__all__ = ["print_report", "sync"]


def print_report(report: SyncReport) -> None:
    """Print a sync's per-run lines, conflicts (on stderr) and one summary line."""
    for line, problem in report.lines():
        click.echo(line, err=problem)


@click.command("sync")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="URI",
    help="The server to push to: http(s)://host:port of an nbtrack or MLflow server.",
)
@click.option(
    "--experiment",
    "experiments",
    multiple=True,
    metavar="NAME",
    help="Push only this experiment (repeat for several). Default: every experiment.",
)
@click.option(
    "--from",
    "source",
    metavar="URI",
    help="The local store to push from. Default: the tracking URI in force.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send nothing.")
@click.option(
    "--progress/--no-progress",
    default=True,
    show_default=True,
    help="Show progress bars of runs and bytes.",
)
@tracking_uri_option
def sync(
    to: str, experiments: tuple[str, ...], source: str | None, dry_run: bool, progress: bool
) -> None:
    """Push runs, metrics, artifacts and registered models to a team server.

    What was sent is recorded in the local store, so running it again sends
    only what is new (points appended to a running run included). A run id that
    exists on the server with other content is reported and skipped, never
    overwritten. A sync that stops midway loses nothing: run it again.
    """
    from nbtrack.sync.engine import sync as run_sync

    if source is not None:
        from nbtrack.tracking.client import Client

        store = Client(source).store
    else:
        store = get_client().store
    report = run_sync(
        store,
        to,
        experiments or None,
        dry_run=dry_run,
        progress=progress,
        announce=click.echo,
    )
    print_report(report)
