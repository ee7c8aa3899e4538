"""Which files a tracked cell created or changed under the working directory.

A cell that writes ``predictions.csv`` or ``model.pkl`` should leave it in its
run without an ``-a`` glob. The working directory is listed before and after
the cell (name, size, mtime), so the walk is bounded: hidden folders,
``__pycache__`` and the store's own folders are skipped, and at most
``max_entries`` entries are looked at. What is logged is bounded too (count,
size per file, total size); hitting a bound is reported, never fatal.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FileSnapshot", "changed_files", "choose_files", "snapshot"]

MAX_ENTRIES = 5000
MAX_FILES = 100
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules"})


@dataclass
class FileSnapshot:
    """Files under a folder with (size, mtime_ns); ``complete`` is False when the walk was cut."""

    root: Path
    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    complete: bool = True


def snapshot(
    root: str | os.PathLike[str],
    exclude: Iterable[str | os.PathLike[str]] = (),
    max_entries: int = MAX_ENTRIES,
) -> FileSnapshot:
    """List the files under ``root`` (breadth first, at most ``max_entries`` entries looked at).

    Hidden entries, ``__pycache__``/``node_modules`` and the folders or files in
    ``exclude`` are skipped.
    """
    base = Path(root).resolve()
    skip = {str(Path(p).resolve()) for p in exclude}
    snap = FileSnapshot(base)
    pending = [base]
    seen = 0
    while pending:
        folder = pending.pop(0)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > max_entries:
                snap.complete = False
                return snap
            if entry.name.startswith(".") or entry.path in skip:
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in _SKIPPED_DIRS:
                        pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    stat = entry.stat(follow_symlinks=False)
                    rel = Path(entry.path).relative_to(base).as_posix()
                    snap.files[rel] = (stat.st_size, stat.st_mtime_ns)
            except OSError:
                continue
    return snap


def changed_files(before: FileSnapshot, after: FileSnapshot) -> list[str]:
    """Return the files (relative paths) that are new or changed in ``after``, sorted."""
    return sorted(rel for rel, meta in after.files.items() if before.files.get(rel) != meta)


def choose_files(
    snap: FileSnapshot,
    paths: list[str],
    max_files: int = MAX_FILES,
    max_file_bytes: int = MAX_FILE_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
) -> tuple[list[str], list[str]]:
    """Return (the paths to log, notes on the bounds that left files out)."""
    kept: list[str] = []
    notes: list[str] = []
    total = too_big = left_out = 0
    for rel in paths:
        size = snap.files[rel][0]
        if size > max_file_bytes:
            too_big += 1
        elif len(kept) >= max_files or total + size > max_total_bytes:
            left_out += 1
        else:
            kept.append(rel)
            total += size
    if left_out:
        notes.append(
            f"only {len(kept)} of {len(paths)} changed files were logged "
            f"(bounds: {max_files} files, {max_total_bytes // 2**20} MB in all)"
        )
    if too_big:
        notes.append(f"{too_big} changed file(s) over {max_file_bytes // 2**20} MB not logged")
    return kept, notes
