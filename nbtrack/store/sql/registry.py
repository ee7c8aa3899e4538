"""The model registry over a SQL connection: registered models and their versions.

Functions take the connection of a transaction the store opened (a write
transaction for writes: ``BEGIN IMMEDIATE`` on SQLite). Version numbers are
allocated inside that transaction, after locking the registered model's row
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite already serialises writers),
so processes registering at once get distinct numbers. Versions are
immutable but for their description, stage, tags and aliases; a deleted
version keeps its row (stage ``Deleted_Internal``, as in MLflow) so that its
number is never handed out again, while its tags and aliases go. Tags and
aliases themselves are in ``registry_labels.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from nbtrack.entities import ModelVersion, ModelVersionStage, RegisteredModel
from nbtrack.errors import AlreadyExistsError, InvalidInput, NotFoundError
from nbtrack.store.paging import decode_page_token, split_page
from nbtrack.store.registry_checks import model_name, registry_tag, stage_name
from nbtrack.store.sql import schema as s
from nbtrack.store.sql.registry_search import (
    DELETED_STAGE,
    build_model_version_query,
    build_registered_model_query,
)

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row

__all__ = [
    "create_model_version",
    "create_registered_model",
    "delete_model_version",
    "delete_registered_model",
    "get_latest_versions",
    "get_model_version",
    "get_registered_model",
    "model_row",
    "rename_registered_model",
    "search_model_versions",
    "search_registered_models",
    "touch_model",
    "transition_model_version_stage",
    "update_model_version",
    "update_registered_model",
    "version_row",
]

_rm, _rmt, _mv = s.registered_models, s.registered_model_tags, s.model_versions
_mvt, _alias = s.model_version_tags, s.registered_model_aliases
_LIVE = _mv.c.current_stage != DELETED_STAGE


# registered models ------------------------------------------------------------


def model_row(conn: Connection, name: str, lock: bool = False) -> Row[Any]:
    """Return the ``registered_models`` row (``lock``: FOR UPDATE); NotFoundError if none."""
    query = select(_rm).where(_rm.c.name == name)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise NotFoundError(f"Registered model {name!r} does not exist")
    return row


def touch_model(conn: Connection, name: str, now: int) -> None:
    """Set a registered model's last update time."""
    conn.execute(update(_rm).where(_rm.c.name == name).values(last_updated_time=now))


def create_registered_model(
    conn: Connection,
    name: str,
    now: int,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
) -> RegisteredModel:
    """Create an empty registered model; AlreadyExistsError if the name is taken."""
    model_name(name)
    tag_rows = [{"name": name, **registry_tag(k, v)} for k, v in (tags or {}).items()]
    if conn.execute(select(_rm.c.name).where(_rm.c.name == name)).first() is not None:
        raise AlreadyExistsError(f"Registered model {name!r} already exists")
    try:
        conn.execute(
            insert(_rm).values(
                name=name, creation_time=now, last_updated_time=now, description=description
            )
        )
    except IntegrityError:
        raise AlreadyExistsError(f"Registered model {name!r} already exists") from None
    if tag_rows:
        conn.execute(insert(_rmt), tag_rows)
    return get_registered_model(conn, name)


def _models(conn: Connection, names: Sequence[str]) -> list[RegisteredModel]:
    """Return the registered models called ``names`` (in that order), fully populated."""
    if not names:
        return []
    rows = {r.name: r for r in conn.execute(select(_rm).where(_rm.c.name.in_(names)))}
    tags: dict[str, dict[str, str]] = {}
    for name, key, value in conn.execute(select(_rmt).where(_rmt.c.name.in_(names))):
        tags.setdefault(name, {})[key] = value
    aliases: dict[str, dict[str, int]] = {}
    for name, alias, version in conn.execute(
        select(_alias).where(_alias.c.name.in_(names)).order_by(_alias.c.alias)
    ):
        aliases.setdefault(name, {})[alias] = version
    newest = (
        select(_mv.c.name, _mv.c.current_stage, func.max(_mv.c.version).label("version"))
        .where(_mv.c.name.in_(names), _LIVE)
        .group_by(_mv.c.name, _mv.c.current_stage)
        .subquery()
    )
    latest_rows = conn.execute(
        select(_mv)
        .join(newest, (_mv.c.name == newest.c.name) & (_mv.c.version == newest.c.version))
        .order_by(_mv.c.version)
    ).all()
    latest: dict[str, list[ModelVersion]] = {}
    for version in _versions(conn, latest_rows):
        latest.setdefault(version.name, []).append(version)
    return [
        RegisteredModel(
            name=rows[n].name,
            creation_timestamp=rows[n].creation_time,
            last_updated_timestamp=rows[n].last_updated_time,
            description=rows[n].description,
            latest_versions=latest.get(n, []),
            tags=tags.get(n, {}),
            aliases=aliases.get(n, {}),
        )
        for n in names
        if n in rows
    ]


def get_registered_model(conn: Connection, name: str) -> RegisteredModel:
    """Return a registered model with its tags, aliases and latest version per stage."""
    found = _models(conn, [name])
    if not found:
        raise NotFoundError(f"Registered model {name!r} does not exist")
    return found[0]


def search_registered_models(
    conn: Connection,
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None = None,
    prompts: bool | None = False,
) -> tuple[list[RegisteredModel], str | None]:
    """Return one page of registered models matching ``filter_string`` and the next token."""
    offset = decode_page_token(page_token)
    query = build_registered_model_query(
        filter_string, list(order_by or []), offset, max_results + 1, prompts
    )
    names, token = split_page([row.name for row in conn.execute(query)], offset, max_results)
    return _models(conn, names), token


def update_registered_model(
    conn: Connection, name: str, description: str | None, now: int
) -> RegisteredModel:
    """Set a registered model's description."""
    model_row(conn, name)
    conn.execute(
        update(_rm).where(_rm.c.name == name).values(description=description, last_updated_time=now)
    )
    return get_registered_model(conn, name)


def rename_registered_model(
    conn: Connection, name: str, new_name: str, now: int
) -> RegisteredModel:
    """Rename a registered model; versions, tags and aliases follow (ON UPDATE CASCADE)."""
    model_name(new_name)
    model_row(conn, name, lock=True)
    if new_name != name and conn.execute(select(_rm.c.name).where(_rm.c.name == new_name)).first():
        raise AlreadyExistsError(f"Registered model {new_name!r} already exists")
    conn.execute(update(_rm).where(_rm.c.name == name).values(name=new_name, last_updated_time=now))
    return get_registered_model(conn, new_name)


def delete_registered_model(conn: Connection, name: str) -> None:
    """Delete a registered model with all its versions, tags and aliases."""
    model_row(conn, name, lock=True)
    for table in (_alias, _mvt, _mv, _rmt, _rm):
        conn.execute(delete(table).where(table.c.name == name))


# model versions ---------------------------------------------------------------


def _versions(conn: Connection, rows: Sequence[Row[Any]]) -> list[ModelVersion]:
    """Build ModelVersion entities (with tags and aliases) from ``model_versions`` rows."""
    if not rows:
        return []
    keys = {(r.name, r.version) for r in rows}
    names = sorted({name for name, _ in keys})
    tags: dict[tuple[str, int], dict[str, str]] = {}
    for name, version, key, value in conn.execute(select(_mvt).where(_mvt.c.name.in_(names))):
        if (name, version) in keys:
            tags.setdefault((name, version), {})[key] = value
    aliases: dict[tuple[str, int], list[str]] = {}
    for name, alias, version in conn.execute(
        select(_alias).where(_alias.c.name.in_(names)).order_by(_alias.c.alias)
    ):
        aliases.setdefault((name, version), []).append(alias)
    return [
        ModelVersion(
            name=r.name,
            version=r.version,
            creation_timestamp=r.creation_time,
            last_updated_timestamp=r.last_updated_time,
            description=r.description,
            user_id=r.user_id,
            current_stage=r.current_stage,
            source=r.source,
            run_id=r.run_id,
            status=r.status,
            tags=tags.get((r.name, r.version), {}),
            aliases=aliases.get((r.name, r.version), []),
            run_link=r.run_link,
        )
        for r in rows
    ]


def _version_number(version: object) -> int:
    if isinstance(version, bool):
        raise InvalidInput(f"Model version must be an integer, got {version!r}")
    try:
        number = int(version)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput(f"Model version must be an integer, got {version!r}") from None
    if number < 1:
        raise InvalidInput(f"Model versions are numbered from 1, got {version!r}")
    return number


def version_row(conn: Connection, name: str, version: object) -> Row[Any]:
    """Return a live version's row; NotFoundError names the missing model or version."""
    number = _version_number(version)
    row = conn.execute(
        select(_mv).where(_mv.c.name == name, _mv.c.version == number, _LIVE)
    ).first()
    if row is None:
        model_row(conn, name)
        raise NotFoundError(f"Model {name!r} has no version {number}")
    return row


def create_model_version(
    conn: Connection,
    name: str,
    source: str,
    now: int,
    run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    run_link: str | None = None,
    description: str | None = None,
    user_id: str | None = None,
    storage_location: str | None = None,
) -> ModelVersion:
    """Register ``source`` as the next version of model ``name`` (which must exist).

    The number is the highest ever given to the model plus one, read after
    locking the model's row in this same transaction.
    """
    if not isinstance(source, str) or not source:
        raise InvalidInput(f"A model version needs a source URI, got {source!r}")
    tag_rows = [registry_tag(k, v) for k, v in (tags or {}).items()]
    model_row(conn, name, lock=True)
    highest = conn.execute(select(func.max(_mv.c.version)).where(_mv.c.name == name)).scalar()
    version = (highest or 0) + 1
    conn.execute(
        insert(_mv).values(
            name=name,
            version=version,
            creation_time=now,
            last_updated_time=now,
            description=description,
            user_id=user_id,
            current_stage=ModelVersionStage.NONE,
            source=source,
            run_id=run_id,
            run_link=run_link,
            status="READY",
            storage_location=storage_location or source,
        )
    )
    if tag_rows:
        conn.execute(insert(_mvt), [{"name": name, "version": version, **r} for r in tag_rows])
    touch_model(conn, name, now)
    return get_model_version(conn, name, version)


def get_model_version(conn: Connection, name: str, version: object) -> ModelVersion:
    """Return one version; NotFoundError names the model or the version that is missing."""
    return _versions(conn, [version_row(conn, name, version)])[0]


def search_model_versions(
    conn: Connection,
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token: str | None = None,
    prompts: bool | None = False,
) -> tuple[list[ModelVersion], str | None]:
    """Return one page of model versions matching ``filter_string`` and the next token."""
    offset = decode_page_token(page_token)
    query = build_model_version_query(
        filter_string, list(order_by or []), offset, max_results + 1, prompts
    )
    rows_read = [(row.name, row.version) for row in conn.execute(query)]
    keys, token = split_page(rows_read, offset, max_results)
    if not keys:
        return [], token
    rows = conn.execute(select(_mv).where(_mv.c.name.in_({n for n, _ in keys}), _LIVE)).all()
    by_key = {(r.name, r.version): r for r in rows}
    return _versions(conn, [by_key[k] for k in keys]), token


def update_model_version(
    conn: Connection, name: str, version: object, description: str | None, now: int
) -> ModelVersion:
    """Set a version's description (the only free-text field that may change)."""
    row = version_row(conn, name, version)
    conn.execute(
        update(_mv)
        .where(_mv.c.name == name, _mv.c.version == row.version)
        .values(description=description, last_updated_time=now)
    )
    return get_model_version(conn, name, row.version)


def transition_model_version_stage(
    conn: Connection,
    name: str,
    version: object,
    stage: str,
    archive_existing_versions: bool,
    now: int,
) -> ModelVersion:
    """Move a version to a legacy stage, optionally archiving the others in that stage."""
    canonical = stage_name(stage)
    if archive_existing_versions and canonical not in (
        ModelVersionStage.STAGING,
        ModelVersionStage.PRODUCTION,
    ):
        raise InvalidInput(
            f"archive_existing_versions=True needs the stage Staging or Production, not {stage!r}"
        )
    model_row(conn, name, lock=True)
    row = version_row(conn, name, version)
    if archive_existing_versions:
        conn.execute(
            update(_mv)
            .where(
                _mv.c.name == name,
                _mv.c.version != row.version,
                _mv.c.current_stage == canonical,
            )
            .values(current_stage=ModelVersionStage.ARCHIVED, last_updated_time=now)
        )
    conn.execute(
        update(_mv)
        .where(_mv.c.name == name, _mv.c.version == row.version)
        .values(current_stage=canonical, last_updated_time=now)
    )
    touch_model(conn, name, now)
    return get_model_version(conn, name, row.version)


def delete_model_version(conn: Connection, name: str, version: object, now: int) -> None:
    """Delete a version: its tags and the aliases pointing at it go; its number stays used."""
    row = version_row(conn, name, version)
    conn.execute(delete(_alias).where(_alias.c.name == name, _alias.c.version == row.version))
    conn.execute(delete(_mvt).where(_mvt.c.name == name, _mvt.c.version == row.version))
    conn.execute(
        update(_mv)
        .where(_mv.c.name == name, _mv.c.version == row.version)
        .values(current_stage=DELETED_STAGE, last_updated_time=now, description=None)
    )
    touch_model(conn, name, now)


def get_latest_versions(
    conn: Connection, name: str, stages: Sequence[str] | None = None
) -> list[ModelVersion]:
    """Return the newest version in each of ``stages`` (every stage when None), by version."""
    model_row(conn, name)
    wanted = [stage_name(st) for st in stages] if stages else list(ModelVersionStage.ALL)
    newest = (
        select(func.max(_mv.c.version))
        .where(_mv.c.name == name, _mv.c.current_stage.in_(wanted))
        .group_by(_mv.c.current_stage)
    )
    rows = conn.execute(
        select(_mv).where(_mv.c.name == name, _mv.c.version.in_(newest)).order_by(_mv.c.version)
    ).all()
    return _versions(conn, rows)
