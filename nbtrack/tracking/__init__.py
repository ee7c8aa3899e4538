"""Tracking: the client, the fluent run stack, buffering and run context.

``nbtrack.tracking.MlflowClient`` (and ``from nbtrack.tracking import
MlflowClient``) is MLflow's import path for :class:`nbtrack.Client`; the
names load on first use so importing this package stays cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MlflowClient",
    "get_registry_uri",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "set_registry_uri",
    "set_tracking_uri",
]


def __getattr__(name: str) -> Any:
    if name == "MlflowClient":
        from nbtrack.tracking.client import Client

        return Client
    if name in __all__:
        import nbtrack.config

        return getattr(nbtrack.config, name)
    raise AttributeError(f"module 'nbtrack.tracking' has no attribute {name!r}")
