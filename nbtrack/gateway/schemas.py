"""Request bodies of MLflow Deployments' (and OpenAI's) three endpoint types, checked.

A body that does not fit is an :class:`~nbtrack.errors.InvalidInput` naming
the field, which the app answers as MLflow's 400 body. Fields the gateway
does not know are passed on to the provider, as MLflow's gateway does.
"""

from __future__ import annotations

import json
import time
from typing import Any

from nbtrack.errors import InvalidInput

__all__ = ["RateLimiter", "check_body", "parse_json"]


def parse_json(raw: bytes) -> dict[str, Any]:
    """The JSON object a request sent.

    Raises
    ------
    InvalidInput
        Not JSON, or not an object.
    """
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidInput("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput("The request body must be a JSON object")
    return body


def _number(body: dict[str, Any], name: str, low: float, high: float | None) -> None:
    value = body.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"Field {name!r} must be a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise InvalidInput(f"Field {name!r} must be {bound}, got {value!r}")


def _common(body: dict[str, Any]) -> None:
    _number(body, "temperature", 0, 2)
    _number(body, "top_p", 0, 1)
    max_tokens = body.get("max_tokens")
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise InvalidInput(f"Field 'max_tokens' must be a positive integer, got {max_tokens!r}")
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidInput(f"Field 'n' must be 1 (one choice per request), got {n!r}")
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        raise InvalidInput("Field 'stop' must be a string or a list of strings")
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise InvalidInput("Field 'stream' must be true or false")


def _chat(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("Field 'messages' is required: a non-empty list of messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise InvalidInput(f"Field 'messages[{i}].role' is required: a string")
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise InvalidInput(f"Field 'messages[{i}].content' must be a string")
    _common(body)


def _completions(body: dict[str, Any]) -> None:
    if not isinstance(body.get("prompt"), str):
        raise InvalidInput("Field 'prompt' is required: a string")
    _common(body)


def _embeddings(body: dict[str, Any]) -> None:
    value = body.get("input")
    if not (
        isinstance(value, str)
        or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
    ):
        raise InvalidInput("Field 'input' is required: a string or a non-empty list of strings")


_CHECKS = {
    "llm/v1/chat": _chat,
    "llm/v1/completions": _completions,
    "llm/v1/embeddings": _embeddings,
}


def check_body(endpoint_type: str, body: dict[str, Any]) -> None:
    """Check a request body for an endpoint type.

    Raises
    ------
    InvalidInput
        Naming the field at fault.
    """
    _CHECKS[endpoint_type](body)


class RateLimiter:
    """Fixed windows of ``calls`` requests per ``seconds``, one per endpoint.

    A window starts at the endpoint's first call after the last one ended, as
    the ``limits`` library's fixed window (MLflow's default strategy) does.
    """

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def allow(self, name: str, calls: int, seconds: int) -> float | None:
        """Count one call; ``None`` if allowed, else the seconds until the window renews."""
        now = time.monotonic()
        start, count = self._windows.get(name, (now, 0))
        if now - start >= seconds:
            start, count = now, 0
        if count >= calls:
            return seconds - (now - start)
        self._windows[name] = (start, count + 1)
        return None
