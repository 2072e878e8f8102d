"""What authorizing a request found, kept per container for a bounded time.

A warm request must cost no AWS call: the principal of a verified credential (JWT session,
API token, OAuth access token, Basic user and password) and an entered tenant's check are
kept here, keyed by a keyed hash of the credential (never the secret itself), for at most
`settings.auth_cache_seconds` (and never past a JWT's own expiry).

The invalidation rule: every write that can change what authorizing returns (a revocation,
an account's state, password or ACL, a policy, a group's members, a tenant's state) calls
`invalidate()` after it is made, which bumps a container-wide generation; an entry made under
an older generation is never used. A lookup that started before such a write stores its
result under the generation it started with, so a read racing a write cannot outlive it.
Writes made in other containers reach this one when the entry ages out: that is the bound.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from chalicelib.store.repository import Entity, Repository

# The kinds whose records authorizing reads (identity/ names them: accounts, policies,
# groups, tenants); domain.Context.repo gives their writers an InvalidatingRepository.
AUTHORIZING_KINDS = frozenset({"account", "policy", "group", "tenant"})
# Entries per container: a Lambda serves one tenant's few hundred callers at most; the bound
# only keeps a local server's memory flat under a flood of distinct credentials.
MAX_ENTRIES = 10_000


class AuthCache:
    """A bounded LRU of values that expire at an absolute time and die with a generation.
    `clock` (epoch seconds) is an attribute so tests move time without sleeping."""

    def __init__(self, max_entries: int = MAX_ENTRIES, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self.generation = 0
        self._entries: OrderedDict[bytes, tuple[int, float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        # Per-process key of the hashes: the keys in memory cannot be checked against guesses.
        self._salt = secrets.token_bytes(32)

    def key(self, namespace: str, *parts: str) -> bytes:
        """A keyed hash of a credential (length-prefixed parts, so none can be shifted into another)."""
        text = "".join(f"{len(p)}:{p}" for p in (namespace, *parts))
        return hashlib.blake2b(text.encode(), key=self._salt, digest_size=20).digest()

    def get(self, key: bytes) -> Any:
        """The value under key, or None when absent, expired or older than the last invalidation."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        generation, expires, value = entry
        with self._lock:
            if generation != self.generation or self.clock() >= expires:
                self._entries.pop(key, None)
                return None
            if key in self._entries:
                self._entries.move_to_end(key)  # least recently used goes first
        return value

    def put(self, key: bytes, value: Any, *, generation: int, expires: float) -> None:
        """Keep value until expires (epoch seconds), unless an invalidation came after `generation`."""
        if generation != self.generation:
            return
        with self._lock:
            self._entries[key] = (generation, expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self) -> None:
        """Forget every entry (a write changed what authorizing may return)."""
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


AUTH_CACHE = AuthCache()


def invalidate() -> None:
    """Called after every identity or credential write made through this container."""
    AUTH_CACHE.invalidate()


class InvalidatingRepository(Repository):
    """A repository of records authorizing reads: every write, even one that failed
    half-way (it may have been applied), invalidates the cache."""

    def create(self, *args: Any, **kwargs: Any) -> Entity:
        try:
            return super().create(*args, **kwargs)
        finally:
            invalidate()

    def update(self, *args: Any, **kwargs: Any) -> Entity:
        try:
            return super().update(*args, **kwargs)
        finally:
            invalidate()

    def purge(self, *args: Any, **kwargs: Any) -> Entity:
        try:
            return super().purge(*args, **kwargs)
        finally:
            invalidate()
