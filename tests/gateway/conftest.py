"""Fixtures of the gateway tests: the processes of :mod:`gateway_processes`, one per module."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_processes import (
    ECHO_SOURCE,
    UPSTREAM_KEY,
    GatewayProcess,
    start_gateway,
    stop,
)
from plugin_dist import install_distribution
from prompts.local_llm import gguf_path


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site folder with the echo provider installed as a gateway plug-in."""
    site = tmp_path_factory.mktemp("site")
    install_distribution(
        site,
        "nbtrack_echo_provider",
        ECHO_SOURCE,
        "[nbtrack.gateway_providers]\necho = nbtrack_echo_provider:EchoProvider\n",
    )
    return site


@pytest.fixture(scope="module")
def upstream(
    tmp_path_factory: pytest.TempPathFactory, plugin_site: Path
) -> Iterator[GatewayProcess]:
    """A gateway serving the echo plug-in, which answers only requests bearing UPSTREAM_KEY."""
    config = """
endpoints:
- name: echo-chat
  endpoint_type: llm/v1/chat
  model: {provider: echo, name: echo}
- name: echo-completions
  endpoint_type: llm/v1/completions
  model: {provider: echo, name: echo}
- name: echo-embed
  endpoint_type: llm/v1/embeddings
  model: {provider: echo, name: echo}
"""
    server = start_gateway(
        tmp_path_factory.mktemp("upstream"),
        config,
        {"PYTHONPATH": str(plugin_site), "UPSTREAM_KEY": UPSTREAM_KEY},
        ["--require-key-env", "UPSTREAM_KEY"],
    )
    yield server
    stop(server)


def main_config(upstream_url: str, hang_url: str) -> str:
    """The config of the gateway under test."""
    return f"""
endpoints:
- name: local
  endpoint_type: llm/v1/chat
  model:
    provider: transformers
    name: SmolLM2-135M-Instruct
    config: {{model_path: "{gguf_path()}", max_tokens: 4}}
- name: local-completions
  endpoint_type: llm/v1/completions
  model:
    provider: transformers
    name: SmolLM2-135M-Instruct
    config: {{model_path: "{gguf_path()}", max_tokens: 4}}
- name: embed
  endpoint_type: llm/v1/embeddings
  model: {{provider: sentence-transformers, name: all-MiniLM-L6-v2}}
- name: chat
  endpoint_type: llm/v1/chat
  model:
    provider: openai
    name: echo-chat
    config: {{openai_api_key: $UPSTREAM_KEY, openai_api_base: "{upstream_url}/v1"}}
- name: completions
  endpoint_type: llm/v1/completions
  model:
    provider: openai
    name: echo-completions
    config: {{openai_api_key: $UPSTREAM_KEY, openai_api_base: "{upstream_url}/v1"}}
- name: remote-embed
  endpoint_type: llm/v1/embeddings
  model:
    provider: openai
    name: echo-embed
    config: {{openai_api_key: $UPSTREAM_KEY, openai_api_base: "{upstream_url}/v1"}}
- name: wrong-key
  endpoint_type: llm/v1/chat
  model:
    provider: openai
    name: echo-chat
    config: {{openai_api_key: not-the-key, openai_api_base: "{upstream_url}/v1"}}
- name: limited
  endpoint_type: llm/v1/chat
  model:
    provider: openai
    name: echo-chat
    config: {{openai_api_key: $UPSTREAM_KEY, openai_api_base: "{upstream_url}/v1"}}
  limit: {{renewal_period: hour, calls: 2}}
- name: slow
  endpoint_type: llm/v1/chat
  model:
    provider: openai
    name: anything
    config: {{openai_api_base: "{hang_url}/v1", request_timeout: 1}}
"""


@pytest.fixture(scope="module")
def hanging_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (a provider that hangs)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, upstream: GatewayProcess, hanging_server: str
) -> Iterator[GatewayProcess]:
    """The gateway under test (one per module: loading SmolLM2 takes a while on 2 cores)."""
    server = start_gateway(
        tmp_path_factory.mktemp("gateway"),
        main_config(upstream.url, hanging_server),
        {"UPSTREAM_KEY": UPSTREAM_KEY},
    )
    yield server
    stop(server)
