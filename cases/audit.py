"""The audit trail: every change is an event chained to the previous one by a hash, keyed when a key is in use.

An event's hash covers its sequence number, case, actor, time, action, before and after,
and the previous event's hash, so changing, removing or inserting any event breaks every
hash after it. With an audit key (cases.audit_keys) the hash is an HMAC-SHA256 under it:
whoever rewrites events without the key cannot make hashes that check out. An anchor (the
head's sequence number and hash, kept outside the database) catches a chain cut short and
recomputed. `append` runs inside the transaction of the change it records.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

import orjson
import sqlalchemy as sa
from sqlmodel import Session, select

from cases.bulk import insert_rows
from cases.models import AuditEvent, AuditHead

GENESIS = "0" * 64


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: object) -> object:
    """JSON-ready values (datetimes and decimals as text, tuples as lists, keys as text), as stored."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {key if type(key) is str else str(key): item if type(item) in _SCALARS else _plain(item)
                for key, item in value.items()}
    if kind is list or kind is tuple:
        return [item if type(item) in _SCALARS else _plain(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (date, Decimal)):
        return str(value)
    if isinstance(value, dict):
        return _plain(dict(value))
    if isinstance(value, (list, tuple)):
        return _plain(list(value))
    return value


def _canonical(value: object) -> str:
    """The value as JSON with its keys sorted and no spaces, exactly as `json.dumps` writes it.

    orjson writes the same text for most events ten times faster; its text is used only
    when it cannot differ: ASCII with nothing escaped (json.dumps escapes every character
    past ASCII and DEL), no null (orjson writes NaN as null) and no fraction (1.234e-05 in
    json.dumps is 0.00001234 in orjson). Anything else, or what orjson refuses (an integer
    past 64 bits, a key that is not text), goes to `json.dumps`.
    """
    try:
        text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = None
    if text is None or not text.isascii() or b"\\" in text or b"\x7f" in text or b"null" in text \
            or _FRACTION.search(text):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text.decode()


_FRACTION = re.compile(rb"(?:^|[:,\[])-?[0-9]+[.eE]")
"""Where a number that is not an integer may start (a false alarm inside a text only costs the slow path)."""


def digest(seq: int, *, case_id: int | None, actor: str, at: datetime, action: str, before: dict, after: dict,
           prev_hash: str, key: bytes | None = None) -> str:
    """The hash of one event given the hash of the one before it: SHA-256, or HMAC-SHA256 under `key`.

    The hashed text is the event as canonical JSON (keys sorted, no spaces): with its keys
    in that order, `{"action":…,"actor":…,"after":…,"at":…,"before":…,"case_id":…,"prev":…,"seq":…}`.
    """
    return _chained(_prefix(actor=actor, at=at, action=action), after=after, before=before, case_id=case_id,
                    prev_hash=prev_hash, seq=seq, key=key)


def _prefix(*, actor: str, at: datetime, action: str) -> tuple[str, str]:
    """The parts of the hashed text that events of one batch share (before and after `after`)."""
    return (f'{{"action":{json.dumps(action)},"actor":{json.dumps(actor)},"after":',
            f',"at":{json.dumps(at.isoformat())},"before":')


def _chained(prefix: tuple[str, str], *, after: object, before: object, case_id: int | None, prev_hash: str,
             seq: int, key: bytes | None = None) -> str:
    head, middle = prefix
    case = str(case_id) if type(case_id) is int else "null" if case_id is None else json.dumps(case_id)
    prev = f'"{prev_hash}"' if prev_hash.isascii() and prev_hash.isalnum() else json.dumps(prev_hash)  # hex: as is
    body = (f'{head}{_canonical(after)}{middle}{"{}" if before == {} else _canonical(before)},'
            f'"case_id":{case},"prev":{prev},"seq":{seq}}}')
    if key is not None:
        return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()
    return hashlib.sha256(body.encode()).hexdigest()


def _head(session: Session) -> AuditHead:
    """The chain's head row, locked for the rest of the transaction."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    return head


def append(session: Session, actor: str, action: str, *, at: datetime, case_id: int | None = None,
           before: dict | None = None, after: dict | None = None) -> AuditEvent:
    """Add the next event of the chain to the session's transaction (the caller commits)."""
    [event] = append_many(session, actor, [(action, case_id, before or {}, after or {})], at=at)
    return AuditEvent(**event)


def append_many(session: Session, actor: str, events: list[tuple[str, int | None, dict, dict]], *,
                at: datetime) -> list[dict]:
    """Add several events (action, case_id, before, after) in order, with one lock of the head; their rows."""
    head = _head(session)
    at = at.astimezone(timezone.utc)
    ring = session.info.get("audit_keys")
    key_id, key = (ring.current.id, ring.current.secret) if ring is not None else (None, None)
    rows = []
    seq, prev = head.seq, head.hash
    prefixes: dict[str, tuple[str, str]] = {}
    for action, case_id, before, after in events:
        before, after = _plain(before), _plain(after)
        seq += 1
        if action not in prefixes:
            prefixes[action] = _prefix(actor=actor, at=at, action=action)
        row = dict(seq=seq, case_id=case_id, actor=actor, at=at, action=action, before=before, after=after,
                   prev_hash=prev, key_id=key_id, hash=_chained(prefixes[action], after=after, before=before,
                                                                case_id=case_id, prev_hash=prev, seq=seq, key=key))
        prev = row["hash"]
        rows.append(row)
    insert_rows(session, AuditEvent.__table__, rows)
    head.seq, head.hash = seq, prev
    session.add(head)
    session.flush()
    return rows


@dataclass(frozen=True)
class Verdict:
    """What `verify` found: how many events it checked and the first problem, if any."""

    checked: int
    problem: str | None
    seq: int | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(session: Session, batch: int = 5000) -> Verdict:
    """Walk the chain in order; name the first altered, missing or extra event.

    With the audit keys (the session's, from the key file), each keyed event is checked
    under its key, and an unkeyed event written once keys were in use is a problem: a
    rewrite by someone without the key. Without them, a keyed event cannot be checked.
    """
    ring = session.info.get("audit_keys")
    keyed_seen = False
    head = session.get(AuditHead, 1)
    lowest, rows = session.execute(sa.select(sa.func.min(AuditEvent.seq), sa.func.count()).select_from(AuditEvent)).one()
    if lowest is not None and lowest < 1:
        return Verdict(0, f"event {lowest} is not part of the chain (its events are numbered from 1)", lowest)
    expected_prev, expected_seq, checked, after_seq = GENESIS, 1, 0, 0
    while True:
        events = session.exec(select(AuditEvent).where(AuditEvent.seq > after_seq)
                              .order_by(AuditEvent.seq).limit(batch)).all()
        for event in events:
            if event.seq != expected_seq:
                return Verdict(checked, f"event {expected_seq} is missing (the next one is {event.seq})", expected_seq)
            if event.prev_hash != expected_prev:
                return Verdict(checked, f"event {event.seq} does not follow event {event.seq - 1}: "
                                        "its record of the previous hash was changed", event.seq)
            problem = _key_problem(event, ring, keyed_seen)
            if problem:
                return Verdict(checked, problem, event.seq)
            keyed_seen = keyed_seen or event.key_id is not None
            key = ring.get(event.key_id).secret if event.key_id is not None else None
            recomputed = digest(event.seq, case_id=event.case_id, actor=event.actor, at=event.at, action=event.action,
                                before=event.before, after=event.after, prev_hash=event.prev_hash, key=key)
            if recomputed != event.hash:
                return Verdict(checked, f"event {event.seq} ({event.action} by {event.actor}) was altered", event.seq)
            expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
        if len(events) < batch:
            break
        after_seq = events[-1].seq
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq < checked:
        return Verdict(checked, f"events after {head_seq} were added outside the chain's record of its end",
                       head_seq + 1)
    if head_seq != checked or head_hash != expected_prev:
        return Verdict(checked, f"the chain ends at event {checked} but {head_seq} were recorded: "
                                "events at the end are missing", checked + 1)
    if rows != checked:
        return Verdict(checked, f"{rows - checked} events are not part of the chain", None)
    return Verdict(checked, None, None)


def _key_problem(event: AuditEvent, ring, keyed_seen: bool) -> str | None:
    """What is wrong with an event's key, if anything: unknown, missing, or absent where one was in use."""
    if event.key_id is not None:
        if ring is None:
            return (f"event {event.seq} is keyed with audit key {event.key_id}: give the key file "
                    "(KYT_AUDIT_KEY_FILE) to check it")
        if ring.get(event.key_id) is None:
            return f"event {event.seq} is keyed with audit key {event.key_id}, which the key file does not hold"
        return None
    if ring is not None and (keyed_seen or event.at >= ring.since):
        return (f"event {event.seq} ({event.action} by {event.actor}) is not keyed though written while audit keys "
                "were in use: rewritten without the key")
    return None


def anchor(session: Session, *, now: datetime) -> dict:
    """The chain's head as an anchor to keep outside the database: {seq, hash, taken_at}."""
    head = session.get(AuditHead, 1)
    seq, digest_ = (head.seq, head.hash) if head else (0, GENESIS)
    return {"seq": seq, "hash": digest_, "taken_at": now.astimezone(timezone.utc).isoformat()}


def check_anchors(session: Session, anchors: list[dict]) -> Verdict | None:
    """The first anchor the chain no longer matches (an event it pinned is gone or has another hash), or None."""
    for kept in sorted(anchors, key=lambda a: a["seq"]):
        if kept["seq"] == 0:
            continue
        event = session.get(AuditEvent, kept["seq"])
        if event is None:
            return Verdict(0, f"the anchor taken at {kept['taken_at']} pins event {kept['seq']}, which is gone: "
                              "the chain was cut short", kept["seq"])
        if event.hash != kept["hash"]:
            return Verdict(0, f"event {kept['seq']} no longer has the hash anchored at {kept['taken_at']}: "
                              "the chain up to it was rewritten", kept["seq"])
    return None
