"""The record of what a snapshot decided: kept per deposit, read back whole, overwritten by a re-score."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from cases.errors import AccessDenied
from cases.screenings import decided_under, record_decided
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
    assert sorted(known.deposit_ids) == sorted(set(scenario_result.deposits.deposit_id.to_pylist()) - {"D-1001"})
    rerun = batch.score(REQUEST, decided=known)
    assert (rerun.skipped, rerun.deposits.deposit_id.to_pylist()) == (15, ["D-1001"])
    assert rerun.records()[0].decision == scenario_result.records(rows=[0])[0].decision


def test_recording_again_overwrites_and_other_snapshots_are_apart(store, scenario_result):
    record_decided(store, scenario_result, now=NOW)
    assert record_decided(store, scenario_result, now=NOW) == 16  # a re-score: no duplicate, no error
    other = replace(scenario_result, snapshot=replace(scenario_result.snapshot, id="another"))
    record_decided(store, other, now=NOW)
    with store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT snapshot_id, count(*) FROM screenings GROUP BY snapshot_id "
                                          "ORDER BY snapshot_id")).all()
    assert sorted(rows) == sorted([(scenario_result.snapshot.id, 16), ("another", 16)])
    with store.engine.connect() as connection:
        decisions = dict(connection.execute(sa.text(
            "SELECT deposit_id, decision FROM screenings WHERE snapshot_id = 'another'")).all())
    assert list(decisions.values()).count("freeze") == 5 and decisions["D-1001"] in ("freeze", "review", "allow")


def test_a_decided_set_of_another_snapshot_is_refused(store, scenario_result):
    record_decided(store, scenario_result, now=NOW)
    stale = decided_under(store, scenario_result.snapshot.id)
    with pytest.raises(KytError, match="snapshot"):
        batch.score(replace(REQUEST, method="poison"), decided=stale)


def test_only_the_batch_account_or_an_admin_records(store, scenario_result):
    with pytest.raises(AccessDenied):
        record_decided(store, scenario_result, now=NOW, actor="ann")
    assert record_decided(store, scenario_result, now=NOW, actor="ada") == 16
