"""Copy registered models with their versions, aliases and tags to a sync target.

The target numbers versions itself (both kinds of server allocate them), so a
local version maps to the target's number, recorded in the sync state
(``sync_objects``, kind ``model_version``) and on the target as the tag
:data:`~nbtrack.sync.target.SOURCE_VERSION_TAG`, which lets a sync killed
between creating a version and recording it find that version again. A
version's run id is the run's id on the target, and a source inside the run's
artifacts becomes ``runs:/<target run id>/<path>``, so the model loads from
the target's copy of the files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nbtrack.entities import ModelVersion, ModelVersionStage, RegisteredModel
from nbtrack.errors import NotFoundError
from nbtrack.sync.target import SOURCE_VERSION_TAG

if TYPE_CHECKING:
    from nbtrack.sync.runs import RunContext

__all__ = ["ModelResult", "local_models", "sync_model"]

_MODEL, _VERSION = "registered_model", "model_version"


@dataclass(frozen=True, slots=True)
class ModelResult:
    """What the sync did (or would do) to one registered model: versions created."""

    name: str
    action: str  # "unchanged", "created", "updated"
    versions: int = 0


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _version_digest(v: ModelVersion) -> str:
    return _digest(sorted(v.tags.items()), v.description, v.current_stage, v.status)


def _quoted(text: str) -> str:
    return text.replace("'", "\\'")


def local_models(ctx: RunContext, run_ids: set[str] | None) -> Iterator[RegisteredModel]:
    """Yield the local registered models (prompts too) to copy: all of them, or with
    ``run_ids`` those with a version made by one of those runs."""
    token: str | None = None
    while True:
        page, token = ctx.source.search_registered_models(
            max_results=1000, page_token=token, prompts=None
        )
        for model in page:
            if run_ids is None or any(v.run_id in run_ids for v in _versions(ctx, model.name)):
                yield model
        if not token:
            return


def _versions(ctx: RunContext, name: str) -> list[ModelVersion]:
    found: list[ModelVersion] = []
    token: str | None = None
    while True:
        page, token = ctx.source.search_model_versions(
            f"name = '{_quoted(name)}'", page_token=token, prompts=None
        )
        found += page
        if not token:
            return sorted(found, key=lambda v: int(v.version))


def _source(ctx: RunContext, version: ModelVersion) -> tuple[str, str | None]:
    """The version's source and run id as the target knows them."""
    source, run_id = version.source or "", version.run_id
    remote = ctx.remote_ids.get(run_id) if run_id else None
    if run_id and remote is None and ctx.target.keeps_run_ids:
        remote = run_id  # a run not synced keeps its id; the link waits for its sync
    if run_id and remote:
        if source.startswith(f"runs:/{run_id}/"):
            return f"runs:/{remote}/{source[len(f'runs:/{run_id}/') :]}", remote
        try:
            root = ctx.source.get_run(run_id).info.artifact_uri.rstrip("/")
        except NotFoundError:
            root = ""
        for prefix in (root, root.removeprefix("file://")):
            if prefix and source.startswith(prefix + "/"):
                return f"runs:/{remote}/{source[len(prefix) + 1 :]}", remote
    return source, remote


def sync_model(ctx: RunContext, model: RegisteredModel) -> ModelResult:
    """Bring the target's copy of one registered model up to date (nothing in a dry run)."""
    versions = _versions(ctx, model.name)
    digest = _digest(
        sorted(model.tags.items()),
        model.description,
        sorted(model.aliases.items()),
        [(v.version, _version_digest(v), ctx.remote_ids.get(v.run_id or "")) for v in versions],
    )
    known = ctx.source.get_sync_objects(ctx.target_key, _MODEL)
    if known.get(model.name, ("", None))[1] == digest:
        return ModelResult(model.name, "unchanged")
    store, dry = ctx.target.store, ctx.dry_run
    action = "updated"
    if model.name not in known:
        try:
            store.get_registered_model(model.name)
        except NotFoundError:
            action = "created"
            if not dry:
                store.create_registered_model(model.name, model.tags, model.description)
    if not dry and action == "updated":
        for key, value in model.tags.items():
            store.set_registered_model_tag(model.name, key, value)
        if model.description:
            store.update_registered_model(model.name, model.description)
    mapped = ctx.source.get_sync_objects(ctx.target_key, _VERSION)
    there: dict[str, ModelVersion] | None = None
    created = 0
    remote_numbers: dict[int, str] = {}
    for v in versions:
        local_id = f"{model.name}/{v.version}"
        vdigest = _version_digest(v)
        if local_id in mapped and mapped[local_id][1] == vdigest:
            remote_numbers[int(v.version)] = mapped[local_id][0]
            continue
        if dry:
            created += local_id not in mapped
            continue
        number = mapped.get(local_id, ("", None))[0]
        if not number:
            if there is None:
                there = {
                    mv.tags[SOURCE_VERSION_TAG]: mv
                    for mv in _target_versions(ctx, model.name)
                    if SOURCE_VERSION_TAG in mv.tags
                }
            found = there.get(str(v.version))
            if found is None:
                source, run_id = _source(ctx, v)
                made = store.create_model_version(
                    model.name,
                    source,
                    run_id=run_id,
                    tags={**v.tags, SOURCE_VERSION_TAG: str(v.version)},
                    description=v.description,
                )
                created += 1
                number = str(made.version)
            else:
                number = str(found.version)
        else:
            for key, value in v.tags.items():
                store.set_model_version_tag(model.name, number, key, value)
            store.update_model_version(model.name, number, v.description)
        if v.current_stage != ModelVersionStage.NONE:
            store.transition_model_version_stage(model.name, number, v.current_stage)
        ctx.source.save_sync_object(ctx.target_key, _VERSION, local_id, number, vdigest)
        remote_numbers[int(v.version)] = number
    if not dry:
        for alias, version in model.aliases.items():
            if int(version) in remote_numbers:
                store.set_registered_model_alias(model.name, alias, remote_numbers[int(version)])
        ctx.source.save_sync_object(ctx.target_key, _MODEL, model.name, model.name, digest)
    return ModelResult(model.name, action, created)


def _target_versions(ctx: RunContext, name: str) -> list[ModelVersion]:
    try:
        return ctx.target.model_versions(name)
    except NotFoundError:
        return []
