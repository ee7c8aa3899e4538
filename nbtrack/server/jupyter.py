"""The Jupyter server extension: nbtrack's REST API under ``/nbtrack/api/``, behind Jupyter's auth.

Loaded by Jupyter Server (``jpserver_extensions: {"nbtrack": true}``, which
``pip install`` writes), never by ``import nbtrack`` in a kernel. The store is
``c.NbtrackServer.tracking_uri``, else ``NBTRACK_TRACKING_URI``, else the
nearest ``.nbtrack/`` of the folder Jupyter serves. Every handler is
``@tornado.web.authenticated`` and XSRF-checked for writes by Jupyter's
``APIHandler``; errors are mapped in one place (:meth:`NbtrackHandler.write_error`)
and logged in one place (:meth:`NbtrackHandler.log_exception`): a caller's
mistake (4xx) is one warning line, a server fault (5xx) keeps its traceback.

"Serve model" starts scoring servers as child processes
(:class:`~nbtrack.server.serving.ModelServers`), stopped when this server exits.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import tornado.log
import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import url_path_join
from traitlets import Unicode
from traitlets.config import Configurable

from nbtrack.server import api

if TYPE_CHECKING:
    from nbtrack.server.serving import ModelServers

__all__ = ["NbtrackServer", "load_jupyter_server_extension"]


class NbtrackServer(Configurable):
    """Settings of the nbtrack server extension (``c.NbtrackServer.…`` in jupyter config)."""

    tracking_uri = Unicode(
        "",
        config=True,
        help="The store to show; NBTRACK_TRACKING_URI or the served folder's .nbtrack/ if empty.",
    )


class NbtrackHandler(APIHandler):
    """Base handler: the shared client, JSON replies, and the one place errors are mapped."""

    # What a Jupyter Authorizer (JupyterHub scopes, read-only collaborators) is asked about.
    auth_resource = "nbtrack"

    @property
    def client(self) -> Any:
        """The ``nbt.Client`` of the configured store (opened once it exists).

        Raises
        ------
        StoreNotFound
            The store is a folder or SQLite file that does not exist yet:
            opening it would create it, and a read must not write.
        """
        found = self.settings.get("nbtrack_client")
        if found is None:
            from nbtrack.tracking.client import Client

            uri = self.settings["nbtrack_tracking_uri"]
            _refuse_missing_store(uri)
            found = Client(uri)
            self.settings["nbtrack_client"] = found
        return found

    @property
    def servers(self) -> ModelServers:
        """The :class:`~nbtrack.server.serving.ModelServers` of this Jupyter server."""
        return self.settings["nbtrack_servers"]

    def json_body(self) -> dict[str, Any]:
        """The request body as a JSON object; 400 otherwise."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise tornado.web.HTTPError(400, "The body must be JSON") from None
        if not isinstance(body, dict):
            raise tornado.web.HTTPError(400, "The body must be a JSON object")
        return body

    def query(self) -> dict[str, str]:
        """The query string's last value per key."""
        return {k: self.get_query_argument(k) for k in self.request.query_arguments}

    async def reply(self, work: Callable[[], Any]) -> None:
        """Run ``work`` off the event loop (store reads block) and write its JSON."""
        body = await asyncio.get_running_loop().run_in_executor(None, work)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """A caller's mistake (4xx) is one warning line; a fault of the server keeps its traceback.

        A bad filter or an unknown run is expected traffic: a traceback for
        each would bury the real faults in the log.
        """
        if isinstance(value, tornado.web.HTTPError):
            status = value.status_code
            message = value.log_message or ""
        elif value is not None:
            status, body = api.error_body(value)
            message = body["message"]
        else:
            status, message = 500, ""
        if status >= 500:
            super().log_exception(typ, value, tb)
            return
        one_line = " ".join(message.split())
        tornado.log.app_log.warning(
            "%d %s %s: %s", status, self.request.method, self.request.path, one_line
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors as ``{"error_code", "message"}``: nbtrack's own with their 4xx status."""
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if error is not None and not isinstance(error, tornado.web.HTTPError):
            status_code, body = api.error_body(error)
        else:
            message = getattr(error, "log_message", None) or self._reason
            body = {
                "error_code": "BAD_REQUEST" if status_code < 500 else "INTERNAL_ERROR",
                "message": message,
            }
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class ExperimentsHandler(NbtrackHandler):
    """``GET /nbtrack/api/experiments``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """List experiments."""
        await self.reply(lambda: api.experiments(self.client, self.query()))


class RunsHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """Search runs: filter, order, page."""
        order_by = self.get_query_arguments("order_by")
        await self.reply(lambda: api.search_runs(self.client, self.query(), order_by))


class RunHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs/{run_id}``."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        """One run."""
        await self.reply(lambda: api.run_detail(self.client, run_id))


class MetricHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs/{run_id}/metrics/{key}``."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str, key: str) -> None:
        """A metric's history, downsampled."""
        await self.reply(lambda: api.metric_history(self.client, run_id, key, self.query()))


class ArtifactsHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs/{run_id}/artifacts``."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        """List one folder of a run's artifacts."""
        await self.reply(lambda: api.run_artifacts(self.client, run_id, self.query()))


class ArtifactHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs/{run_id}/artifact?path=``."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        """Download one artifact file (``?path=``); the client refuses paths leaving the run.

        The bytes are streamed in chunks (a large artifact is never held in
        memory whole); :func:`artifact_headers` decides how a browser may show them.
        """
        path = self.get_query_argument("path", "")
        if not path:
            raise tornado.web.HTTPError(400, "Query parameter 'path' is required")
        loop = asyncio.get_running_loop()
        tmp = tempfile.mkdtemp(prefix="nbtrack-artifact-")
        try:

            def fetch() -> Path:
                local = Path(self.client.download_artifacts(run_id, path, tmp))
                if local.is_dir():
                    from nbtrack.errors import InvalidInput

                    raise InvalidInput(f"Artifact {path!r} is a folder; list it with /artifacts")
                return local

            local = await loop.run_in_executor(None, fetch)
            for name, value in artifact_headers(path).items():
                self.set_header(name, value)
            self.set_header("Content-Length", str(local.stat().st_size))
            with local.open("rb") as fh:
                while chunk := await loop.run_in_executor(None, fh.read, _CHUNK):
                    self.write(chunk)
                    # Waits until the socket took the chunk: a slow reader holds back the disk.
                    await self.flush()
            # APIHandler.finish would relabel the bytes application/json.
            JupyterHandler.finish(self)
        finally:
            await loop.run_in_executor(None, shutil.rmtree, tmp, True)


_CHUNK = 1 << 20
# Types a browser runs scripts in when it opens them on Jupyter's origin.
_ACTIVE_TYPES = frozenset(
    {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml"}
)


def artifact_headers(path: str) -> dict[str, str]:
    """The headers an artifact's bytes are served with, from its file name.

    Pages and SVG (which can hold scripts) are attachments, never opened on
    Jupyter's origin; every artifact is also sandboxed (``Content-Security-Policy:
    sandbox``) and not type-sniffed, so a mislabelled file cannot become a
    page either. The name is sent as RFC 5987 ``filename*`` (UTF-8) with an
    ASCII ``filename`` for old clients: a header outside Latin-1 is refused.
    """
    from urllib.parse import quote

    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    name = "".join(c for c in os.path.basename(path) if c.isprintable()) or "artifact"
    fallback = "".join(c if c.isascii() and c not in '"\\' else "_" for c in name)
    disposition = "attachment" if kind in _ACTIVE_TYPES else "inline"
    return {
        "Content-Type": kind,
        "Content-Disposition": (
            f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
        ),
        "Content-Security-Policy": "sandbox",
        "X-Content-Type-Options": "nosniff",
    }


class LineageHandler(NbtrackHandler):
    """``GET /nbtrack/api/runs/{run_id}/lineage``."""

    @tornado.web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        """The code that ran for a run."""
        await self.reply(lambda: api.run_lineage(self.client, run_id))


class ModelsHandler(NbtrackHandler):
    """``GET /nbtrack/api/models``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """Registered models."""
        await self.reply(lambda: api.models(self.client, self.query()))


class ModelHandler(NbtrackHandler):
    """``GET /nbtrack/api/models/{name}``."""

    @tornado.web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        """One registered model with its versions."""
        await self.reply(lambda: api.model_detail(self.client, name))


class CompareHandler(NbtrackHandler):
    """``GET /nbtrack/api/compare``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """Several runs side by side."""
        await self.reply(lambda: api.compare_runs(self.client, self.query()))


class NotebookFilterHandler(NbtrackHandler):
    """``GET /nbtrack/api/notebook-filter?path=``."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """The filter of one notebook's runs (its whole path, exactly)."""
        root = self.settings["server_root_dir"]
        await self.reply(lambda: api.notebook_filter(root, self.query()))


class ExportHandler(NbtrackHandler):
    """``POST /nbtrack/api/export``: a notebook of the served folder as an MLproject."""

    @tornado.web.authenticated
    @authorized("write")
    async def post(self) -> None:
        """Export; the body names the notebook and the output folder."""
        body = self.json_body()
        root = self.settings["server_root_dir"]
        await self.reply(lambda: api.export_notebook(root, body))


class ServingHandler(NbtrackHandler):
    """``GET`` and ``POST /nbtrack/api/serving``: served model versions; serve another."""

    @tornado.web.authenticated
    @authorized
    async def get(self) -> None:
        """The model versions being served."""
        await self.reply(lambda: api.served_models(self.servers))

    @tornado.web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        """Serve the registered model version the body names."""
        body = self.json_body()
        await self.reply(lambda: api.serve_model(self.servers, self.client, body))


class ServedHandler(NbtrackHandler):
    """``DELETE /nbtrack/api/serving/{server_id}``."""

    @tornado.web.authenticated
    @authorized("execute")
    async def delete(self, server_id: str) -> None:
        """Stop one scoring server."""
        await self.reply(lambda: api.stop_served_model(self.servers, server_id))


_RUN = r"(?P<run_id>[0-9a-fA-F]{32})"
ROUTES: list[tuple[str, type[NbtrackHandler]]] = [
    ("experiments", ExperimentsHandler),
    ("runs", RunsHandler),
    (f"runs/{_RUN}", RunHandler),
    (f"runs/{_RUN}/metrics/(?P<key>.+)", MetricHandler),
    (f"runs/{_RUN}/artifacts", ArtifactsHandler),
    (f"runs/{_RUN}/artifact", ArtifactHandler),
    (f"runs/{_RUN}/lineage", LineageHandler),
    ("models", ModelsHandler),
    ("models/(?P<name>[^/]+)", ModelHandler),
    ("compare", CompareHandler),
    ("notebook-filter", NotebookFilterHandler),
    ("export", ExportHandler),
    ("serving", ServingHandler),
    ("serving/(?P<server_id>[0-9a-f]+)", ServedHandler),
]


def _refuse_missing_store(uri: str) -> None:
    """Raise StoreNotFound when ``uri`` is a SQLite store whose database does not exist yet."""
    from nbtrack.errors import StoreNotFound
    from nbtrack.uris import resolve_store_location

    location = resolve_store_location(uri)
    if location.db_url.startswith("sqlite:///"):
        db_file = Path(location.db_url.split(":///", 1)[1])
        if not db_file.is_file():
            raise StoreNotFound(uri)


def _tracking_uri(serverapp: Any) -> str:
    settings = NbtrackServer(config=serverapp.config)
    if settings.tracking_uri:
        return str(settings.tracking_uri)
    if os.environ.get("NBTRACK_TRACKING_URI"):
        return os.environ["NBTRACK_TRACKING_URI"]
    from nbtrack.uris import default_store_folder

    return str(default_store_folder(serverapp.root_dir))


def load_jupyter_server_extension(serverapp: Any) -> None:
    """Register the API routes on a Jupyter server."""
    web_app = serverapp.web_app
    base = url_path_join(web_app.settings["base_url"], "nbtrack", "api")
    web_app.settings["nbtrack_tracking_uri"] = _tracking_uri(serverapp)
    from nbtrack.server.serving import ModelServers

    servers = ModelServers(web_app.settings["nbtrack_tracking_uri"])
    web_app.settings["nbtrack_servers"] = servers
    # A function-based extension gets no stop hook; the children also stop on
    # their own when this process ends (their stdin closes), this only waits for them.
    atexit.register(servers.stop_all)
    web_app.add_handlers(
        ".*$", [(url_path_join(base, path) + "/?$", handler) for path, handler in ROUTES]
    )
    store = web_app.settings["nbtrack_tracking_uri"]
    serverapp.log.info("nbtrack: API at %s for store %s", base, store)


# Jupyter Server looks the loader up under this name.
_load_jupyter_server_extension = load_jupyter_server_extension
