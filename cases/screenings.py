"""Which deposits a snapshot has already decided, so that a re-run scores only the new ones.

After `kyt score` or `kyt watch` has opened the cases of a run, it records each scored
deposit (deposit id, tx hash, decision) under the run's snapshot id. The next run with the
same snapshot (same lists, policy, as-of time, method and model) asks for that set and
scores only the deposits not in it, unless told to re-score. A run killed before it
recorded anything is simply scored again: opening cases is idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Collection

import numpy as np
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from cases.access import require
from cases.db import Store
from cases.models import Screening
from cases.service import acting_user, unit_of_work
from kyt.decide import DECISIONS
from kyt.record import Decided, ScoreResult

CHUNK = 20_000
"""Rows per executemany; a run's rows are recorded in one transaction."""


def decided_under(store: Store, snapshot_id: str) -> Decided:
    """The deposits decided under `snapshot_id`: deposit ids and the tx hash each was decided with."""
    query = select(Screening.deposit_id, Screening.tx_hash).where(Screening.snapshot_id == snapshot_id)
    with store.session() as session:
        rows = session.exec(query.execution_options(yield_per=50_000)).all()
    return Decided(snapshot_id, [row[0] for row in rows], [row[1] for row in rows])


def record_decided(store: Store, result: ScoreResult, *, now: datetime, actor: str = "system:batch",
                   leave_out: Collection[str] = ()) -> int:
    """Record every deposit of `result` as decided under its snapshot (a re-score overwrites); how many rows.

    `leave_out` names deposits not to record (those whose case could not be stored).
    """
    ids, hashes = result.deposits.deposit_id.to_pylist(), result.deposits.tx_hash.to_pylist()
    decisions = np.array(DECISIONS, dtype=object)[result.decisions.code].tolist()
    left = set(leave_out)
    rows = [dict(snapshot_id=result.snapshot.id, deposit_id=d, tx_hash=t, decision=c, decided_at=now)
            for d, t, c in zip(ids, hashes, decisions) if d not in left]
    if not rows:
        return 0
    insert = (sqlite if store.engine.dialect.name == "sqlite" else postgresql).insert(Screening)
    statement = insert.on_conflict_do_update(index_elements=["snapshot_id", "deposit_id"], set_={
        name: insert.excluded[name] for name in ("tx_hash", "decision", "decided_at")})
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "open_cases")
        for start in range(0, len(rows), CHUNK):
            session.execute(statement, rows[start:start + CHUNK])
    return len(rows)
