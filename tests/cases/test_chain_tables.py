"""`kyt ingest --db`: a real node's transfers in the case database, the same as in files, through reorgs."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

from cases.chain_tables import TableOutput, export
from graph.chain import Node
from graph.errors import ChainError
from graph.ingestion import Ingestion
from graph.readers import read_deposits, read_transfers
from tests.graph.chain.conftest import contracts, node  # noqa: F401 - the real node and the test tokens
from tests.graph.chain.test_ingestion import deploy, send

KYT = Path(sys.executable).parent / "kyt"


def ingest(url, store, tmp_path, addresses):
    job = Ingestion(Node(url), TableOutput(store, "transfers"), tmp_path / "db.checkpoint.json", from_block=0,
                    confirmations=0, batch=3, deposits_out=TableOutput(store, "deposits"), deposit_addresses=addresses)
    return job.run()


def lines(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return list(csv.reader(handle))


def test_the_tables_hold_what_the_files_hold_and_follow_a_reorganisation(node, contracts, store, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    a = w3.eth.accounts
    addresses = {a[3].lower(): "cust-3"}
    token = deploy(w3, contracts, "Token", "Test", "TST", 6, 10**15, sender=a[0])
    send(w3, a[0], a[3], 10**18)
    token.functions.transfer(a[3], 2_500_000).transact({"from": a[0]})
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    send(w3, a[0], a[2], 5)  # abandoned below
    ingest(node, store, tmp_path, addresses)
    w3.provider.make_request("evm_revert", [snapshot])
    for _ in range(3):
        send(w3, a[1], a[3], 7)
    summary = ingest(node, store, tmp_path, addresses)
    assert summary.reorgs == 1
    files = Ingestion(Node(node), tmp_path / "t.csv", tmp_path / "t.checkpoint.json", from_block=0, confirmations=0,
                      batch=3, deposits_out=tmp_path / "d.csv", deposit_addresses=addresses)
    files.run()
    assert export(store, "transfers", tmp_path / "from-db.csv") == len(lines(tmp_path / "t.csv")) - 1
    assert lines(tmp_path / "from-db.csv") == lines(tmp_path / "t.csv")  # the same rows, in the same order
    export(store, "deposits", tmp_path / "deposits-from-db.csv")
    assert lines(tmp_path / "deposits-from-db.csv") == lines(tmp_path / "d.csv")
    assert token.address.lower() in read_transfers(tmp_path / "from-db.csv").asset.to_pylist()  # the engine reads it
    assert read_deposits(tmp_path / "deposits-from-db.csv").customer_id.to_pylist() == ["cust-3"] * 5


def test_tables_with_rows_and_no_checkpoint_are_refused(node, store, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    send(w3, w3.eth.accounts[0], w3.eth.accounts[1], 1)
    ingest(node, store, tmp_path, {})
    (tmp_path / "db.checkpoint.json").unlink()
    with pytest.raises(ChainError, match="already holds rows"):
        ingest(node, store, tmp_path, {})


def test_the_command_ingests_into_the_database_and_exports(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    send(w3, w3.eth.accounts[0], w3.eth.accounts[1], 10**18)
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    done = subprocess.run([str(KYT), "ingest", "--rpc", node, "--from-block", "0", "--confirmations", "0", "--db", db,
                           "--checkpoint", str(tmp_path / "c.json")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "into the database" in done.stderr
    both = subprocess.run([str(KYT), "ingest", "--rpc", node, "--from-block", "0", "--db", db, "--out",
                           str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert both.returncode == 2 and "--out or --db, not both" in both.stderr
    exported = subprocess.run([str(KYT), "export-chain", "--db", db, "--out", str(tmp_path / "t.csv")],
                              capture_output=True, text=True)
    assert exported.returncode == 0, exported.stderr
    assert [r[7] for r in lines(tmp_path / "t.csv")[1:]] == ["1"]
