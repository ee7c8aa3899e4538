"""A run's artifact folder: copy files in, list them, copy them out.

Artifacts live under one root URI per run (its ``artifact_uri``). Local roots
(plain paths and ``file://``) are handled with ``os`` directly: that keeps the
default store free of the fsspec import (~90 ms) and lets writes be atomic
(temp name + ``os.replace``) and symlink-safe. Any other URL (``memory://``,
``s3://``, ``gs://``…) goes through fsspec, imported on first use.

Every artifact path a user gives is checked by :func:`validate_artifact_path`
before it touches a filesystem, so ``..``, absolute paths, backslashes, empty
names and control characters never reach one.

Symbolic links (local filesystems only; object stores have none):

- a path whose resolved target leaves the run's folder is refused with
  :class:`~nbtrack.errors.InvalidInput`, for writing and for reading;
- when a folder is walked implicitly (listing, folder download), links leaving
  the folder are omitted from listings and skipped with an
  :class:`~nbtrack.errors.NbtrackWarning` in downloads, so one planted link does
  not make a whole run unreadable;
- ``log_artifacts`` copies the content of links that stay inside the source
  folder (as MLflow does) and refuses, before writing anything, a source folder
  holding a link that leaves it or loops back to a parent: copying files from
  elsewhere on disk into a run should be the user's explicit act. Dangling
  links and special files (sockets, FIFOs) have no content and are skipped
  with a warning.

The checks resolve links at call time; a link swapped in between the check and
the write is not defended against (whoever can do that already owns the folder).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import tempfile
import uuid
import warnings
from typing import TYPE_CHECKING, Any, BinaryIO

from nbtrack.entities import FileInfo
from nbtrack.errors import InvalidInput, NbtrackWarning, NotFoundError
from nbtrack.store._artifact_paths import (
    TMP_PREFIX,
    atomic_local_write,
    is_within,
    join_path,
    local_root,
    makedirs,
    validate_artifact_path,
    walk_local,
    write_new_file,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["ArtifactRepository", "validate_artifact_path"]

# Object stores cap a multipart upload at 10,000 parts; 8 MiB parts reach 80 GB,
# and a known size picks bigger ones. Memory held per stream is about one part.
_PART_SIZE = 8 * 1024 * 1024
_MAX_PARTS = 9_000
_READ_BLOCK = 8 * 1024 * 1024


def _copy_to(src: str, tmp: str) -> None:
    shutil.copy2(src, tmp)


class ArtifactRepository:
    """The artifact folder of one run, on a local disk or any fsspec filesystem.

    Parameters
    ----------
    root_uri:
        The run's ``artifact_uri``: a path, ``file:///abs/path``, or an fsspec
        URL such as ``memory://…`` or ``s3://bucket/prefix``.

    Notes
    -----
    Paths given to and returned by every method are relative to the root and
    use ``/``. See the module docstring for the symlink policy.
    """

    def __init__(self, root_uri: str | os.PathLike[str]) -> None:
        self.root_uri = os.fspath(root_uri)
        self._local = local_root(self.root_uri)
        self._fs: Any = None
        self._base = ""
        if self._local is None:
            import fsspec.core

            self._fs, base = fsspec.core.url_to_fs(self.root_uri)
            self._base = base.rstrip("/") or base

    def __repr__(self) -> str:
        return f"ArtifactRepository({self.root_uri!r})"

    @property
    def is_local(self) -> bool:
        """True when the root is a folder on this machine's filesystem."""
        return self._local is not None

    # -- path resolution ---------------------------------------------------------------

    def _local_path(self, rel: str) -> str:
        """Return the resolved local path of ``rel``, refusing one outside the root."""
        assert self._local is not None
        root = os.path.realpath(self._local)
        real = os.path.realpath(os.path.join(root, *rel.split("/"))) if rel else root
        if not is_within(real, root):
            raise InvalidInput(
                f"Artifact path {rel!r} resolves to {real}, outside the run's artifact folder "
                f"{root}: a symbolic link in the folder points out of it"
            )
        return real

    def _remote_path(self, rel: str) -> str:
        return join_path(self._base, rel) if self._base != "/" else "/" + rel

    # -- writing -----------------------------------------------------------------------

    def log_artifact(
        self, local_file: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy one local file to ``<root>/<artifact_path>/<basename>``.

        Raises
        ------
        NotFoundError
            ``local_file`` does not exist.
        InvalidInput
            ``local_file`` is a folder, or ``artifact_path`` is refused.
        """
        src = os.fspath(local_file)
        if not os.path.exists(src):
            raise NotFoundError(f"Local file {src!r} does not exist")
        if os.path.isdir(src):
            raise InvalidInput(f"{src!r} is a folder; use log_artifacts to log a folder")
        rel = join_path(validate_artifact_path(artifact_path), os.path.basename(src))
        self._put_files([(src, rel)], [])

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Copy a local folder's tree under ``<root>/<artifact_path>/``, keeping its layout.

        Paths and links are all checked before the first file is copied, so a
        refused tree leaves the run untouched.

        Raises
        ------
        NotFoundError
            ``local_dir`` does not exist.
        InvalidInput
            ``local_dir`` is not a folder, ``artifact_path`` is refused, or the
            folder holds a symbolic link leaving it or looping to a parent.
        """
        src = os.fspath(local_dir)
        if not os.path.exists(src):
            raise NotFoundError(f"Local folder {src!r} does not exist")
        if not os.path.isdir(src):
            raise InvalidInput(f"{src!r} is not a folder; use log_artifact to log one file")
        prefix = validate_artifact_path(artifact_path)
        top = os.path.realpath(src)
        dirs, files = walk_local(top, top, strict=True, skip_tmp=False)
        self._put_files(
            [(path, join_path(prefix, rel)) for path, rel in files],
            [join_path(prefix, rel) for rel in dirs] + [prefix],
        )

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        """Write ``data`` as ``<root>/<artifact_file>``, replacing any previous content."""
        rel = validate_artifact_path(artifact_file, allow_root=False, what="Artifact file")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInput(
                f"write_bytes needs bytes for {artifact_file!r}, not {type(data).__name__}"
            )
        if self._local is None:
            path = self._remote_path(rel)
            self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            self._fs.pipe_file(path, bytes(data))
            return
        dst = self._checked_local_dst(rel)
        makedirs(os.path.dirname(dst))
        atomic_local_write(dst, lambda tmp: write_new_file(tmp, bytes(data)))

    def write_text(self, artifact_file: str, text: str, encoding: str = "utf-8") -> None:
        """Write ``text`` as ``<root>/<artifact_file>`` (UTF-8 unless told otherwise)."""
        self.write_bytes(artifact_file, text.encode(encoding))

    def _checked_local_dst(self, rel: str) -> str:
        dst = self._local_path(rel)
        if os.path.isdir(dst):
            raise InvalidInput(f"Artifact {rel!r} is a folder; it cannot be overwritten by a file")
        return dst

    def _put_files(self, files: list[tuple[str, str]], dirs: list[str]) -> None:
        """Copy ``(local_src, rel)`` pairs and create ``dirs``, checking all first."""
        if self._local is None:
            for rel in sorted(set(dirs)):
                self._fs.makedirs(self._remote_path(rel), exist_ok=True)
            for src, rel in files:
                path = self._remote_path(rel)
                self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
                self._fs.put_file(src, path)
            return
        planned = [(src, self._checked_local_dst(rel)) for src, rel in files]
        folders = [self._local_path(rel) for rel in dirs]
        for folder in sorted(set(folders)):
            makedirs(folder)
        for src, dst in planned:
            makedirs(os.path.dirname(dst))
            atomic_local_write(dst, functools.partial(_copy_to, src))

    # -- reading -----------------------------------------------------------------------

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """List the direct children of ``path`` (the root by default), sorted by path.

        Returns
        -------
        list[FileInfo]
            Paths relative to the root; folders have ``is_dir=True`` and
            ``file_size=None``. Empty when ``path`` is missing or is a file, as
            in MLflow.
        """
        rel = validate_artifact_path(path)
        infos: list[FileInfo] = []
        if self._local is None:
            base = self._remote_path(rel)
            if not self._fs.isdir(base):
                return []
            for entry in self._fs.ls(base, detail=True):
                name = entry["name"].rstrip("/").rsplit("/", 1)[-1]
                if entry["name"].rstrip("/") == base or name.startswith(TMP_PREFIX):
                    continue
                if name in (".", "..") or "\\" in name:  # keys an object store allows
                    continue
                is_dir = entry.get("type") == "directory"
                size = None if is_dir else int(entry.get("size") or 0)
                infos.append(FileInfo(join_path(rel, name), is_dir, size))
            return sorted(infos, key=lambda i: i.path)
        root = os.path.realpath(self._local)
        folder = self._local_path(rel)
        if not os.path.isdir(folder):
            return []
        with os.scandir(folder) as it:
            for entry in it:
                if entry.name.startswith(TMP_PREFIX):
                    continue
                if entry.is_symlink() and not is_within(os.path.realpath(entry.path), root):
                    continue
                try:
                    is_dir = entry.is_dir()
                    size = None if is_dir else entry.stat().st_size
                except FileNotFoundError:  # dangling link
                    continue
                infos.append(FileInfo(join_path(rel, entry.name), is_dir, size))
        return sorted(infos, key=lambda i: i.path)

    def read_bytes(self, artifact_file: str) -> bytes:
        """Return the content of one artifact file.

        Raises
        ------
        NotFoundError
            No file of that name.
        """
        rel = validate_artifact_path(artifact_file, allow_root=False, what="Artifact file")
        if self._local is None:
            path = self._remote_path(rel)
            if not self._fs.isfile(path):
                raise NotFoundError(f"Artifact file {rel!r} not found under {self.root_uri}")
            return bytes(self._fs.cat_file(path))
        real = self._local_path(rel)
        if not os.path.isfile(real):
            raise NotFoundError(f"Artifact file {rel!r} not found under {self.root_uri}")
        with open(real, "rb") as f:
            return f.read()

    def read_text(self, artifact_file: str, encoding: str = "utf-8") -> str:
        """Return the content of one artifact file decoded as text."""
        return self.read_bytes(artifact_file).decode(encoding)

    def download_artifacts(
        self, artifact_path: str | None = None, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy an artifact file or folder to the local disk.

        Parameters
        ----------
        artifact_path:
            File or folder relative to the root; None or ``""`` for everything.
        dst_path:
            Local folder to copy into (created if missing); a new temporary
            folder by default.

        Returns
        -------
        str
            ``<dst_path>/<artifact_path>``, the local copy, as MLflow returns it.

        Raises
        ------
        NotFoundError
            ``artifact_path`` names nothing.
        """
        rel = validate_artifact_path(artifact_path)
        if dst_path is None:
            dst = tempfile.mkdtemp(prefix="nbtrack-artifacts-")
        else:
            dst = os.path.abspath(os.fspath(dst_path))
            if os.path.exists(dst) and not os.path.isdir(dst):
                raise InvalidInput(f"Download destination {dst!r} is a file, not a folder")
            os.makedirs(dst, exist_ok=True)
        out = os.path.join(dst, *rel.split("/")) if rel else dst
        if self._local is None:
            self._download_remote(rel, out)
        else:
            self._download_local(rel, out)
        return out

    def _missing(self, rel: str) -> NotFoundError:
        return NotFoundError(f"Artifact {rel!r} not found under {self.root_uri}")

    def _download_local(self, rel: str, out: str) -> None:
        src = self._local_path(rel)
        if os.path.isfile(src):
            makedirs(os.path.dirname(out))
            atomic_local_write(out, lambda tmp: shutil.copy2(src, tmp))
            return
        if not os.path.isdir(src):
            if rel:
                raise self._missing(rel)
            return  # a run without artifacts downloads as an empty folder
        assert self._local is not None
        root = os.path.realpath(self._local)
        dirs, files = walk_local(src, root, strict=False, skip_tmp=True)
        for sub in ["", *dirs]:
            makedirs(os.path.join(out, *sub.split("/")) if sub else out)
        for path, sub in files:
            dst = os.path.join(out, *sub.split("/"))
            atomic_local_write(dst, functools.partial(_copy_to, path))

    def _download_remote(self, rel: str, out: str) -> None:
        fs, src = self._fs, self._remote_path(rel)
        if fs.isfile(src):
            makedirs(os.path.dirname(out))
            atomic_local_write(out, lambda tmp: fs.get_file(src, tmp))
            return
        if not fs.isdir(src):
            if rel:
                raise self._missing(rel)
            return
        os.makedirs(out, exist_ok=True)
        for name, info in sorted(fs.find(src, withdirs=True, detail=True).items()):
            sub = name[len(src) :].strip("/")
            if not sub or sub.rsplit("/", 1)[-1].startswith(TMP_PREFIX):
                continue
            try:  # object stores allow keys such as "../x"; they must not escape `out`
                sub = validate_artifact_path(sub)
            except InvalidInput as exc:
                warnings.warn(f"{exc}; skipped", NbtrackWarning, stacklevel=3)
                continue
            dst = os.path.join(out, *sub.split("/"))
            if info.get("type") == "directory":
                makedirs(dst)
            else:
                makedirs(os.path.dirname(dst))
                atomic_local_write(dst, functools.partial(fs.get_file, name))

    # -- streaming ---------------------------------------------------------------------

    def open_read(self, artifact_file: str) -> tuple[BinaryIO, int]:
        """Open one artifact file for reading in chunks, never loading it whole.

        Returns
        -------
        tuple[BinaryIO, int]
            The open file (the caller closes it) and its size in bytes.

        Raises
        ------
        NotFoundError
            No file of that name.
        InvalidInput
            The path is refused, or names a folder.
        """
        rel = validate_artifact_path(artifact_file, allow_root=False, what="Artifact file")
        if self._local is None:
            path = self._remote_path(rel)
            try:
                info = self._fs.info(path)
            except FileNotFoundError:
                raise self._missing(rel) from None
            if info.get("type") == "directory":
                raise InvalidInput(f"Artifact {rel!r} is a folder, not a file")
            f = self._fs.open(path, "rb", block_size=_READ_BLOCK)
            return f, int(info.get("size") or 0)
        real = self._local_path(rel)
        if os.path.isdir(real):
            raise InvalidInput(f"Artifact {rel!r} is a folder, not a file")
        try:
            local = open(real, "rb")  # noqa: SIM115 - the caller streams and closes it
        except FileNotFoundError:
            raise self._missing(rel) from None
        return local, os.fstat(local.fileno()).st_size

    @contextlib.contextmanager
    def open_write(self, artifact_file: str, *, size: int | None = None) -> Iterator[BinaryIO]:
        """Write one artifact file in chunks; it appears only if the block ends cleanly.

        A local file is written under a temporary name beside its destination and
        renamed onto it; an object store's upload is completed on success and
        aborted on error. Either way a failed or cut-off write leaves the previous
        content (or nothing), never half a file.

        Parameters
        ----------
        artifact_file:
            The file's path relative to the root.
        size:
            The expected size when known: it sizes an object store's upload parts
            so a large file stays within the store's part-count limit.

        Raises
        ------
        InvalidInput
            The path is refused, or names a folder.
        """
        rel = validate_artifact_path(artifact_file, allow_root=False, what="Artifact file")
        if self._local is None:
            yield from self._open_write_remote(rel, size)
            return
        dst = self._checked_local_dst(rel)
        makedirs(os.path.dirname(dst))
        tmp = os.path.join(os.path.dirname(dst), f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}")
        try:
            with open(tmp, "xb") as f:
                yield f
            os.replace(tmp, dst)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)

    def _open_write_remote(self, rel: str, size: int | None) -> Iterator[BinaryIO]:
        path = self._remote_path(rel)
        if self._fs.isdir(path):
            raise InvalidInput(f"Artifact {rel!r} is a folder; it cannot be overwritten by a file")
        self._fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        part = max(_PART_SIZE, -(-(size or 0) // _MAX_PARTS))
        f = self._fs.open(path, "wb", block_size=part)
        try:
            yield f
            f.close()  # uploads the tail and completes the upload
        except BaseException:
            from fsspec.spec import AbstractBufferedFile

            # An object store's file commits in close(): an upload cut short must
            # never reach it, and one whose completion failed must not linger.
            # discard() aborts the multipart upload under way.
            if hasattr(f, "discard"):
                f.discard()
            if isinstance(f, AbstractBufferedFile):
                f.closed = True
            elif not f.closed:
                f.close()
            raise

    def delete_artifacts(self, path: str | None = None) -> None:
        """Remove one artifact file or folder (the whole root when ``path`` is empty).

        A missing path is not an error, as in MLflow.
        """
        rel = validate_artifact_path(path)
        if not rel:
            self.delete_all()
            return
        if self._local is None:
            target = self._remote_path(rel)
            if self._fs.exists(target):
                self._fs.rm(target, recursive=True)
            return
        parent = self._local_path(rel.rsplit("/", 1)[0]) if "/" in rel else self._local_path("")
        target = os.path.join(parent, rel.rsplit("/", 1)[-1])
        if os.path.islink(target) or os.path.isfile(target):
            os.unlink(target)  # a link is removed, never followed
        elif os.path.isdir(target):
            shutil.rmtree(target)

    # -- deleting ----------------------------------------------------------------------

    def delete_all(self) -> None:
        """Remove the run's whole artifact folder; a missing folder is not an error.

        A root that is itself a symbolic link is unlinked, never followed.
        """
        if self._local is None:
            if self._fs.exists(self._base):
                self._fs.rm(self._base, recursive=True)
            return
        if os.path.islink(self._local):
            os.unlink(self._local)
        elif os.path.isdir(self._local):
            shutil.rmtree(self._local)
        # A run's root is <experiment>/<run_id>/artifacts: drop the emptied <run_id> too.
        parent = os.path.dirname(self._local)
        if os.path.basename(self._local) == "artifacts" and os.path.isdir(parent):
            with contextlib.suppress(OSError):  # not empty: something else lives there
                os.rmdir(parent)
