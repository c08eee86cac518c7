"""`kyt ingest`: transfers from an EVM JSON-RPC node into a transfers file (resumable)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ui.interrupts import restore, stop_on_interrupt
from ui.messages import HANDLED, render

err = Console(stderr=True, soft_wrap=True)


def ingest_command(
    rpc: str = typer.Option(..., help="The node's JSON-RPC URL, e.g. http://127.0.0.1:8545 (any EVM network: "
                                      "the chain is named from its chain id)."),
    from_block: int = typer.Option(..., min=0, help="First block (used when there is no checkpoint yet; past the "
                                                    "node's head it is an error)."),
    to_block: Optional[int] = typer.Option(None, min=0, help="Last block (default: the newest final block)."),
    out: Optional[Path] = typer.Option(None, help="Transfers CSV to write (appended to across runs)."),
    db: Optional[str] = typer.Option(None, "--db", help="Write into the case database at this URL instead "
                                                        "(tables chain_transfers and chain_deposits)."),
    checkpoint: Optional[Path] = typer.Option(None, help="Checkpoint file (default: OUT.checkpoint.json; "
                                                         "needed with --db)."),
    confirmations: int = typer.Option(12, min=0, help="Blocks are final this many blocks below the head."),
    batch: int = typer.Option(100, min=1, max=2000, help="Blocks per batch (one checkpoint per batch)."),
    workers: int = typer.Option(4, min=1, max=32, help="Requests for a batch's blocks sent at once."),
    chain_id: Optional[int] = typer.Option(None, help="Refuse a node on any other chain."),
    prices: Optional[Path] = typer.Option(None, help="Price table CSV (asset, day, price) for usd_value."),
    deposit_addresses: Optional[Path] = typer.Option(None, help="The platform's deposit addresses (address, customer_id)."),
    deposits_out: Optional[Path] = typer.Option(None, help="Deposits CSV: transfers into those addresses."),
    traces: bool = typer.Option(False, "--traces", help="Also ingest internal ETH transfers (calls inside "
                                                        "transactions), from the node's trace_block."),
) -> None:
    """Ingest native ETH transfers, ERC-20 Transfer logs (and internal transfers with --traces) into a file or the
    case database; an interrupted run resumes with no gap and no duplicate."""
    from graph.chain import Node
    from graph.chains import chain_for_id
    from graph.ingest_inputs import load_deposit_addresses, load_prices
    from graph.ingestion import Ingestion

    if (out is None) == (db is None):
        raise typer.BadParameter("write to --out or --db, not both (and one of them)", param_hint="--out")
    if db is not None and checkpoint is None:
        raise typer.BadParameter("give --checkpoint with --db: where this ingestion keeps its place",
                                 param_hint="--checkpoint")
    if db is None and (deposit_addresses is None) != (deposits_out is None):
        raise typer.BadParameter("give --deposit-addresses and --deposits-out together", param_hint="--deposits-out")
    if db is not None and deposits_out is not None:
        raise typer.BadParameter("with --db the deposits go to the database: drop --deposits-out",
                                 param_hint="--deposits-out")

    live = sys.stderr.isatty()

    def show(summary) -> None:
        if live:
            err.print(f"\rblock {summary.last_block:,}: {summary.blocks:,} blocks, {summary.transfers:,} transfers",
                      end="", highlight=False)

    try:
        table = load_prices(prices) if prices else None
        addresses = load_deposit_addresses(deposit_addresses) if deposit_addresses else None
        target, deposits_target = out, deposits_out
        if db is not None:
            from cases.chain_tables import TableOutput
            from ui.identity_cli import signed_in

            store, _ = signed_in(db, None, job="ingest")  # a database with users takes a service account's rows only
            target = TableOutput(store, "transfers")
            deposits_target = TableOutput(store, "deposits") if addresses is not None else None
        job = Ingestion(Node(rpc), target, checkpoint or out.with_name(out.name + ".checkpoint.json"),
                        from_block=from_block, confirmations=confirmations, batch=batch, expected_chain=chain_id,
                        prices=table, deposits_out=deposits_target, deposit_addresses=addresses, workers=workers,
                        traces=traces)
        stop = stop_on_interrupt(lambda: err.print("\nstopping after this batch (Ctrl-C again to stop at once)",
                                                   highlight=False))
        summary = job.run(to_block, show, stop=stop.is_set)
        if stop.is_set():
            raise KeyboardInterrupt
    except HANDLED as error:
        err.print(render(error), markup=False, highlight=False)
        raise typer.Exit(1)
    except OSError as error:  # a missing input, an output folder that does not exist, a full disk
        err.print(f"error: {error.filename or ''}: {error.strerror or error}", markup=False, highlight=False)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        err.print("\nstopped; the next run resumes after the last finished batch", highlight=False)
        raise typer.Exit(130)
    finally:
        restore()
    if live:
        err.print()
    reorgs = f"; {summary.reorgs} reorganisation(s) repaired" if summary.reorgs else ""
    where = out if db is None else f"the database ({job.outputs[0].name})"
    chain = job.state.chain or chain_for_id(job.state.chain_id)
    err.print(f"ingested {summary.blocks:,} blocks, {summary.transfers:,} transfers of {chain} (chain "
              f"{job.state.chain_id}) into {where}{reorgs}; next block {job.state.next_block:,}", highlight=False)


def export_chain_command(
    out: Path = typer.Option(..., help="Transfers CSV to write, for `kyt score --transfers`."),
    deposits_out: Optional[Path] = typer.Option(None, help="Deposits CSV to write, for `kyt score`."),
    db: Optional[str] = typer.Option(None, "--db", help="Case database URL (default: $DATABASE_URL, else "
                                                        "sqlite:///freezecase.db)."),
) -> None:
    """Write what `kyt ingest --db` ingested as files in the transfers and deposits formats."""
    from cases.chain_tables import export
    from cases.db import open_store

    try:
        store = open_store(db)
        count = export(store, "transfers", out)
        err.print(f"wrote {count:,} transfers to {out}", highlight=False)
        if deposits_out is not None:
            count = export(store, "deposits", deposits_out)
            err.print(f"wrote {count:,} deposits to {deposits_out}", highlight=False)
    except HANDLED as error:
        err.print(render(error), markup=False, highlight=False)
        raise typer.Exit(1)
    except OSError as error:
        err.print(f"error: {error.filename or ''}: {error.strerror or error}", markup=False, highlight=False)
        raise typer.Exit(1)
