"""Ctrl-C for long-running commands: the first asks them to stop at the next safe point, a second stops at once.

A KeyboardInterrupt raised in the middle of a write, or of a read that worker threads
share, can leave a lock held; a flag the command checks between steps cannot.
"""

from __future__ import annotations

import signal
import threading
from typing import Callable


def stop_on_interrupt(say: Callable[[], None]) -> threading.Event:
    """An event set by the first Ctrl-C (after `say()` tells the user so); a second raises KeyboardInterrupt."""
    stop = threading.Event()

    def interrupted(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        say()

    signal.signal(signal.SIGINT, interrupted)
    return stop


def restore() -> None:
    """Ctrl-C raises KeyboardInterrupt again."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
