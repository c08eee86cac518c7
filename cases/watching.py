"""`kyt watch`: follow a node, score each new deposit into the platform's addresses, open its case.

A watch owns one folder: the transfers and deposits files that `graph.ingestion` keeps
(with its checkpoint) and `watch.json`, how many deposit rows (and bytes) have been scored,
for which chain and first block. Each cycle ingests the final blocks that came since the
last one (a bounded number at a time, so a watch that starts far behind scores as it
catches up), then scores the deposit rows past that count against every transfer ingested
so far, opens cases and alerts (idempotent: a deposit already opened is skipped), and only
then moves the count on. A reorganisation that is about to cut scored rows moves the count
back first (and saves it, with the ids of the deposits cut), so the new chain's rows are
scored; cases already opened stay. After the cycle's scoring, each open case whose deposit
the new chain does not hold gets a note (and an audit event), and a further note if the
deposit comes back later. Killed anywhere, the next watch goes on from the checkpoint and the
count: no deposit is skipped or opened twice, and no case noted twice for one change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from cases.db import Store
from cases.deadlines import DEFAULT_JURISDICTIONS
from cases.errors import InvalidRequest
from cases.maintenance import annotate_reorganised
from graph.outputs import replace_json
from cases.opening import open_run
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
    noted_withdrawn: int = 0
    """Open cases noted: their deposit is no longer on the chain."""
    noted_restored: int = 0
    """Open cases noted: their deposit is back on the chain."""
    warnings: tuple[str, ...] = ()


def _deposit_rows(path: Path, start: int) -> list[tuple[str, int, int]]:
    """(deposit id, block number, offset after the row) of each row from byte `start` of a deposits file the
    ingestion wrote (the header line, at 0, is not a row).

    No field of such a file holds a comma or a line break, so rows are lines and cells are split on commas.
    """
    with path.open("rb") as handle:
        handle.seek(start)
        data = handle.read()
    rows, offset = [], start
    for line in data.splitlines(keepends=True):
        offset += len(line)
        cells = line.decode("utf-8").split(",")
        if len(cells) > 4 and cells[0] != "deposit_id":
            rows.append((cells[0], int(cells[4]), offset))
    return rows


class Watch:
    """One folder's ingestion, scoring and case opening, a cycle at a time."""

    def __init__(self, ingestion: Ingestion, folder: Path, store: Store, *, request: batch.ScoreRequest,
                 jurisdictions: tuple[str, ...] = DEFAULT_JURISDICTIONS, actor: str = "system:watch") -> None:
        self.ingestion, self.store, self.request, self.actor = ingestion, store, request, actor
        self.jurisdictions = jurisdictions
        self.state_path = folder / "watch.json"
        self.withdrawn = 0
        self.identity = {"chain_id": ingestion.state.chain_id, "first_block": ingestion.state.first_block}
        saved = json.loads(self.state_path.read_text()) if self.state_path.exists() else {}
        if saved and {k: saved.get(k) for k in self.identity} != self.identity:
            raise InvalidRequest(f"{self.state_path} belongs to another watch (chain {saved.get('chain_id')}, "
                                 f"first block {saved.get('first_block')}); move it away or use another folder")
        self.scored, self.scored_bytes = saved.get("scored", 0), saved.get("scored_bytes", 0)
        self.cut: dict[str, int] = saved.get("cut", {})
        """Deposit rows a reorganisation removed, not yet compared with the new chain (id -> old block)."""
        self.due: dict[str, dict[str, int]] = saved.get("due", {"withdrawn": {}, "restored": {}})
        """Notes decided and saved with the count that decided them, not yet written to the cases."""
        self.gone: dict[str, int] = saved.get("gone", {})
        """Deposits with an open case noted as off the chain, until they come back."""
        if self.scored_bytes > request.deposits.stat().st_size:
            raise InvalidRequest(f"{self.state_path} counts more scored deposits than {request.deposits} holds: "
                                 f"the files were replaced; move {self.state_path.name} away to score them all again")
        ingestion.on_rewind = self._rewound

    def _save(self) -> None:
        replace_json(self.state_path, self.identity | {"scored": self.scored, "scored_bytes": self.scored_bytes,
                                                       "cut": self.cut, "due": self.due, "gone": self.gone})

    def _rewound(self, offsets: list[int]) -> None:
        """A repair is about to cut the deposits file to offsets[1]: remember the rows cut, count back the scored ones.

        Rows past the count are remembered too: a watch killed after opening their cases but
        before counting them has cases for them.
        """
        cut = _deposit_rows(self.request.deposits, offsets[1])
        if offsets[1] < self.scored_bytes:
            scored = sum(1 for _, _, end in cut if end <= self.scored_bytes)
            self.withdrawn += scored
            self.scored, self.scored_bytes = self.scored - scored, offsets[1]
        if cut or self.withdrawn:
            self.cut |= {deposit: block for deposit, block, _ in cut}
            self._save()

    def cycle(self, now: Callable[[], datetime], progress: Callable[[Summary], None] | None = None,
              stop: Callable[[], bool] | None = None) -> Cycle:
        """Ingest up to CATCH_UP final blocks, then score and open cases for the deposits they brought.

        When `stop()` turns true the ingestion ends after its batch under way and nothing is
        scored: the next cycle, or the next watch, scores those deposits.
        """
        summary = self.ingestion.run(self.ingestion.state.next_block + CATCH_UP - 1, progress, keep_open=True,
                                     stop=stop)
        done = Cycle(summary.blocks, summary.transfers, summary.reorgs, self.ingestion.state.next_block,
                     withdrawn=self.withdrawn)
        self.withdrawn = 0
        new = _deposit_rows(self.request.deposits, self.scored_bytes)
        if stop is not None and stop():
            return done
        when = now()
        if new or self.cut or self.due["withdrawn"] or self.due["restored"]:
            if new:
                self._score(done, when)
                self.scored, self.scored_bytes = self.scored + len(new), new[-1][2]
            self._decide({deposit: block for deposit, block, _ in new})
            self._save()  # the count and the notes it decides, at once
            self._note(done, when)
        return done

    def _score(self, done: Cycle, when: datetime) -> None:
        """Score the deposit rows past the count, as of `when`, and open their cases and alerts."""
        request = replace(self.request, as_of=int(when.timestamp() * 1_000_000), first_row=self.scored)
        result = batch.score(request)
        opened = open_run(self.store, result, when, jurisdictions=self.jurisdictions, skip_invalid=True,
                          actor=self.actor)
        batch.write(request, result, case_ids=opened.case_ids)
        done.deposits, done.decisions = len(result.deposits), result.decisions.counts()
        done.opened, done.alerts = opened.opened, opened.alerts
        done.warnings = tuple(result.warnings) + tuple(
            f"deposit {deposit_id} was scored but cannot be kept in a case or alert: {why}"
            for deposit_id, why in opened.skipped)

    def _decide(self, arrived: dict[str, int]) -> None:
        """Given the rows scored now, which cut deposits the new chain lacks, and which gone ones are back."""
        due = self.due
        due["withdrawn"] = {d: b for d, b in (due["withdrawn"] | self.cut).items() if d not in arrived}
        due["restored"] |= {d: arrived[d] for d in self.gone if d in arrived}
        self.cut = {}

    def _note(self, done: Cycle, now: datetime) -> None:
        """Write the notes due to the cases (a change already noted is skipped: a rerun after a kill is safe)."""
        withdrawn, restored = self.due["withdrawn"], self.due["restored"]
        if not withdrawn and not restored:
            return
        noted = annotate_reorganised(self.store, withdrawn, restored, now=now, actor=self.actor)
        done.noted_withdrawn, done.noted_restored = len(noted.withdrawn), len(noted.restored)
        self.gone = {d: b for d, b in self.gone.items() if d not in restored} | {
            d: withdrawn[d] for d in noted.open_withdrawn}
        self.due = {"withdrawn": {}, "restored": {}}
        self._save()

    def close(self) -> None:
        """Stop the ingestion's background reader."""
        self.ingestion.close()
