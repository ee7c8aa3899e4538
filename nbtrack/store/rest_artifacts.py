"""Artifacts of runs on an nbtrack server, through its ``mlflow-artifacts`` proxy routes.

A run created through the server has an ``mlflow-artifacts:/<exp>/<run>/artifacts``
URI; its files are read and written at
``<tracking_uri>/api/2.0/mlflow-artifacts/artifacts/<exp>/<run>/artifacts/<path>``
(GET download, PUT upload, DELETE), and listed with
``GET /api/2.0/mlflow-artifacts/artifacts?path=``, as MLflow's client does.
Bodies stream in 1 MiB chunks both ways, so a file of any size costs bounded
memory. A run whose URI is anything else (``s3://``, a folder) is opened
directly with the fsspec :class:`~nbtrack.store.artifacts.ArtifactRepository`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlparse

from nbtrack.entities import FileInfo
from nbtrack.errors import InvalidInput, NotFoundError
from nbtrack.store._artifact_paths import (
    atomic_local_write,
    join_path,
    makedirs,
    validate_artifact_path,
    walk_local,
)

if TYPE_CHECKING:
    from nbtrack.store._http import HttpSession

__all__ = ["RestArtifactRepository", "open_repository"]

_ROUTE = "/api/2.0/mlflow-artifacts/artifacts"
CHUNK = 1 << 20


def open_repository(http: HttpSession, artifact_uri: str) -> Any:
    """Return the repository for ``artifact_uri``: proxied for ``mlflow-artifacts:``."""
    if artifact_uri.startswith("mlflow-artifacts:"):
        return RestArtifactRepository(http, artifact_uri)
    from nbtrack.store.artifacts import ArtifactRepository

    return ArtifactRepository(artifact_uri)


def _file_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


class RestArtifactRepository:
    """One run's artifact folder behind the server; the methods of ``ArtifactRepository``."""

    def __init__(self, http: HttpSession, root_uri: str) -> None:
        parsed = urlparse(root_uri)
        # mlflow-artifacts:/a/b or mlflow-artifacts://host:port/a/b: the server is ours.
        self.root_uri = root_uri
        self._root = parsed.path.strip("/")
        self.http = http

    def __repr__(self) -> str:
        return f"RestArtifactRepository({self.root_uri!r})"

    @property
    def is_local(self) -> bool:
        """Always False: the files live on the server."""
        return False

    def _url(self, rel: str) -> str:
        return f"{_ROUTE}/{quote(join_path(self._root, rel), safe='/')}"

    # -- writing -----------------------------------------------------------------------

    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload one local file as ``<artifact_path>/<basename>``, streamed."""
        src = os.fspath(local_file)
        if not os.path.exists(src):
            raise NotFoundError(f"Local file {src!r} does not exist")
        if os.path.isdir(src):
            raise InvalidInput(f"{src!r} is a folder; use log_artifacts to log a folder")
        rel = join_path(validate_artifact_path(artifact_path), os.path.basename(src))
        self.http.upload(self._url(rel), lambda: _file_chunks(src))

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload a local folder's files under ``<artifact_path>/``, keeping the layout.

        Links are checked before the first upload, as for local stores. Empty
        folders are not recreated: the proxy stores files only (as MLflow's).
        """
        src = os.fspath(local_dir)
        if not os.path.exists(src):
            raise NotFoundError(f"Local folder {src!r} does not exist")
        if not os.path.isdir(src):
            raise InvalidInput(f"{src!r} is not a folder; use log_artifact to log one file")
        prefix = validate_artifact_path(artifact_path)
        top = os.path.realpath(src)
        _, files = walk_local(top, top, strict=True, skip_tmp=False)
        for path, rel in files:
            self.http.upload(
                self._url(join_path(prefix, rel)), functools.partial(_file_chunks, path)
            )

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        """Upload ``data`` as ``<artifact_file>``, replacing any previous content."""
        rel = validate_artifact_path(artifact_file, allow_root=False, what="Artifact file")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInput(
                f"write_bytes needs bytes for {artifact_file!r}, not {type(data).__name__}"
            )
        payload = bytes(data)
        self.http.upload(
            self._url(rel),
            lambda: iter([payload[i : i + CHUNK] for i in range(0, len(payload), CHUNK)]),
        )

    def write_text(self, artifact_file: str, text: str, encoding: str = "utf-8") -> None:
        """Upload ``text`` as ``<artifact_file>``."""
        self.write_bytes(artifact_file, text.encode(encoding))

    # -- reading -----------------------------------------------------------------------

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """List the direct children of ``path``, sorted; empty for a file or nothing."""
        rel = validate_artifact_path(path)
        out = self.http.call("GET", _ROUTE, params={"path": join_path(self._root, rel)})
        infos = [
            FileInfo(
                join_path(rel, f["path"].rstrip("/").rsplit("/", 1)[-1]),
                bool(f.get("is_dir", False)),
                None if f.get("is_dir") else int(f.get("file_size") or 0),
            )
            for f in out.get("files", ())
        ]
        return sorted(infos, key=lambda i: i.path)

    def read_bytes(self, artifact_file: str) -> bytes:
        """Return the content of one artifact file (it is held in memory: small files)."""
        rel = validate_artifact_path(artifact_file, allow_root=False, what="Artifact file")
        parts: list[bytes] = []

        def collect(chunks: Iterator[bytes]) -> None:
            parts.clear()
            parts.extend(chunks)

        try:
            self.http.download(self._url(rel), collect)
        except NotFoundError:
            raise NotFoundError(f"Artifact file {rel!r} not found under {self.root_uri}") from None
        return b"".join(parts)

    def read_text(self, artifact_file: str, encoding: str = "utf-8") -> str:
        """Return the content of one artifact file decoded as text."""
        return self.read_bytes(artifact_file).decode(encoding)

    def download_artifacts(
        self, artifact_path: str | None = None, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Download an artifact file or folder; return ``<dst_path>/<artifact_path>``."""
        rel = validate_artifact_path(artifact_path)
        if dst_path is None:
            dst = tempfile.mkdtemp(prefix="nbtrack-artifacts-")
        else:
            dst = os.path.abspath(os.fspath(dst_path))
            if os.path.exists(dst) and not os.path.isdir(dst):
                raise InvalidInput(f"Download destination {dst!r} is a file, not a folder")
            os.makedirs(dst, exist_ok=True)
        out = os.path.join(dst, *rel.split("/")) if rel else dst
        children = self.list_artifacts(rel)
        if children:
            self._download_tree(children, dst)
        elif not rel:
            os.makedirs(out, exist_ok=True)  # a run without artifacts: an empty folder
        else:
            try:
                self._download_file(rel, out)
            except NotFoundError:
                raise NotFoundError(f"Artifact {rel!r} not found under {self.root_uri}") from None
        return out

    def _download_tree(self, entries: list[FileInfo], dst: str) -> None:
        for info in entries:
            validate_artifact_path(info.path)  # a server's odd name must not escape dst
            local = os.path.join(dst, *info.path.split("/"))
            if info.is_dir:
                makedirs(local)
                self._download_tree(self.list_artifacts(info.path), dst)
            else:
                self._download_file(info.path, local)

    def _download_file(self, rel: str, out: str) -> None:
        makedirs(os.path.dirname(out))

        def fill(tmp: str) -> None:
            def write(chunks: Iterator[bytes]) -> None:
                with open(tmp, "wb") as f:  # "wb": a retry starts the file again
                    for chunk in chunks:
                        f.write(chunk)

            self.http.download(self._url(rel), write)

        atomic_local_write(out, fill)

    # -- deleting ----------------------------------------------------------------------

    def delete_all(self) -> None:
        """Delete the run's whole artifact folder on the server; nothing there is fine."""
        with contextlib.suppress(NotFoundError):
            self.http.call("DELETE", self._url(""))
