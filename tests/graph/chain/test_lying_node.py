"""A node that lies, put between `kyt ingest` and a real anvil node: every forged answer is refused, nothing written."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from web3 import Web3

from graph.chain import Backoff, Node
from graph.errors import ChainError
from graph.ingestion import Ingestion
from tests.graph.chain.test_ingestion import ETH, send

TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def forge_block(block: dict) -> None:
    """A transfer added to the block, claiming another block number."""
    if block and block["transactions"]:
        fake = dict(block["transactions"][0], hash="0x" + "ab" * 32,
                    transactionIndex=hex(len(block["transactions"])), blockNumber=hex(int(block["number"], 16) + 1))
        block["transactions"].append(fake)


def forge_logs(logs: list, blocks_of: dict) -> None:
    """A Transfer log of one block's transaction, said to be logged in another block."""
    numbers = sorted(n for n, block in blocks_of.items() if block["transactions"])
    if len(numbers) >= 2:
        first, second = blocks_of[numbers[0]], blocks_of[numbers[1]]
        logs.append({"address": "0x" + "11" * 20, "topics": [TRANSFER, "0x" + "00" * 12 + "22" * 20,
                                                              "0x" + "00" * 12 + "33" * 20],
                     "data": "0x" + f"{10**24:064x}", "blockNumber": second["number"], "blockHash": second["hash"],
                     "transactionHash": first["transactions"][0]["hash"], "transactionIndex": "0x0",
                     "logIndex": "0x0", "removed": False})


class Liar:
    """An HTTP JSON-RPC server that asks the real node, then changes its answers the way `mode` says."""

    def __init__(self, upstream: str, mode: str) -> None:
        self.upstream, self.mode, self.blocks = upstream, mode, {}
        liar = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = urllib.request.Request(liar.upstream, data=body, headers={"Content-Type": "application/json"})
                answer = json.loads(urllib.request.urlopen(request, timeout=10).read())
                asked = json.loads(body)
                for call, reply in zip(asked if isinstance(asked, list) else [asked],
                                       answer if isinstance(answer, list) else [answer]):
                    liar.tamper(call["method"], reply)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tamper(self, method: str, reply: dict) -> None:
        result = reply.get("result")
        if method == "eth_getBlockByNumber" and result:
            self.blocks[int(result["number"], 16)] = result
            if self.mode == "block" and int(result["number"], 16) == 2:
                forge_block(result)
        if method == "eth_getLogs" and self.mode == "log" and isinstance(result, list):
            forge_logs(result, self.blocks)


@pytest.mark.parametrize("mode, said", [("block", "says it is at another block or place"),
                                        ("log", "which has no such transaction")])
def test_a_lying_node_is_refused_and_nothing_is_written(node, tmp_path, mode, said):
    w3 = Web3(Web3.HTTPProvider(node))
    for _ in range(3):
        send(w3, w3.eth.accounts[0], w3.eth.accounts[1], 1 * ETH)
    liar = Liar(node, mode)
    out = tmp_path / "transfers.csv"
    job = Ingestion(Node(liar.url, backoff=Backoff(tries=1)), out, tmp_path / "c.json", from_block=0,
                    confirmations=0, batch=10)
    try:
        with pytest.raises(ChainError) as refused:
            job.run()
    finally:
        job.close()
        liar.server.shutdown()
    assert "the node's answer was refused, nothing was written" in str(refused.value) and said in str(refused.value)
    assert not out.exists() or len(out.read_text().splitlines()) <= 1  # at most the header
    honest = Ingestion(Node(node), out, tmp_path / "c.json", from_block=0, confirmations=0, batch=10)
    honest.run()
    assert len(out.read_text().splitlines()) == 1 + 3  # the real transfers, and only those
    assert not Path(str(out) + ".partial").exists()
