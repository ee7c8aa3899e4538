"""One HTTP session per REST store: kept-alive connections, retries, credentials, errors.

Every request to an nbtrack server goes through :class:`HttpSession.call` (JSON)
or the streaming helpers (artifacts). A request that fails on the way —
connection refused or reset, a timeout, a 502/503/504 from a proxy or a
restarting server — is sent again with exponential backoff until the budget
(``NBTRACK_HTTP_RETRIES`` attempts) is spent; a mutating request keeps its
``Nbtrack-Request-Id`` across those attempts so the server can store it once.
Error bodies become nbtrack's own errors, carrying the server's message.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import ssl
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from nbtrack import env
from nbtrack.errors import (
    AlreadyExistsError,
    InvalidFilter,
    InvalidInput,
    NbtrackError,
    NotFoundError,
    ParamConflict,
    RunNotActiveError,
    StoreError,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["REQUEST_ID_HEADER", "HttpSession", "ServerUnreachable", "new_request_id"]

REQUEST_ID_HEADER = "Nbtrack-Request-Id"
DEFAULT_ATTEMPTS = 7  # 0.1 + 0.2 + … + 3.2 s of backoff: rides out a server restart
DEFAULT_TIMEOUT_S = 30.0
_RETRY_STATUS = frozenset({502, 503, 504})
_T = TypeVar("_T")


class ServerUnreachable(StoreError):
    """The server could not be reached (or kept answering 502/503/504) within the budget.

    ``transient`` tells the metric buffer that the same write may succeed
    later, so the points stay queued.
    """

    transient = True

    def __init__(self, server: str, what: str, cause: str, attempts: int) -> None:
        self.server = server
        super().__init__(
            f"The nbtrack server {server} did not answer {what} after {attempts} attempts "
            f"({cause}); check that it is running and reachable"
        )


class _Retryable(Exception):
    """A 502/503/504 answer: worth another attempt."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def new_request_id() -> str:
    """Return a fresh ``Nbtrack-Request-Id`` (32 hex digits)."""
    return uuid.uuid4().hex


def _env_number(name: str, default: float, kind: type = float) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InvalidInput(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise InvalidInput(f"{name} must be positive, got {raw!r}")
    return value


def _credentials() -> tuple[dict[str, str], tuple[str, str] | None]:
    """Return (headers, basic auth) from NBTRACK_TRACKING_* or else MLflow's variables."""
    for token_var, user_var, password_var in (
        (env.NBTRACK_TRACKING_TOKEN, env.NBTRACK_TRACKING_USERNAME, env.NBTRACK_TRACKING_PASSWORD),
        (env.MLFLOW_TRACKING_TOKEN, env.MLFLOW_TRACKING_USERNAME, env.MLFLOW_TRACKING_PASSWORD),
    ):
        token = os.environ.get(token_var)
        if token:
            return {"Authorization": f"Bearer {token}"}, None
        user = os.environ.get(user_var)
        if user:
            return {}, (user, os.environ.get(password_var, ""))
    return {}, None


def _dumps(body: Any) -> bytes:
    # Python's json writes NaN/Infinity bare, which the server accepts as MLflow's do;
    # httpx's own encoder refuses them.
    return json.dumps(body, separators=(",", ":")).encode()


_RUN_STATE = re.compile(r"Run (\w+) is (\w+)")
_PARAM_CONFLICT = re.compile(
    r"Param (.+) of run (\w+) is already (.+); params are immutable, cannot change it to (.+)$",
    re.S,
)
_FILTER_POSITION = re.compile(r"Invalid filter at position (\d+): (.*)", re.S)


def _bare(cls: type[NbtrackError], message: str) -> NbtrackError:
    """Build an error whose __init__ takes structured arguments, from the server's message."""
    exc = cls.__new__(cls)
    NbtrackError.__init__(exc, message)
    return exc


def _param_conflict(message: str, found: re.Match[str]) -> NbtrackError:
    import ast

    try:
        key, old, new = (ast.literal_eval(found.group(i)) for i in (1, 3, 4))
        return ParamConflict(found.group(2), key, old, new)
    except (ValueError, SyntaxError):
        return _bare(ParamConflict, message)


def _invalid_filter(message: str, position: int, rest: str) -> InvalidFilter:
    # The SQL store's message ends with the filter and a caret under the position:
    # rebuild the same error, so callers can show the pointer themselves.
    lines = rest.split("\n")
    if len(lines) >= 3 and lines[-1].strip() == "^":
        return InvalidFilter(lines[-2][2:], position, "\n".join(lines[:-2]))
    exc = _bare(InvalidFilter, message)
    exc.text, exc.position, exc.reason = "", position, rest  # type: ignore[attr-defined]
    return exc  # type: ignore[return-value]


def error_from_body(
    status: int, code: str, message: str, server: str, what: str = ""
) -> NbtrackError:
    """Map an MLflow error body to the nbtrack error the SQL store would have raised.

    ``what`` (``"GET /api/…"``) names the operation in errors about the server itself.
    """
    if status == 401 or code == "UNAUTHENTICATED":
        return StoreError(
            f"The nbtrack server {server} refused {what or 'the request'} without valid "
            f"credentials ({message}); set NBTRACK_TRACKING_TOKEN, or NBTRACK_TRACKING_USERNAME "
            "and NBTRACK_TRACKING_PASSWORD (MLflow's MLFLOW_TRACKING_* names work too)"
        )
    if status == 403 or code == "PERMISSION_DENIED":
        return StoreError(
            f"The nbtrack server {server} denied {what or 'the request'}: {message} (ask its "
            "admin for a permission with `nbtrack server users grant`, or use other credentials)"
        )
    if code == "RESOURCE_DOES_NOT_EXIST":
        return NotFoundError(message)
    if code == "RESOURCE_ALREADY_EXISTS":
        return AlreadyExistsError(message)
    if code == "INVALID_STATE":
        found = _RUN_STATE.search(message)
        if found:
            exc = _bare(RunNotActiveError, message)
            exc.run_id, exc.state = found.group(1), found.group(2)  # type: ignore[attr-defined]
            return exc
        return InvalidInput(message)
    if code in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST", "MALFORMED_REQUEST") and status < 500:
        found = _PARAM_CONFLICT.match(message)
        if found:
            return _param_conflict(message, found)
        found = _FILTER_POSITION.match(message)
        if found:
            return _invalid_filter(message, int(found.group(1)), found.group(2))
        if status != 405:
            return InvalidInput(message)
    if status in (404, 405, 501) or code in ("ENDPOINT_NOT_FOUND", "NOT_IMPLEMENTED"):
        return StoreError(
            f"The server {server} does not offer {what or 'this operation'} (HTTP {status}"
            f"{': ' + message if message else ''}); the REST store needs an nbtrack server "
            "of the same version"
        )
    detail = message or f"HTTP {status}"
    return StoreError(f"The nbtrack server {server} failed {what or 'a request'}: {detail}")


class HttpSession:
    """Kept-alive connections to one server, with its retry budget and credentials."""

    def __init__(self, base_url: str) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        self.attempts: int = _env_number(env.NBTRACK_HTTP_RETRIES, DEFAULT_ATTEMPTS, int)
        timeout = _env_number(env.NBTRACK_HTTP_TIMEOUT, DEFAULT_TIMEOUT_S)
        headers, auth = _credentials()
        self.client = httpx.Client(
            base_url=self.base_url,
            verify=_ssl_context(),
            headers=headers,
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def close(self) -> None:
        """Close the kept-alive connections."""
        self.client.close()

    # -- retries -------------------------------------------------------------------------

    def retrying(self, what: str, attempt: Callable[[], _T]) -> _T:
        """Run ``attempt`` until it returns, retrying transport errors and 502/503/504."""
        import httpx
        import tenacity

        retryer = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=0.1, max=5.0),
            retry=tenacity.retry_if_exception_type((httpx.TransportError, _Retryable)),
            reraise=True,
        )
        try:
            return retryer(attempt)
        except _Retryable as exc:
            raise ServerUnreachable(
                self.base_url, what, f"HTTP {exc.response.status_code}", self.attempts
            ) from None
        except httpx.TransportError as exc:
            cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise ServerUnreachable(self.base_url, what, cause, self.attempts) from None

    def raise_for_error(self, response: httpx.Response) -> None:
        """Turn a non-2xx answer into the matching nbtrack error, naming the request."""
        if response.status_code < 400:
            return
        code, message = "", ""
        try:
            body = response.json()
            code, message = str(body.get("error_code", "")), str(body.get("message", ""))
        except (ValueError, AttributeError):
            message = response.text[:500]
        what = f"{response.request.method} {response.request.url.path}"
        raise error_from_body(response.status_code, code, message, self.base_url, what)

    # -- JSON calls ----------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        request_id: str | None = None,
        content: bytes | None = None,
    ) -> dict[str, Any]:
        """Send one JSON request (GET: ``params`` in the query) and return the JSON answer.

        ``content`` is a body already encoded as JSON, instead of ``body``.
        Mutating requests carry ``Nbtrack-Request-Id`` (``request_id`` or a new
        one), the same on every retry.
        """
        headers: dict[str, str] = {}
        if method != "GET":
            headers[REQUEST_ID_HEADER] = request_id or new_request_id()
            headers["Content-Type"] = "application/json"
            if content is None:
                content = _dumps(body or {})
        query = {k: v for k, v in (params or {}).items() if v is not None}

        def attempt() -> httpx.Response:
            response = self.client.request(
                method, path, content=content, params=query or None, headers=headers
            )
            if response.status_code in _RETRY_STATUS:
                raise _Retryable(response)
            return response

        response = self.retrying(f"{method} {path}", attempt)
        self.raise_for_error(response)
        if not response.content:
            return {}
        return response.json(parse_constant=_parse_constant)

    # -- streaming -----------------------------------------------------------------------

    def upload(self, path: str, open_chunks: Callable[[], Iterator[bytes]]) -> None:
        """PUT a body read chunk by chunk (``open_chunks`` restarts it for each attempt)."""
        headers = {REQUEST_ID_HEADER: new_request_id(), "Content-Type": "application/octet-stream"}

        def attempt() -> httpx.Response:
            response = self.client.put(path, content=open_chunks(), headers=headers)
            if response.status_code in _RETRY_STATUS:
                raise _Retryable(response)
            return response

        self.raise_for_error(self.retrying(f"PUT {path}", attempt))

    def download(self, path: str, write: Callable[[Iterator[bytes]], None]) -> None:
        """GET a body and hand its chunks to ``write`` (called again from scratch on a retry)."""

        def attempt() -> None:
            with self.client.stream("GET", path) as response:
                if response.status_code in _RETRY_STATUS:
                    raise _Retryable(response)
                if response.status_code >= 400:
                    response.read()
                    self.raise_for_error(response)
                write(response.iter_bytes(1 << 20))

        self.retrying(f"GET {path}", attempt)


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # Building one costs ~60 ms (the CA bundle is parsed); every store of the process shares it.
    import httpx

    return httpx.create_ssl_context()


def _parse_constant(name: str) -> float:
    return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[name]
