"""The tracking server's ASGI app: MLflow's REST API and nbtrack's routes over one ``Client``.

``create_app`` builds it for a backend store and an artifacts destination;
``app_from_env`` is the factory ``uvicorn --factory --workers N`` calls in
each worker process, reading what the CLI put in ``NBTRACK_SERVER_*``.
The server keeps no state between requests beyond the store's connection
pool, so any number of processes can serve one backend store.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from nbtrack import env
from nbtrack.server.tracking import (
    experiments,
    logged_models,
    metrics,
    metrics_bulk,
    nbtrack_routes,
    registry,
    runs,
)
from nbtrack.server.tracking._state import ServerState
from nbtrack.server.tracking.bodies import MAX_BODY_BYTES
from nbtrack.server.tracking.entities_json import ArtifactUris
from nbtrack.server.tracking.errors import http_exception_handler

if TYPE_CHECKING:
    from starlette.types import ASGIApp

__all__ = ["all_routes", "app_from_env", "create_app"]


async def _health(request: Request) -> Response:
    """Answer OK while the server runs (for load balancers and start-up checks)."""
    return PlainTextResponse("OK")


async def _version(request: Request) -> Response:
    """nbtrack's version, as plain text."""
    from nbtrack import __version__

    return PlainTextResponse(__version__)


def all_routes() -> list[BaseRoute]:
    """Every route the server answers, in match order (the auth test walks these)."""
    from nbtrack.server.tracking import artifacts

    return [
        Route("/health", _health, methods=["GET"]),
        Route("/version", _version, methods=["GET"]),
        *experiments.ROUTES,
        *runs.ROUTES,
        *metrics.ROUTES,
        *metrics_bulk.ROUTES,
        *logged_models.ROUTES,
        *registry.ROUTES,
        *nbtrack_routes.ROUTES,
        *artifacts.routes(),
    ]


def create_app(
    backend_store_uri: str,
    artifacts_destination: str | None = None,
    auth: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> Starlette:
    """Build the tracking server over ``backend_store_uri``.

    Parameters
    ----------
    backend_store_uri:
        A folder, ``sqlite:///…`` or ``postgresql://…`` (opened, created or upgraded now).
    artifacts_destination:
        Where artifacts of new experiments go (a path or an fsspec URL such as
        ``s3://bucket/prefix``); None keeps the store's own artifact root.
    auth:
        Check users and permissions (``AuthMiddleware``) on every request.
    max_body_bytes:
        Largest JSON request body accepted (artifact uploads stream, unbounded).
    """
    from nbtrack.tracking.client import Client

    client = Client(backend_store_uri, artifact_root=artifacts_destination)
    destination = artifacts_destination or client.store.artifact_root
    app = Starlette(
        routes=all_routes(),
        exception_handlers={HTTPException: http_exception_handler},
    )
    app.state.nbtrack = ServerState(client, ArtifactUris(destination), destination, auth)
    app.state.artifacts_destination = destination
    app.state.max_body_bytes = max_body_bytes
    if auth:
        from nbtrack.server.tracking.auth.middleware import AuthMiddleware

        app.add_middleware(AuthMiddleware, backend_store_uri=backend_store_uri)
    return app


def app_from_env() -> ASGIApp:
    """Build the app from ``NBTRACK_SERVER_*`` (what ``nbtrack server`` sets for its workers)."""
    uri = os.environ.get(env.NBTRACK_SERVER_BACKEND_STORE_URI)
    if not uri:
        from nbtrack.config import get_tracking_uri

        uri = get_tracking_uri()
    destination = os.environ.get(env.NBTRACK_SERVER_ARTIFACTS_DESTINATION) or None
    auth = os.environ.get(env.NBTRACK_SERVER_AUTH, "").lower() in ("1", "true", "yes")
    return create_app(uri, destination, auth)
