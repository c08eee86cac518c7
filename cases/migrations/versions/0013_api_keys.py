"""The screening API's keys (stored as SHA-256 digests, with scopes and a rate limit), its call log and the deposits it
screened (so that a retry gets the same answer).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from cases.columns import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True),
        sa.Column("scopes", sa.String(400), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("rate_per_second", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_by", sa.String(80), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "api_calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key_name", sa.String(80), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_api_calls_key_at", "api_calls", ["key_name", "at"])
    op.create_table(
        "api_screenings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deposit_id", sa.String(200), nullable=False, unique=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("key_name", sa.String(80), nullable=False),
        sa.Column("screened_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("api_screenings")
    op.drop_index("ix_api_calls_key_at", table_name="api_calls")
    op.drop_table("api_calls")
    op.drop_table("api_keys")
