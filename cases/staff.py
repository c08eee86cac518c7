"""The people and service accounts who work cases: adding them, their roles, and four eyes on every power.

Granting supervisor or admin (to a new user, by a change of role, or by enabling a
disabled one) and disabling or demoting an admin wait for a second admin's approval: a
`RoleGrant`, which neither its requester nor the person it concerns may approve. Two
exceptions open a database: its first user, an admin, needs nobody, and while a database
has a single active admin, that admin may add a second admin at once. The last active
admin can be neither disabled nor demoted. Everything is audited.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from cases import audit
from cases.access import require
from cases.db import Store
from cases.errors import FourEyesViolation, InvalidRequest, NotFound
from cases.models import ROLES, RoleGrant, User
from cases.passwords import hash_password
from cases.service import SYSTEM_PREFIX, acting_user, unit_of_work

ELEVATED = frozenset({"supervisor", "admin"})
"""Roles whose grant needs a second admin: approvers and those who make users."""


def _active_admins(session: Session, *, besides: str | None = None) -> int:
    """How many active admins there are (other than `besides`)."""
    query = select(sa.func.count()).select_from(User).where(User.role == "admin", User.active == sa.true())
    return session.exec(query.where(User.name != besides) if besides is not None else query).one()


def _needs_second_admin(session: Session, role: str) -> bool:
    """Whether giving `role` waits for a second admin: supervisor or admin, except the second admin of a database
    with a single one."""
    return role in ELEVATED and not (role == "admin" and _active_admins(session) == 1)


def _user(session: Session, name: str) -> User:
    found = session.exec(select(User).where(User.name == name)).one_or_none()
    if found is None:
        raise NotFound(f"no user called {name!r}")
    return found


def _request(session: Session, actor: str, target: str, *, kind: str, role: str, now: datetime) -> RoleGrant:
    """A change that waits for a second admin (kind: role, or disable), audited as requested."""
    grant = RoleGrant(user_name=target, kind=kind, role=role, requested_by=actor, requested_at=now)
    session.add(grant)
    session.flush()
    audit.append(session, actor, "user.grant_requested", at=now,
                 after={"grant": grant.id, "user": target, "kind": kind, "role": role})
    return grant


def add_user(store: Store, actor: str, name: str, *, role: str, now: datetime,
             password: str | None = None) -> tuple[User, RoleGrant | None]:
    """Create a user, as an admin; the very first user, an admin, needs nobody.

    A supervisor or admin is created disabled, with a grant that a second admin approves
    (`decide`), except the second admin of a database with one. A service account (role
    `system`) needs its secret as `password`. Returns the user and its pending grant, if any.
    """
    if role not in ROLES:
        raise InvalidRequest(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    name = name.strip()
    if not name or name.startswith(SYSTEM_PREFIX) or len(name) > 80 or not name.isprintable():
        raise InvalidRequest(f"{name[:80]!r} cannot be a user name")
    if role == "system" and not password:
        raise InvalidRequest(f"service account {name!r} needs a secret")
    with unit_of_work(store) as session:
        first = session.exec(select(sa.func.count()).select_from(User)).one() == 0
        user = acting_user(session, actor)
        if first and role != "admin":
            raise InvalidRequest("this database has no users yet: its first user is an admin")
        if not first:
            require(user.name, user.role, "manage_users")
        if session.exec(select(User).where(User.name == name)).first() is not None:
            raise InvalidRequest(f"there is already a user called {name!r}")
        waits = not first and _needs_second_admin(session, role)
        created = User(name=name, role=role, created_at=now, active=not waits,
                       password_hash=hash_password(password) if password else None)
        session.add(created)
        session.flush()
        audit.append(session, user.name, "user.add", at=now,
                      after={"user": created.name, "role": role, **({"waits_for_approval": True} if waits else {})})
        grant = _request(session, user.name, name, kind="role", role=role, now=now) if waits else None
        return created, grant


def set_password(store: Store, actor: str, name: str, *, password: str, now: datetime) -> None:
    """Give a user a new password, as an admin."""
    if len(password) < 8:
        raise InvalidRequest("a password has at least 8 characters")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "manage_users")
        target = _user(session, name)
        target.password_hash = hash_password(password)
        session.add(target)
        audit.append(session, user.name, "user.password_set", at=now, after={"user": target.name})


def set_role(store: Store, actor: str, name: str, *, role: str, now: datetime) -> RoleGrant | None:
    """Change a user's role, as an admin: at once when it gives less power, else a grant to approve (returned)."""
    if role not in ROLES or role == "system":
        raise InvalidRequest(f"{role!r} is not a role a person can have; roles: {', '.join(ROLES[:-1])}")
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "manage_users")
        target = _user(session, name)
        if target.role == "system":
            raise InvalidRequest(f"{name} is a service account: its role does not change")
        if target.role == role:
            raise InvalidRequest(f"{name} is already {role}")
        if target.role == "admin" and target.active:  # removing an admin's power is a power too
            _not_the_last_admin(session, name)
            return _request(session, user.name, name, kind="role", role=role, now=now)
        if _needs_second_admin(session, role):
            return _request(session, user.name, name, kind="role", role=role, now=now)
        before = target.role
        target.role = role
        session.add(target)
        audit.append(session, user.name, "user.role", at=now, before={"user": name, "role": before},
                     after={"user": name, "role": role})
        return None


def set_active(store: Store, actor: str, name: str, *, active: bool, now: datetime) -> RoleGrant | None:
    """Disable or enable a user, as an admin; disabling an admin, or enabling a supervisor or admin, waits for
    a second admin (the grant is returned)."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "manage_users")
        target = _user(session, name)
        if target.active == active:
            raise InvalidRequest(f"{name} is already {'enabled' if active else 'disabled'}")
        if not active and target.role == "admin":
            _not_the_last_admin(session, name)
            return _request(session, user.name, name, kind="disable", role=target.role, now=now)
        if active and target.role in ELEVATED:
            return _request(session, user.name, name, kind="role", role=target.role, now=now)
        target.active = active
        session.add(target)
        audit.append(session, user.name, "user.enabled" if active else "user.disabled", at=now,
                     after={"user": name, "role": target.role})
        return None


def decide(store: Store, actor: str, grant_id: int, *, approve: bool, now: datetime) -> RoleGrant:
    """Approve or reject a waiting grant, as an admin who neither asked for it nor is its subject."""
    with unit_of_work(store) as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "manage_users")
        grant = session.get(RoleGrant, grant_id)
        if grant is None or grant.status != "pending":
            raise NotFound(f"no grant {grant_id} waits for a decision")
        if user.name in (grant.requested_by, grant.user_name):
            raise FourEyesViolation(f"{user.name} {'asked for' if user.name == grant.requested_by else 'is the subject of'}"
                                    f" grant {grant_id}: another admin must decide it")
        target = _user(session, grant.user_name)
        before = {"user": target.name, "role": target.role, "active": target.active}
        if approve:
            if grant.kind == "disable" or (target.role == "admin" and grant.role != "admin"):
                _not_the_last_admin(session, target.name)
            if grant.kind == "disable":
                target.active = False
            else:
                target.role, target.active = grant.role, True
            session.add(target)
        grant.status, grant.decided_by, grant.decided_at = ("approved" if approve else "rejected"), user.name, now
        session.add(grant)
        audit.append(session, user.name, "user.grant_approved" if approve else "user.grant_rejected", at=now,
                     before=before, after={"grant": grant.id, "user": target.name, "role": target.role,
                                           "active": target.active})
        return RoleGrant.model_validate(grant, from_attributes=True)


def _not_the_last_admin(session: Session, name: str) -> None:
    if not _active_admins(session, besides=name):
        raise InvalidRequest(f"{name} is the last active admin: add and approve another admin first")


def people(store: Store, actor: str) -> tuple[list[User], list[RoleGrant]]:
    """Every user (without password hashes) and the grants waiting for a decision, for an admin."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "manage_users")
        users = [User.model_validate(u, from_attributes=True).model_copy(update={"password_hash": None})
                 for u in session.exec(select(User).order_by(User.id))]
        grants = [RoleGrant.model_validate(g, from_attributes=True)
                  for g in session.exec(select(RoleGrant).where(RoleGrant.status == "pending").order_by(RoleGrant.id))]
        return users, grants
