"""The record of what a snapshot decided: one packed run at a time, read back whole, the latest run counting."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from cases.errors import AccessDenied
from cases.screenings import decided_table, decided_under, pack, record_decided, unpack
from graph.times import parse_time
from kyt import batch
from kyt.errors import KytError
from tests.cases.conftest import NOW

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REQUEST = batch.ScoreRequest(FIXTURES / "scenario" / "deposits.csv", FIXTURES / "scenario" / "transfers.csv",
                             FIXTURES / "lists" / "flagged.csv", parse_time("2026-11-20"),
                             FIXTURES / "lists" / "services.csv")


def test_what_a_run_recorded_is_skipped_by_the_next_run_of_the_same_snapshot(store, scenario_result):
    assert batch.snapshot_of(REQUEST) == scenario_result.snapshot
    assert len(decided_under(store, scenario_result.snapshot.id)) == 0
    assert record_decided(store, scenario_result, now=NOW, leave_out={"D-1001"}) == 15
    known = decided_under(store, scenario_result.snapshot.id)
    assert sorted(known.deposit_ids.to_pylist()) == sorted(set(scenario_result.deposits.deposit_id.to_pylist()) - {"D-1001"})
    rerun = batch.score(REQUEST, decided=known)
    assert (rerun.skipped, rerun.deposits.deposit_id.to_pylist()) == (15, ["D-1001"])
    assert rerun.records()[0].decision == scenario_result.records(rows=[0])[0].decision


def test_recording_again_counts_the_latest_and_other_snapshots_are_apart(store, scenario_result):
    record_decided(store, scenario_result, now=NOW)
    assert record_decided(store, scenario_result, now=NOW) == 16  # a re-score: recorded again, no error
    moved = scenario_result.deposits.tx_hash.to_pylist()
    moved[0] = "0x" + "ab" * 32  # the same deposit id, decided again with another tx hash
    again = replace(scenario_result, deposits=replace(scenario_result.deposits, tx_hash=pa.array(moved)))
    record_decided(store, again, now=NOW, leave_out=set(scenario_result.deposits.deposit_id.to_pylist()[1:]))
    table = decided_table(store, scenario_result.snapshot.id)
    assert table.num_rows == 16 and sorted(table["deposit_id"].to_pylist()) == sorted(
        scenario_result.deposits.deposit_id.to_pylist())
    latest = dict(zip(table["deposit_id"].to_pylist(), table["tx_hash"].to_pylist()))
    assert latest[scenario_result.deposits.deposit_id[0].as_py()] == "0x" + "ab" * 32
    assert list(decided_under(store, scenario_result.snapshot.id).undecided(scenario_result.deposits)) == [0]
    other = replace(scenario_result, snapshot=replace(scenario_result.snapshot, id="another"))
    record_decided(store, other, now=NOW)
    decisions = dict(zip(*(decided_table(store, "another")[c].to_pylist() for c in ("deposit_id", "decision"))))
    assert len(decisions) == 16 and list(decisions.values()).count("freeze") == 5
    assert decisions == dict(zip(scenario_result.deposits.deposit_id.to_pylist(),
                                 (r.decision for r in scenario_result.records())))
    with store.engine.connect() as connection:
        runs = connection.execute(sa.text("SELECT snapshot_id, deposits, actor FROM screening_runs ORDER BY id")).all()
    assert [tuple(r) for r in runs] == [(scenario_result.snapshot.id, 16, "system:batch")] * 2 + [
        (scenario_result.snapshot.id, 1, "system:batch"), ("another", 16, "system:batch")]


def test_the_packed_form_reads_back_what_was_packed():
    packed = pack(["D-1", "D-2", "D-3"], ["0xaa", "0xbb", "0xcc"], ["freeze", "allow", "freeze"])
    assert unpack(packed).to_pydict() == {"deposit_id": ["D-1", "D-2", "D-3"], "tx_hash": ["0xaa", "0xbb", "0xcc"],
                                          "decision": ["freeze", "allow", "freeze"]}
    assert unpack(pack([], [], [])).num_rows == 0


def test_a_decided_set_of_another_snapshot_is_refused(store, scenario_result):
    record_decided(store, scenario_result, now=NOW)
    stale = decided_under(store, scenario_result.snapshot.id)
    with pytest.raises(KytError, match="snapshot"):
        batch.score(replace(REQUEST, method="poison"), decided=stale)


def test_only_the_batch_account_or_an_admin_records(store, scenario_result):
    with pytest.raises(AccessDenied):
        record_decided(store, scenario_result, now=NOW, actor="ann")
    assert record_decided(store, scenario_result, now=NOW, actor="ada") == 16
