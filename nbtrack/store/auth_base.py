"""The ``AuthStore`` protocol: users, tokens and permissions of ``nbtrack server --auth``.

They live in the backend store beside the runs (migration ``0004_team_server``),
so every server process over one database sees the same users. Front ends
(the server's middleware, ``nbtrack server users``) reach them only through
this protocol and :func:`open_auth_store`, never through SQL.

Passwords are kept as argon2id hashes and tokens as SHA-256 digests
(:mod:`nbtrack.store.credentials`); neither is ever stored or returned in
clear, except a new token, which :meth:`AuthStore.create_token` returns once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "EXPERIMENT",
    "GRANTABLE",
    "PERMISSION_NAMES",
    "REGISTERED_MODEL",
    "AuthStore",
    "Grant",
    "TokenInfo",
    "User",
    "open_auth_store",
]

#: The permissions a user can hold on one resource, weakest first (MLflow's names).
PERMISSION_NAMES = ("NO_PERMISSIONS", "READ", "EDIT", "MANAGE")
#: What ``grant`` accepts (an absent grant already means the server's default).
GRANTABLE = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")
#: Resource kinds a permission is granted on.
EXPERIMENT = "experiment"
REGISTERED_MODEL = "registered_model"


@dataclass(frozen=True, slots=True)
class User:
    """A user of the server (never carries the password or its hash)."""

    id: int
    username: str
    is_admin: bool
    creation_time: int | None = None


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is known about a token without the token itself."""

    token_id: str
    username: str
    name: str | None
    creation_time: int | None
    expiry_time: int | None


@dataclass(frozen=True, slots=True)
class Grant:
    """One permission of one user on one experiment (by id) or registered model (by name)."""

    username: str
    kind: str
    resource: str
    permission: str


class AuthStore(Protocol):
    """Persistence of the server's users, their tokens and their permissions."""

    location: str

    # users
    def create_user(self, username: str, password: str, is_admin: bool = False) -> User:
        """Create a user; the password is kept only as an argon2id hash.

        Raises AlreadyExistsError if the name is taken, InvalidInput for an empty
        name or password.
        """
        ...

    def delete_user(self, username: str) -> None:
        """Delete a user with their tokens and permissions; NotFoundError if unknown."""
        ...

    def get_user(self, username: str) -> User:
        """Return a user or raise NotFoundError."""
        ...

    def list_users(self) -> list[User]:
        """Every user, by name."""
        ...

    def set_password(self, username: str, password: str) -> None:
        """Replace a user's password."""
        ...

    def set_admin(self, username: str, is_admin: bool) -> None:
        """Make a user an admin, or take it away."""
        ...

    def authenticate_password(self, username: str, password: str) -> User | None:
        """Return the user if the password is theirs, else None (slow by design: argon2)."""
        ...

    # tokens
    def create_token(
        self, username: str, name: str | None = None, expiry_time: int | None = None
    ) -> str:
        """Create a bearer token for a user and return it; it is not kept in clear."""
        ...

    def authenticate_token(self, token: str) -> User | None:
        """Return the token's user, or None for an unknown, revoked or expired token."""
        ...

    def revoke_token(self, token_or_id: str) -> None:
        """Revoke a token, given itself or its ``TokenInfo.token_id``; NotFoundError if unknown."""
        ...

    def list_tokens(self, username: str) -> list[TokenInfo]:
        """A user's tokens (without the tokens themselves)."""
        ...

    # permissions
    def grant_experiment_permission(
        self, experiment_id: str, username: str, permission: str
    ) -> None:
        """Give a user ``permission`` on an experiment, replacing what they had."""
        ...

    def revoke_experiment_permission(self, experiment_id: str, username: str) -> None:
        """Take away a user's grant on an experiment; NotFoundError if there was none."""
        ...

    def get_experiment_permission(self, experiment_id: str, username: str) -> str | None:
        """The user's permission on an experiment, None without a grant."""
        ...

    def grant_model_permission(self, name: str, username: str, permission: str) -> None:
        """Give a user ``permission`` on a registered model, replacing what they had."""
        ...

    def revoke_model_permission(self, name: str, username: str) -> None:
        """Take away a user's grant on a registered model; NotFoundError if there was none."""
        ...

    def get_model_permission(self, name: str, username: str) -> str | None:
        """The user's permission on a registered model, None without a grant."""
        ...

    def list_grants(self, username: str | None = None) -> list[Grant]:
        """Every grant (of one user, or of all)."""
        ...

    def clear_permissions(self, kind: str, resource: str) -> None:
        """Drop every user's grant on a resource (it was deleted, or its id or name is new)."""
        ...

    def rename_model_permissions(self, old_name: str, new_name: str) -> None:
        """Move the grants of a registered model to its new name."""
        ...


_stores: dict[str, AuthStore] = {}
_lock = threading.Lock()


def open_auth_store(backend_store_uri: str) -> AuthStore:
    """Return the (cached) auth store of a backend store URI (a folder, sqlite or postgresql).

    The schema is created or upgraded as for the tracking store, so a server may
    open this first.
    """
    store = _stores.get(backend_store_uri)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(backend_store_uri)
        if store is None:
            from nbtrack.errors import InvalidInput
            from nbtrack.uris import resolve_store_location

            location = resolve_store_location(backend_store_uri)
            if location.kind != "sql":
                raise InvalidInput(
                    f"{backend_store_uri} is not a database: the server's users live in its "
                    "backend store (a folder, sqlite:/// or postgresql:// URI)"
                )
            from nbtrack.store.sql.auth_store import SqlAuthStore

            store = SqlAuthStore(location.db_url)
            _stores[backend_store_uri] = store
    return store


def forget_auth_stores() -> None:
    """Close cached auth stores (tests)."""
    with _lock:
        for store in _stores.values():
            close = getattr(store, "close", None)
            if close is not None:
                close()
        _stores.clear()
