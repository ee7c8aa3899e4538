"""Parsing of store URIs and of ``runs:/`` / ``models:/`` artifact URIs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nbtrack.errors import InvalidInput

__all__ = ["StoreLocation", "parse_models_uri", "parse_runs_uri", "resolve_store_location"]

DB_FILE = "nbtrack.db"
ARTIFACTS_DIR = "artifacts"


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """Where a store's metadata and artifacts live.

    Attributes
    ----------
    kind:
        ``"sql"`` (SQLAlchemy URL in ``db_url``) or ``"rest"`` (an nbtrack server).
    db_url:
        SQLAlchemy URL, or the server's base URL for ``rest``.
    artifact_root:
        Root under which experiments' artifact folders are created.
    """

    kind: str
    db_url: str
    artifact_root: str


def _is_url(uri: str) -> bool:
    return "://" in uri and not (len(uri) > 1 and uri[1] == ":")  # C:\ on Windows


def resolve_store_location(uri: str, artifact_root: str | None = None) -> StoreLocation:
    """Turn a tracking URI into a :class:`StoreLocation`.

    A folder path means ``<folder>/nbtrack.db`` with ``<folder>/artifacts``;
    ``sqlite:///x.db`` puts artifacts beside the database; other SQLAlchemy
    URLs need an artifact root (``NBTRACK_ARTIFACT_ROOT``) or use
    ``./.nbtrack/artifacts``.
    """
    if uri.startswith(("http://", "https://")):
        return StoreLocation("rest", uri.rstrip("/"), artifact_root or "")
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    if not _is_url(uri):
        folder = Path(uri).expanduser().resolve()
        if folder.suffix == ".db":
            raise InvalidInput(
                f"Tracking URI {uri!r} looks like a database file; use 'sqlite:///{folder}' "
                "or the folder that holds it"
            )
        return StoreLocation(
            "sql",
            f"sqlite:///{folder / DB_FILE}",
            artifact_root or str(folder / ARTIFACTS_DIR),
        )
    scheme = uri.split("://", 1)[0].lower()
    if scheme.startswith("sqlite"):
        path = uri.split(":///", 1)[1] if ":///" in uri else ""
        if not path or path == ":memory:":
            raise InvalidInput(
                f"Tracking URI {uri!r} names no database file; in-memory SQLite cannot be "
                "shared by the metric flusher, give a file path"
            )
        db_path = Path(path).expanduser().resolve()
        return StoreLocation(
            "sql", f"sqlite:///{db_path}", artifact_root or str(db_path.parent / ARTIFACTS_DIR)
        )
    if scheme.startswith(("postgresql", "postgres", "mysql", "mssql")):
        if scheme in ("postgres", "postgresql"):
            uri = "postgresql+psycopg://" + uri.split("://", 1)[1]
        return StoreLocation(
            "sql", uri, artifact_root or str(Path.cwd().resolve() / ".nbtrack" / ARTIFACTS_DIR)
        )
    raise InvalidInput(
        f"Unsupported tracking URI {uri!r}: use a folder, sqlite:///path.db, "
        "postgresql://…, or http(s)://host:port"
    )


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """Split ``runs:/<run_id>/<path>`` into ``(run_id, path)``."""
    if not uri.startswith("runs:/"):
        raise InvalidInput(f"Not a runs:/ URI: {uri!r}")
    rest = uri[len("runs:/") :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidInput(f"URI {uri!r} names no run id; expected runs:/<run_id>/<path>")
    return run_id, path


def parse_models_uri(uri: str) -> tuple[str, str, str]:
    """Split a registry URI into ``(name, kind, reference)``.

    ``kind`` is ``"version"`` (``models:/iris/3``), ``"alias"``
    (``models:/iris@champion``), ``"latest"`` (``models:/iris/latest``, any
    case) or ``"stage"`` (``models:/iris/Production``), as MLflow reads them.

    Raises
    ------
    InvalidInput
        Not a ``models:/`` URI, or no name or reference in it.
    """
    if not uri.startswith("models:/"):
        raise InvalidInput(f"Not a models:/ URI: {uri!r}")
    rest = uri[len("models:/") :].strip("/")
    usage = "expected models:/<name>/<version>, models:/<name>/<stage> or models:/<name>@<alias>"
    if "/" in rest:
        name, _, ref = rest.partition("/")
        if not name or not ref or "/" in ref:
            raise InvalidInput(f"Cannot read model URI {uri!r}: {usage}")
        if ref.isdigit():
            return name, "version", ref
        return (name, "latest", ref) if ref.lower() == "latest" else (name, "stage", ref)
    name, at, alias = rest.rpartition("@")
    if not at or not name or not alias:
        raise InvalidInput(f"Cannot read model URI {uri!r}: {usage}")
    return name, "alias", alias


def default_store_folder(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the nearest ancestor's ``.nbtrack/`` folder, else ``./.nbtrack``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / ".nbtrack"
        if candidate.is_dir():
            return candidate
    return here / ".nbtrack"
