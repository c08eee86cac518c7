"""Opening cases from a scoring run: idempotent, crash-safe (kill -9), safe when two runs race."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from cases import queries
from cases.errors import AccessDenied
from cases.opening import open_run
from tests.cases.conftest import NOW

KYT = Path(sys.executable).parent / "kyt"
SANCTIONED = "0x7ced75026204ac29c34bea98905d4c949f27361e"  # Garantex, OFAC-listed since 2025-08-14
FLAGGED = Path(__file__).resolve().parents[2] / "fixtures" / "lists" / "flagged.csv"


def test_opening_twice_gives_the_same_cases_and_the_reviews_become_alerts(store, scenario_result):
    first = open_run(store, scenario_result, NOW)
    again = open_run(store, scenario_result, NOW)
    assert (first.opened, first.existing, first.alerts) == (5, 0, 5)
    assert (again.opened, again.existing, again.alerts) == (0, 5, 0)
    assert again.case_ids == first.case_ids
    with store.engine.connect() as connection:
        alerts = connection.execute(sa.text("SELECT deposit_id FROM alerts ORDER BY deposit_id")).scalars().all()
    assert alerts == ["D-1006", "D-1007", "D-1009", "D-1015", "D-1016"]
    with store.engine.connect() as connection:  # a deposit without a price keeps an unknown value, not $0
        values = dict(connection.execute(sa.text("SELECT deposit_id, usd_value FROM alerts")).all())
    assert values["D-1016"] is None and values["D-1015"] is not None
    assert queries.verify_audit(store, "ada").checked == people_events(store) + 5 + 5  # users, cases, alerts


def people_events(store) -> int:
    """The audit events about users (the fixture's people added, their grants, sign-ins)."""
    with store.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM audit_events WHERE action LIKE 'user.%'")).scalar_one()


def test_only_the_batch_account_or_an_admin_opens_cases(store, scenario_result):
    with pytest.raises(AccessDenied):
        open_run(store, scenario_result, NOW, actor="ann")
    assert open_run(store, scenario_result, NOW, actor="ada").opened == 5


def many_frozen_deposits(folder: Path, count: int) -> list[str]:
    """Files for `count` deposits straight from a sanctioned wallet: every one is frozen."""
    deposits = ["deposit_id,tx_hash,customer_id,timestamp,block_number,position,from_address,to_address,"
                "asset,amount,usd_value"]
    for i in range(count):
        deposits.append(f"K-{i:05d},0x{i:064x},cust-{i % 97},2026-11-01T00:00:00Z,{23_000_000 + i},0,{SANCTIONED},"
                        f"0x{i + 1:040x},USDT,{100 + i},{100 + i}")
    (folder / "deposits.csv").write_text("\n".join(deposits) + "\n")
    (folder / "transfers.csv").write_text(
        "tx_hash,block_number,position,timestamp,from_address,to_address,asset,amount,usd_value\n"
        f"0xaa,1,0,2026-01-01,{SANCTIONED},0x{1:040x},USDT,1,1\n")
    return [f"K-{i:05d}" for i in range(count)]


def score_command(folder: Path, url: str) -> list[str]:
    return [str(KYT), "score", str(folder / "deposits.csv"), "--transfers", str(folder / "transfers.csv"),
            "--flagged", str(FLAGGED), "--as-of", "2026-11-20", "--db", url, "--out", str(folder / "out.csv")]


def count_cases(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()


def assert_each_frozen_deposit_has_exactly_one_whole_case(store, deposit_ids: list[str]) -> None:
    with store.engine.connect() as connection:
        found = connection.execute(sa.text("SELECT deposit_id FROM cases")).scalars().all()
        assert sorted(found) == sorted(deposit_ids)
        bare = connection.execute(sa.text(
            "SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM exposures e WHERE e.case_id = c.id) "
            "OR (SELECT count(*) FROM deadlines d WHERE d.case_id = c.id) <> 4 "
            "OR NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.case_id = c.id AND a.action = 'case.opened')"
        )).scalar_one()
        assert bare == 0
    assert queries.verify_audit(store, "ada").ok


def writing_its_batch(store) -> bool:
    """Whether a run is writing its cases now, uncommitted: it holds SQLite's write lock with a grown
    write-ahead log, or on PostgreSQL has inserted into the cases table in an open transaction."""
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as watcher:
            return watcher.execute(sa.text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'cases' "
                "AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()")).scalar_one() > 0
    path = Path(store.url.removeprefix("sqlite:///"))
    probe = sqlite3.connect(path, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # locked: someone writes; the cases make the log grow past a megabyte
        wal = path.with_name(path.name + "-wal")
        return wal.exists() and wal.stat().st_size > 1_000_000
    finally:
        probe.close()


def test_kill_minus_nine_while_a_batch_is_written_leaves_none_of_it_then_rerun_opens_each_once(store, batch_env,
                                                                                               tmp_path):
    deposit_ids = many_frozen_deposits(tmp_path, 4000)
    command = score_command(tmp_path, store.url)
    killed = 0
    for delay in (0.0, 0.1, 0.25):
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=batch_env)
        deadline = time.monotonic() + 120
        while not writing_its_batch(store) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        if writing_its_batch(store):
            os.kill(child.pid, signal.SIGKILL)
            killed += 1
        child.wait()
        assert count_cases(store) in (0, len(deposit_ids))  # all of the batch, or none of it
        if count_cases(store):
            break  # this run finished before the kill: nothing more to try
        assert queries.verify_audit(store, "ada").ok
    assert killed >= 1, "no run was killed while it wrote its batch"
    done = subprocess.run(command, capture_output=True, text=True, env=batch_env)
    assert done.returncode == 0, done.stderr
    assert_each_frozen_deposit_has_exactly_one_whole_case(store, deposit_ids)
    rows = (tmp_path / "out.csv").read_text().splitlines()
    assert rows[0].endswith(",case_id") and all(row.split(",")[-1] for row in rows[1:])
    assert queries.verify_audit(store, "ada").ok


def test_two_runs_at_once_open_each_case_once(store, batch_env, tmp_path):
    deposit_ids = many_frozen_deposits(tmp_path, 400)
    command = score_command(tmp_path, store.url)
    # --rescore: a run that starts after the other one finished still scores (and writes) every deposit
    children = [subprocess.Popen(command[:-2] + ["--out", str(tmp_path / f"out{i}.csv"), "--rescore"], env=batch_env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for child in children:
        _, errors = child.communicate(timeout=300)
        assert child.returncode == 0, errors
    assert_each_frozen_deposit_has_exactly_one_whole_case(store, deposit_ids)
    ids = [sorted(line.split(",")[-1] for line in (tmp_path / f"out{i}.csv").read_text().splitlines()[1:])
           for i in range(2)]
    assert ids[0] == ids[1]  # both runs report the same case for each deposit


STRICT = """
[[rules]]
id = "sanctions-any-hop"
description = "Any sanctions exposure, whatever its value."
category = "sanctions"
hop = 1
min_share = 0
min_usd = 0
action = "freeze"

[[rules]]
id = "sanctions-indirect-any"
description = "Any indirect sanctions exposure, whatever its value."
category = "sanctions"
hop = 2
min_share = 0
min_usd = 0
action = "freeze"
"""


def test_a_case_of_unknown_value_keeps_it_unknown(store, tmp_path):
    from graph.times import parse_time
    from kyt import batch

    fixtures = Path(__file__).resolve().parents[2] / "fixtures"
    rules = tmp_path / "strict.toml"
    rules.write_text(STRICT)
    result = batch.run(batch.ScoreRequest(
        fixtures / "scenario" / "deposits.csv", fixtures / "scenario" / "transfers.csv", FLAGGED,
        parse_time("2026-11-20"), fixtures / "lists" / "services.csv", rules=rules))
    opened = open_run(store, result, NOW)
    ids = opened.case_ids
    pete = queries.show(store, "ann", ids["D-1016"])
    assert pete.case.usd_value is None
    assert [(e["category"], e["hop"], e["share"], e["usd"]) for e in pete.exposures] == [("sanctions", 1, Decimal(1), None)]
    olga = queries.show(store, "ann", ids["D-1015"])
    [exposure] = olga.exposures
    assert (exposure["share"], exposure["usd"], exposure["evidence"]["unpriced_transfers"]) == (None, None, 1)


def test_kill_minus_nine_inside_a_bulk_chunk_leaves_none_of_it(store, batch_env, tmp_path):
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN: a chunk cannot be held open from outside")
    deposit_ids = many_frozen_deposits(tmp_path, 1500)
    waiting = sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                      "AND backend_xid IS NOT NULL AND datname = current_database()")
    inside = sa.text("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                     "WHERE c.relname = 'cases' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()")
    signed_in = sa.text("SELECT count(*) FROM audit_events WHERE action = 'user.signed_in' AND actor = 'batch'")

    def now_count(query) -> int:  # a new transaction each time: the activity view is fixed within one
        with store.engine.connect() as watcher:
            return watcher.execute(query).scalar_one()

    child = subprocess.Popen(score_command(tmp_path, store.url), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=batch_env)
    deadline = time.monotonic() + 120
    while not now_count(signed_in) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # the run proves its service account (an audited sign-in) before it scores
    with store.engine.connect() as holder:
        held = holder.begin()  # the audit chain's head, locked: the run's first chunk inserts, then waits for it
        holder.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE"))
        while not now_count(waiting) and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert now_count(waiting) == 1 and now_count(inside) == 1, "the run never wrote inside a chunk"
        os.kill(child.pid, signal.SIGKILL)  # with 1,000 cases, their exposures and deadlines written, uncommitted
        child.wait()
        held.rollback()
    with store.engine.connect() as connection:
        for table in ("cases", "exposures", "deadlines", "audit_events"):
            rows = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert rows == (people_events(store) if table == "audit_events" else 0), table  # no case's event
    done = subprocess.run(score_command(tmp_path, store.url), capture_output=True, text=True, env=batch_env)
    assert done.returncode == 0, done.stderr
    assert_each_frozen_deposit_has_exactly_one_whole_case(store, deposit_ids)


def test_cases_of_tron_deposits_keep_the_chain_beside_each_address(store, tmp_path):
    """The scenario on Tron: each case says its chain, keeps the bare addresses, and its sender's key is the one
    its evidence names."""
    from graph.times import parse_time
    from kyt import batch
    from tests.kyt.test_tron_copy import FIXTURES, on_tron

    names = {name: on_tron(FIXTURES / folder / f"{name}.csv", tmp_path / f"{name}.csv")
             for name, folder in (("deposits", "scenario"), ("transfers", "scenario"), ("flagged", "lists"),
                                  ("services", "lists"))}
    result = batch.run(batch.ScoreRequest(names["deposits"], names["transfers"], names["flagged"],
                                          parse_time("2026-11-20"), names["services"]))
    opened = open_run(store, result, NOW)
    assert opened.opened == 5
    detail = queries.show(store, "ada", opened.case_ids["D-1001"])
    case = detail.case
    assert case.chain == "tron" and case.from_address.startswith("T") and ":" not in case.from_address
    sources = [s["address"] for e in detail.exposures for s in (e["evidence"] or {}).get("sources", [])]
    assert case.sender_key() == f"tron:{case.from_address}"
    assert all(s.startswith("tron:T") for s in sources)
