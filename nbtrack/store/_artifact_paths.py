"""Artifact path rules and local-filesystem helpers of the artifact repository.

Kept apart from ``artifacts.py`` so the rules a path must follow (no ``..``,
no absolute paths, no control characters, no symlink escapes) read in one
place, and the repository class stays about moving bytes.
"""

from __future__ import annotations

import os
import re
import uuid
import warnings
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from nbtrack.errors import InvalidInput, NbtrackWarning

if TYPE_CHECKING:
    from collections.abc import Callable

TMP_PREFIX = ".nbtrack-tmp-"
DRIVE_RE = re.compile(r"^[A-Za-z]:")
LOCAL_SCHEMES = ("file", "local")


def validate_artifact_path(
    path: str | os.PathLike[str] | None, *, allow_root: bool = True, what: str = "Artifact path"
) -> str:
    """Return ``path`` normalised to ``a/b/c`` form, or refuse it.

    Parameters
    ----------
    path:
        A path relative to a run's artifact folder, folders separated by ``/``.
        ``None``, ``""`` and ``"."`` mean the folder itself when ``allow_root``.
    allow_root:
        False when the path must name a file (``write_bytes``…); a trailing
        ``/`` is then refused too.
    what:
        How the message names the value (``"Artifact file"``…).

    Returns
    -------
    str
        The path without ``.`` components or trailing ``/``; ``""`` for the root.

    Raises
    ------
    InvalidInput
        For absolute paths, URLs, drive letters, ``..`` components, empty names
        (``a//b``), backslashes, NUL and other control characters.
    """
    if path is None:
        if allow_root:
            return ""
        raise InvalidInput(f"{what} must be given")
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise InvalidInput(f"{what} must be a string, not {type(path).__name__}")

    def refuse(reason: str) -> InvalidInput:
        return InvalidInput(f"{what} {path!r} is refused: {reason}")

    if "\x00" in path:
        raise refuse("it contains a NUL character")
    if any(ord(c) < 32 or c == "\x7f" for c in path):
        raise refuse("it contains a control character")
    if "\\" in path:
        raise refuse("backslashes are not allowed; separate folders with '/'")
    if path.startswith("/") or DRIVE_RE.match(path) or "://" in path:
        raise refuse("it must be relative to the run's artifact folder, not absolute")
    trimmed = path[:-1] if allow_root and path.endswith("/") else path
    parts = trimmed.split("/") if trimmed else []
    if "" in parts:
        raise refuse("it contains an empty name (a trailing '/' or '//')")
    if ".." in parts:
        raise refuse("'..' components are not allowed")
    parts = [p for p in parts if p != "."]
    if not parts and not allow_root:
        raise refuse("it names no file")
    return "/".join(parts)


def join_path(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def local_root(uri: str) -> str | None:
    """Return the absolute folder of a local root URI, or None for other URLs."""
    if "://" not in uri:
        return os.path.abspath(os.path.expanduser(uri))
    parsed = urlparse(uri)
    if parsed.scheme.lower() in LOCAL_SCHEMES and parsed.netloc in ("", "localhost"):
        return os.path.abspath(unquote(parsed.path))
    return None


def atomic_local_write(dst: str, fill: Callable[[str], Any]) -> None:
    """Run ``fill(tmp_path)`` then rename the result onto ``dst``.

    The temp file sits beside ``dst`` so the rename stays on one filesystem and
    a crash leaves at most a ``.nbtrack-tmp-*`` file, never a half ``dst``.
    """
    tmp = os.path.join(os.path.dirname(dst), f"{TMP_PREFIX}{uuid.uuid4().hex[:12]}")
    try:
        fill(tmp)
        os.replace(tmp, dst)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def write_new_file(path: str, data: bytes) -> None:
    with open(path, "xb") as f:  # not mkstemp: its 0o600 would ignore the umask
        f.write(data)


def makedirs(path: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InvalidInput(
            f"Cannot create folder {path}: a file of that name is in the way"
        ) from exc


def walk_local(
    top: str, boundary: str, *, strict: bool, skip_tmp: bool
) -> tuple[list[str], list[tuple[str, str]]]:
    """List a local tree as ``(dirs, [(real_file_path, rel_path)])``, both sorted.

    Links are followed only while they stay inside ``boundary``; one leaving it,
    or looping to a parent, raises :class:`InvalidInput` if ``strict`` else is
    skipped with a warning.
    """
    dirs: list[str] = []
    files: list[tuple[str, str]] = []

    def skip(message: str) -> None:
        warnings.warn(f"{message}; skipped", NbtrackWarning, stacklevel=5)

    def visit(folder: str, rel: str, ancestors: frozenset[str]) -> None:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            if skip_tmp and entry.name.startswith(TMP_PREFIX):
                continue
            child = join_path(rel, entry.name)
            real = entry.path
            if entry.is_symlink():
                real = os.path.realpath(entry.path)
                if not os.path.exists(real):
                    skip(f"Symbolic link {entry.path} points to nothing")
                    continue
                problem = ""
                if not is_within(real, boundary):
                    problem = f"points to {real}, outside {boundary}"
                elif real in ancestors:
                    problem = "loops back to one of its parent folders"
                if problem:
                    if strict:
                        raise InvalidInput(
                            f"Symbolic link {entry.path} {problem}; nbtrack does not follow it. "
                            "Copy the file into the folder or remove the link, then log again"
                        )
                    skip(f"Symbolic link {entry.path} {problem}")
                    continue
            if os.path.isdir(real):
                dirs.append(child)
                visit(real, child, ancestors | {real})
            elif os.path.isfile(real):
                files.append((real, child))
            else:
                skip(f"{entry.path} is not a regular file (socket, FIFO or device)")

    visit(top, "", frozenset({top}))
    return dirs, files
