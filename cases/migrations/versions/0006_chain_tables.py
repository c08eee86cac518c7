"""Transfers and deposits ingested from a node into the case database (`kyt ingest --db`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _common() -> list[sa.Column]:
    return [sa.Column("tx_hash", sa.String(66), nullable=False),
            sa.Column("block_number", sa.BigInteger(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("timestamp", sa.BigInteger(), nullable=False),
            sa.Column("from_address", sa.String(42), nullable=False),
            sa.Column("to_address", sa.String(42), nullable=False),
            sa.Column("asset", sa.String(100), nullable=False),
            sa.Column("amount", sa.String(100), nullable=False),
            sa.Column("usd_value", sa.String(100))]


def upgrade() -> None:
    op.create_table("chain_transfers", sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
                    *_common())
    op.create_table("chain_deposits", sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
                    sa.Column("deposit_id", sa.String(200), nullable=False),
                    sa.Column("customer_id", sa.String(200), nullable=False), *_common())


def downgrade() -> None:
    op.drop_table("chain_deposits")
    op.drop_table("chain_transfers")
