"""The chain of each ingested transfer and deposit (`kyt ingest --db` on any EVM network); earlier rows are ethereum's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("chain_transfers", "chain_deposits"):
        with op.batch_alter_table(name) as table:
            table.add_column(sa.Column("chain", sa.String(40), nullable=False, server_default="ethereum"))


def downgrade() -> None:
    for name in ("chain_deposits", "chain_transfers"):
        with op.batch_alter_table(name) as table:
            table.drop_column("chain")
