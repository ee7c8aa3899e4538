"""``SqlAuthStore`` on SQLite and PostgreSQL: users, tokens, grants, and what is kept of secrets."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError
from nbtrack.store.auth_base import AuthStore, Grant, forget_auth_stores, open_auth_store


@pytest.fixture
def auth(sql_tracking_uri: str) -> Iterator[AuthStore]:
    store = open_auth_store(sql_tracking_uri)
    yield store
    forget_auth_stores()


def test_users_and_passwords(auth: AuthStore) -> None:
    ann = auth.create_user("ann", "pw-ann", is_admin=True)
    assert (ann.username, ann.is_admin) == ("ann", True)
    assert auth.create_user("ben", "pw-ben").id != ann.id
    with pytest.raises(AlreadyExistsError):
        auth.create_user("ann", "other")
    for bad in ("", " ann", "a:b"):
        with pytest.raises(InvalidInput):
            auth.create_user(bad, "x")
    with pytest.raises(InvalidInput):
        auth.create_user("cat", "")
    assert auth.authenticate_password("ann", "pw-ann") == ann
    assert auth.authenticate_password("ann", "pw-ben") is None
    assert auth.authenticate_password("nobody", "pw-ann") is None
    auth.set_password("ben", "new")
    assert auth.authenticate_password("ben", "pw-ben") is None
    assert auth.authenticate_password("ben", "new") is not None
    auth.set_admin("ben", True)
    assert auth.get_user("ben").is_admin
    assert [u.username for u in auth.list_users()] == ["ann", "ben"]
    auth.delete_user("ben")
    with pytest.raises(NotFoundError):
        auth.get_user("ben")
    with pytest.raises(NotFoundError):
        auth.delete_user("ben")


def test_tokens(auth: AuthStore) -> None:
    auth.create_user("ann", "pw")
    token = auth.create_token("ann", "laptop")
    other = auth.create_token("ann", None, expiry_time=1)  # expired long ago
    assert token.startswith("nbt_") and token != other
    assert auth.authenticate_token(token).username == "ann"  # type: ignore[union-attr]
    assert auth.authenticate_token(other) is None
    assert auth.authenticate_token(token + "x") is None
    infos = auth.list_tokens("ann")
    assert [i.name for i in infos] == ["laptop", None]
    assert infos[0].token_id == hashlib.sha256(token.encode()).hexdigest()[:12]
    auth.revoke_token(infos[0].token_id)
    assert auth.authenticate_token(token) is None
    auth.revoke_token(other)
    with pytest.raises(NotFoundError):
        auth.revoke_token(other)
    with pytest.raises(InvalidInput):
        auth.revoke_token("short")


def test_grants(auth: AuthStore) -> None:
    auth.create_user("ann", "pw")
    auth.create_user("ben", "pw")
    assert auth.get_experiment_permission("1", "ann") is None
    auth.grant_experiment_permission("1", "ann", "edit")
    auth.grant_experiment_permission("1", "ann", "READ")  # replaces
    auth.grant_experiment_permission("1", "ben", "MANAGE")
    auth.grant_model_permission("m", "ann", "MANAGE")
    with pytest.raises(InvalidInput):
        auth.grant_model_permission("m", "ann", "OWNER")
    with pytest.raises(NotFoundError):
        auth.grant_model_permission("m", "nobody", "READ")
    assert auth.get_experiment_permission("1", "ann") == "READ"
    assert auth.list_grants("ann") == [
        Grant("ann", "experiment", "1", "READ"),
        Grant("ann", "registered_model", "m", "MANAGE"),
    ]
    auth.rename_model_permissions("m", "n")
    assert auth.get_model_permission("n", "ann") == "MANAGE"
    assert auth.get_model_permission("m", "ann") is None
    auth.revoke_model_permission("n", "ann")
    with pytest.raises(NotFoundError):
        auth.revoke_model_permission("n", "ann")
    auth.clear_permissions("experiment", "1")
    assert auth.list_grants() == []
    # A user's grants go with them.
    auth.grant_experiment_permission("2", "ben", "EDIT")
    auth.delete_user("ben")
    assert auth.list_grants() == []
