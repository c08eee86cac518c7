"""The tables `kyt ingest --db` and `kyt watch` write: a node's transfers and deposits, numbered in chain order."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class ChainTransfer(SQLModel, table=True):
    """A transfer `kyt ingest --db` read from a node (the transfers format), numbered in chain order."""

    __tablename__ = "chain_transfers"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    tx_hash: str = Field(max_length=66)
    block_number: int = Field(sa_type=sa.BigInteger)
    position: int
    timestamp: int = Field(sa_type=sa.BigInteger)
    from_address: str = Field(max_length=42)
    to_address: str = Field(max_length=42)
    asset: str = Field(max_length=100)
    amount: str = Field(max_length=100)
    """Exact decimal text: a token's raw units may have 78 digits."""
    usd_value: str | None = Field(default=None, max_length=100)
    chain: str = Field(default="ethereum", max_length=40, sa_column_kwargs={"server_default": "ethereum"})
    """The chain's name (graph.chains): rows ingested before this column are ethereum's."""


class ChainDeposit(SQLModel, table=True):
    """A deposit `kyt ingest --db` found (the deposits format), numbered in chain order."""

    __tablename__ = "chain_deposits"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    deposit_id: str = Field(max_length=200)
    tx_hash: str = Field(max_length=66)
    customer_id: str = Field(max_length=200)
    timestamp: int = Field(sa_type=sa.BigInteger)
    block_number: int = Field(sa_type=sa.BigInteger)
    position: int
    from_address: str = Field(max_length=42)
    to_address: str = Field(max_length=42)
    asset: str = Field(max_length=100)
    amount: str = Field(max_length=100)
    usd_value: str | None = Field(default=None, max_length=100)
    chain: str = Field(default="ethereum", max_length=40, sa_column_kwargs={"server_default": "ethereum"})
