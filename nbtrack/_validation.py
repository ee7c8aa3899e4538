"""Rules for keys and values, shared by every store and the fluent API.

Checks are cached per key so that the hot ``log_metric`` path pays for a
set lookup, not a regex, after a key's first use.
"""

from __future__ import annotations

import math
import numbers
import posixpath
import re

from nbtrack.errors import InvalidInput, InvalidKey, MetricValueError, ValueTooLong

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_RUN_NAME_LENGTH = 250
MAX_EXPERIMENT_NAME_LENGTH = 500

#: MLflow's key characters (``mlflow/utils/validation.py``): word characters, ``/ . - :`` and space.
_KEY_RE = re.compile(r"[\w\-. /:]+")
_valid_keys: set[str] = set()


def validate_key(key: object, kind: str = "key") -> str:
    """Return ``key`` if it follows MLflow's key rules, else raise :class:`InvalidKey`.

    Keys are letters, digits and ``_ - . / : space``, at most 250
    characters. Since MLflow may treat a key as a file name, a key must not
    resolve to another name as a path: no leading ``/``, no trailing or
    doubled ``/``, no ``.`` or ``..`` parts, not ``.`` and not starting with
    ``..`` (``a..b`` is fine).
    """
    if key in _valid_keys:
        return key  # type: ignore[return-value,unused-ignore]
    if not isinstance(key, str):
        raise InvalidKey(key, f"{kind} keys must be strings, not {type(key).__name__}")
    if not key:
        raise InvalidKey(key, f"{kind} keys must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidKey(key, f"longer than {MAX_KEY_LENGTH} characters")
    # fullmatch, not MLflow's ``^…$``: its ``$`` lets a trailing newline through.
    if not _KEY_RE.fullmatch(key):
        bad = next(c for c in key if not _KEY_RE.fullmatch(c))
        raise InvalidKey(
            key, f"character {bad!r} is not allowed; use letters, digits and _ - . / : space"
        )
    resolved = posixpath.normpath(key)
    if resolved != key or resolved == "." or resolved.startswith(("..", "/")):
        raise InvalidKey(
            key,
            "a key may be treated as a file name, so it must not resolve to another name "
            f"(this one resolves to {resolved!r}): no leading, trailing or doubled '/', "
            "no '.' or '..' parts",
        )
    _valid_keys.add(key)
    return key


def metric_value(key: str, value: object) -> float:
    """Return ``value`` as a float, or raise :class:`MetricValueError` naming ``key``.

    bool is refused (True is not a measurement); numpy scalars and 0-d arrays
    are accepted; NaN and ±inf are kept.
    """
    if value.__class__ is float:
        return value  # type: ignore[return-value,unused-ignore]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # numpy 0-d arrays and tensors with .item() are real numbers in disguise
        item = getattr(value, "item", None)
        if item is None or isinstance(value, bool) or getattr(value, "ndim", 0) != 0:
            raise MetricValueError(key, value)
        value = item()
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise MetricValueError(key, value)
    return float(value)


def metric_step(step: object) -> int:
    """Return ``step`` as an int (None is 0)."""
    if step.__class__ is int:
        return step
    if step is None:
        return 0
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise InvalidInput(f"Metric step must be an integer, got {step!r}")
    return int(step)


def param_value(key: str, value: object) -> str:
    """Return ``value`` as stored text, or raise :class:`ValueTooLong`."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_PARAM_VALUE_LENGTH:
        raise ValueTooLong("Param", key, len(text), MAX_PARAM_VALUE_LENGTH)
    return text


#: What replaces the end of a value too long for the store, where it is cut rather than refused.
TRUNCATED = "... (truncated by nbtrack)"


def cut_value(kind: str, key: str, value: object, limit: int) -> tuple[str, str | None]:
    """Return ``value`` as text cut to ``limit`` the one way nbtrack cuts, and what to warn.

    Over-long text keeps its first ``limit - len(TRUNCATED)`` characters and
    ends with :data:`TRUNCATED`, so the stored value is exactly ``limit``
    long and says it was cut. The second item is the warning to give (None
    when nothing was cut): ``captured_param`` warns with it, the tracking
    server logs it (as MLflow's server logs its own truncation).
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return text, None
    keep = limit - len(TRUNCATED)
    note = (
        f"{kind} {key!r} has a value of {len(text)} characters; logged its first "
        f"{keep}, marked {TRUNCATED!r}"
    )
    return text[:keep] + TRUNCATED, note


def captured_param(key: str, value: object) -> str:
    """A param value as automatic logging (autolog, ``%%track``) writes it: never refused.

    The one policy for over-long values (:func:`cut_value`): cut to the limit
    with :data:`TRUNCATED` at the end, and a ``NbtrackWarning`` naming the
    param, since the user did not pass the value by hand and could not see it
    fail. Explicit ``log_param`` calls raise :class:`ValueTooLong` instead
    (:func:`param_value`).
    """
    text, note = cut_value("Param", key, value, MAX_PARAM_VALUE_LENGTH)
    if note is None:
        return text
    import warnings

    from nbtrack.errors import NbtrackWarning

    warnings.warn(note, NbtrackWarning, stacklevel=3)
    return text


def tag_value(key: str, value: object) -> str:
    """Return ``value`` as stored text, or raise :class:`ValueTooLong`."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise ValueTooLong("Tag", key, len(text), MAX_TAG_VALUE_LENGTH)
    return text


def is_nan(value: float) -> bool:
    """Return True for NaN (stored with a flag: SQLite turns NaN into NULL)."""
    return math.isnan(value)


def experiment_name(name: object) -> str:
    """Return a valid experiment name or raise :class:`InvalidInput`."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"Experiment name must be a non-empty string, got {name!r}")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidInput(
            f"Experiment name is {len(name)} characters; the limit is {MAX_EXPERIMENT_NAME_LENGTH}"
        )
    return name
