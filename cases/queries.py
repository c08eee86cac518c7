"""Reading cases: the queue, one case in full, the customer-safe view, deadlines at risk, audit.

Every function takes the acting user's name and checks the role first. The support role
reaches only `customer_view`, which carries nothing of the investigation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from cases import audit, lifecycle, replay
from cases.access import require
from cases.db import Store, utc_day
from cases.errors import InvalidRequest, NotFound
from cases.models import OPEN_FILTER, Attachment, Case, CasePublic, Deadline, Exposure, Note, Proposal
from cases.service import acting_user

@dataclass(frozen=True)
class QueueRow:
    """One line of the queue."""

    id: int
    tracking_number: str
    status: str
    customer_id: str
    usd_value: Decimal | None
    categories: list[str]
    min_hop: int
    assignee: str | None
    next_due_at: datetime | None
    snoozed_until: datetime | None
    version: int
    overdue: tuple[str, ...] = ()
    """The deadlines of the case past due (e.g. NY-STATUS: a waiting customer's update is late)."""
    at_risk: tuple[str, ...] = ()
    """The deadlines past their warning point but not yet due."""
    priority: float | None = None
    """Place within its deadline day (1 first) from the triage model; None: not ranked."""
    priority_model: str | None = None
    queue_order: str | None = None


@dataclass(frozen=True)
class Page:
    """A page of the queue and how many rows match in all (counted up to a cap: then `more`)."""

    rows: list[QueueRow]
    total: int
    page: int
    page_size: int
    more: bool = False
    """True when more than `total` rows match (the count stopped at its cap)."""


COUNT_CAP = 10_000


@dataclass
class CaseDetail:
    """Everything about a case, for analysts and supervisors."""

    case: CasePublic
    exposures: list[dict] = field(default_factory=list)
    deadlines: list[dict] = field(default_factory=list)
    proposals: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    allowed_actions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerView:
    """What support may see and say: nothing of evidence, exposures, notes or reports."""

    tracking_number: str
    customer_id: str
    status: str
    asset: str
    amount: Decimal
    deposit_time: datetime
    next_update_due: datetime | None
    case_id: int


@dataclass(frozen=True)
class QueueFilter:
    """Which cases the queue shows, in which order, and which page of them."""

    status: str | None = None
    """Only cases in this status (default: every open one)."""
    category: str | None = None
    hop: int | None = None
    jurisdiction: str | None = None
    assignee: str | None = None
    min_usd: Decimal | None = None
    max_usd: Decimal | None = None
    include_snoozed: bool = False
    """Also cases snoozed past now (default: they stay out of the way until their snooze ends)."""
    order: str = "deadline"
    """"deadline": nearest first; "priority": each deadline day in triage priority order."""
    page: int = 1
    page_size: int = 50
    with_total: bool = True
    """Count the matching rows (up to COUNT_CAP); False skips the count (total -1)."""


def queue(store: Store, filter: QueueFilter, *, actor: str, now: datetime) -> Page:
    """Open cases (or those in `filter.status`), nearest deadline first, one page at a time.

    The rows come from the partial index over open cases in deadline order, so a page costs
    the same however long the queue. The total is counted up to COUNT_CAP (then `more` is
    set); `with_total=False` skips counting (total -1). `order="priority"` keeps the deadline
    days in order but orders each day's cases by their triage priority (cases.triage); cases
    not ranked come after the ranked ones of their day, in deadline order.
    """
    if filter.order not in ("deadline", "priority"):
        raise InvalidRequest(f"the queue is ordered by deadline or priority, not {filter.order!r}")
    page, page_size = filter.page, filter.page_size
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        snoozed_before = None if filter.include_snoozed else now
        sqlite = store.engine.dialect.name == "sqlite"
        query = _filtered(select(Case), filter, snoozed_before=snoozed_before, sqlite=sqlite)
        ordering = [Case.next_due_at.is_(None), Case.next_due_at, Case.id]
        if filter.order == "priority":  # the expressions of the index ix_cases_priority_queue (migration 0005)
            ordering[1:1] = [utc_day(store, Case.next_due_at),
                             Case.priority.desc() if sqlite else Case.priority.desc().nulls_last()]
        cases = session.exec(query.order_by(*ordering).offset((page - 1) * page_size).limit(page_size)).all()
        total = -1
        if filter.with_total:
            matching = (_filtered(select(Case.id), filter, snoozed_before=snoozed_before, sqlite=sqlite)
                        .limit(COUNT_CAP + 1).subquery())
            total = int(session.exec(select(sa.func.count()).select_from(matching)).one())
        late: dict[int, list[str]] = {}
        risky: dict[int, list[str]] = {}
        if cases:
            for case_id, rule_id, due_at in session.exec(
                    select(Deadline.case_id, Deadline.rule_id, Deadline.due_at)
                    .where(Deadline.case_id.in_([c.id for c in cases]), Deadline.status == "open",
                           Deadline.warn_at <= now).order_by(Deadline.due_at)).all():
                (late if due_at < now else risky).setdefault(case_id, []).append(rule_id)
        return Page([QueueRow(c.id, c.tracking_number, c.status, c.customer_id, c.usd_value, c.categories, c.min_hop,
                              c.assignee, c.next_due_at, c.snoozed_until, c.version, tuple(late.get(c.id, ())),
                              tuple(risky.get(c.id, ())), c.priority, c.priority_model, c.queue_order)
                     for c in cases],
                    min(total, COUNT_CAP), page, page_size, total > COUNT_CAP)


def _filtered(query, filter: QueueFilter, *, snoozed_before: datetime | None, sqlite: bool):
    status, hop, assignee, min_usd, max_usd = filter.status, filter.hop, filter.assignee, filter.min_usd, filter.max_usd
    category = name_filter(filter.category, "category", pattern=r"[a-z][a-z0-9_]*", case=str.lower)
    jurisdiction = name_filter(filter.jurisdiction, "jurisdiction", pattern=r"[A-Z]{2,8}", case=str.upper)
    if status is None or status in lifecycle.OPEN_STATES:
        # the same text as the partial index's condition, so that both databases use that index
        query = query.where(sa.text(OPEN_FILTER))
    if status is not None:
        query = query.where(Case.status == status)
    if category:
        query = query.where(sa.cast(Case.categories, sa.String).like(f'%"{category}"%'))
    if jurisdiction:
        query = query.where(sa.cast(Case.jurisdictions, sa.String).like(f'%"{jurisdiction}"%'))
    if hop is not None:
        query = query.where(Case.min_hop == hop)
    if assignee:
        query = query.where(Case.assignee == assignee)
    if snoozed_before is not None:
        query = query.where(sa.or_(Case.snoozed_until.is_(None), Case.snoozed_until <= snoozed_before))
    money = sa.cast(Case.usd_value, sa.Numeric(38, 6)) if sqlite else Case.usd_value
    if min_usd is not None:
        query = query.where(money >= min_usd)
    if max_usd is not None:
        query = query.where(money <= max_usd)
    return query


def name_filter(value: str | None, what: str, *, pattern: str, case) -> str | None:
    """A category or jurisdiction filter, in the case it is stored in; InvalidRequest if it is not a name."""
    if value is None or value == "":
        return None
    normal = case(value.strip())
    if not re.fullmatch(pattern, normal):
        raise InvalidRequest(f"{what} {value!r} is not a {what} name")
    return normal


def _rows(session: Session, model, case_id: int, *, order) -> list[dict]:
    return [row.model_dump() for row in session.exec(select(model).where(model.case_id == case_id).order_by(order))]


def show(store: Store, actor: str, case_id: int) -> CaseDetail:
    """One case in full: deposit, decision, exposures with evidence, deadlines, proposals, notes."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound(f"no case {case_id}")
        return CaseDetail(
            case=CasePublic.model_validate(case, from_attributes=True),
            exposures=_rows(session, Exposure, case.id, order=Exposure.id),
            deadlines=_rows(session, Deadline, case.id, order=Deadline.due_at),
            proposals=_rows(session, Proposal, case.id, order=Proposal.id),
            notes=_rows(session, Note, case.id, order=Note.id),
            attachments=_rows(session, Attachment, case.id, order=Attachment.id),
            allowed_actions=lifecycle.allowed_actions(case.status))


def customer_view(store: Store, actor: str, *, tracking_number: str | None = None, customer_id: str | None = None,
                  tx_hash: str | None = None) -> list[CustomerView]:
    """The customer-safe view of the cases matching a tracking number, a customer or a deposit tx hash."""
    if not (tracking_number or customer_id or tx_hash):
        raise NotFound("give a tracking number, a customer id or a deposit transaction hash")
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_customer_status")
        query = select(Case)
        if tracking_number:
            query = query.where(Case.tracking_number == tracking_number.strip().upper())
        if customer_id:
            query = query.where(Case.customer_id == customer_id.strip())
        if tx_hash:
            query = query.where(Case.tx_hash == tx_hash.strip().lower())
        out = []
        for case in session.exec(query.order_by(Case.id)).all():
            update = session.exec(select(Deadline.due_at).where(Deadline.case_id == case.id, Deadline.status == "open",
                                                                Deadline.rule_id == "NY-STATUS")).first()
            status = lifecycle.customer_status(case.status, case.outcome)
            out.append(CustomerView(case.tracking_number, case.customer_id, status, case.asset, case.amount,
                                    case.deposit_time, update, case.id))
        return out


@dataclass(frozen=True)
class DueDeadline:
    """A deadline at risk or overdue, with its case."""

    case_id: int
    tracking_number: str
    case_status: str
    rule_id: str
    jurisdiction: str
    due_at: datetime
    warn_at: datetime
    overdue: bool


def _due_filter(now: datetime, within: timedelta):
    return sa.and_(Deadline.status == "open", sa.or_(Deadline.due_at <= now + within, Deadline.warn_at <= now))


def due(store: Store, actor: str, now: datetime, *, within: timedelta, limit: int | None = None) -> list[DueDeadline]:
    """Open deadlines overdue, due within `within`, or past their warning point; soonest first (the first `limit`)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_deadlines")
        query = (select(Deadline, Case).join(Case, Case.id == Deadline.case_id).where(_due_filter(now, within))
                 .order_by(Deadline.due_at, Deadline.id))
        rows = session.exec(query.limit(limit) if limit is not None else query).all()
        return [DueDeadline(c.id, c.tracking_number, c.status, d.rule_id, d.jurisdiction, d.due_at, d.warn_at,
                            d.due_at < now) for d, c in rows]


def due_counts(store: Store, actor: str, now: datetime, *, within: timedelta) -> dict[str, int]:
    """How many of `due`'s deadlines are overdue and how many at risk or due soon, counted in the database."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_deadlines")
        late = sa.case((Deadline.due_at < now, 1), else_=0)
        overdue, total = session.execute(sa.select(sa.func.coalesce(sa.func.sum(late), 0), sa.func.count())
                                         .where(_due_filter(now, within))).one()
        return {"overdue": int(overdue), "at_risk": int(total) - int(overdue)}


def verify_audit(store: Store, actor: str, anchors: list[dict] = ()) -> audit.Verdict:
    """Walk the audit chain, check it against anchors kept outside the database, then replay every case, alert
    and reply from its events and compare (supervisors and admins)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_audit")
        verdict = audit.verify(session)
        if verdict.ok and anchors:
            verdict = audit.check_anchors(session, list(anchors)) or verdict
        if not verdict.ok:
            return verdict
        differ = replay.mismatches(session)
        if differ:
            more = f"; {len(differ) - 1} more rows differ" if len(differ) > 1 else ""
            return audit.Verdict(verdict.checked, f"{differ[0]}{more}", None)
        return verdict


def anchor_audit(store: Store, actor: str, now: datetime) -> dict:
    """The chain's head, to keep outside the database (supervisors and admins)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_audit")
        return audit.anchor(session, now=now)


def pending_proposals(store: Store, actor: str) -> list[dict]:
    """Proposals waiting for a second person, oldest first, with their case's tracking number."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_deadlines")
        rows = session.exec(select(Proposal, Case.tracking_number).join(Case, Case.id == Proposal.case_id)
                            .where(Proposal.status == "pending").order_by(Proposal.proposed_at, Proposal.id)).all()
        return [{"proposal": p.id, "case_id": p.case_id, "tracking_number": t, "kind": p.kind, "reason": p.reason,
                 "proposed_by": p.proposed_by, "proposed_at": p.proposed_at} for p, t in rows]
