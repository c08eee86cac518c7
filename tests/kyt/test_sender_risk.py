"""A scoring run with the address-risk model: risky senders with no rule matching go to review, never freeze."""

from __future__ import annotations

import csv

import numpy as np

from kyt import batch
from kyt.sender_risk import MODEL_RULE
from tests.factories import addr
from tests.kyt.learning_world import START


def deposits_file(folder, senders):
    path = folder / "deposits.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["deposit_id", "tx_hash", "customer_id", "timestamp", "block_number", "position",
                         "from_address", "to_address", "asset", "amount", "usd_value"])
        for i, sender in enumerate(senders):
            when = START + 400 * 86_400 + i
            writer.writerow([f"D{i}", f"0x{i + 1:064x}", f"c{i}", when, when // 12, i, sender, addr(77_777), "ETH",
                             "1", "2000"])
    return path


def run(tmp_path, world, flagged_rows, model=None):
    flagged = tmp_path / "flagged.csv"
    flagged.write_text("address,category,source\n" + "".join(f"{a},{c},test\n" for a, c in flagged_rows))
    senders = [addr(1000 + i) for i in range(3)] + [addr(5000 + i) for i in range(3)]  # risky, then ordinary
    request = batch.ScoreRequest(deposits_file(tmp_path, senders), world[0], flagged,
                                 (START + 500 * 86_400) * 1_000_000, model=model,
                                 out=tmp_path / ("with.csv" if model else "without.csv"))
    return batch.run(request)


def test_risky_senders_without_a_rule_go_to_review_and_frozen_ones_stay_frozen(tmp_path, world, trained):
    flagged_rows = [(addr(1001), "sanctions"), (addr(5001), "sanctions")]  # one risky, one ordinary: frozen
    without = run(tmp_path, world, flagged_rows)
    with_model = run(tmp_path, world, flagged_rows, trained[3])
    assert [without.decisions.decision(d) for d in range(6)] == ["allow", "freeze", "allow", "allow", "freeze", "allow"]
    assert [with_model.decisions.decision(d) for d in range(6)] == ["review", "freeze", "review", "allow", "freeze",
                                                                    "allow"]
    assert with_model.decisions.rule_ids()[0] == [MODEL_RULE.id]
    assert MODEL_RULE.id not in with_model.decisions.rule_ids()[1]  # the rules had already decided
    risk = with_model.risk
    assert (risk.probability[:3] >= 0.5).all() and (risk.probability[3:] < 0.5).all()
    assert risk.raised.tolist() == [0, 2]
    assert set(risk.explained) == {0, 1, 2, 4} and all(risk.explained[d] for d in (0, 2))
    assert with_model.snapshot.model == trained[0].version and with_model.snapshot.id != without.snapshot.id
    from kyt.batch import file_digest
    assert with_model.snapshot.model_digest == file_digest(trained[3]) and not without.snapshot.model_digest
    rows = list(csv.DictReader((tmp_path / "with.csv").open()))
    assert [r["rule_ids"] for r in rows][0] == "address-risk-model"
    assert float(rows[0]["risk_probability"]) >= 0.5 and rows[0]["risk_features"].count(":+") >= 1
    assert rows[3]["risk_features"] == ""  # allowed: nobody will look, so no explanation was computed


def test_the_model_never_freezes_and_never_lowers_a_decision(tmp_path, world, trained):
    flags = [(addr(5002), "scam"), (addr(1002), "sanctions")]
    without = run(tmp_path, world, flags)
    with_model = run(tmp_path, world, flags, trained[3])
    assert (with_model.decisions.code >= without.decisions.code).all()
    assert np.flatnonzero(with_model.decisions.code == 2).tolist() == np.flatnonzero(without.decisions.code == 2).tolist() == [2]
    assert MODEL_RULE.action == "review"


def test_a_model_of_anything_but_addresses_is_refused_before_scoring():
    import pytest

    from kyt.risk import ModelError, RiskModel
    from kyt.sender_risk import checked

    with pytest.raises(ModelError, match="is a triage model \\(of cases\\)"):
        checked(RiskModel(None, ("usd_value", "min_hop"), "triage-abc", 0.5, [0.0, 0.0], ""))
