"""Least privilege on a real PostgreSQL: the application's role works cases but cannot rewrite the audit trail."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from cases import queries
from cases.db import open_store
from cases.errors import InvalidRequest
from cases.opening import open_run
from cases.privileges import application_statements, grant_application_role
from tests.cases.conftest import NOW


def test_only_plain_role_names_are_taken():
    for name in ("App", "app; DROP TABLE cases", "", "x" * 64):
        with pytest.raises(InvalidRequest):
            application_statements(["cases"], name)


def test_sqlite_has_no_roles(sqlite_store):
    with pytest.raises(InvalidRequest, match="PostgreSQL's"):
        grant_application_role(sqlite_store.engine, "kyt_app")


@pytest.fixture
def app_role(store):
    """A new PostgreSQL login role with the application's privileges on `store`; dropped afterwards."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("roles and privileges are PostgreSQL's")
    role = f"kyt_app_{uuid.uuid4().hex[:8]}"
    owner = store.engine.execution_options(isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
    grant_application_role(store.engine, role)
    yield role, str(sa.engine.make_url(store.url).set(username=role))
    with owner.connect() as connection:
        connection.exec_driver_sql(f"DROP OWNED BY {role}")
        connection.exec_driver_sql(f"DROP ROLE {role}")


def test_a_role_that_does_not_exist_is_named(store):
    if store.engine.dialect.name != "postgresql":
        pytest.skip("roles and privileges are PostgreSQL's")
    with pytest.raises(InvalidRequest, match="no PostgreSQL role"):
        grant_application_role(store.engine, "kyt_nobody_at_all")


def test_the_application_role_cannot_change_the_audit_trail_or_the_schema(store, app_role, scenario_result):
    _, url = app_role
    app = open_store(url)  # at the newest schema: no DDL
    try:
        opened = open_run(app, scenario_result, NOW)  # cases, alerts, audit events and the chain's head
        assert opened.opened == 5 and queries.verify_audit(app, "ada").ok
        refused = ["UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events", "TRUNCATE audit_events",
                   "UPDATE alembic_version SET version_num = '0001'", "CREATE TABLE sneaky (id int)",
                   "ALTER TABLE cases ADD COLUMN sneaky int", "DROP TABLE alerts",
                   "CREATE INDEX sneaky ON cases (status)"]
        for statement in refused:
            with app.engine.connect() as connection, pytest.raises(sa.exc.ProgrammingError) as denied:
                connection.exec_driver_sql(statement)
            assert denied.value.orig.sqlstate == "42501", statement  # insufficient privilege
        with app.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM audit_events").scalar_one() > 0
    finally:
        app.dispose()


def test_an_old_database_is_not_migrated_by_the_application_role(store, app_role):
    _, url = app_role
    with store.engine.connect() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0008'")
        connection.commit()
    with pytest.raises(InvalidRequest, match="run `kyt db upgrade` as the schema's owner"):
        open_store(url)
