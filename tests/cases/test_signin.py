"""Sign-in: growing waits per name and per source, lockout, the same answer for unknown names, all audited."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from cases import queries, staff
from cases.errors import SignInFailed, SignInThrottled
from cases.models import AuditEvent, User
from cases.passwords import check_password, needs_rehash
from cases.signin import DEFAULT_POLICY, SIGN_IN_ACTOR, sign_in, sign_out, wait_after
from tests.cases.conftest import NOW

PASSWORD = "correct horse battery"


@pytest.fixture
def people(store):
    staff.set_password(store, "ada", "ann", password=PASSWORD, now=NOW)
    staff.set_password(store, "ada", "bob", password=PASSWORD, now=NOW)
    return store


def _events(store, action: str) -> list[AuditEvent]:
    with store.session() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def test_a_good_password_signs_in_and_is_audited(people):
    user = sign_in(people, " ann ", PASSWORD, now=NOW, source="console:10.0.0.1")
    assert (user.name, user.role) == ("ann", "analyst")
    [event] = _events(people, "user.signed_in")
    assert event.actor == "ann" and event.after == {"source": "console:10.0.0.1"}
    sign_out(people, "ann", now=NOW, source="console:10.0.0.1", reason="idle for too long")
    [ended] = _events(people, "user.signed_out")
    assert ended.actor == "ann" and ended.after["reason"] == "idle for too long"
    assert queries.verify_audit(people, "ada").ok


def test_waits_grow_past_the_free_failures_and_a_name_locks_out():
    assert [wait_after(n) for n in range(4)] == [timedelta(0)] * 4
    assert [wait_after(n).total_seconds() for n in (4, 5, 6, 7)] == [2, 4, 8, 16]
    assert wait_after(9) == timedelta(seconds=64) and wait_after(10) == DEFAULT_POLICY.longest_delay
    assert wait_after(10, lockable=False) == timedelta(seconds=128)
    assert wait_after(1000, lockable=False) == DEFAULT_POLICY.longest_delay


def test_failures_make_the_name_wait_then_lock_it_out(people):
    moment = NOW
    for attempt in range(1, DEFAULT_POLICY.lockout_failures + 1):
        with pytest.raises(SignInFailed):
            sign_in(people, "ann", f"guess {attempt}", now=moment, source=f"cli:host{attempt}")
        wait = wait_after(attempt)
        if wait:  # the right password is refused, unchecked, until the wait is over
            with pytest.raises(SignInThrottled) as refused:
                sign_in(people, "ann", PASSWORD, now=moment + wait - timedelta(seconds=1), source="cli:elsewhere")
            assert refused.value.seconds == 1
        moment += wait
    failed = _events(people, "user.sign_in_failed")
    assert [e.after["failures"] for e in failed] == list(range(1, 11))
    assert {e.actor for e in failed} == {SIGN_IN_ACTOR} and failed[0].after["name"] == "ann"
    [locked] = _events(people, "user.locked_out")
    assert locked.after["name"] == "ann"
    assert sign_in(people, "ann", PASSWORD, now=moment, source="cli:elsewhere").name == "ann"
    with pytest.raises(SignInFailed):  # the success forgot the name's failures: one more costs no wait
        sign_in(people, "ann", "guess again", now=moment, source="cli:elsewhere2")
    assert sign_in(people, "ann", PASSWORD, now=moment, source="cli:elsewhere3").name == "ann"


def test_a_source_that_guesses_many_names_waits(people):
    for attempt, name in enumerate(["ann", "bob", "sam", "sia"], start=1):
        with pytest.raises(SignInFailed):
            sign_in(people, name, "guess", now=NOW, source="console:203.0.113.9")
    with pytest.raises(SignInThrottled):  # four failures from one place: bob's right password waits too
        sign_in(people, "bob", PASSWORD, now=NOW + timedelta(seconds=1), source="console:203.0.113.9")
    assert sign_in(people, "bob", PASSWORD, now=NOW + timedelta(seconds=1), source="console:198.51.100.7").name == "bob"
    with pytest.raises(SignInThrottled):  # bob's success did not reset the guessing source
        sign_in(people, "bob", PASSWORD, now=NOW + timedelta(seconds=1), source="console:203.0.113.9")


def test_failures_are_forgotten_after_a_quiet_hour(people):
    moment = NOW
    for failures in range(1, 6):
        with pytest.raises(SignInFailed):
            sign_in(people, "ann", "guess", now=moment, source="cli:a")
        moment += wait_after(failures)
    later = moment + DEFAULT_POLICY.forget_after
    with pytest.raises(SignInFailed):
        sign_in(people, "ann", "guess", now=later, source="cli:a")
    assert _events(people, "user.sign_in_failed")[-1].after["failures"] == 1
    assert sign_in(people, "ann", PASSWORD, now=later, source="cli:a").name == "ann"


def test_an_unknown_name_an_inactive_user_and_no_password_get_the_same_answer_in_the_same_time(people):
    with people.session() as session:
        sue = session.exec(select(User).where(User.name == "sue")).one()
        sue.password_hash = None
        session.add(sue)
        bob = session.exec(select(User).where(User.name == "bob")).one()
        bob.active = False
        session.add(bob)
        session.commit()
    spent = {}
    for name, password in (("nobody", "x"), ("sue", ""), ("bob", PASSWORD), ("ann", "wrong")):
        clock = time.perf_counter()
        with pytest.raises(SignInFailed):
            sign_in(people, name, password, now=NOW, source=f"cli:{name}")
        spent[name] = time.perf_counter() - clock
    # every refusal verified one argon2 hash (tens of ms): none is answered much faster than a wrong password
    assert min(spent.values()) > 0.4 * spent["ann"], spent
    assert [e.after["name"] for e in _events(people, "user.sign_in_failed")] == ["nobody", "sue", "bob", "ann"]


def test_a_long_or_hostile_name_is_kept_short_in_the_trail(people):
    with pytest.raises(SignInFailed):
        sign_in(people, "x" * 10_000 + "\x1b[31m", "guess", now=NOW, source="cli:a")
    [event] = _events(people, "user.sign_in_failed")
    assert event.after["name"] == "x" * 80


def test_an_old_scrypt_hash_still_signs_in_and_is_replaced_by_argon2id(people):
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1)
    old = f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"
    assert check_password(PASSWORD, old) and not check_password("wrong", old) and needs_rehash(old)
    with people.session() as session:
        ann = session.exec(select(User).where(User.name == "ann")).one()
        ann.password_hash = old
        session.add(ann)
        session.commit()
    sign_in(people, "ann", PASSWORD, now=NOW, source="cli:a")
    with people.session() as session:
        stored = session.exec(select(User).where(User.name == "ann")).one().password_hash
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and not needs_rehash(stored)
    assert _events(people, "user.signed_in")[0].after == {"source": "cli:a", "rehashed": True}
    assert sign_in(people, "ann", PASSWORD, now=NOW, source="cli:a").name == "ann"


def test_broken_hashes_never_match():
    for stored in (None, "", "scrypt$x", "$argon2id$garbage", "plain text"):
        assert not check_password("anything", stored)
