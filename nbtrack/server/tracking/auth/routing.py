"""Finding a request's permission rule: (method, path) against the rule table's templates.

The middleware runs before the app's router, so it matches the path itself,
with Starlette's own template compiler (``{name}``, ``{name:path}``), so a
template means here exactly what it means to the route that declares it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from starlette.routing import compile_path

__all__ = ["RouteIndex"]

R = TypeVar("R")


class RouteIndex(Generic[R]):
    """Rules by ``(method, path template)``; ``match`` finds the one a request falls under."""

    def __init__(self, rules: Mapping[tuple[str, str], R]) -> None:
        self._exact: dict[tuple[str, str], R] = {}
        self._patterns: list[tuple[str, str, re.Pattern[str], dict[str, Any], R]] = []
        for (method, template), rule in rules.items():
            if "{" not in template:
                self._exact[(method, template)] = rule
                continue
            regex, _format, convertors = compile_path(template)
            self._patterns.append((method, template, regex, convertors, rule))

    def match(self, method: str, path: str) -> tuple[R, str, dict[str, Any]] | None:
        """Return ``(rule, template, path parameters)``, or None if no template matches.

        HEAD falls under GET's rule, as Starlette answers HEAD on every GET route.
        """
        if method == "HEAD":
            method = "GET"
        rule = self._exact.get((method, path))
        if rule is not None:
            return rule, path, {}
        for rule_method, template, regex, convertors, rule in self._patterns:
            if rule_method != method:
                continue
            found = regex.match(path)
            if found is not None:
                params = {
                    name: convertors[name].convert(value)
                    for name, value in found.groupdict().items()
                }
                return rule, template, params
        return None
