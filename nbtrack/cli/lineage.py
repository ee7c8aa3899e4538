"""``nbtrack lineage RUN_ID``: the code run in the kernel up to a run's end, as a script."""

from __future__ import annotations

from typing import IO

import click

from nbtrack.cli._common import get_client, resolve_run, tracking_uri_option

__all__ = ["lineage"]


@click.command()
@click.argument("run_id")
@click.option(
    "-o", "--output", type=click.File("w"), default="-", help="Write to FILE (default: stdout)."
)
@tracking_uri_option
def lineage(run_id: str, output: IO[str]) -> None:
    """Print the code run in the kernel up to RUN_ID's end, in execution order.

    Works for runs made by %%track; IPython-only lines (magics, shell escapes)
    are commented out so that `nbtrack lineage RUN_ID > replay.py` runs.
    """
    from nbtrack.tracking.lineage import lineage as run_lineage
    from nbtrack.tracking.lineage import lineage_script

    client = get_client()
    run = resolve_run(client, run_id)
    output.write(lineage_script(run_lineage(run.info.run_id, client)))
