"""Failed sign-ins per name and per source, for growing delays and lockouts (cases.signin), and the
command line's signed-in sessions (cases.identity), and role grants waiting for a second admin
(cases.staff); the audit key that keyed each event (cases.audit_keys).

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
    op.create_table("sign_in_sessions",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
                    sa.Column("user_name", sa.String(80), nullable=False),
                    sa.Column("source", sa.String(80), nullable=False),
                    sa.Column("opened_at", UTCDateTime(), nullable=False),
                    sa.Column("expires_at", UTCDateTime(), nullable=False),
                    sa.Column("ended_at", UTCDateTime(), nullable=True))


    op.create_table("role_grants",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("user_name", sa.String(80), nullable=False, index=True),
                    sa.Column("kind", sa.String(20), nullable=False),
                    sa.Column("role", sa.String(20), nullable=False),
                    sa.Column("requested_by", sa.String(80), nullable=False),
                    sa.Column("requested_at", UTCDateTime(), nullable=False),
                    sa.Column("status", sa.String(20), nullable=False),
                    sa.Column("decided_by", sa.String(80), nullable=True),
                    sa.Column("decided_at", UTCDateTime(), nullable=True))


    with op.batch_alter_table("audit_events") as table:
        table.add_column(sa.Column("key_id", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as table:
        table.drop_column("key_id")
    op.drop_table("role_grants")
    op.drop_table("sign_in_sessions")
    op.drop_table("sign_in_throttles")
