"""Freeze requests: an authority or a hacked protocol names stolen funds; we trace them to our deposits and answer.

`add` records a request (its reference, requester, deadline, the transactions and wallets
it names). `link` takes the deposits the trace found (kyt.freeze_trace) and, for each, opens
a freeze case or links the case it already has, in one transaction with its audit event
(so the request is in the case's timeline), and gives the case the request's deadline
(`REQUEST-RESPONSE`, a fixed date the requester set: never recomputed). `respond` records
the answer from an approved template (cases/request_templates.toml), closes those
deadlines, and marks the request answered.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Sequence

from sqlmodel import Session, select

from cases import audit
from cases.access import require
from cases.api_models import FreezeRequest, RequestHit
from cases.db import Store
from cases.errors import InvalidRequest, NotFound
from cases.models import Case, Deadline
from cases.opening import open_cases
from cases.schedule import close_deadlines, next_due
from cases.service import acting_user, unit_of_work
from kyt.freeze_trace import Hit
from kyt.record import Snapshot

KINDS = ("authority", "protocol")
DEADLINE_RULE = "REQUEST-RESPONSE"
"""The deadline a request puts on each case it reached: the requester's date, fixed."""
WARN_BEFORE = timedelta(days=1)
TEMPLATES = Path(__file__).resolve().parent / "request_templates.toml"


@cache
def templates() -> dict[str, dict]:
    """The approved answers, by id: description and text."""
    return tomllib.loads(TEMPLATES.read_text())["templates"]


def add(store: Store, actor: str, *, reference: str, requester: str, kind: str, deadline: datetime,
        tx_hashes: Sequence[str], wallets: Sequence[str], since: datetime | None, hops: int,
        now: datetime) -> FreezeRequest:
    """Record a freeze request, as an analyst or supervisor (or the API's service account); the very same request
    again (its reference and contents) is the one recorded, so that a retry links what an interrupted run did not."""
    reference, requester = reference.strip(), requester.strip()
    if not reference or len(reference) > 100 or not reference.isprintable():
        raise InvalidRequest("a request's reference is 1 to 100 printable characters")
    if not requester or len(requester) > 200:
        raise InvalidRequest("a request names its requester (1 to 200 characters)")
    if kind not in KINDS:
        raise InvalidRequest(f"a request comes from an {' or a '.join(KINDS)}, not {kind!r}")
    if deadline <= now:
        raise InvalidRequest(f"the deadline {deadline.isoformat()} has passed")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "record_requests")
        known = session.exec(select(FreezeRequest).where(FreezeRequest.reference == reference)).first()
        if known is not None:  # the same request again (a retry) goes on where it stopped; another one is refused
            if (known.requester, known.kind, known.deadline, known.tx_hashes, known.wallets, known.since,
                    known.hops) != (requester, kind, deadline, list(tx_hashes), list(wallets), since, hops):
                raise InvalidRequest(f"there is already a request {reference!r} with other contents: kyt requests "
                                     "list shows it")
            session.expunge(known)
            return known
        request = FreezeRequest(reference=reference, requester=requester, kind=kind, received_at=now,
                                deadline=deadline, tx_hashes=list(tx_hashes), wallets=list(wallets), since=since,
                                hops=hops, created_by=user.name)
        session.add(request)
        session.flush()
        audit.append(session, user.name, "request.add", at=now,
                     after={"request": request.id, "reference": reference, "requester": requester, "kind": kind,
                            "deadline": deadline, "transactions": len(tx_hashes), "wallets": len(wallets)})
        session.expunge(request)
        return request


@dataclass
class Linked:
    """What `link` did: the case of each deposit reached, and how many were opened and how many already open."""

    case_ids: dict[str, int]
    opened: int
    linked: int


def link(store: Store, actor: str, request_id: int, *, hits: Sequence[Hit], snapshot: Snapshot,
         now: datetime) -> Linked:
    """Open or link a case for each deposit the request's funds reached; each link audited on its case."""
    with Session(store.engine) as session:
        request = _request(session, request_id)
        existing = {c.deposit_id: c.id for c in session.exec(select(Case).where(
            Case.deposit_id.in_([h.record.deposit_id for h in hits]))).all()}
    fresh = [h.record for h in hits if h.record.deposit_id not in existing]
    opened = open_cases(store, fresh, snapshot=snapshot, now=now, actor="system:request") if fresh else None
    case_ids = {**existing, **(opened.case_ids if opened else {})}
    linked = 0
    for hit in hits:
        case_id = case_ids[hit.record.deposit_id]
        with unit_of_work(store) as session:
            user = acting_user(session, actor)
            require(user.name, user.role, "record_requests")
            if session.exec(select(RequestHit).where(RequestHit.request_id == request_id,
                                                     RequestHit.deposit_id == hit.record.deposit_id)).first():
                continue  # linked by an earlier run of the same request
            usd = format(hit.stolen_usd, "f")
            session.add(RequestHit(request_id=request_id, deposit_id=hit.record.deposit_id, case_id=case_id,
                                   hop=hit.hop, stolen_usd=usd, value_unknown=hit.unknown, linked_at=now))
            session.add(Deadline(case_id=case_id, rule_id=DEADLINE_RULE, jurisdiction="REQ",
                                 trigger=f"freeze request {request.reference}", triggered_at=request.received_at,
                                 due_at=request.deadline, warn_at=request.deadline - WARN_BEFORE))
            session.flush()
            _queue_order(session, case_id)
            audit.append(session, user.name, "request.linked", at=now, case_id=case_id,
                         after={"request": request.reference, "requester": request.requester, "hop": hit.hop,
                                "stolen_usd": usd, "value_unknown": hit.unknown, "deadline": request.deadline})
            linked += 1
    return Linked(case_ids, opened.opened if opened else 0, linked)


def _queue_order(session: Session, case_id: int) -> None:
    """Keep the case's nearest deadline (the queue's order) true after a request's deadline came or went."""
    case = session.get(Case, case_id)
    case.next_due_at = next_due(session, case_id)
    session.add(case)


def _request(session: Session, request_id: int) -> FreezeRequest:
    request = session.get(FreezeRequest, request_id)
    if request is None:
        raise NotFound(f"no freeze request {request_id}")
    return request


def respond(store: Store, actor: str, request_id: int, *, template_id: str, now: datetime) -> str:
    """Answer a request with an approved template, as an analyst or supervisor; the text sent."""
    if template_id not in templates():
        raise InvalidRequest(f"no approved answer {template_id!r}; approved: {', '.join(templates())}")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "work_case")
        request = _request(session, request_id)
        if request.status == "answered":
            raise InvalidRequest(f"request {request.reference} was answered on {request.responded_at:%Y-%m-%d}")
        hits = session.exec(select(RequestHit).where(RequestHit.request_id == request_id)).all()
        if template_id == "funds_frozen" and not hits:
            raise InvalidRequest("the trace found no deposit: answer with no_funds_found")
        if template_id == "no_funds_found" and hits:
            raise InvalidRequest(f"the trace found {len(hits)} deposit(s): answer with funds_frozen")
        total = sum((Decimal(h.stolen_usd) for h in hits if h.stolen_usd is not None), Decimal(0))
        text = templates()[template_id]["text"].format(
            reference=request.reference, received=f"{request.received_at:%Y-%m-%d}", deposits=len(hits),
            stolen_usd=f"{total:,.2f}" + (" at least: some values have no price" if any(h.value_unknown for h in hits)
                                          else ""),
            cases=", ".join(sorted({str(h.case_id) for h in hits})) or "none", hops=request.hops,
            deadline=f"{request.deadline:%Y-%m-%d}")
        final = template_id != "acknowledged"
        if final:
            request.status = "answered"
            for case_id in {h.case_id for h in hits if h.case_id is not None}:
                close_deadlines(session, case_id, at=now, status="met", rule_ids=(DEADLINE_RULE,))
                _queue_order(session, case_id)
        request.response_template, request.response_text = template_id, text
        request.responded_by, request.responded_at = user.name, now
        session.add(request)
        audit.append(session, user.name, "request.answered" if final else "request.acknowledged", at=now,
                     after={"request": request.reference, "template": template_id, "text": text})
        return text


def list_requests(store: Store, actor: str) -> list[tuple[FreezeRequest, list[RequestHit]]]:
    """Every request, newest first, with the deposits it reached."""
    with Session(store.engine) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        out = []
        for request in session.exec(select(FreezeRequest).order_by(FreezeRequest.received_at.desc())).all():
            hits = session.exec(select(RequestHit).where(RequestHit.request_id == request.id)).all()
            for row in (request, *hits):
                session.expunge(row)
            out.append((request, list(hits)))
        return out
