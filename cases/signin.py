"""Sign-in and sign-out: a password check with growing delays per name and per source, every attempt audited.

A failed sign-in counts against the name typed (whether or not such a user exists) and
against the place it came from; past `SignInPolicy.free_failures` in a row, each must wait
longer before the next try, and a name that reaches `lockout_failures` is locked out for
the longest delay (an audited `user.locked_out`). An unknown name costs the same password
check as a known one, and gets the same answer. A success forgets the name's failures
(not the source's: one good account must not reset a guesser's count) and replaces an
outdated password hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from cases import audit
from cases.db import Store
from cases.errors import SignInFailed, SignInThrottled
from cases.models import SignInThrottle, User
from cases.passwords import check_password, hash_password, needs_rehash
from cases.service import unit_of_work

SIGN_IN_ACTOR = "system:sign-in"
"""Who the audit trail names for a failed attempt (the name typed may be nobody's)."""
NAME_KEPT = 80
"""Characters of a typed name kept in the audit trail and the throttle's key."""


@dataclass(frozen=True)
class SignInPolicy:
    """How sign-in failures are slowed down, and how long a console session may sit idle."""

    free_failures: int = 3
    """Failures in a row that cost no wait."""
    first_delay: timedelta = timedelta(seconds=2)
    """The wait after the first failure past the free ones; each further failure doubles it."""
    longest_delay: timedelta = timedelta(minutes=15)
    """No wait is longer; a locked-out name waits this long after every further failure."""
    lockout_failures: int = 10
    """Failures in a row on one name that lock it out (audited)."""
    forget_after: timedelta = timedelta(hours=1)
    """Failures older than this (since the last one) no longer count."""
    idle_timeout: timedelta = timedelta(minutes=30)
    """A console session without any action for this long is signed out."""
    session_lifetime: timedelta = timedelta(hours=12)
    """A command-line session (`kyt login`) ends this long after it began."""


DEFAULT_POLICY = SignInPolicy()


def wait_after(failures: int, policy: SignInPolicy = DEFAULT_POLICY, *, lockable: bool = True) -> timedelta:
    """How long a name (lockable) or a source waits after `failures` failures in a row.

    >>> [int(wait_after(n).total_seconds()) for n in (3, 4, 5, 6, 9, 10)]
    [0, 2, 4, 8, 64, 900]
    """
    if lockable and failures >= policy.lockout_failures:
        return policy.longest_delay
    if failures <= policy.free_failures:
        return timedelta(0)
    return min(policy.longest_delay, policy.first_delay * 2 ** min(failures - policy.free_failures - 1, 40))


def _keys(name: str, source: str) -> tuple[str, str]:
    return f"user:{name.casefold()[:NAME_KEPT]}", f"source:{source[:NAME_KEPT]}"


def sign_in(store: Store, name: str, password: str, *, now: datetime, source: str,
            policy: SignInPolicy = DEFAULT_POLICY, service: bool = False) -> User:
    """The active user with this name and password; SignInFailed (one message for every mistake) otherwise.

    A person signs in as a person; with `service`, a batch job proves a service account
    (role `system`) with its secret; neither can pass for the other. SignInThrottled,
    before any password is checked, while the name or the source must wait.
    """
    name = name.strip()
    user_key, source_key = _keys(name, source)
    with store.session() as session:
        waits = [row.blocked_until for row in session.exec(
            select(SignInThrottle).where(SignInThrottle.key.in_((user_key, source_key)))).all()
            if row.blocked_until is not None and row.blocked_until > now]
        user = session.exec(select(User).where(User.name == name)).one_or_none()
    if waits:
        raise SignInThrottled((max(waits) - now).total_seconds())
    stored = user.password_hash if user is not None else None
    matches = check_password(password, stored)  # the same work for a name nobody has
    accepted = matches and user is not None and user.active and (user.role == "system") == service
    with unit_of_work(store) as session:
        if not accepted:
            _failed(session, name, (user_key, source_key), source=source, now=now, policy=policy)
        else:
            _forget(session, user_key)
            rehashed = needs_rehash(stored)
            if rehashed:
                current = session.get(User, user.id)
                current.password_hash = hash_password(password)
                session.add(current)
            audit.append(session, user.name, "user.signed_in", at=now,
                         after={"source": source[:NAME_KEPT], **({"rehashed": True} if rehashed else {})})
    if not accepted:
        raise SignInFailed()
    return User.model_validate(user, from_attributes=True)


def sign_out(store: Store, name: str, *, now: datetime, source: str, reason: str = "signed out") -> None:
    """Record that a user's session ended (`reason`: signed out, or idle for too long)."""
    with unit_of_work(store) as session:
        record_sign_out(session, name, now=now, source=source, reason=reason)


def record_sign_out(session: Session, name: str, *, now: datetime, source: str, reason: str = "signed out") -> None:
    """The audit event of a session's end, in the caller's transaction."""
    audit.append(session, name, "user.signed_out", at=now, after={"source": source[:NAME_KEPT], "reason": reason})


def _forget(session: Session, key: str) -> None:
    row = session.get(SignInThrottle, key)
    if row is not None:
        session.delete(row)


def _failed(session: Session, name: str, keys: tuple[str, str], *, source: str, now: datetime,
            policy: SignInPolicy) -> None:
    """Count one failure against the name and the source (their throttle keys), set their waits, and audit it
    (and a lockout)."""
    user_key, source_key = keys
    counts = {}
    for key in (user_key, source_key):
        row = session.get(SignInThrottle, key)
        if row is None:
            row = SignInThrottle(key=key, failures=0, last_failure_at=now)
        if now - row.last_failure_at > policy.forget_after:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        wait = wait_after(row.failures, policy, lockable=key == user_key)
        row.blocked_until = now + wait if wait else None
        session.add(row)
        counts[key] = row
    failures = counts[user_key].failures
    audit.append(session, SIGN_IN_ACTOR, "user.sign_in_failed", at=now,
                 after={"name": name[:NAME_KEPT], "source": source[:NAME_KEPT], "failures": failures})
    if failures == policy.lockout_failures:
        audit.append(session, SIGN_IN_ACTOR, "user.locked_out", at=now,
                     after={"name": name[:NAME_KEPT], "until": counts[user_key].blocked_until})
