"""The model registry half of ``nbt.Client``, with ``MlflowClient``'s method names.

Kept in its own module so that ``client.py`` stays readable; ``Client``
inherits these methods. Each forwards to the store, which validates the
input and runs one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from nbtrack.tracking.client_extras import ClientExtrasMixin
from nbtrack.tracking.paged import PagedList

if TYPE_CHECKING:
    from nbtrack.entities import ModelVersion, RegisteredModel
    from nbtrack.store.base import Store

__all__ = ["RegistryClientMixin"]


class RegistryClientMixin(ClientExtrasMixin):
    """Registered models, versions, stages, tags and aliases.

    It carries :class:`ClientExtrasMixin` (MlflowClient's composed methods)
    so that ``Client`` gets both through its one mixin base.
    """

    store: Store

    # registered models -------------------------------------------------------

    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str | None = None
    ) -> RegisteredModel:
        """Create an empty registered model.

        Parameters
        ----------
        name:
            Unique name; no ``/`` or ``:``.
        tags:
            Tags of the model.
        description:
            Free text.

        Returns
        -------
        RegisteredModel

        Raises
        ------
        AlreadyExistsError
            A model called ``name`` exists.
        InvalidInput
            The name or a tag is invalid.
        """
        return self.store.create_registered_model(name, tags, description)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """Return a registered model with its tags, aliases and latest version per stage.

        Raises
        ------
        NotFoundError
            No model is called ``name``.
        """
        return self.store.get_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Return one page of registered models matching a filter (prompts excluded).

        Parameters
        ----------
        filter_string:
            e.g. ``"name LIKE 'iris%'"`` or ``"tags.team = 'ml'"`` (with AND, OR
            and parentheses); None matches every model.
        max_results:
            At most this many models.
        order_by:
            e.g. ``["name DESC"]`` or ``["last_updated_timestamp DESC"]``; by name
            by default.
        page_token:
            The ``token`` of the previous page, for the next one.

        Returns
        -------
        PagedList
            The models, with ``.token`` for the next page (None after the last).

        Raises
        ------
        InvalidFilter
            The filter or an order_by item is malformed.
        """
        models, token = self.store.search_registered_models(
            filter_string, max_results, order_by, page_token
        )
        return PagedList(models, token)

    def search_prompts(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList:
        """Return one page of prompts (registered models marked as prompts) matching a filter.

        Load their templates with :func:`nbtrack.load_prompt`.
        """
        prompts, token = self.store.search_registered_models(
            filter_string, max_results, None, page_token, prompts=True
        )
        return PagedList(prompts, token)

    def update_registered_model(self, name: str, description: str | None = None) -> RegisteredModel:
        """Set a registered model's description; NotFoundError if there is no such model."""
        return self.store.update_registered_model(name, description)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model; its versions, tags and aliases follow.

        Raises
        ------
        NotFoundError
            No model is called ``name``.
        AlreadyExistsError
            ``new_name`` is taken.
        """
        return self.store.rename_registered_model(name, new_name)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions, tags and aliases."""
        self.store.delete_registered_model(name)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set (or overwrite) one tag of a registered model."""
        self.store.set_registered_model_tag(name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove one tag of a registered model; NotFoundError if it has none by that key."""
        self.store.delete_registered_model_tag(name, key)

    # model versions ----------------------------------------------------------

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
    ) -> ModelVersion:
        """Register ``source`` as the next version of the registered model ``name``.

        Parameters
        ----------
        name:
            An existing registered model.
        source:
            Where the model is: ``runs:/<run_id>/<path>``, a folder, a URI.
        run_id:
            The run that produced it (taken from a ``runs:/`` source when None).
        tags, run_link, description:
            Kept with the version.

        Returns
        -------
        ModelVersion
            Numbered one above the highest version the model ever had; two
            processes registering at once get distinct numbers.

        Raises
        ------
        NotFoundError
            No model is called ``name``, or the ``runs:/`` source names an unknown run.
        """
        storage_location = None
        if source.startswith("runs:/"):
            from nbtrack.uris import parse_runs_uri

            source_run, path = parse_runs_uri(source)
            run_id = run_id or source_run
            base = self.store.get_run(source_run).info.artifact_uri.rstrip("/")
            storage_location = f"{base}/{path}" if path else base
        return self.store.create_model_version(
            name, source, run_id, tags, run_link, description, None, storage_location
        )

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """Return one version.

        Raises
        ------
        NotFoundError
            Naming the missing model or version.
        InvalidInput
            ``version`` is not a positive integer.
        """
        return self.store.get_model_version(name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Return one page of model versions matching a filter (prompt versions excluded).

        Parameters
        ----------
        filter_string:
            e.g. ``"name = 'iris'"``, ``"run_id = '…'"``, ``"tags.k = 'v'"``,
            ``"version_number > 2"``; None matches every version.
        max_results:
            At most this many versions.
        order_by:
            Attributes such as ``["version_number DESC"]``; newest update first by default.
        page_token:
            The ``token`` of the previous page, for the next one.
        """
        versions, token = self.store.search_model_versions(
            filter_string, max_results, order_by, page_token
        )
        return PagedList(versions, token)

    def update_model_version(
        self, name: str, version: int | str, description: str | None = None
    ) -> ModelVersion:
        """Set a version's description (versions are otherwise immutable)."""
        return self.store.update_model_version(name, version, description)

    def transition_model_version_stage(
        self, name: str, version: int | str, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to MLflow's legacy stage None, Staging, Production or Archived.

        Parameters
        ----------
        stage:
            Matched case-insensitively; the returned version has the canonical spelling.
        archive_existing_versions:
            Archive the other versions in that stage (Staging or Production only).

        Raises
        ------
        InvalidInput
            An unknown stage.
        """
        return self.store.transition_model_version_stage(
            name, version, stage, archive_existing_versions
        )

    def delete_model_version(self, name: str, version: int | str) -> None:
        """Delete a version; aliases pointing at it go too, and its number is never reused."""
        self.store.delete_model_version(name, version)

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: Any) -> None:
        """Set (or overwrite) one tag of a model version."""
        self.store.set_model_version_tag(name, version, key, value)

    def delete_model_version_tag(self, name: str, version: int | str, key: str) -> None:
        """Remove one tag of a model version; NotFoundError if it has none by that key."""
        self.store.delete_model_version_tag(name, version, key)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """Return the newest version in each of ``stages`` (every stage when None)."""
        return self.store.get_latest_versions(name, stages)

    # aliases -----------------------------------------------------------------

    def set_registered_model_alias(self, name: str, alias: str, version: int | str) -> None:
        """Point ``alias`` at a version (moving it if it pointed at another).

        Raises
        ------
        InvalidInput
            The alias name is invalid or reserved (``latest``, ``v1``…).
        NotFoundError
            No such model or version.
        """
        self.store.set_registered_model_alias(name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias; NotFoundError if the model has no such alias."""
        self.store.delete_registered_model_alias(name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """Return the version ``alias`` points at; NotFoundError naming the alias if unset."""
        return self.store.get_model_version_by_alias(name, alias)
