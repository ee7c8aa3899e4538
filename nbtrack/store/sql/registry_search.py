"""Compile registry searches (registered models, model versions) into SQLAlchemy queries.

The filter language is the run search's (:mod:`nbtrack.store.search_filter`)
with the registry's attributes: ``name LIKE 'iris%'``, ``tags.k = 'v'``,
``run_id = '…'``, ``version_number > 2``. Registered models compile through
the same machinery as experiments; model versions are keyed by
``(name, version)``, so their tag probes are built here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, literal_column, or_, select

from nbtrack.entities import IS_PROMPT_TAG
from nbtrack.store.search_filter import (
    ATTRIBUTES,
    TAGS,
    And,
    Comparison,
    Grammar,
    Node,
    Parser,
    check_text,
    parse_order,
)
from nbtrack.store.sql import schema as s
from nbtrack.store.sql.search import _check_page, _clause, _match, _order, _Target

__all__ = ["DELETED_STAGE", "build_model_version_query", "build_registered_model_query"]

#: Stage of a deleted version: the row stays so that its number is never reused.
DELETED_STAGE = "Deleted_Internal"

_ENTITIES = {
    **dict.fromkeys(("tag", "tags"), TAGS),
    **dict.fromkeys(("attribute", "attributes", "attr"), ATTRIBUTES),
}
_MODEL_GRAMMAR = Grammar(
    entities=_ENTITIES,
    attributes={
        "name": "string",
        "creation_timestamp": "number",
        "last_updated_timestamp": "number",
    },
    aliases={"timestamp": "last_updated_timestamp"},
    order_entities=(ATTRIBUTES,),
    tag_attributes={},
)
_VERSION_GRAMMAR = Grammar(
    entities=_ENTITIES,
    attributes={
        **dict.fromkeys(("name", "run_id", "source", "current_stage", "user_id"), "string"),
        **dict.fromkeys(("version", "creation_timestamp", "last_updated_timestamp"), "number"),
    },
    aliases={
        "version_number": "version",
        "source_path": "source",
        "timestamp": "last_updated_timestamp",
    },
    order_entities=(ATTRIBUTES,),
    tag_attributes={},
)

_rm, _mv, _mvt = s.registered_models, s.model_versions, s.model_version_tags
_MODELS = _Target(
    _rm,
    _rm.c.name,
    "name",
    {
        "name": _rm.c.name,
        "creation_timestamp": _rm.c.creation_time,
        "last_updated_timestamp": _rm.c.last_updated_time,
    },
    {TAGS: s.registered_model_tags},
)
_VERSIONS = _Target(
    _mv,
    _mv.c.name,
    "name",
    {
        **{n: _mv.c[n] for n in ("name", "version", "run_id", "source", "current_stage")},
        "user_id": _mv.c.user_id,
        "creation_timestamp": _mv.c.creation_time,
        "last_updated_timestamp": _mv.c.last_updated_time,
    },
    {},
)


def _version_clause(node: Node) -> ColumnElement[bool]:
    if not isinstance(node, Comparison):
        clauses = [_version_clause(item) for item in node.items]
        return and_(*clauses) if isinstance(node, And) else or_(*clauses)
    if node.entity == ATTRIBUTES:
        column = _VERSIONS.attributes[node.key]
        if node.op in ("IS NULL", "IS NOT NULL"):
            return column.is_(None) if node.op == "IS NULL" else column.is_not(None)
        return _match(column, node.op, node.value)
    conditions = [
        _mvt.c.name == _mv.c.name,
        _mvt.c.version == _mv.c.version,
        _mvt.c.key == node.key,
    ]
    if node.op in ("IS NULL", "IS NOT NULL"):
        present = select(literal_column("1")).where(*conditions).correlate(_mv).exists()
        return ~present if node.op == "IS NULL" else present
    probe: Select[Any] = select(literal_column("1")).where(
        *conditions, _match(_mvt.c.value, node.op, node.value)
    )
    return probe.correlate(_mv).exists()


def _is_prompt(name: Any, outer: Any) -> ColumnElement[bool]:
    """True where the registered model called ``name`` carries the prompt tag."""
    tags = s.registered_model_tags
    probe: Select[Any] = select(literal_column("1")).where(
        tags.c.name == name, tags.c.key == IS_PROMPT_TAG, tags.c.value == "true"
    )
    return probe.correlate(outer).exists()


def build_registered_model_query(
    filter_string: str | None,
    order_by: list[str] | None,
    offset: int,
    limit: int,
    prompts: bool | None = False,
) -> Select[Any]:
    """Build the query returning the names of one page of matching registered models.

    ``order_by`` items name ``name``, ``creation_timestamp`` or
    ``last_updated_timestamp`` (alias ``timestamp``); ties and the default
    order are by name. ``prompts`` keeps only models (False), only prompts
    (True) or both (None): prompts live in the same table, marked by a tag.

    Raises
    ------
    InvalidFilter
        When the filter or an order_by item is malformed.
    """
    node = Parser(check_text(filter_string or ""), _MODEL_GRAMMAR).filter()
    orders = parse_order(order_by, _MODEL_GRAMMAR)
    _check_page(offset, limit)
    query: Select[Any] = select(_rm.c.name)
    if prompts is not None:
        query = query.where(_is_prompt(_rm.c.name, _rm) == prompts)
    if node is not None:
        query = query.where(_clause(node, _MODELS))
    query, terms = _order(query, orders, _MODELS)
    return query.order_by(*terms, _rm.c.name.asc()).offset(offset).limit(limit)


def build_model_version_query(
    filter_string: str | None,
    order_by: list[str] | None,
    offset: int,
    limit: int,
    prompts: bool | None = False,
) -> Select[Any]:
    """Build the query returning ``(name, version)`` of one page of matching model versions.

    Deleted versions never match. The default order is MLflow's: newest
    update first, then name, then version descending. ``prompts`` as for
    :func:`build_registered_model_query`.

    Raises
    ------
    InvalidFilter
        When the filter or an order_by item is malformed.
    """
    node = Parser(check_text(filter_string or ""), _VERSION_GRAMMAR).filter()
    orders = parse_order(order_by, _VERSION_GRAMMAR)
    _check_page(offset, limit)
    query: Select[Any] = select(_mv.c.name, _mv.c.version).where(
        _mv.c.current_stage != DELETED_STAGE
    )
    if prompts is not None:
        query = query.where(_is_prompt(_mv.c.name, _mv) == prompts)
    if node is not None:
        query = query.where(_version_clause(node))
    query, terms = _order(query, orders, _VERSIONS)
    terms += [_mv.c.last_updated_time.desc().nulls_last(), _mv.c.name.asc(), _mv.c.version.desc()]
    return query.order_by(*terms).offset(offset).limit(limit)
