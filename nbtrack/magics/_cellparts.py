"""The small parts of capturing a cell: its options, the error guard, the output tee, texts.

Split from ``_capture`` so that module reads as the life of one tracked cell.
"""

from __future__ import annotations

import contextlib
import hashlib
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = ["OUTPUT_LIMIT", "Problems", "Tee", "TrackOptions", "cell_id_for", "format_error"]

OUTPUT_LIMIT = 10 * 1024 * 1024


@dataclass
class TrackOptions:
    """The parsed ``%%track`` line."""

    name: str | None = None
    experiment: str | None = None
    params: list[str] | None = None
    metrics: list[str] | None = None
    artifacts: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    nested: bool = False
    infer: bool = True
    quiet: bool = False
    system_metrics: bool = False


class Problems:
    """Internal errors met while capturing a cell, reported as one warning line."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, BaseException]] = []

    @contextlib.contextmanager
    def guard(self, step: str) -> Iterator[None]:
        """Run a capture step; an error in it is recorded, never raised."""
        try:
            yield
        except Exception as exc:  # the one guard around the user's cell: nbtrack must not break it
            self.errors.append((step, exc))

    def report(self, stream: Any) -> None:
        """Write one warning line naming the first failure (and how many more) to ``stream``."""
        if not self.errors:
            return
        step, exc = self.errors[0]
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        detail = str(exc).splitlines()[0] if str(exc) else ""
        stream.write(
            f"nbtrack warning: could not {step}: {type(exc).__name__}: {detail}{more}; "
            "the cell itself ran as usual\n"
        )


class Tee:
    """A text stream that writes through to ``stream`` and keeps a bounded copy."""

    def __init__(self, stream: Any, sink: list[str], size: list[int]) -> None:
        self._stream, self._sink, self._size = stream, sink, size

    def write(self, text: str) -> int:
        if self._size[0] < OUTPUT_LIMIT and isinstance(text, str):
            self._sink.append(text)
            self._size[0] += len(text)
        return self._stream.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def cell_id_for(cell_id: str | None, source: str) -> str:
    """Return the front end's cell id, or a hash of the source when there is none."""
    if cell_id:
        return cell_id
    return "sha1-" + hashlib.sha1(source.encode("utf-8")).hexdigest()[:16]


def format_error(error: BaseException) -> str:
    """Format ``error`` as a plain traceback, without IPython's own frames."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_locals.get("__tracebackhide__"):
        tb = tb.tb_next
    if isinstance(error, SyntaxError) or tb is None:
        return "".join(traceback.format_exception_only(type(error), error))
    return "".join(traceback.format_exception(type(error), error, tb))
