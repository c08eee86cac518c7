"""`kyt login`, `kyt logout`, `kyt whoami`, and how every command proves who runs it.

A session's token is kept for the OS user in a file readable by nobody else (0600, in a
0700 folder: $KYT_CONFIG_DIR, else $XDG_CONFIG_HOME/freezecase, else ~/.config/freezecase),
one per database. A batch job proves a service account with KYT_SERVICE and its secret
(KYT_SERVICE_SECRET, or the file named by KYT_SERVICE_SECRET_FILE).
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from cases.db import Store, database_url, open_store
from cases.errors import CaseError, NotSignedIn
from cases.secret_files import read_secret_file, write_secret_file
from ui.cli_common import DB, err, fail, out

def config_dir() -> Path:
    """Where the OS user's sessions are kept."""
    chosen = os.environ.get("KYT_CONFIG_DIR")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "freezecase"


def _database_key(url: str) -> str:
    """One key per database (a relative SQLite path is made absolute first)."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = "sqlite:///" + str(Path(url[len("sqlite:///"):]).resolve())
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def session_file(url: str) -> Path:
    return config_dir() / f"session-{_database_key(url)}"


def demo_secret_file(url: str) -> Path:
    """Where `kyt demo` keeps its service account's secret for this database."""
    return config_dir() / f"demo-batch-{_database_key(url)}.secret"


def source() -> str:
    """Where a command comes from, for throttling and the audit trail: `cli:<OS user>@<host>`."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = str(os.getuid())
    return f"cli:{who}@{socket.gethostname()}"


def read_secret(path: Path, what: str) -> str:
    """A secret from a file that only its owner may read; NotSignedIn when it is missing or open to others."""
    return read_secret_file(path, what, refused=NotSignedIn).strip()


def credentials(url: str, claimed: Optional[str], service_file: tuple[str, Path] | None = None):
    """What this process was given to prove who runs it: its session, a service account, a claimed name.

    `service_file` (a service account and its secret's file) stands for KYT_SERVICE and KYT_SERVICE_SECRET_FILE.
    """
    from cases.identity import Credentials

    service = os.environ.get("KYT_SERVICE") or None
    secret = os.environ.get("KYT_SERVICE_SECRET") or None
    named = os.environ.get("KYT_SERVICE_SECRET_FILE")
    secret_file = Path(named) if named else None
    if service_file is not None:
        service, secret, secret_file = service_file[0], None, service_file[1]
    if service and not secret and secret_file is not None:
        secret = read_secret(secret_file, "the service secret file")
    token = None
    if not service:
        stored = session_file(url)
        if stored.exists():
            token = read_secret(stored, "the session file")
    return Credentials(token=token, service=service, secret=secret,
                       claimed=claimed or os.environ.get("KYT_USER") or None)


def signed_in(db: Optional[str], claimed: Optional[str], *, job: str = "cli",
              service_file: tuple[str, Path] | None = None) -> tuple[Store, str]:
    """The database and the name this command acts as; a message and exit 1 when it cannot prove one."""
    from cases.identity import identify

    try:
        store = open_store(db)
        name = identify(store, credentials(store.url, claimed, service_file), now=datetime.now(timezone.utc),
                        source=source(), job=job)
    except CaseError as error:
        fail(error)
    return store, name


def login(name: str, password_stdin: bool = typer.Option(False, help="Read the password from standard input."),
          db: Optional[str] = DB) -> None:
    """Sign in: the password is asked for (or read from stdin), and a session is kept for this OS user."""
    from cases.identity import open_session
    from cases.signin import sign_in

    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass(f"password for {name}: ")
    now = datetime.now(timezone.utc)
    try:
        store = open_store(db)
        user = sign_in(store, name, password, now=now, source=source())
        token = open_session(store, user.name, now=now, source=source())
    except CaseError as error:
        fail(error)
    write_secret_file(session_file(store.url), token + "\n")
    err.print(f"signed in as {user.name} ({user.role}) on {store.shown_url}", highlight=False)


def logout(db: Optional[str] = DB) -> None:
    """End this OS user's session on the database."""
    from cases.identity import end_session

    url = database_url(db)
    stored = session_file(url)
    if not stored.exists():
        err.print("not signed in", highlight=False)
        return
    try:
        token = read_secret(stored, "the session file")
        ended = end_session(open_store(db), token, now=datetime.now(timezone.utc), source=source())
    except CaseError as error:
        fail(error)
    stored.unlink(missing_ok=True)
    err.print(f"signed out {ended}" if ended else "the session had already ended", highlight=False)


def whoami(db: Optional[str] = DB) -> None:
    """Who commands on this database act as (and how that is proven)."""
    store, name = signed_in(db, None)
    how = ("a service account" if os.environ.get("KYT_SERVICE") else
           "this database has no users yet" if name.startswith("system:") else "signed in")
    out.print(f"{name} ({how})", markup=False, highlight=False)
