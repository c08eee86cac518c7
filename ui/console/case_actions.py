"""A case's actions: one request per click, a confirmation before what cannot be undone, and a conflict redone.

Each action sends a request key made of who asks, what, on which case at which version and
with what content (cases.once), so a second click does nothing. When someone else changed
the case first, the page reloads it, says who changed what and when, and offers to redo
the action on the case as it now is.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import streamlit as st

from cases import service
from cases.errors import Conflict
from cases.replies import conversations
from cases.replies.templates import LOCALES
from ui.console import state, words

SIMPLE_STEPS = {"start_review": "Start the review", "customer_replied": "The customer replied",
                "resume_review": "Resume the review without the customer", "close": "Close the case"}
UNKEYED = ("report_date", "settings", "queue_view")
"""Arguments that differ from one click to the next without making it another request."""
IRREVERSIBLE = {"close": "Closing ends the case: it cannot be reopened."}


def _run(label: str, call, case, *, seen: int | None = None, versioned: bool = True, **kwargs) -> object | None:
    """Carry out `call` on the case, as the user saw it (version `seen`), with this click's request key; a
    conflict is kept for `conflict_notice`."""
    version = case.version if seen is None else seen
    key = state.request_key(label, case.id, version,
                            *sorted((k, str(v)) for k, v in kwargs.items() if k not in UNKEYED))
    extra = {"expected_version": version} if versioned else {}
    try:
        return call(state.store(), state.actor(), case.id, now=state.now(), request_key=key, **extra, **kwargs)
    except Conflict as error:
        st.session_state["conflict"] = {"case": case.id, "label": label, "call": call, "kwargs": kwargs,
                                        "message": str(error)}
        st.rerun()


def conflict_notice(detail) -> None:
    """After a conflict: what happened, the case as it now is (the page below), and the action to redo on it."""
    pending = st.session_state.get("conflict")
    if not pending or pending["case"] != detail.case.id:
        return
    case = detail.case
    st.error(f"Your action ({pending['label'].lower()}) was not carried out: {state.literal(pending['message'])}. "
             "The case below is "
             f"as it is now: {words.status(case.status)}, assigned to {state.plain(case.assignee) or 'nobody'}, "
             f"version {case.version}.")
    redo, drop = st.columns([2, 1])
    if redo.button(f"Redo: {pending['label']} on version {case.version}", type="primary", key="redo"):
        del st.session_state["conflict"]
        with state.shown():
            _done(case, _run(pending["label"], pending["call"], case, **pending["kwargs"]),
                  f"{pending['label'].lower()} redone on version {case.version}")
            st.rerun()
    if drop.button("Leave it", key="drop-redo"):
        del st.session_state["conflict"]
        st.rerun()


def _done(before, after, what: str) -> None:
    if after is None:
        return
    if hasattr(after, "version") and hasattr(after, "status"):
        change = (f"status {words.status(before.status)} → {words.status(after.status)}"
                  if before.status != after.status else "recorded")
        st.session_state["changed"] = f"{what}: {change}"
    else:
        st.session_state["changed"] = what


def actions(detail, seen: int) -> None:
    """The tabs of what the signed-in user may do to the case, as they saw it (version `seen`)."""
    case = detail.case
    if "changed" in st.session_state:
        st.success("Done: " + st.session_state.pop("changed") + " (recorded in the audit trail)")
    st.markdown("### Actions")
    tabs = st.tabs(["Progress", "Assign", "Note", "Request source of funds", "Propose", "Approve", "Snooze"],
                   key="case_tabs", on_change="rerun")  # a key keeps the tab in view across the reruns its controls cause
    with tabs[0]:
        simple = [a for a in detail.allowed_actions if a in SIMPLE_STEPS]
        if not simple:
            st.caption("No step can be taken from here without a proposal or approval.")
        for action in simple:
            sure = True
            if action in IRREVERSIBLE:
                sure = st.checkbox(f"I confirm. {IRREVERSIBLE[action]}", key=f"confirm-{action}")
            if st.button(SIMPLE_STEPS[action], key=f"step-{action}", disabled=not sure):
                with state.shown():
                    _done(case, _run(SIMPLE_STEPS[action], service.transition, case, seen=seen, action=action,
                                     queue_view=st.session_state.get("queue_view")), SIMPLE_STEPS[action])
                    st.rerun()
    with tabs[1]:
        who = st.text_input("Assign to (user name; empty to unassign)", key="assign_to")
        if st.button("Assign"):
            with state.shown():
                _done(case, _run("Assign", service.assign, case, seen=seen, assignee=who.strip() or None),
                      f"assigned to {who.strip() or 'nobody'}")
                st.rerun()
    with tabs[2]:
        body = st.text_area("Note", key="note_body")
        if st.button("Add note"):
            with state.shown():
                _done(case, _run("Add note", service.add_note, case, versioned=False, body=body), "note added")
                st.rerun()
    with tabs[3]:
        _request_source_of_funds(case)
    with tabs[4]:
        kind = st.radio("Propose", ("release", "escalation"), horizontal=True)
        reason = st.text_area("Reason", key="propose_reason")
        if st.button("Propose"):
            with state.shown():
                _done(case, _run("Propose", service.propose, case, seen=seen, kind=kind, reason=reason),
                      f"{kind} proposed; a supervisor other than you must approve it")
                st.rerun()
    with tabs[5]:
        _approve(case, detail, seen)
    with tabs[6]:
        until = st.date_input("Snooze until", value=(state.now() + timedelta(days=1)).date())
        why = st.text_input("Why", key="snooze_reason")
        if st.button("Snooze"):
            with state.shown():
                moment = datetime.combine(until, time(9), tzinfo=timezone.utc)
                _done(case, _run("Snooze", service.snooze, case, seen=seen, until=moment, reason=why), "snoozed")
                st.rerun()


def _request_source_of_funds(case) -> None:
    locale = st.selectbox("Customer's language", LOCALES, key="sof_locale", format_func=words.language)
    channel = st.selectbox("Channel", ("email", "chat"), key="sof_channel")
    if st.button("Send the request"):
        with state.shown():
            message = _run("Send the request", conversations.request_source_of_funds, case, versioned=False,
                           locale=locale, channel=channel, settings=state.settings())
            _done(case, message, f"customer asked for the source of funds (message {message.id})")
            st.rerun()


def _approve(case, detail, seen: int) -> None:
    pending = [p for p in detail.proposals if p["status"] == "pending"]
    if not pending:
        st.caption("No proposal is waiting.")
        return
    proposal = pending[0]
    st.markdown(f"**{proposal['kind'].capitalize()}** proposed by {state.plain(proposal['proposed_by'])}: "
                f"{state.plain(proposal['reason'])}")
    ref = st.text_input("Report reference (escalation)", key="report_ref")
    note = st.text_input("Note", key="approve_note")
    effect = ("the deposit is released to the customer" if proposal["kind"] == "release"
              else "the case is escalated and the report recorded")
    sure = st.checkbox(f"I confirm: approving means {effect}. This cannot be undone.", key="confirm-approve")
    approve, reject = st.columns(2)
    if approve.button("Approve", type="primary", disabled=not sure):
        with state.shown():
            _done(case, _run("Approve", service.approve, case, seen=seen, note=note, report_ref=ref or None,
                             report_date=state.now() if ref else None), f"{proposal['kind']} approved")
            st.rerun()
    if reject.button("Reject"):
        with state.shown():
            _done(case, _run("Reject", service.reject, case, seen=seen, note=note or "rejected"), "proposal rejected")
            st.rerun()
