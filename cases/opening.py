"""Open a case for every frozen deposit of a scoring run, and an alert for every review.

It takes the run's typed records (kyt.record.DepositRecord) as they are. All or none, and
idempotent: the deposit id is unique, one query per chunk finds the deposits that already
have a case, and all the run's new cases (with their exposures, deadlines and audit
events, the hash chain extended as they go) and alerts are one transaction, so a run
killed at any moment leaves none of its cases, and run again ends with exactly one case
per frozen deposit. A run whose cases and alerts all exist writes nothing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Sequence

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from cases import audit
from cases.access import require
from cases.bulk import insert_rows, reserve_ids
from cases.columns import stored
from cases.db import Store, refresh_statistics
from cases.errors import InvalidRequest
from cases.deadlines import DEFAULT_JURISDICTIONS
from cases.models import Alert, Case, CaseCreate, Deadline, Exposure
from cases.schedule import plan
from cases.tracking import tracking_numbers
from cases.service import acting_user, unit_of_work
from kyt.record import DepositRecord, ScoreResult, Snapshot

CHUNK = 1000
"""Frozen deposits looked up and inserted at a time (cases with their exposures, deadlines and audit events)."""
ALERT_CHUNK = 5000
"""Reviewed deposits looked up and inserted at a time (an alert and its audit event each)."""


@dataclass
class Opened:
    """What a run did: the case id of every frozen deposit (by deposit id), and counts."""

    case_ids: dict[str, int]
    opened: int
    existing: int
    alerts: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(deposit id, why) of deposits left out because a value cannot be stored (with skip_invalid)."""
    seconds: dict[str, float] = field(default_factory=dict)
    """Time spent on the "cases" (frozen deposits) and on the "alerts" (reviewed ones)."""


def deposit_fields(record: DepositRecord) -> dict:
    """A deposit's fields as a case or an alert keeps them; InvalidRequest if an amount cannot be stored."""
    try:
        stored(record.amount)
        if record.usd_value is not None:
            stored(record.usd_value)
    except ValueError as error:
        raise InvalidRequest(f"deposit {record.deposit_id}: {error}") from None
    return dict(deposit_id=record.deposit_id, customer_id=record.customer_id, tx_hash=record.tx_hash,
                chain=record.sender.chain, from_address=record.sender.address, to_address=record.receiver.address, asset=record.asset,
                amount=record.amount, usd_value=record.usd_value,
                deposit_time=datetime.fromtimestamp(record.timestamp / 1e6, tz=timezone.utc),
                block_number=record.block_number, position=record.position, sender_risk=record.risk)


def _exposure_rows(record: DepositRecord) -> list[dict]:
    """The exposure rows a case keeps (evidence as JSON-ready dicts, the storage edge)."""
    return [dict(category=e.category, hop=e.hop, share=e.share, usd=e.usd,
                 evidence=e.evidence.to_dict() if e.evidence is not None else {}) for e in record.exposures]


class Plans:
    """The deadline rows a case's opening starts, computed once per run (every case of a run opens at `now`)."""

    def __init__(self, jurisdictions: list[str], now: datetime) -> None:
        self.jurisdictions, self.now = jurisdictions, now
        self._by_trigger: dict[str, list[dict]] = {}

    def rows(self, sanctions: bool) -> list[dict]:
        triggers = ["case_opened", "customer_waiting"] + (["sanctions_freeze"] if sanctions else [])
        for trigger in triggers:
            if trigger not in self._by_trigger:
                self._by_trigger[trigger] = plan(trigger, self.jurisdictions, self.now)
        return [row for trigger in triggers for row in self._by_trigger[trigger]]


def _new_case(record: DepositRecord, fields: dict, *, snapshot: dict, plans: Plans,
              tracking: str) -> tuple[dict, list[dict]]:
    """The row of a new case, and the deadlines its opening starts."""
    deadlines = plans.rows("sanctions" in record.categories)
    created = CaseCreate(**fields, decision="freeze", rule_ids=list(record.rule_ids), snapshot_id=record.snapshot_id,
                         snapshot=snapshot, categories=list(record.categories),
                         min_hop=min((e.hop for e in record.exposures), default=2),
                         jurisdictions=list(plans.jurisdictions))
    row = created.model_dump() | dict(
        tracking_number=tracking, status="open", opened_at=plans.now, updated_at=plans.now,
        next_due_at=min((r["due_at"] for r in deadlines), default=None), version=1)
    return row, deadlines


def _case_ids(session: Session, chunk: list[tuple[DepositRecord, dict]]) -> dict[str, int]:
    """The case id of each deposit of the chunk that has a case already."""
    ids = [record.deposit_id for record, _ in chunk]
    return dict(session.exec(select(Case.deposit_id, Case.id).where(Case.deposit_id.in_(ids))).all())


def _alerted(session: Session, chunk: list[tuple[DepositRecord, dict]]) -> set[str]:
    """The deposits of the chunk that have an alert already."""
    ids = [record.deposit_id for record, _ in chunk]
    return set(session.exec(select(Alert.deposit_id).where(Alert.deposit_id.in_(ids))).all())


def _open_chunk(session: Session, chunk: list[tuple[DepositRecord, dict]], snapshot: dict, *, actor: str,
                plans: Plans) -> tuple[dict[str, int], int]:
    """Open the cases of one chunk in the caller's transaction (rows in bulk, audit events in order)."""
    found = _case_ids(session, chunk)
    new = [(record, fields) for record, fields in chunk if record.deposit_id not in found]
    if not new:
        return found, 0
    planned = [_new_case(record, fields, snapshot=snapshot, plans=plans, tracking=tracking)
               for (record, fields), tracking in zip(new, tracking_numbers(len(new)))]
    case_ids = reserve_ids(session, Case.__table__, len(new))
    exposure_rows, deadline_rows, events = [], [], []
    for (record, _), case_id, (row, deadlines) in zip(new, case_ids, planned):
        row["id"] = found[record.deposit_id] = case_id
        exposure_rows += [dict(case_id=case_id, **e) for e in _exposure_rows(record)]
        deadline_rows += [dict(case_id=case_id, **r) for r in deadlines]
        events.append(("case.opened", case_id, {}, {
            "deposit_id": row["deposit_id"], "tracking_number": row["tracking_number"],
            "rule_ids": row["rule_ids"], "snapshot_id": row["snapshot_id"],
            "deadlines_started": [r["rule_id"] for r in deadlines], "next_due_at": row["next_due_at"]}))
    insert_rows(session, Case.__table__, [row for row, _ in planned])
    insert_rows(session, Exposure.__table__, exposure_rows)
    insert_rows(session, Deadline.__table__, deadline_rows)
    audit.append_many(session, actor, events, at=plans.now)
    return found, len(new)


def _record_alerts(session: Session, reviews: list[tuple[DepositRecord, dict]], *, actor: str,
                   now: datetime) -> int:
    """An alert for each deposit sent to review that has none yet (in bulk, ALERT_CHUNK at a time), in the
    caller's transaction."""
    added = 0
    for start in range(0, len(reviews), ALERT_CHUNK):
        chunk = reviews[start:start + ALERT_CHUNK]
        known = _alerted(session, chunk)
        rows = [dict(**fields, rule_ids=list(record.rule_ids), categories=list(record.categories),
                     snapshot_id=record.snapshot_id, status="open", created_at=now)
                for record, fields in chunk if record.deposit_id not in known]
        if rows:
            for row, alert_id in zip(rows, reserve_ids(session, Alert.__table__, len(rows))):
                row["id"] = alert_id
            insert_rows(session, Alert.__table__, rows)
            audit.append_many(session, actor, at=now, events=[
                ("alert.opened", None, {}, {"alert": row["id"], "deposit_id": row["deposit_id"],
                                             "rule_ids": row["rule_ids"], "snapshot_id": row["snapshot_id"]})
                for row in rows])
        added += len(rows)
    return added


def _all_there(store: Store, frozen: list[tuple[DepositRecord, dict]],
               reviews: list[tuple[DepositRecord, dict]]) -> dict[str, int] | None:
    """The case ids of the frozen deposits when every case and alert of the run exists already, else None."""
    with store.session() as session:
        found: dict[str, int] = {}
        for start in range(0, len(frozen), CHUNK):
            found.update(_case_ids(session, frozen[start:start + CHUNK]))
        if len(found) < len(frozen):
            return None
        for start in range(0, len(reviews), ALERT_CHUNK):
            chunk = reviews[start:start + ALERT_CHUNK]
            if len(_alerted(session, chunk)) < len(chunk):
                return None
        return found


def _storable(records: Sequence[DepositRecord], skip_invalid: bool,
              skipped: list[tuple[str, str]]) -> list[tuple[DepositRecord, dict]]:
    """The records whose values can be stored, with their fields; the others are added to `skipped`, or refused."""
    kept = []
    for record in records:
        try:
            kept.append((record, deposit_fields(record)))
        except InvalidRequest as error:
            if not skip_invalid:
                raise
            skipped.append((record.deposit_id, str(error)))
    return kept


def open_cases(store: Store, records: Sequence[DepositRecord], *, snapshot: Snapshot, now: datetime,
               actor: str = "system:batch", jurisdictions: tuple[str, ...] = DEFAULT_JURISDICTIONS,
               skip_invalid: bool = False) -> Opened:
    """Open a case for each frozen record and an alert for each one in review; safe to run again on the same run.

    Records of other decisions are ignored. A deposit with a value too large to store is
    refused (InvalidRequest) before anything is written, or, with `skip_invalid` (a watch
    that must go on), left out and reported.
    """
    with store.session() as session:  # checked before anything is written, whatever the run holds
        user = acting_user(session, actor)
        require(user.name, user.role, "open_cases")
    skipped: list[tuple[str, str]] = []
    clock = time.perf_counter()
    frozen = _storable([r for r in records if r.decision == "freeze"], skip_invalid, skipped)
    if any(record.exposures is None for record, _ in frozen):
        raise InvalidRequest("a case keeps its deposit's exposures: build frozen records with them "
                             "(ScoreResult.records(\"freeze\"))")
    checked = time.perf_counter()
    reviews = _storable([r for r in records if r.decision == "review"], skip_invalid, skipped)
    spent_checking_reviews = time.perf_counter() - checked
    kept, plans = snapshot.as_dict(), Plans(list(jurisdictions), now)
    known = _all_there(store, frozen, reviews)  # a run whose cases and alerts all exist writes nothing
    if known is not None:
        seconds = {"cases": time.perf_counter() - clock - spent_checking_reviews}
        return Opened(known, 0, len(frozen), 0, skipped, seconds | {"alerts": spent_checking_reviews})
    try:
        opened = _open_all(store, frozen, reviews, snapshot=kept, actor=actor, plans=plans)
    except IntegrityError:  # another run opened some of these at the same moment: all again, finding them
        opened = _open_all(store, frozen, reviews, snapshot=kept, actor=actor, plans=plans)
    if opened.opened:
        refresh_statistics(store.engine)
    opened.skipped = skipped
    opened.seconds["alerts"] += spent_checking_reviews
    opened.seconds["cases"] = time.perf_counter() - clock - opened.seconds["alerts"]
    return opened


def _open_all(store: Store, frozen: list[tuple[DepositRecord, dict]], reviews: list[tuple[DepositRecord, dict]], *,
              snapshot: dict, actor: str, plans: Plans) -> Opened:
    """Every case and alert of a run in one transaction: all of them, or none."""
    case_ids: dict[str, int] = {}
    opened = 0
    with unit_of_work(store) as session:  # the actor's right to open cases was checked by open_cases
        for start in range(0, len(frozen), CHUNK):
            ids, count = _open_chunk(session, frozen[start:start + CHUNK], snapshot, actor=actor, plans=plans)
            case_ids.update(ids)
            opened += count
        clock = time.perf_counter()
        alerts = _record_alerts(session, reviews, actor=actor, now=plans.now)
        spent = time.perf_counter() - clock
    return Opened(case_ids, opened, len(frozen) - opened, alerts, seconds={"alerts": spent})


def open_run(store: Store, result: ScoreResult, now: datetime, *, actor: str = "system:batch",
             jurisdictions: tuple[str, ...] = DEFAULT_JURISDICTIONS, skip_invalid: bool = False) -> Opened:
    """`open_cases` for the frozen and reviewed deposits of a scored batch (an alert's record without exposures)."""
    clock = time.perf_counter()
    frozen = result.records("freeze")
    built = time.perf_counter()
    reviewed = result.records("review", exposures=False)
    spent = {"cases": built - clock, "alerts": time.perf_counter() - built}  # building the records, then storing
    opened = open_cases(store, frozen + reviewed, snapshot=result.snapshot, now=now, actor=actor,
                        jurisdictions=jurisdictions, skip_invalid=skip_invalid)
    for step, seconds in spent.items():
        opened.seconds[step] += seconds
    return opened
