"""The `kyt` command as a user runs it: a real process, its exit code, its messages, its files."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
SCENARIO = FIXTURES / "scenario"
KYT = Path(sys.executable).parent / "kyt"


@pytest.fixture(autouse=True)
def case_database(tmp_path, monkeypatch):
    """Cases opened by `kyt score` go to a database of the test's own."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cases.db'}")


def kyt(*args, cwd=None):
    return subprocess.run([str(KYT), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200"})


def score_args(tmp_path, deposits=SCENARIO / "deposits.csv"):
    return ["score", deposits, "--transfers", SCENARIO / "transfers.csv",
            "--flagged", FIXTURES / "lists" / "flagged.csv", "--services", FIXTURES / "lists" / "services.csv",
            "--as-of", "2026-11-20", "--out", tmp_path / "out.csv", "--exposures-out", tmp_path / "exp.csv"]


def test_score_writes_decisions_and_prints_a_summary(tmp_path):
    done = kyt(*score_args(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "scored 16 deposits" in done.stderr and "5 freeze, 5 review, 6 allow" in done.stderr
    rows = list(csv.DictReader((tmp_path / "out.csv").open()))
    assert [r["decision"] for r in rows].count("freeze") == 5
    assert (tmp_path / "exp.csv").read_text().startswith(
        "deposit_id,category,hop,share,usd,unpriced_transfers,unpriced_flagged_transfers\n")
    assert done.stdout == ""  # with --out, stdout stays clean


def test_score_without_out_prints_the_decision_table(tmp_path):
    args = [a for a in score_args(tmp_path)]
    cut = args.index("--out")
    done = kyt(*(args[:cut] + args[cut + 4:]))
    assert done.returncode == 0, done.stderr
    assert "D-1001" in done.stdout and "sanctions-indirect-share" in done.stdout


def test_bad_input_exits_non_zero_names_file_and_line_and_writes_nothing(tmp_path):
    deposits = tmp_path / "deposits.csv"
    lines = (SCENARIO / "deposits.csv").read_text().splitlines()
    lines[2] = lines[2].replace("0x28c6c06298d514db089934071355e5743bf21d60", "0x28c6c06298d514db0899")
    deposits.write_text("\n".join(lines) + "\n")
    done = kyt(*score_args(tmp_path, deposits))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: input rejected, nothing was written:",
        f"  {deposits}:3: from_address '0x28c6c06298d514db0899' is not an address (0x followed by 40 hex digits)"]
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "exp.csv").exists()


def test_bad_option_values_are_refused(tmp_path):
    done = kyt(*score_args(tmp_path), "--as-of", "someday")
    assert done.returncode == 2 and "'someday' is not a time" in done.stderr
    done = kyt(*score_args(tmp_path), "--method", "taint")
    assert done.returncode == 2


def test_rules_check_and_show(tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rules]]\nid = "a"\ndescription = "x."\ncategory = "sanctions"\nhop = 1\nmin_share = 0\n'
                   'min_usd = 0\naction = "block"\n')
    done = kyt("rules", "check", bad)
    assert done.returncode == 1
    assert f"{bad}: rule 1 ('a'): unknown action 'block'; allowed: review, freeze" in done.stderr
    shown = kyt("rules", "show")
    assert shown.returncode == 0 and "sanctions-direct" in shown.stdout and "dust" in shown.stdout


def test_lists_commands_rebuild_the_fixture_lists(tmp_path):
    done = kyt("lists", "flagged", "--ofac", FIXTURES / "sources" / "ofac", "--forta", FIXTURES / "sources" / "forta",
               "--out", tmp_path / "flagged.csv")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "flagged.csv").read_text() == (FIXTURES / "lists" / "flagged.csv").read_text()
    assert kyt("lists", "flagged", "--out", tmp_path / "x.csv").returncode == 2


def test_demo_scores_the_fixtures_and_opens_their_cases(tmp_path):
    done = kyt("demo", "--out-dir", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert "D-1014" in done.stdout and "5 opened, 0 already open; 5 review alerts added" in done.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"decisions.csv", "exposures.csv", "evidence.jsonl",
                                                              "api-key"}
    key = (tmp_path / "out" / "api-key").read_text()
    assert (tmp_path / "out" / "api-key").stat().st_mode & 0o777 == 0o600 and key.startswith("kyt_")
    again = kyt("demo", "--out-dir", tmp_path / "out")
    assert "0 opened, 5 already open; 0 review alerts added" in again.stderr
    assert (tmp_path / "out" / "api-key").read_text() == key  # one key per output folder


def test_import_layers_hold():
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], capture_output=True, text=True,
                          cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("layer, upper", [("graph", "kyt"), ("kyt", "cases"), ("cases", "ui")])
def test_import_contract_catches_an_upward_import(tmp_path, layer, upper):
    copy = tmp_path / "repo"
    for package in ("graph", "kyt", "cases", "ui"):
        (copy / package).mkdir(parents=True)
        (copy / package / "__init__.py").write_text("")
    (copy / layer / "leak.py").write_text(f"import {upper}\n")
    (copy / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports")], capture_output=True, text=True,
                          cwd=copy, env={**os.environ, "PYTHONPATH": str(copy)})
    assert done.returncode != 0 and "broken" in done.stdout


def test_progress_shows_on_a_terminal_and_not_in_a_pipe(tmp_path):
    import pty
    import select

    leader, follower = pty.openpty()
    child = subprocess.Popen([str(KYT), *map(str, score_args(tmp_path))], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=follower, env={**os.environ, "COLUMNS": "120"})
    os.close(follower)
    seen = b""
    while True:  # read while it runs, or a full terminal buffer would stop it
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            block = os.read(leader, 65536)
        except OSError:  # the child closed its end
            break
        if not block:
            break
        seen += block
    os.close(leader)
    assert child.wait(timeout=60) == 0
    assert b"scoring deposits" in seen and b"scored 16 deposits" in seen
    piped = kyt(*score_args(tmp_path), "--rescore")  # the same snapshot again: scored again only when asked
    assert "scoring deposits" not in piped.stderr and "scored 16 deposits" in piped.stderr


def test_a_second_run_under_the_same_snapshot_scores_only_new_deposits(tmp_path):
    first = kyt(*score_args(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "skipped" not in first.stderr
    lines = (SCENARIO / "deposits.csv").read_text().splitlines()
    grown = tmp_path / "deposits.csv"  # a day later: the same file with D-1003 re-sent in another transaction
    moved = lines[3].split(",")
    assert moved[0] == "D-1003"
    moved[1] = "0x" + "ab" * 32
    grown.write_text("\n".join(lines[:3] + [",".join(moved)] + lines[4:]) + "\n")
    again = kyt(*score_args(tmp_path, deposits=grown))
    assert again.returncode == 0, again.stderr
    assert "scored 1 deposits" in again.stderr and "skipped 15 deposits already decided" in again.stderr
    assert [r["deposit_id"] for r in csv.DictReader((tmp_path / "out.csv").open())] == ["D-1003"]
    later = kyt(*score_args(tmp_path, deposits=grown))  # everything decided: nothing scored, opened or written
    assert "scored 0 deposits" in later.stderr and "skipped 16 deposits" in later.stderr, later.stderr
    assert "0 opened" in later.stderr and "no file was written" in later.stderr
    assert [r["deposit_id"] for r in csv.DictReader((tmp_path / "out.csv").open())] == ["D-1003"]  # kept
    everything = kyt(*score_args(tmp_path, deposits=grown), "--rescore")
    assert "scored 16 deposits" in everything.stderr and "skipped" not in everything.stderr
    assert "0 opened, 5 already open" in everything.stderr
    other = kyt(*[a if a != "2026-11-20" else "2026-11-21" for a in score_args(tmp_path, deposits=grown)])
    assert "scored 16 deposits" in other.stderr  # another as-of time is another snapshot


def test_no_cases_runs_do_not_skip_or_record_anything(tmp_path):
    for _ in range(2):
        done = kyt(*score_args(tmp_path), "--no-cases")
        assert "scored 16 deposits" in done.stderr and "skipped" not in done.stderr
