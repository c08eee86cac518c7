"""Who runs a command: a signed-in session, a service account's secret, or nobody on a database without users.

On a database that has users, a command acts only as someone it can prove: a session
opened by `kyt login` (its token, kept by the command line for the OS user), or a service
account (role `system`) and its secret, for batch jobs. A name given with `--as` or
KYT_USER is only a claim, checked against that proof; a `system:` name is never taken
from a caller. A database without any user works as before identities existed (the
embedded default, `kyt demo`): its batch jobs act as `system:<job>`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from cases.db import Store
from cases.errors import NotSignedIn
from cases.models import SignInSession, User
from cases.service import SYSTEM_PREFIX, unit_of_work
from cases.signin import DEFAULT_POLICY, NAME_KEPT, SignInPolicy, record_sign_out, sign_in


@dataclass(frozen=True)
class Credentials:
    """What a command was given to say who runs it (the command line gathers it; nothing here reads files)."""

    token: str | None = None
    """A session's token, from `kyt login`."""
    service: str | None = None
    """A service account's name (batch jobs) ..."""
    secret: str | None = None
    """... and its secret."""
    claimed: str | None = None
    """A name from --as or KYT_USER: checked against the proof, never a proof itself."""


def has_users(store: Store) -> bool:
    """Whether any user exists (then every command must prove who runs it)."""
    with store.session() as session:
        return session.exec(select(sa.func.count()).select_from(User)).one() > 0


def identify(store: Store, credentials: Credentials, *, now: datetime, source: str, job: str,
             policy: SignInPolicy = DEFAULT_POLICY) -> str:
    """The name a command acts as; NotSignedIn (saying what to do) when it cannot prove one.

    `job` names the `system:` account of a database without users (`system:batch`, ...).
    """
    claimed = (credentials.claimed or "").strip() or None
    if claimed is not None and claimed.startswith(SYSTEM_PREFIX):
        raise NotSignedIn(f"{claimed!r} is the name of an internal account: no command may act as it")
    if not has_users(store):
        return claimed or f"{SYSTEM_PREFIX}{job}"
    if credentials.service:
        if not credentials.secret:
            raise NotSignedIn(f"service account {credentials.service!r}: give its secret "
                              "(KYT_SERVICE_SECRET, or a file in KYT_SERVICE_SECRET_FILE)")
        account = sign_in(store, credentials.service, credentials.secret, now=now, source=source, policy=policy,
                          service=True)
        return _matching(account.name, claimed)
    if credentials.token:
        return _matching(session_user(store, credentials.token, now=now).name, claimed)
    wanted = f"kyt login {claimed}" if claimed else "kyt login NAME"
    raise NotSignedIn(f"this database has users: sign in first ({wanted}); --as and KYT_USER name a user "
                      "but do not prove who you are; batch jobs run as a service account (KYT_SERVICE)")


def _matching(proven: str, claimed: str | None) -> str:
    if claimed is not None and claimed != proven:
        raise NotSignedIn(f"you are signed in as {proven}, not {claimed}: sign in as {claimed} to act as them")
    return proven


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store: Store, name: str, *, now: datetime, source: str,
                 policy: SignInPolicy = DEFAULT_POLICY) -> str:
    """A new session for a user who has just signed in; its token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    with unit_of_work(store) as session:
        session.add(SignInSession(token_hash=_digest(token), user_name=name, source=source[:NAME_KEPT],
                                  opened_at=now, expires_at=now + policy.session_lifetime))
    return token


def _session_row(session: Session, token: str) -> SignInSession | None:
    return session.exec(select(SignInSession).where(SignInSession.token_hash == _digest(token))).one_or_none()


def session_user(store: Store, token: str, *, now: datetime) -> User:
    """The active user of a session that has neither ended nor expired; NotSignedIn otherwise."""
    with store.session() as session:
        return _live(session, token, now)[1]


def _live(session: Session, token: str, now: datetime) -> tuple[SignInSession, User]:
    """A session that has neither ended nor expired, and its active user; NotSignedIn otherwise."""
    found = _session_row(session, token)
    if found is None or found.ended_at is not None:
        raise NotSignedIn("your session has ended: sign in again (kyt login NAME)")
    if found.expires_at <= now:
        raise NotSignedIn(f"your session expired at {found.expires_at:%Y-%m-%d %H:%M} UTC: sign in again "
                          f"(kyt login {found.user_name})")
    user = session.exec(select(User).where(User.name == found.user_name)).one_or_none()
    if user is None or not user.active:
        raise NotSignedIn(f"{found.user_name} is no longer an active user")
    return found, User.model_validate(user, from_attributes=True)


def end_session(store: Store, token: str, *, now: datetime, source: str, reason: str = "signed out") -> str | None:
    """End a session (audited as a sign-out, for `reason`); the user's name, or None when it had already ended."""
    with unit_of_work(store) as session:
        found = _session_row(session, token)
        if found is None or found.ended_at is not None:
            return None
        found.ended_at = now
        session.add(found)
        record_sign_out(session, found.user_name, now=now, source=source, reason=reason)
        return found.user_name


SEEN_EVERY = timedelta(minutes=1)
"""A console session's last use is written at most this often (not on every page view)."""


def console_user(store: Store, token: str, *, now: datetime, source: str,
                 policy: SignInPolicy = DEFAULT_POLICY) -> User:
    """The user of a console session, brought back after a reload; NotSignedIn when it ended, expired or sat idle.

    A session unused for `policy.idle_timeout` is ended here (an audited sign-out, "idle for
    too long"); a session in use has its last use recorded (at most once a minute).
    """
    with store.session() as session:  # a page view only reads, unless the session must end or show its use
        found, user = _live(session, token, now)
        last, seen = found.last_seen_at or found.opened_at, found.last_seen_at
    idle = now - last > policy.idle_timeout
    if not idle and seen is not None and now - seen < SEEN_EVERY:
        return user
    with unit_of_work(store) as session:
        found = _session_row(session, token)
        if found.ended_at is not None:  # signed out elsewhere since the check above
            raise NotSignedIn("your session has ended: sign in again")
        if idle:
            found.ended_at = now
            record_sign_out(session, found.user_name, now=now, source=source, reason="idle for too long")
        else:
            found.last_seen_at = now
        session.add(found)
    if idle:
        raise NotSignedIn("you were signed out after a time without activity; sign in again")
    return user
