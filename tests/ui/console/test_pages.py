"""Every console page rendered headless (streamlit.testing) for the roles that use it."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from cases import queries
from cases.db import open_store
from tests.ui.console.conftest import PASSWORD, ROOT

APP = str(ROOT / "ui" / "console" / "app.py")


def page(function: str, module: str, user: str, role: str, **state) -> AppTest:
    at = AppTest.from_string(f"from ui.console.{module} import {function}\n{function}()", default_timeout=30)
    at.session_state["user"] = {"name": user, "role": role}
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def texts(at: AppTest) -> str:
    """Everything the page shows as text, for checking what it must or must not contain."""
    parts = [e.value for kind in ("title", "subheader", "markdown", "caption", "code", "text", "success", "error",
                                  "warning", "info") for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.dataframe] + [str(e.value) for e in at.text_area]
    parts += [str(getattr(e, "spec", "")) for e in at.get("graphviz_chart")]
    return "\n".join(map(str, parts))


def test_sign_in_shows_only_the_pages_of_the_role(console_db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert at.title[0].value == "freezecase console"
    at.text_input[0].input("ann")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "wrong name or password"
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["user"] == {"name": "ann", "role": "analyst"}
    assert "Signed in as **ann** (analyst)" in [m.value for m in at.sidebar.markdown]
    assert set(at.session_state["pages"]) == {"queue", "alerts", "case", "requests", "batch", "rules"}
    assert at.title[0].value == "Queue"


def _trail(url: str, action: str) -> list:
    from sqlmodel import select

    from cases.models import AuditEvent

    store = open_store(url)
    with store.session() as session:
        found = list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))
    store.dispose()
    return found


def test_sign_in_and_sign_out_are_audited(console_db):
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.text_input[0].input("sam")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert at.session_state["user"]["name"] == "sam"
    [failed] = _trail(console_db, "user.sign_in_failed")
    assert failed.after["name"] == "sam" and failed.after["source"].startswith("console:")
    assert [e.actor for e in _trail(console_db, "user.signed_in")] == ["sam"]
    at.sidebar.button[0].click().run()
    assert at.title[0].value == "freezecase console" and "user" not in at.session_state
    [ended] = _trail(console_db, "user.signed_out")
    assert ended.actor == "sam" and ended.after["reason"] == "signed out"


def test_an_idle_session_is_signed_out(console_db):
    from datetime import datetime, timedelta, timezone

    from cases.signin import DEFAULT_POLICY

    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["user"] = {"name": "ann", "role": "analyst"}
    at.session_state["last_active"] = datetime.now(timezone.utc) - DEFAULT_POLICY.idle_timeout - timedelta(minutes=1)
    at.run()
    assert at.title[0].value == "freezecase console" and "user" not in at.session_state
    assert "signed out after a time without activity" in at.info[0].value
    [ended] = _trail(console_db, "user.signed_out")
    assert ended.actor == "ann" and ended.after["reason"] == "idle for too long"
    awake = AppTest.from_file(APP, default_timeout=30)
    awake.session_state["user"] = {"name": "ann", "role": "analyst"}
    awake.session_state["last_active"] = datetime.now(timezone.utc) - DEFAULT_POLICY.idle_timeout + timedelta(minutes=1)
    awake.run()
    assert awake.title[0].value == "Queue" and awake.session_state["user"]["name"] == "ann"


def test_the_queue_lists_open_cases_nearest_deadline_first(console_db):
    at = page("queue_page", "pages_cases", "ann", "analyst")
    assert not at.exception
    frame = at.dataframe[0].value
    assert len(frame) == 5 and list(frame["status"]) == ["Open, not started"] * 5
    assert "5 cases · page 1" in at.caption[0].value


def test_the_case_page_shows_evidence_and_the_provenance_picture(console_db):
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    assert not at.exception
    shown = texts(at)
    assert "0x098b716b8aaf21512996dc57eb0615e2383e2f96"[:8] in shown  # the flagged source, in the picture
    assert "digraph provenance" in shown and "sanctions" in shown
    assert "sanctions-indirect-share" in shown


def test_an_analyst_proposes_a_release_from_the_case_page(console_db):
    store = open_store(console_db)
    from cases import service
    from datetime import datetime, timezone
    service.transition(store, "ann", 1, action="start_review", now=datetime.now(timezone.utc))
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    at.text_area(key="propose_reason").input("Payslips explain the funds.")
    [button] = [b for b in at.button if b.label == "Propose"]
    button.click().run()
    assert not at.exception
    assert any("release proposed" in s.value for s in at.success)
    assert queries.show(store, "ann", 1).proposals[0]["kind"] == "release"


def test_support_sees_no_evidence_and_a_leaking_edit_is_blocked(console_db):
    store = open_store(console_db)
    detail = queries.show(store, "ann", 1)
    secret = {detail.case.from_address, *(s["address"] for e in detail.exposures for s in e["evidence"]["sources"]),
              *(h for e in detail.exposures for s in e["evidence"]["sources"] for h in s["tx_hashes"]),
              "sanctions", "Lazarus", "LAZARUS", "exposure", "evidence"}
    at = page("support_page", "pages_support", "sue", "support")
    at.text_input(key="support_lookup").input(detail.case.tracking_number).run()
    assert not at.exception
    shown = texts(at)
    assert detail.case.tracking_number in shown and "Under review" in shown
    assert not [s for s in secret if s in shown]
    editor = at.text_area[0]
    editor.input(editor.value + "\nThe funds came from a wallet linked to the Lazarus group.").run()
    assert at.error and at.error[0].value.startswith("Blocked")
    assert [b for b in at.button if b.label == "Send"][0].disabled


def test_support_sends_a_clean_template(console_db):
    at = page("support_page", "pages_support", "sue", "support")
    tracking = queries.show(open_store(console_db), "ann", 2).case.tracking_number
    at.text_input(key="support_lookup").input(tracking).run()
    [send] = [b for b in at.button if b.label == "Send"]
    send.click().run()
    assert any(s.value.startswith("Sent (message") for s in at.success)


def test_supervisor_pages_and_rules_render(console_db):
    for function, module in (("deadlines_page", "pages_supervisor"), ("figures_page", "pages_supervisor"),
                             ("rules_page", "pages_batch"), ("batch_page", "pages_batch")):
        at = page(function, module, "sam", "supervisor")
        assert not at.exception, (function, at.exception)
    figures = page("figures_page", "pages_supervisor", "sam", "supervisor")
    assert [m.label for m in figures.metric][:2] == ["Frozen now", "Frozen value"]
    assert figures.metric[0].value == "5"


def test_the_figures_show_csat_against_the_target_and_comments_as_plain_text(console_db):
    import re
    from datetime import datetime, timedelta, timezone

    from cases.replies import conversations, surveys

    store, now = open_store(console_db), datetime.now(timezone.utc)
    for rating, comment in ((5, "**great** <script>x</script>"), (2, None)):
        asked, _ = conversations.receive(store, "sue", now=now - timedelta(hours=2), channel="chat", topic="fees",
                                         locale="en", body="Fees?", customer_id="C-9")
        conversations.resolve(store, "sue", asked.id, now=now - timedelta(hours=1))
        [message] = [m for m in conversations_sent(store, asked.id) if m.template_id == "satisfaction_survey"]
        token = re.search(r"/survey/(\S+)", message.body).group(1)
        surveys.answer(store, token, rating=rating, comment=comment, via="test", now=now)
    figures = page("figures_page", "pages_supervisor", "sam", "supervisor")
    shown = {m.label: m.value for m in figures.metric}
    assert (shown["CSAT"], shown["Surveys answered"]) == ("50%", "2 of 2")
    assert "**great** <script>x</script>" in texts(figures)  # in a table cell, as written: never rendered
    assert not any("<script>" in m.value for m in figures.markdown)


def conversations_sent(store, inquiry_id: int) -> list:
    from sqlmodel import select

    from cases.models import Message

    with store.session() as session:
        return list(session.exec(select(Message).where(Message.inquiry_id == inquiry_id)))


def test_a_page_refuses_a_role_the_service_refuses(console_db):
    at = page("queue_page", "pages_cases", "sue", "support")
    assert at.error and "may not view case" in at.error[0].value


PAGE_FUNCTIONS = {"queue": ("queue_page", "pages_cases"), "case": ("case_page", "pages_cases"),
                  "alerts": ("alerts_page", "pages_alerts"), "users": ("users_page", "pages_admin"),
                  "deadlines": ("deadlines_page", "pages_supervisor"), "figures": ("figures_page", "pages_supervisor"),
                  "support": ("support_page", "pages_support"), "batch": ("batch_page", "pages_batch"),
                  "rules": ("rules_page", "pages_batch"), "requests": ("requests_page", "pages_requests")}


def test_every_page_of_every_role_renders_without_an_error(console_db):
    from tests.ui.console.conftest import USERS
    from ui.console.state import PAGES_BY_ROLE

    people = {role: name for name, role in USERS.items()}
    for role, pages in PAGES_BY_ROLE.items():
        for key in pages:
            function, module = PAGE_FUNCTIONS[key]
            at = page(function, module, people[role], role, case_id=1)
            assert not at.exception and not at.error, (role, key, at.exception, [e.value for e in at.error])
    assert set(PAGE_FUNCTIONS) == {key for pages in PAGES_BY_ROLE.values() for key in pages}


def test_the_case_page_shows_sender_risk_and_unknown_values(console_db):
    import sqlalchemy as sa

    store = open_store(console_db)
    risk = '{"probability": 0.93, "model": "risk-abc", "threshold": 0.5, "features_as_of": "2026-11-20T00:00:00Z", ' \
           '"top_features": [["age_days", 0.41], ["fan_in", 0.05]]}'
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE cases SET sender_risk = :r, usd_value = NULL WHERE id = 1"), {"r": risk})
        connection.execute(sa.text("UPDATE exposures SET share = NULL, usd = NULL WHERE case_id = 1"))
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    assert not at.exception
    shown = texts(at)
    assert "Sender's address risk** 93% by model `risk-abc`" in shown and "age_days (+0.41: days from" in shown
    assert "unknown (no price)" in shown and "USD unknown" in shown  # never $0.00


def test_the_queue_in_triage_order_shows_each_case_s_place_and_model(console_db):
    import sqlalchemy as sa

    store = open_store(console_db)
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE cases SET priority = 1.0 - id / 10.0, priority_model = 'triage-x', "
                                   "queue_order = CASE WHEN id = 2 THEN 'rules' ELSE 'model' END"))
    at = page("queue_page", "pages_cases", "ann", "analyst")
    at.radio[0].set_value("triage priority within each deadline day").run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert "priority" in frame.columns and "each deadline day by triage priority" in at.caption[0].value
    assert any(p.endswith("rules order · triage-x") for p in frame["priority"])
    assert at.session_state["queue_view"] == "priority"


def test_text_from_data_is_shown_literally_never_as_a_link_or_an_image(console_db):
    from datetime import datetime, timezone

    from cases import service

    store = open_store(console_db)
    service.add_note(store, "ann", 1, body="see ![x](http://evil.example/x.png) and [here](http://evil.example)",
                     now=datetime.now(timezone.utc))
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    assert not at.exception
    [note] = [m.value for m in at.markdown if "note by" in m.value]
    assert "\\!\\[x\\]\\(http\\://evil\\.example/x\\.png\\)" in note and "](" not in note.replace("\\]\\(", "")


def test_one_supervisor_cannot_approve_their_own_proposal_or_held_reply_in_the_console(console_db):
    from datetime import datetime, timezone

    from cases import service
    from cases.replies import conversations

    store = open_store(console_db)
    now = datetime.now(timezone.utc)
    service.transition(store, "sam", 1, action="start_review", now=now)
    service.propose(store, "sam", 1, kind="release", reason="Documented salary.", now=now)
    at = page("case_page", "pages_cases", "sam", "supervisor", case_id=1)
    [button] = [b for b in at.button if b.label == "Approve"]
    assert button.disabled  # until the irreversible step is confirmed
    at.checkbox(key="confirm-approve").check().run()
    [button] = [b for b in at.button if b.label == "Approve"]
    button.click().run()
    assert not at.exception
    assert any("sam proposed this release and may not also approve it" in e.value for e in at.error)
    assert queries.show(store, "sam", 1).case.status == "in_review"
    held = conversations.send(store, "sam", 1, template_id="status_update", locale="en", channel="chat", now=now,
                              text="Hello, your deposit is still temporarily restricted under OFAC rules.")
    assert held.status == "held"
    at = page("deadlines_page", "pages_supervisor", "sam", "supervisor")
    assert "sanctions" in texts(at).lower()  # the linter's findings are in front of the approver
    at.text_input(key=f"why-{held.id}").input("OFAC is named on purpose: the customer asked which rule applies.")
    at.checkbox(key=f"confirm-{held.id}").check().run()
    [button] = [b for b in at.button if b.label == "Approve and send"]
    button.click().run()
    assert any(f"sam wrote message {held.id}; another supervisor must approve it" in e.value for e in at.error)
    assert [m["id"] for m in conversations.held(store, "sia")] == [held.id]


def test_a_refused_action_is_shown_next_to_its_control_and_over_the_page(console_db):
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)  # an open case: not yet in review
    at.text_area(key="propose_reason").input("Payslips explain the funds.")
    [button] = [b for b in at.button if b.label == "Propose"]
    button.click().run()
    assert not at.exception
    said = "cannot propose release a case that is open \\(allowed: start_review\\)"  # shown literally
    assert [t.value for t in at.toast] == [said]  # over the page, whichever tab is in view
    assert said in [e.value for e in at.error]  # and next to the control


def test_a_message_holding_text_from_data_makes_no_link(console_db):
    at = page("case_page", "pages_cases", "ann", "analyst", case_id=1)
    at.text_input(key="assign_to").input("nobody [here](http://evil.example)")
    [assign] = [b for b in at.button if b.label == "Assign"]
    assign.click().run()
    [said] = [e.value for e in at.error]
    assert "](" not in said and "\\[here\\]\\(http" in said
