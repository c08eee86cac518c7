"""Every service and query function, called by every role: refused exactly when the role lacks the right."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases import alerts, figures, maintenance, opening, queries, service, staff, timeline
from cases.replies import conversations, inbox, standards, surveys, views
from cases.access import PERMISSIONS
from cases.errors import AccessDenied
from cases.queries import QueueFilter
from tests.cases.conftest import NOW, PEOPLE

ACTORS = {role: name for name, role in PEOPLE.items()} | {"system": "system:job"}

CALLS = {
    "transition": ("work_case", lambda s, c, a: service.transition(s, a, c, action="start_review", now=NOW)),
    "propose": ("work_case", lambda s, c, a: service.propose(s, a, c, kind="release", reason="reason", now=NOW)),
    "approve": ("approve", lambda s, c, a: service.approve(s, a, c, now=NOW)),
    "reject": ("approve", lambda s, c, a: service.reject(s, a, c, note="no", now=NOW)),
    "assign": ("work_case", lambda s, c, a: service.assign(s, a, c, assignee=None, now=NOW)),
    "snooze": ("work_case",
               lambda s, c, a: service.snooze(s, a, c, until=NOW + timedelta(days=1), reason="why", now=NOW)),
    "add_note": ("work_case", lambda s, c, a: service.add_note(s, a, c, body="note", now=NOW)),
    "add_attachment": ("work_case", lambda s, c, a: service.add_attachment(
        s, a, c, filename="f", media_type="text/plain", size_bytes=1, sha256="0" * 64, now=NOW)),
    "record_status_update": ("work_case", lambda s, c, a: service.record_status_update(s, a, c, now=NOW)),
    "add_user": ("manage_users", lambda s, c, a: staff.add_user(s, a, f"new-{a.replace(':', '-')}", role="analyst", now=NOW)),
    "queue": ("view_case", lambda s, c, a: queries.queue(s, QueueFilter(), actor=a, now=NOW)),
    "show": ("view_case", lambda s, c, a: queries.show(s, a, c)),
    "customer_view": ("view_customer_status", lambda s, c, a: queries.customer_view(s, a, customer_id="alice")),
    "due": ("view_deadlines", lambda s, c, a: queries.due(s, a, NOW, within=timedelta(days=3))),
    "due_counts": ("view_deadlines", lambda s, c, a: queries.due_counts(s, a, NOW, within=timedelta(days=3))),
    "verify_audit": ("view_audit", lambda s, c, a: queries.verify_audit(s, a)),
    "anchor_audit": ("view_audit", lambda s, c, a: queries.anchor_audit(s, a, NOW)),
    "set_role": ("manage_users", lambda s, c, a: staff.set_role(s, a, "ann", role="support", now=NOW)),
    "set_active": ("manage_users", lambda s, c, a: staff.set_active(s, a, "ann", active=False, now=NOW)),
    "decide": ("manage_users", lambda s, c, a: staff.decide(s, a, 999, approve=True, now=NOW)),
    "people": ("manage_users", lambda s, c, a: staff.people(s, a)),
    "recompute_deadlines": ("recompute_deadlines", lambda s, c, a: maintenance.recompute_deadlines(s, a, NOW)),
    "set_password": ("manage_users",
                     lambda s, c, a: staff.set_password(s, a, "sue", password="a new password", now=NOW)),
    "pending_proposals": ("view_deadlines", lambda s, c, a: queries.pending_proposals(s, a)),
    "case_figures": ("view_service_figures",
                     lambda s, c, a: figures.case_figures(s, a, start=NOW, end=NOW + timedelta(days=1))),
    "case_rows": ("view_service_figures",
                  lambda s, c, a: figures.case_rows(s, a, start=NOW, end=NOW + timedelta(days=1))),
    "inquiry_rows": ("view_service_figures",
                     lambda s, c, a: standards.inquiry_rows(s, a, start=NOW, end=NOW + timedelta(days=1))),
    "status_updates": ("view_service_figures", lambda s, c, a: standards.status_updates(
        s, a, start=NOW, end=NOW + timedelta(days=1), now=NOW)),
    "service_rows": ("view_service_figures",
                     lambda s, c, a: standards.service_rows(s, a, start=NOW, end=NOW + timedelta(days=1))),
    "send": ("reply", lambda s, c, a: conversations.send(s, a, c, template_id="status_update", locale="en",
                                                         channel="chat", now=NOW)),
    "request_source_of_funds": ("work_case", lambda s, c, a: conversations.request_source_of_funds(
        s, a, c, locale="en", channel="chat", now=NOW)),
    "receive": ("reply", lambda s, c, a: conversations.receive(s, a, now=NOW, channel="chat", topic="fees", locale="en",
                                                               body="hi", case_id=c)),
    "resolve": ("reply", lambda s, c, a: conversations.resolve(s, a, 999, now=NOW)),
    "approve_message": ("approve_message", lambda s, c, a: conversations.approve(s, a, 999, reason="checked", now=NOW)),
    "reject_message": ("approve_message", lambda s, c, a: conversations.reject(s, a, 999, note="no", now=NOW)),
    "held": ("approve_message", lambda s, c, a: conversations.held(s, a)),
    "offered_templates": ("reply", lambda s, c, a: views.offered_templates(s, a, c)),
    "draft": ("reply", lambda s, c, a: views.draft(s, a, c, template_id="status_update", locale="en", channel="chat",
                                                   now=NOW)),
    "lint_for_case": ("reply", lambda s, c, a: views.lint_for_case(s, a, c, text="hello", locale="en", now=NOW)),
    "messages": ("reply", lambda s, c, a: views.messages(s, a, c)),
    "alert_queue": ("view_case", lambda s, c, a: alerts.alert_queue(s, a, alerts.AlertFilter())),
    "get_alert": ("view_case", lambda s, c, a: alerts.get_alert(s, a, 999)),
    "assign_alert": ("work_case", lambda s, c, a: alerts.assign(s, a, 999, assignee=None, now=NOW)),
    "dismiss_alert": ("work_case", lambda s, c, a: alerts.dismiss(s, a, 999, reason="why", now=NOW)),
    "open_case_from_alert": ("work_case", lambda s, c, a: alerts.open_case(s, a, 999, reason="why", now=NOW)),
    "alert_summary": ("view_case", lambda s, c, a: alerts.summary(s, a, now=NOW)),
    "alert_per_day": ("view_case", lambda s, c, a: alerts.per_day(s, a, start=NOW, end=NOW + timedelta(days=1))),
    "timeline": ("view_case", lambda s, c, a: timeline.timeline(s, a, c, now=NOW)),
    "backlog": ("view_deadlines", lambda s, c, a: figures.backlog(s, a, now=NOW)),
    "inbox": ("reply", lambda s, c, a: inbox.inbox(s, a)),
    "inquiry": ("reply", lambda s, c, a: inbox.inquiry(s, a, 999)),
    "by_tracking_number": ("view_customer_status", lambda s, c, a: inbox.by_tracking_number(s, a, "FC-2222-2222",
                                                                                           now=NOW)),
    "survey_rows": ("view_service_figures", lambda s, c, a: surveys.survey_rows(s, a, start=NOW, end=NOW)),
    "survey_comments": ("view_service_figures", lambda s, c, a: surveys.comments(s, a, start=NOW, end=NOW)),
    "survey_sent": ("reply", lambda s, c, a: surveys.sent(s, a, 999)),
}
NEEDS_RESULT = {
    "open_cases": ("open_cases", lambda s, r, a: opening.open_cases(s, r.records("freeze", "review"), snapshot=r.snapshot, now=NOW, actor=a)),
    "annotate_cleared": ("open_cases", lambda s, r, a: maintenance.annotate_cleared(s, r, NOW, actor=a)),
}


def refused_exactly_without(function: str, permission: str, call) -> None:
    """Call as every role; AccessDenied must come exactly for the roles without the permission."""
    for role, actor in ACTORS.items():
        try:
            call(actor)
            refused = False
        except AccessDenied:
            refused = True
        except Exception:  # noqa: BLE001 - past the access check, a state or input error is fine here
            refused = False
        allowed = role in PERMISSIONS[permission]
        assert refused != allowed, f"{function} by {role}: {'refused' if refused else 'allowed'}"


@pytest.mark.parametrize("function", sorted(CALLS))
def test_every_function_with_every_role(sqlite_store, scenario_result, function):
    from cases.opening import open_run

    case_id = next(iter(open_run(sqlite_store, scenario_result, NOW).case_ids.values()))
    permission, call = CALLS[function]
    refused_exactly_without(function, permission, lambda actor: call(sqlite_store, case_id, actor))


@pytest.mark.parametrize("function", sorted(NEEDS_RESULT))
def test_batch_functions_with_every_role(sqlite_store, scenario_result, function):
    permission, call = NEEDS_RESULT[function]
    refused_exactly_without(function, permission, lambda actor: call(sqlite_store, scenario_result, actor))


def test_every_public_service_function_is_walked():
    public = {name for name in vars(service) if not name.startswith("_") and callable(getattr(service, name))
              and getattr(getattr(service, name), "__module__", "") == "cases.service"}
    helpers = {"unit_of_work", "acting_user", "get_case", "deadline_list", "save_case", "sign_in", "check_assignee"}
    assert public - helpers <= set(CALLS), public - helpers - set(CALLS)
    walked_queries = {"queue", "show", "customer_view", "due", "due_counts", "verify_audit", "anchor_audit",
                      "pending_proposals"}
    public_queries = {name for name in vars(queries) if callable(getattr(queries, name))
                      and getattr(getattr(queries, name), "__module__", "") == "cases.queries"
                      and not name.startswith("_") and not isinstance(getattr(queries, name), type)}
    assert public_queries - {"name_filter"} == walked_queries  # name_filter: a filter's check, reads nothing
    for module, walked in ((alerts, {"alert_queue", "get_alert", "assign_alert", "dismiss_alert",
                                     "open_case_from_alert", "alert_summary", "alert_per_day"}),
                           (timeline, {"timeline"}), (inbox, {"inbox", "inquiry", "by_tracking_number"}),
                           (surveys, {"survey_rows", "survey_comments", "survey_sent"})):
        reading = {name for name, value in vars(module).items() if callable(value) and not isinstance(value, type)
                   and getattr(value, "__module__", "") == module.__name__ and not name.startswith("_")}
        pure = {"describe", "response_times", "csat", "with_csat", "token_hash", "public", "invite", "answer"}
        # no store, or no user: invite runs in its caller's checked transaction, answer is the customer's (by key)
        named = {{"assign": "assign_alert", "dismiss": "dismiss_alert", "open_case": "open_case_from_alert",
                  "summary": "alert_summary", "per_day": "alert_per_day", "survey_rows": "survey_rows",
                  "comments": "survey_comments", "sent": "survey_sent"}.get(name, name) for name in reading - pure}
        assert named == walked and walked <= set(CALLS), (module.__name__, named ^ walked)
    public_staff = {name for name in vars(staff) if callable(getattr(staff, name))
                    and getattr(getattr(staff, name), "__module__", "") == "cases.staff" and not name.startswith("_")}
    assert public_staff <= set(CALLS), public_staff - set(CALLS)


def test_every_public_reply_function_is_walked():
    for module in (conversations, views, standards, figures):
        public = {name for name in vars(module) if not name.startswith("_") and callable(getattr(module, name))
                  and getattr(getattr(module, name), "__module__", "") == module.__name__
                  and not isinstance(getattr(module, name), type)}
        pure = {"prepare", "lint_alone", "quarter", "tabulate", "figures", "summarise", "day_range", "daily"}
        walked = {"approve": "approve_message", "reject": "reject_message"}
        assert {walked.get(name, name) for name in public - pure} <= set(CALLS), (module.__name__, public)
