"""`kyt login`, `logout`, `whoami` and every command's proof of who runs it, tried as a careless or hostile user would."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

KYT = Path(sys.executable).parent / "kyt"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def kyt(*args, config: Path, db: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "COLUMNS": "200", "DATABASE_URL": db, "KYT_CONFIG_DIR": str(config), **env}
    return subprocess.run([str(KYT), *map(str, args)], capture_output=True, text=True, env=environment, input=stdin)


@pytest.fixture
def demo(tmp_path):
    """The demo database (`kyt demo`): its users' passwords as printed, and the operator's config folder."""
    db, config = f"sqlite:///{tmp_path / 'demo.db'}", tmp_path / "operator"
    done = kyt("demo", "--out-dir", tmp_path / "out", config=config, db=db)
    assert done.returncode == 0, done.stderr
    table = done.stdout[done.stdout.index("Demo users for the console"):]
    passwords = dict(re.findall(r"│ (\w+)\s+│ \w+\s+│ (\S+)\s+│", table))
    assert set(passwords) == {"ada", "abe", "ann", "bob", "sam", "sia", "sue"}
    return db, config, passwords


def users(db: str) -> list[str]:
    with sqlite3.connect(db.removeprefix("sqlite:///")) as connection:
        return [name for (name,) in connection.execute("SELECT name FROM users ORDER BY id")]


def test_nobody_becomes_an_admin_by_naming_one(demo, tmp_path):
    db, config, passwords = demo
    before = users(db)
    attempts = [
        kyt("users", "add", "x", "--role", "admin", "--as", "system:x", config=config, db=db),
        kyt("users", "add", "x", "--role", "admin", config=config, db=db),
        kyt("users", "add", "x", "--role", "admin", "--as", "ada", config=config, db=db),
        kyt("users", "add", "x", "--role", "admin", config=config, db=db, KYT_USER="ada"),
        kyt("users", "add", "x", "--role", "admin", config=config, db=db, KYT_USER="system:cli"),
        kyt("users", "password", "ada", config=config, db=db),
    ]
    for done in attempts:
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "sign in first" in done.stderr or "internal account" in done.stderr, done.stderr
    wrong = kyt("login", "ada", "--password-stdin", stdin="not her password\n", config=config, db=db)
    assert wrong.returncode == 1 and wrong.stderr.strip() == "error: wrong name or password"
    assert not list(config.glob("session-*"))
    assert users(db) == before


def test_a_signed_in_admin_acts_as_herself_only(demo):
    db, config, passwords = demo
    done = kyt("login", "ada", "--password-stdin", stdin=passwords["ada"] + "\n", config=config, db=db)
    assert done.returncode == 0 and "signed in as ada (admin)" in done.stderr
    [session] = config.glob("session-*")
    assert stat.S_IMODE(session.stat().st_mode) == 0o600 and stat.S_IMODE(config.stat().st_mode) == 0o700
    assert kyt("whoami", config=config, db=db).stdout.strip() == "ada (signed in)"
    assert kyt("users", "add", "eve", "--role", "analyst", config=config, db=db).returncode == 0
    claimed = kyt("cases", "list", "--as", "sam", config=config, db=db)
    assert claimed.returncode == 1 and "signed in as ada, not sam" in claimed.stderr
    os.chmod(session, 0o644)  # a session others can read is not used
    loose = kyt("whoami", config=config, db=db)
    assert loose.returncode == 1 and "may be read by others: chmod 600" in loose.stderr
    os.chmod(session, 0o600)
    assert kyt("logout", config=config, db=db).stderr.strip() == "signed out ada"
    assert not session.exists()
    after = kyt("users", "add", "mallory", "--role", "admin", config=config, db=db)
    assert after.returncode == 1 and "mallory" not in users(db)


def test_a_stolen_session_file_stops_working_at_logout(demo, tmp_path):
    db, config, passwords = demo
    kyt("login", "sam", "--password-stdin", stdin=passwords["sam"] + "\n", config=config, db=db)
    [session] = config.glob("session-*")
    copy = tmp_path / "thief"
    copy.mkdir(mode=0o700)
    (copy / session.name).write_bytes(session.read_bytes())
    os.chmod(copy / session.name, 0o600)
    assert kyt("whoami", config=copy, db=db).stdout.strip() == "sam (signed in)"
    kyt("logout", config=config, db=db)
    ended = kyt("whoami", config=copy, db=db)
    assert ended.returncode == 1 and "session has ended" in ended.stderr


def test_batch_jobs_run_as_a_service_account_or_not_at_all(demo, tmp_path):
    db, config, passwords = demo
    score = ["score", FIXTURES / "scenario" / "deposits.csv", "--transfers", FIXTURES / "scenario" / "transfers.csv",
             "--flagged", FIXTURES / "lists" / "flagged.csv", "--as-of", "2026-11-21", "--out", tmp_path / "d.csv"]
    refused = kyt(*score, config=tmp_path / "someone", db=db)
    assert refused.returncode == 1 and "sign in first" in refused.stderr and not (tmp_path / "d.csv").exists()
    guessed = kyt(*score, config=tmp_path / "someone", db=db, KYT_SERVICE="demo-batch", KYT_SERVICE_SECRET="guess")
    assert guessed.returncode == 1 and guessed.stderr.strip() == "error: wrong name or password"
    person = kyt(*score, config=tmp_path / "someone", db=db, KYT_SERVICE="ada", KYT_SERVICE_SECRET=passwords["ada"])
    assert person.returncode == 1  # a person's password does not make a service account
    [secret] = config.glob("demo-batch-*.secret")
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    done = kyt(*score, config=tmp_path / "someone", db=db, KYT_SERVICE="demo-batch", KYT_SERVICE_SECRET_FILE=str(secret))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db.removeprefix("sqlite:///")) as connection:
        actors = {actor for (actor,) in connection.execute("SELECT DISTINCT actor FROM audit_events "
                                                           "WHERE action = 'case.opened'")}
    assert actors == {"system:batch", "demo-batch"}  # the first demo run had no users yet; this one is audited by name


def test_the_demo_runs_again_without_a_sign_in(demo, tmp_path):
    db, config, _ = demo
    again = kyt("demo", "--out-dir", tmp_path / "out", config=config, db=db)
    assert again.returncode == 0, again.stderr
    assert "0 opened, 5 already open" in again.stderr and "the demo users exist already" in again.stdout
    elsewhere = kyt("demo", "--out-dir", tmp_path / "out", config=tmp_path / "another-os-user", db=db)
    assert elsewhere.returncode == 1 and "sign in first" in elsewhere.stderr


def test_careless_locations_are_refused_with_a_message(demo, tmp_path):
    db, config, passwords = demo
    for url in ("nonsense", "foo://someone:s3cret@host/x"):
        done = kyt("login", "ada", "--password-stdin", "--db", url, stdin="x\n", config=config, db=db)
        assert done.returncode == 1 and "is not a database URL" in done.stderr and "s3cret" not in done.stderr
    kyt("login", "ada", "--password-stdin", stdin=passwords["ada"] + "\n", config=config, db=db)
    nowhere = kyt("audit", "anchor", "--anchors", tmp_path / "missing" / "a.jsonl", config=config, db=db)
    assert nowhere.returncode == 1 and "the anchor cannot be written" in nowhere.stderr and '"seq"' in nowhere.stderr
    assert "Traceback" not in nowhere.stderr
