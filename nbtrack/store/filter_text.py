"""Writing a value into a search filter: the one place a string is quoted for the grammar.

The filter language (:mod:`nbtrack.store.search_filter`) reads ``'…'`` with
``\\\\`` as one backslash and ``''`` (or ``\\'``) as one quote; inside a
``LIKE`` pattern a backslash also escapes ``%`` and ``_``. Every front end
that builds a filter from a user's value (a model name, a notebook path)
goes through these functions, so a name such as ``a\\``, ``it's`` or
``50%_off`` means itself.
"""

from __future__ import annotations

__all__ = ["equals", "like_literal", "quote"]


def quote(value: str) -> str:
    """``value`` as a single-quoted filter string that reads back as exactly ``value``."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def like_literal(value: str) -> str:
    """``value`` as a LIKE pattern matching only itself (``%``, ``_`` and ``\\`` escaped).

    Quote the result with :func:`quote`, adding wildcards around it as needed.
    """
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def equals(key: str, value: str) -> str:
    """The comparison ``key = 'value'``, e.g. ``equals("name", "a\\\\")``."""
    return f"{key} = {quote(value)}"
