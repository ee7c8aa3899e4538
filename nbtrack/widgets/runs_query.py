"""The run table's data: one page of runs at a time, filtered, sorted and paged by the store.

:class:`RunsQuery` asks ``Client.search_runs`` for one page (the store filters,
sorts and pages; nothing here loops over all runs) and remembers the page
tokens it has seen, so going back is one query too. It knows nothing of
widgets: ``runs_table.RunsTable`` draws it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nbtrack.entities import Experiment, Run, RunStatus
from nbtrack.errors import InvalidFilter, NotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from nbtrack.tracking.client import Client

__all__ = ["FIXED_COLUMNS", "ExperimentRef", "RunsQuery", "column_order_key", "resolve_experiments"]

#: Columns every table has, before the metrics and params.
FIXED_COLUMNS = ("status", "run_name", "start_time", "duration")
#: Fixed columns the store can sort by (duration is computed, so it cannot).
_ATTRIBUTE_SORT = {"status": "status", "run_name": "run_name", "start_time": "start_time"}
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def column_order_key(column: str) -> str:
    """The search grammar's name of a column: ``metrics.`val loss```, ``attributes.status``…

    Raises
    ------
    InvalidFilter
        For a column the store cannot sort by (``duration``).
    """
    if column in _ATTRIBUTE_SORT:
        return f"attributes.{_ATTRIBUTE_SORT[column]}"
    entity, dot, key = column.partition(".")
    if not dot or entity not in ("metrics", "params", "tags"):
        raise InvalidFilter(column, 0, f"column {column!r} cannot be sorted by the store")
    return f"{entity}.{key}" if _PLAIN_KEY.fullmatch(key) else f"{entity}.`{key}`"


ExperimentRef = str | int | Experiment
"""An experiment as the panels accept it: its name, its id, or the entity."""


def resolve_experiments(
    client: Client, experiment: ExperimentRef | Sequence[ExperimentRef] | None
) -> list[Experiment]:
    """Experiments named by ``experiment``: a name, an id, an Experiment, a list; None = all."""
    if experiment is None:
        return list(client.search_experiments())
    items = [experiment] if isinstance(experiment, (str, int, Experiment)) else list(experiment)
    found: list[Experiment] = []
    for item in items:
        if isinstance(item, Experiment):
            found.append(item)
            continue
        exp = client.get_experiment_by_name(str(item))
        if exp is None:
            try:
                exp = client.get_experiment(str(item))
            except (NotFoundError, ValueError):
                raise NotFoundError(f"No experiment named or numbered {item!r}") from None
        found.append(exp)
    return found


@dataclass
class RunsQuery:
    """One page of an experiment's runs, with the filter, order and page a table shows.

    Parameters
    ----------
    client:
        Where the runs are.
    experiment_ids:
        Experiments searched.
    filter_string:
        The search grammar (``metrics.rmse < 0.8 and params.model = 'rf'``).
    order_by:
        ``search_runs`` order items; newest first when empty.
    page_size:
        Rows per page.
    """

    client: Client
    experiment_ids: list[str]
    filter_string: str = ""
    order_by: list[str] = field(default_factory=list)
    page_size: int = 50
    runs: list[Run] = field(default_factory=list, init=False)
    page: int = field(default=0, init=False)
    #: tokens[i] is the page token of page i (None for the first page).
    tokens: list[str | None] = field(default_factory=lambda: [None], init=False)
    next_token: str | None = field(default=None, init=False)
    metric_keys: set[str] = field(default_factory=set, init=False)
    param_keys: set[str] = field(default_factory=set, init=False)

    def load(self) -> list[Run]:
        """Fetch the current page (one ``search_runs`` call) and return its runs."""
        page = self.client.search_runs(
            self.experiment_ids,
            self.filter_string,
            max_results=self.page_size,
            order_by=self.order_by or None,
            page_token=self.tokens[self.page],
        )
        self.runs, self.next_token = list(page), page.token
        for run in self.runs:
            self.metric_keys.update(run.data.metrics)
            self.param_keys.update(run.data.params)
        return self.runs

    def set_filter(self, filter_string: str) -> None:
        """Filter from the first page; on InvalidFilter nothing changes and it propagates."""
        previous = (self.filter_string, self.page, self.tokens)
        self.filter_string, self.page, self.tokens = filter_string, 0, [None]
        try:
            self.load()
        except InvalidFilter:
            self.filter_string, self.page, self.tokens = previous
            raise

    def sort_by(self, column: str, ascending: bool | None = None) -> None:
        """Sort by ``column`` from the first page; a second call on it flips the direction."""
        key = column_order_key(column)
        if ascending is None:
            current = self.sort_state()
            ascending = not (current is not None and current[0] == column and current[1])
        self.order_by = [f"{key} {'ASC' if ascending else 'DESC'}"]
        self.page, self.tokens = 0, [None]
        self.load()

    def sort_state(self) -> tuple[str, bool] | None:
        """``(column, ascending)`` of the first order item, or None (newest first)."""
        if not self.order_by:
            return None
        item = self.order_by[0].strip()
        key, _, direction = item.rpartition(" ")
        if direction.upper() not in ("ASC", "DESC"):
            key, direction = item, "ASC"
        if key.startswith("attributes."):
            column = key.removeprefix("attributes.")
        else:
            entity, _, name = key.partition(".")
            column = f"{entity}.{name.strip('`')}"
        return column, direction.upper() != "DESC"

    @property
    def has_previous(self) -> bool:
        """Whether there is a page before this one."""
        return self.page > 0

    def next_page(self) -> None:
        """Go to the next page (nothing happens on the last)."""
        if self.next_token is None:
            return
        self.tokens[self.page + 1 :] = [self.next_token]
        self.page += 1
        self.load()

    def previous_page(self) -> None:
        """Go to the previous page (nothing happens on the first)."""
        if self.page == 0:
            return
        self.page -= 1
        self.load()

    def first_row(self) -> int:
        """The 1-based number of this page's first row."""
        return self.page * self.page_size + 1

    def any_running(self) -> bool:
        """Whether a run on this page is RUNNING (the table then refreshes itself)."""
        return any(run.info.status == RunStatus.RUNNING for run in self.runs)

    def columns(self, hidden: Iterable[str] = ()) -> list[str]:
        """Visible columns: fixed ones, then ``metrics.*`` and ``params.*`` seen so far."""
        skip = set(hidden)
        every = [
            *FIXED_COLUMNS,
            *(f"metrics.{k}" for k in sorted(self.metric_keys)),
            *(f"params.{k}" for k in sorted(self.param_keys)),
        ]
        return [c for c in every if c not in skip]
