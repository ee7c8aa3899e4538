"""The one HTTP client of OpenAI-compatible endpoints (completions, chat, embeddings).

Used by :class:`~nbtrack.prompts.OpenAICompatible` and
:class:`~nbtrack.evaluation.OpenAIEmbeddings`. Where an API key goes is
decided here, once:

- by default (``api_key_env=None``) ``OPENAI_API_KEY`` is sent only to
  OpenAI's own host over HTTPS (``https://api.openai.com``); any other
  server gets no key, so pointing a notebook at a colleague's endpoint does
  not hand it the user's OpenAI key;
- a key for another host is sent when its environment variable is named
  explicitly (``api_key_env="LOCAL_KEY"``), and never over plain HTTP to a
  host that is not this machine (the request is refused instead).

Every failure is a :class:`~nbtrack.errors.ProviderError` with ``retryable``
set for what trying again may fix (429, 5xx, an unreachable server).
"""

from __future__ import annotations

import ipaddress
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from nbtrack.errors import InvalidInput, ProviderError

__all__ = ["OPENAI_HOST", "api_key", "check_key_transport", "post_json", "unexpected"]

#: The one host ``OPENAI_API_KEY`` is sent to unless another variable is named.
OPENAI_HOST = "api.openai.com"
_DEFAULT_KEY_ENV = "OPENAI_API_KEY"
_DETAIL_CHARS = 300


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_key(base_url: str, api_key_env: str | None) -> str | None:
    """The key to send to ``base_url``, or None; see the module's rules.

    Raises
    ------
    InvalidInput
        ``api_key_env`` names a key and ``base_url`` is plain HTTP to another machine.
    """
    url = urllib.parse.urlsplit(base_url)
    host = (url.hostname or "").lower()
    if api_key_env is None:
        if url.scheme == "https" and host == OPENAI_HOST:
            return os.environ.get(_DEFAULT_KEY_ENV) or None
        return None
    key = os.environ.get(api_key_env) or None
    if key:
        check_key_transport(base_url, f"the key in ${api_key_env}")
    return key


def check_key_transport(base_url: str, what: str) -> None:
    """Refuse to send a key over plain HTTP to a host that is not this machine.

    Raises
    ------
    InvalidInput
        ``base_url`` is ``http://`` to another machine.
    """
    url = urllib.parse.urlsplit(base_url)
    host = (url.hostname or "").lower()
    if url.scheme != "https" and not _is_loopback(host):
        raise InvalidInput(
            f"Refusing to send {what} over plain HTTP to {host or base_url}: "
            "use an https:// URL (or a server on this machine)"
        )


def post_json(
    base_url: str, path: str, body: dict[str, Any], api_key_env: str | None, timeout: float
) -> dict[str, Any]:
    """POST ``body`` as JSON to ``base_url + path`` and return the JSON object it answers.

    Raises
    ------
    ProviderError
        The server answered an HTTP error or no JSON object, or cannot be reached.
    InvalidInput
        See :func:`api_key`.
    """
    headers = {"Content-Type": "application/json"}
    key = api_key(base_url, api_key_env)
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        base_url + path, json.dumps(body).encode(), headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:_DETAIL_CHARS]
        retryable = exc.code == 429 or exc.code >= 500
        raise ProviderError(f"HTTP {exc.code} from {base_url}: {detail}", retryable) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ProviderError(f"Cannot reach {base_url}: {reason}", True) from None
    except ValueError:
        raise ProviderError(f"{base_url}{path} answered something that is not JSON") from None
    if not isinstance(payload, dict):
        raise ProviderError(f"Unexpected answer from {base_url}: {str(payload)[:_DETAIL_CHARS]}")
    return payload


def unexpected(base_url: str, payload: object) -> ProviderError:
    """The error for a JSON answer without the expected fields (an error payload, say)."""
    return ProviderError(f"Unexpected answer from {base_url}: {str(payload)[:_DETAIL_CHARS]}")
