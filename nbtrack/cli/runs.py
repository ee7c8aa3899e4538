"""``nbtrack runs list|show|delete|restore``: the run table and one run's details."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from nbtrack.cli import _output as out
from nbtrack.cli._common import (
    VIEWS,
    get_client,
    json_option,
    resolve_experiment,
    resolve_run,
    tracking_uri_option,
)
from nbtrack.cli._runtable import duration_ms, echo_runs
from nbtrack.cli.artifacts import walk_artifacts
from nbtrack.entities import LifecycleStage, ViewType

__all__ = ["runs"]

_PREFIXES = ("metrics.", "params.", "tags.")
_MAX_ARTIFACTS = 200  # entries `runs show` lists; `artifacts list -r` shows them all


@click.group()
def runs() -> None:
    """List, inspect, delete and restore runs."""


def _parse_columns(_ctx: click.Context, _param: click.Parameter, value: Sequence[str]) -> Any:
    if not value:
        return None
    keys = [k.strip() for item in value for k in item.split(",") if k.strip()]
    for key in keys:
        if not key.startswith(_PREFIXES) or key.endswith("."):
            raise click.BadParameter(f"{key!r} is not metrics.<key>, params.<key> or tags.<key>")
    return keys


@runs.command("list")
@click.option(
    "-e",
    "--experiment",
    "experiments",
    multiple=True,
    metavar="NAME_OR_ID",
    help="Experiment to list (repeatable). Default: every experiment.",
)
@click.option(
    "--filter",
    "filter_string",
    default="",
    metavar="EXPR",
    help="Search filter, e.g. \"metrics.rmse < 0.5 AND params.lr = '0.1'\".",
)
@click.option(
    "--order-by",
    multiple=True,
    metavar="KEY [ASC|DESC]",
    help='Sort key (repeatable), e.g. "metrics.rmse ASC". Default: newest first.',
)
@click.option(
    "--max-results",
    default=100,
    show_default=True,
    type=click.IntRange(min=1),
    help="At most this many runs.",
)
@click.option(
    "--view",
    type=click.Choice(list(VIEWS)),
    default="active",
    show_default=True,
    help="Active runs, deleted (binned) runs, or both.",
)
@click.option(
    "--columns",
    multiple=True,
    callback=_parse_columns,
    metavar="KEY,…",
    help="Table columns after the fixed ones, e.g. params.alpha,metrics.rmse. "
    "Default: every metric and param that fits. JSON always has every field.",
)
@json_option
@tracking_uri_option
def list_runs(
    experiments: tuple[str, ...],
    filter_string: str,
    order_by: tuple[str, ...],
    max_results: int,
    view: str,
    columns: list[str] | None,
    as_json: bool,
) -> None:
    """List runs as a table: id, name, status, start, duration, metrics and params.

    JSON rows carry the full run id, times in ms since the epoch, and every
    metric, param and tag as "metrics.<key>", "params.<key>", "tags.<key>",
    the columns of nbtrack.search_runs().
    """
    client = get_client()
    if experiments:
        ids = list(dict.fromkeys(resolve_experiment(client, e).experiment_id for e in experiments))
    else:
        stage = ViewType.ACTIVE_ONLY if view == "active" else ViewType.ALL
        ids = [e.experiment_id for e in client.search_experiments(stage, 1_000_000)]
    echo_runs(
        client, ids, filter_string, VIEWS[view], order_by or None, max_results, columns, as_json
    )


def _section(title: str, pairs: dict[str, Any], fmt: Any = out.format_value) -> None:
    click.echo(f"\n{title}:")
    if not pairs:
        click.echo("  (none)")
        return
    width = max(map(len, pairs))
    for key, value in pairs.items():
        click.echo(f"  {key.ljust(width)}  {fmt(value)}")


@runs.command("show")
@click.argument("run_id")
@json_option
@tracking_uri_option
def show_run(run_id: str, as_json: bool) -> None:
    """Show one run: info, params, metrics, tags, inputs and artifacts.

    RUN_ID may be the full id or a unique prefix of at least 4 characters.
    """
    client = get_client()
    run = resolve_run(client, run_id)
    info = run.info
    exp = client.get_experiment(info.experiment_id)
    artifacts = walk_artifacts(client, info.run_id, limit=_MAX_ARTIFACTS)
    inputs: list[dict[str, Any]] = [
        {
            "name": d.dataset.name,
            "digest": d.dataset.digest,
            "source": d.dataset.source,
            "tags": d.tags,
        }
        for d in run.inputs.dataset_inputs
    ]
    if as_json:
        out.echo_json(
            {
                "info": {
                    "run_id": info.run_id,
                    "run_name": info.run_name,
                    "experiment_id": info.experiment_id,
                    "experiment_name": exp.name,
                    "status": info.status,
                    "start_time": info.start_time,
                    "end_time": info.end_time,
                    "duration_ms": duration_ms(run),
                    "artifact_uri": info.artifact_uri,
                    "lifecycle_stage": info.lifecycle_stage,
                    "user_id": info.user_id,
                },
                "params": dict(sorted(run.data.params.items())),
                "metrics": dict(sorted(run.data.metrics.items())),
                "tags": dict(sorted(run.data.tags.items())),
                "inputs": inputs,
                "artifacts": artifacts,
            }
        )
        return
    click.echo(f"Run {info.run_id}  {info.run_name}")
    deleted = "  (deleted)" if info.lifecycle_stage == LifecycleStage.DELETED else ""
    click.echo(f"  experiment  {exp.name} (id {exp.experiment_id})")
    click.echo(f"  status      {info.status}{deleted}")
    click.echo(f"  start       {out.format_time(info.start_time)}")
    click.echo(f"  end         {out.format_time(info.end_time)}")
    click.echo(f"  duration    {out.format_duration(duration_ms(run))}")
    click.echo(f"  user        {info.user_id}")
    click.echo(f"  artifacts   {info.artifact_uri}")
    _section("Params", dict(sorted(run.data.params.items())))
    _section("Metrics", dict(sorted(run.data.metrics.items())))
    _section("Tags", dict(sorted(run.data.tags.items())))
    if inputs:
        _section("Inputs", {d["name"]: f"digest {d['digest']}  {d['source']}" for d in inputs})
    click.echo("\nArtifacts:")
    if not artifacts:
        click.echo("  (none)")
    for item in artifacts:
        name = item["path"] + ("/" if item["is_dir"] else "")
        click.echo(f"  {name}  {out.format_bytes(item['file_size'])}".rstrip())
    if len(artifacts) >= _MAX_ARTIFACTS:
        click.echo(
            f"  … (first {_MAX_ARTIFACTS}; see `nbtrack artifacts list -r {info.run_id[:8]}`)"
        )


def _change_stage(run_ids: tuple[str, ...], restore: bool) -> None:
    client = get_client()
    found = [resolve_run(client, r) for r in run_ids]  # every id checked before any change
    for run in found:
        info = run.info
        if restore:
            client.restore_run(info.run_id)
        else:
            client.delete_run(info.run_id)
        verb = "Restored" if restore else "Deleted"
        click.echo(f"{verb} run {info.run_id} ({info.run_name})")
    if not restore:
        click.echo("Deleted runs stay in the bin until `nbtrack gc` purges them.")


@runs.command("delete")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@tracking_uri_option
def delete_runs(run_ids: tuple[str, ...]) -> None:
    """Move runs to the bin (restore them with `nbtrack runs restore`)."""
    _change_stage(run_ids, restore=False)


@runs.command("restore")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@tracking_uri_option
def restore_runs(run_ids: tuple[str, ...]) -> None:
    """Bring deleted runs back from the bin."""
    _change_stage(run_ids, restore=True)
