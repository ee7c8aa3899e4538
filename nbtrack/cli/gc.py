"""``nbtrack gc``: purge binned runs and experiments for good, artifacts included.

Deleting a run only moves it to the bin; its rows and files stay until this
command purges them. The store deletes the rows in one transaction and returns
each purged run's artifact location; the folders are removed afterwards, so a
folder that cannot be removed is reported but never leaves half a run in the
database.
"""

from __future__ import annotations

import contextlib
import os
import re
import time

import click

from nbtrack.cli._common import get_client, tracking_uri_option
from nbtrack.entities import ViewType
from nbtrack.errors import NbtrackError

__all__ = ["gc", "parse_age"]

_UNITS_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_age(text: str) -> int:
    """Return ``30d``, ``12h``, ``15m``, ``90s``, ``2w`` (or ``0``) in milliseconds."""
    if text.strip() == "0":
        return 0
    match = _AGE.match(text.lower())
    if match is None:
        raise click.BadParameter(f"{text!r} is not an age like 30d, 12h, 15m, 90s or 0s")
    return int(float(match.group(1)) * _UNITS_MS[match.group(2)])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _age_option(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else parse_age(value)


def _delete_folder(run_id: str, artifact_uri: str) -> None:
    from nbtrack.store.artifacts import ArtifactRepository

    ArtifactRepository(artifact_uri).delete_all()
    # Runs' folders are <experiment>/<run_id>/artifacts: drop the emptied <run_id> level too.
    if "://" not in artifact_uri:
        parent = os.path.dirname(os.path.normpath(artifact_uri))
        if os.path.basename(parent) == run_id:
            with contextlib.suppress(OSError):  # not empty: something else lives there
                os.rmdir(parent)


def _dry_run(older_than: int | None) -> None:
    client = get_client()
    deleted_exps = client.search_experiments(ViewType.DELETED_ONLY, 1_000_000)
    active = [e.experiment_id for e in client.search_experiments(ViewType.ACTIVE_ONLY, 1_000_000)]
    from nbtrack.cli._runtable import search

    binned, _ = search(client, active, view=ViewType.DELETED_ONLY, max_results=10**9)
    in_exps, _ = search(
        client, [e.experiment_id for e in deleted_exps], view=ViewType.ALL, max_results=10**9
    )
    for run in [*binned, *in_exps]:
        click.echo(
            f"Would purge run {run.info.run_id} ({run.info.run_name}) and {run.info.artifact_uri}"
        )
    for exp in deleted_exps:
        click.echo(f"Would purge experiment {exp.name!r} (id {exp.experiment_id})")
    if older_than is not None and binned:
        click.echo(
            "Note: a dry run cannot tell when runs were deleted, so it lists every binned run; "
            "--older-than keeps those deleted more recently."
        )
    runs, exps = _count(len(binned) + len(in_exps), "run"), _count(len(deleted_exps), "experiment")
    click.echo(f"{runs} and {exps} would be purged.")


@click.command("gc")
@click.option(
    "--older-than",
    callback=_age_option,
    metavar="AGE",
    help="Purge only runs deleted at least this long ago: 30d, 12h, 15m, 90s, 0s. "
    "Default: every binned run. Deleted experiments are purged, with all their runs, "
    "whatever their age.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
@tracking_uri_option
def gc(older_than: int | None, dry_run: bool) -> None:
    """Purge deleted runs and experiments for good, with their artifact folders.

    Runs deleted with `nbtrack runs delete` (or in a deleted experiment) are
    removed from the store and their artifacts deleted. This cannot be undone.
    """
    if dry_run:
        _dry_run(older_than)
        return
    client = get_client()
    deleted_exps = client.search_experiments(ViewType.DELETED_ONLY, 1_000_000)
    cutoff = None if older_than is None else int(time.time() * 1000) - older_than
    purged = client.store.purge_deleted(cutoff)
    failures = 0
    for run_id, artifact_uri in purged:
        try:
            _delete_folder(run_id, artifact_uri)
        except (OSError, NbtrackError) as exc:
            failures += 1
            click.echo(f"Purged run {run_id}, but could not delete {artifact_uri}: {exc}", err=True)
            continue
        click.echo(f"Purged run {run_id} and {artifact_uri}")
    for exp in deleted_exps:
        click.echo(f"Purged experiment {exp.name!r} (id {exp.experiment_id})")
    click.echo(
        f"Purged {_count(len(purged), 'run')} and {_count(len(deleted_exps), 'experiment')}."
    )
    if failures:
        raise click.ClickException(f"{_count(failures, 'artifact folder')} could not be deleted")
