"""Where API keys go: OPENAI_API_KEY to OpenAI's host only, named keys never over plain HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from nbtrack.errors import InvalidInput, ProviderError
from nbtrack.evaluation import OpenAIEmbeddings
from nbtrack.prompts import OpenAICompatible
from nbtrack.prompts.openai_http import api_key


class _Recorder(BaseHTTPRequestHandler):
    """Records each request's Authorization header; answers ``answer`` as JSON."""

    auths: ClassVar[list[str | None]] = []
    answer: ClassVar[dict[str, Any]] = {}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).auths.append(self.headers.get("Authorization"))
        data = json.dumps(type(self).answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An OpenAI-style endpoint on 127.0.0.1, with OPENAI_API_KEY set in the environment."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-users-openai-key")
    _Recorder.auths = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
        server.server_close()


_CHAT = {"choices": [{"message": {"role": "assistant", "content": "hi"}}]}


def test_the_openai_key_is_not_sent_to_another_server(local: str) -> None:
    _Recorder.answer = _CHAT
    assert OpenAICompatible(local, "m").generate("hello", {}, 10).text == "hi"
    _Recorder.answer = {"data": [{"index": 0, "embedding": [1.0, 0.0]}]}
    assert OpenAIEmbeddings(local, "m")(["hello"]) == [[1.0, 0.0]]
    assert _Recorder.auths == [None, None]


def test_a_named_key_goes_to_a_server_on_this_machine(
    local: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_KEY", "local-secret")
    _Recorder.answer = _CHAT
    OpenAICompatible(local, "m", api_key_env="LOCAL_KEY").generate("hello", {}, 10)
    localhost = local.replace("127.0.0.1", "localhost")
    OpenAICompatible(localhost, "m", api_key_env="LOCAL_KEY").generate("hello", {}, 10)
    assert _Recorder.auths == ["Bearer local-secret", "Bearer local-secret"]


def test_a_named_key_is_never_sent_over_plain_http_to_another_machine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEAM_KEY", "team-secret")
    # Refused before any connection: 192.0.2.0/24 is TEST-NET, nothing answers there.
    provider = OpenAICompatible("http://192.0.2.1/v1", "m", api_key_env="TEAM_KEY")
    with pytest.raises(InvalidInput, match=r"Refusing to send the key in \$TEAM_KEY over plain"):
        provider.generate("hello", {}, 10)
    embeddings = OpenAIEmbeddings("http://192.0.2.1/v1", "m", api_key_env="TEAM_KEY")
    with pytest.raises(InvalidInput, match="over plain HTTP"):
        embeddings(["hello"])


def test_the_openai_key_goes_only_to_openai_over_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    monkeypatch.setenv("TEAM_KEY", "team-secret")
    assert api_key("https://api.openai.com/v1", None) == "sk-x"
    assert api_key("http://api.openai.com/v1", None) is None
    assert api_key("https://api.openai.com.evil.example/v1", None) is None
    assert api_key("https://llm.example.com/v1", None) is None
    assert api_key("https://llm.example.com/v1", "TEAM_KEY") == "team-secret"
    assert api_key("http://[::1]:8080/v1", "TEAM_KEY") == "team-secret"


def test_an_error_payload_is_a_provider_error_not_a_key_error(local: str) -> None:
    _Recorder.answer = {"error": {"message": "model not loaded"}}
    with pytest.raises(ProviderError, match="model not loaded"):
        OpenAIEmbeddings(local, "m")(["hello"])
    with pytest.raises(ProviderError, match="model not loaded"):
        OpenAICompatible(local, "m").generate("hello", {}, 10)
