"""Gateway providers: what answers an endpoint's requests.

A provider is built from an :class:`~nbtrack.gateway.config.EndpointConfig`
(``Provider(endpoint)``) and answers request bodies already checked by
:mod:`nbtrack.gateway.schemas` with OpenAI's response bodies. Built-ins:
``openai`` (any OpenAI-compatible server), ``transformers`` (a local
text-generation pipeline), ``sentence-transformers`` (local embeddings).
Installed packages add more through the ``nbtrack.gateway_providers``
entry-point group: the entry point's name is the provider name in the config,
its object a :class:`Provider` subclass.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from nbtrack.errors import InvalidInput, ProviderError, ProviderTimeout

__all__ = [
    "ENTRY_POINT_GROUP",
    "Provider",
    "ProviderTimeout",
    "UpstreamError",
    "provider_class",
]

#: Installed packages register gateway providers under this group.
ENTRY_POINT_GROUP = "nbtrack.gateway_providers"

_BUILTIN = {
    "openai": "nbtrack.gateway.providers.openai:OpenAIProvider",
    "transformers": "nbtrack.gateway.providers.transformers:TransformersProvider",
    "sentence-transformers": "nbtrack.gateway.providers.sentence_transformers:"
    "SentenceTransformersProvider",
}


#: A provider that failed to answer (the gateway answers 502).
UpstreamError = ProviderError


class Provider:
    """The base of every gateway provider; a method it does not override is refused (400).

    Parameters
    ----------
    endpoint:
        The endpoint it serves (name, type, model name, resolved config).
    """

    #: Whether :meth:`chat_stream` / :meth:`completions_stream` stream token by token.
    streams = False

    def __init__(self, endpoint: Any) -> None:
        self.endpoint = endpoint

    def _unsupported(self, what: str) -> InvalidInput:
        return InvalidInput(
            f"Endpoint {self.endpoint.name!r} ({self.endpoint.provider}) does not serve {what}"
        )

    async def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer an ``llm/v1/chat`` body with OpenAI's chat completion body."""
        raise self._unsupported("chat")

    async def completions(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer an ``llm/v1/completions`` body."""
        raise self._unsupported("completions")

    async def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        """Answer an ``llm/v1/embeddings`` body."""
        raise self._unsupported("embeddings")

    async def chat_stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Chunks of a streamed chat answer; by default the whole answer as one chunk."""
        answer = await self.chat(body)
        choice = answer["choices"][0]
        yield chunk(
            answer["model"],
            "chat.completion.chunk",
            {"delta": {"role": "assistant", "content": choice["message"]["content"]}},
            choice.get("finish_reason"),
        )

    async def completions_stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Chunks of a streamed completion; by default the whole answer as one chunk."""
        answer = await self.completions(body)
        choice = answer["choices"][0]
        yield chunk(
            answer["model"],
            "text_completion.chunk",
            {"text": choice["text"]},
            choice.get("finish_reason"),
        )

    def close(self) -> None:
        """Release what the provider holds (connections); called when a reload drops it."""


def chunk(
    model: str, kind: str, fields: dict[str, Any], finish_reason: str | None
) -> dict[str, Any]:
    """One streamed chunk in OpenAI's shape."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, **fields, "finish_reason": finish_reason}],
    }


def chat_response(
    model: str, text: str, finish: str, prompt_tokens: int | None, completion_tokens: int | None
) -> dict[str, Any]:
    """OpenAI's (and MLflow's) chat completion body."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        ],
        "usage": usage(prompt_tokens, completion_tokens),
    }


def completions_response(
    model: str, text: str, finish: str, prompt_tokens: int | None, completion_tokens: int | None
) -> dict[str, Any]:
    """OpenAI's (and MLflow's) text completion body."""
    return {
        "id": f"cmpl-{uuid.uuid4().hex[:24]}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "finish_reason": finish}],
        "usage": usage(prompt_tokens, completion_tokens),
    }


def usage(prompt_tokens: int | None, completion_tokens: int | None) -> dict[str, int | None]:
    """A ``usage`` object; the total only when both counts are known."""
    total = (
        prompt_tokens + completion_tokens
        if prompt_tokens is not None and completion_tokens is not None
        else None
    )
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": total,
    }


def _plugins() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def provider_class(name: str) -> type[Provider]:
    """The provider class for a config's ``model.provider``.

    Raises
    ------
    InvalidInput
        No built-in or installed provider has this name, or it failed to import.
    """
    import importlib

    target = _BUILTIN.get(name) or _plugins().get(name)
    if target is None:
        known = sorted({*_BUILTIN, *_plugins()})
        raise InvalidInput(f"Unknown provider {name!r}; known: {', '.join(known)}")
    module_name, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise InvalidInput(f"Provider {name!r} ({target}) failed to load: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise InvalidInput(f"Provider {name!r} ({target}) is not a gateway Provider class")
    return cls
