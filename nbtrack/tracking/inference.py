"""Which names of a cell are params and which are metrics, decided from its AST.

``%%track`` logs parameters and metrics with no logging code in the cell, and
an exported project's ``main.py`` keeps doing so. The
rules (SPEC §3) are plain functions over the cell's source and a namespace, so
they are tested without a kernel:

- a name is a *param* when every assignment to it at the cell's top level has
  a literal right side (``alpha = 0.5``, ``layers = [64, 32]``,
  ``a, b = 1, -2``) and nothing else in the cell rebinds it (``x += 1``);
- a name is *computed* when the cell assigns it an expression
  (``rmse = mse ** 0.5``), at the top level or inside a top-level block
  (``for``/``with``/``if``/``try``); after the cell, computed names whose
  value is a real number (numpy scalars included, bools excluded) are
  *metrics*;
- names the cell reads that an earlier cell of the session set by a literal
  assignment are params too, with the value they have when the cell starts
  (the "hyperparameters at the top" cell, papermill's ``parameters`` cell).

Function and class bodies are not looked into: their assignments are local.
"""

from __future__ import annotations

import ast
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CellNames",
    "SessionLiterals",
    "analyse_cell",
    "as_metric_value",
    "infer_metrics",
    "infer_params",
    "is_literal_value",
    "split_names",
]

_NO_VALUE = object()
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SCOPES = (*_DEFS, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass
class CellNames:
    """What a cell does with names, as seen in its source.

    Attributes
    ----------
    literals:
        Names every top-level assignment of which is a literal, with the last
        literal value, in the order first assigned.
    computed:
        Names assigned an expression (or augmented), in the order first assigned.
    bound:
        Every name the cell binds outside function and class bodies (assignments,
        ``for`` targets, imports, ``def``/``class``…).
    reads:
        Every name the cell reads, function bodies included.
    """

    literals: dict[str, Any] = field(default_factory=dict)
    computed: list[str] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return _NO_VALUE


class _Collector:
    def __init__(self) -> None:
        self.names = CellNames()
        self._literal_order: dict[str, Any] = {}
        self._computed: dict[str, None] = {}

    def literal(self, name: str, value: Any) -> None:
        self._literal_order[name] = value
        self.names.bound.add(name)

    def computed(self, name: str) -> None:
        self._computed.setdefault(name, None)
        self.names.bound.add(name)

    def assign(self, target: ast.expr, value: ast.expr | None, top: bool) -> None:
        """Record ``target = value``; ``value`` None means "some computed value"."""
        if isinstance(target, ast.Name):
            lit = _NO_VALUE if value is None else _literal(value)
            if lit is _NO_VALUE:
                self.computed(target.id)
            elif top:
                self.literal(target.id, lit)
            else:
                # A literal inside a block is conditional: neither param nor metric.
                self.names.bound.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = target.elts
            pairs: Iterable[tuple[ast.expr, ast.expr | None]]
            if (
                isinstance(value, (ast.Tuple, ast.List))
                and len(value.elts) == len(elts)
                and not any(isinstance(e, ast.Starred) for e in (*elts, *value.elts))
            ):
                pairs = zip(elts, value.elts, strict=True)
            else:
                pairs = ((e, None) for e in elts)
            for sub_target, sub_value in pairs:
                self.assign(sub_target, sub_value, top)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, None, top)
        # Attribute and subscript targets bind no name.

    def statement(self, stmt: ast.stmt, top: bool) -> None:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                self.assign(target, stmt.value, top)
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is not None:
                self.assign(stmt.target, stmt.value, top)
        elif isinstance(stmt, ast.AugAssign):
            self.assign(stmt.target, None, top)
        elif isinstance(stmt, _DEFS):
            self.names.bound.add(stmt.name)
            return
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            for alias in stmt.names:
                self.names.bound.add((alias.asname or alias.name).split(".")[0])
            return
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.stmt):
                self.statement(child, top=False)
            elif isinstance(child, ast.ExceptHandler):
                if child.name:
                    self.names.bound.add(child.name)
                for sub in child.body:
                    self.statement(sub, top=False)
            else:
                self._bind_stores(child)

    def _bind_stores(self, node: ast.AST) -> None:
        # for-targets, with-as, walrus: bound here, never params.
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, (*_SCOPES, *_COMPREHENSIONS)):
                continue
            if isinstance(current, ast.Name) and isinstance(current.ctx, ast.Store):
                self.names.bound.add(current.id)
            stack.extend(ast.iter_child_nodes(current))

    def finish(self, tree: ast.Module) -> CellNames:
        for name in self._computed:
            self._literal_order.pop(name, None)
        self.names.literals = self._literal_order
        self.names.computed = list(self._computed)
        self.names.reads = {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        return self.names


def analyse_cell(source: str) -> CellNames:
    """Return what the cell ``source`` (plain Python, magics already transformed) does with names.

    Raises
    ------
    SyntaxError
        If ``source`` is not valid Python.
    """
    tree = ast.parse(source)
    collector = _Collector()
    for stmt in tree.body:
        collector.statement(stmt, top=True)
    return collector.finish(tree)


def is_literal_value(value: Any, _depth: int = 0) -> bool:
    """Return True for values a literal can write: numbers, str, bytes, bool, None, containers."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return True
    if _depth > 20:
        return False
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(is_literal_value(v, _depth + 1) for v in value)
    if isinstance(value, dict):
        return all(
            is_literal_value(k, _depth + 1) and is_literal_value(v, _depth + 1)
            for k, v in value.items()
        )
    return False


def as_metric_value(value: Any) -> float | None:
    """Return ``value`` as a float when it is a real number (numpy scalars too), else None.

    Bools (Python and numpy) are not metrics, nor are arrays with more than one element.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    dtype = getattr(value, "dtype", None)
    if getattr(value, "shape", None) == () and getattr(dtype, "kind", "") in ("i", "u", "f"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return None


class SessionLiterals:
    """Names that earlier cells of the session set by a literal assignment.

    Updated after every successful cell: a literal assignment adds the name,
    any other binding of it removes it.
    """

    def __init__(self) -> None:
        self.names: set[str] = set()

    def update(self, cell: CellNames) -> None:
        """Account for one executed cell."""
        self.names -= cell.bound - cell.literals.keys()
        self.names |= cell.literals.keys()

    def clear(self) -> None:
        """Forget every name (used when the extension is unloaded)."""
        self.names.clear()


def infer_params(
    cell: CellNames, session: Iterable[str], namespace: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the params of a cell before it runs.

    The cell's own literal assignments, then the names it reads that earlier
    cells set by a literal assignment (``session``), with their current values
    in ``namespace`` as long as those are still literal values.
    """
    params = dict(cell.literals)
    for name in sorted(cell.reads.intersection(session) - cell.bound):
        value = namespace.get(name, _NO_VALUE)
        if value is not _NO_VALUE and is_literal_value(value):
            params[name] = value
    return params


def infer_metrics(cell: CellNames, namespace: Mapping[str, Any]) -> dict[str, float]:
    """Return the computed names of a cell whose value (after it ran) is a real number."""
    metrics: dict[str, float] = {}
    for name in cell.computed:
        number = as_metric_value(namespace.get(name))
        if number is not None:
            metrics[name] = number
    return metrics


def split_names(text: str | None) -> list[str]:
    """Split a ``-p``/``-m`` option (``"a,b c"``) into names, dropping empties and duplicates."""
    if not text:
        return []
    names = [part.strip() for part in text.replace(" ", ",").split(",")]
    return list(dict.fromkeys(n for n in names if n))
