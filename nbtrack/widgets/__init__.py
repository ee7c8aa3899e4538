"""Inline panels for notebooks: runs, metric charts, comparison, one run, the registry.

Each panel is a data layer over ``nbtrack.Client`` (paged queries; the store
filters and sorts) plus an anywidget view whose ES module ships in
``static/`` (no CDN), plus a static fallback (``text/html`` with inline SVG
charts rendered by vl-convert) for exported notebooks. ``import nbtrack``
reaches these lazily: ``nbt.show_runs`` loads this package on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["compare", "show_metrics", "show_registry", "show_run", "show_runs"]

_HOMES = {
    "compare": "nbtrack.widgets.comparison",
    "show_metrics": "nbtrack.widgets.metrics_chart",
    "show_registry": "nbtrack.widgets.registry_panel",
    "show_run": "nbtrack.widgets.run_detail",
    "show_runs": "nbtrack.widgets.runs_table",
}


def __getattr__(name: str) -> Any:
    # Each panel imports anywidget and altair: load only the one asked for.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'nbtrack.widgets' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from nbtrack.widgets.comparison import compare
    from nbtrack.widgets.metrics_chart import show_metrics
    from nbtrack.widgets.registry_panel import show_registry
    from nbtrack.widgets.run_detail import show_run
    from nbtrack.widgets.runs_table import show_runs
