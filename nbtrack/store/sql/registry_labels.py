"""Tags and aliases of registered models and versions, over a SQL connection.

The mutable labels of the registry, apart from the versions themselves
(``registry.py``). An alias points at one live version; deleting that
version removes the alias (``registry.delete_model_version``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from nbtrack.errors import NotFoundError
from nbtrack.store.registry_checks import alias_name, registry_tag
from nbtrack.store.sql import schema as s
from nbtrack.store.sql.registry import get_model_version, model_row, touch_model, version_row

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from nbtrack.entities import ModelVersion

__all__ = [
    "delete_model_version_tag",
    "delete_registered_model_alias",
    "delete_registered_model_tag",
    "get_model_version_by_alias",
    "set_model_version_tag",
    "set_registered_model_alias",
    "set_registered_model_tag",
]

_rmt, _mvt, _alias = s.registered_model_tags, s.model_version_tags, s.registered_model_aliases


# tags -------------------------------------------------------------------------


def set_registered_model_tag(conn: Connection, name: str, key: str, value: Any) -> None:
    """Set (or overwrite) one tag of a registered model."""
    row = registry_tag(key, value)
    model_row(conn, name, lock=True)
    conn.execute(delete(_rmt).where(_rmt.c.name == name, _rmt.c.key == row["key"]))
    conn.execute(insert(_rmt).values(name=name, **row))


def delete_registered_model_tag(conn: Connection, name: str, key: str) -> None:
    """Remove one tag of a registered model; NotFoundError if it has no such tag."""
    model_row(conn, name)
    if not conn.execute(delete(_rmt).where(_rmt.c.name == name, _rmt.c.key == key)).rowcount:
        raise NotFoundError(f"Registered model {name!r} has no tag {key!r}")


def set_model_version_tag(
    conn: Connection, name: str, version: object, key: str, value: Any
) -> None:
    """Set (or overwrite) one tag of a model version."""
    tag = registry_tag(key, value)
    row = version_row(conn, name, version)
    where = (_mvt.c.name == name, _mvt.c.version == row.version, _mvt.c.key == tag["key"])
    conn.execute(delete(_mvt).where(*where))
    conn.execute(insert(_mvt).values(name=name, version=row.version, **tag))


def delete_model_version_tag(conn: Connection, name: str, version: object, key: str) -> None:
    """Remove one tag of a model version; NotFoundError if it has no such tag."""
    row = version_row(conn, name, version)
    where = (_mvt.c.name == name, _mvt.c.version == row.version, _mvt.c.key == key)
    if not conn.execute(delete(_mvt).where(*where)).rowcount:
        raise NotFoundError(f"Version {row.version} of model {name!r} has no tag {key!r}")


# aliases ----------------------------------------------------------------------


def set_registered_model_alias(
    conn: Connection, name: str, alias: str, version: object, now: int
) -> None:
    """Point ``alias`` at a version of model ``name`` (moving it if it pointed elsewhere)."""
    alias_name(alias, reserved=True)
    model_row(conn, name, lock=True)
    row = version_row(conn, name, version)
    conn.execute(delete(_alias).where(_alias.c.name == name, _alias.c.alias == alias))
    conn.execute(insert(_alias).values(name=name, alias=alias, version=row.version))
    touch_model(conn, name, now)


def delete_registered_model_alias(conn: Connection, name: str, alias: str, now: int) -> None:
    """Remove an alias; NotFoundError if the model has no such alias."""
    alias_name(alias)
    model_row(conn, name, lock=True)
    if not conn.execute(
        delete(_alias).where(_alias.c.name == name, _alias.c.alias == alias)
    ).rowcount:
        raise NotFoundError(f"Registered model {name!r} has no alias {alias!r}")
    touch_model(conn, name, now)


def get_model_version_by_alias(conn: Connection, name: str, alias: str) -> ModelVersion:
    """Return the version ``alias`` points at."""
    alias_name(alias)
    version = conn.execute(
        select(_alias.c.version).where(_alias.c.name == name, _alias.c.alias == alias)
    ).scalar()
    if version is None:
        model_row(conn, name)
        raise NotFoundError(f"Registered model {name!r} has no alias {alias!r}")
    return get_model_version(conn, name, version)
