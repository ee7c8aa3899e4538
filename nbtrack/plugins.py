"""Plug-ins from installed packages: loading one entry-point group, broken ones skipped.

Model flavors and prompt providers take plug-ins this way (papermill's engines
are the model). A plug-in that fails to import must not stop everything else
from working, so it is reported as a warning naming it and left out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["load_entry_points"]

T = TypeVar("T")


def load_entry_points(group: str, what: str, adapt: Callable[[Any], T]) -> list[T]:
    """Load every entry point of ``group`` and return ``adapt`` of each, in install order.

    Parameters
    ----------
    group:
        The entry-point group, e.g. ``"nbtrack.flavors"``.
    what:
        What a plug-in of this group is, for the warning ("Model flavor").
    adapt:
        Turns the loaded object into what the caller keeps; an
        ``AttributeError`` or ``TypeError`` it raises marks the plug-in broken.
    """
    import warnings
    from importlib.metadata import entry_points

    from nbtrack.errors import NbtrackWarning

    found = []
    for ep in entry_points(group=group):
        try:
            found.append(adapt(ep.load()))
        except (ImportError, AttributeError, TypeError) as exc:
            warnings.warn(
                f"{what} plug-in {ep.value!r} ({group}) failed to load: {exc}",
                NbtrackWarning,
                stacklevel=3,
            )
    return found
