"""``%track_autolog on|off``: autologging from a notebook cell, without Python code.

Kept apart from ``track.py`` because it only parses a line and forwards to
:func:`nbtrack.autolog`.
"""

from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from nbtrack.magics.track import _parse

__all__ = ["AutologMagics"]


@magics_class
class AutologMagics(Magics):
    """The ``%track_autolog`` line magic.

    Parameters
    ----------
    shell:
        The IPython shell the magic is registered in.
    """

    def __init__(self, shell: Any) -> None:
        super().__init__(shell)

    @magic_arguments()
    @argument("state", choices=("on", "off"), help="Turn autologging on or off.")
    @argument(
        "--frameworks",
        default=None,
        help="Comma-separated integrations (default: all installed: sklearn, lightgbm).",
    )
    @argument("--no-models", action="store_true", help="Do not log fitted models.")
    @argument("--silent", action="store_true", help="Emit no autolog warnings.")
    @line_magic
    def track_autolog(self, line: str) -> None:
        """Turn autologging on or off: every sklearn or LightGBM ``fit`` then logs a run."""
        from nbtrack.autologging import autolog, status
        from nbtrack.errors import InvalidInput

        args = _parse(self.track_autolog, line)
        frameworks = [f.strip() for f in args.frameworks.split(",")] if args.frameworks else None
        try:
            autolog(
                disable=args.state == "off",
                log_models=not args.no_models,
                frameworks=frameworks,
                silent=args.silent,
            )
        except InvalidInput as exc:
            raise UsageError(str(exc)) from None
        print(f"autolog: {status()}")
