"""Which deposits a snapshot has already decided, so that a re-run scores only the new ones.

After `kyt score` has opened the cases of a run, it records the run's scored deposits
(deposit id, tx hash, decision) under the run's snapshot id, as one row holding the three
columns packed together (Arrow IPC, zstd): half a million deposits are recorded in a
tenth of a second, where a row each took seconds. The next run with the same snapshot
(same lists, policy, as-of time, method and model) reads those runs back and scores only
the deposits not in them, unless told to re-score; when a deposit was recorded by more
than one run, the latest counts. A run killed before it recorded anything is simply
scored again: opening cases is idempotent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Collection, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import sqlalchemy as sa

from cases.access import require
from cases.db import Store
from cases.models import ScreeningRun
from cases.service import acting_user, unit_of_work
from kyt.decide import DECISIONS
from kyt.record import Decided, ScoreResult

DECIDED_FORMAT = "arrow-ipc-zstd/1"
"""How `ScreeningRun.decided` is packed: an Arrow IPC stream (zstd) of deposit_id, tx_hash, decision."""
SCHEMA = pa.schema([("deposit_id", pa.string()), ("tx_hash", pa.string()),
                    ("decision", pa.dictionary(pa.int8(), pa.string()))])


def pack(deposit_ids: Sequence[str] | pa.Array, tx_hashes: Sequence[str] | pa.Array,
         decisions: Sequence[str] | pa.DictionaryArray) -> bytes:
    """The three columns as one value (see DECIDED_FORMAT)."""
    if not isinstance(decisions, pa.DictionaryArray):
        decisions = _strings(decisions).dictionary_encode()
    table = pa.table([_strings(deposit_ids), _strings(tx_hashes), decisions.cast(SCHEMA.field("decision").type)],
                     schema=SCHEMA)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, SCHEMA, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _strings(values: Sequence[str] | pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.string()) if isinstance(values, pa.Array) else pa.array(values, pa.string())


def unpack(value: bytes) -> pa.Table:
    """The columns `pack` packed."""
    return ipc.open_stream(value).read_all()


def decided_table(store: Store, snapshot_id: str) -> pa.Table:
    """Every deposit recorded under `snapshot_id` (deposit_id, tx_hash, decision), latest run first, each once."""
    runs = ScreeningRun.__table__
    with store.engine.connect() as connection:
        packed = connection.execute(sa.select(runs.c.decided).where(runs.c.snapshot_id == snapshot_id)
                                    .order_by(runs.c.id.desc())).scalars().all()
    if not packed:
        return SCHEMA.empty_table()
    table = pa.concat_tables([unpack(value) for value in packed]).combine_chunks()
    if len(packed) > 1:  # a deposit recorded again (a re-score) counts as the latest run decided it
        first = pc.index_in(table["deposit_id"], value_set=pc.unique(table["deposit_id"]))
        _, keep = np.unique(first.to_numpy(zero_copy_only=False), return_index=True)
        table = table.take(pa.array(np.sort(keep)))
    return table


def decided_under(store: Store, snapshot_id: str) -> Decided:
    """The deposits decided under `snapshot_id`: deposit ids and the tx hash each was decided with."""
    table = decided_table(store, snapshot_id)
    return Decided(snapshot_id, table["deposit_id"].combine_chunks(), table["tx_hash"].combine_chunks())


def record_decided(store: Store, result: ScoreResult, *, now: datetime, actor: str = "system:batch",
                   leave_out: Collection[str] = ()) -> int:
    """Record every deposit of `result` as decided under its snapshot (one run; a re-score is recorded again); how many.

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
    decisions = pa.DictionaryArray.from_arrays(pa.array(result.decisions.code[rows].astype(np.int8)),
                                               pa.array(DECISIONS, pa.string()))
    packed = pack(result.deposits.deposit_id.take(taken), result.deposits.tx_hash.take(taken), decisions)
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "open_cases")
        session.add(ScreeningRun(snapshot_id=result.snapshot.id, decided_at=now, actor=user.name, deposits=len(rows),
                                 format=DECIDED_FORMAT, decided=packed))
    return len(rows)
