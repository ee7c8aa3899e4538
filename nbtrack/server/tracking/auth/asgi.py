"""The ASGI plumbing of the auth middleware: reading a request once, holding an answer back.

The middleware runs before the app's router and may need a field of the JSON
body; :class:`AuthRequest` reads the body once and replays it to the app.
:class:`HeldResponse` keeps a successful answer until a hook has seen it
(the creator's MANAGE grant must be in before the client learns the id).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "MAX_INSPECTED_BODY",
    "AuthRequest",
    "Denied",
    "HeldResponse",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "dig",
    "loads",
    "send_error",
    "send_json",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: A request body the middleware reads to find a resource is bounded (the app has its own limit).
MAX_INSPECTED_BODY = 64 << 20


class Denied(Exception):
    """A request the middleware answers itself: a status and MLflow's error body."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


class AuthRequest:
    """One request's path parameters, query and (read on demand) JSON body."""

    def __init__(self, scope: Scope, receive: Receive, params: dict[str, Any]) -> None:
        self.scope, self.params = scope, params
        self.method: str = scope["method"]
        self.query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        self._receive = receive
        self.body: bytes | None = None
        self._json: Any = None

    async def read_body(self) -> bytes:
        if self.body is None:
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await self._receive()
                if message["type"] == "http.disconnect":
                    raise Denied(400, "INVALID_PARAMETER_VALUE", "The client went away")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > MAX_INSPECTED_BODY:
                    raise Denied(
                        400, "INVALID_PARAMETER_VALUE", "The request body is over the size limit"
                    )
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            self.body = b"".join(chunks)
        return self.body

    def receive_for_app(self) -> Receive:
        """The ``receive`` the app gets: the body read here replayed, then the client's."""
        if self.body is None:
            return self._receive
        pending = [{"type": "http.request", "body": self.body, "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await self._receive()

        return replay

    async def json(self) -> dict[str, Any]:
        if self._json is None:
            body = await self.read_body()
            try:
                parsed = json.loads(body) if body.strip() else {}
            except (ValueError, UnicodeDecodeError) as exc:
                raise Denied(400, "INVALID_PARAMETER_VALUE", f"Malformed JSON body: {exc}") from exc
            if not isinstance(parsed, dict):
                raise Denied(
                    400, "INVALID_PARAMETER_VALUE", "The request body must be a JSON object"
                )
            self._json = parsed
        return self._json

    async def value(self, field: str) -> Any:
        """The field from the path, else the query string, else the JSON body; None if absent."""
        if field in self.params:
            return self.params[field]
        if field in self.query:
            values = self.query[field]
            return values if len(values) > 1 else values[0]
        if self.method in ("GET", "HEAD"):
            return None
        return (await self.json()).get(field)

    async def required(self, field: str, *aliases: str) -> str:
        """A non-empty string or integer field (or one of its aliases); 400 if absent."""
        in_body = field not in self.params and field not in self.query
        if in_body and self._json is None and self.method not in ("GET", "HEAD"):
            leading = _leading_string(await self.read_body(), field, aliases)
            if leading:
                return leading
        for name in (field, *aliases):
            value = await self.value(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
                return str(value)
        raise Denied(
            400, "INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{field}'"
        )


def _leading_string(body: bytes, field: str, aliases: tuple[str, ...]) -> str | None:
    """``field``'s value if it is the body's first key, a plain string, named once; else None.

    A log-batch body is 1,000 metrics behind its ``run_id``: parsing all of it
    only to read the first key would double the JSON work of the ingest path.
    The first key after the opening brace is a top-level key by construction;
    the key may occur only once (JSON parsers keep the last of duplicates, so a
    second one could name another run) and none of its aliases may occur; and
    the body may hold no backslash at all, since ``"\\u0072un_id"`` is the same
    key spelled so that counting misses it (a single byte is found by memchr,
    where a two-byte needle costs as much as the count).
    """
    key = f'"{field}"'.encode()
    if b"\\" in body or body.count(key) != 1:
        return None
    if any(f'"{a}"'.encode() in body for a in aliases):
        return None
    found = _FIRST_STRING_KEY.match(body)
    if found is None or found.group(1) != field.encode():
        return None
    return found.group(2).decode("utf-8", "replace") or None


#: ``{"key": "plain value"`` at the start of a body (no escapes in the value).
_FIRST_STRING_KEY = re.compile(rb'\A\s*\{\s*"([A-Za-z_]+)"\s*:\s*"([^"\\]*)"\s*[,}]')


class HeldResponse:
    """A ``send`` that holds a successful answer back until ``after`` has seen (and maybe
    rewritten) its body; other answers pass straight through."""

    def __init__(self, send: Send, after: Callable[[bytes], Awaitable[bytes]]) -> None:
        self._send, self._after = send, after
        self._start: Message | None = None
        self._chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if message["status"] != 200:
                await self._send(message)
                return
            self._start = message
            return
        if self._start is None or message["type"] != "http.response.body":
            await self._send(message)
            return
        self._chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = await self._after(b"".join(self._chunks))
        headers = [
            (k, v) for k, v in self._start.get("headers", []) if k.lower() != b"content-length"
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        await self._send({**self._start, "headers": headers})
        await self._send({"type": "http.response.body", "body": body, "more_body": False})


def loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def dig(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


async def send_json(send: Send, status: int, body: Any) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})


async def send_error(send: Send, exc: Denied) -> None:
    payload = json.dumps({"error_code": exc.error_code, "message": exc.message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    if exc.status == 401:
        headers.append((b"www-authenticate", b'Basic realm="nbtrack"'))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})
