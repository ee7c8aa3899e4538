"""``nbtrack server``: the team tracking server (MLflow's REST API) on uvicorn.

``nbtrack server`` alone starts it on 127.0.0.1:5000 over the local store;
for a team, point it at PostgreSQL and an object store and turn ``--auth``
on. The store is opened (created or upgraded) before uvicorn starts, so a bad
URI ends the command with one ``Error:`` line. With ``--workers N > 1`` uvicorn
starts N processes that each build the app from ``NBTRACK_SERVER_*``
(``nbtrack.server.tracking.app:app_from_env``). ``server`` is a group so the
user-management commands (``nbtrack server users ...``) can hang off it.
"""

from __future__ import annotations

import ipaddress
import os

import click

__all__ = ["is_loopback", "server", "without_password"]

_LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


def is_loopback(host: str) -> bool:
    """Return True when ``host`` only accepts connections from this machine."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def without_password(uri: str) -> str:
    """``uri`` with any password replaced by ``***``, for logs (MLflow masks it too)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _has_users(backend_store_uri: str) -> bool:
    from nbtrack.store.auth_base import open_auth_store

    return bool(open_auth_store(backend_store_uri).list_users())


@click.group(invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--backend-store-uri",
    default=None,
    help="Where runs live: a folder, sqlite:///…, postgresql://… "
    "[default: the local .nbtrack store, or --tracking-uri]",
)
@click.option(
    "--artifacts-destination",
    default=None,
    help="Where artifacts go: a folder or an fsspec URL such as s3://bucket/prefix "
    "[default: the store's artifact folder]",
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Server processes (they share nothing but the backend store).",
)
@click.option("--auth", is_flag=True, help="Require users (HTTP basic or bearer tokens).")
@click.pass_context
def server(
    ctx: click.Context,
    host: str,
    port: int,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    workers: int,
    auth: bool,
) -> None:
    """Serve a store over MLflow's REST API, for MLflow's and nbtrack's clients.

    Clients set NBTRACK_TRACKING_URI (or MLFLOW_TRACKING_URI) to
    http://HOST:PORT. GET /health answers OK.
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from nbtrack import env
    from nbtrack.cli._common import state
    from nbtrack.config import get_tracking_uri
    from nbtrack.server.tracking.app import create_app

    uri = backend_store_uri or state().tracking_uri or get_tracking_uri()
    app = create_app(uri, artifacts_destination, auth)  # opens the store: errors surface here
    if not auth and not is_loopback(host):
        click.echo(
            f"Warning: serving on {host} without --auth: anyone on the network can read "
            "and write every experiment, run and model.",
            err=True,
        )
    if auth and not _has_users(uri):
        click.echo(
            "Warning: --auth is on and the store has no users yet, so every request is "
            "refused; create one with: nbtrack server users create NAME --admin "
            f"--backend-store-uri {uri}",
            err=True,
        )
    click.echo(
        f"nbtrack: tracking server at http://{host}:{port} over {without_password(uri)} "
        f"({workers} worker{'s' if workers > 1 else ''}); Ctrl+C stops it",
        err=True,
    )
    options = {"host": host, "port": port, "access_log": False, "log_level": "warning"}
    if workers == 1:
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    del app  # each worker builds its own
    os.environ[env.NBTRACK_SERVER_BACKEND_STORE_URI] = uri
    if artifacts_destination:
        os.environ[env.NBTRACK_SERVER_ARTIFACTS_DESTINATION] = artifacts_destination
    os.environ[env.NBTRACK_SERVER_AUTH] = "1" if auth else ""
    uvicorn.run(
        "nbtrack.server.tracking.app:app_from_env",
        factory=True,
        workers=workers,
        **options,  # type: ignore[arg-type]
    )


from nbtrack.cli.server_users import users  # noqa: E402  (its group hangs off `server`)

server.add_command(users)
