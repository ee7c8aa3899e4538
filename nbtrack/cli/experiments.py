"""``nbtrack experiments list|create|delete|restore``."""

from __future__ import annotations

import click

from nbtrack.cli import _output as out
from nbtrack.cli._common import (
    VIEWS,
    get_client,
    json_option,
    resolve_experiment,
    tracking_uri_option,
)

__all__ = ["experiments"]


@click.group()
def experiments() -> None:
    """List, create, delete and restore experiments."""


@experiments.command("list")
@click.option(
    "--view",
    type=click.Choice(list(VIEWS)),
    default="active",
    show_default=True,
    help="Active experiments, deleted ones, or both.",
)
@json_option
@tracking_uri_option
def list_experiments(view: str, as_json: bool) -> None:
    """List experiments: id, name, stage, creation time and artifact location."""
    found = get_client().search_experiments(
        VIEWS[view], max_results=1_000_000, order_by=["creation_time ASC"]
    )
    rows = [
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "lifecycle_stage": e.lifecycle_stage,
            "creation_time": e.creation_time,
            "last_update_time": e.last_update_time,
            "artifact_location": e.artifact_location,
            "tags": e.tags,
        }
        for e in found
    ]
    if as_json:
        out.echo_json(rows)
        return
    columns = [
        out.Column("experiment_id", "id", required=True, align="right"),
        out.Column("name", required=True),
        out.Column("lifecycle_stage", "stage"),
        out.Column("creation_time", "created", fmt=out.format_time, align="left"),
        out.Column("artifact_location", max_width=80),
    ]
    out.echo_table(rows, columns, out.terminal_width(), empty="No experiments found.")


@experiments.command("create")
@click.argument("name")
@click.option(
    "--artifact-location",
    metavar="URI",
    help="Where the experiment's artifacts go (default: under the store's artifact root).",
)
@tracking_uri_option
def create_experiment(name: str, artifact_location: str | None) -> None:
    """Create an experiment and print its id."""
    click.echo(get_client(create=True).create_experiment(name, artifact_location))


@experiments.command("delete")
@click.argument("name_or_id")
@tracking_uri_option
def delete_experiment(name_or_id: str) -> None:
    """Move an experiment (and with it its runs) to the bin.

    `nbtrack experiments restore` brings it back; `nbtrack gc` purges it for good.
    """
    client = get_client()
    exp = resolve_experiment(client, name_or_id)
    client.delete_experiment(exp.experiment_id)
    click.echo(f"Deleted experiment {exp.name!r} (id {exp.experiment_id})")


@experiments.command("restore")
@click.argument("name_or_id")
@tracking_uri_option
def restore_experiment(name_or_id: str) -> None:
    """Bring a deleted experiment back."""
    client = get_client()
    exp = resolve_experiment(client, name_or_id)
    client.restore_experiment(exp.experiment_id)
    click.echo(f"Restored experiment {exp.name!r} (id {exp.experiment_id})")
