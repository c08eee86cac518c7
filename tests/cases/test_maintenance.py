"""Re-screening notes cases whose exposure is gone (never closes them); deadlines follow rule changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cases import queries
from cases.deadlines import RULES
from cases.maintenance import annotate_cleared, annotate_reorganised, recompute_deadlines
from graph.times import parse_time
from kyt import batch
from tests.cases.conftest import NOW

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LAZARUS = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"


def rescored_without_lazarus(tmp_path):
    lines = (FIXTURES / "lists" / "flagged.csv").read_text().splitlines()
    (tmp_path / "flagged.csv").write_text("\n".join(l for l in lines if not l.startswith(LAZARUS)) + "\n")
    request = batch.ScoreRequest(FIXTURES / "scenario" / "deposits.csv", FIXTURES / "scenario" / "transfers.csv",
                                 tmp_path / "flagged.csv", parse_time("2026-11-21"), FIXTURES / "lists" / "services.csv",
                                 since=parse_time("2026-11-02T03:00:00Z"))
    return batch.run(request)


def test_a_delisting_notes_the_open_case_and_leaves_it_open(store, cases, tmp_path):
    result = rescored_without_lazarus(tmp_path)
    assert "D-1001" not in result.deposits.deposit_id.to_pylist()  # before --since: not re-scored
    noted = annotate_cleared(store, result, NOW)
    assert noted.annotated == [cases["D-1012"]] and noted.already_noted == 0  # leo's Lazarus funds
    detail = queries.show(store, "ann", cases["D-1012"])
    assert detail.case.status == "open"
    assert "would now be 'allow', with no rule matching" in detail.notes[0]["body"]
    assert result.snapshot.id in detail.notes[0]["body"]
    again = annotate_cleared(store, result, NOW)
    assert again.annotated == [] and again.already_noted == 1
    assert queries.verify_audit(store, "ada").ok


def test_changed_deadline_rules_move_open_deadlines_and_dropped_rules_cancel_them(store, cases):
    longer = tuple(dataclasses.replace(r, duration=10, warn_after=8) if r.id == "INT-REVIEW" else r
                   for r in RULES if r.id != "US-OFAC-ANNUAL")
    before = {d["rule_id"]: d for d in queries.show(store, "ann", cases["D-1008"]).deadlines}
    done = recompute_deadlines(store, "sam", NOW, rules=longer)
    assert (done.moved, done.cancelled) == (5, 5)  # INT-REVIEW on five cases; OFAC-ANNUAL on five
    after = {d["rule_id"]: d for d in queries.show(store, "ann", cases["D-1008"]).deadlines}
    assert after["INT-REVIEW"]["due_at"] > before["INT-REVIEW"]["due_at"]
    assert after["US-OFAC-ANNUAL"]["status"] == "cancelled" and after["NY-STATUS"] == before["NY-STATUS"]
    assert recompute_deadlines(store, "sam", NOW, rules=longer).moved == 0
    assert queries.verify_audit(store, "ada").ok


def test_a_reorganisation_notes_the_open_case_once_per_change_and_closes_nothing(store, cases):
    first = annotate_reorganised(store, {"D-1008": 120, "D-404": 5}, {}, now=NOW)  # D-404 has no case
    assert (first.withdrawn, first.restored, first.open_withdrawn) == ([cases["D-1008"]], [], ["D-1008"])
    rerun = annotate_reorganised(store, {"D-1008": 120}, {}, now=NOW)  # a rerun after a kill: no second note
    assert (rerun.withdrawn, rerun.open_withdrawn) == ([], ["D-1008"])
    assert annotate_reorganised(store, {}, {"D-1008": 131}, now=NOW).restored == [cases["D-1008"]]
    assert annotate_reorganised(store, {"D-1008": 140}, {}, now=NOW).withdrawn == [cases["D-1008"]]  # removed again
    detail = queries.show(store, "ann", cases["D-1008"])
    assert detail.case.status == "open"
    assert [n["body"][:60] for n in detail.notes] == [
        "A chain reorganisation removed this deposit's transaction fr",
        "The deposit is back on the chain, in block 131, after the re",
        "A chain reorganisation removed this deposit's transaction fr"]
    assert "from block 120:" in detail.notes[0]["body"] and "from block 140:" in detail.notes[2]["body"]
    assert queries.verify_audit(store, "ada").ok
