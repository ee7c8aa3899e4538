"""How feature results display in a live kernel: IPython formatters this layer registers.

Features (``nbt.evaluate``'s :class:`~nbtrack.evaluation.result.EvaluationResult`,
``nbt.compare_prompts``' :class:`~nbtrack.prompts.grid.PromptGrid`) know only
their static HTML (``_repr_html_``), which reads the same in an exported
notebook. In a kernel this module teaches IPython to show them as panels
(paging, marking), by type name so the features are not imported here until
a result exists. Registered by ``%load_ext nbtrack`` and when
``nbtrack.widgets`` is first imported in a kernel; features never import
``nbtrack.widgets``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["PANELS", "register_display"]

#: (feature module, result class) → (widgets module, panel class taking the result).
PANELS: dict[tuple[str, str], tuple[str, str]] = {
    ("nbtrack.evaluation.result", "EvaluationResult"): (
        "nbtrack.widgets.evaluation_report",
        "EvaluationPanel",
    ),
    ("nbtrack.prompts.grid", "PromptGrid"): ("nbtrack.widgets.prompt_grid", "PromptGridPanel"),
}


def _shower(home: str, panel_name: str) -> Callable[[Any], None]:
    def show(result: Any) -> None:
        from IPython.display import HTML, display

        from nbtrack.widgets._refresh import in_kernel

        if not in_kernel():
            display(HTML(result._repr_html_()))
            return
        panel = getattr(importlib.import_module(home), panel_name)
        display(panel(result))

    return show


def register_display(shell: Any = None) -> bool:
    """Register the panels of :data:`PANELS` with ``shell`` (the running one by default).

    Returns whether there was a shell to register with. Calling it again is harmless.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.ipython_display_formatter
    for (module, name), (home, panel) in PANELS.items():
        formatter.for_type_by_name(module, name, _shower(home, panel))
    return True
