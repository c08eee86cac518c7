"""`kyt watch`: follow the chain head, score new deposits and open their cases, until Ctrl-C."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from cases.deadlines import DEFAULT_JURISDICTIONS
from graph.redaction import redacted_url
from ui.identity_cli import signed_in
from ui.interrupts import restore, stop_on_interrupt
from ui.messages import HANDLED, render

err = Console(stderr=True, soft_wrap=True)


class _Line:
    """The progress line: rewritten in place on a terminal, one line per cycle with news otherwise."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.deposits = self.opened = self.alerts = self.frozen = 0

    def show(self, cycle, lag: int | None) -> None:
        self.deposits += cycle.deposits
        self.opened += cycle.opened
        self.alerts += cycle.alerts
        self.frozen += (cycle.decisions or {}).get("freeze", 0)
        behind = "" if lag is None else f" ({lag:,} behind the final head)" if lag > 0 else " (at the final head)"
        text = (f"block {cycle.next_block - 1:,}{behind} · {self.deposits:,} deposits scored, {self.frozen:,} frozen · "
                f"{self.opened:,} cases opened, {self.alerts:,} review alerts")
        if self.live:
            err.print("\r" + text, end="", highlight=False)
        elif cycle.blocks or cycle.deposits or cycle.withdrawn:
            err.print(text, highlight=False)
        for warning in cycle.warnings:
            err.print(("\n" if self.live else "") + f"warning: {warning}", highlight=False)
        if cycle.withdrawn:
            err.print(("\n" if self.live else "") + f"a reorganisation replaced {cycle.withdrawn:,} scored deposits; "
                      "they are scored again as the new chain has them (cases already opened stay)", highlight=False)
        if cycle.noted_withdrawn or cycle.noted_restored:
            err.print(("\n" if self.live else "") + f"{cycle.noted_withdrawn:,} open cases noted: deposit no longer on "
                      f"the chain; {cycle.noted_restored:,} noted: deposit back on the chain", highlight=False)


def watch_command(
    rpc: str = typer.Option(..., help="The node's JSON-RPC URL, e.g. http://127.0.0.1:8545."),
    deposit_addresses: Path = typer.Option(..., help="The platform's deposit addresses (CSV: address, customer_id)."),
    flagged: Path = typer.Option(..., help="Flagged wallets file (CSV or Parquet)."),
    folder: Path = typer.Option(Path("watch"), "--dir", help="Folder for the transfers, deposits and checkpoints."),
    from_block: Optional[int] = typer.Option(None, min=0, help="First block on the first run (default: the final head)."),
    services: Optional[Path] = typer.Option(None, help="Services file: indirect exposure stops at these addresses."),
    rules: Optional[Path] = typer.Option(None, help="Rules file (TOML); default: the shipped policy."),
    prices: Optional[Path] = typer.Option(None, help="Price table CSV (asset, day, price) for usd_value."),
    confirmations: int = typer.Option(12, min=0, help="Blocks are final this many blocks below the head."),
    ws: Optional[str] = typer.Option(None, "--ws", help="The node's WebSocket URL (e.g. ws://127.0.0.1:8545), or "
                                                         "`auto` for --rpc's with ws://: each new head wakes the "
                                                         "watch at once (it reconnects if the socket drops); "
                                                         "without it the watch polls."),
    poll: float = typer.Option(4.0, min=0.05, help="Seconds between looks at the head once caught up (with --ws: "
                                                   "only while the socket is down)."),
    chain_id: Optional[int] = typer.Option(None, help="Refuse a node on any other chain."),
    db: Optional[str] = typer.Option(None, "--db", help="Case database URL (default: $DATABASE_URL, else sqlite:///freezecase.db)."),
    jurisdiction: list[str] = typer.Option(list(DEFAULT_JURISDICTIONS), help="Jurisdictions of new cases (their deadlines)."),
    batch_size: int = typer.Option(100, "--batch", min=1, max=2000, help="Blocks per request batch (lower it if the node refuses "
                                                        "answers as too large)."),
    traces: bool = typer.Option(False, "--traces", help="Also ingest internal ETH transfers (calls inside "
                                                        "transactions), from the node's trace_block."),
    model: Optional[Path] = typer.Option(None, "--model", help="An address-risk model (kyt model train): senders it "
                                                            "finds risky go to review when no rule matched, as with "
                                                            "kyt score --model; never a freeze."),
    cycles: Optional[int] = typer.Option(None, min=1, hidden=True, help="Stop after this many cycles (tests)."),
) -> None:
    """Follow the chain: ingest final blocks, score each deposit into the platform's addresses as it
    arrives, open cases for freezes and alerts for reviews; Ctrl-C stops cleanly and the next run resumes."""
    from cases.watching import Watch
    from graph import readers
    from graph.chain import Node, NodeUnavailable
    from graph.chains import chain_for_id
    from graph.heads import HeadSubscription, websocket_url
    from graph.ingest_inputs import load_deposit_addresses, load_prices
    from graph.ingestion import Ingestion
    from kyt import batch
    from kyt.rules import load_policy

    line = _Line()
    watch = heads = None
    store, actor = signed_in(db, None, job="watch")  # before anything starts
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # every input is checked now, not when the first deposit arrives hours later
        readers.read_flagged(flagged)
        if services:
            readers.read_services(services)
        if rules:
            load_policy(rules)
        if model is not None:
            from kyt import risk, sender_risk
            sender_risk.checked(risk.load(model))
        node = Node(rpc)
        addresses = load_deposit_addresses(deposit_addresses)
        table = load_prices(prices) if prices else None
        if table is None:
            err.print("note: no --prices, so every deposit's USD value is unknown: no rule with a dollar threshold "
                      "can freeze, and exposed deposits go to review", highlight=False)
        transfers, deposits = folder / "transfers.csv", folder / "deposits.csv"
        checkpoint = folder / "transfers.csv.checkpoint.json"
        start = from_block if from_block is not None else max(0, node.head() - confirmations)
        if from_block is None and not (folder / "transfers.csv.checkpoint.json").exists():
            err.print(f"note: starting at block {start:,} (the final head); funding before it is not seen, so "
                      "indirect exposure counts only what this watch ingests: give --from-block to look further back",
                      highlight=False)
        ingestion = Ingestion(node, transfers, checkpoint, from_block=start, confirmations=confirmations,
                              batch=batch_size, expected_chain=chain_id, prices=table, deposits_out=deposits,
                              deposit_addresses=addresses, traces=traces)
        request = batch.ScoreRequest(deposits, transfers, flagged, 0, services, rules=rules, model=model,
                                     engine="memory" if model is not None else "auto")
        watch = Watch(ingestion, folder, store, request=request, jurisdictions=tuple(jurisdiction), actor=actor)
        chain = ingestion.state.chain_id
        if ws is not None:
            heads = HeadSubscription(websocket_url(rpc) if ws == "auto" else ws)
        how = f"new heads from {redacted_url(heads.url)}" if heads else f"polling every {poll:g} s"
        err.print(f"watching {redacted_url(rpc)} ({chain_for_id(chain)}, chain {chain}) from block "
                  f"{ingestion.state.next_block:,} into {folder} ({len(addresses):,} deposit addresses, "
                  f"{confirmations} confirmations, {how}); Ctrl-C to stop", highlight=False)
        done, failures = 0, 0
        stop = stop_on_interrupt(lambda: err.print(("\n" if line.live else "") + "stopping after this cycle "
                                                   "(Ctrl-C again to stop at once)", highlight=False))
        while not stop.is_set() and (cycles is None or done < cycles):
            try:
                cycle = watch.cycle(lambda: datetime.now(timezone.utc), stop=stop.is_set)
                lag = ingestion.final_block() - (cycle.next_block - 1)
                failures = 0
            except NodeUnavailable as error:  # a long watch outlives a node's bad minutes
                failures += 1
                pause = min(poll * 2 ** failures, 300.0)
                err.print(("\n" if line.live else "") + f"{render(error)}; trying again in {pause:.0f} s",
                          markup=False, highlight=False)
                stop.wait(pause)
                continue
            done += 1
            line.show(cycle, lag)
            if lag <= 0 and (cycles is None or done < cycles):
                if heads is None:
                    stop.wait(poll)
                else:  # the subscription only wakes the loop: the checkpoint says what comes next
                    heads.wait(poll, stop)
        if stop.is_set():
            raise KeyboardInterrupt
    except HANDLED as error:
        err.print(("\n" if line.live else "") + render(error), markup=False, highlight=False)
        raise typer.Exit(1)
    except OSError as error:
        err.print(f"error: {error.filename or ''}: {error.strerror or error}", markup=False, highlight=False)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        err.print(("\n" if line.live else "") + f"stopped after {line.deposits:,} deposits scored; the next watch "
                  "resumes after the last finished block", highlight=False)
        raise typer.Exit(130)
    finally:
        restore()
        if heads is not None:
            heads.close()
        if watch is not None:
            watch.close()
    if line.live:
        err.print()
