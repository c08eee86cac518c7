"""The case tables (SQLModel), in Base / Create / table / Public families where callers need them.

Times are timezone-aware UTC (`UTCDateTime`), money is exact (`ExactDecimal`). Every table
change happens through cases.service, in one transaction with its audit event.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from cases.api_models import (  # noqa: F401 (their tables are part of the schema)
    ApiCall, ApiKey, ApiScreening, FreezeRequest, RequestHit, WithdrawalScreening)
from cases.chain_models import ChainDeposit, ChainTransfer  # noqa: F401 (as above)
from cases.columns import ExactDecimal, UTCDateTime
from cases.survey_models import Survey  # noqa: F401 (as above)
from graph import chains

ROLES = ("analyst", "supervisor", "support", "admin", "system")
"""`system` is a service account: batch jobs prove it with a secret; it never signs in to the console."""
OPEN_FILTER = "status IN ('open', 'in_review', 'awaiting_customer')"
"""The open states (cases.lifecycle.OPEN_STATES) as SQL, for the queue's partial index."""


class UserBase(SQLModel):
    name: str = Field(index=True, unique=True, max_length=80)
    role: str = Field(max_length=20)


class User(UserBase, table=True):
    """A person who works cases (or the `system` account that batch jobs act as)."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class SignInThrottle(SQLModel, table=True):
    """The recent failed sign-ins of one name or one source, and until when it must wait (cases.signin)."""

    __tablename__ = "sign_in_throttles"
    key: str = Field(primary_key=True, max_length=300)
    """`user:<name, case-folded>` or `source:<address>`."""
    failures: int = 0
    last_failure_at: datetime = Field(sa_type=UTCDateTime)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RoleGrant(SQLModel, table=True):
    """A change of power waiting for a second admin (cases.staff): a role to give, or an admin to disable."""

    __tablename__ = "role_grants"
    id: int | None = Field(default=None, primary_key=True)
    user_name: str = Field(max_length=80, index=True)
    kind: str = Field(max_length=20)
    """`role` (give `role`, enabling the user) or `disable`."""
    role: str = Field(max_length=20)
    requested_by: str = Field(max_length=80)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="pending", max_length=20)
    """pending, approved or rejected."""
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignInSession(SQLModel, table=True):
    """A signed-in session of the command line or the console (cases.identity): only its token's hash is kept."""

    __tablename__ = "sign_in_sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_name: str = Field(max_length=80)
    source: str = Field(max_length=80)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """The last time the console used it (idle sessions end); None for the command line's."""


class DepositFields(SQLModel):
    """What a case knows of its deposit."""

    deposit_id: str = Field(max_length=200)
    customer_id: str = Field(index=True, max_length=200)
    tx_hash: str = Field(index=True, max_length=200)
    chain: str = Field(default=chains.DEFAULT, max_length=40, sa_column_kwargs={"server_default": chains.DEFAULT})
    """The deposit's chain (graph.chains); its two addresses are on it."""
    from_address: str = Field(max_length=120)
    to_address: str = Field(max_length=120)
    asset: str = Field(max_length=100)
    """ETH, a token's contract address, or `<contract>:raw` for a token without decimals()."""
    amount: Decimal = Field(sa_type=ExactDecimal)
    usd_value: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    """None when the asset has no USD price: unknown, never zero."""
    deposit_time: datetime = Field(sa_type=UTCDateTime)
    block_number: int
    position: int
    sender_risk: dict | None = Field(default=None, sa_type=JSON)
    """The address-risk model's view of the sender: probability, model version, threshold, top features."""

    def sender_key(self) -> str:
        """The sender's wallet key, as the engine and the evidence name it (`chain:address`, bare on ethereum)."""
        return chains.wallet_key(self.chain, self.from_address)

    def receiver_key(self) -> str:
        """The receiver's wallet key (see `sender_key`)."""
        return chains.wallet_key(self.chain, self.to_address)


class CaseBase(DepositFields):
    """The deposit and the decision that froze it."""

    decision: str = Field(max_length=10)
    rule_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    snapshot_id: str = Field(max_length=40)
    snapshot: dict = Field(default_factory=dict, sa_type=JSON)
    categories: list[str] = Field(default_factory=list, sa_type=JSON)
    min_hop: int = 2
    jurisdictions: list[str] = Field(default_factory=list, sa_type=JSON)


class ExposureCreate(SQLModel):
    """One exposure of a deposit, with its evidence (see graph.evidence.Evidence.to_dict)."""

    category: str = Field(max_length=40)
    hop: int
    share: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    """None when unknown: all the flagged funding behind a haircut share has no USD price."""
    usd: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    """None when unknown (the deposit or the share has no USD value)."""
    evidence: dict = Field(default_factory=dict, sa_type=JSON)


class CaseCreate(CaseBase):
    """A frozen deposit to open a case for (checked before it is stored)."""


class Case(CaseBase, table=True):
    """A freeze case: one per frozen deposit, never two (unique deposit_id)."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("deposit_id", name="uq_cases_deposit_id"),
                      Index("ix_cases_queue", "status", "next_due_at", "id", "snoozed_until"),
                      Index("ix_cases_open_queue", text("(next_due_at IS NULL)"), "next_due_at", "id", "snoozed_until",
                            postgresql_where=text(OPEN_FILTER), sqlite_where=text(OPEN_FILTER)))
    id: int | None = Field(default=None, primary_key=True)
    tracking_number: str = Field(unique=True, max_length=20)
    status: str = Field(max_length=20)
    assignee: str | None = Field(default=None, max_length=80)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    snooze_reason: str | None = Field(default=None, max_length=500)
    outcome: str | None = Field(default=None, max_length=20)
    report_ref: str | None = Field(default=None, max_length=100)
    report_date: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
    priority: float | None = None
    """Place in its deadline day's queue (1 first), set by `kyt model rank`; None: rule order."""
    priority_model: str | None = Field(default=None, max_length=40)
    queue_order: str | None = Field(default=None, max_length=10)
    """"model" or "rules": which order the case was ranked in (a share always stays in rule order)."""


class CasePublic(CaseBase):
    """A case as analysts and supervisors see it (never shown to the support role)."""

    id: int
    tracking_number: str
    status: str
    assignee: str | None
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    next_due_at: datetime | None
    snoozed_until: datetime | None
    snooze_reason: str | None
    outcome: str | None
    report_ref: str | None
    report_date: datetime | None
    version: int
    priority: float | None = None
    priority_model: str | None = None
    queue_order: str | None = None


class Exposure(ExposureCreate, table=True):
    """An exposure kept with its case."""

    __tablename__ = "exposures"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)


class Proposal(SQLModel, table=True):
    """A proposed release or escalation, waiting for a second person (four eyes)."""

    __tablename__ = "proposals"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str = Field(max_length=20)
    reason: str = Field(max_length=2000)
    proposed_by: str = Field(max_length=80)
    proposed_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="pending", max_length=20)
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, max_length=2000)


class Deadline(SQLModel, table=True):
    """A deadline a rule set on a case, from a trigger."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_open_due", "status", "due_at"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    rule_id: str = Field(max_length=40)
    jurisdiction: str = Field(max_length=10)
    trigger: str = Field(max_length=40)
    triggered_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    warn_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="open", max_length=20)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Note(SQLModel, table=True):
    """An analyst's note on a case."""

    __tablename__ = "notes"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    author: str = Field(max_length=80)
    written_at: datetime = Field(sa_type=UTCDateTime)
    body: str = Field(max_length=10_000)


class Attachment(SQLModel, table=True):
    """What is known of a file attached to a case (the file itself lives elsewhere)."""

    __tablename__ = "attachments"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    filename: str = Field(max_length=300)
    media_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime = Field(sa_type=UTCDateTime)


class Alert(DepositFields, table=True):
    """A deposit the rules sent to review: an alert in the queue, funds not frozen."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("deposit_id", name="uq_alerts_deposit_id"),
                      Index("ix_alerts_queue", "status", "created_at", "id"))
    id: int | None = Field(default=None, primary_key=True)
    rule_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    categories: list[str] = Field(default_factory=list, sa_type=JSON)
    snapshot_id: str = Field(max_length=40)
    status: str = Field(default="open", max_length=20)
    """open, dismissed (with a reason) or case_opened (an analyst froze the deposit: `case_id`)."""
    created_at: datetime = Field(sa_type=UTCDateTime)
    assignee: str | None = Field(default=None, max_length=80)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=2000)
    case_id: int | None = Field(default=None, foreign_key="cases.id")


class AuditEvent(SQLModel, table=True):
    """One change, chained to the one before it by hash (see cases.audit)."""

    __tablename__ = "audit_events"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    case_id: int | None = Field(default=None, index=True)
    actor: str = Field(max_length=80)
    at: datetime = Field(sa_type=UTCDateTime)
    action: str = Field(max_length=60)
    before: dict = Field(default_factory=dict, sa_type=JSON)
    after: dict = Field(default_factory=dict, sa_type=JSON)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    key_id: str | None = Field(default=None, max_length=16)
    """The audit key whose HMAC `hash` is (cases.audit_keys); None for a plain SHA-256 (no key in use)."""


class AuditHead(SQLModel, table=True):
    """The last event of the chain: one row, locked by every append, so appends line up."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)


class DoneRequest(SQLModel, table=True):
    """A request already carried out, by its key (one per form a person submits), so that a second click does
    nothing (cases.once)."""

    __tablename__ = "done_requests"
    key: str = Field(primary_key=True, max_length=64)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=60)
    at: datetime = Field(sa_type=UTCDateTime)


class Inquiry(SQLModel, table=True):
    """A customer's inquiry or complaint: acknowledged at once with a tracking number, resolved later."""

    __tablename__ = "inquiries"
    __table_args__ = (Index("ix_inquiries_received", "received_at"),)
    id: int | None = Field(default=None, primary_key=True)
    tracking_number: str = Field(index=True, max_length=20)
    """The case's tracking number when it is about a case, so that the customer quotes one number."""
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    customer_id: str = Field(index=True, max_length=200)
    kind: str = Field(max_length=20)
    channel: str = Field(max_length=20)
    topic: str = Field(max_length=40)
    locale: str = Field(max_length=5)
    received_at: datetime = Field(sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Message(SQLModel, table=True):
    """One message to or from a customer, with the template it came from and the linter's verdict."""

    __tablename__ = "messages"
    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    inquiry_id: int | None = Field(default=None, foreign_key="inquiries.id", index=True)
    direction: str = Field(max_length=10)
    """in (from the customer) or out (to the customer)."""
    channel: str = Field(max_length=20)
    at: datetime = Field(sa_type=UTCDateTime)
    template_id: str | None = Field(default=None, max_length=40)
    locale: str = Field(max_length=5)
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(max_length=20_000)
    edited: bool = False
    lint_status: str = Field(max_length=12)
    """clean, warn or blocked (for an outgoing text); not_checked for the customer's own words."""
    findings: list[dict] = Field(default_factory=list, sa_type=JSON)
    status: str = Field(max_length=20)
    """received, sent, held (waiting for a supervisor), blocked or rejected."""
    author: str = Field(max_length=220)
    """The user who wrote it, or customer:<customer id>."""
    approved_by: str | None = Field(default=None, max_length=80)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScreeningRun(SQLModel, table=True):
    """The deposits one run decided under a snapshot, packed: a later run with that snapshot skips them (cases.screenings)."""

    __tablename__ = "screening_runs"
    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: str = Field(index=True, max_length=40)
    decided_at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=80)
    deposits: int
    format: str = Field(max_length=20)
    decided: bytes = Field(sa_type=LargeBinary)
