"""The fixture scenario scored end to end, with its exposures worked out by hand."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from graph.times import parse_time
from kyt import batch, outputs
from kyt.errors import InputsRejected, OutputError, PolicyError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SCENARIO = FIXTURES / "scenario"
AS_OF = parse_time("2026-11-20T00:00:00Z")

# deposit -> (category, hop, share, usd) rows and the decision, by hand from fixtures/scenario:
EXPECTED = {
    # alice: $40,000 from Lazarus and $10,000 clean before her $5,000 deposit: 80% sanctioned
    "D-1001": ([("sanctions", 2, "0.8", "4000")], "freeze"),
    # bob withdraws from Binance 14, which Lazarus paid: services stop indirect exposure
    "D-1002": ([], "allow"),
    # carol: Garantex pays her later in the same block (position 7 > 4) and in later blocks only
    "D-1003": ([], "allow"),
    # dave: Garantex $500 at position 2 of the deposit's block, $1,500 clean before: 25%
    "D-1004": ([("sanctions", 2, "0.25", "250")], "freeze"),
    # erin: $0.01 of address-poisoning dust in $5,000.01; the zero-value transfer never counts
    "D-1005": ([("scam", 2, "0.000002", "0.01")], "allow"),
    # frank: 50 cents straight from a sanctioned Garantex wallet: dust is reviewed, not frozen
    "D-1006": ([("sanctions", 1, "1", "0.5")], "review"),
    # grace: Tornado Cash funds, after the 2025-03-21 delisting: a mixer, no longer sanctions
    "D-1007": ([("mixer", 2, "1", "2900")], "review"),
    # heidi: a Garantex wallet (listed 2025-08-14) deposits $12,000 itself
    "D-1008": ([("sanctions", 1, "1", "12000")], "freeze"),
    # ivan: $600 of KyberSwap exploit proceeds in $6,000: 10% stolen
    "D-1009": ([("stolen_funds", 2, "0.1", "300")], "review"),
    # judy: funded by Coinbase only
    "D-1010": ([], "allow"),
    # ken: a GAZA NOW wallet (SDGT): sanctions and terrorist financing, both direct
    "D-1011": ([("sanctions", 1, "1", "1200"), ("terrorist_financing", 1, "1", "1200")], "freeze"),
    # leo: Lazarus $2,000 four hundred days before, $8,000 clean: 20% with no window
    "D-1012": ([("sanctions", 2, "0.2", "1000")], "freeze"),
    # mia: a self-transfer and a zero-value Lazarus transfer never count
    "D-1013": ([], "allow"),
    # nina: $5 of Lazarus in $10,000: 0.05%, $4.50 of the deposit, under every threshold
    "D-1014": ([("sanctions", 2, "0.0005", "4.5")], "allow"),
    # olga: 25,000 LZR from Lazarus (no price) and $3,000 clean: the share is unknown (the
    # flagged funding of unknown value could make it anything), so a person looks
    "D-1015": ([("sanctions", 2, "", "")], "review"),
    # pete: a Garantex wallet deposits 7,000 LZR (no price): direct sanctions of unknown USD
    "D-1016": ([("sanctions", 1, "1", "")], "review"),
}

UNPRICED = {"D-1015": (1, 1), "D-1016": (0, 0)}  # (unpriced transfers, of them flagged) behind each exposure


def request(tmp_path, **changes):
    base = batch.ScoreRequest(
        deposits=SCENARIO / "deposits.csv", transfers=SCENARIO / "transfers.csv",
        flagged=FIXTURES / "lists" / "flagged.csv", services=FIXTURES / "lists" / "services.csv", as_of=AS_OF,
        out=tmp_path / "out.csv", exposures_out=tmp_path / "exposures.csv", evidence_out=tmp_path / "evidence.jsonl")
    return replace(base, **changes)


def read(path):
    with path.open() as handle:
        return list(csv.DictReader(handle))


def by_deposit(result):
    exposures = {}
    for deposit_id, category, hop, share, usd, unpriced, unpriced_flagged in outputs.exposure_rows(result):
        assert (unpriced, unpriced_flagged) == UNPRICED.get(deposit_id, (0, 0))
        exposures.setdefault(deposit_id, []).append((category, hop, share, usd))
    return {result.deposits.deposit_id[d].as_py(): (exposures.get(result.deposits.deposit_id[d].as_py(), []),
                                                   result.decisions.decision(d))
            for d in range(len(result.deposits))}


def test_the_scenario_matches_the_hand_worked_exposures_and_decisions(tmp_path):
    result = batch.run(request(tmp_path))
    assert by_deposit(result) == EXPECTED
    rows = {r["deposit_id"]: r for r in read(tmp_path / "out.csv")}
    assert rows["D-1001"]["rule_ids"] == "sanctions-indirect-share;sanctions-indirect-amount;sanctions-indirect-any"
    assert rows["D-1006"]["rule_ids"] == "sanctions-direct-any"
    assert rows["D-1011"]["categories"] == "sanctions;terrorist_financing"
    assert rows["D-1015"]["rule_ids"] == "unpriced-indirect"
    assert rows["D-1016"]["rule_ids"] == "sanctions-direct-any;unpriced-direct"
    assert {r["snapshot_id"] for r in rows.values()} == {result.snapshot.id}
    exposures = read(tmp_path / "exposures.csv")
    assert list(exposures[0]) == ["deposit_id", "category", "hop", "share", "usd", "unpriced_transfers",
                                  "unpriced_flagged_transfers"]
    assert len(exposures) == sum(len(v[0]) for v in EXPECTED.values())


def test_evidence_names_the_lazarus_source_and_transaction(tmp_path):
    batch.run(request(tmp_path))
    records = [json.loads(line) for line in (tmp_path / "evidence.jsonl").read_text().splitlines()]
    alice = next(r for r in records if r["deposit_id"] == "D-1001")
    [source] = alice["sources"]
    assert source["address"] == "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
    assert source["usd_micro"] == 40_000 * 10**6 and source["lists"] == ["OFAC SDN: LAZARUS GROUP (DPRK3)"]
    transfers = {r["tx_hash"]: r for r in read(SCENARIO / "transfers.csv")}
    assert transfers[source["tx_hashes"][0]]["usd_value"] == "40000.00"


def test_as_of_2024_tornado_is_sanctioned_and_garantex_wallets_listed_in_2025_are_not(tmp_path):
    result = by_deposit(batch.run(request(tmp_path, as_of=parse_time("2024-06-01"))))
    assert result["D-1007"] == ([("mixer", 2, "1", "2900"), ("sanctions", 2, "1", "2900")], "freeze")
    assert result["D-1008"] == ([], "allow") and result["D-1006"] == ([], "allow")
    assert result["D-1011"][1] == "freeze"  # GAZA NOW was listed in March 2024


def test_lookback_window_drops_old_funding(tmp_path):
    result = by_deposit(batch.run(request(tmp_path, lookback_days=365)))
    assert result["D-1012"] == ([], "allow")
    assert result["D-1001"] == EXPECTED["D-1001"]


def test_poison_method_and_no_services_barrier(tmp_path):
    poison = by_deposit(batch.run(request(tmp_path, method="poison")))
    assert poison["D-1005"] == ([("scam", 2, "1", "4999.99")], "review")
    assert poison["D-1014"] == ([("sanctions", 2, "1", "9000")], "freeze")
    barrier_off = by_deposit(batch.run(request(tmp_path, services=None)))
    assert barrier_off["D-1002"] == ([("sanctions", 2, "0.7142857143", "1785.714286")], "freeze")


def test_snapshot_is_stable_and_names_what_was_used(tmp_path):
    one = batch.run(request(tmp_path)).snapshot
    assert batch.run(request(tmp_path)).snapshot == one
    assert batch.run(request(tmp_path, method="poison")).snapshot.id != one.id
    assert one.policy_name == "default" and one.as_of == "2026-11-20T00:00:00Z"
    assert one.flagged_digest == batch.file_digest(FIXTURES / "lists" / "flagged.csv")


def test_bad_inputs_write_nothing_and_report_every_file(tmp_path):
    bad_deposits = tmp_path / "deposits.csv"
    lines = (SCENARIO / "deposits.csv").read_text().splitlines()
    lines[3] = lines[3].replace("2000.00", "-2000")
    lines.append(lines[1])  # a duplicate deposit_id
    bad_deposits.write_text("\n".join(lines) + "\n")
    bad_flagged = tmp_path / "flagged.csv"
    bad_flagged.write_text("address,category,source\n0x12,sanctions,x\n")
    out = tmp_path / "out.csv"
    out.write_text("earlier results\n")
    with pytest.raises(InputsRejected) as caught:
        batch.run(request(tmp_path, deposits=bad_deposits, flagged=bad_flagged))
    text = str(caught.value)
    assert f"{bad_deposits}:4: usd_value -2000 is negative" in text
    assert f"{bad_deposits}:{len(lines)}: duplicate deposit_id 'D-1001' (first on line 2)" in text
    assert f"{bad_flagged}:2: address '0x12' is not an address" in text
    assert out.read_text() == "earlier results\n"
    assert not (tmp_path / "exposures.csv").exists() and not (tmp_path / "evidence.jsonl").exists()
    assert not list(tmp_path.glob("*.partial"))


def test_a_bad_rules_file_stops_before_reading_anything(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[[rules]]\nid = 'x'\n")
    with pytest.raises(PolicyError):
        batch.run(request(tmp_path, rules=rules))
    assert not (tmp_path / "out.csv").exists()


def test_a_failing_writer_leaves_no_output_behind(tmp_path):
    first = tmp_path / "a.csv"

    def broken(path):
        raise OSError("disk full")

    with pytest.raises(OSError):
        outputs.write_together([(first, lambda p: p.write_text("x")), (tmp_path / "b.csv", broken)])
    assert not first.exists() and not list(tmp_path.iterdir())


def test_outputs_are_all_or_nothing_and_keep_what_was_there(tmp_path):
    (tmp_path / "a.csv").write_text("old a\n")
    (tmp_path / "b.csv").write_text("old b\n")

    def broken(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        outputs.write_together([(tmp_path / "a.csv", lambda p: p.write_text("new a\n")), (tmp_path / "b.csv", broken)])
    assert (tmp_path / "a.csv").read_text() == "old a\n" and (tmp_path / "b.csv").read_text() == "old b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]
    outputs.write_together([(tmp_path / "a.csv", lambda p: p.write_text("new a\n"))])
    assert (tmp_path / "a.csv").read_text() == "new a\n" and len(list(tmp_path.iterdir())) == 2


def test_outputs_that_collide_or_are_directories_are_refused_before_anything(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        batch.run(request(tmp_path, exposures_out=tmp_path / "adir"))
    with pytest.raises(OutputError, match="the same file"):
        batch.run(request(tmp_path, exposures_out=tmp_path / "out.csv"))
    assert not (tmp_path / "out.csv").exists()


def test_outputs_get_the_usual_file_permissions(tmp_path):
    batch.run(request(tmp_path))
    mode = (tmp_path / "out.csv").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
