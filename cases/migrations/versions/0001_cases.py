"""Cases, exposures, proposals, deadlines, notes, attachments, alerts, users, audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

from cases.columns import ExactDecimal, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _deposit_columns() -> list[sa.Column]:
    return [
        sa.Column("deposit_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.String(200), nullable=False, index=True),
        sa.Column("tx_hash", sa.String(200), nullable=False, index=True),
        sa.Column("from_address", sa.String(42), nullable=False),
        sa.Column("to_address", sa.String(42), nullable=False),
        sa.Column("asset", sa.String(40), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("usd_value", ExactDecimal(), nullable=False),
        sa.Column("deposit_time", UTCDateTime(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False, unique=True, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        *_deposit_columns(),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("snapshot_id", sa.String(40), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("min_hop", sa.Integer(), nullable=False),
        sa.Column("jurisdictions", sa.JSON(), nullable=False),
        sa.Column("tracking_number", sa.String(20), nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("assignee", sa.String(80)),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
        sa.Column("next_due_at", UTCDateTime()),
        sa.Column("snoozed_until", UTCDateTime()),
        sa.Column("snooze_reason", sa.String(500)),
        sa.Column("outcome", sa.String(20)),
        sa.Column("report_ref", sa.String(100)),
        sa.Column("report_date", UTCDateTime()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("deposit_id", name="uq_cases_deposit_id"),
    )
    op.create_index("ix_cases_queue", "cases", ["status", "next_due_at", "id", "snoozed_until"])
    op.create_table(
        "exposures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("hop", sa.Integer(), nullable=False),
        sa.Column("share", ExactDecimal(), nullable=False),
        sa.Column("usd", ExactDecimal(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
    )
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("proposed_by", sa.String(80), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(80)),
        sa.Column("decided_at", UTCDateTime()),
        sa.Column("decision_note", sa.String(2000)),
    )
    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("rule_id", sa.String(40), nullable=False),
        sa.Column("jurisdiction", sa.String(10), nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("triggered_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("warn_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("closed_at", UTCDateTime()),
    )
    op.create_index("ix_deadlines_open_due", "deadlines", ["status", "due_at"])
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.Column("body", sa.String(10_000), nullable=False),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False, index=True),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(80), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        *_deposit_columns(),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("snapshot_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("deposit_id", name="uq_alerts_deposit_id"),
    )
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.Integer(), index=True),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])  # so that even the first append locks a row


def downgrade() -> None:
    for table in ("audit_head", "audit_events", "alerts", "attachments", "notes", "deadlines", "proposals",
                  "exposures", "cases", "users"):
        op.drop_table(table)
