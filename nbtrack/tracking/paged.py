"""One page of search results, as MLflow's ``PagedList``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["PagedList"]


class PagedList(list[Any]):
    """A list of results with ``token``, the page token of the next page (None at the end)."""

    def __init__(self, items: Iterable[Any], token: str | None) -> None:
        super().__init__(items)
        self.token = token
