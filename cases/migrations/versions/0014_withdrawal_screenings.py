"""The withdrawals the screening API screened, with their answers; held ones are alerts for analysts.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from cases.columns import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "withdrawal_screenings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("withdrawal_id", sa.String(200), nullable=False, unique=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("chain", sa.String(40), nullable=False),
        sa.Column("address", sa.String(120), nullable=False),
        sa.Column("asset", sa.String(100), nullable=False),
        sa.Column("amount", sa.String(100), nullable=False),
        sa.Column("usd_value", sa.String(100), nullable=True),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("snapshot_id", sa.String(40), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("key_name", sa.String(80), nullable=False),
        sa.Column("screened_at", UTCDateTime(), nullable=False),
        sa.Column("closed_by", sa.String(80), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.String(2000), nullable=True),
    )
    op.create_index("ix_withdrawal_screenings_status", "withdrawal_screenings", ["status", "screened_at"])


def downgrade() -> None:
    op.drop_index("ix_withdrawal_screenings_status", table_name="withdrawal_screenings")
    op.drop_table("withdrawal_screenings")
