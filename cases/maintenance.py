"""Keeping open cases true to the lists, rules and chain: re-screening and reorganisation notes, deadlines.

A re-screen never closes a case: when a deposit that froze is no longer frozen under a new
list or policy (a delisting, say), its case gets a note and an audit event, and a person
decides. Deadline recomputation applies changed deadline rules to the open deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlmodel import select

from cases import audit, lifecycle
from cases.access import require
from cases.db import Store
from cases.deadlines import FIXED_DEADLINES, RULES, RULES_BY_ID, DeadlineRule, compute
from cases.models import AuditEvent, Case, Deadline, Note
from cases.service import acting_user, save_case, unit_of_work
from kyt.record import ScoreResult
from kyt.decide import DECISIONS


@dataclass(frozen=True)
class Rescreened:
    """What a re-screen found among existing cases."""

    annotated: list[int]
    """Cases whose deposit is no longer frozen and got a note now."""
    already_noted: int


def annotate_cleared(store: Store, result: ScoreResult, now: datetime, *,
                     actor: str = "system:rescreen") -> Rescreened:
    """Note, on each unfinished case whose deposit this run no longer freezes, what the new decision is."""
    not_frozen = np.flatnonzero(result.decisions.code != DECISIONS.index("freeze"))
    by_deposit = dict(zip(result.deposits.deposit_id.take(not_frozen).to_pylist(), not_frozen.tolist()))
    annotated, already = [], 0
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "open_cases")
        ids = list(by_deposit)
        cases = []
        for start in range(0, len(ids), 500):
            cases += session.exec(select(Case).where(Case.deposit_id.in_(ids[start:start + 500]),
                                                     Case.status.in_(lifecycle.OPEN_STATES))).all()
        records = {r.deposit_id: r for r in result.records(rows=[by_deposit[case.deposit_id] for case in cases])}
        for case in cases:
            record = records[case.deposit_id]
            seen = session.exec(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                         AuditEvent.action == "case.rescreened")).all()
            if any(event.after.get("snapshot_id") == record.snapshot_id for event in seen):
                already += 1
                continue
            body = (f"Re-screened as of {result.snapshot.as_of} (snapshot {result.snapshot.id}, policy "
                    f"{result.snapshot.policy_name} {result.snapshot.policy_version}): the deposit would now be "
                    f"'{record.decision}'" + (f" by {', '.join(record.rule_ids)}" if record.rule_ids
                                              else ", with no rule matching")
                    + ". The exposure that froze it is no longer found; decide whether to release it.")
            session.add(Note(case_id=case.id, author=user.name, written_at=now, body=body))
            audit.append(session, user.name, "case.rescreened", at=now, case_id=case.id,
                         before={"snapshot_id": case.snapshot_id, "rule_ids": case.rule_ids},
                         after={"snapshot_id": record.snapshot_id, "decision": record.decision,
                                "rule_ids": list(record.rule_ids)})
            annotated.append(case.id)
    return Rescreened(annotated, already)


@dataclass(frozen=True)
class Reorganised:
    """Cases noted after a reorganisation."""

    withdrawn: list[int]
    """Cases noted now: their deposit is off the chain."""
    restored: list[int]
    """Cases noted now: their deposit is back."""
    open_withdrawn: list[str]
    """The withdrawn deposits that have an unfinished case (noted now or by an earlier call)."""


def annotate_reorganised(store: Store, withdrawn: dict[str, int], restored: dict[str, int], *, now: datetime,
                         actor: str = "system:watch") -> Reorganised:
    """Note, on each unfinished case, that a reorganisation took its deposit off the chain, or put it back.

    `withdrawn` and `restored` map deposit ids to the block the deposit was, or now is, in.
    Nothing is closed or released: a person decides. A change already noted is not noted again.
    """
    noted: tuple[list[int], list[int]] = ([], [])
    tracked: list[str] = []
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "open_cases")
        for kind, (changes, ids) in enumerate(((withdrawn, noted[0]), (restored, noted[1]))):
            deposits = list(changes)
            for start in range(0, len(deposits), 500):
                for case in session.exec(select(Case).where(Case.deposit_id.in_(deposits[start:start + 500]),
                                                            Case.status.in_(lifecycle.OPEN_STATES))).all():
                    block, action = changes[case.deposit_id], ("case.withdrawn", "case.restored")[kind]
                    if kind == 0:
                        tracked.append(case.deposit_id)
                    last = session.exec(select(AuditEvent).where(
                        AuditEvent.case_id == case.id, AuditEvent.action.in_(("case.withdrawn", "case.restored")))
                        .order_by(AuditEvent.seq.desc()).limit(1)).first()
                    if last is not None and last.action == action and last.after.get("block") == block:
                        continue  # noted already (a watch killed before it saved that it had)
                    body = (f"A chain reorganisation removed this deposit's transaction from block {block:,}: as "
                            f"of now the deposit is not on the chain. The funds may never arrive; if the "
                            f"transaction is mined again, a further note says so." if kind == 0 else
                            f"The deposit is back on the chain, in block {block:,}, after the reorganisation "
                            f"that had removed it.")
                    session.add(Note(case_id=case.id, author=user.name, written_at=now, body=body))
                    audit.append(session, user.name, action, at=now, case_id=case.id,
                                 after={"deposit_id": case.deposit_id, "block": block})
                    ids.append(case.id)
    return Reorganised(noted[0], noted[1], tracked)


@dataclass(frozen=True)
class Recomputed:
    """Open deadlines moved, cancelled (their rule is gone) or left as they were."""

    moved: int
    cancelled: int
    unchanged: int


def recompute_deadlines(store: Store, actor: str, now: datetime,
                        *, rules: tuple[DeadlineRule, ...] = RULES) -> Recomputed:
    """Apply the current deadline rules to every open deadline, from its original trigger time."""
    by_id = {rule.id: rule for rule in rules} if rules is not RULES else RULES_BY_ID
    moved = cancelled = unchanged = 0
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "recompute_deadlines")
        touched: dict[int, list[dict]] = {}
        for deadline in session.exec(select(Deadline).where(Deadline.status == "open").order_by(Deadline.id)).all():
            rule = by_id.get(deadline.rule_id)
            before = {"rule_id": deadline.rule_id, "due_at": deadline.due_at, "warn_at": deadline.warn_at}
            if deadline.rule_id in FIXED_DEADLINES:  # a date set from outside (a requester's), not by a rule
                unchanged += 1
                continue
            if rule is None:
                deadline.status, deadline.closed_at = "cancelled", now
                cancelled += 1
            else:
                due, warn = compute(rule, deadline.triggered_at)
                if (due, warn) == (deadline.due_at, deadline.warn_at):
                    unchanged += 1
                    continue
                deadline.due_at, deadline.warn_at = due, warn
                moved += 1
            session.add(deadline)
            touched.setdefault(deadline.case_id, []).append(
                {"before": before, "after": {"status": deadline.status, "due_at": deadline.due_at}})
        session.flush()
        for case_id, changes in touched.items():  # a case changed meanwhile is a Conflict: run again
            case = session.get(Case, case_id)
            change = save_case(session, case, expected_version=case.version, now=now)
            audit.append(session, user.name, "case.deadlines_recomputed", at=now, case_id=case_id,
                         before=change["before"], after={**change["after"], "deadlines": changes})
    return Recomputed(moved, cancelled, unchanged)
