"""The scoring server's ASGI app (Starlette): MLflow's endpoints over a :class:`Scorer`.

``POST /invocations`` scores; ``GET /ping`` and ``/health`` answer once the
model is loaded; ``/version`` gives nbtrack's version; ``/metadata`` the
signature and input example. Errors have MLflow's body,
``{"error_code": ..., "message": ...}``: 400 for a bad body, 413 for one over
the size limit, 415 for a content type other than JSON or CSV, 500 when the
model itself fails. The server keeps serving after any of them.

Every prediction (the numpy fast path included) runs in a worker thread of
a small pool that belongs to the app, so a slow model never stops ``/ping``
or another request from being answered: the model's code is arbitrary, and a
fast path that is fast for one estimator is not for another. Small JSON
bodies are parsed on the event loop, then scored in one hop to the pool.

What a request costs besides the model: ``POST /invocations`` and ``GET
/ping`` are answered by :class:`ScoringApp` itself, in raw ASGI; Starlette
serves the other routes and the errors (404, 405). Starlette's routing,
``Request`` and ``Response`` on every request, and anyio's thread hop, cost
more than scoring a 1-row body with a linear model; the pool is a plain
:class:`~concurrent.futures.ThreadPoolExecutor` reached with
``loop.run_in_executor``.

``uvicorn --factory nbtrack.serving.app:app_from_env`` builds the app from
:data:`ENV_MODEL_URI` in each worker process, which is how ``nbtrack serve
--workers N`` starts them.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any

from nbtrack import env
from nbtrack.serving.payloads import JSON, PayloadError, error_body, media_type
from nbtrack.serving.scorer import Scorer

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import Receive, Scope, Send

    from nbtrack.models.pyfunc import PyFuncModel

__all__ = [
    "ENV_MAX_BODY_BYTES",
    "ENV_MODEL_URI",
    "MAX_BODY_BYTES",
    "ScoringApp",
    "app_from_env",
    "create_app",
    "default_threads",
    "freeze_heap",
    "metadata_document",
]

#: Largest request body accepted by default (MLflow's server also stops at 100 MB).
MAX_BODY_BYTES = 100 * 1024 * 1024
#: The model folder or URI a worker process serves (set by ``nbtrack serve``).
ENV_MODEL_URI = env.NBTRACK_SERVE_MODEL_URI
#: The body size limit of a worker process, in bytes.
ENV_MAX_BODY_BYTES = env.NBTRACK_SERVE_MAX_BODY_BYTES

_logger = logging.getLogger(__name__)
# Bodies up to this size are parsed on the event loop; bigger ones in a thread,
# so that decoding megabytes of JSON does not stall /ping.
_INLINE_BYTES = 1024 * 1024
_PING_PATHS = frozenset({"/ping", "/health"})
_JSON_BYTES = JSON.encode()


def metadata_document(model: PyFuncModel) -> dict[str, Any]:
    """What ``GET /metadata`` answers: identity, flavors, signature and input example.

    The signature's schemas are JSON lists (not the strings ``MLmodel`` holds);
    the input example is the body of a request that scores it, when the model
    folder has one.
    """
    meta = model.metadata
    signature = meta.signature
    sig_doc = None
    if signature is not None:
        sig_doc = {
            "inputs": json.loads(signature.inputs.to_json()),
            "outputs": json.loads(signature.outputs.to_json()) if signature.outputs else None,
            "params": signature.params,
        }
    return {
        "model_uuid": meta.model_uuid,
        "run_id": meta.run_id,
        "artifact_path": meta.artifact_path,
        "utc_time_created": meta.utc_time_created,
        "flavors": sorted(meta.flavors),
        "signature": sig_doc,
        "input_example": _serving_example(model),
    }


def _serving_example(model: PyFuncModel) -> Any:
    from pathlib import Path

    info = model.metadata.saved_input_example_info or {}
    target = info.get("serving_input_path")
    if not target:
        return None
    path = Path(model.path) / str(target)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # a missing or broken example file must not stop the server


def default_threads() -> int:
    """Worker threads of a scoring app by default: one per CPU, at most 4.

    A model that holds the GIL (most scikit-learn calls on small inputs)
    gains nothing from more threads, only their switching; one that waits
    (on a remote service, or in numpy code that releases the GIL) can use a
    few. The bound keeps a burst of requests from starting dozens of threads.
    """
    return max(1, min(4, os.cpu_count() or 1))


class ScoringApp:
    """The scoring server's ASGI app; build it with :func:`create_app`.

    Parameters
    ----------
    scorer:
        The model behind the protocol.
    max_body_bytes:
        Requests with a larger body get 413.
    threads:
        Size of the pool that runs predictions (default :func:`default_threads`).

    Attributes
    ----------
    scorer:
        The :class:`Scorer` it serves.
    """

    def __init__(
        self, scorer: Scorer, max_body_bytes: int = MAX_BODY_BYTES, threads: int | None = None
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.scorer = scorer
        self._limit = max_body_bytes
        self._pool = ThreadPoolExecutor(
            max_workers=threads or default_threads(), thread_name_prefix="nbtrack-predict"
        )
        self._routes = _routes(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one ASGI connection: the two hot routes here, the rest through Starlette."""
        if scope["type"] == "http":
            path, method = scope["path"], scope["method"]
            if path == "/invocations" and method == "POST":
                await self.invocations(scope, receive, send)
                return
            if method == "GET" and path in _PING_PATHS:
                await self.ping(scope, receive, send)
                return
        await self._routes(scope, receive, send)

    async def ping(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``GET /ping`` and ``/health``: 200 once the model is loaded, which it is by now."""
        await _respond(send, 200, b"\n")

    async def invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /invocations``: 4xx for the client's faults, 500 for the model's."""
        import asyncio

        scorer = self.scorer
        try:
            headers = _headers(scope)
            kind = media_type(headers.get(b"content-type", b"").decode("latin-1") or None)
            body = await _read_body(receive, headers.get(b"content-length"), self._limit)
            if body is None:
                return  # the client went away before sending its body
            loop = asyncio.get_running_loop()
            if kind == JSON and len(body) <= _INLINE_BYTES:
                parsed = scorer.parse_json(body)
                answer = await loop.run_in_executor(self._pool, scorer.score_parsed, parsed)
            elif kind == JSON:
                answer = await loop.run_in_executor(self._pool, scorer.score_json, body)
            else:
                answer = await loop.run_in_executor(self._pool, scorer.score_csv, body)
        except PayloadError as exc:
            await _respond(send, exc.status, error_body(exc.error_code, exc.message))
            return
        # The server is a process boundary: whatever the model raises becomes a
        # 500 with its message, and the next request is served as usual.
        except Exception as exc:
            _logger.exception("The model failed on a request")
            message = f"The model failed: {type(exc).__name__}: {exc}"
            await _respond(send, 500, error_body("INTERNAL_ERROR", message))
            return
        await _respond(send, 200, answer)

    def close(self) -> None:
        """Let the prediction threads end once the predictions in flight are done."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def create_app(
    model: PyFuncModel | Scorer, max_body_bytes: int = MAX_BODY_BYTES, threads: int | None = None
) -> ScoringApp:
    """Build the scoring app for a loaded model.

    Parameters
    ----------
    model:
        A :class:`~nbtrack.models.pyfunc.PyFuncModel` (or a :class:`Scorer` of one).
    max_body_bytes:
        Requests with a larger body get 413.
    threads:
        Threads that run predictions (default :func:`default_threads`).

    Returns
    -------
    ScoringApp
        An ASGI app.
    """
    scorer = model if isinstance(model, Scorer) else Scorer(model)
    return ScoringApp(scorer, max_body_bytes, threads)


def _routes(app: ScoringApp) -> Starlette:
    # Every route, the hot two included, so that HEAD, 404 and 405 keep
    # Starlette's rules and MLflow's error body.
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import Response
    from starlette.routing import Route

    from nbtrack import __version__

    metadata = json.dumps(metadata_document(app.scorer.model)).encode()

    async def version(request: Request) -> Response:
        return Response(__version__, media_type="text/plain")

    async def model_metadata(request: Request) -> Response:
        return Response(metadata, media_type=JSON)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        code = "ENDPOINT_NOT_FOUND" if status == 404 else "BAD_REQUEST"
        detail = getattr(exc, "detail", "") or "error"
        body = error_body(code, f"{detail}: {request.method} {request.url.path}")
        return Response(body, status_code=status, media_type=JSON)

    # Bound methods are not functions: Starlette calls them as ASGI apps.
    routes = [
        Route("/invocations", _Asgi(app.invocations), methods=["POST"]),
        Route("/ping", _Asgi(app.ping), methods=["GET"]),
        Route("/health", _Asgi(app.ping), methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/metadata", model_metadata, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


class _Asgi:
    # Starlette wraps functions and methods as request handlers; an instance
    # of a class with __call__ it mounts as an ASGI app.
    def __init__(self, handler: Any) -> None:
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._handler(scope, receive, send)


def _headers(scope: Scope) -> dict[bytes, bytes]:
    # ASGI servers give header names in lower case.
    return dict(scope.get("headers") or ())


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", _JSON_BYTES), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive, declared: bytes | None, limit: int) -> bytes | None:
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadError(_too_large(int(declared), limit), status=413)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadError(_too_large(size, limit), status=413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(size: int, limit: int) -> str:
    return (
        f"Request body of {size:,} bytes is over the server's limit of {limit:,} bytes; "
        "send fewer rows per request or restart the server with a larger --max-body-bytes"
    )


def freeze_heap() -> None:
    """Move everything loaded so far out of the garbage collector's sight (call once, at start).

    A 1,000-row JSON body allocates thousands of lists, which triggers the
    collector's full passes, and a full pass over the objects scikit-learn,
    SciPy and pandas leave behind takes tens of milliseconds: it was the whole
    p99 of such requests. Those objects live as long as the server; frozen,
    they are never scanned again. Only for a process that does nothing but
    serve (not a notebook's kernel). No collection first: it would delay the
    first ``/ping`` by ~90 ms to reclaim the little garbage imports leave.
    """
    import gc

    gc.freeze()


def app_from_env() -> ScoringApp:
    """Build the app for the model named by :data:`ENV_MODEL_URI` (uvicorn's ``--factory``).

    Raises
    ------
    RuntimeError
        The variable is not set.
    """
    from nbtrack.models.pyfunc import load_model

    uri = os.environ.get(ENV_MODEL_URI)
    if not uri:
        raise RuntimeError(f"{ENV_MODEL_URI} must name the model to serve")
    limit = int(os.environ.get(ENV_MAX_BODY_BYTES) or MAX_BODY_BYTES)
    app = create_app(load_model(uri), limit)
    freeze_heap()
    return app
