"""Page tokens of searches: an opaque, URL-safe encoding of the next offset."""

from __future__ import annotations

import base64
import json
from typing import TypeVar

from nbtrack.errors import InvalidInput

T = TypeVar("T")

__all__ = ["decode_page_token", "encode_page_token", "split_page"]


def encode_page_token(offset: int) -> str:
    """Return the token of the page starting at ``offset``."""
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token: str | None) -> int:
    """Return the offset a token stands for (0 for none); InvalidInput if malformed."""
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(f"Invalid page_token {token!r}") from None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidInput(f"Invalid page_token {token!r}")
    return offset


def split_page(rows: list[T], offset: int, max_results: int) -> tuple[list[T], str | None]:
    """Cut rows read with ``LIMIT max_results + 1`` into the page and the next page's token.

    The one extra row says whether another page follows, without a count query.
    """
    more = len(rows) > max_results
    return rows[:max_results], encode_page_token(offset + max_results) if more else None
