"""New heads over a WebSocket: each block wakes the reader, and a dropped socket is connected again."""

from __future__ import annotations

import threading
import time

from web3 import Web3

from graph.heads import HeadSubscription, websocket_url
from tests.graph.chain.conftest import free_port, anvil


def mine(url: str) -> None:
    Web3(Web3.HTTPProvider(url)).provider.make_request("evm_mine", [])


def until(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_each_new_block_wakes_the_reader_and_a_restarted_node_is_followed_again(tmp_path):
    port, stop = free_port(), threading.Event()
    with anvil(port=port) as (url, process):
        heads = HeadSubscription(websocket_url(url))
        try:
            assert until(heads.connected.is_set)
            heads.wait(0.5, stop)  # the wake-up of the connection itself
            started = time.monotonic()
            mine(url)
            assert heads.wait(30, stop) and time.monotonic() - started < 5
            assert heads.heads == 1 and not heads.wait(0.3, stop)  # one head, one wake-up
            process.terminate()
            process.wait(timeout=10)
            assert until(lambda: not heads.connected.is_set())
            assert heads.problem is not None
            with anvil(port=port) as (again, _):
                assert until(heads.connected.is_set, 30) and heads.connections == 2
                heads.wait(0.5, stop)
                mine(again)
                assert heads.wait(30, stop) and heads.heads == 2
        finally:
            heads.close()
    stop.set()
    assert not heads.wait(5, stop)  # a stop ends a wait at once


def test_without_a_socket_the_wait_is_the_polling_interval():
    stop = threading.Event()
    heads = HeadSubscription(f"ws://127.0.0.1:{free_port()}")  # nobody listens there
    try:
        started = time.monotonic()
        assert not heads.wait(0.3, stop)
        assert 0.25 < time.monotonic() - started < 2 and not heads.connected.is_set()
    finally:
        heads.close()
