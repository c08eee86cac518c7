"""Database fixtures: every database test runs on SQLite and on a real PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (scripts/test starts a throwaway cluster). Each
test gets a fresh database copied from a migrated template. Without PostgreSQL those runs
are skipped, unless REQUIRE_POSTGRES is set (as in CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from cases import staff
from cases.db import make_engine, open_store

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)  # a Tuesday, two days before Thanksgiving
PEOPLE = {"ada": "admin", "abe": "admin", "ann": "analyst", "bob": "analyst", "sam": "supervisor", "sia": "supervisor",
          "sue": "support"}
"""The first, ada, opens the database as its first admin and adds the others; abe, the second admin, approves
the supervisors' grants."""
TEMPLATE = "freezecase_template"


def _admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL")


def _with_database(url: str, name: str) -> str:
    return str(sa.engine.make_url(url).set(database=name))


@pytest.fixture(scope="session")
def postgres_template():
    """A migrated PostgreSQL database to copy for each test (None without PostgreSQL)."""
    url = _admin_url()
    if not url:
        yield None
        return
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        connection.exec_driver_sql(f"CREATE DATABASE {TEMPLATE}")
    open_store(_with_database(url, TEMPLATE)).dispose()
    yield url
    admin.dispose()


def _new_store(kind: str, tmp_path, template):
    if kind == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'cases.db'}"), None
    if template is None:
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
        pytest.skip("no PostgreSQL (TEST_DATABASE_URL unset)")
    name = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(template).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return open_store(_with_database(template, name), migrate=False), (admin, name)


def add_people(store) -> None:
    """PEOPLE as users: ada, the first admin, then the others added by her (the supervisors approved by abe)."""
    for name, role in PEOPLE.items():
        _, grant = staff.add_user(store, "system:tests" if name == "ada" else "ada", name, role=role, now=NOW)
        if grant is not None:
            staff.decide(store, "abe", grant.id, approve=True, now=NOW)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, postgres_template):
    """An empty, migrated database with PEOPLE as users."""
    made, cleanup = _new_store(request.param, tmp_path, postgres_template)
    add_people(made)
    yield made
    made.dispose()
    if cleanup:
        admin, name = cleanup
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def sqlite_store(tmp_path):
    """The same on SQLite only, for tests whose logic does not depend on the database."""
    made, _ = _new_store("sqlite", tmp_path, None)
    add_people(made)
    yield made
    made.dispose()


BATCH_SECRET = "a long secret for the batch service account"


@pytest.fixture
def batch_env(store):
    """The environment of a batch command that proves the service account `batch` (added now) with its secret."""
    staff.add_user(store, "ada", "batch", role="system", now=NOW, password=BATCH_SECRET)
    return {**os.environ, "KYT_SERVICE": "batch", "KYT_SERVICE_SECRET": BATCH_SECRET}


@pytest.fixture(scope="session")
def scenario_result():
    """The fixture scenario scored once (as of 2026-11-20), with the evidence cases need."""
    from pathlib import Path

    from graph.times import parse_time
    from kyt import batch

    fixtures = Path(__file__).resolve().parents[2] / "fixtures"
    request = batch.ScoreRequest(fixtures / "scenario" / "deposits.csv", fixtures / "scenario" / "transfers.csv",
                                 fixtures / "lists" / "flagged.csv", parse_time("2026-11-20"),
                                 fixtures / "lists" / "services.csv")
    return batch.run(request)


@pytest.fixture
def cases(store, scenario_result):
    """The scenario's five frozen deposits opened as cases: deposit id -> case id."""
    from cases.opening import open_run

    opened = open_run(store, scenario_result, NOW)
    return opened.case_ids
