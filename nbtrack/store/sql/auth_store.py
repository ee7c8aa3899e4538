"""``SqlAuthStore``: the server's users, tokens and permissions in the backend database.

It opens the same database as the :class:`~nbtrack.store.sql.store.SqlStore`
(``open_engine`` / ``ensure_schema``, so the tables of migration
``0004_team_server`` exist) on an engine of its own: the server's auth checks
then never queue behind a long metric write on the tracking store's pool.
Deleting a user removes their tokens and grants through the foreign keys'
``ON DELETE CASCADE``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError
from nbtrack.store import credentials
from nbtrack.store.auth_base import (
    EXPERIMENT,
    GRANTABLE,
    REGISTERED_MODEL,
    Grant,
    TokenInfo,
    User,
)
from nbtrack.store.sql import schema as s
from nbtrack.store.sql.engine import ensure_schema, open_engine
from nbtrack.store.sql.raw import write_lock

if TYPE_CHECKING:
    from sqlalchemy import Connection, Table

__all__ = ["SqlAuthStore"]

#: Characters of a token's digest that name it in listings and ``revoke`` (not secret).
TOKEN_ID_LENGTH = 12
_MAX_NAME = 256


def _now_ms() -> int:
    return int(time.time() * 1000)


def _check_permission(permission: str) -> str:
    upper = permission.upper()
    if upper not in GRANTABLE:
        raise InvalidInput(
            f"Unknown permission {permission!r}; choose one of {', '.join(GRANTABLE)}"
        )
    return upper


class SqlAuthStore:
    """The :class:`~nbtrack.store.auth_base.AuthStore` over a SQLAlchemy database URL."""

    def __init__(self, db_url: str) -> None:
        self.location = db_url
        self.engine = open_engine(db_url)
        ensure_schema(self.engine, db_url)

    def __repr__(self) -> str:
        return f"SqlAuthStore({self.location!r})"

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        with (
            write_lock(self.engine),
            self.engine.connect().execution_options(nbtrack_write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn
            conn.rollback()

    # users ---------------------------------------------------------------------------

    def create_user(self, username: str, password: str, is_admin: bool = False) -> User:
        """Create a user; the password is kept only as an argon2id hash."""
        if not username or len(username) > _MAX_NAME or username != username.strip():
            raise InvalidInput(
                f"User name {username!r} must be 1-{_MAX_NAME} characters without "
                "leading or trailing spaces"
            )
        if ":" in username:
            # HTTP basic auth splits "user:password" at the first colon.
            raise InvalidInput(f"User name {username!r} must not contain ':'")
        if not password:
            raise InvalidInput("A password must not be empty")
        password_hash = credentials.hash_password(password)
        now = _now_ms()
        try:
            with self._write() as conn:
                user_id = conn.execute(
                    insert(s.users)
                    .values(
                        username=username,
                        password_hash=password_hash,
                        is_admin=is_admin,
                        creation_time=now,
                    )
                    .returning(s.users.c.id)
                ).scalar_one()
        except IntegrityError as exc:
            raise AlreadyExistsError(f"User {username!r} already exists") from exc
        return User(int(user_id), username, is_admin, now)

    def _user_row(self, conn: Connection, username: str) -> Any:
        row = conn.execute(select(s.users).where(s.users.c.username == username)).first()
        if row is None:
            raise NotFoundError(f"No user named {username!r}")
        return row

    @staticmethod
    def _to_user(row: Any) -> User:
        return User(int(row.id), row.username, bool(row.is_admin), row.creation_time)

    def delete_user(self, username: str) -> None:
        """Delete a user with their tokens and permissions."""
        with self._write() as conn:
            row = self._user_row(conn, username)
            # The cascades cover this on databases that enforce foreign keys; deleting
            # the children first keeps it true on any database.
            for table in (
                s.access_tokens,
                s.experiment_permissions,
                s.registered_model_permissions,
            ):
                conn.execute(delete(table).where(table.c.user_id == row.id))
            conn.execute(delete(s.users).where(s.users.c.id == row.id))

    def get_user(self, username: str) -> User:
        """Return a user or raise NotFoundError."""
        with self._read() as conn:
            return self._to_user(self._user_row(conn, username))

    def list_users(self) -> list[User]:
        """Every user, by name."""
        with self._read() as conn:
            rows = conn.execute(select(s.users).order_by(s.users.c.username)).all()
        return [self._to_user(row) for row in rows]

    def set_password(self, username: str, password: str) -> None:
        """Replace a user's password."""
        if not password:
            raise InvalidInput("A password must not be empty")
        password_hash = credentials.hash_password(password)
        with self._write() as conn:
            row = self._user_row(conn, username)
            conn.execute(
                update(s.users).where(s.users.c.id == row.id).values(password_hash=password_hash)
            )

    def set_admin(self, username: str, is_admin: bool) -> None:
        """Make a user an admin, or take it away."""
        with self._write() as conn:
            row = self._user_row(conn, username)
            conn.execute(update(s.users).where(s.users.c.id == row.id).values(is_admin=is_admin))

    def authenticate_password(self, username: str, password: str) -> User | None:
        """Return the user if the password is theirs, else None."""
        with self._read() as conn:
            row = conn.execute(select(s.users).where(s.users.c.username == username)).first()
        if row is None:
            # Verify against a throwaway hash anyway, so a wrong name takes as long
            # as a wrong password and does not tell which names exist.
            credentials.verify_password(_dummy_hash(), password)
            return None
        if not credentials.verify_password(row.password_hash, password):
            return None
        if credentials.needs_rehash(row.password_hash):
            with contextlib.suppress(NotFoundError):
                self.set_password(username, password)
        return self._to_user(row)

    # tokens --------------------------------------------------------------------------

    def create_token(
        self, username: str, name: str | None = None, expiry_time: int | None = None
    ) -> str:
        """Create a bearer token for a user and return it (only its digest is kept)."""
        token = credentials.new_token()
        with self._write() as conn:
            row = self._user_row(conn, username)
            conn.execute(
                insert(s.access_tokens).values(
                    token_hash=credentials.hash_token(token),
                    user_id=row.id,
                    name=name,
                    creation_time=_now_ms(),
                    expiry_time=expiry_time,
                )
            )
        return token

    def authenticate_token(self, token: str) -> User | None:
        """Return the token's user, or None for an unknown, revoked or expired token."""
        query = (
            select(s.users, s.access_tokens.c.expiry_time)
            .join(s.access_tokens, s.access_tokens.c.user_id == s.users.c.id)
            .where(s.access_tokens.c.token_hash == credentials.hash_token(token))
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        if row.expiry_time is not None and row.expiry_time <= _now_ms():
            return None
        return self._to_user(row)

    def revoke_token(self, token_or_id: str) -> None:
        """Revoke a token, given itself or its id."""
        column = s.access_tokens.c.token_hash
        if token_or_id.startswith(credentials.TOKEN_PREFIX):
            condition = column == credentials.hash_token(token_or_id)
        elif len(token_or_id) >= TOKEN_ID_LENGTH:
            condition = column.startswith(token_or_id[:TOKEN_ID_LENGTH])
        else:
            raise InvalidInput(
                f"{token_or_id!r} is neither a token nor a token id ({TOKEN_ID_LENGTH} characters)"
            )
        with self._write() as conn:
            if conn.execute(delete(s.access_tokens).where(condition)).rowcount == 0:
                raise NotFoundError(f"No token {token_or_id[:TOKEN_ID_LENGTH]!r}")

    def list_tokens(self, username: str) -> list[TokenInfo]:
        """A user's tokens (their ids, never the tokens)."""
        t = s.access_tokens
        with self._read() as conn:
            user = self._user_row(conn, username)
            rows = conn.execute(
                select(t).where(t.c.user_id == user.id).order_by(t.c.creation_time)
            ).all()
        return [
            TokenInfo(
                row.token_hash[:TOKEN_ID_LENGTH],
                username,
                row.name,
                row.creation_time,
                row.expiry_time,
            )
            for row in rows
        ]

    # permissions ---------------------------------------------------------------------

    def _grant(self, table: Table, key: str, resource: str, username: str, permission: str) -> None:
        permission = _check_permission(permission)
        with self._write() as conn:
            user = self._user_row(conn, username)
            where = (table.c[key] == resource) & (table.c.user_id == user.id)
            changed = conn.execute(update(table).where(where).values(permission=permission))
            if changed.rowcount == 0:
                conn.execute(
                    insert(table).values(
                        {key: resource, "user_id": user.id, "permission": permission}
                    )
                )

    def _revoke(self, table: Table, key: str, resource: str, username: str) -> None:
        with self._write() as conn:
            user = self._user_row(conn, username)
            where = (table.c[key] == resource) & (table.c.user_id == user.id)
            if conn.execute(delete(table).where(where)).rowcount == 0:
                raise NotFoundError(f"User {username!r} has no permission on {resource!r}")

    def _get(self, table: Table, key: str, resource: str, username: str) -> str | None:
        query = (
            select(table.c.permission)
            .join(s.users, s.users.c.id == table.c.user_id)
            .where((table.c[key] == resource) & (s.users.c.username == username))
        )
        with self._read() as conn:
            value = conn.execute(query).scalar()
        return str(value) if value is not None else None

    def grant_experiment_permission(
        self, experiment_id: str, username: str, permission: str
    ) -> None:
        """Give a user ``permission`` on an experiment, replacing what they had."""
        self._grant(
            s.experiment_permissions, "experiment_id", str(experiment_id), username, permission
        )

    def revoke_experiment_permission(self, experiment_id: str, username: str) -> None:
        """Take away a user's grant on an experiment."""
        self._revoke(s.experiment_permissions, "experiment_id", str(experiment_id), username)

    def get_experiment_permission(self, experiment_id: str, username: str) -> str | None:
        """The user's permission on an experiment, None without a grant."""
        return self._get(s.experiment_permissions, "experiment_id", str(experiment_id), username)

    def grant_model_permission(self, name: str, username: str, permission: str) -> None:
        """Give a user ``permission`` on a registered model, replacing what they had."""
        self._grant(s.registered_model_permissions, "name", name, username, permission)

    def revoke_model_permission(self, name: str, username: str) -> None:
        """Take away a user's grant on a registered model."""
        self._revoke(s.registered_model_permissions, "name", name, username)

    def get_model_permission(self, name: str, username: str) -> str | None:
        """The user's permission on a registered model, None without a grant."""
        return self._get(s.registered_model_permissions, "name", name, username)

    def list_grants(self, username: str | None = None) -> list[Grant]:
        """Every grant (of one user, or of all), experiments first."""
        grants: list[Grant] = []
        with self._read() as conn:
            for kind, (table, key) in _TABLES.items():
                query = select(s.users.c.username, table.c[key], table.c.permission).join(
                    s.users, s.users.c.id == table.c.user_id
                )
                if username is not None:
                    query = query.where(s.users.c.username == username)
                for row in conn.execute(query.order_by(s.users.c.username, table.c[key])):
                    grants.append(Grant(row[0], kind, str(row[1]), row[2]))
        return grants

    def clear_permissions(self, kind: str, resource: str) -> None:
        """Drop every user's grant on a resource."""
        table, key = _TABLES[kind]
        with self._write() as conn:
            conn.execute(delete(table).where(table.c[key] == str(resource)))

    def rename_model_permissions(self, old_name: str, new_name: str) -> None:
        """Move the grants of a registered model to its new name."""
        table = s.registered_model_permissions
        with self._write() as conn:
            conn.execute(delete(table).where(table.c.name == new_name))
            conn.execute(update(table).where(table.c.name == old_name).values(name=new_name))


_TABLES: dict[str, tuple[Table, str]] = {
    EXPERIMENT: (s.experiment_permissions, "experiment_id"),
    REGISTERED_MODEL: (s.registered_model_permissions, "name"),
}

_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(credentials.hash_password("not a password of anyone"))
    return _DUMMY[0]
