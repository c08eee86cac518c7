"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from cases.db import upgrade
from cases.models import SQLModel


def test_migrated_schema_matches_the_models(store):
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_again_is_a_no_op(store):
    upgrade(store.engine)
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0001"
