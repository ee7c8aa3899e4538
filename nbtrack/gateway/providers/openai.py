"""The ``openai`` provider: any server speaking OpenAI's API (OpenAI, vLLM, llama.cpp, a gateway).

Config keys (MLflow's): ``openai_api_key`` (usually ``$OPENAI_API_KEY``),
``openai_api_base`` (default ``https://api.openai.com/v1``),
``openai_organization``; and nbtrack's ``request_timeout`` (seconds, default
60). The key goes in the ``Authorization`` header to the configured base URL
only: redirects are not followed, and a key is refused over plain HTTP to
another machine (:func:`nbtrack.prompts.openai_http.check_key_transport`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from nbtrack.gateway.config import GatewayConfigError
from nbtrack.gateway.providers import Provider, ProviderTimeout, UpstreamError

__all__ = ["OpenAIProvider"]

_DEFAULT_BASE = "https://api.openai.com/v1"
_DETAIL_CHARS = 300


class OpenAIProvider(Provider):
    """Forward requests to an OpenAI-compatible server, with the endpoint's model name."""

    streams = True

    def __init__(self, endpoint: Any) -> None:
        import httpx

        from nbtrack.errors import InvalidInput
        from nbtrack.prompts.openai_http import check_key_transport

        super().__init__(endpoint)
        config = endpoint.config
        self.base_url = str(config.get("openai_api_base") or _DEFAULT_BASE).rstrip("/")
        key = config.get("openai_api_key")
        headers = {}
        if key:
            try:
                check_key_transport(self.base_url, "openai_api_key")
            except InvalidInput as exc:
                raise GatewayConfigError(
                    f"endpoint {endpoint.name!r}: 'model.config.openai_api_base': {exc.message}"
                ) from None
            headers["Authorization"] = f"Bearer {key}"
        if config.get("openai_organization"):
            headers["OpenAI-Organization"] = str(config["openai_organization"])
        try:
            self.timeout = float(config.get("request_timeout", 60))
        except (TypeError, ValueError):
            raise GatewayConfigError(
                f"endpoint {endpoint.name!r}: 'model.config.request_timeout' must be a number"
            ) from None
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=self.timeout,
            follow_redirects=False,
        )

    def _body(self, body: dict[str, Any]) -> dict[str, Any]:
        forwarded = {k: v for k, v in body.items() if v is not None}
        if self.endpoint.model_name:
            forwarded["model"] = self.endpoint.model_name
        return forwarded

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import httpx

        try:
            response = await self._client.post(path, json=self._body(body))
        except httpx.TimeoutException:
            raise self._timeout() from None
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"Endpoint {self.endpoint.name!r}: cannot reach {self.base_url}: "
                f"{type(exc).__name__}"
            ) from None
        if response.status_code >= 300:
            raise UpstreamError(
                f"Endpoint {self.endpoint.name!r}: {self.base_url} answered HTTP "
                f"{response.status_code}: {response.text[:_DETAIL_CHARS]}"
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not (payload.get("choices") or payload.get("data")):
            raise UpstreamError(
                f"Endpoint {self.endpoint.name!r}: unexpected answer from {self.base_url}: "
                f"{response.text[:_DETAIL_CHARS]}"
            )
        return payload

    def _timeout(self) -> ProviderTimeout:
        return ProviderTimeout(
            f"Endpoint {self.endpoint.name!r}: {self.base_url} did not answer within "
            f"{self.timeout:g} s"
        )

    async def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``/chat/completions``."""
        return await self._post("/chat/completions", body)

    async def completions(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``/completions``."""
        return await self._post("/completions", body)

    async def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``/embeddings``."""
        return await self._post("/embeddings", body)

    async def _stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        import httpx

        try:
            async with self._client.stream(
                "POST", path, json={**self._body(body), "stream": True}
            ) as response:
                if response.status_code >= 300:
                    text = (await response.aread()).decode(errors="replace")
                    raise UpstreamError(
                        f"Endpoint {self.endpoint.name!r}: {self.base_url} answered HTTP "
                        f"{response.status_code}: {text[:_DETAIL_CHARS]}"
                    )
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        yield json.loads(data)
                    except ValueError:
                        raise UpstreamError(
                            f"Endpoint {self.endpoint.name!r}: {self.base_url} streamed "
                            f"something that is not JSON: {data[:_DETAIL_CHARS]}"
                        ) from None
        except httpx.TimeoutException:
            raise self._timeout() from None
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"Endpoint {self.endpoint.name!r}: cannot reach {self.base_url}: "
                f"{type(exc).__name__}"
            ) from None

    def chat_stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The upstream's SSE chunks of ``/chat/completions``."""
        return self._stream("/chat/completions", body)

    def completions_stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The upstream's SSE chunks of ``/completions``."""
        return self._stream("/completions", body)

    def close(self) -> None:
        """Close the connection pool once the requests in flight are done."""
        import asyncio
        import contextlib

        with contextlib.suppress(RuntimeError):  # no loop running: nothing left to close on
            asyncio.get_running_loop().create_task(self._client.aclose())
