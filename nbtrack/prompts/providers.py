"""Model providers for prompt comparison: a Python callable, an OpenAI-compatible HTTP endpoint,
a local ``transformers`` pipeline.

A provider turns one filled-in prompt (text, or chat messages) and generation
parameters into a :class:`Generation`. New kinds register with
:func:`register_provider`, or from an installed package through the
``nbtrack.prompt_providers`` entry-point group; :func:`as_provider` wraps what
a user passes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from nbtrack.errors import InvalidInput, ProviderError

__all__ = [
    "ENTRY_POINT_GROUP",
    "CallableProvider",
    "Generation",
    "OpenAICompatible",
    "Provider",
    "ProviderError",
    "as_provider",
    "register_provider",
]

Prompt = str | list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class Generation:
    """One model output with its cost."""

    text: str
    latency_ms: float
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@runtime_checkable
class Provider(Protocol):
    """Anything with ``generate(prompt, params, timeout)`` and a stable ``identity``."""

    identity: str

    def generate(self, prompt: Prompt, params: dict[str, Any], timeout: float) -> Generation:
        """Return the model's output for one prompt."""
        ...


def as_text(prompt: Prompt) -> str:
    """A prompt as plain text: chat messages as ``role: content`` lines."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def _fingerprint(fn: Callable[..., Any]) -> str:
    """A digest of what a function computes: its code and the plain values it closes over.

    The same source run again (a re-executed cell) gives the same digest.
    Closed-over values count when they are plain (a model name, a
    temperature); other objects by their type only, so a list the function
    appends to does not change it. An object without code of its own (a
    callable instance, a partial) is told apart by its identity in this process.
    """
    import hashlib

    code = getattr(fn, "__code__", None)
    if code is None:
        return f"object-{id(fn):x}"
    digest = hashlib.sha256()
    _digest_code(code, digest)
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not yet filled
            continue
        plain = isinstance(value, str | bytes | int | float | bool | type(None))
        digest.update(repr(value if plain else type(value).__qualname__).encode())
    return digest.hexdigest()[:12]


def _digest_code(code: Any, digest: Any) -> None:
    digest.update(code.co_code)
    digest.update(repr(code.co_names).encode())
    for const in code.co_consts:
        # Nested functions and comprehensions are code objects, whose repr holds an address.
        if hasattr(const, "co_code"):
            _digest_code(const, digest)
        else:
            digest.update(repr(const).encode("utf-8", "replace"))


class CallableProvider:
    """A Python function ``fn(prompt)`` or ``fn(prompt, **params)`` returning text."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        import inspect

        self.fn = fn
        # The code goes into the identity (and so the cache key): a name bound to
        # another function must not be answered from the first one's outputs.
        label = name or getattr(fn, "__qualname__", type(fn).__qualname__)
        self.identity = f"callable:{label}:{_fingerprint(fn)}"
        try:
            parameters = inspect.signature(fn).parameters.values()
        except (TypeError, ValueError):  # builtins without a signature take the prompt only
            parameters = []  # type: ignore[assignment]
        self.takes_params = any(p.kind in (p.VAR_KEYWORD, p.KEYWORD_ONLY) for p in parameters) or (
            sum(p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY) for p in parameters) > 1
        )

    def generate(self, prompt: Prompt, params: dict[str, Any], timeout: float) -> Generation:
        """Call the function, with the params as keywords when it takes them."""
        started = time.perf_counter()
        output = self.fn(prompt, **params) if self.takes_params else self.fn(prompt)
        latency = (time.perf_counter() - started) * 1000
        return Generation(
            str(output), latency, len(as_text(prompt).split()), len(str(output).split())
        )


class OpenAICompatible:
    """Any server speaking OpenAI's ``/chat/completions`` (or ``/completions``) API.

    Parameters
    ----------
    base_url:
        e.g. ``http://127.0.0.1:8080/v1``.
    model:
        The model name sent in each request.
    api_key_env:
        Environment variable holding the key. By default ``OPENAI_API_KEY``
        goes to ``https://api.openai.com`` only and other servers get no key;
        name the variable to send a key elsewhere (never over plain HTTP to
        another machine): see :mod:`nbtrack.prompts.openai_http`.
    chat:
        Use ``/chat/completions`` (default) or ``/completions``.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        chat: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.chat = chat
        self.identity = f"openai:{self.base_url}:{model}:{'chat' if chat else 'completions'}"

    def generate(self, prompt: Prompt, params: dict[str, Any], timeout: float) -> Generation:
        """POST one request; the answer's text and token usage."""
        body: dict[str, Any] = {"model": self.model, **params}
        if self.chat:
            messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
            body["messages"] = messages
        else:
            body["prompt"] = as_text(prompt)
        from nbtrack.prompts.openai_http import post_json, unexpected

        path = "/chat/completions" if self.chat else "/completions"
        started = time.perf_counter()
        payload = post_json(self.base_url, path, body, self.api_key_env, timeout)
        latency = (time.perf_counter() - started) * 1000
        try:
            choice = payload["choices"][0]
            text = choice["message"]["content"] if self.chat else choice["text"]
        except (KeyError, IndexError, TypeError):
            raise unexpected(self.base_url, payload) from None
        usage = payload.get("usage") or {}
        return Generation(
            str(text), latency, usage.get("prompt_tokens"), usage.get("completion_tokens")
        )


#: Installed packages add providers under this group; each entry point names an
#: object with ``matches(model) -> bool`` and ``factory(model) -> Provider``.
ENTRY_POINT_GROUP = "nbtrack.prompt_providers"

_FACTORIES: list[tuple[Callable[[Any], bool], Callable[[Any], Provider]]] = []
_entry_points_loaded = False


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from nbtrack.plugins import load_entry_points

    # After the ones registered in code: register_provider inserts at the front.
    _FACTORIES.extend(
        load_entry_points(
            ENTRY_POINT_GROUP, "Prompt provider", lambda plugin: (plugin.matches, plugin.factory)
        )
    )


def register_provider(matches: Callable[[Any], bool], factory: Callable[[Any], Provider]) -> None:
    """Teach :func:`as_provider` a new kind of model object (checked before the built-ins)."""
    _FACTORIES.insert(0, (matches, factory))


def _is_pipeline(obj: Any) -> bool:
    return type(obj).__module__.startswith("transformers.pipelines")


def as_provider(model: Any, name: str | None = None) -> Provider:
    """Wrap a user's model: a provider as is, a transformers pipeline, or a callable.

    Raises
    ------
    InvalidInput
        Nothing known can call this object.
    """
    _load_entry_points()
    for matches, factory in _FACTORIES:
        if matches(model):
            return factory(model)
    if isinstance(model, Provider):
        return model
    if isinstance(model, str) and model.startswith("gateway:"):
        from nbtrack.deployments.prompts import GatewayEndpoint

        return GatewayEndpoint(model.removeprefix("gateway:"))
    if _is_pipeline(model):
        from nbtrack.prompts.transformers_pipeline import TransformersPipeline

        return TransformersPipeline(model, name)
    if callable(model):
        return CallableProvider(model, name)
    raise InvalidInput(
        f"Cannot use a {type(model).__name__} as a model: pass a callable, "
        "nbt.prompts.OpenAICompatible(...), a transformers pipeline, or 'gateway:<endpoint>'"
    )
