"""Bulk inserts at the driver's speed, for opening thousands of cases in one transaction.

SQLAlchemy's statement path costs tens of microseconds a row; here each column's values
go through that column's own bind processor once (so a UTC time, an exact decimal or a
JSON document is stored exactly as the ORM would store it), and the rows go to the
driver's `executemany` in one call. Ids are reserved first, in the same transaction,
so that rows which point at each other can be written without reading anything back.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session


def insert_rows(session: Session, table: sa.Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys) into `table`; missing columns get their defaults, else NULL."""
    if rows:
        insert_columns(session, table, {name: [row[name] for row in rows] for name in rows[0]})


def insert_columns(session: Session, table: sa.Table, columns: dict[str, list]) -> None:
    """Insert rows given column by column (lists of one length); missing columns get their defaults, else NULL."""
    count = len(next(iter(columns.values()), []))
    if not count:
        return
    connection = session.connection()
    dialect = connection.dialect
    names, values = [], []
    for name, given in columns.items():
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        names.append(name)
        values.append(_converted(process, given) if process else given)
    for column in table.columns:
        if column.name not in columns and column.default is not None:
            value = column.default.arg(None) if column.default.is_callable else column.default.arg
            process = column.type.dialect_impl(dialect).bind_processor(dialect)
            names.append(column.name)
            values.append([process(value) if process else value] * count)
    quote = dialect.identifier_preparer.quote
    listed = ", ".join(quote(n) for n in names)
    if dialect.name == "postgresql":
        _copy_in(connection, table_name=quote(table.name), listed=listed, rows=zip(*values))
        return
    mark = placeholder(dialect)
    statement = f"INSERT INTO {quote(table.name)} ({listed}) VALUES ({', '.join([mark] * len(names))})"
    connection.exec_driver_sql(statement, list(zip(*values)))


def placeholder(dialect: sa.Dialect) -> str:
    """The driver's mark for one positional parameter in SQL sent as it is (`?` for SQLite, `%s` for psycopg)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def _copy_in(connection: sa.Connection, *, table_name: str, listed: str, rows) -> None:
    """PostgreSQL: COPY the rows into a temporary table, then one INSERT ... SELECT (row-by-row inserts are slow)."""
    with connection.connection.driver_connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE bulk_rows ON COMMIT DROP AS SELECT {listed} FROM {table_name} WITH NO DATA")
        with cursor.copy(f"COPY bulk_rows ({listed}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        statement = f"INSERT INTO {table_name} ({listed}) SELECT {listed} FROM bulk_rows"
        try:
            cursor.execute(statement)
        except connection.dialect.dbapi.IntegrityError as error:  # as SQLAlchemy reports it elsewhere
            raise sa.exc.IntegrityError(statement, None, error) from error
        cursor.execute("DROP TABLE bulk_rows")


_NAMES = (str, type(None))
_SCALARS = frozenset({str, int, float, bool, type(None), Decimal, datetime, date})


def _key(value: object) -> object:
    """What identifies `value` for conversion: its type and value, or for a container of other things, itself."""
    kind = type(value)
    if kind is list or kind is tuple:  # lists of names (rule ids, categories) convert once per distinct list
        if all(type(item) is str for item in value):
            return (kind, *value)
    elif kind is dict:  # documents of names (a snapshot, an empty "before") likewise
        if all(type(k) is str and type(v) in _NAMES for k, v in value.items()):
            return (dict, *value.items())
    elif value.__hash__ is not None:
        return (kind, value)  # the type too: 1 and True, 1 and 1.0 convert differently
    return id(value)  # anything else: this very object (alive in the caller's list all along)


def _converted(process, values: list) -> list:
    """`process` applied to each value, once per distinct value (a run's rows share times, lists and snapshots).

    The very same object (one `now` for a whole run) is recognised by its id before its
    value is looked at; every value stays alive in `values` meanwhile, so no id is reused.
    """
    done: dict = {}
    by_id: dict[int, object] = {}
    out = []
    for value in values:
        found = by_id.get(id(value), _MISSING)
        if found is _MISSING:
            kind = type(value)
            key = (kind, value) if kind in _SCALARS else _key(value)
            found = done.get(key, _MISSING)
            if found is _MISSING:
                found = done[key] = process(value)
            by_id[id(value)] = found
        out.append(found)
    return out


_MISSING = object()


def reserve_ids(session: Session, table: sa.Table, count: int) -> list[int]:
    """`count` new ids for `table`'s integer primary key `id`, taken inside the caller's write transaction.

    PostgreSQL: from the column's sequence (concurrent writers get distinct ids). SQLite:
    after the largest id, safe because a write transaction holds the database's only
    write lock from its first statement (see cases.db).
    """
    if count <= 0:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        sequence = connection.execute(sa.text("SELECT pg_get_serial_sequence(:table, 'id')"),
                                      {"table": table.name}).scalar_one()
        return list(connection.execute(sa.text("SELECT nextval(:sequence) FROM generate_series(1, :count)"),
                                       {"sequence": sequence, "count": count}).scalars())
    top = connection.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + count))
