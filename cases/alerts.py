"""Review alerts worked like cases: a queue with filters, assignment, dismissal with a reason, or a freeze case.

An alert is a deposit the rules sent to review: its funds are not frozen. An analyst looks
at it and either dismisses it, saying why, or decides the deposit must be frozen and opens
a case for it (the case starts its deadlines as a batch-opened case does). Each change is
one transaction with its audit event, checked against the alert's version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cases import audit
from cases.access import require
from cases.db import Store, utc_day
from cases.deadlines import DEFAULT_JURISDICTIONS
from cases.errors import Conflict, InvalidRequest, NotFound
from cases.models import Alert, AuditEvent, Case, CaseCreate, Deadline, User
from cases.once import claim
from cases.queries import COUNT_CAP, name_filter
from cases.opening import Plans
from cases.service import acting_user, check_assignee, unit_of_work
from cases.tracking import tracking_number

STATUSES = ("open", "dismissed", "case_opened")


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a queue page shows: by status (None: all), category, assignee; oldest first."""

    status: str | None = "open"
    category: str | None = None
    assignee: str | None = None
    page: int = 1
    page_size: int = 50


@dataclass(frozen=True)
class AlertPage:
    """A page of alerts and how many match (counted up to COUNT_CAP: then `more`)."""

    rows: list[Alert]
    total: int
    page: int
    more: bool = False


def _filtered(query, chosen: AlertFilter):
    if chosen.status is not None:
        if chosen.status not in STATUSES:
            raise InvalidRequest(f"an alert is {', '.join(STATUSES)}, not {chosen.status!r}")
        query = query.where(Alert.status == chosen.status)
    category = name_filter(chosen.category, "category", pattern=r"[a-z][a-z0-9_]*", case=str.lower)
    if category:
        query = query.where(sa.cast(Alert.categories, sa.String).like(f'%"{category}"%'))
    if chosen.assignee:
        query = query.where(Alert.assignee == chosen.assignee.strip())
    return query


def alert_queue(store: Store, actor: str, chosen: AlertFilter) -> AlertPage:
    """One page of alerts, oldest first (from the index on status, creation time and id)."""
    if chosen.page < 1 or not 1 <= chosen.page_size <= 500:
        raise InvalidRequest("a page is numbered from 1 and holds 1 to 500 alerts")
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        rows = session.exec(_filtered(select(Alert), chosen).order_by(Alert.created_at, Alert.id)
                            .offset((chosen.page - 1) * chosen.page_size).limit(chosen.page_size)).all()
        matching = _filtered(select(Alert.id), chosen).limit(COUNT_CAP + 1).subquery()
        total = int(session.exec(select(sa.func.count()).select_from(matching)).one())
        return AlertPage([Alert.model_validate(r, from_attributes=True) for r in rows], min(total, COUNT_CAP),
                         chosen.page, total > COUNT_CAP)


def get_alert(store: Store, actor: str, alert_id: int) -> Alert:
    """One alert in full."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        return Alert.model_validate(_alert(session, alert_id), from_attributes=True)


def _alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}")
    return alert


def _save(session: Session, alert: Alert, *, expected_version: int | None, **changes: object) -> tuple[dict, dict]:
    """Update the alert if it is still at `expected_version`; (before, after) of what changed."""
    expected = alert.version if expected_version is None else expected_version
    before = {field: getattr(alert, field) for field in changes}
    result = session.execute(sa.update(Alert).where(Alert.id == alert.id, Alert.version == expected)
                             .values(**changes, version=expected + 1))
    if result.rowcount != 1:
        actual = session.execute(sa.select(Alert.version).where(Alert.id == alert.id)).scalar_one()
        last = session.execute(sa.select(AuditEvent.actor, AuditEvent.action, AuditEvent.at)
                               .where(AuditEvent.action.like("alert.%"),
                                      sa.or_(*(sa.cast(AuditEvent.after, sa.String).like(pattern) for pattern in
                                               (f'{{"alert":{alert.id},%', f'{{"alert": {alert.id},%'))))
                               .order_by(AuditEvent.seq.desc()).limit(1)).first()
        raise Conflict(alert.id, expected, actual, last=tuple(last) if last is not None else None, thing="alert")
    for field, value in changes.items():
        setattr(alert, field, value)
    alert.version = expected + 1
    return before, {**changes, "version": alert.version}


def _working(session: Session, actor: str, alert_id: int, *, action: str, now: datetime,
             request_key: str | None) -> tuple[User, Alert]:
    """The acting user, who may work cases, and the open alert, with the request's key claimed."""
    user = acting_user(session, actor)
    claim(session, request_key, actor=user.name, action=action, now=now)
    require(user.name, user.role, "work_case")
    return user, _open(session, alert_id)


def _open(session: Session, alert_id: int) -> Alert:
    alert = _alert(session, alert_id)
    if alert.status != "open":
        what = f"case {alert.case_id} was opened for it" if alert.status == "case_opened" else "it was dismissed"
        raise InvalidRequest(f"alert {alert_id} is no longer open: {what} by {alert.decided_by}")
    return alert


def assign(store: Store, actor: str, alert_id: int, *, assignee: str | None, now: datetime,
           expected_version: int | None = None, request_key: str | None = None) -> Alert:
    """Give the alert to an analyst or supervisor (or to nobody)."""
    with unit_of_work(store) as session:
        user, alert = _working(session, actor, alert_id, action="alert.assign", now=now, request_key=request_key)
        check_assignee(session, assignee)
        before, after = _save(session, alert, expected_version=expected_version, assignee=assignee)
        audit.append(session, user.name, "alert.assign", at=now, before=before, after={"alert": alert.id, **after})
        return Alert.model_validate(alert, from_attributes=True)


def dismiss(store: Store, actor: str, alert_id: int, *, reason: str, now: datetime,
            expected_version: int | None = None, request_key: str | None = None) -> Alert:
    """Close the alert without freezing anything, for a stated reason (kept with it and in the audit trail)."""
    if not reason.strip():
        raise InvalidRequest("dismissing an alert needs a reason")
    with unit_of_work(store) as session:
        user, alert = _working(session, actor, alert_id, action="alert.dismissed", now=now, request_key=request_key)
        before, after = _save(session, alert, expected_version=expected_version, status="dismissed",
                              reason=reason.strip()[:2000], decided_by=user.name, decided_at=now)
        audit.append(session, user.name, "alert.dismissed", at=now, before=before, after={"alert": alert.id, **after})
        return Alert.model_validate(alert, from_attributes=True)


def open_case(store: Store, actor: str, alert_id: int, *, reason: str, now: datetime,
              expected_version: int | None = None, request_key: str | None = None,
              jurisdictions: tuple[str, ...] = DEFAULT_JURISDICTIONS) -> Case:
    """Freeze the alert's deposit: a case opens with the alert's rules and categories, and its deadlines start.

    The alert kept no exposures (reviews are stored without them, for speed): the case
    shows the rules and categories that matched, and says where it came from.
    """
    if not reason.strip():
        raise InvalidRequest("opening a case from an alert needs a reason")
    with unit_of_work(store) as session:
        user, alert = _working(session, actor, alert_id, action="alert.case_opened", now=now, request_key=request_key)
        if session.exec(select(Case.id).where(Case.deposit_id == alert.deposit_id)).first() is not None:
            raise InvalidRequest(f"deposit {alert.deposit_id} has a case already")
        deadlines = Plans(list(jurisdictions), now).rows("sanctions" in alert.categories)  # as a batch's case
        # the alert first: its version check (and, on PostgreSQL, its row lock) makes a second analyst's
        # attempt at the same moment a conflict, not a second case
        before, after = _save(session, alert, expected_version=expected_version, status="case_opened",
                              reason=reason.strip()[:2000], decided_by=user.name, decided_at=now)
        fields = {name: getattr(alert, name) for name in CaseCreate.model_fields if hasattr(alert, name)}
        created = CaseCreate(**{**fields, "decision": "freeze", "rule_ids": list(alert.rule_ids),
                                "categories": list(alert.categories), "jurisdictions": list(jurisdictions),
                                "min_hop": _nearest_hop(alert.rule_ids),
                                "snapshot": {"from_alert": alert.id, "opened_by": user.name,
                                             "reason": reason.strip()[:2000]}})
        case = Case(**created.model_dump(), tracking_number=tracking_number(), status="open", opened_at=now,
                    updated_at=now, next_due_at=min((r["due_at"] for r in deadlines), default=None))
        session.add(case)
        try:
            session.flush()
        except IntegrityError:  # a batch opened a case for this deposit at the same moment
            raise InvalidRequest(f"deposit {alert.deposit_id} has a case already") from None
        for row in deadlines:
            session.add(Deadline(case_id=case.id, **row))
        session.execute(sa.update(Alert).where(Alert.id == alert.id).values(case_id=case.id))
        alert.case_id = after["case_id"] = case.id
        audit.append(session, user.name, "case.opened", at=now, case_id=case.id, after={
            "deposit_id": case.deposit_id, "tracking_number": case.tracking_number, "rule_ids": case.rule_ids,
            "snapshot_id": case.snapshot_id, "from_alert": alert.id, "reason": reason.strip()[:2000],
            "deadlines_started": [r["rule_id"] for r in deadlines], "next_due_at": case.next_due_at})
        audit.append(session, user.name, "alert.case_opened", at=now, case_id=case.id, before=before,
                     after={"alert": alert.id, **after})
        session.flush()
        return Case.model_validate(case, from_attributes=True)


def _nearest_hop(rule_ids: list[str]) -> int:
    """The nearest hop of the shipped policy's rules among these (2 when none is known): direct rules are hop 1."""
    from kyt.rules import default_policy

    hops = {rule.id: rule.hop for rule in default_policy().rules}
    return min((hops[r] for r in rule_ids if r in hops), default=2)


def summary(store: Store, actor: str, *, now: datetime) -> dict:
    """Alerts by status; open ones by category, the oldest's age and how many wait over a day (counted in the
    database)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        counts = dict(session.exec(select(Alert.status, sa.func.count()).group_by(Alert.status)).all())
        text = sa.cast(Alert.categories, sa.String)
        combos = session.exec(select(text, sa.func.count()).where(Alert.status == "open").group_by(text)).all()
        oldest = session.exec(select(sa.func.min(Alert.created_at)).where(Alert.status == "open")).one()
        waiting = session.exec(select(sa.func.count()).select_from(Alert).where(
            Alert.status == "open", Alert.created_at < now - timedelta(days=1))).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return {"by_status": {status: counts.get(status, 0) for status in STATUSES},
            "open_by_category": _by_category(combos),
            "oldest_open_hours": None if oldest is None else round((now - oldest).total_seconds() / 3600, 1),
            "open_over_a_day": int(waiting)}


def per_day(store: Store, actor: str, *, start: datetime, end: datetime) -> list[dict]:
    """Alerts raised per UTC day and category in [start, end), counted in the database."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_case")
        text = sa.cast(Alert.categories, sa.String)
        day = utc_day(store, Alert.created_at)
        found = session.exec(select(day, text, sa.func.count())
                             .where(Alert.created_at >= start, Alert.created_at < end).group_by(day, text)).all()
    counted: dict[tuple[str, str], int] = {}
    for when, categories, n in found:
        for category in json.loads(categories) or ["(none)"]:
            counted[(str(when), category)] = counted.get((str(when), category), 0) + n
    return [{"day": d, "category": c, "alerts": n} for (d, c), n in sorted(counted.items())]


def _by_category(combos) -> dict[str, int]:
    """Counts per distinct list of categories (as JSON text) turned into counts per category."""
    counted: dict[str, int] = {}
    for categories, n in combos:
        for category in json.loads(categories) or ["(none)"]:
            counted[category] = counted.get(category, 0) + n
    return dict(sorted(counted.items()))
