"""The ``transformers`` provider: the gateway serves a local text-generation model itself.

Config keys: ``model_path`` (a ``.gguf`` file, a model folder or a Hub id
already in the local cache), ``max_tokens`` (default for requests that give
none, 64), ``request_timeout`` (seconds, default 60), ``cache`` (default
true: greedy answers, which are deterministic, are kept in a bounded LRU so a
repeated request costs no generation). Generation goes through
:class:`nbtrack.prompts.transformers_pipeline.TransformersPipeline`, so
OpenAI's parameter names mean what they mean for prompt comparison. One model
load per ``model_path`` per process, shared by a chat and a completions
endpoint over the same file.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict
from typing import Any

from nbtrack.gateway.config import GatewayConfigError
from nbtrack.gateway.providers import (
    Provider,
    ProviderTimeout,
    UpstreamError,
    chat_response,
    completions_response,
)

__all__ = ["TransformersProvider"]

_CACHE_SIZE = 256
_PARAMS = ("temperature", "max_tokens", "stop", "top_p", "top_k", "seed")
_loaded: dict[str, Any] = {}
_load_lock = threading.Lock()


def _pipeline(model_path: str) -> Any:
    """The transformers pipeline for ``model_path``, loaded once per process."""
    from nbtrack.prompts.transformers_pipeline import TransformersPipeline

    with _load_lock:
        if model_path not in _loaded:
            _loaded[model_path] = TransformersPipeline.from_pretrained(model_path).pipeline
        return _loaded[model_path]


class TransformersProvider(Provider):
    """Chat and completions from a local ``transformers`` pipeline."""

    def __init__(self, endpoint: Any) -> None:
        from nbtrack.prompts.transformers_pipeline import TransformersPipeline

        super().__init__(endpoint)
        config = endpoint.config
        where = f"endpoint {endpoint.name!r}: 'model.config"
        path = config.get("model_path")
        if not path:
            raise GatewayConfigError(f"{where}.model_path' is missing")
        try:
            self.timeout = float(config.get("request_timeout", 60))
            self.max_tokens = int(config.get("max_tokens", 64))
        except (TypeError, ValueError):
            raise GatewayConfigError(
                f"{where}.request_timeout' and 'max_tokens' must be numbers"
            ) from None
        try:
            pipeline = _pipeline(str(path))
        except (OSError, ValueError) as exc:
            raise GatewayConfigError(f"{where}.model_path': cannot load {path}: {exc}") from None
        chat = endpoint.endpoint_type == "llm/v1/chat"
        self.model = TransformersPipeline(pipeline, name=endpoint.name, chat=chat or None)
        self.use_cache = bool(config.get("cache", True))
        self._cache: OrderedDict[str, Any] = OrderedDict()

    def _params(self, body: dict[str, Any]) -> dict[str, Any]:
        params = {k: body[k] for k in _PARAMS if body.get(k) is not None}
        params.setdefault("max_tokens", self.max_tokens)
        return params

    async def _generate(self, prompt: Any, params: dict[str, Any]) -> Any:
        from nbtrack.errors import ProviderError

        greedy = not params.get("temperature")
        key = json.dumps([prompt, params], sort_keys=True) if self.use_cache and greedy else None
        if key is not None and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            generation = await asyncio.get_running_loop().run_in_executor(
                None, self.model.generate, prompt, params, self.timeout
            )
        except ProviderError as exc:
            if "took over" in exc.message:
                raise ProviderTimeout(
                    f"Endpoint {self.endpoint.name!r}: generation took over {self.timeout:g} s"
                ) from None
            raise UpstreamError(f"Endpoint {self.endpoint.name!r}: {exc.message}") from None
        if key is not None:
            self._cache[key] = generation
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return generation

    @staticmethod
    def _finish(generation: Any, params: dict[str, Any]) -> str:
        done = generation.completion_tokens or 0
        return "length" if done >= int(params["max_tokens"]) else "stop"

    def _model_name(self) -> str:
        return self.endpoint.model_name or self.endpoint.name

    async def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """Generate the assistant's answer to ``messages`` through the chat template."""
        params = self._params(body)
        messages = [
            {"role": m["role"], "content": m.get("content") or ""} for m in body["messages"]
        ]
        generation = await self._generate(messages, params)
        return chat_response(
            self._model_name(),
            generation.text,
            self._finish(generation, params),
            generation.prompt_tokens,
            generation.completion_tokens,
        )

    async def completions(self, body: dict[str, Any]) -> dict[str, Any]:
        """Continue ``prompt`` as plain text."""
        params = self._params(body)
        generation = await self._generate(body["prompt"], params)
        return completions_response(
            self._model_name(),
            generation.text,
            self._finish(generation, params),
            generation.prompt_tokens,
            generation.completion_tokens,
        )
