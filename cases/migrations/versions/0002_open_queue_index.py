"""A partial index that serves the queue: open cases by (no deadline last, nearest deadline, id),
carrying snoozed_until so that the queue's snooze test and its count read the index alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = sa.text("status IN ('open', 'in_review', 'awaiting_customer')")


def upgrade() -> None:
    op.create_index("ix_cases_open_queue", "cases",
                    [sa.text("(next_due_at IS NULL)"), "next_due_at", "id", "snoozed_until"],
                    postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_cases_open_queue", table_name="cases")
