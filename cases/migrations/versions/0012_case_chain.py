"""The chain of each case's and alert's deposit (graph.chains), and room for any chain's addresses.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import warnings

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

OPEN = "status IN ('open', 'in_review', 'awaiting_customer')"


def _alter(width: int, before: int, *, add: bool) -> None:
    with warnings.catch_warnings():  # SQLite's copy of the table skips the expression indexes, made again below
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        for name in ("cases", "alerts"):
            with op.batch_alter_table(name) as table:
                if add:
                    table.add_column(sa.Column("chain", sa.String(40), nullable=False, server_default="ethereum"))
                for column in ("from_address", "to_address"):
                    table.alter_column(column, type_=sa.String(width), existing_type=sa.String(before),
                                       existing_nullable=False)
                if not add:
                    table.drop_column("chain")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite rebuilds a table to change a column and cannot carry over an expression index: the queue
        # indexes of 0002 and 0005 are made again
        op.execute("DROP INDEX IF EXISTS ix_cases_open_queue")
        op.execute("DROP INDEX IF EXISTS ix_cases_priority_queue")
        op.execute(f"CREATE INDEX ix_cases_open_queue ON cases ((next_due_at IS NULL), next_due_at, id, "
                   f"snoozed_until) WHERE {OPEN}")
        op.execute(f"CREATE INDEX ix_cases_priority_queue ON cases ((next_due_at IS NULL), date(next_due_at), "
                   f"priority DESC, next_due_at, id, snoozed_until) WHERE {OPEN}")


def upgrade() -> None:
    _alter(120, 42, add=True)


def downgrade() -> None:
    _alter(42, 120, add=False)
