"""``mlflow.artifacts`` under nbtrack: fetch and read artifacts by URI.

Every function takes an artifact URI as MLflow writes them: ``runs:/<run_id>/<path>``,
``models:/<name>/<version>`` (or ``@alias``, a stage, ``latest``), a run's
own ``artifact_uri`` (a local folder, ``file://…``, any fsspec URL such as
``s3://…``, or a tracking server's ``mlflow-artifacts:/…``), or a plain local
path. ``download_artifacts`` also takes ``run_id=`` and ``artifact_path=``
instead, as MLflow's does.
"""

from __future__ import annotations

import json
import os
import posixpath
from typing import Any

from nbtrack.entities import FileInfo
from nbtrack.errors import InvalidInput

__all__ = ["download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"]


def _client(tracking_uri: str | None) -> Any:
    from nbtrack.tracking.client import Client

    return Client(tracking_uri) if tracking_uri else Client()


def _repository(root: str, tracking_uri: str | None) -> Any:
    """The repository of an artifact root: a tracking server's for ``mlflow-artifacts:`` URIs."""
    if root.startswith("mlflow-artifacts:"):
        # Proxied artifacts live behind the tracking server: its store knows the way.
        make = getattr(_client(tracking_uri).store, "artifact_repository", None)
        if make is None:
            raise InvalidInput(
                f"{root!r} is served by a tracking server; set the tracking URI to that server"
            )
        return make(root)
    from nbtrack.store.artifacts import ArtifactRepository

    return ArtifactRepository(root)


def _split(uri: str) -> tuple[str, str]:
    """Split a non-``runs:/`` URI into (parent, last part), the part being the artifact."""
    stripped = uri.rstrip("/")
    parent, _, name = stripped.rpartition("/")
    if not parent or parent.endswith(":/") or parent.endswith(":"):
        # ``s3://bucket`` or a bare relative name: the whole thing is the root.
        return stripped, ""
    return parent, name


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Copy an artifact (file or folder) to the local disk and return its local path.

    Parameters
    ----------
    artifact_uri:
        The artifact's URI (see the module docstring). Give it, or ``run_id``.
    run_id, artifact_path:
        A run and a path inside its artifacts ("" or None for all of them).
    dst_path:
        Local folder to copy into; a new temporary folder by default.
    tracking_uri:
        The store holding the run (default: the URI in force).

    Raises
    ------
    InvalidInput
        Both or neither of ``artifact_uri`` and ``run_id``, or ``artifact_path``
        with ``artifact_uri``.
    NotFoundError
        Nothing at that URI or path.
    """
    if (artifact_uri is None) == (run_id is None):
        raise InvalidInput("Give exactly one of artifact_uri or run_id")
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidInput("artifact_path goes with run_id; put the path in artifact_uri instead")
    if run_id is not None:
        return str(_client(tracking_uri).download_artifacts(run_id, artifact_path or "", dst_path))
    assert artifact_uri is not None
    uri = os.fspath(artifact_uri)
    if uri.startswith("runs:/"):
        from nbtrack.uris import parse_runs_uri

        rid, path = parse_runs_uri(uri)
        return str(_client(tracking_uri).download_artifacts(rid, path, dst_path))
    if uri.startswith("models:/"):
        from nbtrack.models.pyfunc import resolve_model_uri

        return resolve_model_uri(uri, None if dst_path is None else os.fspath(dst_path))
    parent, name = _split(uri)
    return str(_repository(parent, tracking_uri).download_artifacts(name, dst_path))


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """List the artifacts under a URI, or under ``artifact_path`` of ``run_id``."""
    if (artifact_uri is None) == (run_id is None):
        raise InvalidInput("Give exactly one of artifact_uri or run_id")
    if run_id is not None:
        return list(_client(tracking_uri).list_artifacts(run_id, artifact_path))
    assert artifact_uri is not None
    if artifact_uri.startswith("runs:/"):
        from nbtrack.uris import parse_runs_uri

        rid, path = parse_runs_uri(artifact_uri)
        return list(_client(tracking_uri).list_artifacts(rid, path or None))
    return list(_repository(artifact_uri, tracking_uri).list_artifacts(None))


def _read_bytes(artifact_uri: str) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="nbtrack-load-") as tmp:
        local = download_artifacts(artifact_uri=artifact_uri, dst_path=tmp)
        if os.path.isdir(local):
            raise InvalidInput(f"{artifact_uri!r} is a folder, not a file")
        with open(local, "rb") as f:
            return f.read()


def load_text(artifact_uri: str) -> str:
    """Return the content of a text artifact."""
    return _read_bytes(artifact_uri).decode("utf-8")


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """Return a JSON (or, by suffix, YAML) artifact as a dict.

    Raises
    ------
    InvalidInput
        The file is not a JSON/YAML mapping.
    """
    raw = _read_bytes(artifact_uri)
    suffix = posixpath.splitext(artifact_uri)[1].lower()
    try:
        if suffix in (".yaml", ".yml"):
            import yaml

            value = yaml.safe_load(raw)
        else:
            value = json.loads(raw)
    except ValueError as exc:
        raise InvalidInput(f"{artifact_uri!r} is not valid JSON/YAML: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInput(f"{artifact_uri!r} holds a {type(value).__name__}, not a mapping")
    return value


def load_image(artifact_uri: str) -> Any:
    """Return an image artifact as a ``PIL.Image.Image`` (Pillow must be installed)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(_read_bytes(artifact_uri)))
    image.load()  # read it now: the bytes' buffer is ours only for this call
    return image
