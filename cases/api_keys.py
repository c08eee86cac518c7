"""API keys for `kyt serve`: created by an admin with scopes, shown once, stored hashed, revocable; and the call log.

A key is `kyt_` + 43 random URL-safe characters (256 bits). Only its SHA-256 is kept: a
key that strong needs no slow hash, and each call must be checked in microseconds. Every
change (a key added, revoked) is one transaction with its audit event; every call the API
answers is written to `api_calls` (key name, method, path, status, subject, time) by the
server in small batches.

>>> check_scopes(["deposits:screen", "withdrawals:screen"])
('deposits:screen', 'withdrawals:screen')
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlmodel import Session, select

from cases import audit
from cases.access import require
from cases.api_models import DEFAULT_RATE_PER_SECOND, ApiCall, ApiKey
from cases.db import Store
from cases.errors import InvalidRequest
from cases.service import acting_user, unit_of_work

SCOPES = ("deposits:screen", "withdrawals:screen", "evidence:read", "lists:reload", "requests:write", "inquiries:read",
          "surveys")
"""What a key may be allowed to call (docs/api.md); evidence:read adds the flagged sources to screening answers."""
SCREENING_SCOPES = ("deposits:screen", "withdrawals:screen")
PREFIX = "kyt_"
DEFAULT_RATE = DEFAULT_RATE_PER_SECOND


def digest(token: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """The scopes, each known, in SCOPES order; InvalidRequest names an unknown one."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidRequest(f"unknown scope {unknown[0]!r}; scopes: {', '.join(SCOPES)}")
    if not scopes:
        raise InvalidRequest(f"a key needs at least one scope: {', '.join(SCOPES)}")
    return tuple(s for s in SCOPES if s in scopes)


def add_key(store: Store, actor: str, name: str, *, scopes: Sequence[str], now: datetime,
            rate_per_second: float = DEFAULT_RATE) -> tuple[ApiKey, str]:
    """A new key, as an admin: the stored row and the key itself, which is never shown again."""
    name = name.strip()
    if not name or len(name) > 80 or not name.isprintable() or " " in name:
        raise InvalidRequest(f"{name[:80]!r} cannot be a key name (1 to 80 characters, no spaces)")
    if not 0 < rate_per_second <= 100_000:
        raise InvalidRequest(f"the rate limit is between 0 and 100,000 calls a second, not {rate_per_second}")
    allowed = check_scopes(scopes)
    token = PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "manage_users")
        if session.exec(select(ApiKey).where(ApiKey.name == name)).first() is not None:
            raise InvalidRequest(f"there is already a key called {name!r}")
        key = ApiKey(name=name, scopes=" ".join(allowed), secret_sha256=digest(token), rate_per_second=rate_per_second,
                     created_by=user.name, created_at=now)
        session.add(key)
        session.flush()
        audit.append(session, user.name, "api_key.add", at=now,
                     after={"key": name, "scopes": list(allowed), "rate_per_second": rate_per_second})
        session.expunge(key)
    return key, token


def revoke_key(store: Store, actor: str, name: str, *, now: datetime) -> ApiKey:
    """Revoke a key, as an admin: calls with it are refused from then on (within the server's refresh time)."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "manage_users")
        key = session.exec(select(ApiKey).where(ApiKey.name == name)).first()
        if key is None:
            raise InvalidRequest(f"no key called {name!r}")
        if key.revoked_at is not None:
            raise InvalidRequest(f"key {name!r} was already revoked on {key.revoked_at.isoformat()}")
        key.revoked_at, key.revoked_by = now, user.name
        session.add(key)
        audit.append(session, user.name, "api_key.revoke", at=now, before={"key": name}, after={"revoked": True})
        session.flush()
        session.expunge(key)
    return key


def list_keys(store: Store, actor: str) -> list[ApiKey]:
    """Every key (never the secret, which is not kept), as an admin."""
    with Session(store.engine) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "manage_users")
        keys = session.exec(select(ApiKey).order_by(ApiKey.name)).all()
        for key in keys:
            session.expunge(key)
        return list(keys)


def active_keys(store: Store) -> dict[str, ApiKey]:
    """The keys not revoked, by their stored digest: what the server checks calls against."""
    with Session(store.engine) as session:
        keys = session.exec(select(ApiKey).where(ApiKey.revoked_at.is_(None))).all()
        for key in keys:
            session.expunge(key)
        return {key.secret_sha256: key for key in keys}


def log_calls(store: Store, calls: list[dict]) -> None:
    """Write answered calls (dicts of ApiCall's fields) in one transaction."""
    if calls:
        with store.writing_session() as session, session.begin():
            session.execute(sa.insert(ApiCall), calls)
