"""Values JSON cannot hold natively, turned into what MLflow's JSON formats write for them.

One rule for every writer of JSON payloads (input examples, scoring answers):
numpy scalars and arrays become Python numbers and lists, ``datetime64`` and
dates ISO strings, bytes base64 text. Anything else is a ``TypeError`` naming
the type, as ``json.dumps`` expects of its ``default`` hook.
"""

from __future__ import annotations

import base64
import datetime as dt
import sys
from typing import Any

__all__ = ["json_default", "json_value"]

_NATIVE = (str, int, float, bool, type(None), list, dict)


def json_default(value: Any) -> Any:
    """Return a JSON-ready form of ``value``; for ``json.dumps(..., default=json_default)``.

    Raises
    ------
    TypeError
        ``value`` has no JSON form (the message names its type).
    """
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(value, numpy.ndarray):
            return value.tolist()
        if isinstance(value, numpy.datetime64):
            return str(numpy.datetime_as_string(value))
        if isinstance(value, numpy.generic):
            return value.item()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (dt.date, dt.time)) or hasattr(value, "isoformat"):
        return value.isoformat()  # datetimes, pandas.Timestamp and NaT too
    raise TypeError(f"Cannot serialise a {type(value).__name__} as JSON: {value!r:.80}")


def json_value(value: Any) -> Any:
    """``value`` itself when JSON holds it, else :func:`json_default`'s form of it."""
    return value if isinstance(value, _NATIVE) else json_default(value)
