"""Inline panels for notebooks: runs, metric charts, comparison, one run, the registry.

Each panel is a data layer over ``nbtrack.Client`` (paged queries; the store
filters and sorts) plus an anywidget view whose ES module ships in
``static/`` (no CDN), plus a static fallback (``text/html`` with inline SVG
charts rendered by vl-convert) for exported notebooks. ``import nbtrack``
reaches these lazily: ``nbt.show_runs`` loads this package on first use.

Imported in a kernel, the package also registers how feature results
(``nbt.evaluate``'s report, ``nbt.compare_prompts``' grid) display as panels:
:mod:`nbtrack.widgets.display`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "compare",
    "register_display",
    "show_metrics",
    "show_registry",
    "show_run",
    "show_runs",
]

_HOMES = {
    "compare": "nbtrack.widgets.comparison",
    "show_metrics": "nbtrack.widgets.metrics_chart",
    "show_registry": "nbtrack.widgets.registry_panel",
    "show_run": "nbtrack.widgets.run_detail",
    "show_runs": "nbtrack.widgets.runs_table",
}


def register_display(shell: Any = None) -> bool:
    """Show feature results as panels in ``shell``'s kernel (see :mod:`nbtrack.widgets.display`)."""
    from nbtrack.widgets.display import register_display as register

    return register(shell)


def _register_in_running_kernel() -> None:
    import sys

    # Only where IPython already runs: importing it here would slow every script.
    if "IPython" in sys.modules:
        register_display()


_register_in_running_kernel()


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
