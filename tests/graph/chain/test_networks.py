"""Any EVM network by its chain id, and the newcomer's mistakes: a start past the head, the same file named twice."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from web3 import Web3

from graph.chain import Node
from graph.errors import ChainError
from graph.ingestion import Ingestion
from tests.graph.chain.conftest import anvil
from tests.graph.chain.test_ingestion import ETH, KYT, send


def table(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def polygon_node():
    """anvil started as chain 137 (polygon); its URL."""
    with anvil("--chain-id", "137") as (url, _):
        yield url


def test_rows_from_another_network_carry_its_name(polygon_node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(polygon_node))
    a = w3.eth.accounts
    send(w3, a[0], a[1], 2 * ETH)
    send(w3, a[0], a[2], 3 * ETH)
    job = Ingestion(Node(polygon_node), tmp_path / "t.csv", tmp_path / "t.json", from_block=0, confirmations=0,
                    deposits_out=tmp_path / "d.csv", deposit_addresses={a[2].lower(): "cust-2"})
    job.run()
    transfers, deposits = table(tmp_path / "t.csv"), table(tmp_path / "d.csv")
    assert [(r["to_address"], r["amount"], r["asset"], r["chain"]) for r in transfers] == [
        (a[1].lower(), "2", "POL", "polygon"), (a[2].lower(), "3", "POL", "polygon")]  # polygon's coin, not ETH
    assert [(d["customer_id"], d["chain"]) for d in deposits] == [("cust-2", "polygon")]
    assert json.loads((tmp_path / "t.json").read_text())["chain"] == "polygon"
    done = subprocess.run([str(KYT), "ingest", "--rpc", polygon_node, "--from-block", "0", "--confirmations", "0",
                           "--out", str(tmp_path / "c.csv")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 transfers of polygon (chain 137)" in done.stderr
    assert [r["chain"] for r in table(tmp_path / "c.csv")] == ["polygon", "polygon"]


def test_an_unnamed_network_is_evm_and_its_id(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    send(w3, w3.eth.accounts[0], w3.eth.accounts[1], ETH)
    Ingestion(Node(node), tmp_path / "t.csv", tmp_path / "t.json", from_block=0, confirmations=0).run()
    assert [r["chain"] for r in table(tmp_path / "t.csv")] == ["evm-31337"]


def test_a_checkpoint_made_before_the_chain_column_goes_on_without_it(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    send(w3, w3.eth.accounts[0], w3.eth.accounts[1], ETH)
    Ingestion(Node(node), tmp_path / "t.csv", tmp_path / "t.json", from_block=0, confirmations=0).run()
    old = json.loads((tmp_path / "t.json").read_text())
    del old["chain"]  # as an earlier version wrote it, with its file
    (tmp_path / "t.json").write_text(json.dumps(old))
    lines = (tmp_path / "t.csv").read_text().splitlines()
    plain = "\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n"
    (tmp_path / "t.csv").write_text(plain)
    old["offsets"] = [len(plain.encode())]
    (tmp_path / "t.json").write_text(json.dumps(old))
    send(w3, w3.eth.accounts[0], w3.eth.accounts[2], 2 * ETH)
    Ingestion(Node(node), tmp_path / "t.csv", tmp_path / "t.json", from_block=0, confirmations=0).run()
    rows = table(tmp_path / "t.csv")
    assert [(r["amount"], "chain" in r) for r in rows] == [("1", False), ("2", False)]


def test_a_first_block_past_the_head_is_an_error_that_says_the_head(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    for i in range(3):
        send(w3, w3.eth.accounts[0], w3.eth.accounts[1], ETH)
    with pytest.raises(ChainError, match="block 10 is past the head of .*, block 3 .*at most 3"):
        Ingestion(Node(node), tmp_path / "t.csv", tmp_path / "t.json", from_block=10)
    assert not (tmp_path / "t.csv").exists() and not (tmp_path / "t.json").exists()
    done = subprocess.run([str(KYT), "ingest", "--rpc", node, "--from-block", "50", "--out", str(tmp_path / "c.csv")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "block 50 is past the head" in done.stderr and "block 3" in done.stderr
    flagged, addresses = tmp_path / "flagged.csv", tmp_path / "addresses.csv"
    flagged.write_text("address,category,source,listed_at,delisted_at\n" + "0x" + "1" * 40 + ",sanctions,x,,\n")
    addresses.write_text("address,customer_id\n" + "0x" + "2" * 40 + ",c\n")
    watched = subprocess.run([str(KYT), "watch", "--rpc", node, "--from-block", "50", "--dir", str(tmp_path / "w"),
                              "--flagged", str(flagged), "--deposit-addresses", str(addresses),
                              "--db", f"sqlite:///{tmp_path / 'cases.db'}"], capture_output=True, text=True,
                             timeout=120)
    assert watched.returncode == 1 and "block 50 is past the head" in watched.stderr, watched.stderr
    assert "Traceback" not in done.stderr + watched.stderr


def test_the_same_files_named_another_way_are_the_same_files(node, tmp_path, monkeypatch):
    w3 = Web3(Web3.HTTPProvider(node))
    send(w3, w3.eth.accounts[0], w3.eth.accounts[1], ETH)
    monkeypatch.chdir(tmp_path)
    Ingestion(Node(node), Path("t.csv"), Path("t.json"), from_block=0, confirmations=0).run()
    assert json.loads(Path("t.json").read_text())["outputs"] == [str(tmp_path.resolve() / "t.csv")]
    send(w3, w3.eth.accounts[0], w3.eth.accounts[2], 2 * ETH)
    (tmp_path / "sub").mkdir()
    Ingestion(Node(node), Path("./t.csv"), Path("./t.json"), from_block=0, confirmations=0).run()
    Ingestion(Node(node), Path("sub/../t.csv"), Path("t.json"), from_block=0, confirmations=0).run()
    assert [r["amount"] for r in table(tmp_path / "t.csv")] == ["1", "2"]
    with pytest.raises(ChainError, match="writes .*t.csv, not .*other.csv"):
        Ingestion(Node(node), Path("other.csv"), Path("t.json"), from_block=0, confirmations=0)
    old = json.loads(Path("t.json").read_text())
    old["outputs"] = ["./t.csv"]  # an earlier version kept the name as given
    Path("t.json").write_text(json.dumps(old))
    Ingestion(Node(node), Path("t.csv"), Path("t.json"), from_block=0, confirmations=0).run()
