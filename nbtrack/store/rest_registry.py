"""The model registry half of the REST store, over MLflow's registry routes.

Searches go through ``/api/2.0/nbtrack/…/search``, which take the Store
protocol's ``prompts`` flag (MLflow's routes have no such filter and would
mix prompts into model listings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack.store import rest_json as j

if TYPE_CHECKING:
    from nbtrack.entities import ModelVersion, RegisteredModel
    from nbtrack.store._http import HttpSession

__all__ = ["RestRegistryMixin"]

_RM = "/api/2.0/mlflow/registered-models"
_MV = "/api/2.0/mlflow/model-versions"


def _tag_list(tags: dict[str, Any] | None) -> list[dict[str, str]]:
    return j.kv_list(tags or {})


class RestRegistryMixin:
    """Registered models, versions, stages, tags and aliases over HTTP."""

    http: HttpSession

    # registered models ---------------------------------------------------------

    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create an empty registered model; AlreadyExistsError if the name is taken."""
        body: dict[str, Any] = {"name": name, "tags": _tag_list(tags)}
        if description is not None:
            body["description"] = description
        out = self.http.call("POST", f"{_RM}/create", body)
        return j.registered_model(out["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model or raise NotFoundError."""
        out = self.http.call("GET", f"{_RM}/get", params={"name": name})
        return j.registered_model(out["registered_model"])

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        prompts: bool | None = False,
    ) -> tuple[list[RegisteredModel], str | None]:
        """Return one page of registered models matching a filter, and the next page's token."""
        out = self.http.call(
            "POST",
            "/api/2.0/nbtrack/registered-models/search",
            _search_body(filter_string, max_results, order_by, page_token, prompts),
        )
        models = [j.registered_model(m) for m in out.get("registered_models", ())]
        return models, out.get("next_page_token") or None

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set a registered model's description."""
        out = self.http.call(
            "PATCH", f"{_RM}/update", {"name": name, "description": description or ""}
        )
        return j.registered_model(out["registered_model"])

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model, keeping its versions, tags and aliases."""
        out = self.http.call("POST", f"{_RM}/rename", {"name": name, "new_name": new_name})
        return j.registered_model(out["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with its versions, tags and aliases."""
        self.http.call("DELETE", f"{_RM}/delete", {"name": name})

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set one tag of a registered model."""
        self.http.call("POST", f"{_RM}/set-tag", {"name": name, "key": key, "value": str(value)})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove one tag of a registered model."""
        self.http.call("DELETE", f"{_RM}/delete-tag", {"name": name, "key": key})

    # versions ------------------------------------------------------------------

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
        """Register ``source`` as the next version of ``name``.

        ``user_id`` and ``storage_location`` are decided by the server (MLflow's
        route takes neither): it records the authenticated user and resolves the
        run's artifact location itself.
        """
        body: dict[str, Any] = {"name": name, "source": source, "tags": _tag_list(tags)}
        if run_id:
            body["run_id"] = run_id
        if run_link:
            body["run_link"] = run_link
        if description is not None:
            body["description"] = description
        out = self.http.call("POST", f"{_MV}/create", body)
        return j.model_version(out["model_version"])

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one model version or raise NotFoundError."""
        out = self.http.call("GET", f"{_MV}/get", params={"name": name, "version": str(version)})
        return j.model_version(out["model_version"])

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
        prompts: bool | None = False,
    ) -> tuple[list[ModelVersion], str | None]:
        """Return one page of model versions matching a filter, and the next page's token."""
        out = self.http.call(
            "POST",
            "/api/2.0/nbtrack/model-versions/search",
            _search_body(filter_string, max_results, order_by, page_token, prompts),
        )
        versions = [j.model_version(v) for v in out.get("model_versions", ())]
        return versions, out.get("next_page_token") or None

    def update_model_version(
        self, name: str, version: int | str, description: str | None
    ) -> ModelVersion:
        """Set a model version's description."""
        body = {"name": name, "version": str(version), "description": description or ""}
        out = self.http.call("PATCH", f"{_MV}/update", body)
        return j.model_version(out["model_version"])

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to one of MLflow's legacy stages."""
        body = {
            "name": name,
            "version": str(version),
            "stage": stage,
            "archive_existing_versions": bool(archive_existing_versions),
        }
        out = self.http.call("POST", f"{_MV}/transition-stage", body)
        return j.model_version(out["model_version"])

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a model version and the aliases pointing at it."""
        self.http.call("DELETE", f"{_MV}/delete", {"name": name, "version": str(version)})

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        """Set one tag of a model version."""
        body = {"name": name, "version": str(version), "key": key, "value": str(value)}
        self.http.call("POST", f"{_MV}/set-tag", body)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove one tag of a model version."""
        body = {"name": name, "version": str(version), "key": key}
        self.http.call("DELETE", f"{_MV}/delete-tag", body)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """Return the newest version of each requested stage (all stages when None)."""
        body: dict[str, Any] = {"name": name}
        if stages:
            body["stages"] = list(stages)
        out = self.http.call("POST", f"{_RM}/get-latest-versions", body)
        return [j.model_version(v) for v in out.get("model_versions", ())]

    # aliases -------------------------------------------------------------------

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at a version of ``name``."""
        body = {"name": name, "alias": alias, "version": str(version)}
        self.http.call("POST", f"{_RM}/alias", body)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias."""
        self.http.call("DELETE", f"{_RM}/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version an alias points at."""
        out = self.http.call("GET", f"{_RM}/alias", params={"name": name, "alias": alias})
        return j.model_version(out["model_version"])


def _search_body(
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None,
    prompts: bool | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"max_results": max_results, "prompts": prompts}
    if filter_string:
        body["filter"] = filter_string
    if order_by:
        body["order_by"] = list(order_by)
    if page_token:
        body["page_token"] = page_token
    return body
