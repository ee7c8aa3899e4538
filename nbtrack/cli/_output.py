"""How the CLI prints: aligned text tables for people, JSON for scripts.

Rows are plain dicts holding raw values (full ids, timestamps in ms since the
epoch). JSON prints them as they are; a table formats each column for reading
(short ids, ISO local times, durations, floats to 6 significant digits) and
drops columns that do not fit the terminal, saying which ones it dropped.

JSON has no NaN or infinity; non-finite floats are written as the strings
``"NaN"``, ``"Infinity"`` and ``"-Infinity"``, as protobuf's JSON mapping (and
so MLflow's REST API) writes them.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click

__all__ = [
    "Column",
    "echo_json",
    "echo_table",
    "format_bytes",
    "format_duration",
    "format_time",
    "format_value",
    "json_safe",
]

_GAP = "  "


def format_value(value: Any) -> str:
    """Return a table cell for a raw value: floats to 6 significant digits, None as blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    return str(value)


def format_time(ms: int | None) -> str:
    """Return a timestamp in ms as ISO local time to the second (``2025-01-31 14:05:09``)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000).isoformat(sep=" ", timespec="seconds")


def format_duration(ms: int | None) -> str:
    """Return a duration in ms as ``0.42s``, ``12.3s``, ``4m05s`` or ``2h07m``."""
    if ms is None:
        return ""
    seconds = max(ms, 0) / 1000
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_bytes(size: int | None) -> str:
    """Return a file size for people (``812 B``, ``1.2 KB``, ``3.4 MB``); blank for None."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Column:
    """One table column.

    Attributes
    ----------
    key:
        The row dict's key.
    header:
        The column title (the key when empty).
    fmt:
        Turns a raw value into the cell text.
    max_width:
        Longer cells are cut with ``…``.
    required:
        Kept even when the terminal is too narrow for it.
    priority:
        When the terminal is too narrow, optional columns are kept by
        ascending priority (ties: left to right) while they fit.
    align:
        ``"left"`` or ``"right"``; by default numbers go right, text left.
    """

    key: str
    header: str = ""
    fmt: Callable[[Any], str] = format_value
    max_width: int = 40
    required: bool = False
    priority: int = 1
    align: str | None = None

    @property
    def title(self) -> str:
        """The header text."""
        return self.header or self.key


def _cut(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def terminal_width() -> int | None:
    """Return the terminal's width, or None when stdout is not a terminal (no trimming)."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def echo_table(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    width: int | None = None,
    empty: str = "(nothing to show)",
) -> list[Column]:
    """Print ``rows`` as an aligned table; return the columns left out for lack of width.

    Parameters
    ----------
    rows:
        Raw rows; a missing key is a blank cell.
    columns:
        In display order; when the table would be wider than ``width``, optional
        columns are kept by priority while they fit, and the others left out.
    width:
        Available characters per line; None never drops a column.
    empty:
        Printed instead of a table when there are no rows.
    """
    if not rows:
        click.echo(empty)
        return []
    cells = {c.key: [_cut(c.fmt(r.get(c.key)), c.max_width) for r in rows] for c in columns}
    widths = {c.key: max([len(c.title), *map(len, cells[c.key])]) for c in columns}
    kept = {c.key for c in columns if c.required or width is None}
    used = sum(widths[k] + len(_GAP) for k in kept)
    for col in sorted(columns, key=lambda c: c.priority):
        if col.key not in kept and used + widths[col.key] <= (width or 0):
            kept.add(col.key)
            used += widths[col.key] + len(_GAP)
    shown = [c for c in columns if c.key in kept]
    hidden = [c for c in columns if c.key not in kept]
    right = {
        c.key: c.align == "right"
        or (
            c.align is None
            and any(_is_number(r.get(c.key)) for r in rows)
            and all(r.get(c.key) is None or _is_number(r.get(c.key)) for r in rows)
        )
        for c in shown
    }

    def line(texts: Iterable[tuple[Column, str]]) -> str:
        parts = [
            t.rjust(widths[c.key]) if right[c.key] else t.ljust(widths[c.key]) for c, t in texts
        ]
        return _GAP.join(parts).rstrip()

    click.echo(line((c, c.title) for c in shown))
    for i in range(len(rows)):
        click.echo(line((c, cells[c.key][i]) for c in shown))
    return hidden


def json_safe(value: Any) -> Any:
    """Return ``value`` with NaN and infinities as the strings JSON readers accept."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def echo_json(data: Any) -> None:
    """Print ``data`` as indented, strictly valid JSON."""
    click.echo(json.dumps(json_safe(data), indent=2, allow_nan=False, default=str))
