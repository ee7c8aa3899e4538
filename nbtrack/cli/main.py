"""The ``nbtrack`` command: a click group, its global options, and how errors are shown.

Any :class:`~nbtrack.errors.NbtrackError` (an unknown run, a malformed filter…)
becomes ``Error: <message>`` on stderr and exit code 1, without a traceback:
the message is written for the user and is the whole story. So do OS errors
(a download folder that cannot be written) and database connection errors.
Usage errors exit 2, as click does. Anything else is a bug and keeps its
traceback.

Command modules import only click and nbtrack's light modules at top level, so
``nbtrack --help`` stays fast; pandas and SQLAlchemy load inside commands.
"""

from __future__ import annotations

import errno
import sys
from typing import Any

import click
from click.core import ParameterSource

from nbtrack import __version__
from nbtrack.cli._common import CliState, tracking_uri_option
from nbtrack.errors import NbtrackError

__all__ = ["cli"]


def _user_errors() -> tuple[type[BaseException], ...]:
    # SQLAlchemy's errors only when it is loaded: importing it here would slow every command.
    exc_module = sys.modules.get("sqlalchemy.exc")
    database = (exc_module.SQLAlchemyError,) if exc_module is not None else ()
    return (NbtrackError, OSError, *database)


def _message(exc: BaseException) -> str:
    if isinstance(exc, NbtrackError):
        return exc.message
    if isinstance(exc, OSError):
        return str(exc)
    # A DBAPI error's text runs on with the SQL and a link; its first line says what failed.
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class NbtrackGroup(click.Group):
    """A click group that turns nbtrack's errors into one ``Error:`` message and exit code 1.

    Its subcommands (``COMMANDS``) are imported on first use.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every subcommand's name, sorted, without importing them."""
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The subcommand, imported now if it was not yet."""
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            import importlib

            module_name, _, attr = COMMANDS[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module_name), attr), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand, reporting user-facing errors without a traceback."""
        try:
            return super().invoke(ctx)
        except _user_errors() as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
                raise  # `nbtrack runs list | head`: click exits quietly
            raise click.ClickException(_message(exc)) from exc


def _tracking_uri_global(func: Any) -> Any:
    return tracking_uri_option(func, envvar=True)


@click.group(cls=NbtrackGroup, context_settings={"help_option_names": ["-h", "--help"]})
@_tracking_uri_global
@click.version_option(__version__, "-V", "--version", prog_name="nbtrack")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """nbtrack: experiment tracking that lives in the notebook.

    Browse and manage the runs, experiments and artifacts of a store. Without
    --tracking-uri or NBTRACK_TRACKING_URI the store is the nearest .nbtrack/
    folder. Try `nbtrack quickstart`.
    """
    st = ctx.ensure_object(CliState)
    # Known only once parsing is done (not yet in the option's callback).
    if ctx.get_parameter_source("tracking_uri") == ParameterSource.ENVIRONMENT:
        st.uri_source = "environment"


# Subcommands load when used: `nbtrack run` should not pay for importing `serve`.
COMMANDS = {
    "runs": "nbtrack.cli.runs:runs",
    "experiments": "nbtrack.cli.experiments:experiments",
    "artifacts": "nbtrack.cli.artifacts:artifacts",
    "models": "nbtrack.cli.models:models",
    "lineage": "nbtrack.cli.lineage:lineage",
    "export": "nbtrack.cli.projects:export",
    "run": "nbtrack.cli.projects:run",
    "serve": "nbtrack.cli.serve:serve",
    "gateway": "nbtrack.cli.gateway:gateway",
    "server": "nbtrack.cli.server:server",
    "db": "nbtrack.cli.db:db",
    "gc": "nbtrack.cli.gc:gc",
    "doctor": "nbtrack.cli.doctor:doctor",
    "quickstart": "nbtrack.cli.quickstart:quickstart",
    "recipes": "nbtrack.cli.recipes:recipes",
    "sync": "nbtrack.cli.sync:sync",
    "import-mlflow": "nbtrack.cli.import_mlflow:import_mlflow",
}
