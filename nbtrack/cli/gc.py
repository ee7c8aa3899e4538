"""``nbtrack gc``: purge binned runs and experiments for good, artifacts included.

Deleting a run only moves it to the bin; its rows and files stay until this
command purges them. The store deletes the rows in one transaction and returns
each purged run's artifact location; the folders are removed afterwards, so a
folder that cannot be removed is reported but never leaves half a run in the
database.
"""

from __future__ import annotations

import re
import time

import click

from nbtrack.cli._common import get_client, tracking_uri_option

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


@click.command("gc")
@click.option(
    "--older-than",
    callback=_age_option,
    metavar="AGE",
    help="Purge only what was deleted at least this long ago: 30d, 12h, 15m, 90s, 0s. "
    "Default: everything in the bin.",
)
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
@tracking_uri_option
def gc(older_than: int | None, dry_run: bool) -> None:
    """Purge deleted runs and experiments for good, with their artifact folders.

    Runs deleted with `nbtrack runs delete`, and deleted experiments with all
    their runs, are removed from the store and their artifacts deleted. This
    cannot be undone.
    """
    cutoff = None if older_than is None else int(time.time() * 1000) - older_than
    purge = get_client().purge_deleted(cutoff, dry_run=dry_run)
    verb = "Would purge" if dry_run else "Purged"
    failed = dict(purge.failed)
    for run_id, artifact_uri in purge.runs:
        if artifact_uri in failed:
            click.echo(
                f"Purged run {run_id}, but could not delete {artifact_uri}: {failed[artifact_uri]}",
                err=True,
            )
        else:
            click.echo(f"{verb} run {run_id} and {artifact_uri}")
    for exp_id, name in purge.experiments:
        click.echo(f"{verb} experiment {name!r} (id {exp_id})")
    runs, exps = _count(len(purge.runs), "run"), _count(len(purge.experiments), "experiment")
    click.echo(f"{runs} and {exps} would be purged." if dry_run else f"Purged {runs} and {exps}.")
    if failed:
        raise click.ClickException(f"{_count(len(failed), 'artifact folder')} could not be deleted")
