"""Checking a request's credentials: the ``Authorization`` header, and a short-lived cache.

argon2 verification costs about 50 ms on purpose, so checking the password of
every request would cap a user at 20 requests a second per core. Each server
process therefore remembers a verified credential for :data:`CACHE_TTL`
seconds. Several processes share one database and each has its own cache, so
a change made elsewhere (a revoked token, a deleted user, a new password, a
changed grant) takes effect everywhere within that TTL. Only successes are
remembered; a wrong password is checked again (and costs its 50 ms) every time.

The cache keys are SHA-256 digests of the credentials, so a process's memory
holds no password in clear beyond the request that carried it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from nbtrack.store.auth_base import AuthStore, User

__all__ = [
    "CACHE_TTL",
    "MAX_PASSWORD_CHECKS",
    "Authenticator",
    "Credentials",
    "TtlCache",
    "parse_authorization",
]

#: Seconds a verified credential or a looked-up permission is trusted without asking the
#: database again; also how long a revocation may take to reach every server process.
CACHE_TTL = 5.0
_MAX_ENTRIES = 10_000
#: argon2 verifications one server process runs at once (each holds 64 MiB for ~50 ms).
MAX_PASSWORD_CHECKS = 2

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presented: ``scheme`` is ``"basic"`` (username, password) or
    ``"bearer"`` (token in ``password``, empty username)."""

    scheme: str
    username: str
    password: str

    def cache_key(self) -> bytes:
        """A digest that stands for these credentials in the cache."""
        raw = f"{self.scheme}\0{self.username}\0{self.password}".encode()
        return hashlib.sha256(raw).digest()


def parse_authorization(header: str | None) -> Credentials | None:
    """Parse ``Authorization: Basic …`` or ``Bearer …``; None if absent or malformed."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if not value:
        return None
    scheme = scheme.lower()
    if scheme == "bearer":
        return Credentials("bearer", "", value)
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, sep, password = decoded.partition(":")
        if not sep or not username:
            return None
        return Credentials("basic", username, password)
    return None


class TtlCache(Generic[V]):
    """A bounded, thread-safe map whose entries expire ``ttl`` seconds after they were put."""

    def __init__(self, ttl: float, max_entries: int = _MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._items: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, V | None]:
        """Return ``(True, value)`` for a live entry, ``(False, None)`` otherwise."""
        item = self._items.get(key)
        if item is None:
            return False, None
        if item[0] < time.monotonic():
            with self._lock:
                self._items.pop(key, None)
            return False, None
        return True, item[1]

    def put(self, key: Hashable, value: V) -> None:
        """Remember ``value`` for ``ttl`` seconds (the oldest entry goes when full)."""
        with self._lock:
            self._items[key] = (time.monotonic() + self.ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()


class Authenticator:
    """Turns credentials into a :class:`~nbtrack.store.auth_base.User`, through the cache.

    Each argon2 verification holds 64 MiB for its ~50 ms, so at most
    :data:`MAX_PASSWORD_CHECKS` run at once per process (a burst of wrong
    passwords queues instead of taking the machine's memory), and requests
    that carry the same credentials while they are being checked wait for that
    one check instead of each starting their own (a client's first parallel
    requests).
    """

    def __init__(self, store: AuthStore, ttl: float = CACHE_TTL) -> None:
        self.store = store
        self.cache: TtlCache[User] = TtlCache(ttl)
        self._checks = threading.BoundedSemaphore(MAX_PASSWORD_CHECKS)
        self._inflight: dict[bytes, threading.Lock] = {}
        self._guard = threading.Lock()

    def cached(self, credentials: Credentials) -> User | None:
        """The user of credentials verified within the TTL, without touching the database."""
        found, user = self.cache.get(credentials.cache_key())
        return user if found else None

    def verify(self, credentials: Credentials) -> User | None:
        """Check credentials against the store (slow for passwords) and remember a success."""
        key = credentials.cache_key()
        with self._guard:
            lock = self._inflight.setdefault(key, threading.Lock())
        try:
            with lock:
                found, user = self.cache.get(key)
                if found:
                    return user  # verified by the request this one waited for
                if credentials.scheme == "bearer":
                    user = self.store.authenticate_token(credentials.password)
                else:
                    with self._checks:
                        user = self.store.authenticate_password(
                            credentials.username, credentials.password
                        )
                if user is not None:
                    self.cache.put(key, user)
                return user
        finally:
            with self._guard:
                if self._inflight.get(key) is lock and not lock.locked():
                    del self._inflight[key]
