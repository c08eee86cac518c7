"""Ingestion against a real node: what was sent is what is ingested, once; reorgs repaired; kills resumed."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from web3 import Web3

from graph.chain import Node
from graph.errors import ChainError
from graph.ingestion import Checkpoint, Ingestion

KYT = Path(sys.executable).parent / "kyt"
ZERO = "0x0000000000000000000000000000000000000000"


ETH = 10**18


def rows(path: Path) -> list[tuple]:
    with path.open(newline="") as handle:
        return [(r["tx_hash"], int(r["block_number"]), int(r["position"]), r["from_address"], r["to_address"],
                 r["asset"], Decimal(r["amount"]), r["usd_value"]) for r in csv.DictReader(handle)]


def moves(found: list[tuple]) -> list[tuple]:
    """(from, to, asset, amount) in chain order."""
    return [(f, t, a, m) for _, _, _, f, t, a, m, _ in found]


def send(w3: Web3, sender: str, to: str, wei: int, **extra) -> str:
    return w3.eth.send_transaction({"from": sender, "to": to, "value": wei, **extra}).hex()


def deploy(w3: Web3, contracts, name: str, *args, sender: str) -> object:
    abi, code = contracts[name]
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.contract(abi=abi, bytecode=code).constructor(*args)
                                                  .transact({"from": sender}))
    return w3.eth.contract(address=receipt.contractAddress, abi=abi)


def ingest(url: str, tmp_path: Path, **options) -> tuple[Path, object]:
    out = tmp_path / "transfers.csv"
    job = Ingestion(Node(url), out, tmp_path / "transfers.checkpoint.json", from_block=options.pop("from_block", 0),
                    confirmations=options.pop("confirmations", 0), batch=options.pop("batch", 7), **options)
    return out, job.run()


def test_native_and_token_transfers_are_ingested_once_with_exact_amounts(node, contracts, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    a = [x.lower() for x in w3.eth.accounts]
    token = deploy(w3, contracts, "Token", "Test", "TST", 6, 10**15, sender=w3.eth.accounts[0])
    raw = deploy(w3, contracts, "RawToken", 5000, sender=w3.eth.accounts[0])
    send(w3, w3.eth.accounts[0], w3.eth.accounts[1], 1_500_000_000_000_000_001)  # 1.500000000000000001 ETH
    send(w3, w3.eth.accounts[1], w3.eth.accounts[2], 0)  # zero value: not a transfer
    send(w3, w3.eth.accounts[2], token.address, 10**18, gas=100_000)  # reverts: not a transfer
    w3.provider.make_request("evm_setAutomine", [False])  # three transfers in one block
    send(w3, w3.eth.accounts[3], w3.eth.accounts[4], 7)
    token.functions.transfer(w3.eth.accounts[5], 123_456_789).transact({"from": w3.eth.accounts[0], "gas": 100_000})
    raw.functions.transfer(w3.eth.accounts[6], 42).transact({"from": w3.eth.accounts[0], "gas": 100_000})
    w3.provider.make_request("evm_mine", [])
    w3.provider.make_request("evm_setAutomine", [True])
    out, summary = ingest(node, tmp_path)
    found = rows(out)
    t, r = token.address.lower(), raw.address.lower()
    assert moves(found) == [
        (ZERO, a[0], t, Decimal("1000000000")),
        (ZERO, a[0], r + ":raw", Decimal(5000)),
        (a[0], a[1], "ETH", Decimal("1.500000000000000001")),
        (a[3], a[4], "ETH", Decimal("7E-18")),
        (a[0], a[5], t, Decimal("123.456789")),
        (a[0], a[6], r + ":raw", Decimal(42)),
    ]
    assert len({(h, b, p) for h, b, p, *_ in found}) == len(found)  # (block, position) never collide
    last_block = found[-1][1]
    assert [x[1] for x in found[-3:]] == [last_block] * 3 and found == sorted(found, key=lambda x: (x[1], x[2]))
    assert summary.transfers == 6 and summary.last_block == w3.eth.block_number


def test_confirmations_hold_back_the_newest_blocks_and_a_rerun_adds_nothing(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    for i in range(5):
        send(w3, w3.eth.accounts[0], w3.eth.accounts[1], 10**18 + i)
    out, summary = ingest(node, tmp_path, confirmations=2)
    assert summary.last_block == w3.eth.block_number - 2 and len(rows(out)) == 3
    out, again = ingest(node, tmp_path, confirmations=2)
    assert (again.blocks, len(rows(out))) == (0, 3)
    out, rest = ingest(node, tmp_path, confirmations=0)
    assert [m[3] for m in moves(rows(out))] == [Decimal(10**18 + i) / 10**18 for i in range(5)]


def test_a_reorganisation_is_detected_and_its_rows_replaced(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    send(w3, w3.eth.accounts[0], w3.eth.accounts[1], 1)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    for _ in range(3):
        send(w3, w3.eth.accounts[0], w3.eth.accounts[2], 2)  # the branch that will be abandoned
    out, first = ingest(node, tmp_path)
    assert [m[1] for m in moves(rows(out))] == [w3.eth.accounts[1].lower()] + [w3.eth.accounts[2].lower()] * 3
    w3.provider.make_request("evm_revert", [snapshot])
    for _ in range(5):
        send(w3, w3.eth.accounts[0], w3.eth.accounts[3], 3)  # the branch that wins, longer
    out, second = ingest(node, tmp_path)
    assert second.reorgs == 1
    assert [m[1] for m in moves(rows(out))] == [w3.eth.accounts[1].lower()] + [w3.eth.accounts[3].lower()] * 5
    canonical = {w3.eth.get_block(n).hash.hex() for n in range(w3.eth.block_number + 1)}
    state = Checkpoint.load(tmp_path / "transfers.checkpoint.json")
    assert {h if h.startswith("0x") else "0x" + h for _, h, _ in state.recent} <= {
        h if h.startswith("0x") else "0x" + h for h in canonical}


def test_deposits_into_the_platforms_addresses_are_written_and_follow_a_reorganisation(node, tmp_path):
    from graph.readers import read_deposits

    w3 = Web3(Web3.HTTPProvider(node))
    a = w3.eth.accounts
    addresses = {a[2].lower(): "cust-2", a[3].lower(): "cust-3"}
    send(w3, a[0], a[1], 10**18)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    send(w3, a[0], a[2], 2 * 10**18)
    from datetime import date, timedelta
    today = date.today()  # anvil stamps blocks with the current time
    prices = {("ETH", today + timedelta(days=d)): Decimal("2000.5") for d in (-1, 0, 1)}
    options = dict(deposits_out=tmp_path / "deposits.csv", deposit_addresses=addresses, prices=prices)
    out, _ = ingest(node, tmp_path, **options)
    w3.provider.make_request("evm_revert", [snapshot])
    for _ in range(3):
        send(w3, a[0], a[3], 3 * 10**18)
    out, summary = ingest(node, tmp_path, **options)
    assert summary.reorgs == 1
    deposits = read_deposits(tmp_path / "deposits.csv")  # the engine reads what ingestion wrote
    assert deposits.customer_id.to_pylist() == ["cust-3"] * 3
    assert [str(x) for x in deposits.amount.to_pylist()] == ["3", "3", "3"]
    assert [r[-1] for r in rows(out)][-1] == "6001.5"  # 3 ETH at $2,000.50
    with pytest.raises(ChainError, match="with a deposits file"):
        Ingestion(Node(node), out, tmp_path / "transfers.checkpoint.json", from_block=0, confirmations=0)


def test_internal_transfers_come_with_traces_and_only_what_was_not_undone(node, contracts, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    A = w3.eth.accounts
    a = [x.lower() for x in A]
    splitter = deploy(w3, contracts, "Splitter", sender=A[0])
    s = splitter.address.lower()
    split = splitter.functions.split(A[1], A[3]).transact({"from": A[0], "value": 3 * ETH + 1}).hex()
    splitter.functions.tryPay(A[2]).transact({"from": A[0], "value": ETH})  # paid inside a call that reverted
    child = splitter.functions.spawn().call({"from": A[0], "value": ETH // 2}).lower()
    splitter.functions.spawn().transact({"from": A[0], "value": ETH // 2})
    natives = [(a[0], s, "ETH", Decimal(3 * ETH + 1) / ETH), (a[0], s, "ETH", Decimal(1)),
               (a[0], s, "ETH", Decimal("0.5"))]
    (tmp_path / "plain").mkdir()
    plain, _ = ingest(node, tmp_path / "plain")
    assert moves(rows(plain)) == natives  # without --traces: the transactions only
    deposits = tmp_path / "deposits.csv"
    out, _ = ingest(node, tmp_path, traces=True, deposits_out=deposits, deposit_addresses={a[3]: "cust-3"})
    found = rows(out)
    assert moves(found) == [natives[0], (s, a[1], "ETH", Decimal(3 * ETH // 2) / ETH),
                            (s, a[3], "ETH", Decimal(3 * ETH + 1 - 3 * ETH // 2) / ETH),  # into a deposit address
                            natives[1], natives[2], (s, child, "ETH", Decimal("0.5"))]  # the new contract's funding
    assert [r[2] for r in found if r[0] == "0x" + split.removeprefix("0x")] == [0, 1, 2]
    with deposits.open() as handle:
        [deposit] = list(csv.DictReader(handle))
    # the second internal transfer of its transaction: ids of native and token deposits are as without --traces
    assert (deposit["deposit_id"], deposit["amount"]) == ("0x" + split.removeprefix("0x") + ":i1", "1.500000000000000001")
    with pytest.raises(ChainError, match="made with --traces"):
        Ingestion(Node(node), out, tmp_path / "transfers.checkpoint.json", from_block=0, deposits_out=deposits,
                  deposit_addresses={a[3]: "cust-3"})
    command = subprocess.run([str(KYT), "ingest", "--rpc", node, "--from-block", "0", "--out", str(tmp_path / "c.csv"),
                              "--confirmations", "0", "--traces"], capture_output=True, text=True)
    assert command.returncode == 0, command.stderr
    assert rows(tmp_path / "c.csv") == found
    front = _LimitedLogs(node, span=10**9, missing="trace_block")  # a node without the trace API
    try:
        (tmp_path / "geth").mkdir()
        with pytest.raises(ChainError, match="does not offer trace_block, which internal transfers"):
            ingest(front.url, tmp_path / "geth", traces=True)
    finally:
        front.close()


def test_an_existing_file_without_its_checkpoint_is_never_overwritten(node, tmp_path):
    (tmp_path / "t.csv").write_text("precious\n")
    with pytest.raises(ChainError, match="already exists and has no checkpoint"):
        Ingestion(Node(node), tmp_path / "t.csv", tmp_path / "t.json", from_block=0)
    assert (tmp_path / "t.csv").read_text() == "precious\n"


def test_a_refusal_is_not_retried_and_bad_cli_input_is_a_message(node, tmp_path):
    waits = []
    from graph.chain import Backoff
    quick = Node(node, backoff=Backoff(tries=4, first=0.01), sleep=waits.append)
    with pytest.raises(ChainError, match="refused"):
        quick.call("eth_getBlockByNumber", ["not a block", False])
    assert waits == []
    done = subprocess.run([str(KYT), "ingest", "--rpc", node, "--from-block", "0", "--out", str(tmp_path / "t.csv"),
                           "--prices", str(tmp_path / "missing.csv")], capture_output=True, text=True)
    assert done.returncode == 1 and done.stderr.startswith("error:") and "Traceback" not in done.stderr


def test_a_wrong_chain_is_refused(node, tmp_path):
    with pytest.raises(ChainError, match="is chain 31337, not chain 1"):
        Ingestion(Node(node), tmp_path / "t.csv", tmp_path / "t.json", from_block=0, expected_chain=1)


def test_an_unreachable_node_is_retried_then_reported(tmp_path):
    from graph.chain import Backoff
    waits = []
    node = Node("http://127.0.0.1:9", timeout=0.5, backoff=Backoff(tries=3, first=0.01), sleep=waits.append)
    with pytest.raises(ChainError, match="eth_chainId failed after 3 tries"):
        node.chain_id()
    assert waits == [0.01, 0.02]


def test_a_kill_during_ingestion_then_a_rerun_leaves_no_gap_and_no_duplicate(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    for i in range(60):
        send(w3, w3.eth.accounts[i % 5], w3.eth.accounts[5 + i % 5], 10**15 + i)
    out, checkpoint = tmp_path / "t.csv", tmp_path / "t.csv.checkpoint.json"
    command = [str(KYT), "ingest", "--rpc", node, "--from-block", "0", "--out", str(out), "--confirmations", "0",
               "--batch", "1"]
    for _ in range(3):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started = json.loads(checkpoint.read_text())["next_block"] if checkpoint.exists() else 0
        deadline = time.time() + 30
        while time.time() < deadline:
            if checkpoint.exists() and json.loads(checkpoint.read_text())["next_block"] >= started + 8:
                break
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    found = rows(out)
    assert [m[3] for m in moves(found)] == [Decimal(10**15 + i) / 10**18 for i in range(60)]
    assert len({r[0] for r in found}) == 60


def test_ctrl_c_finishes_the_batch_under_way_and_a_rerun_goes_on(node, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    for i in range(40):
        send(w3, w3.eth.accounts[i % 5], w3.eth.accounts[5 + i % 5], 10**15 + i)
    out, checkpoint = tmp_path / "t.csv", tmp_path / "t.csv.checkpoint.json"
    command = [str(KYT), "ingest", "--rpc", node, "--from-block", "0", "--out", str(out), "--confirmations", "0",
               "--batch", "1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not (checkpoint.exists() and json.loads(checkpoint.read_text())["next_block"] >= 5):
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "stopping after this batch" in stderr and "Traceback" not in stderr
    assert "the next run resumes after the last finished batch" in stderr
    state = json.loads(checkpoint.read_text())
    assert out.stat().st_size == state["offsets"][0]  # stopped between batches: nothing half-written
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert [m[3] for m in moves(rows(out))] == [Decimal(10**15 + i) / 10**18 for i in range(40)]


class _LimitedLogs:
    """An HTTP front for the real node that, like hosted providers, refuses log queries over `span` blocks."""

    def __init__(self, upstream: str, span: int, missing: str | None = None) -> None:
        import http.server
        import threading
        import urllib.request

        limited = self
        self.refused = self.seen = 0
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy itself

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server interface
                body = self.rfile.read(int(self.headers["Content-Length"]))
                limited.seen += 1
                request = json.loads(body)
                if isinstance(request, list) and request and all(r.get("method") == missing for r in request):
                    return self._reply(json.dumps([{"jsonrpc": "2.0", "id": r["id"], "error": {
                        "code": -32601, "message": "the method does not exist"}} for r in request]).encode())
                if isinstance(request, dict) and request.get("method") == "eth_getLogs":
                    query = request["params"][0]
                    if int(query["toBlock"], 16) - int(query["fromBlock"], 16) + 1 > span:
                        limited.refused += 1
                        answer = json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": {
                            "code": -32005, "message": "query returned more than 10000 results"}}).encode()
                        return self._reply(answer)
                forwarded = urllib.request.Request(upstream, body, {"Content-Type": "application/json"})
                with direct.open(forwarded) as reply:
                    self._reply(reply.read())

            def _reply(self, answer: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_environments_proxy_settings_are_followed(node, monkeypatch):
    front = _LimitedLogs(node, span=10**9)  # it forwards whatever it is sent: an HTTP proxy for the node
    try:
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        for name in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(name, front.url)
        assert Node(node).chain_id() == 31337 and front.seen == 1
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, "127.0.0.1")
        assert Node(node).chain_id() == 31337 and front.seen == 1  # bypassed
    finally:
        front.close()


def test_an_answer_that_is_not_json_is_retried_then_reported():
    import http.server
    import threading

    class Page(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server interface
            self.rfile.read(int(self.headers["Content-Length"]))
            page = b"<html>502 Bad Gateway</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    from graph.chain import Backoff
    waits = []
    try:
        quick = Node(f"http://127.0.0.1:{server.server_address[1]}", backoff=Backoff(tries=2, first=0.01),
                     sleep=waits.append)
        with pytest.raises(ChainError, match=r"eth_blockNumber failed after 2 tries: the node's answer is not JSON: "
                                             r"b'<html>502 Bad Gateway</html>'"):
            quick.head()
    finally:
        server.shutdown()
        server.server_close()
    assert waits == [0.01]


def test_a_log_range_the_node_finds_too_large_is_asked_for_in_halves(node, contracts, tmp_path):
    w3 = Web3(Web3.HTTPProvider(node))
    a = w3.eth.accounts
    token = deploy(w3, contracts, "Token", "Test", "TST", 0, 10**6, sender=a[0])
    for i in range(9):
        token.functions.transfer(a[1 + i % 3], 10 + i).transact({"from": a[0]})
    front = _LimitedLogs(node, span=2)
    try:
        out, summary = ingest(front.url, tmp_path, batch=10)
    finally:
        front.close()
    assert front.refused > 0
    found = moves(rows(out))
    assert [m[3] for m in found if m[2] != "ETH"][-9:] == [Decimal(10 + i) for i in range(9)]
    assert summary.blocks == w3.eth.block_number + 1
