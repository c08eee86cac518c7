"""The database edge: engines for SQLite (default, embedded) and PostgreSQL, and migrations.

`DATABASE_URL` (or an explicit URL) selects the database; the default is an SQLite file,
in WAL mode, where every write transaction begins IMMEDIATE so that writers queue instead
of failing (readers never wait). `open_store` brings the schema to the newest migration (Alembic).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cases.audit_keys import KeyRing, keyring_from_environment
from cases.errors import InvalidRequest
from graph.redaction import redacted_url

DEFAULT_URL = "sqlite:///freezecase.db"
HEAD = "0016"
"""The newest migration; a database already there is opened without loading Alembic."""
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def database_url(explicit: str | None = None) -> str:
    """The URL to use: the explicit one, else $DATABASE_URL, else the embedded SQLite file."""
    return explicit or os.environ.get("DATABASE_URL") or DEFAULT_URL


def json_text(value: object) -> str:
    """A JSON column's text: orjson's (ten times faster) when it means exactly what `json.dumps` would store.

    It falls back to `json.dumps` for anything orjson would store differently or refuse: a
    null in the text (orjson writes NaN and infinities as null), a key that is not text,
    an integer past 64 bits, or a type `json.dumps` refuses (dates, dataclasses: refused
    as before). One difference is left: a UUID is stored as its text where `json.dumps`
    would refuse it.
    """
    try:
        text = orjson.dumps(value, option=_PASSTHROUGH)
    except TypeError:
        return json.dumps(value)
    return json.dumps(value) if b"null" in text else text.decode()


_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def utc_day(store: Store, column):
    """A time column's UTC day, in the database's own words (the expression the queue's priority index uses)."""
    if store.engine.dialect.name == "sqlite":
        return sa.func.date(column)
    return sa.cast(sa.func.timezone("UTC", column), sa.Date)


def make_engine(url: str) -> Engine:
    """An engine with the settings each database needs; InvalidRequest for a URL that names no database."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    try:
        sa.engine.make_url(url).get_dialect()
    except (sa.exc.ArgumentError, ValueError):
        raise InvalidRequest(f"{redacted_url(url)} is not a database URL (sqlite:///FILE, or "
                             "postgresql://USER@HOST/DATABASE)") from None
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, json_serializer=json_text)
    engine = sa.create_engine(url, connect_args={"timeout": 30}, json_serializer=json_text)

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None  # transactions are begun below, not by the driver
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # noqa: ANN001
        # writers take the write lock at once and queue; readers never wait (WAL)
        immediate = connection.get_execution_options().get("immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for a new database)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration the database has not had yet (up to `revision`)."""
    _migrate(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision` (for going back a release, and for testing upgrades)."""
    _migrate(engine, "downgrade", revision)


def _migrate(engine: Engine, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        if sqlite:  # SQLite changes a column by copying its table: the foreign keys are checked after, not during
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.execution_options(immediate=True).begin():
                config.attributes["connection"] = connection
                getattr(command, direction)(config, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("a migration left rows whose foreign keys point nowhere; nothing was changed")
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")


def refresh_statistics(engine: Engine) -> None:
    """Let SQLite's planner learn the tables' shape after a bulk change (PostgreSQL does this itself)."""
    if engine.dialect.name == "sqlite":
        with engine.execution_options(immediate=True).begin() as connection:  # ANALYZE's results are committed
            for table in ("cases", "deadlines"):
                connection.exec_driver_sql(f"ANALYZE {table}")


@dataclass
class Store:
    """A database with its schema up to date; `session()` opens a unit of work.

    `audit_keys` (from KYT_AUDIT_KEY_FILE) key the audit chain; every session carries them
    in `session.info["audit_keys"]` for cases.audit.
    """

    engine: Engine
    url: str
    audit_keys: KeyRing | None = None

    @property
    def shown_url(self) -> str:
        """The URL as messages show it: without its password (graph.redaction)."""
        return redacted_url(self.url)

    def session(self) -> Session:
        """A session for reading."""
        return Session(self.engine, expire_on_commit=False, info={"audit_keys": self.audit_keys})

    def writing_session(self) -> Session:
        """A session for a unit of work that writes (on SQLite it takes the write lock at BEGIN)."""
        return Session(self.engine.execution_options(immediate=True), expire_on_commit=False,
                       info={"audit_keys": self.audit_keys})

    def dispose(self) -> None:
        self.engine.dispose()


_FROM_ENVIRONMENT = object()


def open_store(url: str | None = None, migrate: bool = True, audit_keys: KeyRing | None | object = _FROM_ENVIRONMENT
               ) -> Store:
    """Open (and by default migrate) the database at `url` / $DATABASE_URL / the default file.

    The audit chain's keys come from KYT_AUDIT_KEY_FILE unless given (None: no key).
    """
    chosen = database_url(url)
    keys = keyring_from_environment() if audit_keys is _FROM_ENVIRONMENT else audit_keys
    engine = make_engine(chosen)
    revision = current_revision(engine) if migrate else HEAD
    if revision != HEAD:
        try:
            if not create_fresh(engine):
                upgrade(engine)
        except sa.exc.ProgrammingError as error:
            if getattr(error.orig, "sqlstate", None) != "42501":  # insufficient privilege
                raise
            raise InvalidRequest(f"the database is at revision {revision}, this version needs {HEAD}, and this role "
                                 "may not change the schema: run `kyt db upgrade` as the schema's owner") from None
    return Store(engine, chosen, keys)


def create_fresh(engine: Engine) -> bool:
    """Give a database with no tables at all the newest schema at once; False when it has tables.

    The result is what running every migration gives (tests/cases/test_migrations.py
    compares the two; only the order of some tables' columns differs): the tables as the models describe them, the triage queue's index
    that the models cannot describe (its expressions differ per database, see migration
    0005), and Alembic's record of the revision. It takes a few milliseconds where the
    migrations, with Alembic loaded, take over a second.
    """
    from cases.models import OPEN_FILTER, SQLModel

    with engine.execution_options(immediate=True).begin() as connection:  # writers queue: one creates it
        if sa.inspect(connection).get_table_names():
            return False
        SQLModel.metadata.create_all(connection)
        sqlite = connection.dialect.name == "sqlite"
        day = "date(next_due_at)" if sqlite else "(CAST(timezone('UTC', next_due_at) AS DATE))"
        connection.exec_driver_sql(
            f"CREATE INDEX ix_cases_priority_queue ON cases ((next_due_at IS NULL), {day}, "
            f"priority DESC{'' if sqlite else ' NULLS LAST'}, next_due_at, id, snoozed_until) WHERE {OPEN_FILTER}")
        if not sqlite:  # the first migration made the head's id a serial column
            connection.exec_driver_sql("CREATE SEQUENCE audit_head_id_seq OWNED BY audit_head.id")
            connection.exec_driver_sql("ALTER TABLE audit_head ALTER COLUMN id SET DEFAULT nextval('audit_head_id_seq')")
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
                                   "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))")
        connection.exec_driver_sql(f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD}')")
    return True
