"""Open the store a tracking URI names, once per process."""

from __future__ import annotations

import threading

from nbtrack.store.base import Store
from nbtrack.uris import resolve_store_location

__all__ = ["open_store"]

_stores: dict[tuple[str, str | None], Store] = {}
_lock = threading.Lock()


def open_store(tracking_uri: str, artifact_root: str | None = None) -> Store:
    """Return the (cached) store for ``tracking_uri``, creating or upgrading it as needed."""
    key = (tracking_uri, artifact_root)
    store = _stores.get(key)
    if store is not None:
        return store
    with _lock:
        store = _stores.get(key)
        if store is None:
            location = resolve_store_location(tracking_uri, artifact_root)
            if location.kind == "rest":
                from nbtrack.store.rest import RestStore

                store = RestStore(location.db_url)
            else:
                from nbtrack.store.sql.core import open_sql_store

                store = open_sql_store(location.db_url, location.artifact_root)
            _stores[key] = store
    return store


def forget_stores() -> None:
    """Drop cached stores (tests and ``set_tracking_uri`` switching folders)."""
    with _lock:
        for store in _stores.values():
            from nbtrack.store.sql.core import SqlStoreCore

            if isinstance(store, SqlStoreCore):
                store.close()  # not getattr(store, "http"): that would load SQLAlchemy
                continue
            http = getattr(store, "http", None)
            if http is not None:
                http.close()
        _stores.clear()
