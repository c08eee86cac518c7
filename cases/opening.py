"""Open a case for every frozen deposit of a scoring run, and an alert for every review.

Idempotent and crash-safe: the deposit id is unique, deposits that already have a case
are skipped, and each chunk of cases (with their exposures, deadlines and audit events)
is one transaction, so a run killed at any moment and run again ends with exactly one
case per frozen deposit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

import numpy as np
from sqlalchemy.exc import IntegrityError
import sqlalchemy as sa
from sqlmodel import select

from cases import audit
from cases.access import require
from cases.columns import stored
from cases.db import Store, refresh_statistics
from cases.errors import InvalidRequest
from cases.deadlines import DEFAULT_JURISDICTIONS
from cases.models import Alert, Case, CaseCreate, Deadline, Exposure
from cases.schedule import plan
from cases.tracking import tracking_number
from cases.service import acting_user, unit_of_work
from graph.money import micro_text
from kyt.batch import ScoreResult, categories_text, exposure_table, snapshot_dict

CHUNK = 200


@dataclass
class Opened:
    """What a run did: the case id of every frozen deposit (deposit index -> id), and counts."""

    case_ids: dict[int, int]
    opened: int
    existing: int
    alerts: int
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(deposit id, why) of deposits left out because a value cannot be stored (with skip_invalid)."""


def _time(micro: int) -> datetime:
    return datetime.fromtimestamp(int(micro) / 1e6, tz=timezone.utc)


def _deposit_fields(result: ScoreResult, d: int) -> dict:
    """A deposit's fields as a case or an alert keeps them; InvalidRequest if an amount cannot be stored."""
    deposits = result.deposits
    fields = dict(
        deposit_id=deposits.deposit_id[d].as_py(), customer_id=deposits.customer_id[d].as_py(),
        tx_hash=deposits.tx_hash[d].as_py(), from_address=deposits.from_address[d].as_py(),
        to_address=deposits.to_address[d].as_py(), asset=deposits.asset[d].as_py(),
        amount=Decimal(deposits.amount[d].as_py()),
        usd_value=None if deposits.unpriced[d] else Decimal(micro_text(int(deposits.usd_micro[d]))),
        deposit_time=_time(deposits.timestamp[d]), block_number=int(deposits.block[d]),
        position=int(deposits.position[d]), sender_risk=result.risk.record(d) if result.risk is not None else None)
    try:
        stored(fields["amount"])
        if fields["usd_value"] is not None:
            stored(fields["usd_value"])
    except ValueError as error:
        raise InvalidRequest(f"deposit {fields['deposit_id']}: {error}") from None
    return fields


def _exposures_by_deposit(result: ScoreResult, wanted: list[int]) -> dict[int, list[dict]]:
    """Exposure rows (category, hop, share, usd, evidence) of the wanted deposits."""
    rows = np.flatnonzero(np.isin(result.exposures.deposit, np.asarray(wanted, dtype=np.int64)))
    table = exposure_table(result, rows)
    columns = [table.column(name).to_pylist() for name in ("deposit_id", "category", "hop", "share", "usd")]
    evidence = {(e["deposit_id"], e["category"], e["hop"]): e for e in result.evidence}
    out: dict[int, list[dict]] = {}
    for d, deposit_id, category, hop, share, usd in zip(result.exposures.deposit[rows].tolist(), *columns):
        out.setdefault(d, []).append(dict(category=category, hop=hop, share=Decimal(share) if share else None,
                                          usd=Decimal(usd) if usd else None,
                                          evidence=evidence.get((deposit_id, category, hop), {})))
    return out


def _new_case(result: ScoreResult, d: int, fields: dict, exposures: list[dict], jurisdictions: list[str],
              now: datetime) -> tuple[dict, list[dict]]:
    """The row of a new case, and the deadlines its opening starts."""
    categories = sorted({e["category"] for e in exposures})
    triggers = ["case_opened", "customer_waiting"] + (["sanctions_freeze"] if "sanctions" in categories else [])
    deadlines = [row for trigger in triggers for row in plan(trigger, jurisdictions, now)]
    rules = result.decisions.rule_texts[d]
    created = CaseCreate(**fields, decision="freeze", rule_ids=rules.split(";") if rules else [],
                         snapshot_id=result.snapshot.id, snapshot=snapshot_dict(result.snapshot), categories=categories,
                         min_hop=min((e["hop"] for e in exposures), default=2), jurisdictions=list(jurisdictions))
    row = created.model_dump() | dict(
        tracking_number=tracking_number(), status="open", opened_at=now, updated_at=now,
        next_due_at=min((r["due_at"] for r in deadlines), default=None), version=1)
    return row, deadlines


def _open_chunk(store: Store, result: ScoreResult, chunk: list[int], fields: dict[int, dict],
                exposures: dict[int, list[dict]], actor: str, jurisdictions: list[str],
                now: datetime) -> tuple[dict[int, int], int]:
    """Open the cases of one chunk in one transaction (rows in bulk, audit events in order)."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "open_cases")
        ids = {result.deposits.deposit_id[d].as_py(): d for d in chunk}
        found = dict(session.exec(select(Case.deposit_id, Case.id).where(Case.deposit_id.in_(list(ids)))).all())
        case_ids = {ids[deposit_id]: case_id for deposit_id, case_id in found.items()}
        new = [d for deposit_id, d in ids.items() if deposit_id not in found]
        if not new:
            return case_ids, 0
        planned = [_new_case(result, d, fields[d], exposures.get(d, []), jurisdictions, now) for d in new]
        inserted = session.execute(sa.insert(Case).returning(Case.id, sort_by_parameter_order=True),
                                   [row for row, _ in planned]).scalars().all()
        exposure_rows, deadline_rows, events = [], [], []
        for d, case_id, (row, deadlines) in zip(new, inserted, planned):
            case_ids[d] = case_id
            exposure_rows += [dict(case_id=case_id, **e) for e in exposures.get(d, [])]
            deadline_rows += [dict(case_id=case_id, **r) for r in deadlines]
            events.append(("case.opened", case_id, {}, {
                "deposit_id": row["deposit_id"], "tracking_number": row["tracking_number"],
                "rule_ids": row["rule_ids"], "snapshot_id": row["snapshot_id"],
                "deadlines_started": [r["rule_id"] for r in deadlines]}))
        if exposure_rows:
            session.execute(sa.insert(Exposure), exposure_rows)
        if deadline_rows:
            session.execute(sa.insert(Deadline), deadline_rows)
        audit.append_many(session, user.name, now, events)
        return case_ids, len(new)


def _record_alerts(store: Store, result: ScoreResult, reviews: list[int], fields: dict[int, dict], actor: str,
                   now: datetime) -> int:
    """An alert for each deposit sent to review that has none yet (in bulk, 1,000 per transaction)."""
    categories = categories_text(result.exposures, len(result.deposits))
    added = 0
    for start in range(0, len(reviews), 1000):
        chunk = reviews[start:start + 1000]
        with unit_of_work(store) as session:
            ids = {result.deposits.deposit_id[d].as_py(): d for d in chunk}
            known = set(session.exec(select(Alert.deposit_id).where(Alert.deposit_id.in_(list(ids)))).all())
            rows = []
            for deposit_id, d in ids.items():
                if deposit_id not in known:
                    rules, found = result.decisions.rule_texts[d], categories[d]
                    rows.append(dict(**fields[d], rule_ids=rules.split(";") if rules else [],
                                     categories=found.split(";") if found else [], snapshot_id=result.snapshot.id,
                                     status="open", created_at=now))
            if rows:
                ids = session.execute(sa.insert(Alert).returning(Alert.id, sort_by_parameter_order=True),
                                      rows).scalars().all()
                audit.append_many(session, actor, now, [
                    ("alert.opened", None, {}, {"alert": alert_id, "deposit_id": row["deposit_id"],
                                                 "rule_ids": row["rule_ids"], "snapshot_id": row["snapshot_id"]})
                    for alert_id, row in zip(ids, rows)])
            added += len(rows)
    return added


def _storable(result: ScoreResult, deposits: list[int], skip_invalid: bool,
              skipped: list[tuple[str, str]]) -> dict[int, dict]:
    """The fields of the deposits whose values can be stored, in order; the others are added to `skipped`, or refused."""
    kept = {}
    for d in deposits:
        try:
            kept[d] = _deposit_fields(result, d)
        except InvalidRequest as error:
            if not skip_invalid:
                raise
            skipped.append((result.deposits.deposit_id[d].as_py(), str(error)))
    return kept


def open_cases(store: Store, result: ScoreResult, now: datetime, actor: str = "system:batch",
               jurisdictions: tuple[str, ...] = DEFAULT_JURISDICTIONS, skip_invalid: bool = False) -> Opened:
    """Open the cases and alerts of a scoring run; safe to run again on the same run.

    A deposit with a value too large to store is refused (InvalidRequest) before anything is
    written, or, with `skip_invalid` (a watch that must go on), left out and reported.
    """
    with store.session() as session:  # checked before anything is written, whatever the run holds
        user = acting_user(session, actor)
        require(user.name, user.role, "open_cases")
    skipped: list[tuple[str, str]] = []
    frozen_fields = _storable(result, np.flatnonzero(result.decisions.code == 2).tolist(), skip_invalid, skipped)
    review_fields = _storable(result, np.flatnonzero(result.decisions.code == 1).tolist(), skip_invalid, skipped)
    frozen, reviews, fields = list(frozen_fields), list(review_fields), frozen_fields | review_fields
    exposures = _exposures_by_deposit(result, frozen)
    case_ids: dict[int, int] = {}
    opened = 0
    for start in range(0, len(frozen), CHUNK):
        chunk = frozen[start:start + CHUNK]
        try:
            ids, count = _open_chunk(store, result, chunk, fields, exposures, actor, list(jurisdictions), now)
        except IntegrityError:  # another run opened some of these at the same moment: count them as found
            ids, count = _open_chunk(store, result, chunk, fields, exposures, actor, list(jurisdictions), now)
        case_ids.update(ids)
        opened += count
    alerts = _record_alerts(store, result, reviews, fields, actor, now)
    if opened:
        refresh_statistics(store.engine)
    return Opened(case_ids, opened, len(frozen) - opened, alerts, skipped)
