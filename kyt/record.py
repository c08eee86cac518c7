"""The hand-over from kyt to cases and the console: a scored batch in columns, and one typed record per deposit.

`ScoreResult` holds a whole batch as arrays (deposits, exposures, decisions, evidence);
`ScoreResult.records(...)` gives the typed per-deposit view, `DepositRecord`, keyed by
deposit id. Cases and the console read the records as they are: no row numbers, no joined
strings to split, no JSON to parse.

    frozen = result.records("freeze")
    frozen[0].rule_ids        # ('sanctions-direct',)
    frozen[0].exposures[0].evidence.sources[0].address
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import NamedTuple, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph.evidence import Evidence
from graph.exposure import Exposures
from graph.model import Deposits
from graph.money import micro_text
from kyt.decide import DECISIONS, Decisions, joined_names
from kyt.sender_risk import SenderRisk

DEFAULT_CHAIN = "ethereum"
"""The chain of deposits whose input names none (the only chain scored today)."""


class ChainAddress(NamedTuple):
    """An address on a chain: the same hex text on two chains is two different wallets."""

    chain: str
    address: str


@dataclass(frozen=True)
class Snapshot:
    """The policy and list versions a decision was made with; `id` names the combination."""

    id: str
    policy_name: str
    policy_version: str
    policy_digest: str
    flagged_digest: str
    services_digest: str
    method: str
    lookback_days: int | None
    as_of: str
    model: str = ""
    """The address-risk model's version, when one took part."""

    def as_dict(self) -> dict:
        """The snapshot as a plain dict (the model only when one took part, as in the id's hash)."""
        found = asdict(self)
        if not found["model"]:
            del found["model"]
        return found


class ExposureLine(NamedTuple):
    """One exposure of a deposit: category, hop, exact share and USD (None when unknown), and its evidence."""

    category: str
    hop: int
    share: Decimal | None
    usd: Decimal | None
    unpriced_transfers: int
    unpriced_flagged_transfers: int
    evidence: Evidence | None = None
    """Present for the deposits the run collected evidence for (frozen ones, or all with --evidence-out)."""


@dataclass(frozen=True)
class DepositRecord:
    """Everything kyt says about one deposit: the deposit, the decision and why, under which snapshot."""

    deposit_id: str
    customer_id: str
    tx_hash: str
    sender: ChainAddress
    receiver: ChainAddress
    asset: str
    amount: Decimal
    usd_value: Decimal | None
    """None when the deposit has no USD price (unknown, never zero)."""
    timestamp: int
    """Microseconds since 1970 (UTC)."""
    block_number: int
    position: int
    decision: str
    rule_ids: tuple[str, ...]
    categories: tuple[str, ...]
    exposures: tuple[ExposureLine, ...]
    snapshot_id: str
    risk: dict | None = None
    """The sender's address risk (probability, model, top features) when a model took part."""


@dataclass(frozen=True)
class Decided:
    """The deposits already decided under one snapshot: their ids and the tx hash each was decided with."""

    snapshot_id: str
    deposit_ids: Sequence[str] = ()
    tx_hashes: Sequence[str] = ()

    def __len__(self) -> int:
        return len(self.deposit_ids)

    def undecided(self, deposits: Deposits) -> np.ndarray:
        """The positions of `deposits` still to decide; a known id with another tx hash counts as new."""
        if not self.deposit_ids:
            return np.arange(len(deposits))
        where = pc.index_in(deposits.deposit_id, value_set=pa.array(self.deposit_ids, deposits.deposit_id.type))
        hashes = pa.array(self.tx_hashes, deposits.tx_hash.type).take(where)
        done = pc.fill_null(pc.equal(hashes, deposits.tx_hash), False).to_numpy(zero_copy_only=False)
        return np.flatnonzero(~done)


@dataclass
class ScoreResult:
    """A scored batch in columns, for the caller to show, write or turn into cases (see `records`)."""

    deposits: Deposits
    exposures: Exposures
    decisions: Decisions
    snapshot: Snapshot
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    evidence: dict[int, Evidence] = field(default_factory=dict)
    """Evidence by exposure position, for the exposures the run collected it for."""
    risk: SenderRisk | None = None
    """The senders' address risk, when a model took part."""
    engine: str = ""
    """Which engine computed the exposures, in words (e.g. "pruned scan: 1,204 of 10,000,000 transfers read")."""
    skipped: int = 0
    """Deposits of the input left out because this snapshot had already decided them (see `Decided`)."""
    written: list = field(default_factory=list)
    """The files written (kyt.batch.write), in order."""

    def rows(self, *decisions: str) -> np.ndarray:
        """The batch positions of the deposits with any of these decisions (all when none named), in file order."""
        if not decisions:
            return np.arange(len(self.deposits))
        return np.flatnonzero(np.isin(self.decisions.code, [DECISIONS.index(d) for d in decisions]))

    def categories_text(self) -> np.ndarray:
        """Per deposit, the categories it is exposed to (alphabetical, at any hop) joined by ';'."""
        return joined_names(self.exposures.deposit, self.exposures.category, names=self.exposures.categories,
                            n=len(self.deposits))

    def records(self, *decisions: str, rows: Sequence[int] | np.ndarray | None = None) -> list[DepositRecord]:
        """The typed record of each deposit with these decisions (or at these positions), in file order;
        `records("freeze", "review")` is what cases opens cases and alerts for."""
        chosen = self.rows(*decisions) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        return build_records(self, chosen)


def _column(values: pa.Array, rows: pa.Array) -> list:
    return values.take(rows).to_pylist()


def _ranges(sorted_keys: np.ndarray, rows: np.ndarray) -> tuple[list[int], list[int]]:
    """For each of `rows`, the [start, stop) of its run in `sorted_keys` (empty when absent)."""
    return (np.searchsorted(sorted_keys, rows, "left").tolist(), np.searchsorted(sorted_keys, rows, "right").tolist())


def _exposure_lines(result: ScoreResult, lines: list, *, first: int, stop: int) -> tuple[ExposureLine, ...]:
    return tuple(ExposureLine(category, hop, Decimal(share) if share else None, Decimal(usd) if usd else None,
                              unpriced, unpriced_flagged, result.evidence.get(first + k))
                 for k, (category, hop, share, usd, unpriced, unpriced_flagged) in enumerate(lines[first:stop]))


def build_records(result: ScoreResult, rows: np.ndarray) -> list[DepositRecord]:
    """The records of the deposits at batch positions `rows`: each column taken once, then zipped.

    Exposures and rule matches are ordered by deposit, so each record's share of them is a
    contiguous run found by binary search.
    """
    from kyt.outputs import exposure_columns  # the exact decimal texts are made in one place

    deposits, taken = result.deposits, pa.array(rows, pa.int64())
    ids, customers, hashes, senders, receivers, assets, amounts = (
        _column(a, taken) for a in (deposits.deposit_id, deposits.customer_id, deposits.tx_hash,
                                    deposits.from_address, deposits.to_address, deposits.asset, deposits.amount))
    usd = [None if unknown else Decimal(micro_text(value))
           for value, unknown in zip(deposits.usd_micro[rows].tolist(), deposits.unpriced[rows].tolist())]
    exposures, decisions = result.exposures, result.decisions
    e_lo, e_hi = _ranges(exposures.deposit, rows)
    wanted = np.zeros(len(exposures), dtype=bool)
    for lo, hi in zip(e_lo, e_hi):
        wanted[lo:hi] = True
    lines: list = [None] * len(exposures)
    for p, line in zip(np.flatnonzero(wanted).tolist(), zip(*exposure_columns(exposures, np.flatnonzero(wanted)))):
        lines[p] = line
    r_lo, r_hi = _ranges(decisions.match_deposit, rows)
    matched, rule_names = decisions.match_rule.tolist(), [r.id for r in decisions.policy.rules]
    codes = exposures.category.tolist()
    out = []
    for i, d in enumerate(rows.tolist()):
        out.append(DepositRecord(
            deposit_id=ids[i], customer_id=customers[i], tx_hash=hashes[i],
            sender=ChainAddress(DEFAULT_CHAIN, senders[i]), receiver=ChainAddress(DEFAULT_CHAIN, receivers[i]),
            asset=assets[i], amount=Decimal(amounts[i]), usd_value=usd[i], timestamp=int(deposits.timestamp[d]),
            block_number=int(deposits.block[d]), position=int(deposits.position[d]),
            decision=DECISIONS[int(decisions.code[d])],
            rule_ids=tuple(rule_names[r] for r in dict.fromkeys(matched[r_lo[i]:r_hi[i]])),
            categories=tuple(exposures.categories[c] for c in sorted(set(codes[e_lo[i]:e_hi[i]]))),
            exposures=_exposure_lines(result, lines, first=e_lo[i], stop=e_hi[i]), snapshot_id=result.snapshot.id,
            risk=result.risk.record(d) if result.risk is not None else None))
    return out
