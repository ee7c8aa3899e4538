"""Copying MLflow 3 logged models and the model registry (models, versions, prompts).

Logged models get new ids on the target (nbtrack makes them), so each target
logged model carries the tag ``nbtrack.import.sourceModelId``: a second
import finds it instead of making another. Its files are copied into the
target's artifact store and a registered version whose MLflow source is
``models:/m-<id>`` gets the target copy's folder as its source, so
``nbt.load_model("models:/name@alias")`` loads it. A version whose source lies
in its run's artifacts points at the target run's copy; ``runs:/`` sources
are kept (run ids are).

Version numbers are kept: a gap in the source's numbers (a deleted version)
is kept by registering a placeholder and deleting it, since nbtrack numbers a
new version one above the highest the model ever had. Prompts are registered
models tagged ``mlflow.prompt.is_prompt`` with the template in each version's
``mlflow.prompt.text`` tag, in MLflow and in nbtrack alike, so they copy as
models do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from nbtrack.entities import LoggedModel, ModelVersion, RegisteredModel
from nbtrack.errors import NotFoundError, StoreError
from nbtrack.migrate.copy_run import Progress, copy_artifacts

if TYPE_CHECKING:
    from nbtrack.migrate.sources import Source
    from nbtrack.tracking.client import Client

__all__ = ["SOURCE_MODEL_TAG", "copy_logged_models", "copy_registered_model"]

SOURCE_MODEL_TAG = "nbtrack.import.sourceModelId"


def copy_logged_models(
    source: Source,
    target: Client,
    models: list[LoggedModel],
    experiment_id: str,
    progress: Progress | None = None,
) -> dict[str, str]:
    """Copy logged models into a target experiment; return ``{source model id: target folder}``.

    A target without logged models (a REST server's store) copies none.
    """
    store = target.store
    located: dict[str, str] = {}
    if not models:
        return located
    try:
        have: dict[str, LoggedModel] = {}
        token = None
        while True:
            page, token = store.search_logged_models(
                [experiment_id], max_results=100, page_token=token
            )
            for model in page:
                if SOURCE_MODEL_TAG in model.tags:
                    have[model.tags[SOURCE_MODEL_TAG]] = model
            if not token:
                break
    except StoreError:
        return located
    for model in models:
        mine = have.get(model.model_id)
        if mine is None:
            tags = dict(model.tags, **{SOURCE_MODEL_TAG: model.model_id})
            mine = store.create_logged_model(
                experiment_id, model.name, model.model_type, model.source_run_id, model.params, tags
            )
        if mine.status != model.status:
            if model.artifact_location:
                copy_artifacts(
                    source.artifacts(model.artifact_location),
                    store.artifact_repository(mine.artifact_location),
                    progress,
                )
            store.update_logged_model(mine.model_id, status=model.status)
        if model.lifecycle_stage == "deleted" and mine.lifecycle_stage != "deleted":
            store.delete_logged_model(mine.model_id)
        located[model.model_id] = mine.artifact_location
    return located


def _version_source(
    target: Client, version: ModelVersion, models: dict[str, str], run_uris: dict[str, str]
) -> str:
    source = version.source or ""
    if source.startswith("models:/m-"):
        model_id = source[len("models:/") :].split("/", 1)[0]
        if model_id in models:
            return models[model_id]
    if version.run_id in run_uris:
        theirs = run_uris[version.run_id]
        ours = target.store.get_run_info(version.run_id).artifact_uri
        for prefix in (theirs, theirs.removeprefix("file://")):
            if prefix and source.startswith(prefix):
                return ours.rstrip("/") + source[len(prefix.rstrip("/")) :]
    return source


def copy_registered_model(
    source: Source,
    target: Client,
    model: RegisteredModel,
    models: dict[str, str],
    run_uris: dict[str, str],
    keep: Callable[[ModelVersion], bool] = lambda v: True,
) -> int:
    """Copy one registered model (or prompt) with its versions, tags, stages and aliases.

    Parameters
    ----------
    models:
        ``{source logged model id: target folder}`` from :func:`copy_logged_models`.
    run_uris:
        ``{run id: source artifact URI}`` of the copied runs.
    keep:
        Which source versions to copy (all by default).

    Returns
    -------
    int
        How many versions were created.
    """
    store = target.store
    try:
        mine = store.get_registered_model(model.name)
    except NotFoundError:
        mine = store.create_registered_model(model.name, model.tags, model.description)
    for key, value in model.tags.items():
        if mine.tags.get(key) != value:
            store.set_registered_model_tag(model.name, key, value)
    if (mine.description or None) != (model.description or None):
        store.update_registered_model(model.name, model.description)
    quoted = model.name.replace("'", "\\'")
    have = {
        v.version: v
        for v in store.search_model_versions(f"name='{quoted}'", max_results=10000, prompts=None)[0]
    }
    created = 0
    numbers: dict[int, int] = {}
    for version in source.model_versions(model.name):
        if not keep(version):
            continue
        ours = have.get(version.version)
        if ours is None:
            ours = _create_numbered(
                target, version, _version_source(target, version, models, run_uris)
            )
            created += 1
        numbers[version.version] = ours.version
        for key, value in version.tags.items():
            if ours.tags.get(key) != value:
                store.set_model_version_tag(model.name, ours.version, key, value)
        if ours.current_stage != version.current_stage:
            store.transition_model_version_stage(model.name, ours.version, version.current_stage)
    for alias, number in model.aliases.items():
        if number in numbers and mine.aliases.get(alias) != numbers[number]:
            store.set_registered_model_alias(model.name, alias, numbers[number])
    return created


def _create_numbered(target: Client, version: ModelVersion, source: str) -> ModelVersion:
    """Create ``version`` under its own number, filling a gap below it with deleted placeholders."""
    store = target.store
    while True:
        made = store.create_model_version(
            version.name,
            source,
            version.run_id,
            None,
            version.run_link,
            version.description,
            version.user_id,
            None,
        )
        if made.version >= version.version:
            return made
        # A number the source no longer has (its version was deleted): keep the gap.
        store.delete_model_version(version.name, made.version)
