"""The support routes over HTTP on the real server: a customer's inquiries by tracking number, survey answers."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import requests
import sqlalchemy as sa

from cases import api_keys
from cases.db import open_store
from cases.replies import conversations
from cases.replies.case_text import ReplySettings

SETTINGS = ReplySettings(survey_url="https://help.example.com/survey/")


def resolved_inquiry(url: str) -> tuple[str, str]:
    """An inquiry on the demo's first case, received and resolved by sue: (tracking number, the survey's token)."""
    store = open_store(url)
    now = datetime.now(timezone.utc)
    with store.engine.connect() as connection:
        case_id = connection.execute(sa.text("SELECT id FROM cases WHERE deposit_id = 'D-1001'")).scalar_one()
    asked, _ = conversations.receive(store, "sue", now=now - timedelta(hours=1), channel="email",
                                     topic="frozen_deposit", locale="en", body="Where is my money?", case_id=case_id)
    conversations.resolve(store, "sue", asked.id, now=now, settings=SETTINGS)
    with store.engine.connect() as connection:
        body = connection.execute(sa.text("SELECT body FROM messages WHERE inquiry_id = :i AND template_id = "
                                          "'satisfaction_survey'"), {"i": asked.id}).scalar_one()
    return asked.tracking_number, re.search(r"https://help\.example\.com/survey/(\S+)", body).group(1)


def keys(url: str, name: str, scopes: list[str]) -> str:
    _, secret = api_keys.add_key(open_store(url), "ada", name, scopes=scopes, now=datetime.now(timezone.utc))
    return secret


def test_a_survey_is_answered_once_through_its_link_and_the_token_is_never_logged(api):
    base, url, _ = api
    tracking, token = resolved_inquiry(url)
    key = keys(url, "survey-page", ["surveys"])
    reader = keys(url, "help-centre", ["inquiries:read"])
    time.sleep(5.5)  # the server reads the keys again every 5 seconds
    headers = {"X-API-Key": key}
    answered = requests.post(f"{base}/v1/surveys/{token}", json={"rating": 4, "comment": "<b>quick</b> =1+1"},
                             headers=headers, timeout=10)
    assert answered.status_code == 200, answered.text
    assert answered.json()["rating"] == 4 and answered.json()["comment_kept"] is True
    again = requests.post(f"{base}/v1/surveys/{token}", json={"rating": 1}, headers=headers, timeout=10)
    assert again.status_code == 409 and "answered" in again.json()["detail"]
    unknown = requests.post(f"{base}/v1/surveys/{token[:-3]}xyz", json={"rating": 5}, headers=headers, timeout=10)
    assert unknown.status_code == 404
    for bad in ({"rating": 6}, {"rating": 0}, {"rating": "5"}, {"rating": 4.5}, {}, {"rating": 5, "extra": 1},
                {"rating": 5, "comment": "x" * 1001}):
        refused = requests.post(f"{base}/v1/surveys/{token}", json=bad, headers=headers, timeout=10)
        assert refused.status_code == 422, (bad, refused.text)
    assert requests.post(f"{base}/v1/surveys/{token}", json={"rating": 5}, timeout=10).status_code == 401
    wrong = requests.post(f"{base}/v1/surveys/{token}", json={"rating": 5}, headers={"X-API-Key": reader},
                          timeout=10)
    assert wrong.status_code == 403
    engine = open_store(url).engine
    with engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT rating, comment, answered_via, agent FROM surveys")).all()
        assert kept == [(4, "<b>quick</b> =1+1", "survey-page", "sue")]
        events = connection.execute(sa.text("SELECT actor FROM audit_events WHERE action = 'survey.answered'")).all()
        assert events == [("system:api:survey-page",)]
    for _ in range(20):  # the call log is written in batches: look again, each time in a new transaction
        with engine.connect() as connection:
            paths = connection.execute(sa.text("SELECT path FROM api_calls WHERE key_name = 'survey-page'")).all()
        if len(paths) >= 3:
            break
        time.sleep(0.5)
    assert len(paths) >= 3 and all(token not in p and token[:-3] not in p for (p,) in paths)


def test_the_platform_reads_where_a_customers_inquiries_stand(api):
    base, url, _ = api
    tracking, _ = resolved_inquiry(url)
    reader = keys(url, "status-page", ["inquiries:read"])
    time.sleep(5.5)
    found = requests.get(f"{base}/v1/inquiries/{tracking}", headers={"X-API-Key": reader}, timeout=10)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["tracking_number"] == tracking
    mine = [i for i in body["inquiries"] if i["resolved_at"] is not None]
    assert mine and mine[-1]["state"] == "resolved" and mine[-1]["case_status"] == "under_review"
    assert "Where is my money" not in found.text  # the customer's words are not repeated
    assert requests.get(f"{base}/v1/inquiries/FC-ZZZZ-ZZZZ", headers={"X-API-Key": reader},
                        timeout=10).status_code == 404
    assert requests.get(f"{base}/v1/inquiries/{tracking}", timeout=10).status_code == 401
