"""``nbtrack artifacts list|download``: a run's files."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from nbtrack.cli import _output as out
from nbtrack.cli._common import get_client, json_option, resolve_run, tracking_uri_option
from nbtrack.errors import NotFoundError

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client

__all__ = ["artifacts", "list_entries", "walk_artifacts"]


@click.group()
def artifacts() -> None:
    """List and download the artifacts of a run."""


def _row(info: Any) -> dict[str, Any]:
    return {"path": info.path, "is_dir": info.is_dir, "file_size": info.file_size}


def walk_artifacts(
    client: Client, run_id: str, path: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Return every file and folder under ``path``, sorted, at most ``limit`` of them."""
    found: list[dict[str, Any]] = []
    pending = [path]
    while pending and (limit is None or len(found) < limit):
        for info in client.list_artifacts(run_id, pending.pop(0)):
            found.append(_row(info))
            if info.is_dir:
                pending.append(info.path)
    found.sort(key=lambda f: f["path"])
    return found if limit is None else found[:limit]


def list_entries(client: Client, run_id: str, path: str | None) -> list[dict[str, Any]]:
    """Return the entries under ``path``; a file path lists that file alone.

    Raises
    ------
    NotFoundError
        ``path`` names neither a file nor a folder of the run.
    """
    entries = [_row(i) for i in client.list_artifacts(run_id, path)]
    if entries or not path or not path.strip("/."):
        return entries
    norm = path.strip("/")
    parent = norm.rsplit("/", 1)[0] if "/" in norm else None
    for info in client.list_artifacts(run_id, parent):
        if info.path == norm:
            return [] if info.is_dir else [_row(info)]
    raise NotFoundError(f"Run {run_id} has no artifact {path!r}")


@artifacts.command("list")
@click.argument("run_id")
@click.argument("path", required=False)
@click.option("-r", "--recursive", is_flag=True, help="List the contents of folders too.")
@json_option
@tracking_uri_option
def list_artifacts(run_id: str, path: str | None, recursive: bool, as_json: bool) -> None:
    """List a run's artifacts (under PATH, a folder of the run, when given).

    RUN_ID may be the full id or a unique prefix of at least 4 characters.
    """
    client = get_client()
    run = resolve_run(client, run_id)
    rid = run.info.run_id
    entries = list_entries(client, rid, path)
    if recursive and entries:
        entries = walk_artifacts(client, rid, path)
    if as_json:
        out.echo_json(entries)
        return
    rows = [{**e, "path": e["path"] + ("/" if e["is_dir"] else "")} for e in entries]
    columns = [
        out.Column("path", max_width=120, required=True),
        out.Column("file_size", "size", fmt=out.format_bytes),
    ]
    where = f" under {path!r}" if path else ""
    out.echo_table(rows, columns, None, empty=f"No artifacts{where} in run {rid}.")


@artifacts.command("download")
@click.argument("run_id")
@click.argument("path", required=False, default="")
@click.option(
    "-d",
    "--dst",
    "dst_path",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Local folder to copy into (created if missing). Default: a new temporary folder.",
)
@tracking_uri_option
def download_artifacts(run_id: str, path: str, dst_path: str | None) -> None:
    """Copy a run's artifact file or folder (everything by default) to the local disk.

    Prints the local path of the copy.
    """
    client = get_client()
    run = resolve_run(client, run_id)
    click.echo(client.download_artifacts(run.info.run_id, path, dst_path))
