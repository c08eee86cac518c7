"""The migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from alembic.config import Config
from alembic.script import ScriptDirectory

from cases.db import HEAD, MIGRATIONS, upgrade
from cases.lifecycle import OPEN_STATES
from cases.models import OPEN_FILTER, SQLModel


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_migrated_schema_matches_the_models(store):
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
        # the one expression index cannot be compared by reflection: look for it by name
        found = connection.execute(sa.text(
            "SELECT count(*) FROM sqlite_master WHERE name = 'ix_cases_open_queue'" if store.url.startswith("sqlite")
            else "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_cases_open_queue'")).scalar_one()
    assert differences == [] and found == 1


def test_upgrading_again_is_a_no_op_and_leaves_the_newest_revision(store):
    upgrade(store.engine)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == \
            ScriptDirectory.from_config(config).get_current_head()


def test_the_head_the_store_checks_for_is_the_newest_migration():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_the_queue_index_condition_is_the_open_states():
    assert OPEN_FILTER == "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATES) + ")"
