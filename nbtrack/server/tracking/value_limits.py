"""Params and tags over MLflow's length limits, taken as MLflow's tracking server takes them.

MLflow 3.17's store cuts a param value over 6,000 characters and a run tag
value over 8,000 to the limit, logs a warning on the server and answers 200
(``MLFLOW_TRUNCATE_LONG_VALUES``, on by default). MLflow's clients send such
values without checking them, so a server that refused them would break
scripts that work against ``mlflow server``. nbtrack's server takes them too,
cut nbtrack's one way (:func:`nbtrack._validation.cut_value`: the end replaced
by a marker saying it was cut, so the stored value is still exactly the
limit), with the warning in the server's log under ``nbtrack.server``.

nbtrack's own API still refuses an over-long value passed by hand
(``ValueTooLong``) before it is sent: only values nbtrack did not check reach
this cut.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from nbtrack import _validation as check
from nbtrack.entities import Param, RunTag

__all__ = ["param", "params", "tag", "tags"]

_log = logging.getLogger("nbtrack.server")


def _cut(kind: str, key: str, value: Any, limit: int) -> str:
    text, note = check.cut_value(kind, key, value, limit)
    if note is not None:
        _log.warning("%s (MLflow's server truncates such values too)", note)
    return text


def param(key: str, value: Any) -> Param:
    """A param as the server stores it: a value over 6,000 characters cut, with a log line."""
    return Param(key, _cut("Param", key, value, check.MAX_PARAM_VALUE_LENGTH))


def tag(key: str, value: Any) -> RunTag:
    """A run tag as the server stores it: a value over 8,000 characters cut, with a log line."""
    return RunTag(key, _cut("Tag", key, value, check.MAX_TAG_VALUE_LENGTH))


def params(items: Iterable[Mapping[str, Any]]) -> list[Param]:
    """``[{"key", "value"?}]`` of a request body as params (see :func:`param`)."""
    return [param(p["key"], p.get("value", "")) for p in items]


def tags(items: Iterable[Mapping[str, Any]]) -> list[RunTag]:
    """``[{"key", "value"?}]`` of a request body as run tags (see :func:`tag`)."""
    return [tag(t["key"], t.get("value", "")) for t in items]
