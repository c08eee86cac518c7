"""`kyt import ethereum-etl`, `bitcoin-etl` and `tron`: chain exports converted into transfers files."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ui.messages import HANDLED, render

err = Console(stderr=True, soft_wrap=True)
import_app = typer.Typer(no_args_is_help=True, help="Import chain history exported by other tools.")


def _stop_on_terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # `kill` cleans up like Ctrl-C: the partial output is removed


def _imported(work, prices: Optional[Path]):
    """`work(progress, prices table)` run with a progress bar; a bad input, an OS error or an interruption is said
    (nothing was written) and exits 1 or 130."""
    from graph.ingest_inputs import load_prices
    from ui.scoring import BarProgress

    previous = signal.signal(signal.SIGTERM, _stop_on_terminate)
    try:
        table = load_prices(prices) if prices else None
        with BarProgress() as progress:
            return work(progress, table)
    except HANDLED as error:
        err.print(render(error), markup=False, highlight=False)
        raise typer.Exit(1)
    except OSError as error:  # an unreadable input, a full disk
        err.print(f"error: {error.filename or ''}: {error.strerror or error}; nothing was written", markup=False,
                  highlight=False)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        err.print("\nstopped; nothing was written", highlight=False)
        raise typer.Exit(130)
    finally:
        signal.signal(signal.SIGTERM, previous)


@import_app.command("ethereum-etl")
def ethereum_etl_command(
    transactions: Optional[Path] = typer.Option(None, help="transactions export (CSV or Parquet file, or a "
                                                           "directory of them)."),
    token_transfers: Optional[Path] = typer.Option(None, help="token_transfers export (needs --tokens)."),
    tokens: Optional[Path] = typer.Option(None, help="tokens export: each token's decimals."),
    receipts: Optional[Path] = typer.Option(None, help="receipts export: drops failed transactions and pays "
                                                       "contract creations to the created contract."),
    blocks: Optional[Path] = typer.Option(None, help="blocks export: block times (else the transactions' "
                                                     "block_timestamp)."),
    prices: Optional[Path] = typer.Option(None, help="Price table CSV (asset, day, price) for usd_value."),
    out: Path = typer.Option(..., help="A .parquet file, or a directory for a dataset partitioned by block range."),
    chain: str = typer.Option("ethereum", help="The chain column's value."),
) -> None:
    """Convert an ethereum-etl export into transfers (native ETH and ERC-20), the rows `kyt ingest` writes for
    the same chain; nothing is written if any line is bad."""
    from graph.etl_import import Export, import_export

    export = Export(transactions=transactions, token_transfers=token_transfers, tokens=tokens, receipts=receipts,
                    blocks=blocks)
    summary = _imported(lambda progress, table: import_export(export, out, chain=chain, prices=table,
                                                               progress=progress), prices)
    for line in summary_lines(summary, out):
        err.print(line, highlight=False)


def summary_lines(summary, out: Path) -> list[str]:
    """What the import read, wrote and left out, one sentence a line."""
    c = summary.counts
    read = ", ".join(f"{n:,} {kind.replace('_', ' ')}" for kind, n in summary.rows_read.items())
    span = f" (blocks {summary.first_block:,} to {summary.last_block:,})" if summary.first_block is not None else ""
    lines = [f"read {read}",
             f"wrote {summary.transfers:,} transfers{span} to {out}: {c.native:,} native, {c.token:,} token; "
             f"{c.unpriced:,} without a price (empty usd_value)"]
    left = [(c.zero_value, "zero-value transactions"), (c.failed, "failed transactions"),
            (c.token_zero_value, "zero-value token transfers"), (c.token_failed, "token transfers of failed "
                                                                                 "transactions")]
    skipped = ", ".join(f"{n:,} {what}" for n, what in left if n)
    if skipped:
        lines.append(f"left out: {skipped}")
    if c.creations_without_receipt:
        lines.append(f"skipped {c.creations_without_receipt:,} contract creations with a value: without --receipts "
                     f"the created contract is unknown")
    if c.token_without_decimals:
        lines.append(f"skipped {c.token_without_decimals:,} token transfers of tokens without decimals in --tokens")
    return lines


@import_app.command("bitcoin-etl")
def bitcoin_etl_command(
    transactions: Path = typer.Option(..., help="bitcoin-etl transactions export, enriched (JSON lines, .json or "
                                                ".jsonl, optionally .gz, or a directory of them)."),
    prices: Optional[Path] = typer.Option(None, help="Price table CSV (asset, day, price) for usd_value; asset BTC."),
    out: Path = typer.Option(..., help="A .parquet or .csv (.csv.gz) file, or a directory for a dataset "
                                       "partitioned by block range."),
) -> None:
    """Convert a bitcoin-etl transactions export into transfers (chain bitcoin, asset BTC): each input address pays
    each output address its share; nothing is written if any line is bad."""
    from graph.bitcoin_import import import_transactions

    summary = _imported(lambda progress, table: import_transactions(transactions, out, prices=table,
                                                                    progress=progress), prices)
    for line in bitcoin_summary_lines(summary, out):
        err.print(line, highlight=False)


def bitcoin_summary_lines(summary, out: Path) -> list[str]:
    """What a bitcoin-etl import read, wrote and could not attribute, one sentence a line."""
    span = f" (blocks {summary.first_block:,} to {summary.last_block:,})" if summary.first_block is not None else ""
    lines = [f"read {summary.transactions:,} transactions ({summary.coinbase:,} coinbase: no transfers) from "
             f"{summary.files_read:,} file{'s' if summary.files_read != 1 else ''}",
             f"wrote {summary.transfers:,} transfers{span} to {out}; {summary.unpriced:,} without a price "
             f"(empty usd_value)"]
    dropped = [(summary.undecodable_outputs, "outputs without an address (OP_RETURN, non-standard)"),
               (summary.multisig_outputs, "bare multisig outputs (several addresses)"),
               (summary.unattributed_inputs, "inputs without a single address (their share is not written)")]
    said = ", ".join(f"{n:,} {what}" for n, what in dropped if n)
    if said:
        lines.append(f"dropped: {said}")
    return lines


@import_app.command("tron")
def tron_command(
    trx: Optional[Path] = typer.Option(None, help="TronGrid account transactions (GET /v1/accounts/ADDRESS/"
                                                  "transactions): a page or JSON lines, .json or .jsonl, optionally "
                                                  ".gz, or a directory of them."),
    trc20: Optional[Path] = typer.Option(None, help="TronGrid TRC-20 Transfer events (GET /v1/contracts/TOKEN/"
                                                    "events?event_name=Transfer), in the same forms."),
    tokens: Optional[Path] = typer.Option(None, help="Tokens CSV (address, decimals); USDT-TRC20 is known without "
                                                     "it."),
    prices: Optional[Path] = typer.Option(None, help="Price table CSV (asset, day, price) for usd_value; asset TRX, "
                                                     "or a token's T... address."),
    out: Path = typer.Option(..., help="A .parquet or .csv (.csv.gz) file, or a directory for a dataset "
                                       "partitioned by block range."),
) -> None:
    """Convert TronGrid exports into transfers (chain tron): TRX transfers and TRC-20 Transfer events, each item
    once however many pages hold it; nothing is written if any item is bad."""
    from graph.tron_import import import_tron, load_tokens

    summary = _imported(lambda progress, table: import_tron(out, trx=trx, trc20=trc20, prices=table, progress=progress,
                                                            tokens=load_tokens(tokens) if tokens else None), prices)
    for line in tron_summary_lines(summary, out):
        err.print(line, highlight=False)


TRX_LEFT_OUT = {"failed": "failed", "zero": "zero-amount", "internal": "internal (not read)"}
EVENT_LEFT_OUT = {"zero": "zero-value", "no decimals": "of tokens without decimals (give --tokens)",
                  "other event": "other than Transfer", "unconfirmed": "unconfirmed"}


def tron_summary_lines(summary, out: Path) -> list[str]:
    """What a Tron import read, wrote and left out, one sentence a line."""
    span = f" (blocks {summary.first_block:,} to {summary.last_block:,})" if summary.first_block is not None else ""
    files = f"{summary.files_read:,} file{'s' if summary.files_read != 1 else ''}"
    lines = [f"read {summary.transactions:,} transactions and {summary.events:,} events from {files} "
             f"({summary.duplicates:,} repeated items read once)",
             f"wrote {summary.transfers:,} transfers{span} to {out}: {summary.trx_transfers:,} TRX, "
             f"{summary.token_transfers:,} TRC-20; {summary.unpriced:,} without a price (empty usd_value)"]
    trx = [f"{n:,} {TRX_LEFT_OUT[reason]}" for reason, n in sorted(summary.trx_skipped.items())
           if reason in TRX_LEFT_OUT]
    other = sorted((reason.removeprefix("contract:"), n) for reason, n in summary.trx_skipped.items()
                   if reason.startswith("contract:"))
    if other:
        trx.append(f"{sum(n for _, n in other):,} other contracts ({', '.join(f'{k} {n:,}' for k, n in other)})")
    if trx:
        lines.append(f"transactions left out: {', '.join(trx)}")
    events = [f"{n:,} {EVENT_LEFT_OUT[reason]}" for reason, n in sorted(summary.event_skipped.items())]
    if events:
        lines.append(f"events left out: {', '.join(events)}")
    return lines
