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

from graph import chains
from graph.times import iso_micro
from graph.evidence import Evidence
from graph.exposure import Exposures
from graph.model import Deposits
from graph.money import micro_text
from kyt.decide import DECISIONS, Decisions, joined_names
from kyt.sender_risk import SenderRisk

class ChainAddress(NamedTuple):
    """An address on a chain: the same hex text on two chains is two different wallets."""

    chain: str
    address: str

    @classmethod
    def of(cls, key: str) -> "ChainAddress":
        """The wallet of an engine key (graph.chains: `chain:address`, bare on ethereum)."""
        return cls(*chains.split_key(key))

    @property
    def key(self) -> str:
        """The engine's key of this wallet."""
        return chains.wallet_key(self.chain, self.address)


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
    model_digest: str = ""
    """The SHA-256 of the model file, when one took part: the very file, not only its recipe."""

    def as_dict(self) -> dict:
        """The snapshot as a plain dict (the model only when one took part, as in the id's hash)."""
        found = asdict(self)
        for key in ("model", "model_digest"):
            if not found[key]:
                del found[key]
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
    exposures: tuple[ExposureLine, ...] | None
    """One line per category and hop; None in a view built without them (`ScoreResult.records(exposures=False)`)."""
    snapshot_id: str
    risk: dict | None = None
    """The sender's address risk (probability, model, top features) when a model took part."""

    def as_json(self) -> dict:
        """The record as JSON-ready values (money and shares as decimal text, times ISO-8601 UTC, evidence with
        each exposure that has it): what the screening API answers."""
        def text(value: Decimal | None) -> str | None:
            return None if value is None else format(value, "f")

        return {
            "deposit_id": self.deposit_id, "customer_id": self.customer_id, "tx_hash": self.tx_hash,
            "chain": self.sender.chain, "from_address": self.sender.address, "to_address": self.receiver.address,
            "asset": self.asset, "amount": text(self.amount), "usd_value": text(self.usd_value),
            "timestamp": iso_micro(self.timestamp), "block_number": self.block_number, "position": self.position,
            "decision": self.decision, "rule_ids": list(self.rule_ids), "categories": list(self.categories),
            "exposures": [{"category": e.category, "hop": e.hop, "share": text(e.share), "usd": text(e.usd),
                           "unpriced_transfers": e.unpriced_transfers,
                           "unpriced_flagged_transfers": e.unpriced_flagged_transfers,
                           **({"evidence": e.evidence.to_dict()} if e.evidence is not None else {})}
                          for e in self.exposures or ()],
            "snapshot_id": self.snapshot_id, **({"risk": self.risk} if self.risk else {}),
        }


@dataclass(frozen=True)
class Decided:
    """The deposits already decided under one snapshot: their ids and the tx hash each was decided with (each id once)."""

    snapshot_id: str
    deposit_ids: Sequence[str] | pa.Array = ()
    tx_hashes: Sequence[str] | pa.Array = ()

    def __len__(self) -> int:
        return len(self.deposit_ids)

    def undecided(self, deposits: Deposits) -> np.ndarray:
        """The positions of `deposits` still to decide; a known id with another tx hash counts as new."""
        if not len(self.deposit_ids):
            return np.arange(len(deposits))
        where = pc.index_in(deposits.deposit_id, value_set=_arrow(self.deposit_ids, deposits.deposit_id.type))
        hashes = _arrow(self.tx_hashes, deposits.tx_hash.type).take(where)
        done = pc.fill_null(pc.equal(hashes, deposits.tx_hash), False).to_numpy(zero_copy_only=False)
        return np.flatnonzero(~done)


def _arrow(values: Sequence[str] | pa.Array, kind: pa.DataType) -> pa.Array:
    return values.cast(kind) if isinstance(values, pa.Array) else pa.array(values, kind)


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

    def records(self, *decisions: str, rows: Sequence[int] | np.ndarray | None = None,
                exposures: bool = True) -> list[DepositRecord]:
        """The typed record of each deposit with these decisions (or at these positions), in file order;
        `records("freeze", "review")` is what cases opens cases and alerts for. Without
        `exposures`, each record's exposures are None (an alert keeps none: a fifth of the cost)."""
        chosen = self.rows(*decisions) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        return build_records(self, chosen, with_exposures=exposures)


def _column(values: pa.Array, rows: pa.Array) -> list:
    return values.take(rows).to_pylist()


def _gather(sorted_keys: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The positions in `sorted_keys` of the items of each of `rows`, row after row, and where each row's start."""
    lo, hi = np.searchsorted(sorted_keys, rows, "left"), np.searchsorted(sorted_keys, rows, "right")
    lengths = hi - lo
    starts = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    positions = np.arange(starts[-1], dtype=np.int64) + np.repeat(lo - starts[:-1], lengths)
    return positions, starts.tolist()


def _exposure_lines(result: ScoreResult, positions: np.ndarray) -> list[ExposureLine]:
    """The lines of the exposures at `positions` (the exact texts made once, in kyt.outputs)."""
    from kyt.outputs import exposure_columns

    evidence = result.evidence
    return [ExposureLine(category, hop, Decimal(share) if share else None, Decimal(usd) if usd else None,
                         unpriced, unpriced_flagged, evidence.get(p))
            for p, category, hop, share, usd, unpriced, unpriced_flagged
            in zip(positions.tolist(), *exposure_columns(result.exposures, positions))]


def build_records(result: ScoreResult, rows: np.ndarray, *, with_exposures: bool = True) -> list[DepositRecord]:
    """The records of the deposits at batch positions `rows`: each column taken once, then zipped.

    Exposures and rule matches are ordered by deposit, so each record's share of them is a
    contiguous run found by binary search.
    """
    deposits, taken = result.deposits, pa.array(rows, pa.int64())
    ids, customers, hashes, senders, receivers, assets, amounts = (
        _column(a, taken) for a in (deposits.deposit_id, deposits.customer_id, deposits.tx_hash,
                                    deposits.from_address, deposits.to_address, deposits.asset, deposits.amount))
    usd = [None if unknown else Decimal(micro_text(value))
           for value, unknown in zip(deposits.usd_micro[rows].tolist(), deposits.unpriced[rows].tolist())]
    times, blocks, places = (deposits.timestamp[rows].tolist(), deposits.block[rows].tolist(),
                             deposits.position[rows].tolist())
    decisions, exposed = result.decisions, result.exposures
    codes = decisions.code[rows].tolist()
    matches, m_start = _gather(decisions.match_deposit, rows)
    rule_names = [r.id for r in decisions.policy.rules]
    matched = [rule_names[r] for r in decisions.match_rule[matches].tolist()]
    lines, e_start = _gather(exposed.deposit, rows)
    category_codes, names = exposed.category[lines].tolist(), exposed.categories
    made = _exposure_lines(result, lines) if with_exposures else None
    snapshot_id, risk = result.snapshot.id, result.risk
    out = []
    for i, d in enumerate(rows.tolist()):
        e_lo, e_hi = e_start[i], e_start[i + 1]
        out.append(DepositRecord(
            deposit_id=ids[i], customer_id=customers[i], tx_hash=hashes[i],
            sender=ChainAddress.of(senders[i]), receiver=ChainAddress.of(receivers[i]),
            asset=assets[i], amount=Decimal(amounts[i]), usd_value=usd[i], timestamp=times[i],
            block_number=blocks[i], position=places[i], decision=DECISIONS[codes[i]],
            rule_ids=tuple(dict.fromkeys(matched[m_start[i]:m_start[i + 1]])),
            categories=tuple(names[c] for c in sorted(set(category_codes[e_lo:e_hi]))),
            exposures=tuple(made[e_lo:e_hi]) if made is not None else None, snapshot_id=snapshot_id,
            risk=risk.record(d) if risk is not None else None))
    return out
