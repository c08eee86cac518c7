"""`kyt reply` and `kyt report`: customer replies that never tip off, and the service figures.

`kyt reply lint` exits 0 for a clean text, 1 for a blocked one and 2 for one that needs a
supervisor's approval; `kyt reply send` refuses a blocked text (exit 1) and holds one with
warnings for approval (exit 2).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from cases.errors import CaseError
from graph.formats import spreadsheet_safe
from ui.cli_common import AS, DB, Format, err, fail, out, print_json, utc_datetime, utc_now
from ui.identity_cli import signed_in
from ui.reply_model_cli import parties, signal_app

reply_app = typer.Typer(no_args_is_help=True, help="Approved replies to customers, and the tipping-off linter.")
reply_app.command("parties")(parties)
reply_app.add_typer(signal_app, name="signal")
report_app = typer.Typer(no_args_is_help=True, help="Service figures and the quarterly complaints tabulation.")
EXIT = {"clean": 0, "blocked": 1, "warn": 2}
TEXT_FILE = typer.Option(None, "--text-file", help="The text (an agent's edit); '-' reads standard input.")


def _settings():
    from cases.replies.case_text import ReplySettings
    return ReplySettings.from_environment(os.environ)


def _read(path: Optional[Path]) -> Optional[str]:
    if path is None:
        return None
    if str(path) == "-":
        return typer.get_text_stream("stdin").read()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"cannot read {path}: {error}", param_hint="--text-file") from None


def _show_verdict(verdict, output: Format) -> None:
    """The verdict and its findings; a supervisor's notes on the case's evidence after them."""
    if output == Format.json:
        print_json({"status": verdict.status, "findings": verdict.findings,
                    **({"case_notes": verdict.notes} if verdict.notes else {})})
        return
    out.print(f"linter: {verdict.status}", markup=False, highlight=False)
    for f in verdict.findings:
        out.print(f"  {f.severity} {f.category} [{f.start}:{f.end}] {f.excerpt!r}: {f.reason} ({f.rule_id})",
                  markup=False, highlight=False)
    for f in verdict.notes:
        out.print(f"  case note [{f.start}:{f.end}] {f.excerpt!r}: {f.reason}", markup=False, highlight=False)


@reply_app.command("templates")
def templates(case_id: Optional[int] = typer.Option(None, "--case", help="Only those allowed on this case now."),
              output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
              actor: Optional[str] = AS) -> None:
    """The approved templates: all of them, or those support may send on a case now."""
    from cases.replies import views
    from cases.replies.templates import catalog
    try:
        infos = (views.offered_templates(*signed_in(db, actor), case_id, settings=_settings())
                 if case_id is not None else list(catalog().infos.values()))
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json(infos)
        return
    table = Table("template", "title", "purpose", "when the customer's case is")
    for info in infos:
        table.add_row(info.id, info.title, info.purpose, ", ".join(info.customer_states))
    out.print(table)


@reply_app.command("render")
def render_template(case_id: int = typer.Option(..., "--case"), template: str = typer.Option(...),
                    locale: str = typer.Option("en"), channel: str = typer.Option("email"),
                    name: Optional[str] = typer.Option(None, "--name", help="The customer's name for the greeting."),
                    output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
                    actor: Optional[str] = AS) -> None:
    """A template filled in for the case, with the linter's verdict; nothing is sent."""
    from cases.replies import views
    try:
        draft = views.draft(*signed_in(db, actor), case_id, template_id=template, locale=locale,
                            channel=channel, now=utc_now(), text=None, customer_name=name, settings=_settings())
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json({"rendered": draft.rendered, "lint": {"status": draft.verdict.status,
                                                         "findings": draft.verdict.findings}})
        return
    if draft.rendered.subject:
        out.print(f"Subject: {draft.rendered.subject}\n", markup=False, highlight=False)
    out.print(draft.rendered.body, markup=False, highlight=False)
    out.print()
    _show_verdict(draft.verdict, output)


@reply_app.command("lint")
def lint_text(text_file: Path = typer.Option(..., "--text-file", help="The text to check; '-' reads standard input."),
              case_id: Optional[int] = typer.Option(None, "--case", help="Check against this case's evidence too."),
              locale: Optional[str] = typer.Option(None, help="The text's language (default: every language's terms)."),
              general: bool = typer.Option(False, "--general", help="Not about a hold (without --case only)."),
              output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
              actor: Optional[str] = AS) -> None:
    """Check a text for tipping off: exit 0 clean, 1 blocked, 2 needs a supervisor's approval."""
    from cases.replies import views
    text = _read(text_file) or ""
    try:
        if case_id is not None:
            if general:
                raise typer.BadParameter("a reply on a case is always about a hold", param_hint="--general")
            verdict = views.lint_for_case(*signed_in(db, actor), case_id, text=text, locale=locale or "en",
                                          now=utc_now(), settings=_settings())
        else:
            verdict = views.lint_alone(text, locale, hold=not general)
    except CaseError as error:
        fail(error)
    _show_verdict(verdict, output)
    raise typer.Exit(EXIT[verdict.status])


@reply_app.command("send")
def send(case_id: int = typer.Option(..., "--case"), template: str = typer.Option(...),
         locale: str = typer.Option("en"), channel: str = typer.Option("email"), text_file: Optional[Path] = TEXT_FILE,
         name: Optional[str] = typer.Option(None, "--name"), inquiry: Optional[int] = typer.Option(None),
         output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
         actor: Optional[str] = AS) -> None:
    """Send a template (or your edit of it): sent if clean, held for a supervisor if warned, refused if blocked."""
    from cases.replies import conversations
    try:
        message = conversations.send(*signed_in(db, actor), case_id, template_id=template, locale=locale,
                                     channel=channel, now=utc_now(), text=_read(text_file), customer_name=name,
                                     settings=_settings(), inquiry_id=inquiry)
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json(message)
    else:
        verb = {"sent": "sent", "held": "held for a supervisor's approval (warnings below)"}[message.status]
        out.print(f"message {message.id} {verb}", markup=False, highlight=False)
        for f in message.findings:
            out.print(f"  {f['severity']} {f['category']} {f['excerpt']!r}: {f['reason']}", markup=False,
                      highlight=False)
    raise typer.Exit(0 if message.status == "sent" else 2)


@reply_app.command("approve")
def approve(message_id: int,
            reason: str = typer.Option(..., "--reason", help="why it may go despite the linter's findings (kept)"),
            db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Let a held reply go (a supervisor other than its author), saying why."""
    from cases.replies import conversations
    try:
        message = conversations.approve(*signed_in(db, actor), message_id, reason=reason, now=utc_now(),
                                        settings=_settings())
    except CaseError as error:
        fail(error)
    out.print(f"message {message.id} sent, approved by {message.approved_by}", markup=False, highlight=False)


@reply_app.command("reject")
def reject(message_id: int, note: str = typer.Option(..., help="Why it may not be sent."), db: Optional[str] = DB,
           actor: Optional[str] = AS) -> None:
    """Turn a held reply down; it is never sent."""
    from cases.replies import conversations
    try:
        conversations.reject(*signed_in(db, actor), message_id, note=note, now=utc_now())
    except CaseError as error:
        fail(error)
    out.print(f"message {message_id} rejected", markup=False, highlight=False)


@reply_app.command("inquiry")
def inquiry(text_file: Path = typer.Option(..., "--text-file", help="The customer's message; '-' reads stdin."),
            case_id: Optional[int] = typer.Option(None, "--case"),
            customer: Optional[str] = typer.Option(None, "--customer", help="The customer id (outside a case)."),
            channel: str = typer.Option("email"), topic: str = typer.Option("frozen_deposit"),
            kind: str = typer.Option("inquiry", help="inquiry or complaint"), locale: str = typer.Option("en"),
            name: Optional[str] = typer.Option(None, "--name"),
            output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
            actor: Optional[str] = AS) -> None:
    """Record a customer's message and send the acknowledgement with its tracking number at once."""
    from cases.replies import conversations
    try:
        found, ack = conversations.receive(*signed_in(db, actor), now=utc_now(), channel=channel,
                                           topic=topic, locale=locale, body=_read(text_file) or "", kind=kind,
                                           case_id=case_id, customer_id=customer, customer_name=name,
                                           settings=_settings())
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json({"inquiry": found, "acknowledgement": ack})
        return
    out.print(f"{kind} {found.id} recorded, tracking number {found.tracking_number}; acknowledgement sent "
              f"(message {ack.id})", markup=False, highlight=False)


@reply_app.command("resolve")
def resolve(inquiry_id: int, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Mark an inquiry answered."""
    from cases.replies import conversations
    try:
        found = conversations.resolve(*signed_in(db, actor), inquiry_id, now=utc_now(), settings=_settings())
    except CaseError as error:
        fail(error)
    out.print(f"{found.kind} {found.id} resolved; satisfaction survey sent", markup=False, highlight=False)


@reply_app.command("messages")
def messages(case_id: int = typer.Option(..., "--case"), output: Format = typer.Option(Format.table, "--format"),
             db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """The messages to and from the customer on a case, oldest first."""
    from cases.replies import views
    try:
        rows = views.messages(*signed_in(db, actor), case_id)
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json(rows)
        return
    table = Table("id", "at (UTC)", "dir", "channel", "template", "lang", "status", "text")
    for row in rows:
        table.add_row(str(row["id"]), row["at"].strftime("%Y-%m-%d %H:%M"), row["direction"], row["channel"],
                      row["template_id"] or "", row["locale"], row["status"], row["body"][:80])
    out.print(table)


@report_app.command("complaints")
def complaints(quarter: str = typer.Option(..., help="The quarter, e.g. 2026Q4."),
               out_file: Optional[Path] = typer.Option(None, "--out", help="CSV file (default: standard output)."),
               db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """The quarterly tabulation of inquiries and complaints by channel and topic: the mean time to resolve, and the
    satisfaction surveys sent, answered and CSAT (share rated 4 or 5; the target is 80%)."""
    from cases.replies import standards, surveys
    try:
        start, end = standards.quarter(quarter)
        who = signed_in(db, actor)
        rows, _ = standards.service_rows(*who, start=start, end=end)
        answers = surveys.survey_rows(*who, start=start, end=end, received=True)
    except CaseError as error:
        fail(error)
    table = surveys.with_csat(standards.tabulate(rows, end), answers)
    fields = ["kind", "channel", "topic", "received", "resolved", "open_at_end", "avg_hours_to_resolve",
              "surveys_sent", "surveys_answered", "csat"]
    if out_file is None:
        writer = csv.DictWriter(typer.get_text_stream("stdout"), fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in table)
        return
    partial = out_file.with_name(out_file.name + ".partial")
    try:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows({key: spreadsheet_safe(value) for key, value in row.items()} for row in table)
        partial.replace(out_file)
    except OSError as error:
        partial.unlink(missing_ok=True)
        err.print(f"error: nothing was written: cannot write {out_file}: {error.strerror or error}", markup=False,
                  highlight=False)
        raise typer.Exit(1) from None
    err.print(f"wrote {len(table)} rows for {quarter} to {out_file}", markup=False, highlight=False)


@report_app.command("service")
def service(since: str = typer.Option(..., help="Start (ISO-8601 or unix seconds)."),
            until: Optional[str] = typer.Option(None, help="End (default: now)."),
            output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
            actor: Optional[str] = AS) -> None:
    """First response, time to resolution and status updates on time, by channel and topic."""
    from cases.replies import standards
    end = utc_datetime(until, "--until") if until else utc_now()
    try:
        rows, updates = standards.service_rows(*signed_in(db, actor), start=utc_datetime(since, "--since"),
                                               end=end)
    except CaseError as error:
        fail(error)
    figures = standards.figures(rows, updates, min(end, utc_now()))
    if output == Format.json:
        print_json(figures)
        return
    table = Table("kind", "channel", "topic", "received", "median first response (s)",
                  f"within {figures['first_response_target_s'] // 60} min", "resolved", "mean hours to resolve")
    for g in figures["groups"]:
        table.add_row(*(("" if g[k] is None else str(g[k])) for k in (
            "kind", "channel", "topic", "received", "median_first_response_s", "first_response_within_target",
            "resolved", "avg_hours_to_resolve")))
    out.print(table)
    out.print(f"status updates on time: {figures['updates_on_time']} of {figures['updates_due']} due "
              f"({figures['updates_late_or_missed']} late or missed)", markup=False, highlight=False)


@report_app.command("csat")
def csat(since: str = typer.Option(..., help="Start (ISO-8601 or unix seconds): surveys sent from then."),
         until: Optional[str] = typer.Option(None, help="End (default: now)."),
         by: str = typer.Option("agent,channel,week", help="Group by these, comma-separated: agent, channel, kind, "
                                                          "topic, week (ISO week the survey was sent)."),
         output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
         actor: Optional[str] = AS) -> None:
    """Customer satisfaction: surveys sent, answered, rated 4 or 5, and CSAT against the 80% target, per group."""
    from cases.replies import surveys
    end = utc_datetime(until, "--until") if until else utc_now()
    groups = [name.strip() for name in by.split(",") if name.strip()]
    try:
        rows = surveys.survey_rows(*signed_in(db, actor), start=utc_datetime(since, "--since"), end=end)
        found = surveys.csat(rows, by=groups)
        overall = surveys.csat(rows, by=())
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json({"groups": found, "overall": overall[0] if overall else None, "target": surveys.CSAT_TARGET})
        return
    table = Table(*groups, "sent", "answered", "rated 4-5", "CSAT", f"≥ {surveys.CSAT_TARGET:.0%}")
    for g in found:
        table.add_row(*(str(g[k]) for k in groups), str(g["sent"]), str(g["answered"]), str(g["satisfied"]),
                      "" if g["csat"] is None else f"{g['csat']:.1%}",
                      {True: "yes", False: "NO", None: ""}[g["meets_target"]])
    out.print(table)
    if overall and overall[0]["csat"] is not None:
        out.print(f"overall CSAT {overall[0]['csat']:.1%} of {overall[0]['answered']} answers "
                  f"({overall[0]['sent']} surveys sent)", markup=False, highlight=False)
    else:
        out.print("no survey was answered in this period", markup=False, highlight=False)
