"""Compile a run search (filter, stages, order_by, paging) into one SQLAlchemy Core query.

Search is the store's hot read path: the run table, the sidebar and
``search_runs`` all page through it, so filtering, sorting and paging happen in
the database, never in Python loops. Each comparison becomes a correlated
``EXISTS`` probe on a ``(run_uuid, key)`` primary key, which lets ``AND``,
``OR`` and parentheses compose freely; each sort key becomes one
``LEFT OUTER JOIN`` on that same primary key. Every user-supplied text reaches
the database as a bound parameter. Experiment search (name, times, tags)
compiles the same way.

Semantics shared by SQLite and PostgreSQL:

- a comparison on a metric, param or tag needs the key to be present, so
  ``params.x != 'a'`` skips runs without ``x`` (as MLflow does); a NaN metric
  satisfies no numeric comparison;
- ``LIKE`` is case-sensitive and ``ILIKE`` is not (ASCII only on SQLite, whose
  ``lower()`` ignores other letters); a backslash escapes ``%``, ``_`` and
  itself. SQLite runs ``LIKE`` as ``GLOB``, its case-sensitive matcher;
- sorting puts missing values last in both directions, NaN metrics just before
  them; ties break on ``start_time DESC`` then ``run_id`` so paging is stable.
  Strings sort by the database's collation (byte order on SQLite).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Float,
    Select,
    String,
    Table,
    and_,
    false,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from nbtrack.errors import InvalidInput
from nbtrack.store.search_filter import (
    ATTRIBUTES,
    DATASETS,
    METRICS,
    PARAMS,
    TAGS,
    And,
    Comparison,
    Node,
    OrderBy,
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_filter,
    parse_order_by,
)
from nbtrack.store.sql import schema

__all__ = ["build_experiment_search_query", "build_search_query", "filter_clause"]


@dataclass(frozen=True)
class _Target:
    """What a search returns (runs or experiments) and the tables keyed by it."""

    table: Table
    id_column: Column[Any]
    link: str  # the id's column name in the child tables
    attributes: dict[str, Column[Any]]
    children: dict[str, Table]


_runs, _experiments = schema.runs, schema.experiments
_RUNS = _Target(
    _runs,
    _runs.c.run_uuid,
    "run_uuid",
    {
        "run_id": _runs.c.run_uuid,
        "run_name": _runs.c.name,
        "status": _runs.c.status,
        "artifact_uri": _runs.c.artifact_uri,
        "user_id": _runs.c.user_id,
        "start_time": _runs.c.start_time,
        "end_time": _runs.c.end_time,
    },
    {METRICS: schema.latest_metrics, PARAMS: schema.params, TAGS: schema.tags},
)
_EXPERIMENTS = _Target(
    _experiments,
    _experiments.c.experiment_id,
    "experiment_id",
    {name: _experiments.c[name] for name in ("name", "creation_time", "last_update_time")},
    {TAGS: schema.experiment_tags},
)
_NUMERIC: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
#: The key under which ``run_inputs.tags`` (JSON) holds a dataset's context.
_CONTEXT_TAG = "mlflow.data.context"
_DOUBLE = Float(precision=53)


class _like(FunctionElement[bool]):
    """``column LIKE pattern ESCAPE '\\'``, rendered as ``GLOB`` on SQLite.

    SQLite's ``LIKE`` ignores ASCII case and the only switch is a connection-wide
    pragma; ``GLOB`` is its case-sensitive matcher. Both patterns are bound
    parameters built in Python; each dialect renders the one it needs.
    """

    type = Boolean()
    inherit_cache = True
    name = "like"


@compiles(_like)
def _render_like(element: _like, compiler: Any, **kw: Any) -> str:
    column, like_pattern, _ = element.clauses
    return str(compiler.process(column.like(like_pattern, escape="\\"), **kw))


@compiles(_like, "sqlite")
def _render_glob(element: _like, compiler: Any, **kw: Any) -> str:
    column, _, glob_pattern = element.clauses
    return f"{compiler.process(column, **kw)} GLOB {compiler.process(glob_pattern, **kw)}"


class _dataset_context(FunctionElement[str]):
    """The context (``train``, ``eval``…) stored in the JSON of ``run_inputs.tags``."""

    type = String()
    inherit_cache = True
    name = "dataset_context"


@compiles(_dataset_context)
def _render_context(element: _dataset_context, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"json_extract({compiler.process(column, **kw)}, '$.\"{_CONTEXT_TAG}\"')"


@compiles(_dataset_context, "postgresql")
def _render_context_pg(element: _dataset_context, compiler: Any, **kw: Any) -> str:
    (column,) = element.clauses
    return f"(CAST({compiler.process(column, **kw)} AS JSON) ->> '{_CONTEXT_TAG}')"


def _split_like(pattern: str) -> list[tuple[bool, str]]:
    """Return ``(is_wildcard, char)`` pairs; a backslash makes the next char literal."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append((False, pattern[i + 1]))
            i += 2
            continue
        out.append((c in "%_", c))
        i += 1
    return out


def _like_pattern(parts: list[tuple[bool, str]]) -> str:
    return "".join(c if wild or c not in "%_\\" else "\\" + c for wild, c in parts)


def _glob_pattern(parts: list[tuple[bool, str]]) -> str:
    wildcards = {"%": "*", "_": "?"}
    return "".join(wildcards[c] if wild else (f"[{c}]" if c in "*?[" else c) for wild, c in parts)


def _match(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    """``column op value`` for every comparator but ``IS [NOT] NULL``."""
    if op == "LIKE":
        parts = _split_like(value)
        return _like(
            column, literal(_like_pattern(parts), String), literal(_glob_pattern(parts), String)
        )
    if op == "ILIKE":
        return column.ilike(_like_pattern(_split_like(value)), escape="\\")
    if op == "IN":
        return column.in_(value)
    if op == "NOT IN":
        return column.not_in(value)
    if isinstance(value, float):
        # Bound as a double: coerced to the column's BIGINT, 2999.5 would round.
        value = literal(value, _DOUBLE)
    return _NUMERIC[op](column, value)


def _exists(
    target: _Target, table: Table, key: str, *conditions: ColumnElement[bool]
) -> ColumnElement[bool]:
    query: Select[Any] = select(literal_column("1")).where(
        table.c[target.link] == target.id_column, table.c.key == key, *conditions
    )
    return query.correlate(target.table).exists()


def _dataset_exists(field: str, op: str, value: Any) -> ColumnElement[bool]:
    inputs, datasets = schema.run_inputs, schema.datasets
    column: ColumnElement[Any] = (
        _dataset_context(inputs.c.tags) if field == "context" else datasets.c[field]
    )
    query: Select[Any] = (
        select(literal_column("1"))
        .select_from(inputs.join(datasets, inputs.c.dataset_uuid == datasets.c.dataset_uuid))
        .where(inputs.c.run_uuid == _runs.c.run_uuid, _match(column, op, value))
    )
    return query.correlate(_runs).exists()


def _comparison(node: Comparison, target: _Target) -> ColumnElement[bool]:
    op, value = node.op, node.value
    if node.entity == DATASETS:
        return _dataset_exists(node.key, op, value)
    if node.entity == ATTRIBUTES:
        column = target.attributes[node.key]
        if op in ("IS NULL", "IS NOT NULL"):
            return column.is_(None) if op == "IS NULL" else column.is_not(None)
        return _match(column, op, value)
    table = target.children[node.entity]
    if op in ("IS NULL", "IS NOT NULL"):
        present = _exists(target, table, node.key)
        return ~present if op == "IS NULL" else present
    if node.entity == METRICS:
        # NaN is stored as NULL with is_nan set; checking the flag too keeps a NaN
        # written by another client (PostgreSQL can store one) out of every range.
        is_real = table.c.is_nan == false()
        return _exists(target, table, node.key, is_real, _match(table.c.value, op, value))
    return _exists(target, table, node.key, _match(table.c.value, op, value))


#: Order in which terms are tested. SQLite tests AND/OR terms in the order given
#: and stops early, so column tests go first, then params and tags (usually
#: equalities that reject most runs: 12k instead of 16k probes on the W4 bench
#: filter), then metric ranges and dataset joins.
_COST = {ATTRIBUTES: 0, PARAMS: 1, TAGS: 2, METRICS: 3, DATASETS: 4}


def _cost(node: Node) -> int:
    return _COST[node.entity] if isinstance(node, Comparison) else 5


def _clause(node: Node, target: _Target) -> ColumnElement[bool]:
    if isinstance(node, Comparison):
        return _comparison(node, target)
    clauses = [_clause(item, target) for item in sorted(node.items, key=_cost)]
    return and_(*clauses) if isinstance(node, And) else or_(*clauses)


def filter_clause(node: Node) -> ColumnElement[bool]:
    """Return the WHERE condition, correlated to ``runs``, of a parsed run filter.

    For queries of one's own over ``runs`` (a count of matching runs, say).
    """
    return _clause(node, _RUNS)


def _order(
    query: Select[Any], orders: list[OrderBy], target: _Target
) -> tuple[Select[Any], list[Any]]:
    """Join what ``orders`` sort by onto ``query``; return it with its ORDER BY terms.

    Missing values sort last in both directions and NaN metrics just before them.
    """
    terms: list[Any] = []
    joined: dict[tuple[str, str], Any] = {}
    for item in orders:
        if item.entity == ATTRIBUTES:
            column = target.attributes[item.key]
            terms.append(
                column.asc().nulls_last() if item.ascending else column.desc().nulls_last()
            )
            continue
        alias = joined.get((item.entity, item.key))
        if alias is None:
            alias = target.children[item.entity].alias(f"order_{len(joined)}")
            joined[(item.entity, item.key)] = alias
            link = alias.c[target.link]
            query = query.outerjoin(alias, and_(link == target.id_column, alias.c.key == item.key))
        terms.append(alias.c[target.link].is_(None))
        if item.entity == METRICS:
            terms.append(alias.c.is_nan)
        terms.append(alias.c.value.asc() if item.ascending else alias.c.value.desc())
    return query, terms


def _check_page(offset: int, limit: int) -> None:
    for name, number in (("offset", offset), ("limit", limit)):
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise InvalidInput(f"{name} must be a non-negative integer, got {number!r}")


def build_search_query(
    experiment_ids: list[int],
    filter_string: str,
    stages: tuple[str, ...],
    order_by: list[str] | None,
    offset: int,
    limit: int,
) -> Select[Any]:
    """Build the query returning the ``runs`` rows (all columns, table order) of one page.

    Parameters
    ----------
    experiment_ids:
        Experiments to search; an empty list matches nothing.
    filter_string:
        MLflow's filter grammar plus ``OR`` and parentheses (see
        :mod:`nbtrack.store.search_filter`); empty means every run.
    stages:
        Lifecycle stages to include, e.g. ``("active",)``.
    order_by:
        Items such as ``"metrics.rmse ASC"``, applied in turn, then
        ``start_time DESC`` and ``run_id`` (the order when none is given).
    offset, limit:
        The page, applied in SQL.

    Raises
    ------
    InvalidFilter
        When the filter or an order_by item is malformed.
    InvalidInput
        When ``offset`` or ``limit`` is negative or not an integer.
    """
    node = parse_filter(filter_string)
    orders = parse_order_by(order_by)
    _check_page(offset, limit)
    query = select(*_runs.c).where(
        _runs.c.experiment_id.in_([int(e) for e in experiment_ids]),
        _runs.c.lifecycle_stage.in_(list(stages)),
    )
    if node is not None:
        query = query.where(_clause(node, _RUNS))
    query, terms = _order(query, orders, _RUNS)
    terms += [_runs.c.start_time.desc().nulls_last(), _runs.c.run_uuid.asc()]
    return query.order_by(*terms).offset(offset).limit(limit)


def build_experiment_search_query(
    filter_string: str,
    stages: tuple[str, ...],
    order_by: list[str] | None,
    offset: int,
    limit: int,
) -> Select[Any]:
    """Build the query returning the ``experiments`` rows of one page.

    ``filter_string`` is MLflow's experiment filter (``name LIKE 'a%'``,
    ``tags.team = 'x'``, ``creation_time > 0``, with ``OR`` and parentheses);
    ``order_by`` items name attributes (``"name"``, ``"creation_time DESC"``),
    applied in turn, then ``last_update_time DESC`` and ``experiment_id``
    (MLflow's order when none is given). Raises as :func:`build_search_query`.
    """
    node = parse_experiment_filter(filter_string)
    orders = parse_experiment_order_by(order_by)
    _check_page(offset, limit)
    query = select(*_experiments.c).where(_experiments.c.lifecycle_stage.in_(list(stages)))
    if node is not None:
        query = query.where(_clause(node, _EXPERIMENTS))
    query, terms = _order(query, orders, _EXPERIMENTS)
    terms += [
        _experiments.c.last_update_time.desc().nulls_last(),
        _experiments.c.experiment_id.asc(),
    ]
    return query.order_by(*terms).offset(offset).limit(limit)
