"""New chain heads from a node's WebSocket (an `eth_subscribe` to newHeads through web3's WebSocketProvider).

A subscription only says "look now": what is ingested, and from where, is the checkpoint's
business (graph.ingestion), so a head missed while the socket was down loses nothing. When
the socket drops, the subscription connects again after a pause that doubles up to a cap,
and wakes its reader once connected (blocks may have come meanwhile). Without a socket,
`wait` falls back to the polling interval.

>>> websocket_url("http://127.0.0.1:8545"), websocket_url("https://rpc.example/v2/key")
('ws://127.0.0.1:8545', 'wss://rpc.example/v2/key')
"""

from __future__ import annotations

import asyncio
import threading
import time

from graph.chain import Backoff
from graph.redaction import scrubbed

IDLE = 60.0
"""With the socket up, the longest wait without a head before looking anyway (a node that went quiet)."""
SLICE = 0.1
"""How often a wait looks at the stop flag."""


def websocket_url(rpc: str) -> str:
    """The WebSocket URL of a node that serves both on one port (anvil, geth with --ws on the HTTP port...)."""
    if rpc.startswith("https://"):
        return "wss://" + rpc.removeprefix("https://")
    if rpc.startswith("http://"):
        return "ws://" + rpc.removeprefix("http://")
    return rpc


class HeadSubscription:
    """A background thread subscribed to `url`'s new heads, reconnecting whenever the socket drops."""

    def __init__(self, url: str, *, backoff: Backoff = Backoff(first=0.5, cap=10.0)) -> None:
        self.url, self.backoff = url, backoff
        self.connected = threading.Event()
        """Set while the subscription is up."""
        self.connections = 0
        """Times the subscription was made (the first connection, then each reconnection)."""
        self.heads = 0
        """New heads announced so far."""
        self.problem: str | None = None
        """Why the last connection ended or failed (the URL's secrets scrubbed)."""
        self._news = threading.Event()
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread = threading.Thread(target=self._run, name="kyt-heads", daemon=True)
        self._thread.start()

    def wait(self, poll: float, stop: threading.Event) -> bool:
        """Until a new head (True), or `stop` or the time runs out (False): IDLE with the socket up, else `poll`."""
        deadline = time.monotonic() + (max(poll, IDLE) if self.connected.is_set() else poll)
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._news.wait(min(left, SLICE)):
                self._news.clear()
                return True
            if not self.connected.is_set():  # the socket dropped during the wait: poll from now on
                deadline = min(deadline, time.monotonic() + poll)
        return False

    def close(self) -> None:
        """Unsubscribe and stop the thread."""
        self._stopping = True
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.run(self._follow())

    async def _follow(self) -> None:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        delays = self.backoff.delays() or [self.backoff.first]
        failures = 0
        while not self._stopping:
            before = self.connections
            try:
                await self._subscribed()
            except asyncio.CancelledError:
                break
            except Exception as error:  # noqa: BLE001 - the socket's errors: refused, dropped, closed
                self.problem = scrubbed(f"{error.__class__.__name__}: {error}", self.url)
            self.connected.clear()
            if self.connections > before:  # it was up: the pauses start short again
                failures = 0
            if self._stopping:
                break
            try:
                await asyncio.sleep(delays[min(failures, len(delays) - 1)])
            except asyncio.CancelledError:
                break
            failures += 1

    async def _subscribed(self) -> None:
        from web3 import AsyncWeb3, WebSocketProvider

        async with AsyncWeb3(WebSocketProvider(self.url, max_connection_retries=1)) as w3:
            await w3.eth.subscribe("newHeads")
            self.connections += 1
            self.connected.set()
            self._news.set()  # heads may have come while there was no socket
            async for _ in w3.socket.process_subscriptions():
                self.heads += 1
                self._news.set()
