"""Which store is in use: ``set_tracking_uri`` > ``NBTRACK_TRACKING_URI`` > ``.nbtrack/``."""

from __future__ import annotations

import os

from nbtrack import env
from nbtrack.uris import default_store_folder

__all__ = [
    "get_artifact_root",
    "get_registry_uri",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "set_registry_uri",
    "set_tracking_uri",
]

_tracking_uri: str | None = None
_registry_uri: str | None = None


def set_tracking_uri(uri: str | os.PathLike[str] | None) -> None:
    """Use ``uri`` for this process from now on (None returns to the default)."""
    global _tracking_uri
    _tracking_uri = os.fspath(uri) if uri is not None else None


def get_tracking_uri() -> str:
    """Return the tracking URI in force, resolving the default folder if none is set."""
    if _tracking_uri:
        return _tracking_uri
    from_env = os.environ.get(env.NBTRACK_TRACKING_URI)
    if from_env:
        return from_env
    return str(default_store_folder())


def is_tracking_uri_set() -> bool:
    """Return True when a URI was set in code or in the environment."""
    return bool(_tracking_uri or os.environ.get(env.NBTRACK_TRACKING_URI))


def get_artifact_root() -> str | None:
    """Return ``NBTRACK_ARTIFACT_ROOT`` if set, else None (the store decides)."""
    return os.environ.get(env.NBTRACK_ARTIFACT_ROOT) or None


def set_registry_uri(uri: str | os.PathLike[str] | None) -> None:
    """Name the store holding the model registry (None: the tracking store, the default).

    nbtrack keeps registered models beside the runs they come from, so the
    registry URI must name the tracking store; registry calls check it (see
    :func:`get_registry_uri`) and refuse another store rather than writing
    to the wrong one.
    """
    global _registry_uri
    _registry_uri = os.fspath(uri) if uri is not None else None


def get_registry_uri() -> str:
    """Return the registry URI: the one set with :func:`set_registry_uri`, else the tracking URI."""
    return _registry_uri or get_tracking_uri()


def check_registry_uri() -> None:
    """Raise if a registry URI was set to a store other than the tracking store.

    Raises
    ------
    InvalidInput
        The registry URI names another store: nbtrack cannot link its versions
        to runs it does not hold.
    """
    if _registry_uri is None or _same_store(_registry_uri, get_tracking_uri()):
        return
    from nbtrack.errors import InvalidInput

    raise InvalidInput(
        f"The registry URI {_registry_uri!r} is not the tracking store {get_tracking_uri()!r}: "
        "nbtrack keeps registered models in the tracking store; call "
        f"set_tracking_uri({_registry_uri!r}) or set_registry_uri(None)"
    )


def _same_store(a: str, b: str) -> bool:
    if a == b:
        return True
    from nbtrack.errors import InvalidInput
    from nbtrack.uris import resolve_store_location

    try:
        return resolve_store_location(a).db_url == resolve_store_location(b).db_url
    except InvalidInput:
        return False
