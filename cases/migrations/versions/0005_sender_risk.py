"""The sender's address risk (calibrated probability, model version, top features) kept with cases and alerts.

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


def downgrade() -> None:
    for table in ("cases", "alerts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("sender_risk")
