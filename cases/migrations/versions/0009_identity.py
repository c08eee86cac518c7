"""Failed sign-ins per name and per source, for growing delays and lockouts (cases.signin).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from cases.columns import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("sign_in_throttles",
                    sa.Column("key", sa.String(300), primary_key=True),
                    sa.Column("failures", sa.Integer(), nullable=False),
                    sa.Column("last_failure_at", UTCDateTime(), nullable=False),
                    sa.Column("blocked_until", UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_table("sign_in_throttles")
