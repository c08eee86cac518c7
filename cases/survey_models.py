"""The satisfaction survey's table: one survey per resolved inquiry, answered once through its token link."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from cases.columns import UTCDateTime


class Survey(SQLModel, table=True):
    """The one-question survey sent when an inquiry was resolved, and the customer's rating once answered."""

    __tablename__ = "surveys"
    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiries.id", unique=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    customer_id: str = Field(max_length=200)
    agent: str = Field(max_length=80)
    """The user who resolved the inquiry (sent the final reply or marked it resolved)."""
    kind: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    topic: str = Field(max_length=40)
    token_sha256: str = Field(unique=True, max_length=64)
    """The SHA-256 of the link's token: the token itself is only in the message that carried the link."""
    message_id: int | None = Field(default=None, foreign_key="messages.id")
    sent_at: datetime = Field(sa_type=UTCDateTime, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rating: int | None = None
    """1 (very dissatisfied) to 5 (very satisfied); 4 and 5 count as satisfied."""
    comment: str | None = Field(default=None, max_length=1000)
    answered_via: str | None = Field(default=None, max_length=80)
    """The API key's name the answer came through."""
