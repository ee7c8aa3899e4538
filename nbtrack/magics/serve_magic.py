"""``%nbtrack serve MODEL_URI [--port N]``: serve a model from a cell, in the background.

Glue only: parse the line, call :func:`nbtrack.serve`, and keep the handle in
the user's namespace as ``nbtrack_server`` (so ``nbtrack_server.stop()``
ends it). A server already kept there is stopped first, so running the
cell again does not leave the old one holding its port.
"""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError

__all__ = ["HANDLE_NAME", "serve"]

#: The user-namespace name the running server's handle is kept under.
HANDLE_NAME = "nbtrack_server"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="%nbtrack serve",
        description="Serve a model with MLflow's scoring protocol in the background.",
        add_help=False,
    )
    parser.add_argument("model_uri", help="A model folder, runs:/… or models:/… URI.")
    parser.add_argument("--port", type=int, default=None, help="Port (default: a free one).")
    parser.add_argument("--host", default="127.0.0.1", help="Interface (default: 127.0.0.1).")
    return parser


def serve(shell: Any, argv: list[str]) -> None:
    """Start a background scoring server for ``argv``'s model and print its URL.

    Raises
    ------
    UsageError
        The line does not parse, or the model cannot be served.
    """
    from nbtrack.errors import NbtrackError
    from nbtrack.serving import ModelServer
    from nbtrack.serving import serve as serve_model

    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        raise UsageError(parser.format_usage().strip()) from None
    previous = shell.user_ns.get(HANDLE_NAME)
    if isinstance(previous, ModelServer):
        previous.stop()
    try:
        handle = serve_model(args.model_uri, port=args.port, host=args.host)
    except (NbtrackError, OSError) as exc:
        raise UsageError(f"%nbtrack serve: {exc}") from None
    shell.user_ns[HANDLE_NAME] = handle
    print(
        f"Serving {args.model_uri} at {handle.url}/invocations; stop it with {HANDLE_NAME}.stop()"
    )
