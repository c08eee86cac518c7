"""Customer satisfaction: a one-question survey sent when an inquiry is resolved, and CSAT measured from the answers.

`invite` runs inside the transaction that resolves an inquiry: it sends the approved
`satisfaction_survey` template with a single-use token link and keeps only the token's
SHA-256. `answer` records the customer's rating (1-5) and optional comment, once, within
30 days. CSAT is the share of answers rated 4 or 5 (`csat`, pure), against an 80% target.

>>> rows = [SurveyRow("ann", "email", "inquiry", "fees", datetime(2026, 12, 1, tzinfo=timezone.utc), r)
...         for r in (5, 4, 2, None)]
>>> csat(rows, by=("agent", "week"))[0] | {}
{'agent': 'ann', 'week': '2026-W49', 'sent': 4, 'answered': 3, 'satisfied': 2, 'csat': 0.667, 'meets_target': False}
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence

import sqlalchemy as sa
from sqlmodel import Session, select

from cases import audit
from cases.access import require
from cases.db import Store
from cases.errors import InvalidRequest, NotFound
from cases.models import Case, Inquiry, Message
from cases.replies import case_text
from cases.replies.case_text import ReplySettings
from cases.replies.linter import LintContext, lint
from cases.replies.templates import catalog
from cases.service import acting_user, unit_of_work
from cases.survey_models import Survey

TEMPLATE = "satisfaction_survey"
VALID_FOR = timedelta(days=30)
"""How long a survey link may be answered."""
CSAT_TARGET = 0.80
"""Customer satisfaction target: at least 80% of answers rated 4 or 5."""
SATISFIED = (4, 5)
COMMENT_LONGEST = 1000
GROUPINGS = ("agent", "channel", "kind", "topic", "week")


class SurveyClosed(InvalidRequest):
    """The survey was already answered, or its link expired."""


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a survey token is kept."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invite(session: Session, inquiry: Inquiry, *, agent: str, now: datetime, settings: ReplySettings) -> dict:
    """Send the survey for a just-resolved inquiry (in the caller's transaction); what happened, for the audit event.

    A text the linter does not pass is not sent and no survey is kept: the resolution goes on.
    """
    token = secrets.token_urlsafe(24)
    case = session.get(Case, inquiry.case_id) if inquiry.case_id is not None else None
    values = (case_text.values(session, case, inquiry.locale, name=None, settings=settings) if case else
              {"customer_name": case_text.customer_name(None, inquiry.locale),
               "tracking_number": inquiry.tracking_number, "support_contact": settings.support_contact})
    values = {key: values[key] for key in ("customer_name", "tracking_number", "support_contact")}
    values["survey_link"] = settings.survey_url + token
    text = catalog().render(TEMPLATE, inquiry.locale, inquiry.channel, values=values)
    context = (case_text.lint_context(session, case, inquiry.locale, template_id=TEMPLATE, approved_texts=(),
                                      values=values, edited=False) if case
               else LintContext(hold=True, locale=inquiry.locale, template_id=TEMPLATE, learned=False))
    result = lint(text.body, context)
    if result.status != "clean":
        return {"survey_not_sent": "the linter did not pass the survey's text: " + "; ".join(
            f"{f.category}: {f.excerpt!r}" for f in result.findings)}
    message = Message(case_id=inquiry.case_id, inquiry_id=inquiry.id, direction="out", channel=inquiry.channel,
                      at=now, template_id=TEMPLATE, locale=inquiry.locale, subject=text.subject, body=text.body,
                      lint_status="clean", status="sent", author=agent)
    session.add(message)
    session.flush()
    survey = Survey(inquiry_id=inquiry.id, case_id=inquiry.case_id, customer_id=inquiry.customer_id, agent=agent,
                    kind=inquiry.kind, channel=inquiry.channel, topic=inquiry.topic, token_sha256=token_hash(token),
                    message_id=message.id, sent_at=now, expires_at=now + VALID_FOR)
    session.add(survey)
    session.flush()
    return {"survey": survey.id, "survey_message": message.id}


def answer(store: Store, token: str, *, rating: int, comment: str | None, via: str, now: datetime) -> Survey:
    """Record a customer's answer to the survey of `token`: a rating 1-5 and an optional comment, once.

    NotFound for an unknown token, SurveyClosed for one answered or expired; the answer and its
    audit event (by `system:api:<via>`) share one transaction.
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidRequest(f"a rating is a whole number from 1 to 5, not {rating!r}")
    comment = (comment or "").strip() or None
    if comment is not None and (len(comment) > COMMENT_LONGEST or "\x00" in comment):
        raise InvalidRequest(f"a comment has at most {COMMENT_LONGEST:,} characters (and no NUL)")
    with unit_of_work(store) as session:
        survey = session.exec(select(Survey).where(Survey.token_sha256 == token_hash(token))
                              .with_for_update()).first()
        if survey is None:
            raise NotFound("no survey has this link")
        if survey.answered_at is not None:
            raise SurveyClosed(f"this survey was answered on {survey.answered_at:%Y-%m-%d}")
        if now >= survey.expires_at:
            raise SurveyClosed(f"this survey's link expired on {survey.expires_at:%Y-%m-%d}")
        survey.answered_at, survey.rating, survey.comment, survey.answered_via = now, rating, comment, via[:80]
        session.add(survey)
        audit.append(session, f"system:api:{via}", "survey.answered", at=now, case_id=survey.case_id,
                     after={"survey": survey.id, "inquiry": survey.inquiry_id, "rating": rating,
                            "comment": comment is not None})
        session.flush()
        session.refresh(survey)
        return survey


@dataclass(frozen=True)
class SurveyRow:
    """One survey sent: who resolved the inquiry, its channel, kind and topic, when it was sent, the rating if any."""

    agent: str
    channel: str
    kind: str
    topic: str
    sent_at: datetime
    rating: int | None

    @property
    def week(self) -> str:
        """The ISO week the survey was sent, e.g. 2026-W49."""
        year, week, _ = self.sent_at.isocalendar()
        return f"{year}-W{week:02d}"


def csat(rows: Sequence[SurveyRow], *, by: Sequence[str]) -> list[dict]:
    """Surveys sent, answered, satisfied (4 or 5) and CSAT per group of `by` (from GROUPINGS), against the target;
    CSAT is None for a group with no answer."""
    unknown = [name for name in by if name not in GROUPINGS]
    if unknown:
        raise InvalidRequest(f"CSAT is grouped by {', '.join(GROUPINGS)}, not {', '.join(unknown)}")
    groups: dict[tuple, list[SurveyRow]] = {}
    for row in rows:
        groups.setdefault(tuple(getattr(row, name) for name in by), []).append(row)
    out = []
    for key, items in sorted(groups.items()):
        answered = [r.rating for r in items if r.rating is not None]
        satisfied = sum(r in SATISFIED for r in answered)
        share = round(satisfied / len(answered), 3) if answered else None
        out.append(dict(zip(by, key)) | {"sent": len(items), "answered": len(answered), "satisfied": satisfied,
                                         "csat": share, "meets_target": None if share is None
                                         else share >= CSAT_TARGET})
    return out


def survey_rows(store: Store, actor: str, *, start: datetime, end: datetime,
                received: bool = False) -> list[SurveyRow]:
    """The surveys sent in [start, end) (or, with `received`, those of inquiries received in it), oldest first."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_service_figures")
        when = Inquiry.received_at if received else Survey.sent_at
        found = session.execute(sa.select(Survey.agent, Survey.channel, Survey.kind, Survey.topic, Survey.sent_at,
                                          Survey.rating).join(Inquiry, Inquiry.id == Survey.inquiry_id)
                                .where(when >= start, when < end).order_by(Survey.sent_at, Survey.id)).all()
        return [SurveyRow(*row) for row in found]


def comments(store: Store, actor: str, *, start: datetime, end: datetime, limit: int = 50) -> list[dict]:
    """The latest answers with a comment in [start, end): rating, comment, agent, channel, when (raw text: the
    caller escapes it where it shows it)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "view_service_figures")
        found = session.exec(select(Survey).where(Survey.comment.is_not(None), Survey.answered_at >= start,
                                                  Survey.answered_at < end)
                             .order_by(Survey.answered_at.desc()).limit(limit)).all()
        return [{"answered_at": s.answered_at, "rating": s.rating, "comment": s.comment, "agent": s.agent,
                 "channel": s.channel, "inquiry": s.inquiry_id} for s in found]


def sent(store: Store, actor: str, inquiry_id: int) -> bool:
    """Whether the inquiry's satisfaction survey went out (it does not when the linter held its text)."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "reply")
        return session.exec(select(Survey.id).where(Survey.inquiry_id == inquiry_id)).first() is not None


def public(survey: Survey) -> dict:
    """What the API says of an answered survey (no token, no customer data)."""
    return {"survey_id": survey.id, "rating": survey.rating, "answered_at": survey.answered_at.astimezone(
        timezone.utc).isoformat(), "comment_kept": survey.comment is not None}


def with_csat(table: Sequence[dict], rows: Sequence[SurveyRow]) -> list[dict]:
    """The quarterly tabulation's rows (by kind, channel and topic) with their surveys sent, answered and CSAT."""
    found = {(g["kind"], g["channel"], g["topic"]): g for g in csat(rows, by=("kind", "channel", "topic"))}
    out = []
    for row in table:
        group = found.get((row["kind"], row["channel"], row["topic"]), {})
        out.append({**row, "surveys_sent": group.get("sent", 0), "surveys_answered": group.get("answered", 0),
                    "csat": group.get("csat")})
    return out
