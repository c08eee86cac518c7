"""The log of answered calls: queued by the request threads, written in small batches by one thread."""

from __future__ import annotations

import logging
import queue
import threading

from cases.api_keys import log_calls
from cases.db import Store

FLUSH_SECONDS = 0.5
BATCH = 500
log = logging.getLogger("kyt.serve")


class CallLog:
    """Calls waiting to be written; `close` writes what is left."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queue: queue.Queue[dict | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="api-call-log", daemon=True)
        self._thread.start()

    def add(self, call: dict) -> None:
        self._queue.put(call)

    def _run(self) -> None:
        done = False
        while not done:
            batch: list[dict] = []
            try:
                item = self._queue.get(timeout=FLUSH_SECONDS)
                while True:
                    if item is None:
                        done = True
                        break
                    batch.append(item)
                    if len(batch) >= BATCH:
                        break
                    item = self._queue.get_nowait()
            except queue.Empty:
                pass
            if batch:
                try:
                    log_calls(self.store, batch)
                except Exception:  # the log must not take the API down; say so where operators look
                    log.exception("could not write %d API call records", len(batch))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
