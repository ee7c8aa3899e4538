"""``nbtrack gateway``'s ASGI app: MLflow Deployments' routes and OpenAI's, over providers.

Routes: ``GET /health``; ``GET /api/2.0/endpoints/`` and
``/api/2.0/endpoints/{name}`` (MLflow's ``Endpoint`` bodies, secrets left
out); ``POST /endpoints/{name}/invocations`` (and MLflow's newer
``/gateway/{name}/invocations``); OpenAI's ``/v1/chat/completions``,
``/v1/completions`` and ``/v1/embeddings`` where ``model`` is the endpoint's
name. ``stream: true`` answers Server-Sent Events.

Errors are mapped to HTTP here, once, in MLflow's ``{"error_code",
"message"}`` body: a bad body 400 naming the field, an unknown endpoint 404,
a rate limit 429, the provider failing 502, timing out 504. Every message
that leaves the server has the config's secrets scrubbed from it.

The config is re-read on SIGHUP and when the file changes; a config that
fails to load is logged (endpoint and key named) and the last good one keeps
serving. Providers of unchanged endpoints are kept, so a reload does not
reload a local model.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from nbtrack.errors import InvalidInput, NbtrackError, NotFoundError
from nbtrack.gateway.config import EndpointConfig, GatewayConfig, load_config
from nbtrack.gateway.providers import Provider, ProviderTimeout, UpstreamError, provider_class
from nbtrack.gateway.schemas import RateLimiter, check_body, parse_json
from nbtrack.server.tracking.errors import http_exception_handler, json_response

__all__ = ["Gateway", "create_app"]

log = logging.getLogger("nbtrack.gateway")

_WATCH_SECONDS = 1.0
_OPENAI_ROUTES = {
    "/v1/chat/completions": "llm/v1/chat",
    "/v1/completions": "llm/v1/completions",
    "/v1/embeddings": "llm/v1/embeddings",
}


def _error(code: str, message: str, status: int) -> Response:
    return json_response({"error_code": code, "message": message}, status)


class Gateway:
    """The endpoints being served, their providers, and how they are reloaded.

    Parameters
    ----------
    config_path:
        MLflow Deployments' YAML config.
    require_key:
        When set, POST requests must send ``Authorization: Bearer <require_key>``.
    """

    def __init__(self, config_path: str | os.PathLike[str], require_key: str | None = None) -> None:
        self.config_path = Path(config_path)
        self.require_key = require_key
        self.limiter = RateLimiter()
        self.config = GatewayConfig({})
        self.providers: dict[str, Provider] = {}
        self._secrets: list[str] = []
        self._stamp: tuple[float, int] | None = None
        self.reload()

    def _file_stamp(self) -> tuple[float, int] | None:
        try:
            stat = self.config_path.stat()
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size)

    def reload(self) -> None:
        """Load the config file and build providers for new or changed endpoints.

        Raises
        ------
        GatewayConfigError
            The file or a provider config is bad; the current config keeps serving.
        """
        stamp = self._file_stamp()
        config = load_config(self.config_path)
        kept = {name: p for name, p in self.providers.items() if name in config.endpoints}
        built: dict[str, Provider] = {}
        try:
            for name, endpoint in config.endpoints.items():
                old = self.config.endpoints.get(name)
                if old == endpoint and name in kept:
                    built[name] = kept[name]
                else:
                    built[name] = provider_class(endpoint.provider)(endpoint)
        except NbtrackError:
            for name, provider in built.items():
                if provider is not kept.get(name):
                    provider.close()
            raise
        dropped = [p for n, p in self.providers.items() if built.get(n) is not p]
        self.config, self.providers, self._stamp = config, built, stamp
        self._secrets = sorted(
            {s for e in config.endpoints.values() for s in e.secrets()}, key=len, reverse=True
        )
        for provider in dropped:
            provider.close()
        log.info("Serving %d endpoints from %s", len(built), self.config_path)

    def try_reload(self) -> None:
        """Reload, logging a bad config instead of raising (the last good one keeps serving)."""
        try:
            self.reload()
        except NbtrackError as exc:
            self._stamp = self._file_stamp()
            log.error(
                "Config %s not loaded, still serving the last good one: %s",
                self.config_path,
                self.scrub(exc.message),
            )

    async def watch(self) -> None:
        """Reload when the config file changes (checked every second)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(_WATCH_SECONDS)
            if self._file_stamp() != self._stamp:
                await loop.run_in_executor(None, self.try_reload)

    def scrub(self, text: str) -> str:
        """``text`` with every secret of the config replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def endpoint(self, name: str) -> EndpointConfig:
        """The endpoint called ``name``.

        Raises
        ------
        NotFoundError
            No such endpoint in the current config.
        """
        found = self.config.endpoints.get(name)
        if found is None:
            raise NotFoundError(
                f"The endpoint {name!r} is not present or active on the server; "
                f"endpoints: {', '.join(self.config.endpoints) or 'none'}"
            )
        return found

    def error_response(self, exc: BaseException) -> Response:
        """The one place errors become HTTP answers."""
        if isinstance(exc, NotFoundError):
            return _error("RESOURCE_DOES_NOT_EXIST", self.scrub(exc.message), 404)
        if isinstance(exc, InvalidInput):
            return _error("INVALID_PARAMETER_VALUE", self.scrub(exc.message), 400)
        if isinstance(exc, ProviderTimeout):
            return _error("DEADLINE_EXCEEDED", self.scrub(exc.message), 504)
        if isinstance(exc, UpstreamError | NbtrackError):
            return _error("TEMPORARILY_UNAVAILABLE", self.scrub(exc.message), 502)
        log.error("Request failed: %s", self.scrub(f"{type(exc).__name__}: {exc}"))
        return _error("INTERNAL_ERROR", "The gateway failed; its log has the details", 500)

    def _authorized(self, request: Request) -> bool:
        if self.require_key is None:
            return True
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {self.require_key}".encode())

    async def invoke(self, request: Request, name: str, expected: str | None) -> Response:
        """Check the body, count the call against the limit, and answer from the provider."""
        if not self._authorized(request):
            return _error("UNAUTHENTICATED", "Send this gateway's key as a Bearer token", 401)
        try:
            body = parse_json(await request.body())
            if expected is not None:
                name = body.pop("model", None)
                if not isinstance(name, str):
                    raise InvalidInput("Field 'model' is required: the endpoint's name")
            else:
                body.pop("model", None)
            endpoint = self.endpoint(name)
            kind = endpoint.endpoint_type
            if expected is not None and kind != expected:
                raise InvalidInput(f"Endpoint {name!r} is a {kind} endpoint, not {expected}")
            check_body(kind, body)
            if endpoint.limit is not None:
                wait = self.limiter.allow(name, endpoint.limit.calls, endpoint.limit.seconds)
                if wait is not None:
                    return _error(
                        "REQUEST_LIMIT_EXCEEDED",
                        f"Rate limit exceeded on endpoint {name!r}: {endpoint.limit.calls} per "
                        f"{endpoint.limit.renewal_period}; retry in {wait:.0f} s",
                        429,
                    )
            provider = self.providers[name]
            if body.get("stream") and kind != "llm/v1/embeddings":
                stream = (
                    provider.chat_stream(body)
                    if kind == "llm/v1/chat"
                    else provider.completions_stream(body)
                )
                return await self._sse(stream)
            if kind == "llm/v1/chat":
                answer = await provider.chat(body)
            elif kind == "llm/v1/completions":
                answer = await provider.completions(body)
            else:
                answer = await provider.embeddings(body)
        except Exception as exc:  # the server is a process boundary: every error is an answer
            return self.error_response(exc)
        return json_response(answer)

    async def _sse(self, stream: AsyncIterator[dict[str, Any]]) -> Response:
        # The first chunk is awaited before the answer starts, so a provider that
        # fails at once still gets its status code rather than a broken stream.
        iterator = aiter(stream)
        try:
            first = await anext(iterator)
        except StopAsyncIteration:
            first = None

        async def events() -> AsyncIterator[bytes]:
            if first is not None:
                yield b"data: " + json.dumps(first).encode() + b"\n\n"
            try:
                async for item in iterator:
                    yield b"data: " + json.dumps(item).encode() + b"\n\n"
            except NbtrackError as exc:
                error = {"error_code": exc.error_code, "message": self.scrub(exc.message)}
                yield b"data: " + json.dumps({"error": error}).encode() + b"\n\n"
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")


def create_app(gateway: Gateway, watch: bool = True, watch_file: bool = True) -> Starlette:
    """The ASGI app over ``gateway``.

    ``watch`` reloads the config on SIGHUP, and ``watch_file`` also when the file changes.
    """

    async def health(request: Request) -> Response:
        return json_response({"status": "OK"})

    async def list_endpoints(request: Request) -> Response:
        # One page: MLflow's page holds 3,000 endpoints, more than any config file has.
        return json_response({"endpoints": [e.public() for e in gateway.config.endpoints.values()]})

    async def get_endpoint(request: Request) -> Response:
        try:
            return json_response(gateway.endpoint(request.path_params["name"]).public())
        except NotFoundError as exc:
            return gateway.error_response(exc)

    async def invocations(request: Request) -> Response:
        return await gateway.invoke(request, request.path_params["name"], None)

    def openai_route(kind: str) -> Any:
        async def handler(request: Request) -> Response:
            return await gateway.invoke(request, "", kind)

        return handler

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/api/2.0/endpoints/", list_endpoints, methods=["GET"]),
        Route("/api/2.0/endpoints/{name}", get_endpoint, methods=["GET"]),
        Route("/endpoints/{name}/invocations", invocations, methods=["POST"]),
        Route("/gateway/{name}/invocations", invocations, methods=["POST"]),
        *(Route(p, openai_route(k), methods=["POST"]) for p, k in _OPENAI_ROUTES.items()),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = None
        if watch:
            import signal

            loop = asyncio.get_running_loop()
            try:
                loop.add_signal_handler(
                    signal.SIGHUP, lambda: loop.run_in_executor(None, gateway.try_reload)
                )
            except (NotImplementedError, RuntimeError, ValueError):
                log.warning("SIGHUP cannot be handled here; the config reloads on file change only")
            if watch_file:
                task = loop.create_task(gateway.watch())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    return Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_exception_handler},
        lifespan=lifespan,
    )
