"""Learned triage: the sender's address risk kept with cases and alerts (probability, model version, top
features), and each open case's queue priority, the model that set it, and the order it is worked in.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None
OPEN = "status IN ('open', 'in_review', 'awaiting_customer')"


def upgrade() -> None:
    for table in ("cases", "alerts"):
        op.add_column(table, sa.Column("sender_risk", sa.JSON(), nullable=True))
    op.add_column("cases", sa.Column("priority", sa.Float(), nullable=True))
    op.add_column("cases", sa.Column("priority_model", sa.String(40), nullable=True))
    op.add_column("cases", sa.Column("queue_order", sa.String(10), nullable=True))
    # the queue in triage order: open cases by deadline day, then priority (see cases.queries.queue)
    sqlite = op.get_bind().dialect.name == "sqlite"
    day = "date(next_due_at)" if sqlite else "(CAST(timezone('UTC', next_due_at) AS DATE))"
    op.execute(f"CREATE INDEX ix_cases_priority_queue ON cases ((next_due_at IS NULL), {day}, "
               f"priority DESC{'' if sqlite else ' NULLS LAST'}, next_due_at, id, snoozed_until) WHERE {OPEN}")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_cases_priority_queue")
    with op.batch_alter_table("cases") as batch:
        for column in ("queue_order", "priority_model", "priority", "sender_risk"):
            batch.drop_column(column)
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("sender_risk")
    if op.get_bind().dialect.name == "sqlite":  # the copy of the table left 0002's expression index behind
        op.execute("DROP INDEX IF EXISTS ix_cases_open_queue")
        op.execute(f"CREATE INDEX ix_cases_open_queue ON cases ((next_due_at IS NULL), next_due_at, id, "
                   f"snoozed_until) WHERE {OPEN}")
