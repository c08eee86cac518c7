"""What a case may put into a reply (placeholder values) and what the linter must know of it (context).

These helpers read inside the caller's session; they never write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from cases import lifecycle
from cases.deadlines import CALENDARS
from cases.errors import InvalidRequest
from cases.models import Case, Deadline, Exposure
from cases.schedule import plan
from cases.replies.linter import CaseEvidence, LintContext
from cases.replies.templates import LOCALES, Catalog, TemplateInfo
from cases.replies.wording import CUSTOMER, amount, long_date


@dataclass(frozen=True)
class ReplySettings:
    """The platform's own values for replies."""

    support_contact: str = "support@example.com"
    default_locale: str = "en"
    survey_url: str = "https://support.example.com/survey/"
    """Where the satisfaction survey is answered: the link is this followed by the survey's token."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "ReplySettings":
        """The settings from KYT_SUPPORT_CONTACT and KYT_SURVEY_URL, defaults for what is not set."""
        url = environ.get("KYT_SURVEY_URL", cls.survey_url)
        if not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
            raise InvalidRequest(f"KYT_SURVEY_URL must be an http(s) address without spaces, not {url!r}")
        return cls(support_contact=environ.get("KYT_SUPPORT_CONTACT", cls.support_contact), survey_url=url)


def check_locale(locale: str) -> str:
    """The language code, or InvalidRequest naming the supported ones."""
    if locale not in LOCALES:
        raise InvalidRequest(f"no language {locale!r} (languages: {', '.join(LOCALES)})")
    return locale


def zone(case: Case) -> ZoneInfo:
    """The time zone the customer's dates are written in: the case's first jurisdiction with a calendar."""
    for jurisdiction in case.jurisdictions:
        if jurisdiction in CALENDARS:
            return ZoneInfo(CALENDARS[jurisdiction][0])
    return ZoneInfo("UTC")


def local_day(case: Case, moment: datetime) -> date:
    return moment.astimezone(zone(case)).date()


def next_update(session: Session, case: Case) -> datetime | None:
    """When the waiting customer's next status update is due (the open NY-STATUS deadline)."""
    return session.exec(select(Deadline.due_at).where(Deadline.case_id == case.id, Deadline.status == "open",
                                                      Deadline.rule_id == "NY-STATUS")
                        .order_by(Deadline.due_at)).first()


NAME = re.compile(r"[^\W\d_]+(?:[ '’.\-]{1,2}[^\W\d_]+)*\.?")
NAME_LONGEST = 60


def customer_name(name: str | None, locale: str) -> str:
    """The name for a greeting: letters, spaces, hyphens, apostrophes, at most 60; else the word for customer."""
    name = " ".join((name or "").split())
    if not name:
        return CUSTOMER[locale]
    if len(name) > NAME_LONGEST or not NAME.fullmatch(name):
        raise InvalidRequest(f"a customer's name has only letters, spaces, hyphens and apostrophes, at most "
                             f"{NAME_LONGEST} characters; not {name[:80]!r}")
    return name


def upcoming_update(case: Case, now: datetime) -> datetime | None:
    """When the next status update will be due if one is sent `now` (NY-STATUS restarted)."""
    due = [row["due_at"] for row in plan("customer_waiting", case.jurisdictions, now) if row["rule_id"] == "NY-STATUS"]
    return due[0] if due else None


def values(session: Session, case: Case, locale: str, *, name: str | None, settings: ReplySettings,
           now: datetime | None = None, status_update: bool = False) -> dict:
    """The placeholder values of a case in a language (next_update_date only while an update is due).

    For a status update sent `now`, the next update date is the one it starts, not the one it meets.
    """
    out = {"customer_name": customer_name(name, locale),
           "tracking_number": case.tracking_number,
           "deposit_amount": amount(case.amount, locale), "deposit_asset": case.asset,
           "deposit_date": long_date(local_day(case, case.deposit_time), locale),
           "support_contact": settings.support_contact}
    due = next_update(session, case)
    if due is not None and status_update and now is not None:
        due = upcoming_update(case, now) or due
    if due is not None and case.status in lifecycle.OPEN_STATES + ("escalated",):
        out["next_update_date"] = long_date(local_day(case, due), locale)
    return out


def sanctions_block(case: Case) -> bool:
    """Whether the case is funds blocked under sanctions: escalated (or closed so) with a sanctions exposure."""
    return "sanctions" in case.categories and case.status in ("escalated", "closed") and case.outcome != "released"


def offered(catalog: Catalog, session: Session, case: Case, *, settings: ReplySettings) -> list[TemplateInfo]:
    """The templates support may send on this case now."""
    available = set(values(session, case, settings.default_locale, name=None, settings=settings))
    return catalog.offered(lifecycle.customer_status(case.status, case.outcome), sanctions_block(case), available)


def lint_context(session: Session, case: Case, locale: str, *, template_id: str | None,
                 approved_texts: tuple[str, ...], values: dict, edited: bool = True,
                 evidence: bool = True) -> LintContext:
    """The linter's context for a reply on this case: the approved texts, the dates and name it may hold,
    and (for a supervisor's notes only, never for the verdict) the case's evidence."""
    found = CaseEvidence()
    if evidence:
        exposures = session.exec(select(Exposure.evidence).where(Exposure.case_id == case.id)).all()
        found = CaseEvidence.from_exposures(list(exposures), list(case.categories), case.sender_key())
    allowed = tuple(values[k] for k in ("deposit_date", "next_update_date") if k in values)
    return LintContext(hold=True, locale=locale, evidence=found, template_id=template_id,
                       approved_texts=approved_texts, allowed_dates=allowed, learned=edited)
