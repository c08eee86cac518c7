"""`kyt watch --ws`: new heads wake the watch over a WebSocket; a dropped socket loses and repeats no block."""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from web3 import Web3

from tests.cases.test_watching import ETH, KYT, setup
from tests.graph.chain.conftest import anvil
from tests.graph.chain.test_ingestion import send


class Severable:
    """A TCP relay to `port` on 127.0.0.1 whose connections can all be cut at once (a socket that drops)."""

    def __init__(self, port: int) -> None:
        self.target, self.open, self.lock = port, [], threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        with self.lock:
            for end in self.open:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                end.close()
            self.open = []

    def close(self) -> None:
        self.cut()
        self.server.close()


def scored(folder: Path) -> int:
    state = folder / "watch.json"
    return json.loads(state.read_text()).get("scored", 0) if state.exists() else 0


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail("timed out")


def test_heads_over_a_websocket_wake_the_watch_and_a_cut_socket_loses_and_repeats_nothing(tmp_path):
    with anvil("--chain-id", "1") as (url, _):
        w3, a, flagged, addresses, prices = setup(url, tmp_path)
        relay = Severable(int(url.rsplit(":", 1)[1]))
        folder = tmp_path / "w"
        command = [str(KYT), "watch", "--rpc", url, "--ws", f"ws://127.0.0.1:{relay.port}",
                   "--deposit-addresses", str(addresses), "--flagged", str(flagged), "--prices", str(prices),
                   "--dir", str(folder), "--from-block", "0", "--confirmations", "0",
                   "--poll", "3600",  # no polling while the socket is up: only new heads wake the watch
                   "--db", f"sqlite:///{tmp_path / 'cases.db'}"]
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: (folder / "transfers.csv.checkpoint.json").exists() and len(relay.open) == 2)
            send(w3, a[1], a[3], 1 * ETH)  # a deposit: its block's head wakes the watch
            wait_for(lambda: scored(folder) == 1, 30)
            relay.cut()  # the socket drops; the watch connects again through the relay
            send(w3, a[4], a[3], 2 * ETH)  # arrives while the socket may be down
            wait_for(lambda: scored(folder) == 2, 60)
            send(w3, a[1], a[3], 3 * ETH)
            wait_for(lambda: scored(folder) == 3, 60)
        finally:
            os.kill(process.pid, signal.SIGINT)
            try:
                _, stderr = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                stderr = process.communicate()[1]
            relay.close()
        assert process.returncode == 130 and "Traceback" not in stderr, stderr
        assert f"new heads from ws://127.0.0.1:{relay.port}" in stderr and "(ethereum, chain 1)" in stderr
        with (folder / "deposits.csv").open(newline="") as handle:
            deposits = list(csv.DictReader(handle))
        assert [(d["amount"], d["chain"]) for d in deposits] == [("1", "ethereum"), ("2", "ethereum"),
                                                                   ("3", "ethereum")]
        with (folder / "transfers.csv").open(newline="") as handle:
            blocks = [int(r["block_number"]) for r in csv.DictReader(handle)]
        assert blocks == sorted(blocks) and len(blocks) == len(set(blocks))  # no block twice
        assert json.loads((folder / "transfers.csv.checkpoint.json").read_text())["next_block"] == \
            w3.eth.block_number + 1
