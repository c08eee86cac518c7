"""Satisfaction surveys: sent when an inquiry is resolved, answered once through the link, CSAT counted exactly."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st
from sqlmodel import select

from cases import service
from cases.errors import AccessDenied, InvalidRequest, NotFound
from cases.models import Message
from cases.replies import conversations, surveys
from cases.replies.case_text import ReplySettings
from cases.replies.surveys import SurveyClosed, SurveyRow, csat, token_hash, with_csat
from cases.survey_models import Survey
from tests.cases.conftest import NOW

SETTINGS = ReplySettings(survey_url="https://help.example.com/s/")
MONDAY = datetime(2026, 11, 30, 9, tzinfo=timezone.utc)  # ISO week 2026-W49


def row(agent: str, rating: int | None, *, channel: str = "email", days: int = 0) -> SurveyRow:
    return SurveyRow(agent, channel, "inquiry", "frozen_deposit", MONDAY + timedelta(days=days), rating)


def test_csat_is_the_share_of_answers_rated_4_or_5_per_agent_channel_and_week():
    rows = [row("sue", 5), row("sue", 4), row("sue", 3), row("sue", 4), row("sue", 5), row("sue", None),
            row("sue", 1, channel="chat"), row("sue", 2, days=7), row("tom", None)]
    assert csat(rows, by=("agent", "channel", "week")) == [
        {"agent": "sue", "channel": "chat", "week": "2026-W49", "sent": 1, "answered": 1, "satisfied": 0,
         "csat": 0.0, "meets_target": False},
        {"agent": "sue", "channel": "email", "week": "2026-W49", "sent": 6, "answered": 5, "satisfied": 4,
         "csat": 0.8, "meets_target": True},  # exactly 80%: the target is met
        {"agent": "sue", "channel": "email", "week": "2026-W50", "sent": 1, "answered": 1, "satisfied": 0,
         "csat": 0.0, "meets_target": False},
        {"agent": "tom", "channel": "email", "week": "2026-W49", "sent": 1, "answered": 0, "satisfied": 0,
         "csat": None, "meets_target": None},
    ]
    assert csat(rows, by=()) == [{"sent": 9, "answered": 7, "satisfied": 4, "csat": 0.571, "meets_target": False}]
    with pytest.raises(InvalidRequest, match="not customer"):
        csat(rows, by=("customer",))


def test_a_week_runs_monday_to_sunday_across_the_new_year():
    assert [row("a", 5, days=d).week for d in (-1, 0, 6, 7, 32, 35)] == [
        "2026-W48", "2026-W49", "2026-W49", "2026-W50", "2026-W53", "2027-W01"]


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), st.one_of(st.none(), st.integers(1, 5))), max_size=40))
def test_groups_add_up_to_the_whole(pairs):
    rows = [row(agent, rating) for agent, rating in pairs]
    groups = csat(rows, by=("agent",))
    assert sum(g["sent"] for g in groups) == len(rows)
    assert sum(g["satisfied"] for g in groups) == sum(r.rating in (4, 5) for r in rows)
    for g in groups:
        assert g["csat"] is None or 0 <= g["csat"] <= 1


def test_the_tabulation_gets_the_csat_of_its_groups():
    table = [{"kind": "inquiry", "channel": "email", "topic": "frozen_deposit", "received": 3},
             {"kind": "complaint", "channel": "chat", "topic": "fees", "received": 1}]
    assert with_csat(table, [row("sue", 5), row("tom", 2), row("sue", None)]) == [
        {**table[0], "surveys_sent": 3, "surveys_answered": 2, "csat": 0.5},
        {**table[1], "surveys_sent": 0, "surveys_answered": 0, "csat": None}]


def _resolved(store, cases, *, resolve_at=NOW + timedelta(hours=2)):
    asked, _ = conversations.receive(store, "sue", now=NOW, channel="chat", topic="frozen_deposit", locale="de",
                                     body="Wo ist mein Geld?", case_id=cases["D-1001"])
    conversations.resolve(store, "sue", asked.id, now=resolve_at, settings=SETTINGS)
    with store.session() as session:
        message = session.exec(select(Message).where(Message.template_id == "satisfaction_survey")).one()
        survey = session.exec(select(Survey)).one()
        session.expunge_all()
    return asked, message, survey


def test_resolving_an_inquiry_sends_the_survey_in_its_language_and_keeps_only_the_tokens_hash(store, cases):
    asked, message, survey = _resolved(store, cases)
    token = re.search(r"https://help\.example\.com/s/(\S+)", message.body).group(1)
    assert message.channel == "chat" and message.locale == "de" and "Vorgangsnummer" in message.body
    assert (message.status, message.lint_status, message.author, message.inquiry_id) == ("sent", "clean", "sue",
                                                                                         asked.id)
    assert len(token) >= 32 and survey.token_sha256 == token_hash(token) and token not in survey.token_sha256
    assert (survey.agent, survey.channel, survey.kind, survey.sent_at, survey.expires_at) == (
        "sue", "chat", "inquiry", NOW + timedelta(hours=2), NOW + timedelta(hours=2, days=30))
    assert surveys.sent(store, "sue", asked.id) and not surveys.sent(store, "sue", asked.id + 1)
    kept = surveys.answer(store, token, rating=5, comment="  Danke!  ", via="help-page",
                          now=NOW + timedelta(days=1))
    assert (kept.rating, kept.comment, kept.answered_via) == (5, "Danke!", "help-page")
    with pytest.raises(SurveyClosed, match="answered"):
        surveys.answer(store, token, rating=1, comment=None, via="help-page", now=NOW + timedelta(days=2))
    with pytest.raises(NotFound):
        surveys.answer(store, token + "x", rating=1, comment=None, via="help-page", now=NOW + timedelta(days=2))


def test_a_survey_expires_after_30_days_and_bad_answers_are_refused(store, cases):
    _, message, survey = _resolved(store, cases)
    token = message.body.rsplit("/", 1)[1].split()[0]
    for rating in (0, 6, True, 4.0, "5"):
        with pytest.raises(InvalidRequest, match="rating"):
            surveys.answer(store, token, rating=rating, comment=None, via="k", now=NOW + timedelta(days=1))
    with pytest.raises(InvalidRequest, match="comment"):
        surveys.answer(store, token, rating=3, comment="x" * 1001, via="k", now=NOW + timedelta(days=1))
    with pytest.raises(SurveyClosed, match="expired"):
        surveys.answer(store, token, rating=3, comment=None, via="k", now=survey.expires_at)


def test_a_final_reply_sends_the_survey_as_its_author(store, cases):
    case_id = cases["D-1001"]
    asked, _ = conversations.receive(store, "sue", now=NOW, channel="email", topic="frozen_deposit", locale="en",
                                     body="Where is it?", case_id=case_id)
    service.transition(store, "ann", case_id, action="start_review", now=NOW)
    service.propose(store, "ann", case_id, kind="release", reason="source of funds explained", now=NOW)
    service.approve(store, "sam", case_id, now=NOW)
    conversations.send(store, "bob", case_id, template_id="released", locale="en", channel="email",
                       now=NOW + timedelta(hours=1), settings=SETTINGS)
    with store.session() as session:
        [survey] = session.exec(select(Survey)).all()
        assert (survey.inquiry_id, survey.agent) == (asked.id, "bob")
        message = session.get(Message, survey.message_id)
        assert message.subject == f"How did we do? – tracking number {asked.tracking_number}"


def test_only_supervisors_and_admins_see_the_figures(store, cases):
    _resolved(store, cases)
    span = dict(start=NOW, end=NOW + timedelta(days=1))
    assert [r.rating for r in surveys.survey_rows(store, "sam", **span)] == [None]
    assert surveys.survey_rows(store, "sam", start=NOW + timedelta(days=1), end=NOW + timedelta(days=2)) == []
    with pytest.raises(AccessDenied):
        surveys.survey_rows(store, "sue", **span)
    with pytest.raises(AccessDenied):
        surveys.comments(store, "ann", **span)
