"""``nbtrack gateway`` as a user meets it: real processes on 127.0.0.1, real clients."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from gateway_processes import UPSTREAM_KEY, GatewayProcess, start_gateway, stop

import nbtrack as nbt

pytestmark = pytest.mark.slow

HELLO = {"messages": [{"role": "user", "content": "Say hello"}]}


def test_list_and_get_endpoints_show_no_secret(gateway: GatewayProcess) -> None:
    status, page = gateway.get("/api/2.0/endpoints/")
    assert status == 200
    names = [e["name"] for e in page["endpoints"]]
    assert names[:4] == ["local", "local-completions", "embed", "chat"]
    status, chat = gateway.get("/api/2.0/endpoints/chat")
    assert status == 200
    assert chat["endpoint_type"] == "llm/v1/chat"
    assert chat["model"]["provider"] == "openai"
    assert chat["model"]["config"]["openai_api_base"].endswith("/v1")
    assert "openai_api_key" not in chat["model"]["config"]
    assert UPSTREAM_KEY not in json.dumps(page) + json.dumps(chat)
    assert gateway.get("/health") == (200, {"status": "OK"})


def test_local_transformers_chat_and_completions(gateway: GatewayProcess) -> None:
    status, answer = gateway.post("/endpoints/local/invocations", {**HELLO, "max_tokens": 3})
    assert status == 200, answer
    assert answer["object"] == "chat.completion"
    assert answer["choices"][0]["message"]["role"] == "assistant"
    assert answer["choices"][0]["message"]["content"].strip()
    assert answer["usage"]["completion_tokens"] == 3
    assert answer["choices"][0]["finish_reason"] == "length"
    again = gateway.post("/endpoints/local/invocations", {**HELLO, "max_tokens": 3})[1]
    assert again["choices"] == answer["choices"]  # greedy: the same answer
    status, text = gateway.post(
        "/endpoints/local-completions/invocations", {"prompt": "The sky is", "max_tokens": 2}
    )
    assert status == 200, text
    assert text["object"] == "text_completion"
    assert text["choices"][0]["text"]
    assert text["usage"]["completion_tokens"] <= 2


def test_sentence_transformers_embeddings(gateway: GatewayProcess) -> None:
    status, answer = gateway.post(
        "/endpoints/embed/invocations", {"input": ["a cat", "a kitten", "tax law"]}
    )
    assert status == 200, answer
    vectors = [d["embedding"] for d in answer["data"]]
    assert [len(v) for v in vectors] == [384, 384, 384]

    def cos(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True)) / (
            sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5
        )

    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2])


def test_openai_provider_forwards_the_key_to_the_upstream(gateway: GatewayProcess) -> None:
    status, answer = gateway.post("/endpoints/chat/invocations", HELLO)
    assert status == 200, answer
    assert answer["choices"][0]["message"]["content"] == "echo: Say hello"
    status, text = gateway.post("/endpoints/completions/invocations", {"prompt": "abc"})
    assert (status, text["choices"][0]["text"]) == (200, "echo: abc")
    status, vectors = gateway.post("/endpoints/remote-embed/invocations", {"input": "four"})
    assert (status, vectors["data"][0]["embedding"]) == (200, [4.0, 1.0])
    # The upstream refuses any other key: the provider's error is a 502 naming the endpoint.
    status, error = gateway.post("/endpoints/wrong-key/invocations", HELLO)
    assert status == 502
    assert error["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert "wrong-key" in error["message"] and "401" in error["message"]


def test_openai_client_against_the_v1_routes(gateway: GatewayProcess) -> None:
    import openai

    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key="unused")
    chat = client.chat.completions.create(model="chat", messages=HELLO["messages"])
    assert chat.choices[0].message.content == "echo: Say hello"
    local = client.chat.completions.create(model="local", messages=HELLO["messages"], max_tokens=2)
    assert local.usage is not None and local.usage.completion_tokens == 2
    text = client.completions.create(model="completions", prompt="xyz")
    assert text.choices[0].text == "echo: xyz"
    embedded = client.embeddings.create(model="embed", input=["hello"])
    assert len(embedded.data[0].embedding) == 384
    streamed = client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "one two"}], stream=True
    )
    pieces = [c.choices[0].delta.content for c in streamed if c.choices]
    assert len(pieces) == 3  # word by word, as the upstream streamed them
    assert "".join(p or "" for p in pieces).strip() == "echo: one two"
    with pytest.raises(openai.BadRequestError, match="not llm/v1/chat"):
        client.chat.completions.create(model="embed", messages=HELLO["messages"])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such", messages=HELLO["messages"])


def test_bad_bodies_unknown_endpoint_and_timeout(gateway: GatewayProcess) -> None:
    status, error = gateway.post("/endpoints/local/invocations", {"messages": []})
    assert status == 400
    assert error["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "'messages'" in error["message"]
    status, error = gateway.post("/endpoints/chat/invocations", {**HELLO, "temperature": "hot"})
    assert status == 400 and "'temperature'" in error["message"]
    status, error = gateway.post("/endpoints/embed/invocations", {"text": "x"})
    assert status == 400 and "'input'" in error["message"]
    status, error = gateway.post("/endpoints/chat/invocations", b"{not json")
    assert status == 400 and "JSON" in error["message"]
    status, error = gateway.post("/endpoints/ghost/invocations", HELLO)
    assert (status, error["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert "ghost" in error["message"]
    status, error = gateway.get("/api/2.0/endpoints/ghost")
    assert status == 404
    status, error = gateway.post("/endpoints/slow/invocations", HELLO)
    assert (status, error["error_code"]) == (504, "DEADLINE_EXCEEDED")
    assert "'slow'" in error["message"]


def test_rate_limit_answers_429(gateway: GatewayProcess) -> None:
    assert gateway.post("/endpoints/limited/invocations", HELLO)[0] == 200
    assert gateway.post("/endpoints/limited/invocations", HELLO)[0] == 200
    status, error = gateway.post("/endpoints/limited/invocations", HELLO)
    assert status == 429
    assert error["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert "limited" in error["message"]
    assert gateway.post("/endpoints/chat/invocations", HELLO)[0] == 200  # other endpoints serve


def test_deployments_client_and_gateway_prompt_provider(
    gateway: GatewayProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = nbt.deployments.get_deploy_client(gateway.url)
    endpoints = client.list_endpoints()
    assert endpoints[3]["endpoint_url"] == gateway.url + "/gateway/chat/invocations"
    assert client.get_endpoint("embed")["endpoint_type"] == "llm/v1/embeddings"
    answer = client.predict(endpoint="chat", inputs=HELLO)
    assert answer["choices"][0]["message"]["content"] == "echo: Say hello"
    with pytest.raises(nbt.NotFoundError):
        client.get_endpoint("ghost")

    monkeypatch.setenv("MLFLOW_DEPLOYMENTS_TARGET", gateway.url)
    from nbtrack.prompts.providers import as_provider

    provider = as_provider("gateway:chat")
    assert provider.generate("ping", {}, 60).text == "echo: ping"
    assert as_provider("gateway:completions").generate("pong", {}, 60).text == "echo: pong"


def test_secret_never_in_the_log(gateway: GatewayProcess) -> None:
    gateway.post("/endpoints/chat/invocations", HELLO)
    gateway.post("/endpoints/wrong-key/invocations", HELLO)
    log = gateway.log_text()
    assert "POST /endpoints/chat/invocations" in log
    assert UPSTREAM_KEY not in log
    assert "not-the-key" not in log


def test_reload_on_sighup_keeps_the_last_good_config(
    tmp_path: os.PathLike[str], upstream: GatewayProcess
) -> None:
    from pathlib import Path

    def config(name: str, key: str = "$UPSTREAM_KEY") -> str:
        return f"""
endpoints:
- name: {name}
  endpoint_type: llm/v1/chat
  model:
    provider: openai
    name: echo-chat
    config: {{openai_api_key: {key}, openai_api_base: "{upstream.url}/v1"}}
"""

    # --no-watch: only SIGHUP reloads, so what follows is the signal's doing.
    server = start_gateway(
        Path(tmp_path), config("first"), {"UPSTREAM_KEY": UPSTREAM_KEY}, ["--no-watch"]
    )
    try:
        assert server.post("/endpoints/first/invocations", HELLO)[0] == 200
        server.config.write_text(config("second", "$NOT_SET_ANYWHERE"))
        time.sleep(1.5)  # not a bound: gives a file watcher, were there one, the time to act
        assert server.get("/api/2.0/endpoints/second")[0] == 404
        assert "not loaded" not in server.log_text()
        server.hup()
        _wait_for(lambda: "not loaded" in server.log_text())
        assert (
            "'second'" in server.log_text() and "model.config.openai_api_key" in server.log_text()
        )
        assert server.post("/endpoints/first/invocations", HELLO)[0] == 200  # the last good one
        server.config.write_text(config("second"))
        server.hup()
        _wait_for(lambda: server.get("/api/2.0/endpoints/second")[0] == 200)
        assert server.post("/endpoints/second/invocations", HELLO)[0] == 200
        assert server.post("/endpoints/first/invocations", HELLO)[0] == 404
        assert UPSTREAM_KEY not in server.log_text()
    finally:
        stop(server)


def test_reload_on_file_change(tmp_path: os.PathLike[str], upstream: GatewayProcess) -> None:
    from pathlib import Path

    body = """
endpoints:
- name: {name}
  endpoint_type: llm/v1/completions
  model: {{provider: openai, name: echo-completions,
          config: {{openai_api_key: $UPSTREAM_KEY, openai_api_base: "{url}/v1"}}}}
"""
    server = start_gateway(
        Path(tmp_path), body.format(name="a", url=upstream.url), {"UPSTREAM_KEY": UPSTREAM_KEY}
    )
    try:
        server.config.write_text("endpoints: [{name: b, endpoint_type: llm/v1/nope}]")
        _wait_for(lambda: "not loaded" in server.log_text())
        assert "'b'" in server.log_text() and "endpoint_type" in server.log_text()
        assert server.post("/endpoints/a/invocations", {"prompt": "x"})[0] == 200
        server.config.write_text(body.format(name="b", url=upstream.url))
        _wait_for(lambda: server.get("/api/2.0/endpoints/b")[0] == 200)
        assert (
            server.post("/endpoints/b/invocations", {"prompt": "x"})[1]["choices"][0]["text"]
            == "echo: x"
        )
    finally:
        stop(server)


def _wait_for(check: object) -> None:
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - started > 120:  # bounds a hang only
            raise AssertionError("the gateway never got there")
        time.sleep(0.2)


def test_mlflow_deployments_client_in_its_venv(gateway: GatewayProcess) -> None:
    from bench.runner import default_cache_dir, ensure_mlflow

    python = ensure_mlflow(default_cache_dir())
    script = f"""
import json
from mlflow.deployments import get_deploy_client
client = get_deploy_client({gateway.url!r})
endpoints = client.list_endpoints()
one = client.get_endpoint("chat")
answer = client.predict(endpoint="chat", inputs={HELLO!r})
vectors = client.predict(endpoint="embed", inputs={{"input": ["hi"]}})
print(json.dumps({{"names": [e.name for e in endpoints], "url": one.endpoint_url,
  "type": one.endpoint_type, "text": answer["choices"][0]["message"]["content"],
  "dim": len(vectors["data"][0]["embedding"])}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBTRACK_", "MLFLOW_"))}
    env.pop("PYTHONPATH", None)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    proc = subprocess.run(
        [python, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["names"][:4] == ["local", "local-completions", "embed", "chat"]
    assert seen["url"] == gateway.url + "/gateway/chat/invocations"
    assert seen["type"] == "llm/v1/chat"
    assert seen["text"] == "echo: Say hello"
    assert seen["dim"] == 384
