"""How the server's secrets are kept: argon2id for passwords, SHA-256 for tokens.

Passwords are low-entropy, so they get a slow, salted, memory-hard hash from
``argon2-cffi`` (its default parameters, about 50 ms per verification by
design); the hash string records its own parameters, so a future default can
re-hash on the next login (:func:`needs_rehash`). Tokens are 256 random bits
from :mod:`secrets`: no dictionary can guess them, so a fast SHA-256 digest
is as safe as a slow hash and lets a token be looked up by its digest.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

__all__ = [
    "TOKEN_PREFIX",
    "hash_password",
    "hash_token",
    "needs_rehash",
    "new_token",
    "verify_password",
]

#: Every token starts with this, so a leaked one is recognisable in logs and scanners.
TOKEN_PREFIX = "nbt_"
_TOKEN_BYTES = 32


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of a password (``$argon2id$v=19$...``)."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if ``password`` matches ``password_hash``; False for a wrong password or a bad hash."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True if the hash was made with weaker parameters than today's defaults."""
    return _hasher().check_needs_rehash(password_hash)


def new_token() -> str:
    """Return a new random bearer token."""
    return TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Return the hex SHA-256 digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
