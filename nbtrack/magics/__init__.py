"""IPython integration: ``%load_ext nbtrack`` registers the magics and the kernel hook.

Only the IPython glue lives in this package; what a cell logs is decided by
plain functions (``_inference``) testable without a kernel.
"""

from __future__ import annotations

from typing import Any

__all__ = ["enable", "load_ipython_extension", "unload_ipython_extension"]

_loaded: dict[int, Any] = {}
_autolog_magics: dict[int, Any] = {}


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%%track``, ``%nbtrack`` and ``%track_autolog``; install the kernel hook.

    Also registers how feature results display as panels (``nbtrack.widgets``).
    """
    from nbtrack.magics.autolog_magic import AutologMagics
    from nbtrack.magics.track import NbtrackMagics
    from nbtrack.widgets.display import register_display

    if id(ipython) in _loaded:
        return
    magics = NbtrackMagics(ipython)
    ipython.register_magics(magics)
    autolog_magics = AutologMagics(ipython)
    ipython.register_magics(autolog_magics)
    magics.hook.install()
    register_display(ipython)
    _loaded[id(ipython)] = magics
    _autolog_magics[id(ipython)] = autolog_magics


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the kernel hook and the magics from ``ipython``."""
    magics = _loaded.pop(id(ipython), None)
    if magics is None:
        return
    magics.hook.uninstall()
    for registered in (magics, _autolog_magics.pop(id(ipython), None)):
        if registered is None:
            continue
        for kind in ("cell", "line"):
            for name in registered.magics[kind]:
                ipython.magics_manager.magics[kind].pop(name, None)
        ipython.magics_manager.registry.pop(type(registered).__name__, None)


def enable() -> None:
    """Do what ``%load_ext nbtrack`` does, from Python code running in IPython or Jupyter.

    Raises
    ------
    NbtrackError
        If the code is not running in IPython.
    """
    from IPython import get_ipython

    from nbtrack.errors import NbtrackError

    shell = get_ipython()
    if shell is None:
        raise NbtrackError("nbtrack.enable() works in IPython and Jupyter only")
    shell.extension_manager.load_extension("nbtrack")
