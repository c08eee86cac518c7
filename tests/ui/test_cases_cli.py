"""`kyt cases`, `kyt deadlines`, `kyt audit verify`, `kyt users add` as a user runs them: each person signed in
(`kyt login`, a session folder of their own as if each were a different OS user), batch jobs as a service account."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KYT = Path(sys.executable).parent / "kyt"
FIXTURES = ROOT / "fixtures"


PASSWORD = "correct horse battery"
BATCH_SECRET = "the batch service account's secret"
SESSIONS: dict[tuple[str, str], Path] = {}
"""(database, person) -> that person's session folder, once they have signed in."""


def sessions_of(db: str, user: str) -> Path:
    return Path(db.removeprefix("sqlite:///")).parent / "sessions" / user


def run(*args, user=None, stdin=None, db=None, env=None):
    """`kyt ARGS` as `user` (signed in first, once per database), or as nobody; `env` adds to the environment."""
    environment = {**os.environ, "COLUMNS": "200", "DATABASE_URL": db, **(env or {})}
    environment.pop("KYT_USER", None)
    folder = sessions_of(db, user or "nobody") if db else None
    if folder is not None:
        environment["KYT_CONFIG_DIR"] = str(folder)
    if user and (db, user) not in SESSIONS and not folder.exists():
        login = subprocess.run([str(KYT), "login", user, "--password-stdin"], capture_output=True, text=True,
                               env=environment, input=PASSWORD + "\n")
        assert login.returncode == 0, login.stderr
        SESSIONS[db, user] = folder
    return subprocess.run([str(KYT), *map(str, args)], capture_output=True, text=True, env=environment, input=stdin)


def batch_env() -> dict[str, str]:
    return {"KYT_SERVICE": "batch", "KYT_SERVICE_SECRET": BATCH_SECRET}


@pytest.fixture
def db(tmp_path):
    """ada, the first admin, adds abe (the second), ann, sam, sue and the service account `batch`, which scores the
    scenario; sam's supervisor role waits for abe's approval."""
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    first = run("users", "add", "ada", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n", db=url)
    assert first.returncode == 0, first.stderr
    for name, role in (("abe", "admin"), ("ann", "analyst"), ("sam", "supervisor"), ("sue", "support")):
        added = run("users", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n", user="ada", db=url)
        assert added.returncode == 0, added.stderr
    refused = run("users", "approve", "1", user="ada", db=url)  # ada asked for sam's grant: not hers to approve
    assert refused.returncode == 1 and "another admin must decide it" in refused.stderr
    approved = run("users", "approve", "1", user="abe", db=url)
    assert approved.returncode == 0 and "grant 1 approved: role sam (supervisor)" in approved.stderr
    assert run("users", "add", "batch", "--role", "system", "--password-stdin", stdin=BATCH_SECRET + "\n", user="ada",
               db=url).returncode == 0
    scored = run("score", FIXTURES / "scenario" / "deposits.csv", "--transfers", FIXTURES / "scenario" / "transfers.csv",
                 "--flagged", FIXTURES / "lists" / "flagged.csv", "--services", FIXTURES / "lists" / "services.csv",
                 "--as-of", "2026-11-20", "--out", tmp_path / "out.csv", db=url, env=batch_env())
    assert scored.returncode == 0, scored.stderr
    return url


def test_list_as_json_is_stable(db):
    done = run("cases", "list", "--format", "json", user="ann", db=db)
    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert list(listing) == ["total", "more", "page", "page_size", "cases"] and listing["total"] == 5
    assert listing["more"] is False
    first = listing["cases"][0]
    assert list(first) == ["id", "tracking_number", "status", "customer_id", "usd_value", "categories", "min_hop",
                           "assignee", "next_due_at", "snoozed_until", "version", "overdue", "at_risk", "priority",
                           "priority_model", "queue_order"]
    assert isinstance(first["usd_value"], str) and first["next_due_at"].endswith("Z")


def test_show_and_a_whole_lifecycle_from_the_command_line(db):
    show = json.loads(run("cases", "show", "1", "--format", "json", user="ann", db=db).stdout)
    assert list(show) == ["case", "exposures", "deadlines", "proposals", "notes", "attachments", "allowed_actions"]
    assert show["case"]["customer_id"] == "alice" and show["exposures"][0]["share"] == "0.8"
    assert run("cases", "transition", "1", "start_review", user="ann", db=db).returncode == 0
    assert run("cases", "note", "1", "Asked for payslips.", user="ann", db=db).returncode == 0
    done = run("cases", "transition", "1", "propose_escalation", "--reason", "Lazarus funds.", user="ann", db=db)
    assert done.returncode == 0, done.stderr
    refused = run("cases", "transition", "1", "approve", user="ann", db=db)
    assert refused.returncode == 1 and refused.stderr.strip() == "error: ann (analyst) may not approve"
    missing = run("cases", "transition", "1", "approve", user="sam", db=db)
    assert "give its reference and date" in missing.stderr
    done = run("cases", "transition", "1", "approve", "--report-ref", "SAR-1", "--report-date", "2026-11-25",
               user="sam", db=db)
    assert done.returncode == 0 and "escalated" in done.stderr
    stale = run("cases", "assign", "1", "ann", "--version", "1", user="sam", db=db)
    assert stale.returncode == 1 and "changed by someone else" in stale.stderr
    illegal = run("cases", "transition", "1", "start_review", user="ann", db=db)
    assert "cannot start review a case that is escalated" in illegal.stderr


def test_support_is_refused_the_case_but_nothing_crashes(db):
    done = run("cases", "show", "1", user="sue", db=db)
    assert done.returncode == 1 and done.stderr.strip() == "error: sue (support) may not view case"
    nobody = run("cases", "list", db=db)
    assert nobody.returncode == 1 and "this database has users: sign in first (kyt login NAME)" in nobody.stderr


def test_deadlines_lists_what_is_at_risk_or_overdue(db):
    done = run("deadlines", "--due-within", "400d", "--format", "json", user="ann", db=db)
    found = json.loads(done.stdout)
    assert {d["rule_id"] for d in found["deadlines"]} >= {"INT-REVIEW", "NY-STATUS", "US-OFAC-BLOCK"}
    assert all(set(d) == {"case_id", "tracking_number", "case_status", "rule_id", "jurisdiction", "due_at",
                          "warn_at", "overdue"} for d in found["deadlines"])
    assert run("deadlines", "--due-within", "soon", user="ann", db=db).returncode == 2


def test_audit_verify_names_the_first_altered_event(db, tmp_path):
    ok = run("audit", "verify", user="ada", db=db)
    # 6 users, sam's grant asked for and approved, ada's, abe's and batch's sign-ins, 5 cases, 5 alerts
    assert ok.returncode == 0 and "audit trail intact: 21 events" in ok.stdout, ok.stdout
    with sqlite3.connect(tmp_path / "cases.db") as connection:
        [seq] = connection.execute("SELECT min(seq) FROM audit_events WHERE action = 'case.opened'").fetchone()
        connection.execute("UPDATE audit_events SET after = '{}' WHERE seq = ?", (seq,))
    broken = run("audit", "verify", user="ada", db=db)
    assert broken.returncode == 1
    assert (f"audit trail broken: event {seq} (case.opened by batch) was altered ({seq - 1} events check out"
            in broken.stderr)


def test_users_need_a_known_role_and_may_set_a_password(db):
    bad = run("users", "add", "eve", "--role", "root", user="ada", db=db)
    assert bad.returncode == 1 and "unknown role 'root'" in bad.stderr
    good = run("users", "add", "eve", "--role", "support", "--password-stdin", stdin="long enough secret\n",
               user="ada", db=db)
    assert good.returncode == 0
