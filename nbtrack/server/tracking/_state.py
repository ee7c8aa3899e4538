"""What every route handler reaches through the app: the client, the URI rewriter, a thread hop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route

from nbtrack.server.tracking.errors import endpoint

if TYPE_CHECKING:
    from nbtrack.server.tracking.entities_json import ArtifactUris
    from nbtrack.tracking.client import Client

__all__ = ["ServerState", "call", "route", "state"]

T = TypeVar("T")


@dataclass(slots=True)
class ServerState:
    """The app's one client over the backend store, and how its artifact URIs are shown."""

    client: Client
    uris: ArtifactUris
    destination: str
    auth: bool


def state(request: Request) -> ServerState:
    """Return the server state of the app serving ``request``."""
    st: ServerState = request.app.state.nbtrack
    return st


async def call(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking store call in the thread pool, so one slow query does not stall the loop."""
    return await run_in_threadpool(func, *args, **kwargs)


def route(path: str, handler: Callable[..., Any], *methods: str) -> Route:
    """A Starlette route whose handler answers errors as MLflow does (``errors.endpoint``)."""
    return Route(path, endpoint(handler), methods=list(methods))
