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


def upgrade() -> None:
    for table in ("cases", "alerts"):
        op.add_column(table, sa.Column("sender_risk", sa.JSON(), nullable=True))
    op.add_column("cases", sa.Column("priority", sa.Float(), nullable=True))
    op.add_column("cases", sa.Column("priority_model", sa.String(40), nullable=True))
    op.add_column("cases", sa.Column("queue_order", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for column in ("queue_order", "priority_model", "priority", "sender_risk"):
            batch.drop_column(column)
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("sender_risk")
