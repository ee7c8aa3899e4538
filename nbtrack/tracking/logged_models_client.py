"""The logged-model half of ``nbt.Client``: MLflow 3's logged models (``m-<hex>``).

Kept in its own module so that ``client.py`` stays readable; ``Client``
inherits these methods. Each forwards to the store, which validates the
input and runs one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbtrack.entities import LoggedModel
    from nbtrack.store.base import Store

__all__ = ["LoggedModelClientMixin"]

_SHORT_STATUS = {"READY": "LOGGED_MODEL_READY", "FAILED": "LOGGED_MODEL_UPLOAD_FAILED"}


class LoggedModelClientMixin:
    """Create, finalize, tag, delete and search logged models."""

    store: Store

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING logged model; ``name`` defaults to a generated one.

        The arguments come in ``MlflowClient.create_logged_model``'s order.

        Raises
        ------
        NotFoundError
            The experiment does not exist.
        """
        if not name:
            from nbtrack.tracking.names import generate_run_name

            name = generate_run_name()
        return self.store.create_logged_model(
            experiment_id, name, model_type, source_run_id, params, tags
        )

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """Return a logged model; NotFoundError if there is none (or it is deleted)."""
        return self.store.get_logged_model(model_id, allow_deleted)

    def finalize_logged_model(
        self, model_id: str, status: str, status_message: str | None = None
    ) -> LoggedModel:
        """Set a logged model's final status (``LOGGED_MODEL_READY`` or ``…_UPLOAD_FAILED``).

        MLflow's short spellings ``READY`` and ``FAILED`` are accepted too.
        """
        status = _SHORT_STATUS.get(status, status)
        return self.store.update_logged_model(model_id, status, status_message)

    def update_logged_model(
        self,
        model_id: str,
        status: str | None = None,
        status_message: str | None = None,
        source_run_id: str | None = None,
    ) -> LoggedModel:
        """Change a logged model's status and/or the run that produced it."""
        return self.store.update_logged_model(model_id, status, status_message, source_run_id)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        """Set tags of a logged model."""
        self.store.set_logged_model_tags(model_id, tags)

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        """Add params to a logged model (MlflowClient's name)."""
        self.store.log_logged_model_params(model_id, params)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove one tag of a logged model."""
        self.store.delete_logged_model_tag(model_id, key)

    def delete_logged_model(self, model_id: str) -> None:
        """Delete a logged model (``allow_deleted`` reads still find it)."""
        self.store.delete_logged_model(model_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_terms: Sequence[tuple[str, str, str]] = (),
        order_by: Sequence[tuple[str, bool]] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> tuple[list[LoggedModel], str | None]:
        """Return one page of logged models of some experiments, and the next page's token.

        ``filter_terms``: ``(field, "=" | "!=", value)`` joined by AND, field being
        name, model_id, source_run_id, model_type, status, ``tags.<key>`` or
        ``params.<key>``; ``order_by``: ``(field, ascending)``, newest first by default.
        """
        return self.store.search_logged_models(
            experiment_ids, filter_terms, order_by, max_results, page_token
        )
