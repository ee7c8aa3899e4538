"""Validation of registry input: model names, alias names, stages and tags.

The rules are MLflow's (``mlflow/utils/validation.py``), so a name accepted
here is accepted there: model names are non-blank and hold no ``/`` or
``:``; aliases hold only letters, digits, ``_`` and ``-``, at most 255
characters, and may not be ``latest`` (any case) or look like a version
(``v1``, ``V12``), since ``models:/name@…`` URIs could not tell them apart.
"""

from __future__ import annotations

import re
from typing import Any

from nbtrack import _validation as check
from nbtrack.entities import ModelVersionStage
from nbtrack.errors import InvalidInput, ValueTooLong

__all__ = ["MAX_ALIAS_LENGTH", "alias_name", "model_name", "registry_tag", "stage_name"]

MAX_ALIAS_LENGTH = 255
MAX_MODEL_NAME_LENGTH = 256
MAX_REGISTRY_TAG_VALUE_LENGTH = 5000
_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")


def model_name(name: object) -> str:
    """Return ``name`` if it is a valid registered model name, else raise InvalidInput."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(f"A registered model needs a non-empty name, got {name!r}")
    if "/" in name or ":" in name:
        raise InvalidInput(f"Invalid model name {name!r}: names cannot contain '/' or ':'")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidInput(
            f"Model name is {len(name)} characters; the limit is {MAX_MODEL_NAME_LENGTH}"
        )
    return name


def alias_name(alias: object, reserved: bool = False) -> str:
    """Return ``alias`` if valid; with ``reserved``, also refuse ``latest`` and ``v<N>``."""
    if not isinstance(alias, str) or not alias:
        raise InvalidInput(f"Registered model alias name cannot be empty, got {alias!r}")
    if not _ALIAS_RE.match(alias):
        raise InvalidInput(
            f"Invalid alias name {alias!r}: names may only contain alphanumerics, "
            "underscores (_) and dashes (-)"
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidInput(
            f"Alias name is {len(alias)} characters; the limit is {MAX_ALIAS_LENGTH}"
        )
    if reserved and alias.lower() == "latest":
        raise InvalidInput("The alias name 'latest' (in any case) is reserved")
    if reserved and _VERSION_ALIAS_RE.match(alias):
        raise InvalidInput(f"Alias name {alias!r} is reserved: it looks like a version")
    return alias


def stage_name(stage: object) -> str:
    """Return the canonical spelling of a legacy stage (``production`` → ``Production``)."""
    canonical = ModelVersionStage.canonical(stage)  # type: ignore[arg-type]
    if canonical is None:
        raise InvalidInput(
            f"Invalid model version stage {stage!r}; use one of {', '.join(ModelVersionStage.ALL)}"
        )
    return canonical


def registry_tag(key: object, value: Any) -> dict[str, str]:
    """Return the ``{"key", "value"}`` row of a registry tag, checked."""
    valid_key = check.validate_key(key, "tag")
    text = "" if value is None else str(value)
    if len(text) > MAX_REGISTRY_TAG_VALUE_LENGTH:
        raise ValueTooLong("Tag", valid_key, len(text), MAX_REGISTRY_TAG_VALUE_LENGTH)
    return {"key": valid_key, "value": text}
