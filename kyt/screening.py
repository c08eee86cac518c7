"""A screener that stays loaded for `kyt serve`: the transfers indexed once, the lists and the policy, deposits and
withdrawals on demand.

`load` reads and indexes what a `kyt score` run would (in memory) and builds the
destinations' view (graph.withdrawal_exposure); then `screen` decides deposits in
milliseconds, with the same records, rules and evidence as the batch, and
`screen_withdrawals` decides withdrawals' destinations under the withdrawal rules. `reload` reads the lists, the policy and the transfers
again and swaps them in whole: calls in flight finish on the old ones, and every
decision names the snapshot it was made under.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

import pyarrow as pa

from graph import readers
from graph.engines import LocalEngine
from graph.exposure import FlagView
from graph.model import Deposits, FlaggedWallets, Services, Transfers
from graph.money import micro_text
from graph.withdrawal_exposure import DestinationView, WithdrawalExposures
from kyt import batch, engine_choice
from kyt.record import ScoreResult
from kyt.rules import CATEGORIES
from kyt.withdrawals import decide_withdrawals


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
    destinations: DestinationView
    table: Transfers
    """The transfers as read, for tracing freeze requests forward (kyt.freeze_trace)."""


@dataclass(frozen=True)
class WithdrawalAnswer:
    """A withdrawal's decision under the withdrawal rules, with its destination's exposures (docs/exposure.md)."""

    action: str
    rule_ids: list[str]
    categories: list[str]
    exposures: list[dict]
    snapshot_id: str


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
    view = DestinationView.build(engine.index, engine.flags, services=loaded.get("services"), lookback=engine.lookback)
    return Loaded(request, setup, engine, loaded["flagged"], loaded.get("services"), now, len(transfers), view,
                  transfers)


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
        current = self._with_senders(deposits)
        return batch.decide_loaded(current.request, current.engine, deposits=deposits, flagged=current.flagged,
                                   services=current.services, setup=current.setup)

    def _with_senders(self, deposits: Deposits) -> Loaded:
        """The loaded generation, its flags laid over again when a list entry whose letter case was lost matches a
        sender not seen before (as `kyt score` matches the deposits' senders); rare, so done when it happens."""
        current = self._loaded
        if current.flagged.matched(deposits.from_address) is current.flagged:
            return current
        with self._reloading:
            current = self._loaded
            flagged = current.flagged.matched(deposits.from_address)
            engine = current.engine
            flags = FlagView.build(engine.index, flagged, current.request.as_of, categories=engine.flags.categories)
            fresh = replace(current, flagged=flagged, engine=replace(engine, flags=flags))
            self._loaded = fresh
            return fresh

    def screen_withdrawals(self, destinations: list[str], *, as_of: int) -> list[WithdrawalAnswer]:
        """Each destination (a wallet key) decided as of `as_of` (microseconds): block, review or allow."""
        current = self._loaded
        exposures = current.destinations.exposures(destinations, as_of=as_of)
        decisions = decide_withdrawals(exposures, current.setup.policy)
        lines: list[list[dict]] = [[] for _ in destinations]
        for row in range(len(exposures)):
            lines[int(exposures.destination[row])].append(_exposure_line(exposures, row))
        return [WithdrawalAnswer(decisions.action(n), decisions.rule_ids(n), decisions.matched_categories(n), lines[n],
                                 current.setup.snapshot.id) for n in range(len(destinations))]

    def reload(self, *, as_of: int, now: datetime) -> Loaded:
        """Read everything again as of `as_of` (microseconds) and swap it in; the old generation stays on error."""
        with self._reloading:
            fresh = load(replace(self._loaded.request, as_of=as_of), now=now)
            self._loaded = fresh
            return fresh


def _exposure_line(exposures: WithdrawalExposures, row: int) -> dict:
    """One exposure of a destination as JSON-ready values (USD and shares as decimal text; None when unknown)."""
    kind = exposures.kind_name(row)
    line = {"category": exposures.categories[int(exposures.category[row])], "kind": kind, "hop": int(exposures.hop[row])}
    if kind == "self":
        return line
    known = bool(exposures.share_known[row])
    share = Fraction(int(exposures.share_num[row]), int(exposures.share_den[row])) if known else None
    return {**line, "share": None if share is None else _decimal_text(share),
            "flagged_usd": micro_text(int(exposures.flagged[row])), "total_usd": micro_text(int(exposures.total[row])),
            "unpriced_transfers": int(exposures.unpriced_total[row]),
            "unpriced_flagged_transfers": int(exposures.unpriced_flagged[row]),
            "transfers": int(exposures.flagged_transfers[row])}


def _decimal_text(value: Fraction) -> str:
    """A share as decimal text, to 12 places at most, without trailing zeros."""
    text = f"{Decimal(value.numerator) / Decimal(value.denominator):.12f}".rstrip("0").rstrip(".")
    return text or "0"
