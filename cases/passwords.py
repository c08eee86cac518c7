"""Password hashes for sign-in: argon2id with OWASP's parameters; older scrypt hashes still verify.

>>> stored = hash_password("correct horse")
>>> check_password("correct horse", stored), check_password("wrong", stored), needs_rehash(stored)
(True, False, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

ARGON2 = {"time_cost": 2, "memory_cost": 19_456, "parallelism": 1}
"""OWASP's argon2id parameters (Password Storage Cheat Sheet): 19 MiB of memory, 2 passes, 1 lane."""

_HASHER = PasswordHasher(**ARGON2)


def hash_password(password: str) -> str:
    """A salted argon2id hash, in one self-describing string (`$argon2id$v=19$m=19456,t=2,p=1$...`)."""
    return _HASHER.hash(password)


def check_password(password: str, stored: str | None) -> bool:
    """Whether `password` matches `stored` (argon2id, or scrypt from before); the same work when there is no hash.

    Without a stored hash (no such user, or a user without a password) a dummy hash is
    checked instead, so that the answer takes as long as for a user who exists.
    """
    if stored and stored.startswith("scrypt$"):
        return _check_scrypt(password, stored)
    try:
        return _HASHER.verify(stored if stored and stored.startswith("$argon2") else _dummy(), password) \
            and bool(stored) and stored.startswith("$argon2")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str | None) -> bool:
    """Whether a hash that just verified should be made again: scrypt, or argon2 with other parameters."""
    if not stored or not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def _dummy() -> str:
    return _HASHER.hash("no user has this password")


def _check_scrypt(password: str, stored: str) -> bool:
    """An scrypt hash of the older form `scrypt$N$r$p$salt$key` (base64 salt and key)."""
    try:
        _, n, r, p, salt, key = stored.split("$")
        candidate = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                                   maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate, base64.b64decode(key))
