"""`kyt reply` and `kyt report` as support agents and supervisors run them."""

from __future__ import annotations

import csv
import io
import json

from tests.ui.test_cases_cli import db, run  # noqa: F401 (the db fixture)


def test_lint_exits_by_verdict_and_reports_findings_as_json(tmp_path):
    nowhere = f"sqlite:///{tmp_path / 'unused.db'}"
    leak = tmp_path / "leak.txt"
    leak.write_text("We have filed a S.A.R. about your deposit.", encoding="utf-8")
    done = run("reply", "lint", "--text-file", leak, "--format", "json", db=nowhere)
    assert done.returncode == 1, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["status"] == "blocked"
    assert {"rule_id", "category", "severity", "start", "end", "excerpt", "reason"} <= set(verdict["findings"][0])
    assert run("reply", "lint", "--text-file", "-", stdin="Your deposit is under review.", db=nowhere).returncode == 0
    assert run("reply", "lint", "--text-file", "-", stdin="Blocked under OFAC sanctions.", db=nowhere).returncode == 2
    general = run("reply", "lint", "--general", "--text-file", "-", stdin="We are investigating the app outage.",
                  db=nowhere)
    assert general.returncode == 0


def test_support_renders_sends_and_is_refused_a_leaking_edit(db, tmp_path):
    listed = json.loads(run("reply", "templates", "--case", "1", "--format", "json", user="sue", db=db).stdout)
    assert "status_update" in {t["id"] for t in listed} and "released" not in {t["id"] for t in listed}
    shown = run("reply", "render", "--case", "1", "--template", "status_update", "--locale", "fr", "--channel", "chat",
                user="sue", db=db)
    assert shown.returncode == 0 and "linter: clean" in shown.stdout and "FC-" in shown.stdout
    sent = run("reply", "send", "--case", "1", "--template", "status_update", user="sue", db=db)
    assert sent.returncode == 0 and "sent" in sent.stdout
    edit = tmp_path / "edit.txt"
    edit.write_text("Your deposit is frozen because the police are investigating.", encoding="utf-8")
    refused = run("reply", "send", "--case", "1", "--template", "status_update", "--text-file", edit, user="sue", db=db)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: the reply was not sent: it would tip the customer off:")
    assert "investigation: 'police'" in refused.stderr
    messages = json.loads(run("reply", "messages", "--case", "1", "--format", "json", user="sue", db=db).stdout)
    assert [m["status"] for m in messages] == ["sent"] and "findings" not in messages[0]


def test_a_held_reply_and_the_quarterly_complaints_file(db, tmp_path):
    edit = tmp_path / "edit.txt"
    edit.write_text("Your deposit stays restricted under OFAC rules for now.", encoding="utf-8")
    held = run("reply", "send", "--case", "2", "--template", "status_update", "--text-file", edit, user="sue", db=db)
    assert held.returncode == 2 and "held" in held.stdout
    assert run("reply", "approve", "1", "--reason", "checked: no finding names the case", user="sam", db=db).returncode == 0
    complaint = run("reply", "inquiry", "--case", "2", "--kind", "complaint", "--channel", "chat", "--text-file", "-",
                    user="sue", db=db, stdin="I want my money back.")
    assert complaint.returncode == 0 and "tracking number FC-" in complaint.stdout
    out = tmp_path / "q4.csv"
    done = run("report", "complaints", "--quarter", "2026Q4", "--out", out, user="sam", db=db)
    assert done.returncode == 0, done.stderr
    [row] = list(csv.DictReader(io.StringIO(out.read_text())))
    assert (row["kind"], row["channel"], row["topic"], row["received"], row["open_at_end"]) == (
        "complaint", "chat", "frozen_deposit", "1", "1")
    assert run("report", "complaints", "--quarter", "2026Q4", user="sue", db=db).returncode == 1
    # support sending a text that names the case's category sees the warnings, never the supervisor's notes
    edit.write_text("Your deposit stays restricted under the sanctions rules; we will write again.", encoding="utf-8")
    for output in ("table", "json"):
        shown = run("reply", "send", "--case", "2", "--template", "status_update", "--text-file", edit, "--format",
                    output, user="sue", db=db)
        assert shown.returncode == 2 and "sanctions" in shown.stdout
        assert "note" not in shown.stdout and "evidence holds" not in shown.stdout


PROBES = ["Lazarus Group", "Tornado Cash", "Garantex", "Binance", "Sinbad", "Roman Semenov", "Ronin Bridge Exploiter",
          "0x098b716b"]
"""Names a support agent might type to learn, from which cases block them, what each investigation found."""


def test_a_probe_gets_the_same_verdict_on_every_case_and_only_a_supervisor_sees_the_case_notes(db):
    listing = json.loads(run("cases", "list", "--format", "json", user="ann", db=db).stdout)
    cases = [c["id"] for c in listing["cases"]]
    assert len(cases) >= 5
    codes = {}
    for probe in PROBES:
        text = f"Your deposit came from {probe}."
        for case in cases:
            done = run("reply", "lint", "--case", case, "--text-file", "-", "--format", "json", user="sue", db=db,
                       stdin=text)
            verdict = json.loads(done.stdout)
            assert "case_notes" not in verdict
            codes.setdefault(probe, set()).add((done.returncode, json.dumps(verdict["findings"], sort_keys=True)))
    assert {probe: {code for code, _ in seen} for probe, seen in codes.items()} == {probe: {1} for probe in PROBES}
    assert all(len(seen) == 1 for seen in codes.values())  # the findings too, word for word
    noted = [json.loads(run("reply", "lint", "--case", case, "--text-file", "-", "--format", "json", user="sam", db=db,
                            stdin="Your deposit came from Lazarus Group.").stdout) for case in cases]
    assert any(v.get("case_notes") for v in noted)  # a supervisor sees which case's evidence names it
    assert len({v["status"] for v in noted}) == 1
