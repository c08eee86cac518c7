"""`kyt cases`, `kyt deadlines`, `kyt audit verify`, `kyt users add` as a user runs them."""

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


def run(*args, user=None, stdin=None, db=None):
    env = {**os.environ, "COLUMNS": "200", "DATABASE_URL": db}
    if user:
        env["KYT_USER"] = user
    return subprocess.run([str(KYT), *map(str, args)], capture_output=True, text=True, env=env, input=stdin)


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cases.db'}"
    for name, role in (("ann", "analyst"), ("sam", "supervisor"), ("sue", "support"), ("ada", "admin")):
        assert run("users", "add", name, "--role", role, db=url).returncode == 0
    scored = run("score", FIXTURES / "scenario" / "deposits.csv", "--transfers", FIXTURES / "scenario" / "transfers.csv",
                 "--flagged", FIXTURES / "lists" / "flagged.csv", "--services", FIXTURES / "lists" / "services.csv",
                 "--as-of", "2026-11-20", "--out", tmp_path / "out.csv", db=url)
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
    assert nobody.returncode == 2 and "--as NAME or KYT_USER" in nobody.stderr


def test_deadlines_lists_what_is_at_risk_or_overdue(db):
    done = run("deadlines", "--due-within", "400d", "--format", "json", user="ann", db=db)
    found = json.loads(done.stdout)
    assert {d["rule_id"] for d in found["deadlines"]} >= {"INT-REVIEW", "NY-STATUS", "US-OFAC-BLOCK"}
    assert all(set(d) == {"case_id", "tracking_number", "case_status", "rule_id", "jurisdiction", "due_at",
                          "warn_at", "overdue"} for d in found["deadlines"])
    assert run("deadlines", "--due-within", "soon", user="ann", db=db).returncode == 2


def test_audit_verify_names_the_first_altered_event(db, tmp_path):
    ok = run("audit", "verify", user="ada", db=db)
    assert ok.returncode == 0 and "audit trail intact: 14 events" in ok.stdout  # 4 users, 5 cases, 5 alerts
    with sqlite3.connect(tmp_path / "cases.db") as connection:
        connection.execute("UPDATE audit_events SET after = '{}' WHERE seq = 6")
    broken = run("audit", "verify", user="ada", db=db)
    assert broken.returncode == 1
    assert "audit trail broken: event 6 (case.opened by system:batch) was altered (5 events check out" in broken.stderr


def test_users_need_a_known_role_and_may_set_a_password(db):
    bad = run("users", "add", "eve", "--role", "root", db=db)
    assert bad.returncode == 1 and "unknown role 'root'" in bad.stderr
    good = run("users", "add", "eve", "--role", "support", "--password-stdin", stdin="long enough secret\n", db=db)
    assert good.returncode == 0
