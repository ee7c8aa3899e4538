"""The registry half of ``SqlStore``: one transaction per call around ``registry.py``.

Kept apart from ``store.py`` so that neither module grows past a readable
size; ``SqlStore`` inherits these methods. Reads run in a read transaction,
writes in the store's write transaction (``BEGIN IMMEDIATE`` on SQLite).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack.store.sql import registry as r
from nbtrack.store.sql import registry_labels as labels

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from nbtrack.entities import ModelVersion, RegisteredModel

__all__ = ["RegistryStoreMixin"]


def _now_ms() -> int:
    return int(time.time() * 1000)


class RegistryStoreMixin:
    """Model registry methods of :class:`~nbtrack.store.sql.store.SqlStore`."""

    if TYPE_CHECKING:

        def _write(self) -> contextlib.AbstractContextManager[Connection]: ...

        def _read(self) -> contextlib.AbstractContextManager[Connection]: ...

    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create an empty registered model; AlreadyExistsError if the name is taken."""
        with self._write() as conn:
            return r.create_registered_model(conn, name, _now_ms(), tags, description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model or raise NotFoundError."""
        with self._read() as conn:
            return r.get_registered_model(conn, name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        prompts: bool | None = False,
    ) -> tuple[list[RegisteredModel], str | None]:
        """Return one page of registered models matching ``filter_string`` and the next token."""
        with self._read() as conn:
            return r.search_registered_models(
                conn, filter_string, max_results, order_by, page_token, prompts
            )

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set a registered model's description."""
        with self._write() as conn:
            return r.update_registered_model(conn, name, description, _now_ms())

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model, keeping its versions, tags and aliases."""
        with self._write() as conn:
            return r.rename_registered_model(conn, name, new_name, _now_ms())

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with everything it holds."""
        with self._write() as conn:
            r.delete_registered_model(conn, name)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set one tag of a registered model."""
        with self._write() as conn:
            labels.set_registered_model_tag(conn, name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove one tag of a registered model."""
        with self._write() as conn:
            labels.delete_registered_model_tag(conn, name, key)

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        user_id: str | None = None,
        storage_location: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as the next version of ``name``, numbered in the transaction."""
        with self._write() as conn:
            return r.create_model_version(
                conn,
                name,
                source,
                _now_ms(),
                run_id,
                tags,
                run_link,
                description,
                user_id,
                storage_location,
            )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one model version or raise NotFoundError."""
        with self._read() as conn:
            return r.get_model_version(conn, name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        prompts: bool | None = False,
    ) -> tuple[list[ModelVersion], str | None]:
        """Return one page of model versions matching ``filter_string`` and the next token."""
        with self._read() as conn:
            return r.search_model_versions(
                conn, filter_string, max_results, order_by, page_token, prompts
            )

    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> ModelVersion:
        """Set a model version's description."""
        with self._write() as conn:
            return r.update_model_version(conn, name, version, description, _now_ms())

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to None/Staging/Production/Archived."""
        with self._write() as conn:
            return r.transition_model_version_stage(
                conn, name, version, stage, archive_existing_versions, _now_ms()
            )

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a model version and the aliases pointing at it."""
        with self._write() as conn:
            r.delete_model_version(conn, name, version, _now_ms())

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        """Set one tag of a model version."""
        with self._write() as conn:
            labels.set_model_version_tag(conn, name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove one tag of a model version."""
        with self._write() as conn:
            labels.delete_model_version_tag(conn, name, version, key)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """Return the newest version of each requested stage."""
        with self._read() as conn:
            return r.get_latest_versions(conn, name, stages)

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at a version."""
        with self._write() as conn:
            labels.set_registered_model_alias(conn, name, alias, version, _now_ms())

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias."""
        with self._write() as conn:
            labels.delete_registered_model_alias(conn, name, alias, _now_ms())

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at."""
        with self._read() as conn:
            return labels.get_model_version_by_alias(conn, name, alias)
