"""MLflow Deployments' configuration file, read and checked.

The format is MLflow's (``mlflow/gateway/config.py``)::

    endpoints:
    - name: chat
      endpoint_type: llm/v1/chat
      model: {provider: openai, name: gpt-4o-mini,
              config: {openai_api_key: $OPENAI_API_KEY, openai_api_base: https://...}}
      limit: {renewal_period: minute, calls: 60}

A config value ``$NAME`` is read from the server's environment when the file
is loaded. Every error is a :class:`GatewayConfigError` naming the endpoint
and the key, never a secret's value, so a bad file can be fixed from the
message alone.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbtrack.errors import GatewayConfigError

__all__ = [
    "ENDPOINT_TYPES",
    "RENEWAL_SECONDS",
    "EndpointConfig",
    "GatewayConfig",
    "GatewayConfigError",
    "Limit",
    "is_secret_key",
    "load_config",
    "parse_config",
]

#: The endpoint types MLflow Deployments serves.
ENDPOINT_TYPES = ("llm/v1/chat", "llm/v1/completions", "llm/v1/embeddings")
#: Seconds in each ``limit.renewal_period`` (the ``limits`` library's names, as MLflow's).
RENEWAL_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
_ENV_REF = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")
_SECRET_WORDS = ("key", "token", "secret", "password")


def is_secret_key(key: str) -> bool:
    """Whether a provider config key holds a credential (never shown to clients)."""
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


@dataclass(frozen=True, slots=True)
class Limit:
    """``calls`` requests per ``renewal_period`` for one endpoint."""

    calls: int
    renewal_period: str

    @property
    def seconds(self) -> int:
        """Length of one window in seconds."""
        return RENEWAL_SECONDS[self.renewal_period]


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """One endpoint: its name and type, and the provider model behind it.

    ``config`` holds the resolved values (secrets included): it stays on the
    server; :meth:`public` is what clients see.
    """

    name: str
    endpoint_type: str
    provider: str
    model_name: str | None
    config: dict[str, Any] = field(default_factory=dict)
    limit: Limit | None = None

    def public(self) -> dict[str, Any]:
        """MLflow's ``Endpoint`` body; the provider config without its secrets."""
        shown = {k: v for k, v in self.config.items() if not is_secret_key(k)}
        return {
            "name": self.name,
            "endpoint_type": self.endpoint_type,
            "model": {"name": self.model_name, "provider": self.provider, "config": shown},
            "endpoint_url": f"/gateway/{self.name}/invocations",
            "limit": (
                None
                if self.limit is None
                else {
                    "calls": self.limit.calls,
                    "key": None,
                    "renewal_period": self.limit.renewal_period,
                }
            ),
        }

    def secrets(self) -> list[str]:
        """The credential values in this endpoint's config (to scrub them from any message)."""
        return [
            str(v) for k, v in self.config.items() if is_secret_key(k) and v and len(str(v)) >= 4
        ]


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Every endpoint of a config file, in file order."""

    endpoints: dict[str, EndpointConfig]


def _resolve(value: Any, where: str, environ: dict[str, str] | os._Environ[str]) -> Any:
    if isinstance(value, str):
        match = _ENV_REF.match(value.strip())
        if match:
            name = match.group(1)
            if name not in environ:
                raise GatewayConfigError(f"{where}: ${name} is not set in the server's environment")
            return environ[name]
    return value


def _endpoint(raw: Any, index: int, environ: dict[str, str] | os._Environ[str]) -> EndpointConfig:
    label = f"endpoints[{index}]"
    if not isinstance(raw, dict):
        raise GatewayConfigError(f"{label}: an endpoint is a mapping, got {type(raw).__name__}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise GatewayConfigError(
            f"{label}: 'name' must be letters, digits, '-' or '_' (got {name!r})"
        )
    label = f"endpoint {name!r}"
    kind = raw.get("endpoint_type", raw.get("route_type"))
    if kind not in ENDPOINT_TYPES:
        raise GatewayConfigError(
            f"{label}: 'endpoint_type' must be one of {', '.join(ENDPOINT_TYPES)} (got {kind!r})"
        )
    model = raw.get("model")
    if not isinstance(model, dict):
        raise GatewayConfigError(f"{label}: 'model' must be a mapping with 'provider'")
    provider = model.get("provider")
    if not isinstance(provider, str) or not provider:
        raise GatewayConfigError(f"{label}: 'model.provider' is missing")
    model_name = model.get("name")
    if model_name is not None and not isinstance(model_name, str):
        raise GatewayConfigError(f"{label}: 'model.name' must be a string")
    settings = model.get("config") or {}
    if not isinstance(settings, dict):
        raise GatewayConfigError(f"{label}: 'model.config' must be a mapping")
    resolved = {
        str(k): _resolve(v, f"{label}: 'model.config.{k}'", environ) for k, v in settings.items()
    }
    limit = None
    if raw.get("limit") is not None:
        spec = raw["limit"]
        calls = spec.get("calls") if isinstance(spec, dict) else None
        period = spec.get("renewal_period") if isinstance(spec, dict) else None
        if not isinstance(calls, int) or isinstance(calls, bool) or calls < 1:
            raise GatewayConfigError(f"{label}: 'limit.calls' must be a positive integer")
        if period not in RENEWAL_SECONDS:
            raise GatewayConfigError(
                f"{label}: 'limit.renewal_period' must be one of {', '.join(RENEWAL_SECONDS)}"
            )
        limit = Limit(calls, period)
    return EndpointConfig(name, kind, provider, model_name, resolved, limit)


def parse_config(
    document: Any, environ: dict[str, str] | os._Environ[str] | None = None
) -> GatewayConfig:
    """Check a loaded YAML document and resolve its ``$VAR`` values.

    Raises
    ------
    GatewayConfigError
        Naming the endpoint and the key at fault.
    """
    env = os.environ if environ is None else environ
    if not isinstance(document, dict) or not isinstance(document.get("endpoints"), list):
        raise GatewayConfigError("The config must be a mapping with an 'endpoints' list")
    endpoints: dict[str, EndpointConfig] = {}
    for index, raw in enumerate(document["endpoints"]):
        endpoint = _endpoint(raw, index, env)
        if endpoint.name in endpoints:
            raise GatewayConfigError(f"endpoint {endpoint.name!r}: the name is used twice")
        endpoints[endpoint.name] = endpoint
    return GatewayConfig(endpoints)


def load_config(path: str | os.PathLike[str]) -> GatewayConfig:
    """Read and check a config file.

    Raises
    ------
    GatewayConfigError
        The file cannot be read, is not YAML, or an endpoint is wrong.
    """
    import yaml

    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise GatewayConfigError(f"Cannot read the config {path}: {exc.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise GatewayConfigError(f"The config {path} is not valid YAML: {exc}") from None
    return parse_config(document)
