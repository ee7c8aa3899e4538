"""Reading and checking request bodies and query strings against each route's schema.

A schema maps field names to types, as MLflow's request messages declare them
(``mlflow/protos/service.proto``): ``STR``, ``INT`` (int64/int32: a number or
a string of digits, as protobuf's JSON accepts), ``FLOAT`` (a number, or
``"NaN"``/``"Infinity"``/``"-Infinity"``), ``BOOL``, an :class:`Enum`, a nested
schema (a dict, its required fields listed under :data:`REQUIRED`) or a list
of one of those (``[TAG]``). Anything else — an
unknown field, a wrong type, a missing required field, JSON that does not
parse, a body over the limit — raises :class:`~nbtrack.errors.InvalidInput`
naming the field, which answers 400 ``INVALID_PARAMETER_VALUE``.

GET requests carry their fields in the query string (MLflow's client sends
them so, repeating a key for each list item); other methods in a JSON body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from nbtrack.errors import InvalidInput

_fast_loads: Callable[[bytes], Any]
try:
    # A third of the standard library's time on a 1,000-point log-batch body.
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a server dependency
    _fast_loads = json.loads

__all__ = [
    "ANY",
    "BOOL",
    "FLOAT",
    "INT",
    "MAX_BODY_BYTES",
    "REQUIRED",
    "STR",
    "Enum",
    "parse",
    "read_fields",
    "request_id",
]

#: Default limit of a JSON request body (artifact uploads stream through their own routes).
MAX_BODY_BYTES = 16 * 1024 * 1024

STR, INT, FLOAT, BOOL = "string", "integer", "number", "boolean"
#: Any JSON value, checked by the route itself.
ANY = "any"
#: Key of a nested schema listing its required fields: ``{"key": STR, REQUIRED: ("key",)}``.
REQUIRED = "__required__"

REQUEST_ID_HEADER = "nbtrack-request-id"
_REQUEST_ID = re.compile(r"[0-9a-fA-F]{32}")
_FLOAT_WORDS = {"nan": float("nan"), "infinity": float("inf"), "-infinity": float("-inf")}
_FLOAT_WORDS.update({"inf": float("inf"), "-inf": float("-inf")})


@dataclass(frozen=True, slots=True)
class Enum:
    """A protobuf enum: its names in order of their numbers (``first`` is the first number)."""

    names: tuple[str, ...]
    first: int = 0

    def value(self, raw: Any) -> str | None:
        """Return the name ``raw`` (a name or a number) stands for, or None."""
        if isinstance(raw, str):
            if raw in self.names:
                return raw
            if raw.lstrip("-").isdigit():
                raw = int(raw)
        if isinstance(raw, int) and not isinstance(raw, bool):
            index = raw - self.first
            if 0 <= index < len(self.names):
                return self.names[index]
        return None


def _bad(path: str, value: Any, expected: str) -> InvalidInput:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return InvalidInput(
        f"Invalid value {shown} for parameter '{path}' supplied: expected {expected}"
    )


_INT64 = 2**63


def _int(path: str, value: Any) -> int:
    if (
        value.__class__ is int
        or (isinstance(value, float) and value.is_integer())
        or (isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()))
    ):
        number = int(value)
    else:
        raise _bad(path, value, "an integer")
    if not -_INT64 <= number < _INT64:
        raise _bad(path, value, "a 64-bit integer")
    return number


def _float(path: str, value: Any) -> float:
    if value.__class__ is float or value.__class__ is int:
        return float(value)
    if isinstance(value, str):
        word = _FLOAT_WORDS.get(value.strip().lower())
        if word is not None:
            return word
        try:
            return float(value)
        except ValueError:
            pass
    raise _bad(path, value, "a number")


def _bool(path: str, value: Any, query: bool) -> bool:
    if isinstance(value, bool):
        return value
    if query and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _bad(path, value, "true or false")


def _value(path: str, value: Any, spec: Any, query: bool) -> Any:
    if spec is ANY:
        return value
    if spec is STR:
        if value.__class__ is str:
            return value
        raise _bad(path, value, "a string")
    if spec is INT:
        return _int(path, value)
    if spec is FLOAT:
        return _float(path, value)
    if spec is BOOL:
        return _bool(path, value, query)
    if isinstance(spec, Enum):
        name = spec.value(value)
        if name is None:
            raise _bad(path, value, f"one of {', '.join(spec.names)}")
        return name
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise _bad(path, value, "a list")
        inner = spec[0]
        if inner is ANY:
            return value  # the route checks the items (log-batch's 1,000 metrics)
        return [_value(f"{path}[{i}]", v, inner, query) for i, v in enumerate(value)]
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise _bad(path, value, "an object")
        return parse(value, spec, spec.get(REQUIRED, ()), prefix=f"{path}.", query=query)
    raise TypeError(f"unknown schema type {spec!r}")  # a bug in a route's schema


def parse(
    data: dict[str, Any],
    schema: dict[str, Any],
    required: tuple[str, ...] = (),
    prefix: str = "",
    query: bool = False,
) -> dict[str, Any]:
    """Check ``data`` against ``schema`` and return its fields converted to their types.

    Fields sent as JSON ``null`` count as absent (protobuf's JSON reading).

    Raises
    ------
    InvalidInput
        An unknown field, a value of the wrong type, or a missing required field.
    """
    out: dict[str, Any] = {}
    for name, value in data.items():
        spec = schema.get(name) if name != REQUIRED else None
        if spec is None:
            raise InvalidInput(f"Unknown parameter '{prefix}{name}' in the request")
        if value is None:
            continue
        if query and not isinstance(spec, list) and isinstance(value, list):
            value = value[-1]
        if query and value == "" and spec is not STR:
            continue  # ``?max_results=`` (a client's None) is no value
        out[name] = _value(prefix + name, value, spec, query)
    _require(out, required, prefix)
    return out


def _require(fields: dict[str, Any], required: tuple[str, ...], prefix: str = "") -> None:
    for name in required:
        if fields.get(name) in (None, ""):
            raise InvalidInput(
                f"Missing value for required parameter '{prefix}{name}'. "
                "See the API docs for more information about request parameters."
            )


async def _body(request: Request, limit: int | None = None) -> bytes:
    if limit is None:
        limit = int(getattr(request.app.state, "max_body_bytes", MAX_BODY_BYTES))
    declared = request.headers.get("content-length", "")
    too_big = InvalidInput(f"The request body is larger than the limit of {limit} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


async def read_fields(
    request: Request,
    schema: dict[str, Any],
    required: tuple[str, ...] = (),
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """Return the request's fields (query string for GET, JSON body otherwise), checked.

    Path parameters of the route are not included: handlers read them from
    ``request.path_params``. ``max_bytes`` lowers the app's body limit for one
    route (MLflow's log-batch takes at most 1 MB).
    """
    if request.method == "GET":
        params = request.query_params
        data: dict[str, Any] = {k: params.getlist(k) for k in params}
        return parse(data, schema, required, query=True)
    raw = await _body(request, max_bytes)
    if not raw.strip():
        data = {}
    else:
        try:
            data = _loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"Malformed JSON in the request body: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidInput("The request body must be a JSON object")
    fields = parse(data, schema)
    if request.query_params:
        # Query parameters of a non-GET request (``?allow_deleted=true``) join the body's.
        params = request.query_params
        from_query = parse({k: params.getlist(k) for k in params}, schema, query=True)
        fields = {**from_query, **fields}
    _require(fields, required)
    return fields


def _loads(raw: bytes) -> Any:
    try:
        return _fast_loads(raw)
    except ValueError:
        # What orjson refuses and the standard library reads (bare NaN and
        # Infinity, which MLflow's clients send; integers past 64 bits) is read
        # as before; a real syntax error raises here with the standard message.
        return json.loads(raw)


def request_id(request: Request) -> str | None:
    """Return the ``Nbtrack-Request-Id`` header (32 hex digits), or None if absent."""
    value = request.headers.get(REQUEST_ID_HEADER)
    if value is None:
        return None
    if not _REQUEST_ID.fullmatch(value):
        raise InvalidInput(f"Header Nbtrack-Request-Id must be 32 hex digits, got {value!r}")
    return value.lower()
