"""``nbt.show_runs``: the run table widget over a :class:`~nbtrack.widgets.runs_query.RunsQuery`.

A header click sorts and the filter box filters (both in the store; a
malformed filter shows its position), the arrows page, checkboxes select, and
Compare shows ``nbt.compare`` of the selection under the table.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import traitlets

from nbtrack.entities import Run
from nbtrack.errors import InvalidFilter
from nbtrack.widgets._base import Panel, error_block, resolve_client
from nbtrack.widgets._html import (
    LIVE_BADGE,
    duration,
    esc,
    fmt_value,
    status_badge,
    table,
    timestamp,
)
from nbtrack.widgets.runs_query import ExperimentRef, RunsQuery, resolve_experiments

if TYPE_CHECKING:
    from nbtrack.tracking.client import Client
    from nbtrack.widgets.comparison import Comparison

__all__ = ["RunsTable", "cell", "show_runs"]

_TITLES = {"status": "status", "run_name": "name", "start_time": "start", "duration": "duration"}


def cell(run: Run, column: str, now_ms: int) -> tuple[str, str]:
    """A run's value in ``column`` as (markup, CSS classes)."""
    info, data = run.info, run.data
    if column == "status":
        return status_badge(info.status), ""
    if column == "run_name":
        return f'<span title="{esc(info.run_id)}">{esc(info.run_name)}</span>', ""
    if column == "start_time":
        return esc(timestamp(info.start_time)), ""
    if column == "duration":
        return esc(duration(info, now_ms)), "jp-nbtrack-num"
    entity, _, key = column.partition(".")
    if entity == "metrics":
        return esc(fmt_value(data.metrics.get(key))), "jp-nbtrack-num"
    return esc(data.params.get(key, "")), ""


class RunsTable(Panel):
    """The run table widget over a :class:`RunsQuery`.

    Attributes
    ----------
    selected:
        Ids of the selected runs (synced with the checkboxes).
    hidden_columns:
        Columns not shown (``"params.seed"``…); the column chooser edits it.
    comparison:
        The last :class:`~nbtrack.widgets.comparison.Comparison` Compare made.
    """

    selected = traitlets.List(traitlets.Unicode()).tag(sync=True)
    hidden_columns = traitlets.List(traitlets.Unicode()).tag(sync=True)

    def __init__(self, query: RunsQuery, title: str = "") -> None:
        # Set before the traits: their observers read them during __init__.
        self.query = query
        self.title = title
        self.comparison: Comparison | None = None
        self._error: BaseException | None = None
        query.load()
        super().__init__(
            filterable=True, filter_string=query.filter_string, live=query.any_running()
        )
        self.redraw()

    # data ---------------------------------------------------------------------

    def update(self) -> None:
        """Re-query the current page (the refresh timer calls this while runs are RUNNING)."""
        self.query.load()
        self.live = self.query.any_running()
        self.redraw()

    @traitlets.observe("filter_string")
    def _filter_changed(self, change: dict[str, Any]) -> None:
        if change["new"] == self.query.filter_string and self._error is None:
            return
        with self._lock:  # the browser's change arrives outside dispatch()
            try:
                self.query.set_filter(change["new"])
                self._error = None
            except InvalidFilter as exc:
                self._error = exc
            self.live = self.query.any_running()
            self.redraw()

    @traitlets.observe("selected", "hidden_columns")
    def _selection_changed(self, change: dict[str, Any]) -> None:
        self.redraw()

    # actions from the browser -------------------------------------------------

    def _do_sort(self, content: dict[str, Any]) -> None:
        self.query.sort_by(str(content["key"]))
        self._error = None
        self.redraw()

    def _do_next(self, content: dict[str, Any]) -> None:
        self.query.next_page()
        self.redraw()

    def _do_previous(self, content: dict[str, Any]) -> None:
        self.query.previous_page()
        self.redraw()

    def _do_select(self, content: dict[str, Any]) -> None:
        run_id = str(content["run"])
        chosen = list(self.selected)
        self.selected = (
            [r for r in chosen if r != run_id] if run_id in chosen else [*chosen, run_id]
        )

    def _do_select_page(self, content: dict[str, Any]) -> None:
        ids = [run.info.run_id for run in self.query.runs]
        if all(i in self.selected for i in ids):
            self.selected = [r for r in self.selected if r not in ids]
        else:
            self.selected = [*self.selected, *(i for i in ids if i not in self.selected)]

    def _do_toggle_column(self, content: dict[str, Any]) -> None:
        column = str(content["column"])
        hidden = list(self.hidden_columns)
        self.hidden_columns = (
            [c for c in hidden if c != column] if column in hidden else [*hidden, column]
        )

    def _do_compare(self, content: dict[str, Any]) -> None:
        self.open_compare()

    def open_compare(self) -> Comparison | None:
        """Build ``nbt.compare`` of the selected runs and show it under the table."""
        from nbtrack.widgets.comparison import Comparison

        if not self.selected:
            return None
        self.comparison = Comparison.load(self.query.client, list(self.selected))
        self.redraw()
        return self.comparison

    # rendering ----------------------------------------------------------------

    def _header(self, column: str, static: bool) -> str:
        title = _TITLES.get(column, column)
        state = self.query.sort_state()
        arrow = ""
        if state is not None and state[0] == column:
            arrow = " ▲" if state[1] else " ▼"
        sortable = column != "duration"
        if static or not sortable:
            return f"<th>{esc(title)}{arrow}</th>"
        sort = "ascending" if arrow == " ▲" else "descending" if arrow else "none"
        return (
            f'<th data-action="sort" data-key="{esc(column)}" aria-sort="{sort}" '
            f'title="Sort by {esc(column)}">{esc(title)}{arrow}</th>'
        )

    def render(self, static: bool = False) -> str:
        """The table, with controls unless ``static``."""
        query = self.query
        now = int(time.time() * 1000)
        columns = query.columns(self.hidden_columns)
        header = [self._header(c, static) for c in columns]
        rows, classes = [], []
        for run in query.runs:
            run_id = run.info.run_id
            row = [cell(run, c, now) for c in columns]
            if not static:
                checked = " checked" if run_id in self.selected else ""
                box = (
                    f'<input type="checkbox" data-action="select" data-run="{esc(run_id)}" '
                    f'aria-label="select {esc(run.info.run_name)}"{checked}>'
                )
                row.insert(0, (box, ""))
            rows.append(row)
            classes.append("jp-nbtrack-selected" if run_id in self.selected else "")
        if not static:
            ids = [run.info.run_id for run in query.runs]
            every = " checked" if ids and all(i in self.selected for i in ids) else ""
            header.insert(
                0,
                '<th><input type="checkbox" data-action="select_page" '
                f'aria-label="select page"{every}></th>',
            )
        parts = []
        if self.title:
            parts.append(f"<h3>{esc(self.title)}</h3>")
        if self._error is not None and not static:
            parts.append(error_block(self._error))
        if query.filter_string:
            parts.append(
                f'<div class="jp-nbtrack-muted">filter: <code>{esc(query.filter_string)}'
                "</code></div>"
            )
        if not static:
            parts.append(self._toolbar())
        body = table(header, rows, "runs", classes) if query.runs else ""
        parts.append(
            f'<div class="jp-nbtrack-Scroll">{body}</div>'
            if body
            else '<p class="jp-nbtrack-muted">No runs match.</p>'
        )
        if not static:
            parts.append(self._column_chooser())
        if self.comparison is not None and not static:
            parts.append(self.comparison.render(static=False))
        return "".join(parts)

    def _toolbar(self) -> str:
        query = self.query
        first = query.first_row()
        last = first + len(query.runs) - 1
        rows = f"rows {first:,}–{last:,}" if query.runs else "no rows"
        more = "" if query.next_token else " (last page)"
        prev_off = "" if query.has_previous else " disabled"
        next_off = "" if query.next_token else " disabled"
        n = len(self.selected)
        cmp_off = "" if n else " disabled"
        return (
            '<div class="jp-nbtrack-Bar">'
            f'<button data-action="previous" aria-label="previous page"{prev_off}>◀</button>'
            f'<span class="jp-nbtrack-muted">page {query.page + 1} · {rows}{more}</span>'
            f'<button data-action="next" aria-label="next page"{next_off}>▶</button>'
            f'<button data-action="compare"{cmp_off}>Compare ({n})</button>'
            '<button data-action="refresh" aria-label="refresh">↻</button>'
            f"{LIVE_BADGE if self.live else ''}"
            "</div>"
        )

    def _column_chooser(self) -> str:
        every = self.query.columns()
        boxes = []
        for column in every:
            checked = "" if column in self.hidden_columns else " checked"
            boxes.append(
                f'<label><input type="checkbox" data-action="toggle_column" '
                f'data-column="{esc(column)}"{checked}> {esc(column)}</label>'
            )
        return (
            "<details><summary>Columns</summary>"
            f'<div class="jp-nbtrack-Bar">{"".join(boxes)}</div></details>'
        )


def show_runs(
    experiment: ExperimentRef | Sequence[ExperimentRef] | None = None,
    filter_string: str = "",
    order_by: Sequence[str] | None = None,
    page_size: int = 50,
    client: Client | None = None,
) -> RunsTable:
    """Show a table of runs under the cell: sortable, filterable, paged, selectable.

    Parameters
    ----------
    experiment:
        An experiment name or id, an Experiment, or a list of them; None shows
        the runs of every active experiment.
    filter_string:
        A search filter, e.g. ``"metrics.rmse < 0.8"`` (also editable in the table).
    order_by:
        Initial ``search_runs`` order items; newest first when None.
    page_size:
        Rows per page (the store returns one page per query).
    client:
        The client to read with (default: the tracking URI in force).

    Returns
    -------
    RunsTable
        The widget; ``.selected`` holds the selected run ids, ``.query`` the data.

    Raises
    ------
    InvalidFilter
        If ``filter_string`` is malformed (the message gives the position).
    NotFoundError
        If an experiment does not exist.
    """
    client = resolve_client(client)
    experiments = resolve_experiments(client, experiment)
    query = RunsQuery(
        client,
        [e.experiment_id for e in experiments],
        filter_string,
        list(order_by or []),
        page_size,
    )
    title = ", ".join(e.name for e in experiments) if experiment is not None else "all experiments"
    return RunsTable(query, title=f"Runs · {title}")
