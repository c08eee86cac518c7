"""The API's work in the console, in a real browser: a freeze request traced and frozen, a held withdrawal, and the
customer-satisfaction figures. Screenshots go to test-artifacts/screenshots/ (docs/console.md shows them)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from cases import withdrawals
from cases.db import open_store
from tests.ui.console.test_browser import _confirm, _done, _tab, browser, server, shot, sign_in  # noqa: F401

KYBERSWAP_EXPLOIT = "0xe1fbc1d527ca03fe4f554cc005138a49917294f6c1996ff9e867f1386dc45928"
"""The fixture hack's transaction: its stolen funds reach D-1009 (ivan) two hops on."""


def test_the_analyst_records_a_freeze_request_that_freezes_the_deposit_it_reached(server, browser):
    base, url = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "ann", "/requests")
    page.get_by_role("heading", name="Freeze requests").wait_for(timeout=20_000)
    _tab(page, "Add a request")
    page.get_by_label("Reference (the requester's; unique here)").fill("POL-2026-0042")
    page.get_by_label("Requester (the authority or the protocol, as they sign)").fill("Metropolitan Police <b>")
    page.get_by_label("Transactions of the stolen funds (tx hashes, one per line)").fill(KYBERSWAP_EXPLOIT)
    page.get_by_label("Transactions of the stolen funds (tx hashes, one per line)").press("Control+Enter")
    page.wait_for_timeout(1500)
    _confirm(page, "I confirm: every deposit the funds reached is frozen")
    page.get_by_role("button", name="Add the request, trace and freeze").click()
    _done(page, "POL-2026-0042) recorded: the funds reached 1 deposit(s); 1 case(s) opened")
    page.locator("td", has_text="D-1009").first.wait_for(state="attached", timeout=20_000)  # in the table
    shot(page, "analyst-freeze-request")
    _tab(page, "Requests")
    page.locator("td", has_text="Metropolitan Police <b>").first.wait_for(state="attached", timeout=20_000)
    assert "Metropolitan Police <b>" not in page.content()  # shown as written (escaped), never markup
    shot(page, "analyst-freeze-requests-list")
    from cases import freeze_requests

    [(request, hits)] = freeze_requests.list_requests(open_store(url), "ann")
    assert (request.reference, [(h.deposit_id, h.hop) for h in hits]) == ("POL-2026-0042", [("D-1009", 2)])
    page.close()


def test_the_analyst_sees_a_held_withdrawal_on_the_alerts_page(server, browser):
    base, url = server
    answer = {"withdrawal_id": "W-7731", "customer_id": "carol", "chain": "ethereum",
              "address": "0x098b716b8aaf21512996dc57eb0615e2383e2f96", "asset": "ETH", "amount": "2.5",
              "usd_value": "7500", "decision": "block", "rule_ids": ["sanctioned-destination"],
              "categories": ["sanctions"], "exposures": [], "snapshot_id": "s1"}
    [kept] = withdrawals.keep(open_store(url), [answer], key_name="payments", now=datetime.now(timezone.utc))
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "ann", "/alerts")
    page.get_by_text(re.compile(r"Held withdrawals \(\d+\)")).first.wait_for(timeout=20_000)
    page.locator("td", has_text="W-7731").first.wait_for(state="attached", timeout=20_000)
    shot(page, "analyst-held-withdrawals")
    page.close()
    assert kept["alert_id"] is not None


def test_the_supervisor_reads_customer_satisfaction_with_comments_as_plain_text(server, browser):
    from cases.replies import conversations, surveys

    base, url = server
    store, now = open_store(url), datetime.now(timezone.utc)
    for rating, comment in ((5, "Quick and clear, thank you"), (4, None), (2, "<b>Too slow</b> **really**")):
        asked, _ = conversations.receive(store, "sue", now=now - timedelta(hours=3), channel="chat", topic="fees",
                                         locale="en", body="About the fees", customer_id="C-42")
        conversations.resolve(store, "sue", asked.id, now=now - timedelta(hours=2))
        with store.session() as session:
            from sqlmodel import select

            from cases.models import Message

            body = session.exec(select(Message.body).where(Message.inquiry_id == asked.id,
                                                           Message.template_id == "satisfaction_survey")).one()
        surveys.answer(store, re.search(r"/survey/(\S+)", body).group(1), rating=rating, comment=comment,
                       via="help-centre", now=now - timedelta(hours=1))
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "sam", "/figures")
    page.get_by_role("heading", name="Figures").first.wait_for(timeout=20_000)
    page.get_by_text("Customer satisfaction").first.wait_for(timeout=30_000)
    html = page.content()
    assert "<b>Too slow</b>" not in html  # the comment never becomes markup
    shot(page, "supervisor-satisfaction")
    page.close()
