"""Customer inquiries and the messages to and from customers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from cases.columns import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inquiries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tracking_number", sa.String(20), nullable=False, index=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), index=True),
        sa.Column("customer_id", sa.String(200), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("topic", sa.String(40), nullable=False),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.Column("resolved_at", UTCDateTime()),
    )
    op.create_index("ix_inquiries_received", "inquiries", ["received_at"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), index=True),
        sa.Column("inquiry_id", sa.Integer(), sa.ForeignKey("inquiries.id"), index=True),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("template_id", sa.String(40)),
        sa.Column("locale", sa.String(5), nullable=False),
        sa.Column("subject", sa.String(300)),
        sa.Column("body", sa.String(20_000), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        sa.Column("lint_status", sa.String(12), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("author", sa.String(220), nullable=False),
        sa.Column("approved_by", sa.String(80)),
        sa.Column("approved_at", UTCDateTime()),
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_index("ix_inquiries_received", table_name="inquiries")
    op.drop_table("inquiries")
