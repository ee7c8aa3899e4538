"""What every command shares: the store to use, and turning user input into runs and experiments.

The tracking URI can be given before the command (``nbtrack --tracking-uri X
runs list``) or after it (``nbtrack runs list --tracking-uri X``); both land
in the :class:`CliState` of the invocation. Commands open the store through
``nbtrack.Client`` only when they run, so ``--help`` never imports SQLAlchemy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nbtrack.entities import ViewType
from nbtrack.errors import NotFoundError

if TYPE_CHECKING:
    from nbtrack.entities import Experiment, Run
    from nbtrack.tracking.client import Client

__all__ = [
    "VIEWS",
    "CliState",
    "get_client",
    "json_option",
    "resolve_experiment",
    "resolve_run",
    "tracking_uri_option",
]

F = TypeVar("F", bound=Callable[..., Any])

#: ``--view`` choices and the ViewType each selects.
VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}
#: The shortest run-id prefix accepted in place of a full id.
MIN_PREFIX = 4
_HEX = re.compile(r"^[0-9a-f]+$")
_FULL_ID_LENGTH = 32


@dataclass
class CliState:
    """Per-invocation settings: the tracking URI, where it came from, and the open client."""

    tracking_uri: str | None = None
    uri_source: str = "default"
    client: Client | None = field(default=None, repr=False)


def state() -> CliState:
    """Return the state of the running invocation."""
    return click.get_current_context().ensure_object(CliState)


def _set_uri(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        st = ctx.ensure_object(CliState)
        st.tracking_uri, st.uri_source, st.client = value, "option", None
    return value


def tracking_uri_option(func: F, envvar: bool = False) -> F:
    """Add ``--tracking-uri`` to a command (it also works before the command name).

    Only the top-level group reads the environment variable, so that a URI given
    before the command name is not overridden by the environment after it.
    """
    from nbtrack import env

    return click.option(
        "--tracking-uri",
        "tracking_uri",
        envvar=env.NBTRACK_TRACKING_URI if envvar else None,
        metavar="URI",
        expose_value=False,
        is_eager=True,
        callback=_set_uri,
        help="Store to use: a folder, sqlite:///file.db or postgresql://… "
        f"[env: {env.NBTRACK_TRACKING_URI}; default: the nearest .nbtrack/ folder]",
    )(func)


def json_option(func: F) -> F:
    """Add ``--json`` (machine-readable output) to a command."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table."
    )(func)


def get_client(create: bool = False) -> Client:
    """Return the ``nbtrack.Client`` of the store in force, opening it on first use.

    Parameters
    ----------
    create:
        Create the store if it does not exist. Commands that only read refuse a
        missing SQLite store instead, so that `nbtrack runs list` in the wrong
        folder does not leave an empty ``.nbtrack/`` behind.

    Raises
    ------
    NotFoundError
        No store there and ``create`` is False.
    """
    st = state()
    if st.client is None:
        from nbtrack.config import get_artifact_root, get_tracking_uri
        from nbtrack.tracking.client import Client
        from nbtrack.uris import resolve_store_location

        uri = st.tracking_uri or get_tracking_uri()
        db_url = resolve_store_location(uri, get_artifact_root()).db_url
        if not create and db_url.startswith("sqlite:///"):
            db_file = Path(db_url[len("sqlite:///") :])
            if not db_file.exists():
                raise NotFoundError(
                    f"No nbtrack store at {db_file.parent}: nothing has been tracked there yet. "
                    "Log a run, try `nbtrack quickstart`, or pass --tracking-uri"
                )
        st.client = Client(uri)
    return st.client


def resolve_experiment(client: Client, name_or_id: str) -> Experiment:
    """Return the experiment named ``name_or_id``, else the one with that id.

    Deleted experiments are found too (so that they can be restored).

    Raises
    ------
    NotFoundError
        Neither a name nor an id of an experiment.
    """
    exp = client.get_experiment_by_name(name_or_id)
    if exp is not None:
        return exp
    if name_or_id.isdigit():
        try:
            return client.get_experiment(name_or_id)
        except NotFoundError:
            pass
    raise NotFoundError(
        f"No experiment named {name_or_id!r} or with that id; "
        "see `nbtrack experiments list --view all`"
    )


def all_experiment_ids(client: Client) -> list[str]:
    """Return the ids of every experiment, deleted ones included."""
    return [e.experiment_id for e in client.search_experiments(ViewType.ALL, max_results=1_000_000)]


def resolve_run(client: Client, run_id: str) -> Run:
    """Return the run with id ``run_id``, or the only run whose id starts with it.

    A prefix needs at least ``MIN_PREFIX`` hex digits; deleted runs match too.

    Raises
    ------
    NotFoundError
        No such run, or the prefix matches several runs.
    """
    run_id = run_id.strip().lower()
    if len(run_id) >= _FULL_ID_LENGTH or not _HEX.match(run_id):
        return client.get_run(run_id)
    if len(run_id) < MIN_PREFIX:
        raise NotFoundError(
            f"No run with id {run_id!r}; give the full id or at least {MIN_PREFIX} characters of it"
        )
    matches = client.search_runs(
        all_experiment_ids(client),
        f"attributes.run_id LIKE '{run_id}%'",
        run_view_type=ViewType.ALL,
        max_results=2,
    )
    if not matches:
        raise NotFoundError(f"No run with id {run_id!r} or starting with it")
    if len(matches) > 1:
        raise NotFoundError(
            f"Run id prefix {run_id!r} matches several runs "
            f"({matches[0].info.run_id}, {matches[1].info.run_id}, …); give more characters"
        )
    return client.get_run(matches[0].info.run_id)
