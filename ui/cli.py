"""The `kyt` command line: score deposits, build flagged lists, show the policy, run the demo.

The command line sits at the top of the layers with the console, because `kyt score` will
open cases (cases/ sits above kyt/).
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Column, Table

from cases.db import open_store
from cases.deadlines import DEFAULT_JURISDICTIONS
from graph.times import parse_time
from kyt.rules import default_policy, load_policy
from ui.cli_common import err, fail, micro
from ui.scoring import score_and_report
from ui.cases_cli import audit_app, cases_app, db_app, deadlines_app
from ui.messages import HANDLED
from ui.identity_cli import login, logout, whoami
from ui.import_cli import import_app
from ui.users_cli import users_app
from ui.ingest_cli import export_chain_command, ingest_command
from ui.model_cli import model_app
from ui.watch_cli import watch_command
from ui.serve_cli import keys_app, serve_command
from ui.requests_cli import requests_app
from ui.reply_cli import reply_app, report_app

# The scoring modules (numpy, pyarrow) are imported by the commands that score, so that
# `kyt cases ...` starts quickly.

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Freeze case manager: trace deposits to flagged wallets and decide allow / review / freeze.")
lists_app = typer.Typer(no_args_is_help=True, help="Build flagged-wallet and services lists from public sources.")
rules_app = typer.Typer(no_args_is_help=True, help="Show and check rules files.")
app.add_typer(lists_app, name="lists")
app.add_typer(rules_app, name="rules")
app.add_typer(cases_app, name="cases")
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")
app.add_typer(deadlines_app, name="deadlines")
app.add_typer(reply_app, name="reply")
app.add_typer(report_app, name="report")
app.add_typer(model_app, name="model")
app.add_typer(import_app, name="import")
app.command("ingest")(ingest_command)
app.command("login")(login)
app.command("logout")(logout)
app.command("whoami")(whoami)
app.command("export-chain")(export_chain_command)
app.command("watch")(watch_command)
app.command("serve")(serve_command)
app.add_typer(keys_app, name="keys")
app.add_typer(requests_app, name="requests")

out = Console(width=None if sys.stdout.isatty() else 120)
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


class Method(str, Enum):
    haircut = "haircut"
    poison = "poison"


class EngineName(str, Enum):
    auto = "auto"
    memory = "memory"
    pruned = "pruned"
    spark = "spark"


ENGINE_HELP = ("auto: the whole table in memory when it fits, else a pruned scan; memory; pruned: read only the "
               "transfers into the deposits' senders (a file or a Parquet dataset directory); spark: Apache Spark.")
SPARK_HELP = "With --engine spark: local[N] or spark://HOST:PORT."
RESCORE_HELP = ("Score again the deposits this snapshot (lists, policy, --as-of, method) already decided; "
                "without it they are skipped.")


def _as_of(text: Optional[str]) -> int:
    """Microseconds since 1970 for --as-of (default: now)."""
    if text is None:
        return int(datetime.now(timezone.utc).timestamp() * 1_000_000)
    return micro(text, "--as-of")


@app.command("score")
def score_command(
    deposits: Path = typer.Argument(..., help="Deposits file (CSV or Parquet)."),
    transfers: Path = typer.Option(..., help="Transfers: a CSV or Parquet file, or a Parquet dataset directory."),
    flagged: Path = typer.Option(..., help="Flagged wallets file (CSV or Parquet)."),
    services: Optional[Path] = typer.Option(None, help="Services file: indirect exposure stops at these addresses."),
    as_of: Optional[str] = typer.Option(None, help="Judge flags as of this time (ISO-8601 or unix seconds); default now."),
    method: Method = typer.Option(Method.haircut, help="haircut: share of the funding; poison: any flagged funding counts fully."),
    lookback_days: Optional[int] = typer.Option(None, min=0, max=36_500, help="Only funding received this many days before the deposit counts."),
    rules: Optional[Path] = typer.Option(None, help="Rules file (TOML); default: the shipped policy."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write one row per deposit (CSV)."),
    exposures_out: Optional[Path] = typer.Option(None, help="Write one row per exposure (CSV)."),
    evidence_out: Optional[Path] = typer.Option(None, help="Write the evidence of each exposure (JSON lines)."),
    db: Optional[str] = typer.Option(None, "--db", help="Case database URL (default: $DATABASE_URL, else sqlite:///freezecase.db)."),
    no_cases: bool = typer.Option(False, "--no-cases", help="Only decide; open no cases."),
    jurisdiction: list[str] = typer.Option(list(DEFAULT_JURISDICTIONS), help="Jurisdictions of new cases (their deadlines)."),
    model: Optional[Path] = typer.Option(None, help="Address-risk model (kyt model train): risky senders with no "
                                                    "rule matching go to review, never freeze."),
    engine: EngineName = typer.Option(EngineName.auto, help=ENGINE_HELP),
    spark_master: str = typer.Option("local[*]", help=SPARK_HELP),
    rescore: bool = typer.Option(False, "--rescore", help=RESCORE_HELP),
) -> None:
    """Score deposits, decide allow / review / freeze, and open a case for each frozen one."""
    from kyt import batch

    request = batch.ScoreRequest(deposits, transfers, flagged, _as_of(as_of), services, method.value, lookback_days,
                                 rules, out_file, exposures_out, evidence_out, model=model, engine=engine.value,
                                 spark_master=spark_master)
    score_and_report(request, show_table=out_file is None, db=db, cases=not no_cases,
                      jurisdictions=tuple(jurisdiction), rescore=rescore)


@app.command("rescreen")
def rescreen_command(
    deposits: Path = typer.Argument(..., help="Deposits file (CSV or Parquet)."),
    transfers: Path = typer.Option(..., help="Transfers: a CSV or Parquet file, or a Parquet dataset directory."),
    flagged: Path = typer.Option(..., help="Flagged wallets file: typically a newer list."),
    since: str = typer.Option(..., help="Re-score the deposits made at or after this time."),
    services: Optional[Path] = typer.Option(None, help="Services file."),
    as_of: Optional[str] = typer.Option(None, help="Judge flags as of this time; default now."),
    rules: Optional[Path] = typer.Option(None, help="Rules file (TOML); default: the shipped policy."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write one row per re-scored deposit (CSV)."),
    db: Optional[str] = typer.Option(None, "--db", help="Case database URL (default: $DATABASE_URL, else sqlite:///freezecase.db)."),
    engine: EngineName = typer.Option(EngineName.auto, help=ENGINE_HELP),
    spark_master: str = typer.Option("local[*]", help=SPARK_HELP),
    rescore: bool = typer.Option(False, "--rescore", help=RESCORE_HELP),
) -> None:
    """Re-score past deposits after a list or policy change: open cases for new freezes, and note on
    existing cases whose exposure is gone (they are never closed by this)."""
    from kyt import batch

    since_micro = parse_time(since)
    if since_micro is None:
        raise typer.BadParameter(f"{since!r} is not a time (ISO-8601 or unix seconds)", param_hint="--since")
    request = batch.ScoreRequest(deposits, transfers, flagged, _as_of(as_of), services, rules=rules, out=out_file,
                                 since=since_micro, engine=engine.value, spark_master=spark_master)
    score_and_report(request, show_table=out_file is None, db=db, rescreen=True, rescore=rescore)


@app.command("demo")
def demo_command(
    out_dir: Path = typer.Option(Path("demo-output"), help="Where to write the decisions, exposures and evidence."),
    db: Optional[str] = typer.Option(None, "--db", help="Case database URL (default: $DATABASE_URL, else sqlite:///freezecase.db)."),
) -> None:
    """The main job on the fixtures: score the fixture deposits, print the decisions, open the cases.

    On a new database it also creates the demo users and a service account, `demo-batch`,
    whose secret it keeps for this OS user (ui.identity_cli.demo_secret_file): the next
    `kyt demo` scores as that account, with no sign-in.
    """
    from cases.db import database_url
    from kyt import batch
    from ui.identity_cli import demo_secret_file

    scenario = FIXTURES / "scenario"
    request = batch.ScoreRequest(
        deposits=scenario / "deposits.csv", transfers=scenario / "transfers.csv",
        flagged=FIXTURES / "lists" / "flagged.csv", services=FIXTURES / "lists" / "services.csv",
        as_of=_as_of(None), out=out_dir / "decisions.csv", exposures_out=out_dir / "exposures.csv",
        evidence_out=out_dir / "evidence.jsonl")
    secret = demo_secret_file(database_url(db))
    score_and_report(request, show_table=True, db=db, service_file=(DEMO_SERVICE, secret) if secret.exists() else None)
    _demo_users(db, secret)
    _demo_key(db, out_dir / "api-key")


DEMO_USERS = (("ada", "admin"), ("abe", "admin"), ("ann", "analyst"), ("bob", "analyst"), ("sam", "supervisor"),
              ("sia", "supervisor"), ("sue", "support"))
"""One per role, and a second of each role that four eyes need: ada, the first admin, adds the others, and abe,
the second admin, approves the supervisors' grants."""
DEMO_SERVICE = "demo-batch"
"""The service account `kyt demo` scores as once the database has users."""


def _demo_users(db: Optional[str], secret_file: Path) -> None:
    """Create the demo users and service account that are missing and print how to sign in (existing users keep
    their password)."""
    import secrets

    from cases import identity, staff
    from cases.secret_files import write_secret_file

    store = open_store(db)
    now = datetime.now(timezone.utc)
    table = Table("user", "role", "password", title="Demo users for the console")
    if identity.has_users(store):
        out.print("the demo users exist already: they keep their passwords (kyt users password NAME, signed in as "
                  "an admin, sets a new one)", markup=False, highlight=False)
        return
    try:
        for name, role in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            _, grant = staff.add_user(store, "system:demo" if name == "ada" else "ada", name, role=role, now=now,
                                      password=password)
            if grant is not None:  # a supervisor: abe, the second admin, approves what ada asked for
                staff.decide(store, "abe", grant.id, approve=True, now=now)
            table.add_row(name, role, password)
        secret = secrets.token_urlsafe(24)
        staff.add_user(store, "ada", DEMO_SERVICE, role="system", now=now, password=secret)
        write_secret_file(secret_file, secret + "\n")
    except HANDLED as error:
        fail(error)
    out.print(table)
    out.print(f"service account {DEMO_SERVICE}: its secret is in {secret_file} (mode 600); the next kyt demo "
              "scores as it", markup=False, highlight=False)


def _demo_key(db: Optional[str], path: Path) -> None:
    """An API key with the screening scopes in `path` (mode 600), made once per output folder (by ada, the demo admin)."""
    from cases import api_keys
    from cases.secret_files import write_secret_file

    if path.exists():
        out.print(f"the demo API key is in {path}", markup=False, highlight=False)
        return
    store = open_store(db)
    try:
        taken = {key.name for key in api_keys.list_keys(store, "ada")}
        name = next(f"demo-{n}" for n in range(1, len(taken) + 2) if f"demo-{n}" not in taken)
        _, token = api_keys.add_key(store, "ada", name, scopes=api_keys.SCREENING_SCOPES, now=datetime.now(timezone.utc))
        write_secret_file(path, token + "\n")
    except HANDLED as error:
        fail(error)
    out.print(f"API key {name} (deposits:screen, withdrawals:screen) written to {path} (mode 600): "
              f"kyt serve, then curl -H \"Authorization: Bearer $(cat {path})\" ...", markup=False, highlight=False)


@app.command("ui")
def ui_command(
    port: int = typer.Option(8501, help="Port to serve the console on."),
    address: str = typer.Option("localhost", help="Address to listen on."),
    db: Optional[str] = typer.Option(None, "--db", help="Case database URL (default: $DATABASE_URL, else sqlite:///freezecase.db)."),
) -> None:
    """Start the console (Streamlit) on an existing database."""
    import os

    app_file = Path(__file__).resolve().parent / "console" / "app.py"
    env = dict(os.environ)
    if db:
        env["KYT_DB"] = db
    try:
        open_store(db).dispose()  # migrate now, and fail here with a clear message rather than in the browser
    except HANDLED as error:
        fail(error)
    err.print(f"console on http://{address}:{port} (Ctrl-C stops it)", highlight=False)
    args = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.port", str(port),
            "--server.address", address, *console_settings()]
    os.execve(sys.executable, args, env)


def console_settings() -> list[str]:
    """ui/console/streamlit.toml as Streamlit's command-line flags (`--server.enableXsrfProtection true`, ...)."""
    import tomllib

    settings = tomllib.loads((Path(__file__).resolve().parent / "console" / "streamlit.toml").read_text())
    return [text for section, options in settings.items() for option, value in options.items()
            for text in (f"--{section}.{option}", str(value).lower() if isinstance(value, bool) else str(value))]


@lists_app.command("flagged")
def lists_flagged(
    out_file: Path = typer.Option(..., "--out", help="Flagged wallets CSV to write."),
    ofac: Optional[Path] = typer.Option(None, help="Folder with the OFAC history files (fixtures/sources/ofac layout)."),
    forta: Optional[Path] = typer.Option(None, help="Folder with Forta's labelled datasets (fixtures/sources/forta layout)."),
    designations: Path = typer.Option(FIXTURES / "sources" / "ofac" / "designations.csv",
                                      help="Entity designation dates for listings older than the OFAC histories."),
    evm_chains: str = typer.Option("", help="EVM networks (comma-separated, e.g. bsc,polygon) on which each OFAC "
                                            "EVM address is flagged too, besides its own; default: none."),
) -> None:
    """Flagged wallets from OFAC (sanctions with listing dates, every chain) and Forta (scam, stolen_funds)."""
    from graph import chains
    from kyt import lists

    if ofac is None and forta is None:
        raise typer.BadParameter("give --ofac, --forta or both", param_hint="--ofac/--forta")
    networks = tuple(name.strip() for name in evm_chains.split(",") if name.strip())
    for name in networks:
        if not chains.is_evm(name):
            raise typer.BadParameter(f"{name!r} is not an EVM network (e.g. bsc, polygon, evm-31337)",
                                     param_hint="--evm-chains")
    try:
        rows = lists.ofac_flags(ofac, lists.load_designations(designations), evm_chains=networks) if ofac else []
        rows += lists.forta_flags(forta) if forta else []
        count = lists.write_flagged(rows, out_file)
    except HANDLED as error:
        fail(error)
    err.print(f"wrote {count:,} flag rows to {out_file}", highlight=False)
    for chain, (addresses, lost) in lists.chain_counts(rows).items():
        note = f" ({lost:,} with their letter case lost: matched without case)" if lost else ""
        err.print(f"  {chain}: {addresses:,} addresses{note}", highlight=False)


@lists_app.command("services")
def lists_services(
    out_file: Path = typer.Option(..., "--out", help="Services CSV to write."),
    exchanges: Path = typer.Option(..., help="Folder with the exchange label files (fixtures/sources/labels layout)."),
) -> None:
    """Services (exchanges) from the public label sets: indirect exposure stops at them."""
    from kyt import lists

    try:
        count = lists.write_services(lists.exchange_services(exchanges), out_file)
    except HANDLED as error:
        fail(error)
    err.print(f"wrote {count:,} services to {out_file}", highlight=False)


@rules_app.command("show")
def rules_show(rules: Optional[Path] = typer.Argument(None, help="Rules file; default: the shipped policy.")) -> None:
    """Print every rule with its one-sentence description."""
    try:
        policy = load_policy(rules) if rules else default_policy()
    except HANDLED as error:
        fail(error)
    out.print(f"{policy.name} {policy.version}: {policy.description}", highlight=False)
    table = Table("id", "category", "hop", "min share", "min USD", "action", "what it catches")
    for rule in policy.rules:
        table.add_row(rule.id, rule.category, str(rule.hop), "unknown value" if rule.unpriced else str(rule.min_share),
                      "unknown value" if rule.unpriced else str(rule.min_usd), rule.action, rule.description)
    out.print(table)
    if policy.withdrawal_rules:
        out.print("withdrawal rules (on the destination of a withdrawal):", highlight=False)
        table = Table(Column("id", no_wrap=True), "category", "kind", "hop", "min share", "min flagged USD", "action",
                      "what it catches")
        for w in policy.withdrawal_rules:
            table.add_row(w.id, w.category, w.kind, str(w.hop), "unknown value" if w.unpriced else str(w.min_share),
                          "unknown value" if w.unpriced else str(w.min_flagged_usd), w.action, w.description)
        out.print(table)


@rules_app.command("check")
def rules_check(rules: Path = typer.Argument(..., help="Rules file to check.")) -> None:
    """Check a rules file; exits non-zero and says why when it is rejected."""
    try:
        policy = load_policy(rules)
    except HANDLED as error:
        fail(error)
    err.print(f"{rules}: {len(policy.rules)} rules, {len(policy.withdrawal_rules)} withdrawal rules, policy"
              f" {policy.name} {policy.version}: ok", highlight=False)


def main() -> None:
    """Entry point of the `kyt` console script."""
    app()
