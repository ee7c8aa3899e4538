"""The one place where the tracking server turns errors into HTTP answers.

Every endpoint is wrapped by :func:`endpoint`: an :class:`~nbtrack.errors.NbtrackError`
becomes MLflow's status code and ``{"error_code", "message"}`` body; anything
else is a bug, so its traceback goes to the log and the client gets a generic
``INTERNAL_ERROR`` (internal text can leak paths, SQL or credentials).
Starlette's own 404/405 (an unknown route or method) get the same body shape.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from nbtrack.errors import NbtrackError

__all__ = [
    "STATUS",
    "endpoint",
    "error_response",
    "http_exception_handler",
    "json_response",
]

log = logging.getLogger("nbtrack.server")

#: MLflow's HTTP status for each error code (``databricks.proto``, as its server maps them).
STATUS: dict[str, int] = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "MALFORMED_REQUEST": 400,
    "INVALID_STATE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "PERMISSION_DENIED": 403,
    "UNAUTHENTICATED": 401,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "NOT_IMPLEMENTED": 501,
    "INTERNAL_ERROR": 500,
}

_GENERIC = "The server failed to handle the request; its log has the details"


def _finite(value: Any) -> Any:
    # MLflow's server (protobuf JSON) sends NaN and infinities as strings.
    if value.__class__ is float and (value != value or value in (_INF, -_INF)):
        if value != value:
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


_INF = float("inf")


def json_response(payload: Any, status: int = 200) -> Response:
    """Answer ``payload`` as JSON; NaN and infinities are written as MLflow writes them."""
    try:
        body = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    except ValueError:
        body = json.dumps(_finite(payload), separators=(",", ":"))
    return Response(body, status_code=status, media_type="application/json")


def error_response(error_code: str, message: str) -> Response:
    """Answer MLflow's error body with the status its code maps to."""
    return json_response(
        {"error_code": error_code, "message": message}, STATUS.get(error_code, 500)
    )


Handler = Callable[[Request], Awaitable[Response]]


def endpoint(func: Handler) -> Handler:
    """Wrap a route handler so nbtrack's errors answer as MLflow's and bugs as a generic 500."""

    @functools.wraps(func)
    async def wrapped(request: Request) -> Response:
        try:
            return await func(request)
        except NbtrackError as exc:
            if STATUS.get(exc.error_code, 500) >= 500:
                log.exception("%s %s failed", request.method, request.url.path)
                return error_response("INTERNAL_ERROR", _GENERIC)
            return error_response(exc.error_code, exc.message)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return error_response("INTERNAL_ERROR", _GENERIC)

    return wrapped


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Starlette's routing errors (no such route, wrong method) in MLflow's body shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        return error_response(
            "ENDPOINT_NOT_FOUND", f"No route {request.method} {request.url.path} on this server"
        )
    if status == 405:
        response = json_response(
            {
                "error_code": "BAD_REQUEST",
                "message": f"{request.method} is not allowed on {request.url.path}",
            },
            405,
        )
        allow = getattr(exc, "headers", None) or {}
        if "Allow" in allow:
            response.headers["Allow"] = allow["Allow"]
        return response
    detail = exc.detail if isinstance(exc, HTTPException) else _GENERIC
    return json_response({"error_code": "BAD_REQUEST", "message": str(detail)}, status)
