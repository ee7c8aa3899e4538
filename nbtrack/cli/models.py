"""``nbtrack models list|show|alias|stage|delete``: the model registry from the shell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from nbtrack.cli import _output as out
from nbtrack.cli._common import get_client, json_option, tracking_uri_option
from nbtrack.cli.models_predict import predict_command
from nbtrack.errors import InvalidInput
from nbtrack.store.filter_text import equals

if TYPE_CHECKING:
    from nbtrack.entities import ModelVersion, RegisteredModel

__all__ = ["models"]


@click.group()
def models() -> None:
    """List registered models, show their versions, set aliases and stages, delete; score files."""


def _version_row(version: ModelVersion) -> dict[str, Any]:
    return {
        "name": version.name,
        "version": version.version,
        "aliases": sorted(version.aliases),
        "current_stage": version.current_stage,
        "run_id": version.run_id,
        "source": version.source,
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
        "description": version.description,
        "user_id": version.user_id,
        "tags": dict(sorted(version.tags.items())),
    }


def _model_row(model: RegisteredModel) -> dict[str, Any]:
    latest = max((v.version for v in model.latest_versions), default=None)
    return {
        "name": model.name,
        "latest_version": latest,
        "aliases": dict(sorted(model.aliases.items())),
        "stages": {v.current_stage: v.version for v in model.latest_versions},
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
        "description": model.description,
        "tags": dict(sorted(model.tags.items())),
    }


def _pairs(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items())


@models.command("list")
@click.option(
    "--filter",
    "filter_string",
    default="",
    metavar="FILTER",
    help="""e.g. "name LIKE 'iris%'" or "tags.team = 'ml'".""",
)
@click.option("--max-results", default=1000, show_default=True, type=click.IntRange(min=1))
@json_option
@tracking_uri_option
def list_models(filter_string: str, max_results: int, as_json: bool) -> None:
    """List registered models: latest version, aliases, stages, last update."""
    found = get_client().search_registered_models(filter_string or None, max_results)
    rows = [_model_row(model) for model in found]
    if as_json:
        out.echo_json(rows)
        return
    columns = [
        out.Column("name", required=True),
        out.Column("latest_version", "latest", align="right"),
        out.Column("aliases", fmt=_pairs, max_width=50),
        out.Column("stages", fmt=_pairs, priority=2),
        out.Column("last_updated_timestamp", "updated", fmt=out.format_time, align="left"),
        out.Column("description", priority=3),
    ]
    out.echo_table(rows, columns, out.terminal_width(), empty="No registered models found.")


def _find_version(name: str, reference: str) -> ModelVersion:
    client = get_client()
    if reference.startswith("@"):
        return client.get_model_version_by_alias(name, reference[1:])
    if not reference.isdigit():
        raise InvalidInput(f"Expected a version number or @alias, got {reference!r}")
    return client.get_model_version(name, int(reference))


@models.command("show")
@click.argument("name")
@click.argument("reference", required=False, metavar="[VERSION|@ALIAS]")
@json_option
@tracking_uri_option
def show_model(name: str, reference: str | None, as_json: bool) -> None:
    """Show a registered model and its versions, or one version (by number or @alias)."""
    if reference is not None:
        row = _version_row(_find_version(name, reference))
        if as_json:
            out.echo_json(row)
            return
        click.echo(f"Model version {row['name']} {row['version']}")
        for key in ("aliases", "current_stage", "run_id", "source", "user_id", "description"):
            value = ", ".join(row[key]) if key == "aliases" else row[key]
            click.echo(f"  {key.ljust(13)}  {out.format_value(value)}")
        click.echo(f"  {'created'.ljust(13)}  {out.format_time(row['creation_timestamp'])}")
        for key, value in row["tags"].items():
            click.echo(f"  tag {key} = {value}")
        return
    client = get_client()
    model = _model_row(client.get_registered_model(name))
    versions = [
        _version_row(v)
        for v in client.search_model_versions(
            equals("name", name), order_by=["version_number DESC"]
        )
    ]
    if as_json:
        out.echo_json({**model, "versions": versions})
        return
    click.echo(f"Registered model {model['name']}")
    click.echo(f"  description  {out.format_value(model['description'])}")
    click.echo(f"  aliases      {_pairs(model['aliases']) or '-'}")
    click.echo(f"  tags         {_pairs(model['tags']) or '-'}")
    click.echo(f"  updated      {out.format_time(model['last_updated_timestamp'])}")
    click.echo("")
    columns = [
        out.Column("version", required=True, align="right"),
        out.Column("aliases", fmt=lambda a: ", ".join(a)),
        out.Column("current_stage", "stage"),
        out.Column("run_id", "run", max_width=32),
        out.Column("creation_timestamp", "created", fmt=out.format_time, align="left"),
        out.Column("source", max_width=60, priority=2),
    ]
    out.echo_table(versions, columns, out.terminal_width(), empty="No versions yet.")


@models.command("alias")
@click.argument("name")
@click.argument("alias")
@click.argument("version", required=False, type=int)
@click.option("--delete", is_flag=True, help="Remove the alias instead of setting it.")
@tracking_uri_option
def alias_model(name: str, alias: str, version: int | None, delete: bool) -> None:
    """Point ALIAS of model NAME at VERSION (models:/NAME@ALIAS), or remove it with --delete."""
    client = get_client()
    if delete:
        if version is not None:
            raise click.UsageError("--delete takes no VERSION")
        client.delete_registered_model_alias(name, alias)
        click.echo(f"Removed alias {alias!r} of model {name!r}")
        return
    if version is None:
        raise click.UsageError("Give the VERSION the alias points at, or --delete")
    client.set_registered_model_alias(name, alias, version)
    click.echo(f"models:/{name}@{alias} -> version {version}")


@models.command("stage")
@click.argument("name")
@click.argument("version", type=int)
@click.argument("stage")
@click.option("--archive-existing", is_flag=True, help="Move other versions in STAGE to Archived.")
@tracking_uri_option
def stage_model(name: str, version: int, stage: str, archive_existing: bool) -> None:
    """Move VERSION of model NAME to STAGE (None, Staging, Production, Archived)."""
    moved = get_client().transition_model_version_stage(name, version, stage, archive_existing)
    click.echo(f"Model {name!r} version {version} is now in stage {moved.current_stage}")


@models.command("delete")
@click.argument("name")
@click.argument("version", required=False, type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@tracking_uri_option
def delete_model(name: str, version: int | None, yes: bool) -> None:
    """Delete VERSION of model NAME, or the whole model with every version.

    Registry entries are deleted for good; the runs and artifacts they point at stay.
    """
    client = get_client()
    if version is None:
        model = client.get_registered_model(name)
        count = len(client.search_model_versions(equals("name", name)))
        if not yes:
            click.confirm(
                f"Delete registered model {name!r} and its {count} version(s)?", abort=True
            )
        client.delete_registered_model(model.name)
        click.echo(f"Deleted registered model {name!r} ({count} version(s))")
        return
    client.get_model_version(name, version)
    if not yes:
        click.confirm(f"Delete version {version} of model {name!r}?", abort=True)
    client.delete_model_version(name, version)
    click.echo(f"Deleted version {version} of model {name!r}")


# Batch scoring lives in its own module; it belongs under `nbtrack models` as in MLflow's CLI.
models.add_command(predict_command)
