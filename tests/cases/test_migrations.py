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


@pytest.fixture
def migrated(store):
    """The store's database emptied, then built by running every migration (not the shortcut for a new one)."""
    with store.engine.begin() as connection:
        SQLModel.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE alembic_version")
        assert not sa.inspect(connection).get_table_names()
    upgrade(store.engine)
    return store


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_a_new_database_gets_at_once_the_schema_the_migrations_build(migrated, tmp_path):
    from cases.db import create_fresh, make_engine

    if migrated.url.startswith("sqlite"):
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    else:  # a second database on the same server
        admin = sa.create_engine(migrated.engine.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql("DROP DATABASE IF EXISTS fresh_schema")
            connection.exec_driver_sql("CREATE DATABASE fresh_schema")
        admin.dispose()
        fresh = sa.create_engine(migrated.engine.url.set(database="fresh_schema"))
    assert create_fresh(fresh) and not create_fresh(fresh)  # the second time it has tables: left alone
    assert schema(fresh) == schema(migrated.engine)
    fresh.dispose()


def schema(engine) -> dict:
    """Every table's columns (in any order), keys, indexes and constraints, and the expression indexes' text."""
    inspector = sa.inspect(engine)
    tables = {}
    for table in sorted(inspector.get_table_names()):
        tables[table] = (
            sorted((c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(table)),
            inspector.get_pk_constraint(table)["constrained_columns"],
            sorted((i["name"], tuple(map(str, i["column_names"])), bool(i["unique"]))
                   for i in inspector.get_indexes(table)),
            sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in inspector.get_foreign_keys(table)))
    with engine.connect() as connection:
        expressions = sorted(connection.execute(sa.text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '%(next_due_at IS NULL)%'"
            if engine.dialect.name == "sqlite" else
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexdef LIKE '%(next_due_at IS NULL)%'")).all())
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    return {"tables": tables, "expression indexes": [tuple(e) for e in expressions], "revision": revision}


@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning",
                            "ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_migrated_schema_matches_the_models(migrated):
    store = migrated
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
