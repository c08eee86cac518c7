"""The console as a workplace: review alerts worked like cases (assignee, version, decision, reason, the case
an analyst opened from one), console sessions that survive a reload and end when idle, and the requests
already carried out (one action per click).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

from cases.columns import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as table:
        table.add_column(sa.Column("assignee", sa.String(80), nullable=True))
        table.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        table.add_column(sa.Column("decided_by", sa.String(80), nullable=True))
        table.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("reason", sa.String(2000), nullable=True))
        table.add_column(sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", name="fk_alerts_case_id"),
                                   nullable=True))
        table.create_index("ix_alerts_queue", ["status", "created_at", "id"])
    with op.batch_alter_table("sign_in_sessions") as table:
        table.add_column(sa.Column("last_seen_at", UTCDateTime(), nullable=True))
    op.create_table("done_requests",
                    sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("actor", sa.String(80), nullable=False),
                    sa.Column("action", sa.String(60), nullable=False),
                    sa.Column("at", UTCDateTime(), nullable=False))


def downgrade() -> None:
    op.drop_table("done_requests")
    with op.batch_alter_table("sign_in_sessions") as table:
        table.drop_column("last_seen_at")
    with op.batch_alter_table("alerts") as table:
        table.drop_index("ix_alerts_queue")
        for column in ("case_id", "reason", "decided_at", "decided_by", "version", "assignee"):
            table.drop_column(column)
