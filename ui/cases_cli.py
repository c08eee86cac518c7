"""`kyt cases`, `kyt deadlines`, `kyt audit`, `kyt users`, `kyt db`: working cases from the command line.

Every command acts as a user (`--as NAME`, or $KYT_USER) whose role the service checks.
JSON output (`--format json`) is stable: see the README's "JSON output" section.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from cases import queries, service
from cases.db import open_store
from cases.errors import CaseError, InvalidRequest
from cases.queries import QueueFilter
from ui.cli_common import AS, DB, Format, err, fail, out, print_json, utc_datetime, utc_now
from ui.identity_cli import signed_in

cases_app = typer.Typer(no_args_is_help=True, help="List, show and work freeze cases.")
audit_app = typer.Typer(no_args_is_help=True, help="Check the audit trail.")
db_app = typer.Typer(no_args_is_help=True, help="The case database.")
VERSION = typer.Option(None, "--version", help="The case version you saw; a newer one is a conflict.")



def _when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if value else ""


def parse_span(text: str) -> timedelta:
    """A duration like 3d, 12h, 30m or 2w."""
    found = re.fullmatch(r"\s*(\d+)\s*([wdhm])\s*", text)
    if not found:
        raise typer.BadParameter(f"{text!r} is not a duration like 3d, 12h, 30m or 2w", param_hint="--due-within")
    unit = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[found.group(2)]
    return timedelta(**{unit: int(found.group(1))})


@cases_app.command("list")
def list_cases(
    status: Optional[str] = typer.Option(None, help="Only this status (default: the open ones)."),
    category: Optional[str] = typer.Option(None), hop: Optional[int] = typer.Option(None),
    jurisdiction: Optional[str] = typer.Option(None), assignee: Optional[str] = typer.Option(None),
    page: int = typer.Option(1, min=1), page_size: int = typer.Option(50, min=1, max=500),
    output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB, actor: Optional[str] = AS,
    order: str = typer.Option("deadline", help="deadline: nearest first; priority: each deadline day in the "
                                               "triage model's order (kyt model rank)."),
) -> None:
    """The queue: open cases, nearest deadline first (or by triage priority within each deadline day)."""
    try:
        chosen = QueueFilter(status=status, category=category, hop=hop, jurisdiction=jurisdiction, assignee=assignee,
                             order=order, page=page, page_size=page_size)
        store, who = signed_in(db, actor)
        found = queries.queue(store, chosen, actor=who, now=utc_now())
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json({"total": found.total, "more": found.more, "page": found.page, "page_size": found.page_size,
                    "cases": found.rows})
        return
    table = Table("id", "tracking", "status", "customer", "USD", "categories", "hop", "assignee", "next due (UTC)",
                  "overdue", *(("priority",) if order == "priority" else ()))
    for row in found.rows:
        ranked = (f"{row.priority:.2f} {row.queue_order} ({row.priority_model})" if row.priority is not None
                  else "not ranked",) if order == "priority" else ()
        table.add_row(str(row.id), row.tracking_number, row.status, row.customer_id,
                      "unknown" if row.usd_value is None else str(row.usd_value),
                      ", ".join(row.categories), str(row.min_hop), row.assignee or "", _when(row.next_due_at),
                      ", ".join(row.overdue), *ranked)
    out.print(table)
    pages = max(1, -(-found.total // found.page_size))
    out.print(f"{found.total:,}{'+' if found.more else ''} cases; page {found.page} of {pages}{'+' if found.more else ''}")


@cases_app.command("show")
def show_case(case_id: int, output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
              actor: Optional[str] = AS) -> None:
    """One case in full: deposit, decision, exposures and evidence, deadlines, proposals, notes."""
    try:
        detail = queries.show(*signed_in(db, actor), case_id)
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json(detail)
        return
    case = detail.case
    out.print(f"case {case.id} ({case.tracking_number}): {case.status}, version {case.version}", highlight=False)
    value = "USD unknown" if case.usd_value is None else f"${case.usd_value}"
    out.print(f"deposit {case.deposit_id} of {case.customer_id}: {case.amount} {case.asset} ({value}) "
              f"from {case.from_address} on {case.chain} at {_when(case.deposit_time)}", highlight=False)
    out.print(f"decision {case.decision} by {', '.join(case.rule_ids)}; snapshot {case.snapshot_id}", highlight=False)
    if case.sender_risk:
        risk = case.sender_risk
        reasons = ", ".join(f"{name} +{weight}" for name, weight in risk.get("top_features", []))
        out.print(f"sender's address risk {risk['probability']} (model {risk['model']}, review from "
                  f"{risk['threshold']})" + (f"; raised by {reasons}" if reasons else ""), highlight=False)
    for e in detail.exposures:
        sources = ", ".join(s["address"] for s in e["evidence"].get("sources", []))
        share = "unknown" if e["share"] is None else e["share"]
        usd = "USD unknown" if e["usd"] is None else f"${e['usd']}"
        unpriced = e["evidence"].get("unpriced_transfers", 0)
        out.print(f"  exposure {e['category']} hop {e['hop']}: share {share}, {usd} from {sources}"
                  + (f" ({unpriced} transfers without a price)" if unpriced else ""), highlight=False)
    for d in detail.deadlines:
        out.print(f"  deadline {d['rule_id']} ({d['jurisdiction']}): due {_when(d['due_at'])}, {d['status']}",
                  highlight=False)
    for p in detail.proposals:
        out.print(f"  proposal {p['kind']} by {p['proposed_by']}: {p['status']}", highlight=False)
    for n in detail.notes:
        out.print(f"  note by {n['author']} at {_when(n['written_at'])}: {n['body']}", highlight=False)
    out.print(f"next: {', '.join(detail.allowed_actions) or 'nothing (closed)'}", highlight=False)


TRANSITIONS = ("start_review", "request_information", "customer_replied", "resume_review", "propose_release",
               "propose_escalation", "approve", "reject", "close")


@cases_app.command("transition")
def transition_case(
    case_id: int, action: str = typer.Argument(..., help="One of: " + ", ".join(TRANSITIONS)),
    reason: str = typer.Option("", help="Why (required for proposals and rejections)."),
    report_ref: Optional[str] = typer.Option(None, help="Approving an escalation: the SAR/STR reference."),
    report_date: Optional[str] = typer.Option(None, help="Approving an escalation: the date it was filed."),
    expected_version: Optional[int] = VERSION, db: Optional[str] = DB, actor: Optional[str] = AS,
) -> None:
    """Move a case along its lifecycle (four eyes: approvals by a supervisor who did not propose)."""
    if action not in TRANSITIONS:
        raise typer.BadParameter(f"{action!r} is not one of: {', '.join(TRANSITIONS)}", param_hint="ACTION")
    store, who, now = *signed_in(db, actor), utc_now()
    try:
        if action.startswith("propose_"):
            service.propose(store, who, case_id, kind=action[len("propose_"):], reason=reason, now=now,
                            expected_version=expected_version)
        elif action == "approve":
            service.approve(store, who, case_id, now=now, expected_version=expected_version, note=reason,
                            report_ref=report_ref,
                            report_date=utc_datetime(report_date, "--report-date") if report_date else None)
        elif action == "reject":
            service.reject(store, who, case_id, note=reason, now=now, expected_version=expected_version)
        else:
            service.transition(store, who, case_id, action=action, now=now, expected_version=expected_version,
                               reason=reason)
        case = queries.show(store, who, case_id).case
    except CaseError as error:
        fail(error)
    err.print(f"case {case.id}: {case.status}, version {case.version}", highlight=False)


@cases_app.command("assign")
def assign_case(case_id: int, assignee: str, expected_version: Optional[int] = VERSION, db: Optional[str] = DB,
                actor: Optional[str] = AS) -> None:
    """Give a case to an analyst or supervisor."""
    try:
        case = service.assign(*signed_in(db, actor), case_id, assignee=assignee, now=utc_now(),
                              expected_version=expected_version)
    except CaseError as error:
        fail(error)
    err.print(f"case {case.id} assigned to {assignee}", highlight=False)


@cases_app.command("status-update")
def status_update(case_id: int, expected_version: Optional[int] = VERSION, db: Optional[str] = DB,
                  actor: Optional[str] = AS) -> None:
    """Record that the waiting customer got a status update: NY-STATUS is met and the next one starts."""
    try:
        service.record_status_update(*signed_in(db, actor), case_id, now=utc_now(),
                                     expected_version=expected_version)
    except CaseError as error:
        fail(error)
    err.print(f"case {case_id}: status update recorded", highlight=False)


@cases_app.command("note")
def note_case(case_id: int, body: str, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Add a note to a case."""
    try:
        service.add_note(*signed_in(db, actor), case_id, body=body, now=utc_now())
    except CaseError as error:
        fail(error)
    err.print(f"note added to case {case_id}", highlight=False)


@cases_app.command("snooze")
def snooze_case(case_id: int, until: str = typer.Option(...), reason: str = typer.Option(...),
                expected_version: Optional[int] = VERSION, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Keep a case out of the queue until a time, for a reason (its deadlines keep running)."""
    try:
        service.snooze(*signed_in(db, actor), case_id, until=utc_datetime(until, "--until"), reason=reason,
                       now=utc_now(), expected_version=expected_version)
    except CaseError as error:
        fail(error)
    err.print(f"case {case_id} snoozed until {until}", highlight=False)


deadlines_app = typer.Typer(invoke_without_command=True, help="Deadlines at risk and overdue; `recompute`.")


@deadlines_app.callback()
def deadlines_command(
    context: typer.Context,
    due_within: str = typer.Option("3d", help="Show what falls due within this span (3d, 12h, 2w)."),
    output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB, actor: Optional[str] = AS,
) -> None:
    """Deadlines at risk and overdue, soonest first."""
    if context.invoked_subcommand is not None:
        return
    now = utc_now()
    try:
        found = queries.due(*signed_in(db, actor), now, within=parse_span(due_within))
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json({"now": now, "due_within": due_within, "deadlines": found})
        return
    table = Table("case", "tracking", "rule", "where", "due (UTC)", "state")
    for d in found:
        table.add_row(str(d.case_id), d.tracking_number, d.rule_id, d.jurisdiction, _when(d.due_at),
                      "OVERDUE" if d.overdue else "at risk")
    out.print(table)
    out.print(f"{sum(d.overdue for d in found)} overdue, {sum(not d.overdue for d in found)} at risk")


@deadlines_app.command("recompute")
def recompute_command(db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Apply the current deadline rules to every open deadline (after the rules changed)."""
    from cases.maintenance import recompute_deadlines

    try:
        done = recompute_deadlines(*signed_in(db, actor), utc_now())
    except CaseError as error:
        fail(error)
    err.print(f"deadlines: {done.moved} moved, {done.cancelled} cancelled, {done.unchanged} unchanged",
              highlight=False)


ANCHORS = typer.Option(Path("audit-anchors.jsonl"), "--anchors",
                       help="The file of anchors (one JSON object per line), kept where the database cannot change it.")


@audit_app.command("verify")
def audit_verify(anchors: Path = ANCHORS, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Walk the hash chain (keyed with KYT_AUDIT_KEY_FILE), then check it against the anchors; name the first
    altered or missing event (exit 1 if any)."""
    store, who = signed_in(db, actor)
    try:
        kept = [json.loads(line) for line in anchors.read_text().splitlines() if line.strip()] \
            if anchors.exists() else []
        verdict = queries.verify_audit(store, who, kept)
    except (CaseError, ValueError, KeyError) as error:
        fail(error if isinstance(error, CaseError) else InvalidRequest(f"{anchors}: not a file of anchors ({error})"))
    if verdict.ok:
        out.print(f"audit trail intact: {verdict.checked} events", highlight=False)
        return
    err.print(f"audit trail broken: {verdict.problem} ({verdict.checked} events check out before it)",
              highlight=False)
    raise typer.Exit(1)


@audit_app.command("anchor")
def audit_anchor(anchors: Path = ANCHORS, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Add the chain's head (sequence number, hash, time) to the file of anchors, and print it for a notary."""
    store, who = signed_in(db, actor)
    try:
        kept = queries.anchor_audit(store, who, utc_now())
    except CaseError as error:
        fail(error)
    line = json.dumps(kept, sort_keys=True)
    try:
        with anchors.open("a") as handle:
            handle.write(line + "\n")
    except OSError as error:
        fail(InvalidRequest(f"{anchors}: the anchor cannot be written ({error.strerror}); it is: {line}"))
    out.print(line, markup=False, highlight=False)
    err.print(f"anchored event {kept['seq']} in {anchors}: keep a copy where the database's users cannot write",
              highlight=False)


@audit_app.command("new-key")
def audit_new_key(key_file: Path = typer.Option(..., "--file", help="The key file (KYT_AUDIT_KEY_FILE); created with "
                                                                    "mode 600, or given one more key.")) -> None:
    """Add a new audit key to the key file: from now on it keys new events; the older keys stay to verify theirs."""
    from cases.audit_keys import add_key

    try:
        key = add_key(key_file, utc_now())
    except CaseError as error:
        fail(error)
    except OSError as error:
        fail(InvalidRequest(f"{key_file}: no key was added ({error.strerror})"))
    err.print(f"audit key {key.id} added to {key_file}: new events are keyed with it once KYT_AUDIT_KEY_FILE names "
              "this file", highlight=False)


@db_app.command("grant")
def db_grant(role: str, db: Optional[str] = DB) -> None:
    """Give a PostgreSQL role the application's privileges (append-only audit trail, no DDL); run as the owner."""
    from cases.privileges import grant_application_role

    try:
        store = open_store(db)
        done = grant_application_role(store.engine, role)
    except CaseError as error:
        fail(error)
    err.print(f"{role} may now work the cases in {store.shown_url}: {len(done)} statements "
              "(audit events: read and add only; no schema changes)", highlight=False)


@db_app.command("upgrade")
def db_upgrade(db: Optional[str] = DB) -> None:
    """Create or migrate the case database to the newest schema."""
    store = open_store(db)
    err.print(f"{store.shown_url}: schema up to date", highlight=False)
