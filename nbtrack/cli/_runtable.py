"""The run table shared by ``runs list`` and ``quickstart``: search, rows, columns, printing.

Rows are keyed like ``nbtrack.search_runs``' DataFrame columns (``run_id``,
``metrics.<key>``, ``params.<key>``, ``tags.<key>``…), so ``--columns``, the
table headers, ``--filter`` and the JSON output all use the same names.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from nbtrack.cli import _output as out
from nbtrack.entities import RunStatus, ViewType

if TYPE_CHECKING:
    from nbtrack.entities import Run
    from nbtrack.tracking.client import Client

__all__ = ["duration_ms", "echo_runs", "run_rows", "search", "table_columns"]

_PAGE = 50_000


def duration_ms(run: Run) -> int | None:
    """Return how long a run took (so far, while RUNNING), in ms; None when unknown."""
    start, end = run.info.start_time, run.info.end_time
    if start is None:
        return None
    if end is None:
        return int(time.time() * 1000) - start if run.info.status == RunStatus.RUNNING else None
    return end - start


def run_rows(found: Sequence[Run], exp_names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Return one flat row per run, keyed like ``nbt.search_runs``' DataFrame columns."""
    rows = []
    for run in found:
        info = run.info
        row: dict[str, Any] = {
            "run_id": info.run_id,
            "run_name": info.run_name,
            "experiment_id": info.experiment_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "duration_ms": duration_ms(run),
            "lifecycle_stage": info.lifecycle_stage,
            "user_id": info.user_id,
            "artifact_uri": info.artifact_uri,
        }
        if exp_names is not None:
            row["experiment"] = exp_names.get(info.experiment_id, info.experiment_id)
        row.update({f"metrics.{k}": v for k, v in sorted(run.data.metrics.items())})
        row.update({f"params.{k}": v for k, v in sorted(run.data.params.items())})
        row.update({f"tags.{k}": v for k, v in sorted(run.data.tags.items())})
        rows.append(row)
    return rows


def table_columns(
    rows: Sequence[dict[str, Any]],
    chosen: Sequence[str] | None,
    with_experiment: bool = False,
    with_stage: bool = False,
) -> list[out.Column]:
    """Return the run table's columns: id, name, status, start, duration, metrics, params."""
    cols = [
        out.Column("run_id", fmt=lambda v: v[:8], required=True),
        out.Column("run_name", "name", max_width=30, required=True),
    ]
    if with_experiment:
        cols.append(out.Column("experiment", max_width=20, priority=4))
    cols += [
        out.Column("status", required=True),
        *([out.Column("lifecycle_stage", "stage", required=True)] if with_stage else []),
        out.Column("start_time", "start", fmt=out.format_time, priority=3, align="left"),
        out.Column("duration_ms", "duration", fmt=out.format_duration, priority=2),
    ]
    if chosen is None:
        keys = {k for row in rows for k in row if k.startswith(("metrics.", "params."))}
        extra = sorted(k for k in keys if k.startswith("metrics.")) + sorted(
            k for k in keys if k.startswith("params.")
        )
    else:
        extra = list(chosen)
    return cols + [out.Column(k, max_width=24) for k in extra]


def search(
    client: Client,
    experiment_ids: Sequence[str],
    filter_string: str = "",
    view: str = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int = 100,
) -> tuple[list[Run], bool]:
    """Return up to ``max_results`` matching runs, and whether more runs match."""
    found: list[Run] = []
    token: str | None = None
    while experiment_ids:
        page = client.search_runs(
            experiment_ids,
            filter_string,
            view,
            min(max_results - len(found), _PAGE),
            order_by,
            token,
        )
        found.extend(page)
        token = page.token
        if not token or len(found) >= max_results:
            return found, bool(token)
    return found, False


def echo_runs(
    client: Client,
    experiment_ids: Sequence[str],
    filter_string: str = "",
    view: str = ViewType.ACTIVE_ONLY,
    order_by: Sequence[str] | None = None,
    max_results: int = 100,
    columns: Sequence[str] | None = None,
    as_json: bool = False,
) -> None:
    """Search runs and print them as the run table (or JSON)."""
    found, more = search(client, experiment_ids, filter_string, view, order_by, max_results)
    several = len(experiment_ids) > 1
    names = None
    if several:
        names = {
            e.experiment_id: e.name for e in client.search_experiments(ViewType.ALL, 1_000_000)
        }
    rows = run_rows(found, names)
    if as_json:
        out.echo_json(rows)
        return
    cols = table_columns(rows, columns, several, with_stage=view == ViewType.ALL)
    hidden = out.echo_table(rows, cols, out.terminal_width(), empty="No runs found.")
    if hidden:
        titles = ", ".join(c.title for c in hidden[:4]) + (", …" if len(hidden) > 4 else "")
        plural = "s" if len(hidden) > 1 else ""
        click.echo(
            f"({len(hidden)} column{plural} left out to fit: {titles}; see --columns, --json)"
        )
    if more:
        click.echo(f"(first {len(found)} runs shown; more match: raise --max-results)")
