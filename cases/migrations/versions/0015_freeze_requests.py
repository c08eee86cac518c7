"""Freeze requests (from authorities or hacked protocols) and the deposits their stolen funds reached.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from cases.columns import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "freeze_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(100), nullable=False, unique=True),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("tx_hashes", sa.JSON(), nullable=False),
        sa.Column("wallets", sa.JSON(), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=True),
        sa.Column("hops", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("response_template", sa.String(40), nullable=True),
        sa.Column("response_text", sa.String(4000), nullable=True),
        sa.Column("responded_by", sa.String(80), nullable=True),
        sa.Column("responded_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "request_hits",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("freeze_requests.id"), nullable=False),
        sa.Column("deposit_id", sa.String(200), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("hop", sa.Integer(), nullable=False),
        sa.Column("stolen_usd", sa.String(100), nullable=True),
        sa.Column("value_unknown", sa.Boolean(), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("request_id", "deposit_id", name="uq_request_hits"),
    )
    op.create_index("ix_request_hits_request_id", "request_hits", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_request_hits_request_id", table_name="request_hits")
    op.drop_table("request_hits")
    op.drop_table("freeze_requests")
