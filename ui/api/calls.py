"""What the API writes behind its answers: rows queued by the request threads, written in small batches by one thread.

The call log, and the answers that change nothing else (an allowed deposit or withdrawal)
go this way: one transaction for up to BATCH rows gathered over FLUSH_SECONDS, instead of one
per call. Until its batch is written, an answer is served again from memory (`Recent`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from typing import Callable

FLUSH_SECONDS = 0.5
BATCH = 500
RECENT = 200_000
"""Answers kept in memory for replays, newest last (far more than a flush interval's worth)."""
log = logging.getLogger("kyt.serve")


class BatchWriter:
    """Rows waiting to be written by `write(rows)`; `close` writes what is left."""

    def __init__(self, write: Callable[[list[dict]], None], name: str) -> None:
        self.write, self.name = write, name
        self._queue: queue.Queue[dict | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def add(self, row: dict) -> None:
        self._queue.put(row)

    def _run(self) -> None:
        done = False
        while not done:
            batch: list[dict] = []
            try:
                item = self._queue.get(timeout=FLUSH_SECONDS)
                deadline = time.monotonic() + FLUSH_SECONDS  # gather for a while: one transaction, many rows
                while True:
                    if item is None:
                        done = True
                        break
                    batch.append(item)
                    left = deadline - time.monotonic()
                    if len(batch) >= BATCH or left <= 0:
                        break
                    item = self._queue.get(timeout=left)
            except queue.Empty:
                pass
            if batch:
                try:
                    self.write(batch)
                except Exception:  # the API must not go down with it; say so where operators look
                    log.exception("%s: could not write %d rows", self.name, len(batch))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)


class Recent:
    """Answers by id, the newest RECENT of them, safe across threads."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: str, answer: dict) -> None:
        with self._lock:
            self._items.setdefault(key, answer)
            while len(self._items) > RECENT:
                self._items.popitem(last=False)
