"""The attributes an autolog integration replaced, so that disabling puts each one back."""

from __future__ import annotations

from typing import Any

__all__ = ["Patches"]


class Patches:
    """Replace attributes on modules and classes, and restore them in reverse order."""

    def __init__(self) -> None:
        self._originals: list[tuple[Any, str, Any]] = []

    def __bool__(self) -> bool:
        return bool(self._originals)

    def replace(self, owner: Any, name: str, original: Any, replacement: Any) -> None:
        """Set ``owner.name`` to ``replacement``, remembering ``original`` for :meth:`restore`."""
        self._originals.append((owner, name, original))
        setattr(owner, name, replacement)

    def restore(self) -> None:
        """Put every replaced attribute back exactly as it was, last replaced first."""
        while self._originals:
            owner, name, original = self._originals.pop()
            setattr(owner, name, original)
