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
        # the triage queue's index has different expressions per database, so the migration alone makes it
        differences = [d for d in differences if "ix_cases_priority_queue" not in str(d)]
    assert differences == [] and indexes(store) >= {"ix_cases_open_queue", "ix_cases_priority_queue"}


def indexes(store) -> set[str]:
    """The expression indexes that reflection cannot compare, found by name."""
    with store.engine.connect() as connection:
        return set(connection.execute(sa.text(
            "SELECT name FROM sqlite_master WHERE type = 'index'" if store.url.startswith("sqlite")
            else "SELECT indexname FROM pg_indexes")).scalars().all())


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_going_back_one_release_keeps_the_queue_index(store):
    from cases.db import downgrade

    downgrade(store.engine, "0004")
    assert "ix_cases_open_queue" in indexes(store) and "ix_cases_priority_queue" not in indexes(store)
    upgrade(store.engine)
    test_migrated_schema_matches_the_models(store)


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


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_upgrading_a_database_full_of_cases_keeps_every_row_and_the_chain(store, scenario_result):
    from cases import queries
    from cases.db import downgrade
    from cases.opening import open_run
    from tests.cases.conftest import NOW

    opened = open_run(store, scenario_result, NOW)
    with store.engine.begin() as connection:  # 0003 had no unknown values: leave out the alert of one
        connection.exec_driver_sql("DELETE FROM alerts WHERE usd_value IS NULL")

    def counts() -> dict:
        with store.engine.connect() as connection:
            return {table: connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                    for table in ("cases", "exposures", "deadlines", "alerts", "audit_events")}

    before = counts()
    downgrade(store.engine, "0003")
    assert counts() == before
    upgrade(store.engine)  # foreign keys point at every case while SQLite copies its table
    assert counts() == before and before["cases"] == opened.opened == 5
    assert queries.verify_audit(store, "ada").ok
    test_migrated_schema_matches_the_models(store)


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_the_decided_deposits_of_0007_move_into_one_packed_run_per_snapshot(store):
    from cases.columns import UTCDateTime
    from cases.db import downgrade
    from cases.screenings import decided_table
    from tests.cases.conftest import NOW

    downgrade(store.engine, "0007")
    rows = [("s1", "D-2", "0xb", "allow"), ("s1", "D-1", "0xa", "freeze"), ("s2", "D-1", "0xc", "review")]
    with store.engine.begin() as connection:
        for snapshot, deposit, tx, decision in rows:
            connection.execute(sa.text("INSERT INTO screenings VALUES (:s, :d, :t, :c, :at)").bindparams(
                sa.bindparam("at", type_=UTCDateTime())), {"s": snapshot, "d": deposit, "t": tx, "c": decision, "at": NOW})
    upgrade(store.engine)
    assert decided_table(store, "s1").to_pylist() == [
        {"deposit_id": "D-1", "tx_hash": "0xa", "decision": "freeze"},
        {"deposit_id": "D-2", "tx_hash": "0xb", "decision": "allow"}]
    assert decided_table(store, "s2").to_pylist() == [{"deposit_id": "D-1", "tx_hash": "0xc", "decision": "review"}]
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT snapshot_id, deposits, actor FROM screening_runs "
                                          "ORDER BY snapshot_id")).all() == [("s1", 2, "system:migration"),
                                                                             ("s2", 1, "system:migration")]
    test_migrated_schema_matches_the_models(store)
