"""Reading replies: the templates offered on a case, a rendering with its verdict, linting, the messages.

The support role reaches all of these; none returns anything of the evidence: a verdict depends
on the text alone, its findings quote only the text that was checked, and the notes on what of
the case's evidence a text names are kept for supervisors.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import select

from cases import audit
from cases.access import require
from cases.db import Store
from cases.models import Message
from cases.replies import case_text
from cases.replies.case_text import ReplySettings
from cases.replies.conversations import prepare
from cases.replies.linter import LintContext, LintResult, lint
from cases.replies.templates import CHANNELS, Rendered, TemplateInfo, catalog
from cases.service import acting_user, get_case, unit_of_work


@dataclass(frozen=True)
class Draft:
    """A reply ready to send: the rendering, the text (edited or not) and the linter's verdict."""

    rendered: Rendered
    text: str
    edited: bool
    verdict: LintResult


def offered_templates(store: Store, actor: str, case_id: int,
                      *, settings: ReplySettings = ReplySettings()) -> list[TemplateInfo]:
    """The templates that may be sent on the case now."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "reply")
        return case_text.offered(catalog(), session, get_case(session, case_id), settings=settings)


def draft(store: Store, actor: str, case_id: int, *, template_id: str, locale: str, channel: str, now: datetime,
          text: str | None = None, customer_name: str | None = None,
          settings: ReplySettings = ReplySettings()) -> Draft:
    """Render a template for the case and lint it (or the agent's edit of it).

    Nothing of the draft is stored, except that a support agent's blocked draft is put on the
    audit trail (rule ids only), so that probing the linter for what a case holds is on record.
    """
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "reply")
        rendered, body, edited, verdict = prepare(session, get_case(session, case_id), template_id, locale=locale,
                                                  channel=channel, text=text, customer_name=customer_name,
                                                  settings=settings, now=now)
    if verdict.status == "blocked" and user.role == "support":
        _record_blocked_draft(store, user.name, case_id, verdict=verdict, now=now)
    return Draft(rendered, body, edited, verdict if user.role == "supervisor" else replace(verdict, notes=()))


def _record_blocked_draft(store: Store, actor: str, case_id: int, *, verdict: LintResult, now: datetime) -> None:
    with unit_of_work(store) as session:
        audit.append(session, actor, "reply.draft_blocked", at=now, case_id=case_id,
                     after={"rules": sorted({f.rule_id for f in verdict.blocking})})


def lint_for_case(store: Store, actor: str, case_id: int, *, text: str, locale: str, now: datetime,
                  settings: ReplySettings = ReplySettings()) -> LintResult:
    """Lint free text as a reply on the case: the verdict of the text (far from every template of the
    language it warns); a supervisor also gets notes on what of the case's evidence it names."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "reply")
        case = get_case(session, case_id)
        case_text.check_locale(locale)
        values = case_text.values(session, case, locale, name=None, settings=settings)
        approved = tuple(catalog().render(template, locale, channel, values=values).body
                         for template in catalog().infos for channel in CHANNELS
                         if catalog().placeholders(template, locale, channel) <= set(values))
        verdict = lint(text, case_text.lint_context(session, case, locale, template_id=None, approved_texts=approved,
                                                    values=values, evidence=user.role == "supervisor"))
    if verdict.status == "blocked" and user.role == "support":
        _record_blocked_draft(store, user.name, case_id, verdict=verdict, now=now)
    return verdict


def lint_alone(text: str, locale: str | None = None, hold: bool = True) -> LintResult:
    """Lint a text outside any case (every language's terms unless `locale` is given)."""
    if locale is not None:
        case_text.check_locale(locale)
    return lint(text, LintContext(hold=hold, locale=locale))


def messages(store: Store, actor: str, case_id: int) -> list[dict]:
    """The case's messages, oldest first; support sees what was received and sent, without the linter's findings,
    and only a supervisor sees the notes on what of the case's evidence a message named."""
    with store.session() as session:
        user = acting_user(session, actor)
        require(user.name, user.role, "reply")
        get_case(session, case_id)
        rows = session.exec(select(Message).where(Message.case_id == case_id).order_by(Message.at, Message.id)).all()
        if user.role == "support":
            keep = ("id", "direction", "channel", "at", "template_id", "locale", "subject", "body", "status", "author")
            return [{k: getattr(m, k) for k in keep} for m in rows if m.status in ("received", "sent", "held")]
        if user.role == "supervisor":
            return [m.model_dump() for m in rows]
        return [{**m.model_dump(), "findings": [f for f in m.findings if f.get("severity") != "note"]} for m in rows]
