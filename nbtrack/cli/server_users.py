"""``nbtrack server users``: the users, tokens and grants of ``nbtrack server --auth``.

They live in the server's backend store, so these commands work on the
database directly (``--backend-store-uri``, by default the store ``nbtrack
server`` would serve) and need no running server; a running server sees a
change within its cache TTL (a few seconds). A password given without
``--password`` is asked for, hidden, twice. A token is printed once: only its
digest is kept.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from nbtrack.cli._common import state

if TYPE_CHECKING:
    from nbtrack.store.auth_base import AuthStore

__all__ = ["users"]

_PERMISSIONS = click.Choice(["READ", "EDIT", "MANAGE", "NO_PERMISSIONS"], case_sensitive=False)


def _backend_option(func: Any) -> Any:
    return click.option(
        "--backend-store-uri",
        metavar="URI",
        default=None,
        help="The server's backend store (default: the store `nbtrack server` serves).",
    )(func)


def _open(backend_store_uri: str | None) -> AuthStore:
    from nbtrack import config
    from nbtrack.store.auth_base import open_auth_store

    uri = backend_store_uri or state().tracking_uri or config.get_tracking_uri()
    return open_auth_store(uri)


def _resource(experiment: str | None, model: str | None) -> tuple[str, str]:
    if (experiment is None) == (model is None):
        raise click.UsageError("Give exactly one of --experiment ID or --model NAME")
    return ("experiment", experiment) if experiment is not None else ("model", str(model))


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@click.group()
def users() -> None:
    """Manage the users of `nbtrack server --auth`: accounts, tokens and permissions."""


@users.command("create")
@click.argument("name")
@click.option("--password", default=None, help="The password (asked for, hidden, if omitted).")
@click.option("--admin", is_flag=True, help="An admin may do everything on every resource.")
@_backend_option
def create(name: str, password: str | None, admin: bool, backend_store_uri: str | None) -> None:
    """Create the user NAME."""
    if password is None:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    user = _open(backend_store_uri).create_user(name, password, is_admin=admin)
    click.echo(f"Created {'admin ' if user.is_admin else ''}user {user.username}")


@users.command("delete")
@click.argument("name")
@_backend_option
def delete(name: str, backend_store_uri: str | None) -> None:
    """Delete the user NAME with their tokens and permissions."""
    _open(backend_store_uri).delete_user(name)
    click.echo(f"Deleted user {name}")


@users.command("password")
@click.argument("name")
@click.option("--password", default=None, help="The new password (asked for if omitted).")
@_backend_option
def password(name: str, password: str | None, backend_store_uri: str | None) -> None:
    """Set a new password for NAME."""
    if password is None:
        password = click.prompt(
            f"New password for {name}", hide_input=True, confirmation_prompt=True
        )
    _open(backend_store_uri).set_password(name, password)
    click.echo(f"Changed the password of {name}")


@users.command("token")
@click.argument("name")
@click.option("--name", "label", default=None, help="A label to tell the token apart later.")
@click.option(
    "--expires-days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Days until the token stops working (default: never).",
)
@_backend_option
def token(
    name: str, label: str | None, expires_days: float | None, backend_store_uri: str | None
) -> None:
    """Create a bearer token for NAME and print it (it is shown only this once)."""
    import time

    expiry = None if expires_days is None else int((time.time() + expires_days * 86400) * 1000)
    new = _open(backend_store_uri).create_token(name, label, expiry)
    click.echo(new)
    click.echo(
        "Keep it now: it is not shown again. Clients use it as NBTRACK_TRACKING_TOKEN.",
        err=True,
    )


@users.command("tokens")
@click.argument("name")
@_backend_option
def tokens(name: str, backend_store_uri: str | None) -> None:
    """List the tokens of NAME (their ids, never the tokens)."""
    for info in _open(backend_store_uri).list_tokens(name):
        label = info.name or "-"
        click.echo(
            f"{info.token_id}  {label}  created {_when(info.creation_time)}"
            f"  expires {_when(info.expiry_time)}"
        )


@users.command("revoke-token")
@click.argument("token_or_id")
@_backend_option
def revoke_token(token_or_id: str, backend_store_uri: str | None) -> None:
    """Revoke a token, given itself or the id `tokens` lists."""
    _open(backend_store_uri).revoke_token(token_or_id)
    click.echo("Revoked the token")


@users.command("grant")
@click.argument("name")
@click.option("--experiment", metavar="ID", default=None, help="The experiment's id.")
@click.option("--model", metavar="NAME", default=None, help="The registered model's name.")
@click.option("--permission", type=_PERMISSIONS, required=True)
@_backend_option
def grant(
    name: str,
    experiment: str | None,
    model: str | None,
    permission: str,
    backend_store_uri: str | None,
) -> None:
    """Give NAME a permission on one experiment or registered model."""
    kind, resource = _resource(experiment, model)
    store = _open(backend_store_uri)
    permission = permission.upper()
    if kind == "experiment":
        store.grant_experiment_permission(resource, name, permission)
    else:
        store.grant_model_permission(resource, name, permission)
    click.echo(f"Granted {permission} on {kind} {resource} to {name}")


@users.command("revoke")
@click.argument("name")
@click.option("--experiment", metavar="ID", default=None, help="The experiment's id.")
@click.option("--model", metavar="NAME", default=None, help="The registered model's name.")
@_backend_option
def revoke(
    name: str, experiment: str | None, model: str | None, backend_store_uri: str | None
) -> None:
    """Take away NAME's grant on an experiment or registered model (the default applies again)."""
    kind, resource = _resource(experiment, model)
    store = _open(backend_store_uri)
    if kind == "experiment":
        store.revoke_experiment_permission(resource, name)
    else:
        store.revoke_model_permission(resource, name)
    click.echo(f"Revoked {name}'s permission on {kind} {resource}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_backend_option
def list_users(as_json: bool, backend_store_uri: str | None) -> None:
    """List the users, whether each is an admin, and their grants."""
    store = _open(backend_store_uri)
    everyone = store.list_users()
    grants: dict[str, list[str]] = {}
    for g in store.list_grants():
        kind = "experiment" if g.kind == "experiment" else "model"
        grants.setdefault(g.username, []).append(f"{kind} {g.resource}: {g.permission}")
    if as_json:
        rows = [
            {
                "username": u.username,
                "is_admin": u.is_admin,
                "creation_time": u.creation_time,
                "grants": grants.get(u.username, []),
            }
            for u in everyone
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    if not everyone:
        click.echo("No users yet: `nbtrack server users create NAME --admin`")
        return
    for u in everyone:
        click.echo(f"{u.username}{'  (admin)' if u.is_admin else ''}")
        for line in grants.get(u.username, []):
            click.echo(f"  {line}")
