"""``"gateway:<endpoint>"`` as a prompt-comparison model: one endpoint of ``nbtrack gateway``.

The gateway is the one at ``$NBTRACK_GATEWAY_URI`` (or MLflow's
``$MLFLOW_DEPLOYMENTS_TARGET``); the endpoint's type (chat or completions)
decides the request body.
"""

from __future__ import annotations

import time
from typing import Any

from nbtrack.deployments import DeploymentClient, gateway_uri
from nbtrack.errors import InvalidInput, ProviderError

__all__ = ["GatewayEndpoint"]


class GatewayEndpoint:
    """A gateway endpoint as a :class:`nbtrack.prompts.providers.Provider`.

    Parameters
    ----------
    endpoint:
        The endpoint's name.
    target_uri:
        The gateway; default from the environment.
    """

    def __init__(self, endpoint: str, target_uri: str | None = None) -> None:
        self.endpoint = endpoint
        self.target_uri = (target_uri or gateway_uri()).rstrip("/")
        self.identity = f"gateway:{self.target_uri}:{endpoint}"
        self._kind: str | None = None

    def generate(self, prompt: Any, params: dict[str, Any], timeout: float) -> Any:
        """Send one prompt to the endpoint; the answer's text and token usage."""
        from nbtrack.prompts.providers import Generation, as_text

        client = DeploymentClient(self.target_uri, timeout)
        if self._kind is None:
            self._kind = str(client.get_endpoint(self.endpoint)["endpoint_type"])
        if self._kind == "llm/v1/chat":
            messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
            body = {"messages": messages, **params}
        elif self._kind == "llm/v1/completions":
            body = {"prompt": as_text(prompt), **params}
        else:
            raise InvalidInput(f"gateway:{self.endpoint} is a {self._kind} endpoint, not text")
        started = time.perf_counter()
        answer = client.predict(endpoint=self.endpoint, inputs=body)
        latency = (time.perf_counter() - started) * 1000
        try:
            choice = answer["choices"][0]
            text = choice["message"]["content"] if "message" in choice else choice["text"]
        except (KeyError, IndexError, TypeError):
            message = f"Unexpected answer from gateway:{self.endpoint}: {answer}"
            raise ProviderError(message) from None
        usage = answer.get("usage") or {}
        return Generation(
            str(text), latency, usage.get("prompt_tokens"), usage.get("completion_tokens")
        )
