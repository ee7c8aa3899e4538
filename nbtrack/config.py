"""Which store is in use: ``set_tracking_uri`` > ``NBTRACK_TRACKING_URI`` > ``.nbtrack/``."""

from __future__ import annotations

import os

from nbtrack import env
from nbtrack.uris import default_store_folder

__all__ = ["get_artifact_root", "get_tracking_uri", "set_tracking_uri"]

_tracking_uri: str | None = None


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
