"""``%nbtrack runs|compare|registry``: the inline panels from a line magic.

Registered in ``track.FEATURE_SUBCOMMANDS``; each function gets the shell and
the shell-split words after the subcommand, builds the panel and displays it.
Errors a user can fix (a malformed filter, an unknown run) become IPython
``UsageError``\\ s: one readable message, with the filter's error position,
instead of a traceback.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from nbtrack.errors import NbtrackError

__all__ = ["compare", "registry", "runs"]


def _show(panel_factory: Any, *args: Any, **kwargs: Any) -> Any:
    from IPython.display import display

    try:
        panel = panel_factory(*args, **kwargs)
    except NbtrackError as exc:
        raise UsageError(str(exc)) from None
    display(panel)
    return panel


def runs(shell: Any, argv: list[str]) -> Any:
    """``%nbtrack runs [-e EXPERIMENT] [FILTER]``: the run table, filtered.

    The words after the options form the filter, quotes kept:
    ``%nbtrack runs params.model = 'rf'``; a filter quoted as a whole works too.
    """
    from nbtrack.widgets.runs_table import show_runs

    experiment = None
    words = list(argv)
    if words and words[0] in ("-e", "--experiment"):
        if len(words) < 2:
            raise UsageError("%nbtrack runs -e needs an experiment name")
        experiment, words = _unquoted(words[1]), words[2:]
    text = " ".join(words)
    return _show(show_runs, experiment, _unquoted(text) if len(words) == 1 else text)


def _unquoted(word: str) -> str:
    """``"my exp"`` → ``my exp``: the words of ``runs`` arrive with their quotes."""
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


def compare(shell: Any, argv: list[str]) -> Any:
    """``%nbtrack compare RUN_ID RUN_ID…``: compare runs side by side."""
    from nbtrack.widgets.comparison import compare as compare_runs

    if not argv:
        raise UsageError("%nbtrack compare needs one or more run ids")
    return _show(compare_runs, list(argv))


def registry(shell: Any, argv: list[str]) -> Any:
    """``%nbtrack registry [MODEL]``: registered models and their versions."""
    from nbtrack.widgets.registry_panel import show_registry

    if len(argv) > 1:
        raise UsageError("%nbtrack registry takes at most one model name")
    return _show(show_registry, argv[0] if argv else None)
