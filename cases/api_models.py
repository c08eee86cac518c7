"""The tables of the screening API: its keys and the log of the calls it answered (see cases.api_keys)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cases.columns import UTCDateTime

DEFAULT_RATE_PER_SECOND = 200.0
"""Calls per second a key may make unless created with another limit (a burst of twice that is allowed)."""


class ApiKey(SQLModel, table=True):
    """A key the platform's systems call the API with."""

    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=80)
    scopes: str = Field(max_length=400)
    """Space-separated, from SCOPES."""
    secret_sha256: str = Field(unique=True, max_length=64)
    rate_per_second: float = DEFAULT_RATE_PER_SECOND
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=80)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def allows(self, scope: str) -> bool:
        """Whether the key has this scope."""
        return scope in self.scopes.split()


class ApiCall(SQLModel, table=True):
    """One call the API answered: who (the key's name), what, the status, and the subject (a deposit id...)."""

    __tablename__ = "api_calls"
    __table_args__ = (sa.Index("ix_api_calls_key_at", "key_name", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key_name: str = Field(max_length=80)
    method: str = Field(max_length=10)
    path: str = Field(max_length=200)
    status: int
    subject: str | None = Field(default=None, max_length=200)
    at: datetime = Field(sa_type=UTCDateTime)


class ApiScreening(SQLModel, table=True):
    """A deposit the API screened: its record as answered, so that a retry gets the very same answer."""

    __tablename__ = "api_screenings"
    id: int | None = Field(default=None, primary_key=True)
    deposit_id: str = Field(unique=True, max_length=200)
    record: dict = Field(sa_type=sa.JSON)
    case_id: int | None = None
    key_name: str = Field(max_length=80)
    screened_at: datetime = Field(sa_type=UTCDateTime)


class WithdrawalScreening(SQLModel, table=True):
    """A withdrawal the API screened, with its answer; one it blocked or sent to review is an alert for an analyst
    (`status` open, then closed with a reason)."""

    __tablename__ = "withdrawal_screenings"
    __table_args__ = (sa.Index("ix_withdrawal_screenings_status", "status", "screened_at"),)
    id: int | None = Field(default=None, primary_key=True)
    withdrawal_id: str = Field(unique=True, max_length=200)
    customer_id: str = Field(max_length=200)
    chain: str = Field(max_length=40)
    address: str = Field(max_length=120)
    asset: str = Field(max_length=100)
    amount: str = Field(max_length=100)
    usd_value: str | None = Field(default=None, max_length=100)
    decision: str = Field(max_length=10)
    rule_ids: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    categories: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    snapshot_id: str = Field(max_length=40)
    record: dict = Field(sa_type=sa.JSON)
    status: str | None = Field(default=None, max_length=20)
    """None for an allowed withdrawal; `open` for a held one (block or review) until an analyst closes it."""
    key_name: str = Field(max_length=80)
    screened_at: datetime = Field(sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=80)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=2000)


class FreezeRequest(SQLModel, table=True):
    """A request from an authority or a hacked protocol naming stolen funds, with the deadline for our answer."""

    __tablename__ = "freeze_requests"
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=100)
    requester: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    """`authority` (police, a court, a regulator) or `protocol` (the hacked project)."""
    received_at: datetime = Field(sa_type=UTCDateTime)
    deadline: datetime = Field(sa_type=UTCDateTime)
    tx_hashes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    wallets: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    hops: int
    status: str = Field(default="open", max_length=20)
    """`open` until the answer is sent, then `answered`."""
    created_by: str = Field(max_length=80)
    response_template: str | None = Field(default=None, max_length=40)
    response_text: str | None = Field(default=None, max_length=4000)
    responded_by: str | None = Field(default=None, max_length=80)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RequestHit(SQLModel, table=True):
    """A deposit a request's stolen funds reached, and the case that holds it."""

    __tablename__ = "request_hits"
    __table_args__ = (sa.UniqueConstraint("request_id", "deposit_id", name="uq_request_hits"),)
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="freeze_requests.id", index=True)
    deposit_id: str = Field(max_length=200)
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    hop: int
    stolen_usd: str | None = Field(default=None, max_length=100)
    """What the priced values give; with `value_unknown`, the stolen part is at least this."""
    value_unknown: bool = False
    linked_at: datetime = Field(sa_type=UTCDateTime)
