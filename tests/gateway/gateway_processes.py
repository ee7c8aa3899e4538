"""Real ``nbtrack gateway`` processes on 127.0.0.1 for the gateway tests (helpers).

``upstream``: a gateway whose endpoints come from an ``echo`` provider
installed as a plug-in (a real distribution with a ``nbtrack.gateway_providers``
entry point), that demands a key. ``gateway``: the gateway under test, serving
SmolLM2 through transformers, all-MiniLM-L6-v2 embeddings, and ``openai``
endpoints whose provider is the upstream (so keys and base URLs really travel
over HTTP).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

UPSTREAM_KEY = "sk-upstream-4f9c2d7e1b"
ECHO_SOURCE = '''
from nbtrack.gateway.providers import Provider, chat_response, chunk, completions_response


class EchoProvider(Provider):
    """Answers with the request's last text, word by word when streaming."""

    streams = True

    def _text(self, body):
        if "messages" in body:
            return "echo: " + body["messages"][-1]["content"]
        return "echo: " + body["prompt"]

    async def chat(self, body):
        return chat_response(body.get("model") or "echo", self._text(body), "stop", 3, 2)

    async def completions(self, body):
        return completions_response(body.get("model") or "echo", self._text(body), "stop", 3, 2)

    async def chat_stream(self, body):
        for word in self._text(body).split(" "):
            yield chunk("echo", "chat.completion.chunk", {"delta": {"content": word + " "}}, None)

    async def embeddings(self, body):
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        data = [{"object": "embedding", "embedding": [float(len(t)), 1.0], "index": i}
                for i, t in enumerate(texts)]
        return {"object": "list", "data": data, "model": "echo",
                "usage": {"prompt_tokens": 1, "total_tokens": 1}}
'''


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class GatewayProcess:
    """A running ``nbtrack gateway``: its URL, config file and log."""

    url: str
    config: Path
    log: Path
    process: subprocess.Popen[bytes]

    def get(self, path: str) -> tuple[int, dict]:
        """GET ``path``; the status and JSON body."""
        return self.request("GET", path, None)

    def post(self, path: str, body: object, headers: dict | None = None) -> tuple[int, dict]:
        """POST JSON; the status and JSON body."""
        return self.request("POST", path, body, headers)

    def request(
        self, method: str, path: str, body: object, headers: dict | None = None
    ) -> tuple[int, dict]:
        """One request; the status and the JSON body."""
        data = (
            None
            if body is None
            else (body if isinstance(body, bytes) else json.dumps(body).encode())
        )
        req = urllib.request.Request(
            self.url + path,
            data,
            {"Content-Type": "application/json", **(headers or {})},
            method=method,
        )
        try:
            with urllib.request.urlopen(req, timeout=300) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def log_text(self) -> str:
        """Everything the server logged so far."""
        return self.log.read_text(errors="replace")

    def hup(self) -> None:
        """Ask the server to re-read its config."""
        self.process.send_signal(signal.SIGHUP)


def start_gateway(
    folder: Path, config: str, env: dict[str, str] | None = None, extra: list[str] | None = None
) -> GatewayProcess:
    """Write ``config``, start a gateway on it, and wait until it answers /health."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "endpoints.yaml"
    path.write_text(config)
    log = folder / "gateway.log"
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nbtrack",
            "gateway",
            "--config",
            str(path),
            "--port",
            str(port),
            *(extra or []),
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    gateway = GatewayProcess(f"http://127.0.0.1:{port}", path, log, process)
    started = time.monotonic()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"nbtrack gateway exited: {gateway.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(gateway.url + "/health", timeout=2):
                return gateway
        except OSError:
            pass
        if time.monotonic() - started > 600:  # bounds a hang only
            process.kill()
            raise RuntimeError(f"nbtrack gateway did not start: {gateway.log_text()[-3000:]}")
        time.sleep(0.2)


def stop(gateway: GatewayProcess) -> None:
    """End the process and wait for it."""
    gateway.process.terminate()
    try:
        gateway.process.wait(30)
    except subprocess.TimeoutExpired:
        gateway.process.kill()
        gateway.process.wait()
