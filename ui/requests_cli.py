"""`kyt requests`: freeze requests from authorities or hacked protocols, traced forward to the platform's deposits."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from ui.cli_common import AS, DB, fail, utc_datetime
from ui.identity_cli import signed_in
from ui.messages import HANDLED

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
requests_app = typer.Typer(no_args_is_help=True, help="Freeze requests: add (trace and freeze), list, respond.")


@requests_app.command("add")
def requests_add(
    reference: str = typer.Option(..., help="The requester's reference (unique here)."),
    requester: str = typer.Option(..., help="Who asks: the authority or the protocol, as they sign."),
    kind: str = typer.Option("authority", help="authority (police, court, regulator) or protocol (the hacked one)."),
    deadline: str = typer.Option(..., help="When the answer is due (ISO-8601; UTC when no zone is given)."),
    tx: List[str] = typer.Option([], "--tx", help="A transaction of the stolen funds (repeat)."),
    wallet: List[str] = typer.Option([], "--wallet", help="A wallet holding the stolen funds (repeat), as chain:address "
                                                         "or a bare Ethereum address; needs --since."),
    since: Optional[str] = typer.Option(None, help="What the wallets sent from this time on is stolen (ISO-8601)."),
    hops: int = typer.Option(3, min=1, max=6, help="How many steps forward the funds are followed."),
    transfers: Path = typer.Option(..., help="Transfers file (CSV or Parquet)."),
    deposits: Path = typer.Option(..., help="The platform's deposits file: those the funds may have reached."),
    services: Optional[Path] = typer.Option(None, help="Services file: the trace stops at them."),
    db: Optional[str] = DB,
    actor: Optional[str] = AS,
) -> None:
    """Record a freeze request, trace its funds forward, and open or link a freeze case for every deposit they
    reached (the request in each case's timeline, its deadline on each case)."""
    from cases import freeze_requests
    from graph import readers
    from kyt import batch, freeze_trace

    store, who = signed_in(db, actor)
    now = datetime.now(timezone.utc)
    try:
        due = utc_datetime(deadline, "--deadline")
        start = utc_datetime(since, "--since") if since else None
        seeds = freeze_trace.parse_seeds(reference, tx_hashes=tx, wallets=wallet, hops=hops,
                                         since=int(start.timestamp() * 1_000_000) if start else None)
        loaded = batch.read_inputs([("transfers", transfers, readers.read_transfers),
                                    ("deposits", deposits, readers.read_deposits),
                                    ("services", services, readers.read_services)])
        hits, snapshot = freeze_trace.trace(seeds, loaded["transfers"], loaded["deposits"],
                                            services=loaded.get("services"), now=now)
        request = freeze_requests.add(store, who, reference=reference, requester=requester, kind=kind, deadline=due,
                                      tx_hashes=seeds.tx_hashes, wallets=seeds.wallets, since=start, hops=hops,
                                      now=now)
        linked = freeze_requests.link(store, who, request.id, hits=hits, snapshot=snapshot, now=now)
    except HANDLED as error:
        fail(error)
    err.print(f"request {request.id} ({reference}): the funds reached {len(hits):,} deposit(s); "
              f"{linked.opened:,} case(s) opened, {len(hits) - linked.opened:,} already open", highlight=False)
    table = Table("deposit", "customer", "hop", "stolen USD", "share", "case")
    for hit in hits:
        line = hit.record.exposures[0]
        table.add_row(hit.record.deposit_id, hit.record.customer_id, str(hit.hop),
                      f"{hit.stolen_usd:,.2f}" + (" at least" if hit.unknown else ""),
                      "unknown" if line.share is None else f"{line.share:.4%}",
                      str(linked.case_ids[hit.record.deposit_id]))
    if hits:
        out.print(table)


@requests_app.command("list")
def requests_list(db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Every freeze request, newest first: its deadline (overdue or not), status, and the deposits it reached."""
    from cases import freeze_requests

    store, who = signed_in(db, actor)
    try:
        found = freeze_requests.list_requests(store, who)
    except HANDLED as error:
        fail(error)
    now = datetime.now(timezone.utc)
    table = Table("id", "reference", "requester", "received", "deadline", "status", "deposits", "cases")
    for request, hits in found:
        late = request.status == "open" and request.deadline < now
        table.add_row(str(request.id), request.reference, request.requester, f"{request.received_at:%Y-%m-%d}",
                      f"{request.deadline:%Y-%m-%d %H:%M}" + (" OVERDUE" if late else ""), request.status,
                      str(len(hits)), ", ".join(sorted({str(h.case_id) for h in hits})))
    out.print(table)


@requests_app.command("respond")
def requests_respond(
    request_id: int = typer.Argument(..., help="The request's id (kyt requests list)."),
    template: str = typer.Option(..., help="The approved answer: funds_frozen, no_funds_found or acknowledged."),
    db: Optional[str] = DB,
    actor: Optional[str] = AS,
) -> None:
    """Answer a freeze request with an approved template; the text is recorded and printed."""
    from cases import freeze_requests

    store, who = signed_in(db, actor)
    try:
        text = freeze_requests.respond(store, who, request_id, template_id=template, now=datetime.now(timezone.utc))
    except HANDLED as error:
        fail(error)
    print(text)
