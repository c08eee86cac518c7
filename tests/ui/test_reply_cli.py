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


def test_a_resolved_inquirys_survey_counts_in_the_quarter_and_in_the_csat_report(db):
    from datetime import datetime, timezone

    from cases.db import open_store
    from cases.replies import surveys

    asked = run("reply", "inquiry", "--case", "2", "--channel", "chat", "--text-file", "-", "--format", "json",
                user="sue", db=db, stdin="Any news?", env={"KYT_SURVEY_URL": "https://help.example.com/s/"})
    inquiry_id = json.loads(asked.stdout)["inquiry"]["id"]
    bad = run("reply", "resolve", str(inquiry_id), user="sue", db=db, env={"KYT_SURVEY_URL": "ftp://x y"})
    assert bad.returncode == 1 and "KYT_SURVEY_URL" in bad.stderr
    done = run("reply", "resolve", str(inquiry_id), user="sue", db=db, env={"KYT_SURVEY_URL": "https://help.example.com/s/"})
    assert done.returncode == 0 and "satisfaction survey sent" in done.stdout
    sent = json.loads(run("reply", "messages", "--case", "2", "--format", "json", user="sue", db=db).stdout)
    [link] = [m["body"].split("https://help.example.com/s/")[1].split()[0] for m in sent
              if m["template_id"] == "satisfaction_survey"]
    surveys.answer(open_store(db), link, rating=3, comment=None, via="test", now=datetime.now(timezone.utc))
    quarter = f"{datetime.now(timezone.utc).year}Q4"
    table = run("report", "complaints", "--quarter", quarter, user="sam", db=db)
    [row] = list(csv.DictReader(io.StringIO(table.stdout)))
    assert (row["kind"], row["surveys_sent"], row["surveys_answered"], row["csat"]) == ("inquiry", "1", "1", "0.0")
    report = json.loads(run("report", "csat", "--since", "2026-01-01", "--format", "json", user="sam", db=db).stdout)
    assert report["groups"] == [{"agent": "sue", "channel": "chat", "week": report["groups"][0]["week"], "sent": 1,
                                 "answered": 1, "satisfied": 0, "csat": 0.0, "meets_target": False}]
    assert report["target"] == 0.8 and report["overall"]["answered"] == 1
    shown = run("report", "csat", "--since", "2026-01-01", "--by", "topic", user="sam", db=db)
    assert shown.returncode == 0 and "frozen_deposit" in shown.stdout and "overall CSAT 0.0% of 1 answers" in shown.stdout
    wrong = run("report", "csat", "--since", "2026-01-01", "--by", "customer", user="sam", db=db)
    assert wrong.returncode == 1 and "not customer" in wrong.stderr
    assert run("report", "csat", "--since", "2026-01-01", user="sue", db=db).returncode == 1


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
