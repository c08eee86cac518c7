"""Who is calling: API keys checked against the database (refreshed every few seconds), scopes, and rate limits.

A key is sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`. Keys are looked up by
their SHA-256 in a copy of the active keys, read again every `REFRESH_SECONDS`: a revoked
key stops working within that time, and no call waits on the database to be recognised.
Each key has a token bucket: `rate_per_second` calls a second, bursts of twice that.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from cases.api_keys import active_keys, digest
from cases.api_models import ApiKey
from cases.db import Store

REFRESH_SECONDS = 5.0
"""How old the server's copy of the active keys may be (how long a revoked key may still be accepted)."""
BURST = 2.0
"""A key's bucket holds this many seconds of its rate."""


@dataclass
class Refusal(Exception):
    """A call refused before it reaches the service: status, message, and seconds to wait (for 429)."""

    status: int
    message: str
    retry_after: float | None = None
    key_name: str | None = None
    """The key's name when it is known (403, 429): the call log names it."""


class Keys:
    """The active keys, their buckets, and the check of one call."""

    def __init__(self, store: Store, *, clock=time.monotonic) -> None:
        self.store = store
        self.clock = clock
        self._keys: dict[str, ApiKey] = {}
        self._read_at = float("-inf")
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _current(self) -> dict[str, ApiKey]:
        now = self.clock()
        if now - self._read_at >= REFRESH_SECONDS:
            with self._lock:
                if now - self._read_at >= REFRESH_SECONDS:
                    self._keys = active_keys(self.store)
                    self._read_at = now
        return self._keys

    def check(self, token: str | None, scope: str) -> ApiKey:
        """The key of a call allowed to use `scope` now; Refusal 401, 403 or 429 otherwise."""
        if not token:
            raise Refusal(401, "an API key is needed: send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'")
        key = self._current().get(digest(token))
        if key is None:
            raise Refusal(401, "this API key is not valid (unknown or revoked)")
        if not key.allows(scope):
            raise Refusal(403, f"key {key.name!r} does not have the scope {scope!r}", key_name=key.name)
        wait = self._take(key)
        if wait > 0:
            raise Refusal(429, f"key {key.name!r} is over its limit of {key.rate_per_second:g} calls a second",
                          retry_after=wait, key_name=key.name)
        return key

    def name_of(self, token: str | None) -> str | None:
        """The name of the active key `token` is, if it is one (nothing is taken from its bucket)."""
        key = self._current().get(digest(token)) if token else None
        return key.name if key is not None else None

    def _take(self, key: ApiKey) -> float:
        """Take one token from the key's bucket: 0, or the seconds until one is there."""
        capacity = key.rate_per_second * BURST
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(key.name, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * key.rate_per_second)
            if tokens < 1:
                self._buckets[key.name] = (tokens, now)
                return (1 - tokens) / key.rate_per_second
            self._buckets[key.name] = (tokens - 1, now)
            return 0.0


def token_of(authorization: str | None, api_key: str | None) -> str | None:
    """The key a call sent, from either header.

    >>> token_of("Bearer kyt_abc", None), token_of(None, "kyt_def"), token_of("Basic x", None)
    ('kyt_abc', 'kyt_def', None)
    """
    if api_key:
        return api_key.strip()
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None
