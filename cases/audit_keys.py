"""The audit chain's keys: kept outside the database, in a file only its owner reads, rotated by adding a line.

A key file holds one key per line, `<key id> <created at, ISO 8601 UTC> <secret, hex>`, the
newest last. New events are keyed (HMAC-SHA256) with the newest key and record its id;
older keys stay in the file to verify the events they keyed. The file is named by
KYT_AUDIT_KEY_FILE; without it the chain is hashed with plain SHA-256, as before keys.

>>> ring = parse_keyring("k1 2026-12-01T00:00:00+00:00 " + "ab" * 32)
>>> ring.current.id, len(ring.current.secret), ring.get("k2")
('k1', 32, None)
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cases.errors import InvalidRequest
from cases.secret_files import read_secret_file, write_secret_file

KEY_FILE_VARIABLE = "KYT_AUDIT_KEY_FILE"


@dataclass(frozen=True)
class AuditKey:
    """One key: its id (recorded in every event it keys), when it came into use, and its secret."""

    id: str
    created_at: datetime
    secret: bytes


@dataclass(frozen=True)
class KeyRing:
    """The keys of a key file, oldest first; the last one keys new events."""

    keys: tuple[AuditKey, ...]

    @property
    def current(self) -> AuditKey:
        return self.keys[-1]

    @property
    def since(self) -> datetime:
        """When the first key came into use: events from then on must be keyed."""
        return self.keys[0].created_at

    def get(self, key_id: str) -> AuditKey | None:
        return next((key for key in self.keys if key.id == key_id), None)


def parse_keyring(text: str, where: str = "the audit key file") -> KeyRing:
    """The keys of a key file's text; InvalidRequest naming the line of any malformed one."""
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        try:
            key_id, created, secret = parts
            key = AuditKey(key_id, datetime.fromisoformat(created), bytes.fromhex(secret))
        except ValueError:
            raise InvalidRequest(f"{where}:{number}: expected `<key id> <created at> <hex secret>`") from None
        if key.created_at.tzinfo is None or len(key.secret) < 32 or len(key_id) > 16:
            raise InvalidRequest(f"{where}:{number}: a key needs a time with its zone, 32 bytes or more of secret "
                                 "and an id of at most 16 characters")
        if any(k.id == key_id for k in keys):
            raise InvalidRequest(f"{where}:{number}: key id {key_id} is used twice")
        keys.append(key)
    if not keys:
        raise InvalidRequest(f"{where} holds no key")
    return KeyRing(tuple(keys))


def read_keyring(path: Path) -> KeyRing:
    """The key file at `path`, refused when others may read it."""
    return parse_keyring(read_secret_file(path, f"the audit key file ({KEY_FILE_VARIABLE})"), str(path))


def keyring_from_environment() -> KeyRing | None:
    """The key file named by KYT_AUDIT_KEY_FILE, or None when it names none."""
    named = os.environ.get(KEY_FILE_VARIABLE)
    return read_keyring(Path(named)) if named else None


def add_key(path: Path, now: datetime) -> AuditKey:
    """Add a new key to the file (creating it, mode 600): from now on it keys new events; the older ones stay."""
    existing = read_keyring(path).keys if path.exists() else ()
    key = AuditKey(f"k{len(existing) + 1}-{secrets.token_hex(3)}", now, secrets.token_bytes(32))
    write_secret_file(path, f"{key.id} {key.created_at.isoformat()} {key.secret.hex()}\n", append=True)
    return key
