"""The Freeze requests page rendered headless: list, add through the form (traced and frozen), answer, refuse."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from cases import freeze_requests
from cases.api_models import FreezeRequest
from cases.db import open_store
from cases.models import Case
from graph import readers
from kyt import freeze_trace
from tests.ui.console.conftest import ROOT
from tests.ui.console.test_pages import APP, page, texts

KYBERSWAP_EXPLOIT = "0xe1fbc1d527ca03fe4f554cc005138a49917294f6c1996ff9e867f1386dc45928"
"""The fixture hack's transaction: the KyberSwap exploiter's funds reach ivan's deposit D-1009 at hop 2 ($300 of
its $3,000)."""
FAR = datetime(2099, 1, 1, tzinfo=timezone.utc)
SEEDED_CASES = 5
"""The seeded database's cases (conftest.seed); D-1009 has an alert there, not a case."""


def _cases(url: str) -> dict[str, int]:
    store = open_store(url)
    with store.session() as session:
        found = {c.deposit_id: c.id for c in session.exec(select(Case))}
    store.dispose()
    return found


def _requests(url: str) -> list[FreezeRequest]:
    store = open_store(url)
    with store.session() as session:
        found = list(session.exec(select(FreezeRequest).order_by(FreezeRequest.id)))
    store.dispose()
    return found


def _fill(at: AppTest, reference: str, *, tx: str = "", deadline=None) -> AppTest:
    at.text_input(key="request_reference").input(reference)
    at.text_input(key="request_requester").input("KyberSwap security")
    at.selectbox(key="request_kind").set_value("protocol")
    at.text_area(key="request_txs").input(tx)
    if deadline is not None:
        at.date_input(key="request_deadline_day").set_value(deadline)
    at.checkbox(key="request_confirm").check()
    return at.run()


def test_the_page_lists_the_requests_newest_first_with_the_deposits_they_reached(console_db):
    store = open_store(console_db)
    now = datetime.now(timezone.utc)
    older = freeze_requests.add(store, "ann", reference="POL-7", requester="Metropolitan Police", kind="authority",
                                deadline=FAR, tx_hashes=["0x" + "ab" * 32], wallets=[], since=None, hops=2,
                                now=now - timedelta(hours=1))
    seeds = freeze_trace.parse_seeds("KS-1", tx_hashes=[KYBERSWAP_EXPLOIT], wallets=[], since=None, hops=3)
    hits, snapshot = freeze_trace.trace(
        seeds, readers.read_transfers(ROOT / "fixtures" / "scenario" / "transfers.csv"),
        readers.read_deposits(ROOT / "fixtures" / "scenario" / "deposits.csv"),
        services=readers.read_services(ROOT / "fixtures" / "lists" / "services.csv"), now=now)
    newer = freeze_requests.add(store, "ann", reference="KS-1", requester="KyberSwap security", kind="protocol",
                                deadline=FAR, tx_hashes=seeds.tx_hashes, wallets=[], since=None, hops=3, now=now)
    freeze_requests.link(store, "ann", newer.id, hits=hits, snapshot=snapshot, now=now)
    at = page("requests_page", "pages_requests", "ann", "analyst")
    assert not at.exception and not at.error
    rows = at.dataframe[0].value.to_dict("records")
    assert [r["reference"] for r in rows] == ["KS-1", "POL-7"]
    assert [r["id"] for r in rows] == [newer.id, older.id]
    case = _cases(console_db)["D-1009"]
    assert case == SEEDED_CASES + 1
    assert rows[0] | {"received": None} == {
        "id": newer.id, "reference": "KS-1", "requester": "KyberSwap security", "kind": "protocol", "received": None,
        "deadline": "2099-01-01 00:00 UTC", "status": "open", "deposits": 1,
        "deposits reached": f"D-1009: case {case}, hop 2, $300.00", "stolen USD": "$300.00"}
    assert (rows[1]["deposits"], rows[1]["deposits reached"], rows[1]["stolen USD"]) == (0, "none", "—")


def test_adding_a_request_through_the_form_traces_it_to_the_deposit_and_opens_its_case(console_db):
    at = page("requests_page", "pages_requests", "ann", "analyst")
    assert at.caption[0].value.startswith("No freeze request is recorded yet")
    assert at.button(key="request_add").disabled  # until the confirmation is ticked
    at = _fill(at, "KS-2026-1", tx=KYBERSWAP_EXPLOIT)
    assert not at.button(key="request_add").disabled
    at.button(key="request_add").click().run()
    assert not at.exception and not at.error
    case = _cases(console_db)["D-1009"]
    assert case == SEEDED_CASES + 1  # a new case: the deposit had only an alert
    [made] = _requests(console_db)
    assert (made.reference, made.kind, made.hops, made.tx_hashes, made.created_by) == (
        "KS-2026-1", "protocol", 3, [KYBERSWAP_EXPLOIT], "ann")
    assert made.deadline == datetime.combine(datetime.now(timezone.utc).date() + timedelta(days=7),
                                             datetime.min.time().replace(hour=17), tzinfo=timezone.utc)
    assert [s.value for s in at.success] == [
        f"Request {made.id} (KS\\-2026\\-1) recorded: the funds reached 1 deposit(s); 1 case(s) opened, "
        "0 already open."]
    reached = at.dataframe[1].value.to_dict("records")
    assert reached == [{"deposit": "D-1009", "customer": "ivan", "hop": 2, "stolen USD": "$300.00",
                        "share": "10.0000%", "case": case}]
    assert at.dataframe[0].value["deposits reached"][0] == f"D-1009: case {case}, hop 2, $300.00"
    assert not at.checkbox(key="request_confirm").value  # unticked again after the request was added
    again = _fill(at, "KS-2026-1", tx=KYBERSWAP_EXPLOIT)  # the same request again: nothing new to open
    again.button(key="request_add").click().run()
    assert not again.error and [s.value for s in again.success] == [
        f"Request {made.id} (KS\\-2026\\-1) recorded: the funds reached 1 deposit(s); 0 case(s) opened, "
        "1 already open."]
    other = _fill(again, "KS-2026-1", tx=KYBERSWAP_EXPLOIT, deadline=datetime.now(timezone.utc).date()
                  + timedelta(days=30))
    other.button(key="request_add").click().run()
    assert [e.value for e in other.error] == [
        "there is already a request 'KS-2026-1' with other contents: kyt requests list shows it"]
    assert len(_requests(console_db)) == 1


def test_a_request_naming_nothing_or_with_a_past_deadline_is_refused_in_words(console_db):
    at = _fill(page("requests_page", "pages_requests", "ann", "analyst"), "X-1")
    at.button(key="request_add").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "a freeze request names transactions \\(tx hashes\\) or wallets of the stolen funds"]
    at.text_area(key="request_wallets").input("0x9bc22f7e0234029eaf2c570588d829f07123fdd6").run()
    at.button(key="request_add").click().run()
    assert [e.value for e in at.error] == [
        "a request naming wallets needs the time from which what they sent is stolen \\(since\\)"]
    yesterday = datetime.now(timezone.utc).date() - timedelta(days=1)
    at = _fill(page("requests_page", "pages_requests", "ann", "analyst"), "X-2", tx=KYBERSWAP_EXPLOIT,
               deadline=yesterday)
    at.button(key="request_add").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [f"the deadline {yesterday.isoformat()}T17:00:00+00:00 has passed"]
    assert _requests(console_db) == [] and len(_cases(console_db)) == SEEDED_CASES  # nothing recorded, no case


def test_an_analyst_answers_a_request_with_an_approved_template(console_db):
    at = _fill(page("requests_page", "pages_requests", "ann", "analyst"), "KS-9", tx=KYBERSWAP_EXPLOIT)
    at.button(key="request_add").click().run()
    approved = freeze_requests.templates()
    at.selectbox(key="answer_template").set_value("no_funds_found").run()
    assert "**no funds found**: The trace found no deposit here that received the funds\\." in [
        m.value for m in at.markdown]
    assert approved["no_funds_found"]["text"] in [t.value for t in at.text]
    assert at.button(key="answer_record").disabled
    at.checkbox(key="answer_confirm").check().run()
    at.button(key="answer_record").click().run()
    assert [e.value for e in at.error] == ["the trace found 1 deposit\\(s\\): answer with funds_frozen"]
    at.selectbox(key="answer_template").set_value("acknowledged").run()
    at.button(key="answer_record").click().run()
    assert not at.exception and not at.error
    assert at.dataframe[0].value["status"][0].startswith("open, acknowledged ")  # the answer itself is still due
    assert at.selectbox(key="answer_request").options and at.button(key="answer_record").disabled  # confirm again
    at.selectbox(key="answer_template").set_value("funds_frozen")
    at.checkbox(key="answer_confirm").check().run()
    at.button(key="answer_record").click().run()
    assert not at.exception and not at.error
    [made] = _requests(console_db)
    assert (made.status, made.response_template, made.responded_by) == ("answered", "funds_frozen", "ann")
    case = _cases(console_db)["D-1009"]
    assert made.response_text.startswith("Re: KS-9\n") and f"case reference(s) {case}." in made.response_text
    assert made.response_text in [t.value for t in at.text]
    assert at.dataframe[0].value["status"][0].startswith("answered: funds frozen, ")
    assert at.caption[-1].value == "No request is waiting for an answer."


def test_a_reached_case_opens_in_the_case_page(console_db):
    script = ("import streamlit as st\n"
              "from ui.console.pages_cases import case_page\n"
              "from ui.console.pages_requests import requests_page\n"
              "pages = {'requests': st.Page(requests_page, url_path='requests', default=True),\n"
              "         'case': st.Page(case_page, url_path='case')}\n"
              "st.session_state['pages'] = pages\n"
              "st.navigation(list(pages.values())).run()\n")
    at = AppTest.from_string(script, default_timeout=30)
    at.session_state["user"] = {"name": "ann", "role": "analyst"}
    at = _fill(at.run(), "KS-3", tx=KYBERSWAP_EXPLOIT)
    at.button(key="request_add").click().run()
    case = _cases(console_db)["D-1009"]
    assert at.selectbox(key="requests_reached_case").options == [f"case {case}"]
    at.button(key="requests_reached_open").click().run()
    assert not at.exception
    assert at.title[0].value == "Case" and at.query_params["case"] == str(case)
    assert at.session_state["case_id"] == case and "**Customer** ivan" in texts(at)


def test_each_role_sees_what_it_may_do_and_support_does_not_see_the_page(console_db):
    admin = page("requests_page", "pages_requests", "ada", "admin")
    assert not admin.exception and not admin.error and not admin.tabs  # the list only: admins do not work requests
    assert not admin.text_input and not admin.checkbox and not admin.button
    supervisor = page("requests_page", "pages_requests", "sam", "supervisor")
    assert [t.label for t in supervisor.tabs] == ["Requests", "Add a request", "Answer a request"]
    app = AppTest.from_file(APP, default_timeout=30)
    app.session_state["user"] = {"name": "sue", "role": "support"}
    app.run()
    assert set(app.session_state["pages"]) == {"support"}
    support = page("requests_page", "pages_requests", "sue", "support")
    assert [e.value for e in support.error] == ["sue \\(support\\) may not view case"]
    assert not support.dataframe and not support.button
