"""`kyt score` and `kyt rescreen` as the command line runs them: kyt scores, cases opens, kyt writes; then the report.

The layers hand over here (ui composes kyt, then cases): `score_and_report` is the one
place that does it, and `summary` prints what the run did.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cases.deadlines import DEFAULT_JURISDICTIONS
from ui.cli_common import err, fail, out
from ui.identity_cli import signed_in
from ui.messages import HANDLED

if TYPE_CHECKING:
    from kyt import batch


class BarProgress:
    """A progress bar on the terminal (stderr); nothing when stderr is not a terminal."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.bar = Progress(TextColumn("{task.description:<20}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=err, transient=True) if self.live else None
        self.task = None

    def __enter__(self) -> "BarProgress":
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()

    def stage(self, name: str, total: int | None = None) -> None:
        if self.bar:
            if self.task is not None:
                self.bar.update(self.task, completed=self.bar.tasks[self.task].total or 0)
            self.task = self.bar.add_task(name, total=total)

    def advance(self, amount: int) -> None:
        if self.bar and self.task is not None:
            self.bar.advance(self.task, amount)


STEPS = (("lookup", "decided lookup"), ("read", "reading"), ("index", "indexing"), ("score", "exposures"),
         ("decide", "decisions"), ("model", "address risk"), ("evidence", "evidence"), ("cases", "cases"),
         ("alerts", "alerts"), ("write", "writing"), ("record", "recording decided"))
"""The steps of a run as the `time:` line names them, in order (a step that did not run is left out)."""


def summary(result: batch.ScoreResult, seconds: float) -> None:
    """What the run did, on standard error: counts, time per step, engine, snapshot, warnings, files."""
    from kyt.decide import DECISIONS

    counts = result.decisions.counts()
    n = len(result.deposits)
    spent = result.seconds
    rate = n / spent["score"] if spent.get("score") else float("inf")
    err.print(f"scored {n:,} deposits in {seconds:.2f} s: " + ", ".join(f"{counts[d]:,} {d}" for d in reversed(DECISIONS)),
              highlight=False)
    steps = [f"{label} {spent[key]:.2f} s" + (f" ({rate:,.0f} deposits/s)" if key == "score" else "")
             for key, label in STEPS if key in spent]
    err.print("time: " + ", ".join(steps), highlight=False)
    err.print(f"engine: {result.engine}", highlight=False)
    err.print(f"snapshot {result.snapshot.id}: policy {result.snapshot.policy_name} {result.snapshot.policy_version}, "
              f"method {result.snapshot.method}, as of {result.snapshot.as_of}"
              + (f", address-risk model {result.snapshot.model}" if result.snapshot.model else ""), highlight=False)
    if result.risk is not None and len(result.risk.raised):
        err.print(f"the address-risk model sent {len(result.risk.raised):,} otherwise allowed deposits to review",
                  highlight=False)
    for warning in result.warnings:
        err.print(f"warning: {warning}", highlight=False)
    for path in result.written:
        err.print(f"wrote {path}", highlight=False)


def decision_table(result: batch.ScoreResult, limit: int = 60) -> None:
    """The first `limit` decisions as a table on standard output."""
    table = Table("deposit", "customer", "decision", "rules", "categories")
    for column in table.columns:
        column.overflow = "fold"
    for record in result.records(rows=range(min(limit, len(result.deposits)))):
        table.add_row(record.deposit_id, record.customer_id, record.decision, "\n".join(record.rule_ids),
                      "\n".join(record.categories))
    out.print(table)
    if len(result.deposits) > limit:
        out.print(f"... {len(result.deposits) - limit:,} more; use --out FILE for all of them")


def _load_calendars(jurisdictions: tuple[str, ...], year: int) -> threading.Thread:
    """Load the deadlines' holiday calendars in the background while the batch is scored (their first load imports
    every country's calendar)."""
    from cases.deadlines import load_calendars

    loading = threading.Thread(target=load_calendars, args=(jurisdictions, (year, year + 1)), daemon=True)
    loading.start()
    return loading


def score_and_report(request: batch.ScoreRequest, *, show_table: bool, db: str | None = None, cases: bool = True,
                      jurisdictions: tuple[str, ...] = DEFAULT_JURISDICTIONS, rescreen: bool = False,
                      rescore: bool = False, service_file: tuple[str, Path] | None = None) -> None:
    """Score (kyt), open the frozen deposits' cases unless told not to (cases), write the files; print the summary.

    With a case database, the deposits this snapshot already decided are skipped (unless
    `rescore`), and the ones scored now are recorded as decided once their files are written.
    """
    from cases.maintenance import annotate_cleared
    from cases.opening import open_run
    from cases.screenings import decided_under, record_decided
    from kyt import batch

    started = datetime.now()
    opened = noted = None
    store, actor = signed_in(db, None, job="rescreen" if rescreen else "batch",
                             service_file=service_file) if cases else (None, "")
    try:
        calendars = _load_calendars(jurisdictions, started.year) if store is not None else None
        clock = time.perf_counter()
        setup = batch.prepare(request)  # loaded once: the snapshot it names finds what is already decided
        decided = decided_under(store, setup.snapshot.id) if store is not None and not rescore else None
        looked_up = time.perf_counter() - clock
        with BarProgress() as progress:
            result = batch.score(replace(request, evidence="frozen" if cases else "none"), progress, setup=setup,
                                 decided=decided)
            if decided is not None:
                result.seconds["lookup"] = looked_up
            if store is not None:
                clock = time.perf_counter()
                progress.stage("opening cases")
                calendars.join()
                gc.freeze()  # the scored batch lives to the end: the collector need not scan it again and again
                now = datetime.now(timezone.utc)
                opened = open_run(store, result, now, jurisdictions=jurisdictions, actor=actor)
                if rescreen:
                    noted = annotate_cleared(store, result, now, actor=actor)
                result.seconds["alerts"] = opened.seconds["alerts"]
                result.seconds["cases"] = time.perf_counter() - clock - opened.seconds["alerts"]
            if len(result.deposits) or not result.skipped:  # nothing new: the files of the last run stay
                batch.write(request, result, progress=progress, case_ids=opened.case_ids if opened else None)
            if store is not None:
                clock = time.perf_counter()
                record_decided(store, result, now=datetime.now(timezone.utc), actor=actor)
                result.seconds["record"] = time.perf_counter() - clock
    except HANDLED as error:
        fail(error)
    if show_table:
        decision_table(result)
    summary(result, (datetime.now() - started).total_seconds())
    if result.skipped:
        err.print(f"skipped {result.skipped:,} deposits already decided under snapshot {result.snapshot.id} "
                  "(--rescore scores them again)" + ("" if len(result.deposits) else "; no file was written"),
                  highlight=False)
    if opened is not None:
        err.print(f"cases in {store.shown_url}: {opened.opened:,} opened, {opened.existing:,} already open; "
                  f"{opened.alerts:,} review alerts added", highlight=False)
    if noted is not None:
        err.print(f"no longer frozen: {len(noted.annotated):,} open cases got a note"
                  + (f" (cases {', '.join(map(str, noted.annotated[:20]))})" if noted.annotated else "")
                  + (f"; {noted.already_noted:,} were noted before" if noted.already_noted else ""), highlight=False)
