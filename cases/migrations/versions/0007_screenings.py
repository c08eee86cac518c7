"""The deposits each snapshot has decided, so that a re-run with the same snapshot scores only new ones.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from cases.columns import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("screenings",
                    sa.Column("snapshot_id", sa.String(40), primary_key=True),
                    sa.Column("deposit_id", sa.String(200), primary_key=True),
                    sa.Column("tx_hash", sa.String(66), nullable=False),
                    sa.Column("decision", sa.String(10), nullable=False),
                    sa.Column("decided_at", UTCDateTime(), nullable=False),
                    sqlite_with_rowid=False)  # one B-tree keyed by (snapshot, deposit): half the writes


def downgrade() -> None:
    op.drop_table("screenings")
