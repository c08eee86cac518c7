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
import pyarrow as pa
import pyarrow.compute as pc

from cases.access import require
from cases.bulk import insert_columns, placeholder
from cases.db import Store
from cases.models import Screening
from cases.service import acting_user, unit_of_work
from kyt.decide import DECISIONS
from kyt.record import Decided, ScoreResult


def decided_under(store: Store, snapshot_id: str) -> Decided:
    """The deposits decided under `snapshot_id`: deposit ids and the tx hash each was decided with."""
    with store.engine.connect() as connection:  # hundreds of thousands of rows: straight from the driver
        mark = placeholder(connection.dialect)
        rows = connection.exec_driver_sql(f"SELECT deposit_id, tx_hash FROM screenings WHERE snapshot_id = {mark}",
                                          (snapshot_id,)).fetchall()
    return Decided(snapshot_id, [row[0] for row in rows], [row[1] for row in rows])


def record_decided(store: Store, result: ScoreResult, *, now: datetime, actor: str = "system:batch",
                   leave_out: Collection[str] = ()) -> int:
    """Record every deposit of `result` as decided under its snapshot (a re-score overwrites); how many rows.

    `leave_out` names deposits not to record (those whose case could not be stored).
    """
    keep = np.ones(len(result.deposits), dtype=bool)
    if leave_out:
        keep = ~pc.is_in(result.deposits.deposit_id, value_set=pa.array(list(leave_out), pa.string())).to_numpy(
            zero_copy_only=False)
    rows = np.flatnonzero(keep)
    if not len(rows):
        return 0
    taken = pa.array(rows)
    columns = {"snapshot_id": [result.snapshot.id] * len(rows),
               "deposit_id": result.deposits.deposit_id.take(taken).to_pylist(),
               "tx_hash": result.deposits.tx_hash.take(taken).to_pylist(),
               "decision": np.array(DECISIONS, dtype=object)[result.decisions.code[rows]].tolist(),
               "decided_at": [now] * len(rows)}
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "open_cases")
        insert_columns(session, Screening.__table__, columns, replace_on=("snapshot_id", "deposit_id"))
    return len(rows)
