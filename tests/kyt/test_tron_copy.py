"""The fixture scenario rewritten on Tron (every address as its Tron twin, `chain = tron` in every file) scores
exactly like the Ethereum original, on every engine that runs locally."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from graph import chains
from graph.times import parse_time
from kyt import batch

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
AS_OF = parse_time("2026-11-20T00:00:00Z")
ADDRESS_COLUMNS = {"from_address", "to_address", "address"}


def on_tron(source: Path, target: Path) -> Path:
    """A copy of a CSV file with each Ethereum row's addresses as their Tron twins and its `chain` saying tron
    (rows already on another chain are kept as they are)."""
    with source.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0].keys()) + ([] if "chain" in rows[0] else ["chain"])
    with target.open("w", newline="") as handle:
        out = csv.DictWriter(handle, header)
        out.writeheader()
        for row in rows:
            if row.get("chain", "") in ("", "ethereum"):
                row = {**{k: chains.tron_from_evm(v) if k in ADDRESS_COLUMNS and v.startswith("0x") else v
                          for k, v in row.items()}, "chain": "tron"}
            out.writerow(row)
    return target


def twin(key: str) -> str:
    return chains.wallet_key("tron", chains.tron_from_evm(key)) if key.startswith("0x") else key


def scored(folder: Path, engine: str, *, names: dict[str, Path]) -> tuple[list, list]:
    request = batch.ScoreRequest(transfers=names["transfers"], deposits=names["deposits"], flagged=names["flagged"],
                                 services=names["services"], as_of=AS_OF, engine=engine,
                                 out=folder / "out.csv", exposures_out=folder / "exposures.csv",
                                 evidence_out=folder / "evidence.jsonl")
    batch.run(request)
    with (folder / "out.csv").open() as handle:
        decisions = [{k: v for k, v in row.items() if k != "snapshot_id"} for row in csv.DictReader(handle)]
    with (folder / "exposures.csv").open() as handle:
        exposures = list(csv.DictReader(handle))
    evidence = [json.loads(line) for line in (folder / "evidence.jsonl").read_text().splitlines()]
    return decisions + exposures, evidence


@pytest.mark.parametrize("engine", ["memory", "pruned"])
def test_the_scenario_on_tron_scores_exactly_like_on_ethereum(tmp_path, engine):
    original = {"transfers": FIXTURES / "scenario" / "transfers.csv", "deposits": FIXTURES / "scenario" / "deposits.csv",
                "flagged": FIXTURES / "lists" / "flagged.csv", "services": FIXTURES / "lists" / "services.csv"}
    tron = {name: on_tron(path, tmp_path / f"{name}.csv") for name, path in original.items()}
    (tmp_path / "eth").mkdir()
    (tmp_path / "trx").mkdir()
    expected, expected_evidence = scored(tmp_path / "eth", engine, names=original)
    found, found_evidence = scored(tmp_path / "trx", engine, names=tron)
    assert found == expected
    assert any(e["hop"] == 2 for e in expected_evidence) and any(e["hop"] == 1 for e in expected_evidence)
    assert json.loads(json.dumps(found_evidence).replace("tron:", "")) != found_evidence  # keys name the chain
    assert [strip(e) for e in found_evidence] == [strip(mapped(e)) for e in expected_evidence]


def mapped(evidence: dict) -> dict:
    """The evidence of the Ethereum run with each wallet written as its Tron twin's key."""
    return json.loads(json.dumps(evidence), object_hook=lambda o: {k: twin(v) if k == "address" and isinstance(v, str)
                                                                   else v for k, v in o.items()})


def strip(evidence: dict) -> dict:
    return {k: v for k, v in evidence.items() if k != "snapshot_id"}


def test_a_tron_address_with_a_broken_checksum_is_rejected_with_its_line(tmp_path):
    path = on_tron(FIXTURES / "scenario" / "transfers.csv", tmp_path / "transfers.csv")
    lines = path.read_text().splitlines()
    address = lines[3].split(",")[4]
    broken = address[:-1] + ("a" if address[-1] != "a" else "b")
    lines[3] = lines[3].replace(address, broken)
    path.write_text("\n".join(lines) + "\n")
    request = batch.ScoreRequest(transfers=path, deposits=on_tron(FIXTURES / "scenario" / "deposits.csv",
                                                                  tmp_path / "deposits.csv"),
                                 flagged=FIXTURES / "lists" / "flagged.csv", as_of=AS_OF, out=tmp_path / "out.csv")
    with pytest.raises(Exception) as raised:
        batch.run(request)
    assert f"{path}:4: " in str(raised.value) and "bad base58check checksum" in str(raised.value)
    assert not (tmp_path / "out.csv").exists()


def test_tron_list_entries_whose_case_was_lost_still_match_and_the_evidence_says_so(tmp_path):
    """Every flagged address lowercased with `address_case = lost`: the same decisions, each source marked."""
    names = {"transfers": on_tron(FIXTURES / "scenario" / "transfers.csv", tmp_path / "transfers.csv"),
             "deposits": on_tron(FIXTURES / "scenario" / "deposits.csv", tmp_path / "deposits.csv"),
             "services": on_tron(FIXTURES / "lists" / "services.csv", tmp_path / "services.csv")}
    exact = on_tron(FIXTURES / "lists" / "flagged.csv", tmp_path / "exact.csv")
    with exact.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (tmp_path / "lost.csv").open("w", newline="") as handle:
        out = csv.DictWriter(handle, list(rows[0].keys()))
        out.writeheader()
        out.writerows({**row, "address": row["address"].lower(), "address_case": "lost"} if row["chain"] == "tron"
                      and row["address_case"] == "" else row for row in rows)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    expected, expected_evidence = scored(tmp_path / "a", "memory", names={**names, "flagged": exact})
    found, found_evidence = scored(tmp_path / "b", "memory", names={**names, "flagged": tmp_path / "lost.csv"})
    assert found == expected and len(found_evidence) == len(expected_evidence)
    lists = [name for e in found_evidence for s in e["sources"] for name in s["lists"]]
    assert lists and all(name.endswith("(matched without letter case: the list lost it)") for name in lists)
    assert [strip(e) for e in found_evidence] != [strip(e) for e in expected_evidence]
