"""What each snapshot decided, one row per recorded run (its deposits in one compressed Arrow column set).

Replaces 0007's row per deposit: recording half a million decided deposits took seconds
as rows and takes a tenth of a second as one value. The rows already recorded move into
one run per snapshot; a downgrade leaves the older table empty (the next run under a
snapshot then scores its deposits again, and opening cases is idempotent).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from cases.columns import UTCDateTime
from cases.screenings import DECIDED_FORMAT, pack

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    runs = op.create_table("screening_runs",
                           sa.Column("id", sa.Integer(), primary_key=True),
                           sa.Column("snapshot_id", sa.String(40), nullable=False, index=True),
                           sa.Column("decided_at", UTCDateTime(), nullable=False),
                           sa.Column("actor", sa.String(80), nullable=False),
                           sa.Column("deposits", sa.Integer(), nullable=False),
                           sa.Column("format", sa.String(20), nullable=False),
                           sa.Column("decided", sa.LargeBinary(), nullable=False))
    connection = op.get_bind()
    old = sa.table("screenings", sa.column("snapshot_id"), sa.column("deposit_id"), sa.column("tx_hash"),
                   sa.column("decision"), sa.column("decided_at", UTCDateTime()))
    by_snapshot: dict[str, list] = defaultdict(list)
    for row in connection.execute(sa.select(old).order_by(old.c.snapshot_id, old.c.deposit_id)):
        by_snapshot[row.snapshot_id].append(row)
    op.bulk_insert(runs, [dict(snapshot_id=snapshot, decided_at=max(r.decided_at for r in rows),
                               actor="system:migration", deposits=len(rows), format=DECIDED_FORMAT,
                               decided=pack([r.deposit_id for r in rows], [r.tx_hash for r in rows],
                                            [r.decision for r in rows]))
                          for snapshot, rows in by_snapshot.items()])
    op.drop_table("screenings")


def downgrade() -> None:
    op.drop_table("screening_runs")
    op.create_table("screenings",
                    sa.Column("snapshot_id", sa.String(40), primary_key=True),
                    sa.Column("deposit_id", sa.String(200), primary_key=True),
                    sa.Column("tx_hash", sa.String(66), nullable=False),
                    sa.Column("decision", sa.String(10), nullable=False),
                    sa.Column("decided_at", UTCDateTime(), nullable=False),
                    sqlite_with_rowid=False)
