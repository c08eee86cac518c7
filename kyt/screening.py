"""A screener that stays loaded for `kyt serve`: the transfers indexed once, the lists and the policy, deposits on demand.

`Screener.load` reads and indexes what a `kyt score` run would (in memory), then
`screen` decides any deposits against it in milliseconds, with the same records,
rules and evidence as the batch. `reload` reads the lists, the policy and the transfers
again and swaps them in whole: calls in flight finish on the old ones, and every
decision names the snapshot it was made under.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

import pyarrow as pa

from graph import readers
from graph.engines import LocalEngine
from graph.model import Deposits, FlaggedWallets, Services
from kyt import batch, engine_choice
from kyt.rules import CATEGORIES
from kyt.record import ScoreResult


@dataclass(frozen=True)
class Loaded:
    """One generation of what screening reads: request (its as-of time), policy and model, lists, engine."""

    request: batch.ScoreRequest
    setup: batch.Setup
    engine: LocalEngine
    flagged: FlaggedWallets
    services: Services | None
    loaded_at: datetime
    transfers: int


def load(request: batch.ScoreRequest, *, now: datetime) -> Loaded:
    """Read and index the request's transfers and lists (every bad line reported), as of its time."""
    setup = batch.prepare(request)
    loaded = batch.read_inputs([("transfers", request.transfers, readers.read_transfers),
                                ("flagged", request.flagged, readers.read_flagged),
                                ("services", request.services, readers.read_services)])
    transfers = loaded["transfers"]
    engine = engine_choice.local_engine(
        request, transfers, flagged=loaded["flagged"], services=loaded.get("services"),
        categories=list(CATEGORIES) + list(setup.policy.categories),
        lookback=request.lookback_days * batch.MICROS_PER_DAY if request.lookback_days is not None else None,
        senders=pa.array([], pa.string()), name=f"in-memory: {len(transfers):,} transfers")
    return Loaded(request, setup, engine, loaded["flagged"], loaded.get("services"), now, len(transfers))


class Screener:
    """The loaded generation, swapped whole by `reload`; safe to call from many threads."""

    def __init__(self, loaded: Loaded) -> None:
        self._loaded = loaded
        self._reloading = threading.Lock()

    @property
    def loaded(self) -> Loaded:
        return self._loaded

    def screen(self, deposits: Deposits) -> ScoreResult:
        """Decisions, exposures and evidence of `deposits` (evidence for the frozen ones)."""
        current = self._loaded
        return batch.decide_loaded(current.request, current.engine, deposits=deposits, flagged=current.flagged,
                                   services=current.services, setup=current.setup)

    def reload(self, *, as_of: int, now: datetime) -> Loaded:
        """Read everything again as of `as_of` (microseconds) and swap it in; the old generation stays on error."""
        with self._reloading:
            fresh = load(replace(self._loaded.request, as_of=as_of), now=now)
            self._loaded = fresh
            return fresh
