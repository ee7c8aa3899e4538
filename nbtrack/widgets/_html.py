"""HTML building blocks shared by the panels: escaping, value formatting, tables.

Every panel renders its markup in the kernel, for the live widget and for the
static fallback alike, so these helpers are the only place that turns store
values into text. Every value a user or a store supplied goes through
:func:`esc`; the markup never carries a script, a style URL or a CDN link.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import time
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

from nbtrack.entities import RunInfo

__all__ = [
    "LIVE_BADGE",
    "Cell",
    "css",
    "duration",
    "esc",
    "fmt_value",
    "panel_document",
    "sparkline",
    "status_badge",
    "table",
    "timestamp",
]

STATIC = Path(__file__).resolve().parent / "static"

#: Shown while a panel refreshes itself (it shows a RUNNING run).
LIVE_BADGE = '<span class="jp-nbtrack-muted" title="refreshing while runs are RUNNING">live</span>'
#: A table cell: its markup (already escaped) and optional CSS classes.
Cell = tuple[str, str]


def esc(value: object) -> str:
    """Escape ``value``'s text for HTML, quotes included (it may land in an attribute)."""
    return html.escape("" if value is None else str(value), quote=True)


@cache
def css() -> str:
    """The panels' stylesheet (also inlined into static fallbacks)."""
    return (STATIC / "panel.css").read_text(encoding="utf-8")


def panel_document(body: str, static_note: str | None = None) -> str:
    """Wrap a panel's markup for the static fallback: inline CSS, a note, no script."""
    note = f'<p class="jp-nbtrack-muted">{esc(static_note)}</p>' if static_note else ""
    return f'<style>{css()}</style><div class="jp-nbtrack-Panel">{body}{note}</div>'


def timestamp(ms: int | None) -> str:
    """``2026-11-22 08:01:02`` in local time, or empty for None."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def duration(info: RunInfo, now_ms: int | None = None) -> str:
    """A run's duration, up to now while it runs: ``850 ms``, ``12.3 s``, ``4 min 5 s``…"""
    if info.start_time is None:
        return ""
    end = info.end_time
    if end is None:
        if info.status != "RUNNING":
            return ""
        end = now_ms if now_ms is not None else int(time.time() * 1000)
    ms = max(end - info.start_time, 0)
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def fmt_value(value: object) -> str:
    """A metric or param value for a table: floats to 5 significant digits, NaN/inf spelled."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.5g}"
    return "" if value is None else str(value)


def status_badge(status: str) -> str:
    """A run status as a coloured badge."""
    return f'<span class="jp-nbtrack-status jp-nbtrack-status-{esc(status)}">{esc(status)}</span>'


def table(
    header: Sequence[str], rows: Iterable[Sequence[Cell | str]], label: str, row_classes=None
) -> str:
    """A ``<table>``: ``header`` is markup per column, each cell markup or (markup, classes).

    ``row_classes`` (optional) gives each row's CSS classes, in order.
    """
    head = "".join(h if h.startswith("<th") else f"<th>{h}</th>" for h in header)
    body = []
    classes = list(row_classes or [])
    for i, row in enumerate(rows):
        cells = []
        for cell in row:
            markup, cls = (cell, "") if isinstance(cell, str) else cell
            cells.append(f'<td class="{cls}">{markup}</td>' if cls else f"<td>{markup}</td>")
        row_cls = f' class="{classes[i]}"' if i < len(classes) and classes[i] else ""
        body.append(f"<tr{row_cls}>{''.join(cells)}</tr>")
    return (
        f'<table class="jp-nbtrack-Table" aria-label="{esc(label)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def sparkline(values: Sequence[float], width: int = 80, height: int = 18) -> str:
    """A tiny inline SVG polyline of ``values`` (non-finite ones skipped).

    Hand-drawn rather than altair: a run with 20 metrics would otherwise need
    20 vl-convert renders (about 50 ms each) for a 80-pixel line.
    """
    finite = [(i, v) for i, v in enumerate(values) if math.isfinite(v)]
    if len(finite) < 2:
        return ""
    low = min(v for _, v in finite)
    high = max(v for _, v in finite)
    span = (high - low) or 1.0
    last = max(i for i, _ in finite) or 1
    points = " ".join(
        f"{i / last * (width - 2) + 1:.1f},{height - 1 - (v - low) / span * (height - 2):.1f}"
        for i, v in finite
    )
    return (
        f'<svg class="jp-nbtrack-Spark" width="{width}" height="{height}" role="img" '
        f'aria-label="sparkline"><polyline fill="none" stroke="currentColor" '
        f'stroke-width="1.2" points="{points}"/></svg>'
    )
