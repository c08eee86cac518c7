"""Least privilege on PostgreSQL: the role that owns the schema migrates it; the application's role only works it.

The application role gets, per table, what the code needs and no more: it can read and
add audit events but never change or remove one, it can read the migration record but
not move it, and it can create nothing in the schema (no DDL). Run by the schema's owner:
`kyt db grant ROLE --db OWNER_URL`; the application then connects as ROLE.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cases.errors import InvalidRequest

EVERYDAY = ("SELECT", "INSERT", "UPDATE", "DELETE")
TABLE_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "audit_events": ("SELECT", "INSERT"),
    "alembic_version": ("SELECT",),
}
"""Tables whose privileges differ from EVERYDAY: the audit trail is append-only, the migration record read-only."""

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def application_statements(tables: list[str], role: str) -> list[str]:
    """The SQL that gives `role` the application's privileges on these tables (and takes every other away).

    >>> application_statements(["audit_events"], "kyt_app")[-1]
    'GRANT SELECT, INSERT ON TABLE "audit_events" TO kyt_app'
    """
    if not _ROLE.fullmatch(role):
        raise InvalidRequest(f"{role!r} is not a role name (lower-case letters, digits and _)")
    statements = ["REVOKE CREATE ON SCHEMA public FROM PUBLIC", f"REVOKE CREATE ON SCHEMA public FROM {role}",
                  f"GRANT USAGE ON SCHEMA public TO {role}",
                  f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"]
    for table in sorted(tables):
        statements.append(f'REVOKE ALL ON TABLE "{table}" FROM {role}')
        statements.append(f'GRANT {", ".join(TABLE_PRIVILEGES.get(table, EVERYDAY))} ON TABLE "{table}" TO {role}')
    return statements


def grant_application_role(engine: Engine, role: str) -> list[str]:
    """Give an existing PostgreSQL role the application's privileges on every table; the statements run."""
    if engine.dialect.name != "postgresql":
        raise InvalidRequest("roles and privileges are PostgreSQL's: SQLite has one user, the file's owner")
    with engine.begin() as connection:
        if connection.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first() is None:
            raise InvalidRequest(f"there is no PostgreSQL role {role!r}: CREATE ROLE {role} LOGIN PASSWORD '...' first")
        tables = [name for (name,) in connection.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))]
        statements = application_statements(tables, role)
        for statement in statements:
            connection.exec_driver_sql(statement)
    return statements
