"""The users-and-permissions API of ``--auth``, at the paths MLflow's ``AuthServiceClient`` calls.

Served by the middleware itself (it holds the auth store), never by the
tracking app:

- ``POST /api/2.0/mlflow/users/create`` ``{username, password}`` (admins);
- ``GET /api/2.0/mlflow/users/get?username=`` (admins, or the user themself);
- ``GET /api/2.0/mlflow/users/current``; ``GET /api/2.0/mlflow/users/list`` (admins);
- ``PATCH /api/2.0/mlflow/users/update-password`` ``{username, password, current_password}``
  (admins, or the user themself with their current password);
- ``PATCH /api/2.0/mlflow/users/update-admin`` ``{username, is_admin}`` (admins);
- ``DELETE /api/2.0/mlflow/users/delete`` ``{username}`` (admins);
- ``POST /api/3.0/mlflow/users/permissions/grant`` ``{username, resource_type,
  resource_id, permission}`` and ``.../revoke`` ``{username, resource_type,
  resource_id}``: whoever holds MANAGE on the resource (``experiment`` by id,
  ``registered_model`` by name);
- ``GET /api/3.0/mlflow/users/permissions/get?username=&resource_type=&resource_id=``:
  ``{"allowed", "permission"}`` (MANAGE on the resource, or the user themself).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from nbtrack.errors import NbtrackError
from nbtrack.server.tracking.auth.asgi import AuthRequest, Denied
from nbtrack.server.tracking.permissions_table import Rule
from nbtrack.store.auth_base import EXPERIMENT, REGISTERED_MODEL, User

if TYPE_CHECKING:
    from nbtrack.server.tracking.auth.middleware import AuthMiddleware

__all__ = ["HANDLERS", "RULES"]

_U2 = "/api/2.0/mlflow/users"
_U3 = "/api/3.0/mlflow/users"
_STATUS = {"RESOURCE_DOES_NOT_EXIST": 404, "INVALID_PARAMETER_VALUE": 400}
_KINDS = {"experiment": EXPERIMENT, "registered_model": REGISTERED_MODEL}

Handler = Callable[["AuthMiddleware", User, AuthRequest], Awaitable[tuple[int, Any]]]
HANDLERS: dict[tuple[str, str], Handler] = {}


def _route(method: str, path: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[(method, path)] = handler
        return handler

    return register


def _denied(status: int, code: str, message: str) -> Denied:
    return Denied(status, code, message)


async def _call(function: Callable[..., Any], *args: Any) -> Any:
    """Run a store call off the event loop, turning its errors into answers."""
    try:
        return await anyio.to_thread.run_sync(function, *args)
    except NbtrackError as exc:
        raise _denied(_STATUS.get(exc.error_code, 400), exc.error_code, exc.message) from exc


def _admin_only(user: User) -> None:
    if not user.is_admin:
        raise _denied(
            403, "PERMISSION_DENIED", f"Only admins may do this ({user.username!r} is not one)"
        )


def _self_or_admin(user: User, username: str) -> None:
    if not user.is_admin and user.username != username:
        raise _denied(
            403, "PERMISSION_DENIED", f"User {user.username!r} may not act on user {username!r}"
        )


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "is_admin": user.is_admin}


@_route("POST", f"{_U2}/create")
async def _create_user(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    _admin_only(user)
    created = await _call(
        mw.store.create_user, await req.required("username"), await req.required("password")
    )
    return 200, {"user": _user_json(created)}


@_route("GET", f"{_U2}/get")
async def _get_user(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    username = await req.required("username")
    _self_or_admin(user, username)
    return 200, {"user": _user_json(await _call(mw.store.get_user, username))}


@_route("GET", f"{_U2}/current")
async def _current_user(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    return 200, {"user": _user_json(user)}


@_route("GET", f"{_U2}/list")
async def _list_users(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    _admin_only(user)
    return 200, {"users": [_user_json(u) for u in await _call(mw.store.list_users)]}


@_route("PATCH", f"{_U2}/update-password")
async def _update_password(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    username = await req.required("username")
    _self_or_admin(user, username)
    if not user.is_admin:
        # A stolen token must not be enough to take the account over.
        current = await req.value("current_password")
        if not isinstance(current, str) or not await _call(
            mw.store.authenticate_password, username, current
        ):
            raise _denied(
                403,
                "PERMISSION_DENIED",
                "Give your current password (current_password) to change it",
            )
    await _call(mw.store.set_password, username, await req.required("password"))
    mw.authenticator.cache.clear()
    return 200, {}


@_route("PATCH", f"{_U2}/update-admin")
async def _update_admin(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    _admin_only(user)
    is_admin = await req.value("is_admin")
    if not isinstance(is_admin, bool):
        is_admin = str(is_admin).lower() == "true"
    await _call(mw.store.set_admin, await req.required("username"), is_admin)
    mw.authenticator.cache.clear()
    return 200, {}


@_route("DELETE", f"{_U2}/delete")
async def _delete_user(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    _admin_only(user)
    await _call(mw.store.delete_user, await req.required("username"))
    mw.authenticator.cache.clear()
    mw.forget_permissions()
    return 200, {}


async def _resource(req: AuthRequest) -> tuple[str, str]:
    resource_type = await req.required("resource_type")
    kind = _KINDS.get(resource_type)
    if kind is None:
        raise _denied(
            400,
            "INVALID_PARAMETER_VALUE",
            f"resource_type must be one of {', '.join(_KINDS)}, not {resource_type!r}",
        )
    return kind, await req.required("resource_id")


async def _require_manage(mw: AuthMiddleware, user: User, kind: str, resource: str) -> None:
    if await mw.permission(user, kind, resource) != "MANAGE":
        what = f"experiment {resource}" if kind == EXPERIMENT else f"registered model {resource!r}"
        raise _denied(
            403,
            "PERMISSION_DENIED",
            f"User {user.username!r} needs MANAGE permission on {what} to change who may use it",
        )


@_route("POST", f"{_U3}/permissions/grant")
async def _grant(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    kind, resource = await _resource(req)
    await _require_manage(mw, user, kind, resource)
    username, permission = await req.required("username"), await req.required("permission")
    grant = (
        mw.store.grant_experiment_permission
        if kind == EXPERIMENT
        else mw.store.grant_model_permission
    )
    await _call(grant, resource, username, permission)
    mw.forget_permissions()
    return 200, {}


@_route("POST", f"{_U3}/permissions/revoke")
async def _revoke(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    kind, resource = await _resource(req)
    await _require_manage(mw, user, kind, resource)
    revoke = (
        mw.store.revoke_experiment_permission
        if kind == EXPERIMENT
        else mw.store.revoke_model_permission
    )
    await _call(revoke, resource, await req.required("username"))
    mw.forget_permissions()
    return 200, {}


@_route("GET", f"{_U3}/permissions/get")
async def _get_permission(mw: AuthMiddleware, user: User, req: AuthRequest) -> tuple[int, Any]:
    kind, resource = await _resource(req)
    username = await req.required("username")
    if username != user.username:
        await _require_manage(mw, user, kind, resource)
    subject = await _call(mw.store.get_user, username)
    permission = await mw.permission(subject, kind, resource)
    from nbtrack.server.tracking.auth.permissions import allows

    return 200, {"allowed": allows(permission, "READ"), "permission": permission}


#: Every route served here, for the middleware's route index (and the route-table test).
RULES: dict[tuple[str, str], Rule] = {key: Rule("auth_api", None, None) for key in HANDLERS}
