"""The scoring server's ASGI app (Starlette): MLflow's endpoints over a :class:`Scorer`.

``POST /invocations`` scores; ``GET /ping`` and ``/health`` answer once the
model is loaded; ``/version`` gives nbtrack's version; ``/metadata`` the
signature and input example. Errors have MLflow's body,
``{"error_code": ..., "message": ...}``: 400 for a bad body, 413 for one over
the size limit, 415 for a content type other than JSON or CSV, 500 when the
model itself fails. The server keeps serving after any of them.

Starlette rather than FastAPI: the protocol has four fixed routes and no
validation a schema library would add, and every layer counts when a request
is scored in a tenth of a millisecond. Small JSON bodies are parsed on the
event loop; every prediction (the numpy fast path included) runs in the
thread pool, in one hop per request, so that a slow model never stops
``/ping`` or another request from being answered: the model's code is
arbitrary, and a fast path that is fast for one estimator is not for another.

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

    from nbtrack.models.pyfunc import PyFuncModel

__all__ = [
    "ENV_MAX_BODY_BYTES",
    "ENV_MODEL_URI",
    "MAX_BODY_BYTES",
    "app_from_env",
    "create_app",
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


def create_app(model: PyFuncModel | Scorer, max_body_bytes: int = MAX_BODY_BYTES) -> Starlette:
    """Build the scoring app for a loaded model.

    Parameters
    ----------
    model:
        A :class:`~nbtrack.models.pyfunc.PyFuncModel` (or a :class:`Scorer` of one).
    max_body_bytes:
        Requests with a larger body get 413.

    Returns
    -------
    starlette.applications.Starlette
    """
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.exceptions import HTTPException
    from starlette.responses import Response
    from starlette.routing import Route

    from nbtrack import __version__

    scorer = model if isinstance(model, Scorer) else Scorer(model)
    metadata = json.dumps(metadata_document(scorer.model)).encode()

    async def ping(request: Request) -> Response:
        return Response(b"\n", media_type=JSON)

    async def version(request: Request) -> Response:
        return Response(__version__, media_type="text/plain")

    async def model_metadata(request: Request) -> Response:
        return Response(metadata, media_type=JSON)

    async def invocations(request: Request) -> Response:
        try:
            kind = media_type(request.headers.get("content-type"))
            body = await _read_body(request, max_body_bytes)
            if kind == JSON and len(body) <= _INLINE_BYTES:
                parsed = scorer.parse_json(body)
                answer = await run_in_threadpool(scorer.score_parsed, parsed)
            elif kind == JSON:
                answer = await run_in_threadpool(scorer.score_json, body)
            else:
                answer = await run_in_threadpool(scorer.score_csv, body)
        except PayloadError as exc:
            return _error(exc.status, exc.error_code, exc.message)
        # The server is a process boundary: whatever the model raises becomes a
        # 500 with its message, and the next request is served as usual.
        except Exception as exc:
            _logger.exception("The model failed on a request")
            return _error(500, "INTERNAL_ERROR", f"The model failed: {type(exc).__name__}: {exc}")
        return Response(answer, media_type=JSON)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        code = "ENDPOINT_NOT_FOUND" if status == 404 else "BAD_REQUEST"
        detail = getattr(exc, "detail", "") or "error"
        return _error(status, code, f"{detail}: {request.method} {request.url.path}")

    routes = [
        Route("/invocations", invocations, methods=["POST"]),
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ping, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/metadata", model_metadata, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


def _error(status: int, error_code: str, message: str) -> Response:
    from starlette.responses import Response

    return Response(error_body(error_code, message), status_code=status, media_type=JSON)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadError(_too_large(int(declared), limit), status=413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadError(_too_large(size, limit), status=413)
        chunks.append(chunk)
    return b"".join(chunks)


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


def app_from_env() -> Starlette:
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
