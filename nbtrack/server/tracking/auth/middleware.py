"""``AuthMiddleware``: who is asking, and may they (``nbtrack server --auth``).

A pure ASGI middleware in front of the tracking app. For each request it

1. finds the route's :class:`~nbtrack.server.tracking.permissions_table.Rule`
   (a route without one is refused to everyone but admins: fail closed);
2. resolves the user from ``Authorization: Basic …`` or ``Bearer …`` through
   :class:`~nbtrack.server.tracking.auth.passwords.Authenticator` (401 with
   ``WWW-Authenticate: Basic realm="nbtrack"`` and MLflow's error body when
   that fails);
3. finds the resource the rule names — in the path, the query string (GET,
   DELETE) or the JSON body (which is then handed on to the app unchanged) —
   and checks the user's permission on it (403 ``PERMISSION_DENIED`` naming
   the resource and the permission needed). A run, logged model or artifact
   path counts as its experiment. The middleware learns a run's experiment by
   asking the app itself (``runs/get-info``), so it needs no store of runs;
   that answer never changes and is kept for the life of the process;
4. after a successful create of an experiment or registered model, grants its
   creator MANAGE before the answer leaves (so the client's next request
   already finds it), and keeps grants in step with renames and deletes of
   registered models; searches of experiments, registered models and model
   versions drop what the user may not read (so a page may hold fewer than
   ``max_results``; its ``next_page_token`` still leads on).

Users and grants come from the :class:`~nbtrack.store.auth_base.AuthStore`;
verified credentials and looked-up permissions are trusted for
:data:`~nbtrack.server.tracking.auth.passwords.CACHE_TTL` seconds per process.
The users-and-permissions API MLflow's ``AuthServiceClient`` calls is served
here too (:mod:`nbtrack.server.tracking.auth.routes`).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import anyio.to_thread

from nbtrack.server.tracking.auth import routes as auth_routes
from nbtrack.server.tracking.auth.asgi import (
    AuthRequest,
    Denied,
    HeldResponse,
    Message,
    Receive,
    Scope,
    Send,
    dig,
    loads,
    send_error,
    send_json,
)
from nbtrack.server.tracking.auth.passwords import (
    CACHE_TTL,
    Authenticator,
    TtlCache,
    parse_authorization,
)
from nbtrack.server.tracking.auth.permissions import DEFAULT_PERMISSION, allows, check_permission
from nbtrack.server.tracking.auth.routing import RouteIndex
from nbtrack.server.tracking.permissions_table import PERMISSIONS, Rule
from nbtrack.store.auth_base import EXPERIMENT, REGISTERED_MODEL, AuthStore, User, open_auth_store

ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["AuthMiddleware", "Denied"]

_M = "/api/2.0/mlflow"
_N = "/api/2.0/nbtrack"
#: Search answers filtered to what the user may read: (list key, id key, resource kind).
_FILTERED: dict[tuple[str, str], tuple[str, str, str]] = {
    ("GET", f"{_M}/experiments/search"): ("experiments", "experiment_id", EXPERIMENT),
    ("POST", f"{_M}/experiments/search"): ("experiments", "experiment_id", EXPERIMENT),
    ("GET", f"{_M}/registered-models/search"): ("registered_models", "name", REGISTERED_MODEL),
    ("POST", f"{_N}/registered-models/search"): ("registered_models", "name", REGISTERED_MODEL),
    ("GET", f"{_M}/model-versions/search"): ("model_versions", "name", REGISTERED_MODEL),
    ("POST", f"{_N}/model-versions/search"): ("model_versions", "name", REGISTERED_MODEL),
}
_RENAME_MODEL = ("POST", f"{_M}/registered-models/rename")
_DELETE_MODEL = ("DELETE", f"{_M}/registered-models/delete")
_RUN_CACHE_SIZE = 100_000


def _forbidden(user: User, what: str, level: str) -> Denied:
    return Denied(
        403,
        "PERMISSION_DENIED",
        f"User {user.username!r} needs {level} permission on {what} for this request",
    )


class AuthMiddleware:
    """Authenticate every request and check its permission (see the module docstring).

    Parameters
    ----------
    app:
        The tracking app.
    backend_store_uri:
        The backend store whose users are checked (opened with
        :func:`~nbtrack.store.auth_base.open_auth_store`), unless ``auth_store`` is given.
    default_permission:
        What users hold on resources they have no grant on (MLflow's default: READ).
    cache_ttl:
        Seconds a verified credential or permission is trusted in this process.
    """

    def __init__(
        self,
        app: ASGIApp,
        backend_store_uri: str | None = None,
        *,
        auth_store: AuthStore | None = None,
        default_permission: str = DEFAULT_PERMISSION,
        cache_ttl: float = CACHE_TTL,
    ) -> None:
        if auth_store is None:
            if backend_store_uri is None:
                raise TypeError("AuthMiddleware needs backend_store_uri or auth_store")
            auth_store = open_auth_store(backend_store_uri)
        self.app = app
        self.store = auth_store
        self.default_permission = check_permission(default_permission)
        self.authenticator = Authenticator(auth_store, cache_ttl)
        self._permissions: TtlCache[str | None] = TtlCache(cache_ttl)
        self._grants: TtlCache[dict[tuple[str, str], str]] = TtlCache(cache_ttl)
        # A run's or logged model's experiment never changes: no expiry.
        self._parents: TtlCache[str] = TtlCache(float("inf"), _RUN_CACHE_SIZE)
        self.routes = RouteIndex({**PERMISSIONS, **auth_routes.RULES})

    # ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        found = self.routes.match(method, path)
        if found is not None and found[0].resource == "public":
            await self.app(scope, receive, send)
            return
        try:
            user = await self._authenticate(scope)
            if found is None:
                if not user.is_admin:
                    raise Denied(
                        403, "PERMISSION_DENIED", f"No permission rule covers {method} {path}"
                    )
                await self.app(scope, receive, send)
                return
            rule, template, params = found
            request = AuthRequest(scope, receive, params)
            handler = auth_routes.HANDLERS.get((method, template))
            if handler is not None:
                status, body = await handler(self, user, request)
                await send_json(send, status, body)
                return
            await self._authorize(user, rule, request)
            after = await self._after_hook(user, rule, (method, template), request)
        except Denied as exc:
            await send_error(send, exc)
            return
        app_receive = request.receive_for_app()
        if after is None:
            await self.app(scope, app_receive, send)
        else:
            await self.app(scope, app_receive, HeldResponse(send, after).send)

    async def _authenticate(self, scope: Scope) -> User:
        header = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        credentials = parse_authorization(header)
        if credentials is None:
            raise Denied(
                401,
                "UNAUTHENTICATED",
                "You are not authenticated: send HTTP basic credentials or a bearer token "
                "(NBTRACK_TRACKING_TOKEN, or NBTRACK_TRACKING_USERNAME/_PASSWORD)",
            )
        user = self.authenticator.cached(credentials)
        if user is None:
            # argon2 takes ~50 ms of CPU: never on the event loop.
            user = await anyio.to_thread.run_sync(self.authenticator.verify, credentials)
        if user is None:
            what = "token" if credentials.scheme == "bearer" else "user name or password"
            raise Denied(401, "UNAUTHENTICATED", f"Wrong {what}")
        return user

    # permissions ---------------------------------------------------------------------

    async def permission(self, user: User, kind: str, resource: str) -> str:
        """What ``user`` holds on a resource: their grant, else the default (admins: MANAGE)."""
        if user.is_admin:
            return "MANAGE"
        key = (user.id, kind, resource)
        found, grant = self._permissions.get(key)
        if not found:
            getter = (
                self.store.get_experiment_permission
                if kind == EXPERIMENT
                else self.store.get_model_permission
            )
            grant = await anyio.to_thread.run_sync(getter, resource, user.username)
            self._permissions.put(key, grant)
        return grant if grant is not None else self.default_permission

    def forget_permissions(self) -> None:
        """Drop this process's cached grants (after a grant or revoke made here)."""
        self._permissions.clear()
        self._grants.clear()

    async def _require(self, user: User, kind: str, resource: str, level: str) -> None:
        if not allows(await self.permission(user, kind, resource), level):
            what = (
                f"experiment {resource}" if kind == EXPERIMENT else f"registered model {resource!r}"
            )
            raise _forbidden(user, what, level)

    async def _authorize(self, user: User, rule: Rule, request: AuthRequest) -> None:
        if user.is_admin:
            return
        kind, level = rule.resource, rule.level or "READ"
        if kind == "admin":
            raise Denied(403, "PERMISSION_DENIED", f"Only admins may call {request.scope['path']}")
        if kind in ("new_experiment", "new_registered_model"):
            return  # any authenticated user creates; they get MANAGE on it
        if kind == "none":
            if (request.method, request.scope["path"]) in _FILTERED:
                return  # the answer is filtered to what the user may read
            if not allows(self.default_permission, level):
                raise _forbidden(user, "this server's shared data", level)
            return
        assert rule.field is not None
        if kind == "experiment":
            await self._require(user, EXPERIMENT, await request.required(rule.field), level)
        elif kind == "experiment_ids":
            ids = await request.value(rule.field)
            ids = ids if isinstance(ids, list) else [ids] if ids not in (None, "") else []
            if not ids and not allows(self.default_permission, level):
                raise _forbidden(user, "every experiment", level)
            for experiment_id in ids:
                await self._require(user, EXPERIMENT, str(experiment_id), level)
        elif kind == "experiment_name":
            name = await request.required(rule.field)
            experiment_id = await self._experiment_of_name(request.scope, name)
            if experiment_id is not None:
                await self._require(user, EXPERIMENT, experiment_id, level)
        elif kind == "run":
            run_id = await request.required(rule.field, "run_uuid")
            experiment_id = await self._experiment_of("run", request.scope, run_id)
            if experiment_id is not None:
                await self._require(user, EXPERIMENT, experiment_id, level)
        elif kind == "logged_model":
            model_id = await request.required(rule.field)
            experiment_id = await self._experiment_of("logged_model", request.scope, model_id)
            if experiment_id is not None:
                await self._require(user, EXPERIMENT, experiment_id, level)
        elif kind == "points":
            await self._authorize_points(user, request, rule.field, level)
        elif kind == "run_ids":
            await self._authorize_runs(user, request, rule.field, level)
        elif kind == "artifact_path":
            experiment_id = _experiment_of_artifact_path(await request.value(rule.field))
            if experiment_id is None:
                if not allows(self.default_permission, level):
                    raise _forbidden(user, "the artifact root", level)
            else:
                await self._require(user, EXPERIMENT, experiment_id, level)
        elif kind == "registered_model":
            await self._require(user, REGISTERED_MODEL, await request.required(rule.field), level)
        else:
            raise Denied(403, "PERMISSION_DENIED", f"Unknown permission rule {kind!r}")

    async def _authorize_points(
        self, user: User, request: AuthRequest, field: str, level: str
    ) -> None:
        points = await request.value(field)
        if not isinstance(points, list):
            raise Denied(400, "INVALID_PARAMETER_VALUE", f"'{field}' must be a list of points")
        run_ids = {p[0] for p in points if isinstance(p, list) and p and isinstance(p[0], str)}
        checked: set[str] = set()
        for run_id in run_ids:
            experiment_id = await self._experiment_of("run", request.scope, run_id)
            if experiment_id is not None and experiment_id not in checked:
                await self._require(user, EXPERIMENT, experiment_id, level)
                checked.add(experiment_id)

    async def _authorize_runs(
        self, user: User, request: AuthRequest, field: str, level: str
    ) -> None:
        run_ids = await request.value(field)
        run_ids = run_ids if isinstance(run_ids, list) else [run_ids] if run_ids else []
        checked: set[str] = set()
        for run_id in dict.fromkeys(str(r) for r in run_ids):
            experiment_id = await self._experiment_of("run", request.scope, run_id)
            if experiment_id is not None and experiment_id not in checked:
                await self._require(user, EXPERIMENT, experiment_id, level)
                checked.add(experiment_id)

    # the experiment of a run / logged model / name, asked of the app itself ----------

    async def _experiment_of(self, kind: str, scope: Scope, resource_id: str) -> str | None:
        found, experiment_id = self._parents.get((kind, resource_id))
        if found:
            return experiment_id
        if kind == "run":
            query = {"run_id": resource_id}
            answer = await self._ask_app(scope, f"{_N}/runs/get-info", query)
            experiment_id = _found(answer, ("run_info", "experiment_id"), f"run {resource_id}")
        else:
            answer = await self._ask_app(scope, f"{_M}/logged-models/{resource_id}", {})
            path = ("model", "info", "experiment_id")
            experiment_id = _found(answer, path, f"logged model {resource_id}")
        if experiment_id is not None:
            self._parents.put((kind, resource_id), experiment_id)
        return experiment_id

    async def _experiment_of_name(self, scope: Scope, name: str) -> str | None:
        query = {"experiment_name": name}
        answer = await self._ask_app(scope, f"{_M}/experiments/get-by-name", query)
        return _found(answer, ("experiment", "experiment_id"), f"experiment {name!r}")

    async def _ask_app(self, scope: Scope, path: str, query: dict[str, str]) -> tuple[int, Any]:
        """GET ``path`` from the app in-process, as the server itself (no credentials)."""
        sub_scope = {
            **scope,
            "method": "GET",
            "path": path,
            "raw_path": path.encode(),
            "query_string": urlencode(query).encode(),
            "headers": [(b"accept", b"application/json")],
        }
        sub_scope.pop("state", None)
        sent = {"status": 500}
        chunks: list[bytes] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(sub_scope, receive, send)
        try:
            return sent["status"], json.loads(b"".join(chunks) or b"null")
        except ValueError:
            return sent["status"], None

    # after the app answered ----------------------------------------------------------

    async def _after_hook(
        self, user: User, rule: Rule, route: tuple[str, str], request: AuthRequest
    ) -> Callable[[bytes], Awaitable[bytes]] | None:
        """What to do with a successful answer before it leaves (None: nothing).

        What the hook needs from the request is read now: the app consumes the body.
        """
        if rule.resource == "new_experiment":
            return lambda body: self._grant_creator(user, EXPERIMENT, body, ("experiment_id",))
        if rule.resource == "new_registered_model":
            return lambda body: self._grant_creator(
                user, REGISTERED_MODEL, body, ("registered_model", "name")
            )
        if route == _RENAME_MODEL:
            old_name = await request.value("name")
            return lambda body: self._renamed(old_name, body)
        if route == _DELETE_MODEL:
            name = await request.value("name")
            return lambda body: self._deleted_model(name, body)
        if route in _FILTERED and not user.is_admin:
            return lambda body: self._filter(user, _FILTERED[route], body)
        return None

    async def _grant_creator(
        self, user: User, kind: str, body: bytes, path: tuple[str, ...]
    ) -> bytes:
        resource = dig(loads(body), *path)
        if resource is None:
            return body
        resource = str(resource)

        def grant() -> None:
            # A new id or name starts with no one else's grants, even if a deleted
            # resource once had the same one.
            self.store.clear_permissions(kind, resource)
            if kind == EXPERIMENT:
                self.store.grant_experiment_permission(resource, user.username, "MANAGE")
            else:
                self.store.grant_model_permission(resource, user.username, "MANAGE")

        await anyio.to_thread.run_sync(grant)
        self.forget_permissions()
        return body

    async def _renamed(self, old: Any, body: bytes) -> bytes:
        new = dig(loads(body), "registered_model", "name")
        if isinstance(old, str) and isinstance(new, str) and old != new:
            await anyio.to_thread.run_sync(self.store.rename_model_permissions, old, new)
            self.forget_permissions()
        return body

    async def _deleted_model(self, name: Any, body: bytes) -> bytes:
        if isinstance(name, str):
            await anyio.to_thread.run_sync(self.store.clear_permissions, REGISTERED_MODEL, name)
            self.forget_permissions()
        return body

    async def _filter(self, user: User, spec: tuple[str, str, str], body: bytes) -> bytes:
        list_key, id_key, kind = spec
        data = loads(body)
        if not isinstance(data, dict) or not isinstance(data.get(list_key), list):
            return body
        found, grants = self._grants.get(user.id)
        if not found or grants is None:
            listed = await anyio.to_thread.run_sync(self.store.list_grants, user.username)
            grants = {(g.kind, g.resource): g.permission for g in listed}
            self._grants.put(user.id, grants)
        items = data[list_key]
        kept = [
            item
            for item in items
            if allows(grants.get((kind, str(item.get(id_key))), self.default_permission), "READ")
        ]
        if len(kept) == len(items):
            return body
        data[list_key] = kept
        return json.dumps(data).encode()


def _found(answer: tuple[int, Any], path: tuple[str, ...], what: str) -> str | None:
    """The experiment id in the app's answer; None if the resource does not exist.

    An unknown or malformed id is let through: the app answers 404 or 400 itself,
    which tells nothing more. Any other failure is refused, never let through unchecked.
    """
    status, body = answer
    found = dig(body, *path) if status == 200 else None
    if found is not None:
        return str(found)
    if status in (400, 404):
        return None
    raise Denied(503, "TEMPORARILY_UNAVAILABLE", f"Could not check the permission on {what}")


def _experiment_of_artifact_path(value: Any) -> str | None:
    """The experiment id an artifact path starts with (``<exp>/<run>/artifacts/…``)."""
    if not isinstance(value, str) or not value.strip("/"):
        return None
    normal = posixpath.normpath("/" + value).lstrip("/")
    if normal in ("", "."):
        return None
    return normal.split("/", 1)[0]
