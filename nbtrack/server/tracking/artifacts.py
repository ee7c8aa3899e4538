"""MLflow's artifact proxy routes (``/api/2.0/mlflow-artifacts/...``) over any fsspec destination.

MLflow's client, given a run whose ``artifact_uri`` is ``mlflow-artifacts:/<rest>``,
reads and writes ``<destination>/<rest>`` through these routes (as in MLflow's
``mlflow_artifacts.proto``):

- ``GET    /api/2.0/mlflow-artifacts/artifacts/<path>``  download one file
- ``PUT    /api/2.0/mlflow-artifacts/artifacts/<path>``  upload one file (the raw body)
- ``DELETE /api/2.0/mlflow-artifacts/artifacts/<path>``  delete a file or folder
- ``GET    /api/2.0/mlflow-artifacts/artifacts?path=``   list a folder's direct children
- ``POST   /api/2.0/mlflow-artifacts/mpu/{create,complete,abort}/<path>`` and
  ``GET /api/2.0/mlflow-artifacts/presigned/<path>``: answered 501
  ``NOT_IMPLEMENTED`` with MLflow's own message, as MLflow's server answers for a
  destination without presigned URLs; MLflow's client then falls back to the
  plain PUT/GET above.

Bodies stream both ways in chunks, so the server's memory does not grow with the
file: a download is a generator over the open file, an upload copies
``request.stream()`` into :meth:`ArtifactRepository.open_write`, whose file
appears only once the whole body has arrived. Blocking file and object-store
calls run in worker threads, batched to about 1 MiB, so the event loop keeps
serving other requests meanwhile.

The destination is ``request.app.state.artifacts_destination`` (a path or an fsspec
URL such as ``s3://bucket/prefix``). Every path is checked by the artifact
repository's rules (no ``..``, absolute paths, backslashes, NUL…) before it
touches the destination; a refused one is a 400 ``INVALID_PARAMETER_VALUE``
naming it.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote, unquote

from nbtrack.errors import InvalidInput
from nbtrack.server.tracking.errors import endpoint, error_response, json_response

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import BaseRoute

    from nbtrack.store.artifacts import ArtifactRepository

__all__ = ["routes"]

PREFIX = "/api/2.0/mlflow-artifacts"
CHUNK = 1024 * 1024

# MLflow's client matches these messages (``_UnsupportedMultipartUploadException``)
# to decide to fall back to a plain upload, so they must be MLflow's words exactly.
MULTIPART_UPLOAD_UNSUPPORTED = (
    "Multipart upload is not supported for the current artifact repository"
)
MULTIPART_DOWNLOAD_UNSUPPORTED = (
    "Multipart download is not supported for the current artifact repository"
)

# Files MLflow serves as text/plain whatever ``mimetypes`` says (its _guess_mime_type).
_TEXT_SUFFIXES = frozenset(
    "txt log err cfg conf cnf cf ini properties prop hocon toml yaml yml xml json js py py3 "  # noqa: SIM905
    "csv tsv md rst ipynb MLmodel MLproject".split()
)


def routes() -> list[BaseRoute]:
    """Return the artifact proxy routes, to mount in the tracking server's app."""
    from starlette.routing import Route

    item = f"{PREFIX}/artifacts/{{artifact_path:path}}"
    return [
        Route(f"{PREFIX}/artifacts", _list, methods=["GET"]),
        Route(item, _download, methods=["GET"]),
        Route(item, _upload, methods=["PUT"]),
        Route(item, _delete, methods=["DELETE"]),
        *(
            Route(f"{PREFIX}/mpu/{step}/{{artifact_path:path}}", _no_multipart, methods=["POST"])
            for step in ("create", "complete", "abort")
        ),
        Route(f"{PREFIX}/presigned/{{artifact_path:path}}", _no_presigned, methods=["GET"]),
    ]


def guess_mime_type(name: str) -> str:
    """Return the Content-Type MLflow's server sends for a file called ``name``."""
    base = posixpath.basename(name)
    suffix = posixpath.splitext(base)[1].lstrip(".") or base
    if suffix in _TEXT_SUFFIXES:
        return "text/plain"
    return mimetypes.guess_type(base)[0] or "application/octet-stream"


# -- plumbing ------------------------------------------------------------------------


def _checked(raw: str | None, *, allow_root: bool) -> str:
    """Return ``raw`` as a clean relative path, or raise :class:`InvalidInput` naming it.

    The path reaches us percent-decoded once, and that is the file's name (a file
    called ``c%20d.bin`` keeps its name). MLflow refuses a path if any further
    decoding breaks the rules (``%252e%252e`` is ``..`` to it), so every decoding
    must pass them too.
    """
    from nbtrack.store.artifacts import validate_artifact_path

    text = raw or ""
    try:
        clean = validate_artifact_path(text, allow_root=allow_root)
        while (decoded := unquote(text)) != text:
            validate_artifact_path(decoded, allow_root=allow_root)
            text = decoded
        return clean
    except InvalidInput:
        raise InvalidInput(
            f"Invalid artifact path {raw!r}: it must be relative, without '..', "
            "backslashes or control characters"
        ) from None


async def _repo(request: Request) -> ArtifactRepository:
    """The destination's repository, built in a worker thread.

    The first one imports the fsspec backend (s3fs: half a second) and later
    ones may reach its instance cache's lock: neither belongs on the event loop.
    """
    from starlette.concurrency import run_in_threadpool

    from nbtrack.store.artifacts import ArtifactRepository

    return await run_in_threadpool(ArtifactRepository, request.app.state.artifacts_destination)


def _attachment(name: str) -> str:
    """An RFC 6266 Content-Disposition value; non-ASCII names get the RFC 5987 form too."""
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != name:
        value += f"; filename*=UTF-8''{quote(name)}"
    return value


def _chunks(f: BinaryIO) -> Iterator[bytes]:
    # A sync generator: Starlette pulls it in a worker thread, one chunk at a time.
    try:
        while chunk := f.read(CHUNK):
            yield chunk
    finally:
        f.close()


# -- routes --------------------------------------------------------------------------


@endpoint
async def _download(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import StreamingResponse

    rel = _checked(request.path_params["artifact_path"], allow_root=False)
    repo = await _repo(request)
    f, size = await run_in_threadpool(repo.open_read, rel)
    name = posixpath.basename(rel)
    headers = {
        "Content-Length": str(size),
        "Content-Disposition": _attachment(name),
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(_chunks(f), media_type=guess_mime_type(name), headers=headers)


@endpoint
async def _upload(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    rel = _checked(request.path_params["artifact_path"], allow_root=False)
    length = request.headers.get("content-length")
    size = int(length) if length and length.isdigit() else None
    repo = await _repo(request)
    writer = repo.open_write(rel, size=size)
    f = await run_in_threadpool(writer.__enter__)
    try:
        buffer = bytearray()
        async for piece in request.stream():
            buffer += piece
            if len(buffer) >= CHUNK:
                await run_in_threadpool(f.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await run_in_threadpool(f.write, bytes(buffer))
    except BaseException as exc:
        # A dropped connection or a failed write: the partial file is discarded.
        await run_in_threadpool(writer.__exit__, type(exc), exc, exc.__traceback__)
        raise
    await run_in_threadpool(writer.__exit__, None, None, None)
    return json_response({})


@endpoint
async def _delete(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    rel = _checked(request.path_params["artifact_path"], allow_root=True)
    if not rel:
        raise InvalidInput("Refusing to delete the whole artifacts destination: name a path")
    repo = await _repo(request)
    await run_in_threadpool(repo.delete_artifacts, rel)
    return json_response({})


@endpoint
async def _list(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    rel = _checked(request.query_params.get("path"), allow_root=True)
    repo = await _repo(request)
    infos = await run_in_threadpool(repo.list_artifacts, rel)
    files: list[dict[str, Any]] = []
    for info in infos:
        # MLflow answers names relative to the listed folder; its client joins them.
        entry: dict[str, Any] = {"path": posixpath.basename(info.path), "is_dir": info.is_dir}
        if not info.is_dir and info.file_size is not None:
            entry["file_size"] = info.file_size
        files.append(entry)
    return json_response({"files": files} if files else {})


@endpoint
async def _no_multipart(request: Request) -> Response:
    _checked(request.path_params["artifact_path"], allow_root=True)
    return error_response("NOT_IMPLEMENTED", MULTIPART_UPLOAD_UNSUPPORTED)


@endpoint
async def _no_presigned(request: Request) -> Response:
    return error_response("NOT_IMPLEMENTED", MULTIPART_DOWNLOAD_UNSUPPORTED)
