"""``nbt.serve(model)``: the scoring server in a background thread of the kernel.

A notebook keeps running cells while the server answers, so uvicorn runs in a
daemon thread with its own event loop (it installs no signal handlers off the
main thread). The socket is bound here before the thread starts: with
``port=None`` the OS picks a free port, and the URL is known, and reachable,
as soon as :func:`serve` returns.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from nbtrack.errors import NbtrackError

if TYPE_CHECKING:
    from nbtrack.models.pyfunc import PyFuncModel
    from nbtrack.serving.app import ScoringApp

__all__ = ["ModelServer", "serve"]

# How long serve() waits for the server to accept connections, and stop() for it to end.
_START_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0


class ModelServer:
    """A scoring server running in the background; stop it with :meth:`stop` or ``with``.

    Attributes
    ----------
    url:
        ``http://host:port``; POST to ``url + "/invocations"``.
    host, port:
        Where it listens.
    model:
        The model it serves.
    """

    def __init__(
        self,
        server: Any,
        thread: threading.Thread,
        sock: socket.socket,
        model: PyFuncModel,
        temp_dir: str | None = None,
        app: ScoringApp | None = None,
    ) -> None:
        self._server = server
        self._app = app
        self._thread = thread
        self._socket = sock
        self._temp_dir = temp_dir
        self.model = model
        self.host, self.port = sock.getsockname()[:2]
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"http://{shown}:{self.port}"

    @property
    def running(self) -> bool:
        """True until the server has stopped."""
        return self._thread.is_alive()

    def stop(self) -> None:
        """Stop the server and wait for it to end (idempotent)."""
        self._server.should_exit = True
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(_STOP_TIMEOUT_S)
        self._socket.close()
        if self._app is not None:
            self._app.close()
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ModelServer {self.url} {state}>"


def _as_model(model_or_uri: Any, input_example: Any) -> tuple[PyFuncModel, str | None]:
    from nbtrack.models.pyfunc import PyFuncModel, load_model

    if isinstance(model_or_uri, PyFuncModel):
        return model_or_uri, None
    if isinstance(model_or_uri, (str, os.PathLike)):
        return load_model(model_or_uri), None
    from nbtrack.models.api import save_model

    # A model object straight from the notebook: saved as log_model would
    # save it, so that it is served exactly as it would be once logged.
    temp_dir = tempfile.mkdtemp(prefix="nbtrack-serve-")
    try:
        save_model(model_or_uri, os.path.join(temp_dir, "model"), input_example=input_example)
        return load_model(os.path.join(temp_dir, "model")), temp_dir
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise


def serve(
    model_or_uri: Any,
    port: int | None = None,
    host: str = "127.0.0.1",
    *,
    input_example: Any = None,
    max_body_bytes: int | None = None,
) -> ModelServer:
    """Serve a model in the background with MLflow's scoring protocol, as ``nbtrack serve`` does.

    Parameters
    ----------
    model_or_uri:
        A loaded model (``nbt.load_model(...)``), a model URI or folder, or a
        model object (an estimator, a ``PythonModel``, a callable), which is
        saved to a temporary folder first.
    port:
        The port; None picks a free one.
    host:
        The interface; 127.0.0.1 keeps the model on this machine.
    input_example:
        For a model object: rows to infer its signature from.
    max_body_bytes:
        Largest request body (default 100 MB).

    Returns
    -------
    ModelServer
        Its ``.url``; ``.stop()`` ends it (or use it in a ``with`` block).

    Raises
    ------
    NbtrackError
        The model cannot be loaded, or the server did not start.
    OSError
        The port is taken.
    """
    import uvicorn

    from nbtrack.serving.app import MAX_BODY_BYTES, create_app

    model, temp_dir = _as_model(model_or_uri, input_example)
    app = create_app(model, max_body_bytes or MAX_BODY_BYTES)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets whose
    # proto says TCP, and without it every keep-alive answer waits ~40 ms for a
    # delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port or 0))
        sock.listen(128)
    except OSError:
        sock.close()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    # log_config=None: a notebook's logging setup is the user's, not uvicorn's to replace.
    config = uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="nbtrack-serve", daemon=True
    )
    handle = ModelServer(server, thread, sock, model, temp_dir, app)
    thread.start()
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            handle.stop()
            raise NbtrackError(f"The scoring server on {handle.url} did not start")
        time.sleep(0.005)
    return handle
