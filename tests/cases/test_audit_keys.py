"""Tamper evidence against a careful rewrite: a keyed chain, rotated keys, and anchors kept outside the database."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from cases import audit, queries, staff
from cases.audit_keys import add_key, parse_keyring, read_keyring
from cases.db import open_store
from cases.errors import InvalidRequest
from cases.opening import open_run
from tests.cases.conftest import NOW

EARLIER = NOW - timedelta(days=1)


@pytest.fixture
def keyed(tmp_path, scenario_result):
    """A database whose chain is keyed from its first event (a key made the day before), with the scenario's cases."""
    key_file = tmp_path / "audit.keys"
    add_key(key_file, EARLIER)
    store = open_store(f"sqlite:///{tmp_path / 'keyed.db'}", audit_keys=read_keyring(key_file))
    staff.add_user(store, "system:tests", "ada", role="admin", now=NOW)
    open_run(store, scenario_result, NOW)
    return store, key_file


def events(store) -> list[dict]:
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.text("SELECT * FROM audit_events ORDER BY seq"))]


def rewrite(store, rows: list[dict], *, key: bytes | None, key_id: str | None) -> None:
    """What a careful insider with database access does: rewrite the events and recompute every hash and the head."""
    prev = audit.GENESIS
    with store.engine.begin() as connection:
        for row in rows:
            before, after = (json.loads(v) if isinstance(v, str) else v for v in (row["before"], row["after"]))
            when = datetime.fromisoformat(str(row["at"])).replace(tzinfo=timezone.utc)
            digest = audit.digest(row["seq"], case_id=row["case_id"], actor=row["actor"], at=when,
                                  action=row["action"], before=before, after=after, prev_hash=prev, key=key)
            connection.execute(sa.text("UPDATE audit_events SET prev_hash = :p, hash = :h, key_id = :k, after = :a "
                                       "WHERE seq = :s"), {"p": prev, "h": digest, "k": key_id,
                                                          "a": json.dumps(after), "s": row["seq"]})
            prev = digest
        connection.execute(sa.text("DELETE FROM audit_events WHERE seq > :s"), {"s": rows[-1]["seq"]})
        connection.execute(sa.text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": rows[-1]["seq"], "h": prev})


def test_a_keyed_chain_records_its_key_and_verifies(keyed):
    store, key_file = keyed
    ring = read_keyring(key_file)
    rows = events(store)
    assert {row["key_id"] for row in rows} == {ring.current.id} and len(rows) == 11  # ada, 5 cases, 5 alerts
    assert queries.verify_audit(store, "ada").ok
    unkeyed = open_store(store.url, audit_keys=None)
    verdict = queries.verify_audit(unkeyed, "ada")
    assert not verdict.ok and "give the key file" in verdict.problem


def test_an_event_rewritten_and_the_chain_recomputed_without_the_key_is_caught(keyed):
    store, _ = keyed
    rows = events(store)
    rows[3]["after"] = {"deposit_id": "D-9999"}  # a case.opened event, rewritten
    rewrite(store, rows, key=None, key_id=None)  # every hash recomputed: plain SHA-256
    verdict = queries.verify_audit(store, "ada")
    assert not verdict.ok and verdict.seq == 1 and "not keyed though written while audit keys were in use" \
        in verdict.problem
    rewrite(store, rows, key=b"a guess at the key, 32 bytes long!!", key_id=rows[0]["key_id"])  # or under a guess
    verdict = queries.verify_audit(store, "ada")
    assert not verdict.ok and verdict.seq == 1 and "was altered" in verdict.problem


def test_the_tail_deleted_and_the_head_recomputed_is_caught_by_an_anchor(keyed, tmp_path):
    store, key_file = keyed
    kept = queries.anchor_audit(store, "ada", NOW)
    assert kept["seq"] == 11
    ring = read_keyring(key_file)
    rows = events(store)[:8]  # the last three alerts' events removed, the head moved back: with the key, even
    rewrite(store, rows, key=ring.current.secret, key_id=ring.current.id)
    with store.session() as session:
        assert audit.verify(session).ok  # the chain alone is consistent again
    verdict = queries.verify_audit(store, "ada", [kept])
    assert not verdict.ok and verdict.seq == 11 and "which is gone: the chain was cut short" in verdict.problem
    verdict = queries.verify_audit(store, "ada")  # without the anchor, the replay finds the alerts without events
    assert not verdict.ok and verdict.problem.startswith("alert 3: existence is 'an alert' but its events say "
                                                         "'no alert.opened event'") and "2 more rows differ" in \
        verdict.problem


def test_an_anchored_event_rewritten_with_the_key_is_caught(keyed):
    store, key_file = keyed
    kept = queries.anchor_audit(store, "ada", NOW)
    ring = read_keyring(key_file)
    rows = events(store)
    rows[5]["after"] = {"alert": 1, "deposit_id": "D-0000"}
    rewrite(store, rows, key=ring.current.secret, key_id=ring.current.id)
    verdict = queries.verify_audit(store, "ada", [kept])
    assert not verdict.ok and "no longer has the hash anchored" in verdict.problem


def test_a_rotated_key_keys_new_events_and_the_old_one_still_verifies_its_own(keyed, tmp_path, scenario_result):
    store, key_file = keyed
    old = read_keyring(key_file).current.id
    add_key(key_file, NOW)
    rotated = open_store(store.url, audit_keys=read_keyring(key_file))
    staff.add_user(rotated, "ada", "ann", role="analyst", now=NOW)
    ids = [row["key_id"] for row in events(rotated)]
    assert ids[:-1] == [old] * 11 and ids[-1] != old
    assert queries.verify_audit(rotated, "ada").ok
    text = key_file.read_text().splitlines()
    newest_only = parse_keyring(text[-1])
    verdict = queries.verify_audit(open_store(store.url, audit_keys=newest_only), "ada")
    assert not verdict.ok and f"keyed with audit key {old}, which the key file does not hold" in verdict.problem


def test_key_files_are_refused_when_open_to_others_or_malformed(tmp_path):
    key_file = tmp_path / "audit.keys"
    add_key(key_file, NOW)
    os.chmod(key_file, 0o644)
    with pytest.raises(InvalidRequest, match="may be read by others"):
        read_keyring(key_file)
    with pytest.raises(InvalidRequest, match="keys:2: expected"):
        parse_keyring("k1 2026-12-01T00:00:00+00:00 " + "ab" * 32 + "\nnot a key line\n", "keys")
    with pytest.raises(InvalidRequest, match="32 bytes or more"):
        parse_keyring("k1 2026-12-01T00:00:00+00:00 abcd")
    with pytest.raises(InvalidRequest, match="holds no key"):
        parse_keyring("# nothing yet\n")
