"""The console as a workplace (headless): alerts, the timeline, the support inbox, one action per click,
confirmations, conflicts redone, and the admin's users."""

from __future__ import annotations

from datetime import datetime, timezone

from cases import alerts, queries, service
from cases.db import open_store
from cases.replies import conversations, inbox
from tests.ui.console.test_pages import page, texts


def _now():
    return datetime.now(timezone.utc)


def _confirm_then_click(at, label: str, confirmation: str) -> None:
    """The button is disabled until its confirmation is ticked; then it is clicked."""
    [button] = [b for b in at.button if b.label == label]
    assert button.disabled
    at.checkbox(key=confirmation).check().run()
    [button] = [b for b in at.button if b.label == label]
    button.click().run()


def test_the_alerts_queue_lists_review_alerts_and_dismisses_one_with_a_reason(console_db):
    at = page("alerts_page", "pages_alerts", "ann", "analyst")
    assert not at.exception and not at.error
    assert len(at.dataframe[0].value) == 5 and "5 alerts · page 1" in texts(at)
    first = int(at.dataframe[0].value["id"][0])
    [dismiss] = [b for b in at.button if b.label == "Dismiss the alert"]
    dismiss.click().run()
    assert any("dismissing an alert needs a reason" in e.value for e in at.error)
    at.text_area(key="alert_dismiss_reason").input("The flagged funder is an exchange's hot wallet.")
    [dismiss] = [b for b in at.button if b.label == "Dismiss the alert"]
    dismiss.click().run()
    assert any("Done: alert dismissed" in s.value for s in at.success)
    store = open_store(console_db)
    assert alerts.get_alert(store, "ann", first).reason == "The flagged funder is an exchange's hot wallet."
    assert len(at.dataframe[0].value) == 4


def test_an_alert_becomes_a_freeze_case_only_once_confirmed(console_db):
    at = page("alerts_page", "pages_alerts", "ann", "analyst")
    at.text_area(key="alert_freeze_reason").input("Funded by a mixer through two fresh wallets.")
    [freeze] = [b for b in at.button if b.label == "Open a freeze case"]
    assert freeze.disabled
    at.checkbox(key="alert_freeze_confirm").check().run()
    [freeze] = [b for b in at.button if b.label == "Open a freeze case"]
    freeze.click().run()
    [done] = [s.value for s in at.success if s.value.startswith("Done: case")]
    case_id = int(done.split()[2])
    detail = queries.show(open_store(console_db), "ann", case_id)
    assert detail.case.snapshot["reason"] == "Funded by a mixer through two fresh wallets."
    case = page("case_page", "pages_cases", "ann", "analyst", case_id=case_id)
    assert "Opened from review alert" in texts(case) and "Opened from a review alert" in texts(case)


def test_a_deep_link_opens_the_alert_it_names(console_db):
    store = open_store(console_db)
    last = alerts.alert_queue(store, "ann", alerts.AlertFilter()).rows[-1]
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string("from ui.console.pages_alerts import alerts_page\nalerts_page()", default_timeout=30)
    at.session_state["user"] = {"name": "ann", "role": "analyst"}
    at.query_params["alert"] = str(last.id)
    at.run()
    assert f"Alert {last.id} · Open" in texts(at) and last.deposit_id in texts(at)


def test_the_case_page_shows_the_timeline_beside_the_picture(console_db):
    store = open_store(console_db)
    service.transition(store, "ann", 1, action="start_review", now=_now())
    service.add_note(store, "bob", 1, body="Customer called; sending documents.", now=_now())
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    shown = texts(at)
    assert "**Timeline** (3 events)" in shown and "Review started" in shown
    assert "bob · Note" in shown and "Customer called; sending documents\\." in shown
    assert "digraph provenance" in shown and at.query_params["case"] == "1"


def test_a_note_clicked_twice_is_added_once(console_db):
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    at.text_area(key="note_body").input("Asked for payslips.")
    [add] = [b for b in at.button if b.label == "Add note"]
    add.click().run()
    assert any("Done: note added" in s.value for s in at.success)
    at.text_area(key="note_body").input("Asked for payslips.")  # the same request, sent again
    [add] = [b for b in at.button if b.label == "Add note"]
    add.click().run()
    assert any("already done: note by ann" in i.value.lower() for i in at.info)
    assert [n["body"] for n in queries.show(open_store(console_db), "ann", 1).notes] == ["Asked for payslips."]


def test_a_conflict_says_who_changed_the_case_shows_it_and_redoes_the_action(console_db):
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    store = open_store(console_db)
    service.assign(store, "bob", 1, assignee="bob", now=_now())  # while ann looks at version 1
    at.text_input(key="assign_to").input("ann")
    [assign] = [b for b in at.button if b.label == "Assign"]
    assign.click().run()
    [said] = [e.value for e in at.error if "was not carried out" in e.value]
    assert "the last change was assign by bob" in said and "assigned to bob, version 2" in said
    [redo] = [b for b in at.button if b.label.startswith("Redo: Assign on version 2")]
    redo.click().run()
    assert any("Done: assign redone on version 2" in s.value for s in at.success)
    assert queries.show(store, "ann", 1).case.assignee == "ann"


def test_closing_a_case_needs_a_confirmation(console_db):
    store = open_store(console_db)
    service.transition(store, "ann", 1, action="start_review", now=_now())
    service.propose(store, "ann", 1, kind="release", reason="Payslips.", now=_now())
    service.approve(store, "sam", 1, now=_now())
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    _confirm_then_click(at, "Close the case", "confirm-close")
    assert any("Done: Close the case: status Released → Closed" in s.value for s in at.success)


def test_the_support_inbox_answers_and_resolves_an_inquiry_showing_nothing_of_the_investigation(console_db):
    store = open_store(console_db)
    detail = queries.show(store, "ann", 1)
    asked, _ = conversations.receive(store, "sue", now=_now(), channel="email", topic="frozen_deposit", locale="en",
                                     body="Why is my deposit on hold?", case_id=1)
    at = page("support_page", "pages_support", "sue", "support")
    assert not at.exception and not at.error
    shown = texts(at)
    assert asked.tracking_number in shown and "Why is my deposit on hold?" in shown
    secret = {detail.case.from_address, *(s["address"] for e in detail.exposures for s in e["evidence"]["sources"]),
              "sanctions", "exposure", "evidence"}
    assert not [s for s in secret if s in shown]
    [send] = [b for b in at.button if b.label == "Send"]
    send.click().run()
    assert any(s.value.startswith("Sent (message") for s in at.success)
    [resolve] = [b for b in at.button if b.label == "Mark resolved"]
    resolve.click().run()
    assert any(f"Inquiry {asked.id} resolved. The customer was sent the satisfaction survey." in s.value
               for s in at.success)
    [row] = inbox.inbox(store, "sue", shown="resolved")
    assert row.last_reply_at is not None and row.resolved_at is not None
    assert f"{asked.tracking_number} · Resolved" in texts(at)  # the inquiry it links to, now resolved


def test_the_admin_adds_a_user_and_a_second_admin_approves_a_supervisor(console_db):
    at = page("users_page", "pages_admin", "ada", "admin")
    assert not at.exception and not at.error
    at.text_input[0].input("tia")
    at.selectbox[0].set_value("supervisor")
    at.text_input[1].input("a long first password")
    at.button[0].click().run()
    assert any("tia added; the supervisor role waits for a second admin" in s.value for s in at.success)
    other = page("users_page", "pages_admin", "abe", "admin")
    [approve] = [b for b in other.button if b.label == "Approve"]
    approve.click().run()
    assert any("Approved: make tia supervisor" in s.value for s in other.success)
    assert "supervisor" in list(other.dataframe[0].value[other.dataframe[0].value["name"] == "tia"]["role"])


def test_disabling_a_user_needs_a_confirmation_and_ends_their_sign_in(console_db):
    from cases import staff

    at = page("users_page", "pages_admin", "ada", "admin")
    at.selectbox(key="change_user").set_value("bob").run()
    _confirm_then_click(at, "Disable", "confirm-disable")
    assert any("Disabled: bob." in s.value for s in at.success)
    assert not [u for u in staff.people(open_store(console_db), "ada")[0] if u.name == "bob"][0].active


def test_a_review_alert_shows_the_models_suggestion_with_its_reasons(console_db):
    import sqlalchemy as sa

    store = open_store(console_db)
    first = alerts.alert_queue(store, "ann", alerts.AlertFilter()).rows[0]
    risk = '{"probability": 0.97, "model": "risk-b1", "threshold": 0.96, "features_as_of": "2026-11-20T00:00:00Z", ' \
           '"top_features": [["fan_in", 1.3], ["early_share", 0.2]]}'
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alerts SET sender_risk = :r WHERE id = :i"), {"r": risk, "i": first.id})
    at = page("alerts_page", "pages_alerts", "ann", "analyst")
    shown = texts(at)
    assert "Sender's address risk** 97% by model `risk-b1` (it suggests a review from 96%" in shown
    assert "it never freezes" in shown and "fan_in (+1.30: distinct senders per transfer received" in shown


def test_a_held_withdrawal_is_listed_for_analysts_and_closed_with_a_reason(console_db):
    from cases import withdrawals

    withdrawals.keep(open_store(console_db), [{
        "withdrawal_id": "W-77", "customer_id": "bob", "chain": "tron", "address": "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre",
        "asset": "USDT", "amount": "900", "usd_value": "900", "decision": "block",
        "rule_ids": ["sanctioned-destination"], "categories": ["sanctions"], "exposures": [], "snapshot_id": "s"}],
        key_name="payments", now=_now())
    at = page("alerts_page", "pages_alerts", "ann", "analyst")
    assert not at.exception and not at.error
    held = at.dataframe[0].value
    assert list(held["withdrawal"]) == ["W-77"] and list(held["chain"]) == ["tron"]
    at.text_area(key="held_reason").input("The destination is the listed address itself.")
    _confirm_then_click(at, "Close the held withdrawal", "held_confirm")
    assert any("Done: held withdrawal" in s.value for s in at.success)
    assert withdrawals.held(open_store(console_db), "ann") == []
    assert "No withdrawal is held." in texts(at)
