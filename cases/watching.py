"""`kyt watch`: follow a node, score each new deposit into the platform's addresses, open its case.

A watch owns one folder: the transfers and deposits files that `graph.ingestion` keeps
(with its checkpoint) and `watch.json`, how many deposit rows (and bytes) have been scored.
A reorganisation that cuts scored rows moves the count back, so replaced rows are scored
again (their cases, opened under the same deposit id, stay). Each cycle
ingests the final blocks that came since the last one (a bounded number at a time, so a
watch that starts far behind scores as it catches up), then scores the deposit rows past
that count against every transfer ingested so far, opens cases and alerts (idempotent: a
deposit already opened is skipped), and only then moves the count on. Killed anywhere, the
next watch goes on from the checkpoint and the count: no deposit is skipped or opened twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from cases.db import Store
from cases.deadlines import DEFAULT_JURISDICTIONS
from cases.opening import open_cases
from graph.ingestion import Ingestion, Summary
from kyt import batch

CATCH_UP = 1_000
"""At most this many blocks are ingested per cycle before the new deposits are scored."""


@dataclass
class Cycle:
    """What one cycle did."""

    blocks: int = 0
    transfers: int = 0
    reorgs: int = 0
    next_block: int = 0
    deposits: int = 0
    """New deposit rows scored."""
    decisions: dict[str, int] | None = None
    opened: int = 0
    alerts: int = 0
    withdrawn: int = 0
    """Deposit rows already scored that a reorganisation removed (their cases stay)."""
    warnings: tuple[str, ...] = ()


def _rows(path: Path, upto: int | None = None) -> tuple[int, int]:
    """(data rows, bytes) of a deposits file the ingestion wrote, or of its first `upto` bytes.

    No field of such a file holds a line break, so rows are lines after the header.
    """
    with path.open("rb") as handle:
        data = handle.read() if upto is None else handle.read(upto)
    return max(0, data.count(b"\n") - 1), len(data)


class Watch:
    """One folder's ingestion, scoring and case opening, a cycle at a time."""

    def __init__(self, ingestion: Ingestion, folder: Path, store: Store, request: batch.ScoreRequest,
                 jurisdictions: tuple[str, ...] = DEFAULT_JURISDICTIONS) -> None:
        self.ingestion, self.store, self.request = ingestion, store, request
        self.jurisdictions = jurisdictions
        self.state_path = folder / "watch.json"
        saved = json.loads(self.state_path.read_text()) if self.state_path.exists() else {}
        self.scored, self.scored_bytes = saved.get("scored", 0), saved.get("scored_bytes", 0)

    def _save(self) -> None:
        partial = self.state_path.with_name(self.state_path.name + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            json.dump({"scored": self.scored, "scored_bytes": self.scored_bytes}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(self.state_path)

    def cycle(self, now: Callable[[], datetime], progress: Callable[[Summary], None] | None = None) -> Cycle:
        """Ingest up to CATCH_UP final blocks, then score and open cases for the deposits they brought."""
        summary = self.ingestion.run(self.ingestion.state.next_block + CATCH_UP - 1, progress, keep_open=True)
        done = Cycle(summary.blocks, summary.transfers, summary.reorgs, self.ingestion.state.next_block)
        cut, self.ingestion.low_water = self.ingestion.low_water, None
        if cut is not None and cut[1] < self.scored_bytes:  # a reorganisation removed scored deposits
            kept, self.scored_bytes = _rows(self.request.deposits, cut[1])
            done.withdrawn, self.scored = self.scored - kept, kept
            self._save()
        rows, size = _rows(self.request.deposits)
        if rows == self.scored:
            return done
        when = now()
        request = replace(self.request, as_of=int(when.timestamp() * 1_000_000), first_row=self.scored)
        opened = []

        def open_them(result: batch.ScoreResult) -> dict[int, int]:
            opened.append(open_cases(self.store, result, when, jurisdictions=self.jurisdictions))
            return opened[0].case_ids

        result = batch.run(request, open_cases=open_them)
        done.deposits, done.decisions, done.warnings = len(result.deposits), result.decisions.counts(), tuple(result.warnings)
        done.opened, done.alerts = opened[0].opened, opened[0].alerts
        self.scored, self.scored_bytes = rows, size
        self._save()
        return done

    def close(self) -> None:
        """Stop the ingestion's background reader."""
        self.ingestion.close()
