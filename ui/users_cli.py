"""`kyt users`: add people and service accounts, change roles, disable, and decide the grants that wait for a
second admin (cases.staff)."""

from __future__ import annotations

import sys
from typing import Optional

import typer
from rich.table import Table

from cases import staff
from cases.errors import CaseError
from ui.cli_common import AS, DB, Format, err, fail, out, print_json, utc_now
from ui.identity_cli import signed_in

users_app = typer.Typer(no_args_is_help=True, help="Manage the people who work cases, and service accounts.")


def _waiting(grant) -> None:
    """Say that a change waits for a second admin, and how they decide it."""
    if grant is not None:
        err.print(f"grant {grant.id} ({grant.kind} {grant.user_name}: {grant.role}) waits for a second admin: "
                  f"kyt users approve {grant.id} (or reject)", highlight=False)


@users_app.command("add")
def add_user(name: str, role: str = typer.Option(..., help="analyst, supervisor, support, admin, or system (a "
                                                           "service account for batch jobs)"),
             password_stdin: bool = typer.Option(False, help="Read a console password (a service account's secret) "
                                                             "from standard input."),
             db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Create a user, signed in as an admin; on a database without users, its first admin.

    A supervisor or admin waits, disabled, for a second admin's approval. A service
    account's secret is made up and printed unless given on standard input.
    """
    import secrets

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    made_up = role == "system" and not password
    if made_up:
        password = secrets.token_urlsafe(24)
    store, who = signed_in(db, actor)
    try:
        _, grant = staff.add_user(store, who, name, role=role, now=utc_now(), password=password)
    except CaseError as error:
        fail(error)
    if made_up:
        out.print(password, markup=False, highlight=False)
    err.print(f"user {name} ({role}) created" + (": its secret is above, shown once (keep it in a file with "
                                                  "mode 600 and name it in KYT_SERVICE_SECRET_FILE)" if made_up else ""),
              highlight=False)
    _waiting(grant)


@users_app.command("password")
def set_password(name: str, password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
                 db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Give a user a new console password (read from stdin, or made up and printed), signed in as an admin."""
    import secrets

    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(9)
    store, who = signed_in(db, actor)
    try:
        staff.set_password(store, who, name, password=password, now=utc_now())
    except CaseError as error:
        fail(error)
    if not password_stdin:
        out.print(password, markup=False, highlight=False)
    err.print(f"user {name}: password set", highlight=False)


@users_app.command("role")
def set_role(name: str, role: str, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Change a user's role: at once when it gives less power, else after a second admin's approval."""
    store, who = signed_in(db, actor)
    try:
        grant = staff.set_role(store, who, name, role=role, now=utc_now())
    except CaseError as error:
        fail(error)
    if grant is None:
        err.print(f"user {name} is now {role}", highlight=False)
    _waiting(grant)


def _set_active(name: str, db: Optional[str], actor: Optional[str], *, active: bool) -> None:
    store, who = signed_in(db, actor)
    try:
        grant = staff.set_active(store, who, name, active=active, now=utc_now())
    except CaseError as error:
        fail(error)
    if grant is None:
        err.print(f"user {name} {'enabled' if active else 'disabled'}", highlight=False)
    _waiting(grant)


@users_app.command("disable")
def disable(name: str, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Stop a user from signing in or acting (an admin: after a second admin's approval; never the last admin)."""
    _set_active(name, db, actor, active=False)


@users_app.command("enable")
def enable(name: str, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Let a disabled user act again (a supervisor or admin: after a second admin's approval)."""
    _set_active(name, db, actor, active=True)


def _decide(grant_id: int, db: Optional[str], actor: Optional[str], *, approve: bool) -> None:
    store, who = signed_in(db, actor)
    try:
        grant = staff.decide(store, who, grant_id, approve=approve, now=utc_now())
    except CaseError as error:
        fail(error)
    err.print(f"grant {grant.id} {grant.status}: {grant.kind} {grant.user_name} ({grant.role})", highlight=False)


@users_app.command("approve")
def approve(grant_id: int, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Approve a grant another admin asked for (never your own, nor one about you)."""
    _decide(grant_id, db, actor, approve=True)


@users_app.command("reject")
def reject(grant_id: int, db: Optional[str] = DB, actor: Optional[str] = AS) -> None:
    """Turn down a grant another admin asked for."""
    _decide(grant_id, db, actor, approve=False)


@users_app.command("list")
def list_users(output: Format = typer.Option(Format.table, "--format"), db: Optional[str] = DB,
               actor: Optional[str] = AS) -> None:
    """Every user with role and state, and the grants waiting for a second admin."""
    store, who = signed_in(db, actor)
    try:
        users, grants = staff.people(store, who)
    except CaseError as error:
        fail(error)
    if output == Format.json:
        print_json({"users": [{"name": u.name, "role": u.role, "active": u.active, "created_at": u.created_at}
                              for u in users],
                    "grants": [g.model_dump() for g in grants]})
        return
    table = Table("user", "role", "active", "created (UTC)", title="Users")
    for user in users:
        table.add_row(user.name, user.role, "yes" if user.active else "no", f"{user.created_at:%Y-%m-%d %H:%M}")
    out.print(table)
    if grants:
        waiting = Table("grant", "change", "user", "role", "asked by", "asked at (UTC)",
                        title="Waiting for a second admin")
        for grant in grants:
            waiting.add_row(str(grant.id), grant.kind, grant.user_name, grant.role, grant.requested_by,
                            f"{grant.requested_at:%Y-%m-%d %H:%M}")
        out.print(waiting)
