"""Four eyes on every power: one person alone never grants, approves or removes supervisor or admin."""

from __future__ import annotations

import pytest
from sqlmodel import select

from cases import staff
from cases.errors import AccessDenied, FourEyesViolation, InvalidRequest, NotFound
from cases.models import AuditEvent, User
from cases.service import acting_user
from tests.cases.conftest import NOW


def user(store, name: str) -> User:
    with store.session() as session:
        return session.exec(select(User).where(User.name == name)).one()


def actions(store) -> list[str]:
    with store.session() as session:
        return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.seq))]


def test_a_new_supervisor_waits_disabled_for_a_second_admin(store):
    created, grant = staff.add_user(store, "ada", "sol", role="supervisor", now=NOW)
    assert not created.active and grant.status == "pending" and grant.requested_by == "ada"
    with store.session() as session, pytest.raises(Exception, match="no active user"):
        acting_user(session, "sol")  # sol can do nothing yet
    with pytest.raises(FourEyesViolation, match="ada asked for grant"):
        staff.decide(store, "ada", grant.id, approve=True, now=NOW)
    with pytest.raises(AccessDenied):  # a supervisor is not an admin: no grant of power
        staff.decide(store, "sam", grant.id, approve=True, now=NOW)
    decided = staff.decide(store, "abe", grant.id, approve=True, now=NOW)
    assert (decided.status, decided.decided_by) == ("approved", "abe")
    assert user(store, "sol").active and user(store, "sol").role == "supervisor"
    with pytest.raises(NotFound):  # decided once
        staff.decide(store, "abe", grant.id, approve=False, now=NOW)
    assert actions(store)[-3:] == ["user.add", "user.grant_requested", "user.grant_approved"]


def test_a_rejected_grant_leaves_the_user_without_the_power(store):
    grant = staff.set_role(store, "ada", "ann", role="supervisor", now=NOW)
    assert user(store, "ann").role == "analyst"  # until a second admin says yes
    staff.decide(store, "abe", grant.id, approve=False, now=NOW)
    assert user(store, "ann").role == "analyst" and actions(store)[-1] == "user.grant_rejected"


def test_less_power_takes_effect_at_once_and_is_audited(store):
    assert staff.set_role(store, "ada", "sam", role="analyst", now=NOW) is None
    assert user(store, "sam").role == "analyst" and actions(store)[-1] == "user.role"
    assert staff.set_active(store, "ada", "bob", active=False, now=NOW) is None
    assert not user(store, "bob").active and actions(store)[-1] == "user.disabled"
    grant = staff.set_active(store, "ada", "sia", active=False, now=NOW)
    assert grant is None and actions(store)[-1] == "user.disabled"
    back = staff.set_active(store, "ada", "sia", active=True, now=NOW)  # a supervisor again: a grant
    assert back is not None and not user(store, "sia").active
    staff.decide(store, "abe", back.id, approve=True, now=NOW)
    assert user(store, "sia").active


def test_nobody_approves_a_grant_about_themselves(store):
    grant = staff.set_active(store, "ada", "abe", active=False, now=NOW)  # disabling an admin waits
    assert user(store, "abe").active
    with pytest.raises(FourEyesViolation, match="abe is the subject of grant"):
        staff.decide(store, "abe", grant.id, approve=True, now=NOW)
    _, third = staff.add_user(store, "ada", "ava", role="admin", now=NOW)  # two admins already: ava waits too
    assert third is not None
    with pytest.raises(FourEyesViolation):
        staff.decide(store, "ada", third.id, approve=True, now=NOW)
    staff.decide(store, "abe", third.id, approve=True, now=NOW)
    staff.decide(store, "ava", grant.id, approve=True, now=NOW)
    assert not user(store, "abe").active


def test_the_last_admin_stays_and_no_admin_leaves_on_one_word(tmp_path, store):
    from cases.db import open_store

    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    staff.add_user(fresh, "system:setup", "ada", role="admin", now=NOW)
    for attempt in (lambda: staff.set_active(fresh, "ada", "ada", active=False, now=NOW),
                    lambda: staff.set_role(fresh, "ada", "ada", role="analyst", now=NOW)):
        with pytest.raises(InvalidRequest, match="ada is the last active admin"):
            attempt()
    assert user(fresh, "ada").active and user(fresh, "ada").role == "admin"
    # of two admins, neither removes the other alone, and the other cannot approve their own removal
    grant = staff.set_role(store, "ada", "abe", role="analyst", now=NOW)
    assert user(store, "abe").role == "admin"
    for approver in ("ada", "abe"):
        with pytest.raises(FourEyesViolation):
            staff.decide(store, approver, grant.id, approve=True, now=NOW)


def test_the_single_admin_of_a_new_database_adds_the_second_at_once(tmp_path):
    from cases.db import open_store

    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    staff.add_user(fresh, "system:setup", "ada", role="admin", now=NOW)
    created, grant = staff.add_user(fresh, "ada", "abe", role="admin", now=NOW)
    assert created.active and grant is None
    _, waiting = staff.add_user(fresh, "ada", "sam", role="supervisor", now=NOW)  # now two admins: four eyes
    assert waiting is not None and not user(fresh, "sam").active


def test_only_admins_see_and_change_users(store):
    for name in ("ann", "sam", "sue"):
        with pytest.raises(AccessDenied):
            staff.people(store, name)
        with pytest.raises(AccessDenied):
            staff.set_role(store, name, "bob", role="supervisor", now=NOW)
    users, grants = staff.people(store, "ada")
    assert {u.name for u in users} >= {"ada", "abe", "ann"} and all(u.password_hash is None for u in users)
    assert grants == []
    with pytest.raises(InvalidRequest, match="not a role a person can have"):
        staff.set_role(store, "ada", "ann", role="system", now=NOW)
