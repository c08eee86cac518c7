"""The per-deposit record kyt hands to cases and the console: typed, keyed by deposit id, complete."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from graph.times import parse_time
from kyt import batch
from graph.chains import DEFAULT as DEFAULT_CHAIN
from kyt.record import ChainAddress, Decided
from tests.factories import deposits

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def result():
    return batch.score(batch.ScoreRequest(FIXTURES / "scenario" / "deposits.csv", FIXTURES / "scenario" / "transfers.csv",
                                          FIXTURES / "lists" / "flagged.csv", parse_time("2026-11-20"),
                                          FIXTURES / "lists" / "services.csv"))


def test_a_frozen_record_carries_its_rules_exposures_and_evidence(result):
    [ken] = [r for r in result.records("freeze") if r.deposit_id == "D-1011"]
    assert ken.decision == "freeze" and ken.snapshot_id == result.snapshot.id
    assert ken.sender == ChainAddress(DEFAULT_CHAIN, ken.sender.address) and ken.sender.address.startswith("0x")
    assert isinstance(ken.rule_ids, tuple) and "sanctions-direct" in ken.rule_ids
    assert ken.categories == ("sanctions", "terrorist_financing")
    assert [(e.category, e.hop, e.share, e.usd) for e in ken.exposures] == [
        ("sanctions", 1, Decimal(1), Decimal(1200)), ("terrorist_financing", 1, Decimal(1), Decimal(1200))]
    assert all(e.evidence is not None and e.evidence.category == e.category for e in ken.exposures)


def test_reviewed_and_unknown_values_stay_unknown_and_carry_no_evidence_by_default(result):
    records = {r.deposit_id: r for r in result.records("review")}
    assert sorted(records) == ["D-1006", "D-1007", "D-1009", "D-1015", "D-1016"]
    olga, pete = records["D-1015"], records["D-1016"]
    assert (olga.exposures[0].share, olga.exposures[0].usd, olga.exposures[0].unpriced_flagged_transfers) == (
        None, None, 1)
    assert pete.usd_value is None and pete.exposures[0].share == Decimal(1)
    assert all(e.evidence is None for r in records.values() for e in r.exposures)


def test_records_by_position_follow_the_file_and_allowed_ones_have_no_exposure(result):
    chosen = result.records(rows=[2, 0, 1])
    assert [r.deposit_id for r in chosen] == ["D-1003", "D-1001", "D-1002"]
    assert chosen[0].decision == "allow" and chosen[0].exposures == () and chosen[0].rule_ids == ()
    assert [r.deposit_id for r in result.records()] == result.deposits.deposit_id.to_pylist()


def test_decided_deposits_are_left_out_unless_their_transaction_changed():
    batch_of_four = deposits([(1, 10, 0, 5), (2, 11, 0, 5), (3, 12, 0, 5), (4, 13, 0, 5)])  # d0..d3, tx 0xd0..
    decided = Decided("s", ["d0", "d2", "d3", "gone"], ["0xd0", "0xd2", "0xother", "0xd9"])
    assert decided.undecided(batch_of_four).tolist() == [1, 3]  # d3 was decided for another transaction
    assert Decided("s").undecided(batch_of_four).tolist() == [0, 1, 2, 3]
    empty = batch_of_four.take(np.array([], dtype=np.int64))
    assert decided.undecided(empty).tolist() == [] and isinstance(batch_of_four.deposit_id, pa.Array)


def test_a_wallet_key_splits_into_its_chain_and_address_and_back():
    tron = ChainAddress.of("tron:TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre")
    assert tron == ("tron", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre") and tron.key == "tron:TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"
    evm = ChainAddress.of("0x" + "ab" * 20)
    assert evm.chain == DEFAULT_CHAIN and evm.key == "0x" + "ab" * 20
