"""A notebook's parameters: the literal assignments of its cell tagged ``parameters``.

papermill's convention: one cell, tagged ``parameters``, assigns the defaults
(``alpha = 0.5``). Each literal assignment becomes an MLproject parameter
whose type and default come from the literal: numbers are ``float`` or
``int``, strings that look like file paths ``path``, other strings, bools,
None and containers ``string`` (their exact Python kind is kept so that
``main.py`` turns the command-line text back into the same kind of value).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PARAMETERS_TAG", "ProjectParameter", "split_parameters_cell"]

PARAMETERS_TAG = "parameters"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_FILE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}$")


@dataclass(frozen=True, slots=True)
class ProjectParameter:
    """One entry-point parameter.

    Attributes
    ----------
    name:
        The variable name (and the ``--name`` option of ``main.py``).
    kind:
        The Python kind: float, int, bool, string, path, none or literal.
    default:
        The notebook's value.
    """

    name: str
    kind: str
    default: Any

    @property
    def mlproject_type(self) -> str:
        """The MLproject type: ``float``, ``int``, ``path`` or ``string``."""
        return self.kind if self.kind in ("float", "int", "path") else "string"

    @property
    def mlproject_default(self) -> Any:
        """The default as written in ``MLproject`` (numbers as numbers, the rest as text)."""
        if self.kind in ("float", "int"):
            return self.default
        return str(self.default)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if value is None:
        return "none"
    if isinstance(value, str):
        looks_like_file = "/" in value or "\\" in value or _FILE_SUFFIX.search(value)
        if looks_like_file and not _SCHEME.match(value) and " " not in value.strip():
            return "path"
        return "string"
    return "literal"


def split_parameters_cell(source: str) -> tuple[list[ProjectParameter], str]:
    """Return the parameters a ``parameters`` cell assigns, and its other code.

    A statement is a parameter when it assigns a literal to one plain name
    (``alpha = 0.5``, ``layers: list = [64, 32]``); a later literal assignment
    to the same name wins, as it would when the cell runs. Every other
    statement is kept, in order, as code that runs after the parameters.

    Raises
    ------
    SyntaxError
        The cell is not valid Python.
    """
    tree = ast.parse(source)
    found: dict[str, ProjectParameter] = {}
    lines = source.splitlines()
    rest: list[str] = []
    for node in tree.body:
        target, value_node = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value_node = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value_node = node.target, node.value
        if isinstance(target, ast.Name) and value_node is not None:
            try:
                value = ast.literal_eval(value_node)
            except (ValueError, SyntaxError, TypeError):
                pass
            else:
                found.pop(target.id, None)
                found[target.id] = ProjectParameter(target.id, _kind(value), value)
                continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        end = node.end_lineno or node.lineno
        rest.append("\n".join(lines[start - 1 : end]))
    return list(found.values()), "\n".join(rest)
