"""Parse MLflow's search filter language (plus ``OR`` and parentheses) into a small AST.

MLflow leans on sqlparse, which accepts odd input and reports errors without a
position. This parser is plain Python, knows which comparators each entity
takes, and every error it raises is an :class:`~nbtrack.errors.InvalidFilter`
pointing at the token to fix. Backends walk the AST (``store/sql/search.py``
compiles it to SQL); nothing here knows about SQL.

Grammar (keywords are case-insensitive)::

    filter     := [or_expr] END
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := primary ("AND" primary)*
    primary    := "(" or_expr ")" | comparison
    comparison := identifier operator [value]
    identifier := [entity "."] key        key: bare, `backquoted` or "double-quoted"
    value      := number | 'string' | "string" | "(" string ("," string)* ")"

A bare identifier (no ``entity.``) is an attribute, as in MLflow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

from nbtrack.errors import InvalidFilter
from nbtrack.store._filter_tokens import NUMBER_OPS, Token, tokenize

__all__ = [
    "And",
    "Comparison",
    "Grammar",
    "Node",
    "Or",
    "OrderBy",
    "Parser",
    "check_text",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_filter",
    "parse_order",
    "parse_order_by",
]

METRICS, PARAMS, TAGS, ATTRIBUTES, DATASETS = "metrics", "params", "tags", "attributes", "datasets"

STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
NULL_OPS = ("IS NULL", "IS NOT NULL")

#: Bounds that keep a filter's SQL within every backend's limits (SQLite's parser
#: overflows at 32 nested AND/OR groups; bound parameters; joined tables).
MAX_DEPTH = 20
MAX_COMPARISONS = 200
MAX_VALUES = 5000
MAX_ORDER_BY = 20


@dataclass(frozen=True, slots=True)
class Comparison:
    """``entity.key op value``; ``value`` is a float, a str, a tuple of str (IN) or None."""

    entity: str
    key: str
    op: str
    value: float | str | tuple[str, ...] | None
    position: int


@dataclass(frozen=True, slots=True)
class And:
    """All of ``items`` hold."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one of ``items`` holds."""

    items: tuple[Node, ...]


Node: TypeAlias = "Comparison | And | Or"


@dataclass(frozen=True, slots=True)
class OrderBy:
    """One ``order_by`` item: sort by ``entity.key``, ascending or not."""

    entity: str
    key: str
    ascending: bool = True


@dataclass(frozen=True, slots=True)
class Grammar:
    """What one kind of search accepts: entity prefixes and attributes with their types."""

    entities: dict[str, str]
    attributes: dict[str, str]  # name -> "number" | "string"
    aliases: dict[str, str]  # alternative attribute names (lower case) -> name
    order_entities: tuple[str, ...]
    tag_attributes: dict[str, str]  # tags that are really attributes -> attribute


_RUNS = Grammar(
    entities={
        **dict.fromkeys(("metric", "metrics"), METRICS),
        **dict.fromkeys(("param", "params", "parameter", "parameters"), PARAMS),
        **dict.fromkeys(("tag", "tags"), TAGS),
        **dict.fromkeys(("attribute", "attributes", "attr", "run"), ATTRIBUTES),
        **dict.fromkeys(("dataset", "datasets"), DATASETS),
    },
    attributes={
        **dict.fromkeys(("run_id", "run_name", "status", "artifact_uri", "user_id"), "string"),
        **dict.fromkeys(("start_time", "end_time"), "number"),
    },
    aliases={"run_uuid": "run_id", "run name": "run_name", "created": "start_time"},
    order_entities=(METRICS, PARAMS, TAGS, ATTRIBUTES),
    tag_attributes={"mlflow.runName": "run_name"},
)

_EXPERIMENTS = Grammar(
    entities={
        **dict.fromkeys(("tag", "tags"), TAGS),
        **dict.fromkeys(("attribute", "attributes", "attr"), ATTRIBUTES),
    },
    attributes={"name": "string", "creation_time": "number", "last_update_time": "number"},
    aliases={},
    order_entities=(ATTRIBUTES,),
    tag_attributes={},
)

_DATASET_FIELDS = ("name", "digest", "context")
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class Parser:
    """A recursive-descent parser of one filter text for one :class:`Grammar` (runs, models…)."""

    def __init__(self, text: str, grammar: Grammar) -> None:
        self.text, self.grammar = text, grammar
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = self.comparisons = self.values = 0

    # -- helpers ----------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.peek()
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return tok

    def is_word(self, word: str, ahead: int = 0) -> bool:
        tok = self.peek(ahead)
        return tok.kind == "WORD" and tok.value.upper() == word

    def fail(self, tok: Token | int, reason: str) -> InvalidFilter:
        return InvalidFilter(self.text, tok if isinstance(tok, int) else tok.pos, reason)

    # -- filter -------------------------------------------------------------------
    def filter(self) -> Node | None:
        if self.peek().kind == "END":
            return None
        node = self.or_expr()
        tok = self.peek()
        if tok.kind == "RPAREN":
            raise self.fail(tok, "unbalanced parenthesis: this ')' has no matching '('")
        if tok.kind != "END":
            raise self.fail(tok, f"expected AND, OR or the end of the filter, got {tok.shown()}")
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.is_word("OR"):
            self.take()
            items.append(self.and_expr())
        return _flatten(Or, items)

    def and_expr(self) -> Node:
        items = [self.primary()]
        while self.is_word("AND"):
            self.take()
            items.append(self.primary())
        return _flatten(And, items)

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind != "LPAREN":
            return self.comparison()
        self.take()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(tok, f"parentheses are nested more than {MAX_DEPTH} deep")
        node = self.or_expr()
        close = self.peek()
        if close.kind == "END":
            raise self.fail(tok, "unbalanced parenthesis: this '(' is never closed")
        if close.kind != "RPAREN":
            raise self.fail(close, f"expected AND, OR or ')', got {close.shown()}")
        self.take()
        self.depth -= 1
        return node

    def comparison(self) -> Comparison:
        start = self.peek()
        if start.kind != "WORD":
            raise self.fail(
                start,
                f"expected a condition such as metrics.rmse < 1 or params.model = 'x', "
                f"got {start.shown()}",
            )
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.fail(start, f"a filter may hold at most {MAX_COMPARISONS} comparisons")
        entity, key = self.identifier()
        kind, ops, label = self.describe(entity, key)
        op_tok = self.peek()
        op = self.operator(label)
        if op not in ops:
            raise self.fail(
                op_tok, f"{op} cannot be used with {label}; use one of {', '.join(ops)}"
            )
        value: float | str | tuple[str, ...] | None = None
        if op in ("IN", "NOT IN"):
            value = self.string_list(label, entity, key)
        elif op not in NULL_OPS:
            value = self.number(label, op) if kind == "number" else self.string(label, entity, key)
        return Comparison(entity, key, op, value, start.pos)

    def identifier(self, order_by: bool = False) -> tuple[str, str]:
        tok = self.take()
        g = self.grammar
        prefix, dot, key = tok.value.partition(".")
        if not dot:
            entity, key = ATTRIBUTES, tok.value
        else:
            found = g.entities.get(prefix.lower())
            allowed = g.order_entities if order_by else tuple(dict.fromkeys(g.entities.values()))
            if found is None or found not in allowed:
                names = ", ".join(f"{e}." for e in allowed)
                raise self.fail(tok, f"unknown entity {prefix!r}; identifiers start with {names}")
            entity = found
            if not key:
                quoted = self.peek()
                if quoted.kind not in ("BQ", "DQ") or quoted.pos != tok.end:
                    raise self.fail(
                        tok.end, f"missing key after {tok.value!r}; e.g. {prefix}.`my key`"
                    )
                self.take()
                key = quoted.value
                if not key:
                    raise self.fail(quoted, "empty key")
        if entity == TAGS and key in g.tag_attributes:
            return ATTRIBUTES, g.tag_attributes[key]
        if entity == ATTRIBUTES:
            name = g.aliases.get(key.lower(), key.lower())
            if name not in g.attributes:
                hint = "" if dot else "; prefix keys with metrics., params. or tags."
                names = ", ".join(g.attributes)
                raise self.fail(tok, f"unknown attribute {key!r} (known: {names}){hint}")
            return ATTRIBUTES, name
        if entity == DATASETS and key not in _DATASET_FIELDS:
            raise self.fail(
                tok, f"unknown dataset field {key!r}; use datasets.name, .digest or .context"
            )
        return entity, key

    def describe(self, entity: str, key: str) -> tuple[str, tuple[str, ...], str]:
        """Return the value kind, the allowed operators and a label for messages."""
        if entity == METRICS:
            return "number", NUMBER_OPS + NULL_OPS, f"metric {key!r}"
        if entity in (PARAMS, TAGS):
            return "string", STRING_OPS + NULL_OPS, f"{entity[:-1]} {key!r}"
        if entity == DATASETS:
            return "string", STRING_OPS, f"datasets.{key}"
        if self.grammar.attributes[key] == "number":
            return "number", NUMBER_OPS + NULL_OPS, f"attribute {key!r}"
        return "string", STRING_OPS, f"attribute {key!r}"

    def operator(self, label: str) -> str:
        tok = self.take()
        if tok.kind == "OP":
            return tok.value
        word = tok.value.upper() if tok.kind == "WORD" else ""
        if word in ("LIKE", "ILIKE", "IN"):
            return word
        if word == "NOT":
            if not self.is_word("IN"):
                raise self.fail(self.peek(), f"expected IN after NOT, got {self.peek().shown()}")
            self.take()
            return "NOT IN"
        if word == "IS":
            negate = self.is_word("NOT")
            if negate:
                self.take()
            if not self.is_word("NULL"):
                raise self.fail(self.peek(), f"expected NULL after IS, got {self.peek().shown()}")
            self.take()
            return "IS NOT NULL" if negate else "IS NULL"
        raise self.fail(tok, f"expected a comparison operator after {label}, got {tok.shown()}")

    def count_value(self, tok: Token) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.fail(tok, f"a filter may hold at most {MAX_VALUES} values")

    def number(self, label: str, op: str) -> float:
        tok = self.take()
        self.count_value(tok)
        if tok.kind == "WORD" and _NUMBER_RE.fullmatch(tok.value):
            return float(tok.value)
        if tok.kind == "END":
            raise self.fail(tok, f"missing value after {op!r}: {label} takes a number")
        if tok.kind in ("SQ", "DQ"):
            hint = f"; write {tok.value} without quotes" if _NUMBER_RE.fullmatch(tok.value) else ""
            raise self.fail(tok, f"{label} is compared with numbers, not strings{hint}")
        raise self.fail(tok, f"expected a number for {label}, got {tok.shown()}")

    def string(self, label: str, entity: str, key: str) -> str:
        tok = self.take()
        self.count_value(tok)
        if tok.kind in ("SQ", "DQ"):
            return tok.value
        if tok.kind == "END":
            raise self.fail(tok, f"missing value: {label} takes a quoted string")
        if tok.kind == "WORD":
            raise self.fail(
                tok,
                f"{label} is compared with strings; quote the value, "
                f"e.g. {entity}.{key} = '{tok.value}'",
            )
        raise self.fail(tok, f"expected a quoted string for {label}, got {tok.shown()}")

    def string_list(self, label: str, entity: str, key: str) -> tuple[str, ...]:
        tok = self.take()
        if tok.kind != "LPAREN":
            raise self.fail(tok, "IN takes a parenthesised list of quoted strings, e.g. ('a', 'b')")
        if self.peek().kind == "RPAREN":
            raise self.fail(self.peek(), "IN needs at least one value")
        items = [self.string(label, entity, key)]
        while self.peek().kind == "COMMA":
            self.take()
            items.append(self.string(label, entity, key))
        close = self.peek()
        if close.kind == "END":
            raise self.fail(tok, "unbalanced parenthesis: the IN list is never closed")
        if close.kind != "RPAREN":
            raise self.fail(close, f"expected ',' or ')' in the IN list, got {close.shown()}")
        self.take()
        return tuple(items)

    # -- order_by -------------------------------------------------------------------
    def order_item(self) -> OrderBy:
        tok = self.peek()
        if tok.kind != "WORD":
            raise self.fail(tok, f"expected a key such as metrics.rmse, got {tok.shown()}")
        entity, key = self.identifier(order_by=True)
        ascending = True
        if self.is_word("ASC") or self.is_word("DESC"):
            ascending = self.take().value.upper() == "ASC"
        end = self.peek()
        if end.kind != "END":
            raise self.fail(end, f"expected ASC, DESC or nothing after the key, got {end.shown()}")
        return OrderBy(entity, key, ascending)


def _flatten(cls: type[And] | type[Or], items: list[Node]) -> Node:
    if len(items) == 1:
        return items[0]
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, cls) else (item,))
    return cls(tuple(flat))


def check_text(text: object) -> str:
    """The filter text (None is empty); InvalidFilter for anything but a string."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InvalidFilter(repr(text), 0, f"a filter must be a string, not {type(text).__name__}")
    return text


def parse_filter(filter_string: str | None) -> Node | None:
    """Parse a run search filter.

    Parameters
    ----------
    filter_string:
        e.g. ``"metrics.rmse < 0.5 and (params.model = 'rf' or tags.team IN ('a', 'b'))"``.

    Returns
    -------
    The AST, or None when the filter is empty or only whitespace.

    Raises
    ------
    InvalidFilter
        With the position of the offending token.
    """
    text = check_text(filter_string)
    return Parser(text, _RUNS).filter()


def parse_experiment_filter(filter_string: str | None) -> Node | None:
    """Parse an experiment search filter (``name LIKE 'a%'``, ``tags.team = 'x'``…)."""
    text = check_text(filter_string)
    return Parser(text, _EXPERIMENTS).filter()


def parse_order(items: list[str] | None, grammar: Grammar) -> list[OrderBy]:
    """Parse ``order_by`` clauses for ``grammar``; InvalidFilter names the bad one."""
    if not items:
        return []
    if len(items) > MAX_ORDER_BY:
        raise InvalidFilter(str(items[MAX_ORDER_BY]), 0, f"at most {MAX_ORDER_BY} order_by items")
    result = []
    for item in items:
        text = check_text(item)
        if not text.strip():
            raise InvalidFilter(text, 0, "empty order_by item")
        result.append(Parser(text, grammar).order_item())
    return result


def parse_order_by(items: list[str] | None) -> list[OrderBy]:
    """Parse run ``order_by`` items such as ``"metrics.rmse ASC"`` or ``"run_name"``.

    Raises
    ------
    InvalidFilter
        For a malformed item; ``text`` is that item and ``position`` is within it.
    """
    return parse_order(items, _RUNS)


def parse_experiment_order_by(items: list[str] | None) -> list[OrderBy]:
    """Parse experiment ``order_by`` items (``"name"``, ``"creation_time DESC"``…)."""
    return parse_order(items, _EXPERIMENTS)
