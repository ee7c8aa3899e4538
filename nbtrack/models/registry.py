"""The models side of the registry: ``register_model`` and reading ``models:/`` URIs.

A registered version keeps the URI it was registered from as its ``source``
(``runs:/<run_id>/model`` usually), so loading ``models:/iris@champion``
means finding the version in the registry, then loading its source.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from nbtrack.entities import IS_PROMPT_TAG, PROMPT_TEXT_TAG
from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError

if TYPE_CHECKING:
    from nbtrack.entities import ModelVersion
    from nbtrack.tracking.client import Client

__all__ = ["register_model", "resolve_models_uri"]


def register_model(model_uri: str, name: str, tags: dict[str, Any] | None = None) -> ModelVersion:
    """Register the model at ``model_uri`` as a new version of ``name``.

    Parameters
    ----------
    model_uri:
        ``runs:/<run_id>/<path>`` (the run is kept as the version's lineage),
        a model folder, or a ``models:/`` URI (its source is registered again).
    name:
        The registered model, created if it does not exist yet.
    tags:
        Tags of the new version.

    Returns
    -------
    ModelVersion
        The new version, numbered from 1.

    Raises
    ------
    InvalidInput
        An invalid model name or tag.
    NotFoundError
        The run of a ``runs:/`` URI, or the version a ``models:/`` URI names, is unknown.
    """
    from nbtrack.tracking.client import Client

    client = Client()
    source = model_uri
    run_id = None
    if model_uri.startswith("models:/"):
        found = resolve_models_uri(model_uri, client)
        source, run_id = found.source or model_uri, found.run_id
    # Another process may create the model between our check and our insert.
    with contextlib.suppress(AlreadyExistsError):
        client.create_registered_model(name)
    if client.get_registered_model(name).tags.get(IS_PROMPT_TAG) == "true":
        raise InvalidInput(f"{name!r} is a prompt; register models under another name")
    return client.create_model_version(name, source, run_id=run_id, tags=tags)


def resolve_models_uri(uri: str, client: Client | None = None) -> ModelVersion:
    """Return the version a ``models:/`` URI names (by number, alias, stage or latest).

    Raises
    ------
    InvalidInput
        The URI is malformed or names an unknown stage.
    NotFoundError
        No such model, version or alias, or no version in that stage.
    """
    from nbtrack.store.registry_checks import stage_name
    from nbtrack.tracking.client import Client
    from nbtrack.uris import parse_models_uri

    client = client or Client()
    name, kind, ref = parse_models_uri(uri)
    if kind == "version":
        return _model_only(client.get_model_version(name, int(ref)), uri)
    if kind == "alias":
        return _model_only(client.get_model_version_by_alias(name, ref), uri)
    stages = [stage_name(ref)] if kind == "stage" else None
    versions = client.get_latest_versions(name, stages)
    if not versions:
        where = f"in stage {stages[0]!r}" if stages else "at all"
        raise NotFoundError(f"Registered model {name!r} has no version {where} ({uri!r})")
    return _model_only(max(versions, key=lambda v: v.version), uri)


def _model_only(version: ModelVersion, uri: str) -> ModelVersion:
    if PROMPT_TEXT_TAG in version.tags:
        raise InvalidInput(
            f"{uri!r} names a prompt, not a model; read it with "
            f"nbt.load_prompt('prompts:/{version.name}/{version.version}')"
        )
    return version
