"""`kyt serve` (the screening API on uvicorn) and `kyt keys` (its API keys: add, list, revoke)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from ui.cli_common import AS, DB, fail
from ui.identity_cli import signed_in
from ui.messages import HANDLED

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
keys_app = typer.Typer(no_args_is_help=True, help="API keys for kyt serve: add (shown once), list, revoke.")


def serve_command(
    transfers: Path = typer.Option(..., help="Transfers file (CSV or Parquet), indexed once at start."),
    flagged: Path = typer.Option(..., help="Flagged wallets file."),
    services: Optional[Path] = typer.Option(None, help="Services file: indirect exposure stops at these addresses."),
    rules: Optional[Path] = typer.Option(None, help="Rules file (TOML); default: the shipped policy."),
    lookback_days: Optional[int] = typer.Option(None, min=1, help="Only transfers this many days before a deposit."),
    db: Optional[str] = DB,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the screening API (OpenAPI docs at /docs): the transfers and lists are read once, kept in memory, and
    read again by POST /v1/admin/reload."""
    import uvicorn

    from cases import withdrawals
    from cases.api_keys import log_calls
    from cases.api_screening import batch_decisions, store_answers
    from kyt import batch, screening
    from ui.api.access import Keys
    from ui.api.app import ApiState, create_app
    from ui.api.calls import BatchWriter

    from cases.db import database_url
    from ui.cli import DEMO_SERVICE
    from ui.identity_cli import demo_secret_file

    secret = demo_secret_file(database_url(db))  # the demo's service account, as kyt demo scores with it
    demo = secret.exists() and not os.environ.get("KYT_SERVICE")
    store, _ = signed_in(db, None, job="serve", service_file=(DEMO_SERVICE, secret) if demo else None)
    now = datetime.now(timezone.utc)
    request = batch.ScoreRequest(deposits=Path("-"), transfers=transfers, flagged=flagged, services=services,
                                 rules=rules, lookback_days=lookback_days, as_of=int(now.timestamp() * 1_000_000),
                                 engine="memory")
    err.print(f"reading and indexing {transfers}...", highlight=False)
    try:
        screener = screening.Screener(screening.load(request, now=now))
        state = ApiState(store, screener, Keys(store), BatchWriter(lambda rows: log_calls(store, rows), "api-calls"),
                         BatchWriter(lambda rows: store_answers(store, rows), "deposit-answers"),
                         BatchWriter(lambda rows: withdrawals.store_allowed(store, rows), "withdrawal-answers"),
                         batch_decisions(store), screened_withdrawals=withdrawals.screened_ids(store))
    except HANDLED as error:
        fail(error)
    loaded = screener.loaded
    err.print(f"{loaded.transfers:,} transfers indexed; snapshot {loaded.setup.snapshot.id}; API on "
              f"http://{host}:{port} (docs at /docs; Ctrl-C stops it)", highlight=False)
    try:
        uvicorn.run(create_app(state), host=host, port=port, log_level="warning", access_log=False)
    finally:
        for writer in (state.calls, state.deposit_answers, state.withdrawal_answers):
            writer.close()


@keys_app.command("add")
def keys_add(
    name: str = typer.Argument(..., help="The key's name (the calling system: it is what the audit trail shows)."),
    scope: List[str] = typer.Option(..., "--scope", help="A scope the key gets (repeat): deposits:screen, "
                                                        "withdrawals:screen, evidence:read, lists:reload, ..."),
    rate: float = typer.Option(200.0, help="Calls a second the key may make (bursts of twice that)."),
    db: Optional[str] = DB,
    actor: Optional[str] = AS,
) -> None:
    """Create an API key, as an admin: the key is printed once, on standard output, and only its hash is kept."""
    from cases import api_keys

    store, who = signed_in(db, actor)
    try:
        key, token = api_keys.add_key(store, who, name, scopes=[s.strip() for s in scope], now=datetime.now(timezone.utc),
                                      rate_per_second=rate)
    except HANDLED as error:
        fail(error)
    err.print(f"key {key.name} ({key.scopes}); it is shown this once:", highlight=False)
    print(token)


@keys_app.command("list")
def keys_list(db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Every API key: name, scopes, rate, who made it and when, revoked or not (never the key itself)."""
    from cases import api_keys

    store, who = signed_in(db, actor)
    try:
        found = api_keys.list_keys(store, who)
    except HANDLED as error:
        fail(error)
    table = Table("name", "scopes", "calls/s", "created", "by", "revoked")
    for key in found:
        table.add_row(key.name, key.scopes, f"{key.rate_per_second:g}", key.created_at.isoformat(timespec="seconds"),
                      key.created_by, key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(name: str = typer.Argument(..., help="The key's name."), db: Optional[str] = DB,
                actor: Optional[str] = AS) -> None:
    """Revoke an API key, as an admin: a running server refuses it within 5 seconds."""
    from cases import api_keys

    store, who = signed_in(db, actor)
    try:
        api_keys.revoke_key(store, who, name, now=datetime.now(timezone.utc))
    except HANDLED as error:
        fail(error)
    err.print(f"key {name} revoked", highlight=False)
