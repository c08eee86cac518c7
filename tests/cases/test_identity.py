"""Who runs a command: sessions, service accounts, claims that prove nothing, and a database without users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from cases import staff
from cases.db import open_store
from cases.errors import InvalidRequest, NotSignedIn, SignInFailed
from cases.identity import Credentials, end_session, has_users, identify, open_session, session_user
from cases.models import SignInSession, User
from cases.signin import DEFAULT_POLICY, sign_in
from tests.cases.conftest import NOW

PASSWORD = "correct horse battery"
SECRET = "the batch account's secret"


@pytest.fixture
def people(store):
    staff.set_password(store, "ada", "ann", password=PASSWORD, now=NOW)
    staff.add_user(store, "ada", "batch", role="system", now=NOW, password=SECRET)
    return store


def who(store, source: str = "cli:test", **given) -> str:
    return identify(store, Credentials(**given), now=NOW, source=source, job="batch")


def test_a_database_without_users_works_as_before(tmp_path):
    empty = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    assert not has_users(empty)
    assert who(empty) == "system:batch"
    assert who(empty, claimed="ann") == "ann"  # a claim, checked by the service when it finds no such user
    with pytest.raises(NotSignedIn, match="internal account"):
        who(empty, claimed="system:admin")


def test_the_first_user_is_an_admin_and_only_the_first_needs_nobody(tmp_path):
    empty = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(InvalidRequest, match="first user is an admin"):
        staff.add_user(empty, "system:cli", "ann", role="analyst", now=NOW)
    staff.add_user(empty, "system:cli", "ada", role="admin", now=NOW)
    with pytest.raises(Exception, match="may not manage users"):
        staff.add_user(empty, "system:cli", "eve", role="admin", now=NOW)
    with empty.session() as session:
        assert [u.name for u in session.exec(select(User))] == ["ada"]


def test_a_claim_alone_proves_nothing_on_a_database_with_users(people):
    for claimed in (None, "ada", "ann"):
        with pytest.raises(NotSignedIn, match="sign in first"):
            who(people, claimed=claimed)
    with pytest.raises(NotSignedIn, match="internal account"):
        who(people, claimed="system:batch")


def test_a_session_proves_its_user_until_it_ends_or_expires(people):
    token = open_session(people, "ann", now=NOW, source="cli:test")
    assert who(people, token=token) == "ann" and who(people, token=token, claimed="ann") == "ann"
    with pytest.raises(NotSignedIn, match="signed in as ann, not ada"):
        who(people, token=token, claimed="ada")
    with pytest.raises(NotSignedIn, match="session has ended"):
        who(people, token=token + "x")
    late = NOW + DEFAULT_POLICY.session_lifetime
    with pytest.raises(NotSignedIn, match="expired"):
        session_user(people, token, now=late)
    assert end_session(people, token, now=NOW, source="cli:test") == "ann"
    assert end_session(people, token, now=NOW, source="cli:test") is None
    with pytest.raises(NotSignedIn, match="session has ended"):
        who(people, token=token)
    with people.session() as session:  # only the token's hash is kept
        assert token not in {s.token_hash for s in session.exec(select(SignInSession))}


def test_a_disabled_user_s_session_proves_nothing(people):
    token = open_session(people, "ann", now=NOW, source="cli:test")
    with people.session() as session:
        ann = session.exec(select(User).where(User.name == "ann")).one()
        ann.active = False
        session.add(ann)
        session.commit()
    with pytest.raises(NotSignedIn, match="no longer an active user"):
        who(people, token=token)


def test_a_service_account_proves_itself_with_its_secret_only(people):
    assert who(people, service="batch", secret=SECRET) == "batch"
    with pytest.raises(SignInFailed):
        who(people, "cli:a", service="batch", secret="a guess")
    with pytest.raises(NotSignedIn, match="give its secret"):
        who(people, service="batch")
    with pytest.raises(SignInFailed):  # a person is not a service account, even with the right password
        who(people, "cli:b", service="ann", secret=PASSWORD)
    with pytest.raises(SignInFailed):  # nor does a service account sign in as a person
        sign_in(people, "batch", SECRET, now=NOW + timedelta(minutes=1), source="console:x")
    with pytest.raises(NotSignedIn, match="signed in as batch, not ada"):
        who(people, service="batch", secret=SECRET, claimed="ada")


def test_a_service_account_needs_a_secret(people):
    with pytest.raises(InvalidRequest, match="needs a secret"):
        staff.add_user(people, "ada", "nightly", role="system", now=NOW)


def test_a_console_session_comes_back_after_a_reload_until_it_sits_idle(people):
    from cases.identity import SEEN_EVERY, console_user

    token = open_session(people, "ann", now=NOW, source="console:1.2.3.4")
    assert console_user(people, token, now=NOW + timedelta(minutes=20), source="console:1.2.3.4").name == "ann"
    assert console_user(people, token, now=NOW + timedelta(minutes=45), source="console:1.2.3.4").name == "ann"
    with people.session() as session:
        [row] = session.exec(select(SignInSession).where(SignInSession.user_name == "ann")).all()
    assert row.last_seen_at == NOW + timedelta(minutes=45)  # each use within the idle limit keeps it alive
    console_user(people, token, now=NOW + timedelta(minutes=45) + SEEN_EVERY / 2, source="console:1.2.3.4")
    with people.session() as session:  # written at most once a minute
        assert session.get(SignInSession, row.id).last_seen_at == NOW + timedelta(minutes=45)
    idle = NOW + timedelta(minutes=45) + DEFAULT_POLICY.idle_timeout + timedelta(seconds=1)
    with pytest.raises(NotSignedIn, match="signed out after a time without activity"):
        console_user(people, token, now=idle, source="console:1.2.3.4")
    with pytest.raises(NotSignedIn, match="has ended"):
        console_user(people, token, now=idle, source="console:1.2.3.4")
    with people.session() as session:
        ended = session.get(SignInSession, row.id)
    assert ended.ended_at == idle


def test_a_console_page_view_writes_nothing_within_the_minute(tmp_path):
    """A page view must not wait for a batch that holds SQLite's write lock: within a minute of the last recorded
    use, the session is only read."""
    import sqlite3

    from cases.identity import console_user
    from tests.cases.conftest import add_people

    store = open_store(f"sqlite:///{tmp_path / 'lock.db'}")
    add_people(store)
    token = open_session(store, "ann", now=NOW, source="console:1")
    console_user(store, token, now=NOW + timedelta(seconds=1), source="console:1")  # records the use
    writer = sqlite3.connect(tmp_path / "lock.db", timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # a batch writing
    try:
        assert console_user(store, token, now=NOW + timedelta(seconds=30), source="console:1").name == "ann"
    finally:
        writer.rollback()
        writer.close()
    store.dispose()
