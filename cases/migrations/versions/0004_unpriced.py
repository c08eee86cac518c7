"""USD values may be unknown (a deposit without a price, an exposure whose share or USD is unknown),
and an asset may be named by a token contract (`0x...` or `0x...:raw`, up to 46 characters).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""
import warnings

import sqlalchemy as sa
from alembic import op

from cases.columns import ExactDecimal

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NULLABLE = (("cases", "usd_value"), ("alerts", "usd_value"), ("exposures", "share"), ("exposures", "usd"))
OPEN = sa.text("status IN ('open', 'in_review', 'awaiting_customer')")


def _alter(nullable: bool, asset: int) -> None:
    with warnings.catch_warnings():  # SQLite's copy of the table skips the expression index, made again below
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        for table, column in NULLABLE:
            with op.batch_alter_table(table) as batch:
                batch.alter_column(column, existing_type=ExactDecimal(), nullable=nullable)
                if column == "usd_value":
                    batch.alter_column("asset", existing_type=sa.String(), type_=sa.String(asset),
                                       existing_nullable=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite rebuilds the table to change a column and cannot carry over an expression
        # index, so the queue index of 0002 is made again.
        op.execute("DROP INDEX IF EXISTS ix_cases_open_queue")
        op.create_index("ix_cases_open_queue", "cases",
                        [sa.text("(next_due_at IS NULL)"), "next_due_at", "id", "snoozed_until"], sqlite_where=OPEN)


def upgrade() -> None:
    _alter(True, 100)


def downgrade() -> None:
    _alter(False, 40)
