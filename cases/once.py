"""One action per click: a request carries a key, and a key already carried out is refused as AlreadyDone.

The console derives a request's key from who asks, what for, on which object at which
version, and with what content (`request_key`), so that a second click on the same form,
however quickly it follows the first, names the same request; the service records the key
in the same transaction as the change, so a request is carried out once or not at all.

>>> request_key("ann", "note", 3, 7, "Called the customer") == request_key("ann", "note", 3, 7, "Called the customer")
True
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from cases.errors import AlreadyDone, InvalidRequest
from cases.models import DoneRequest

KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def request_key(*parts: object) -> str:
    """A request's key from what makes it the same request (actor, form, object, version, content)."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def claim(session: Session, key: str | None, *, actor: str, action: str, now: datetime) -> None:
    """Record, in the caller's transaction, that the request `key` is carried out; AlreadyDone if it was.

    No key (a command, a batch) claims nothing."""
    if key is None:
        return
    if not KEY.fullmatch(key):
        raise InvalidRequest("a request key has 16 to 64 letters, digits, - or _")
    done = session.get(DoneRequest, key)
    if done is not None:
        raise AlreadyDone(done.action, done.actor, done.at)
    session.add(DoneRequest(key=key, actor=actor, action=action, at=now))
    try:
        session.flush()
    except IntegrityError:  # the same request, at the same moment, in another transaction that got there first
        raise AlreadyDone(action, actor, now) from None
