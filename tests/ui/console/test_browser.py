"""The console in a real browser (Debian's Chromium driven by Playwright) against a real server: each role's
daily journey end to end.

The analyst turns a review alert into a case, asks the customer, proposes a release that a
supervisor approves from a link; support answers an inquiry from the inbox and resolves it,
and is blocked on a leaking edit; the supervisor approves a held reply with the linter's
findings in view and reads the figures; the admin adds a user. A reload keeps the user
signed in; a sign-out ends the session. Screenshots, for a person to look at, go to
test-artifacts/screenshots/ (docs/console.md shows them). Skipped when Chromium is not installed,
unless REQUIRE_BROWSER is set (as in CI).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cases import queries
from cases.db import open_store
from tests.ui.console.conftest import PASSWORD, ROOT, seed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "screenshots"
KYT = Path(sys.executable).parent / "kyt"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER is set but Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)")
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'console.db'}"
    seed(url)
    port = _free_port()
    log = open(tmp_path_factory.mktemp("log") / "streamlit.log", "w")
    process = subprocess.Popen([str(KYT), "ui", "--port", str(port), "--address", "127.0.0.1", "--db", url],
                               stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the console did not start")
    yield base, url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect(locator)


def sign_in(page, base: str, name: str, path: str = "") -> None:
    page.goto(base + path)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password", exact=True).and_(page.get_by_role("textbox")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=20_000)


def shot(page, name: str) -> None:
    """The whole page, for a person to look at: the window grows to the page's height (Streamlit scrolls inside
    its main area, which a full-page screenshot alone would cut), then shrinks back."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(3000)  # charts and the graph draw after the page settles
    size = page.viewport_size
    tall = page.evaluate("(document.querySelector('[data-testid=\"stMain\"]') || document.body).scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(tall), 5000))})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)


def _tab(page, name: str) -> None:
    """Open a tab and let the page's rerun (which remembers the tab) settle."""
    page.get_by_role("tab", name=name).click()
    expect(page.get_by_role("tab", name=name)).to_have_attribute("aria-selected", "true", timeout=20_000)
    page.wait_for_timeout(1000)


def _tab_button(page, tab: str, button: str) -> None:
    _tab(page, tab)
    page.get_by_role("button", name=button, exact=True).click()


def _confirm(page, text: str) -> None:
    """Tick a confirmation box (its label starts with `text`) and wait for the page to take it."""
    box = page.get_by_role("checkbox", name=text)
    box.check(force=True)
    expect(box).to_be_checked(timeout=20_000)
    page.wait_for_timeout(1500)  # the rerun that enables the button


def _done(page, text: str) -> None:
    page.get_by_text(text).first.wait_for(timeout=30_000)


def test_the_analyst_turns_an_alert_into_a_case_and_a_second_person_approves_its_release(server, browser):
    base, url = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sign_in(page, base, "ann")
    page.get_by_text("5 cases · page 1").wait_for(timeout=20_000)
    shot(page, "analyst-queue")
    page.get_by_role("button", name="Open case").click()  # the first case: its evidence, picture and timeline
    page.locator("[data-testid='stGraphVizChart'] svg").first.wait_for(timeout=20_000)
    assert page.locator("[data-testid='stGraphVizChart'] svg g.node").count() >= 3
    assert "case=1" in page.url  # the address bar is a link to the case
    shot(page, "analyst-case")
    page.get_by_role("link", name="Alerts").click()
    page.get_by_text("5 alerts · page 1").wait_for(timeout=20_000)
    shot(page, "analyst-alerts")
    _tab(page, "Open a freeze case")
    page.get_by_label("Why the deposit must be frozen").fill("Funded through a mixer two hops back; documented.")
    _confirm(page, "I confirm: the customer's deposit is frozen")
    page.get_by_role("button", name="Open a freeze case").click()
    _done(page, "Done: case 6 opened")
    page.goto(f"{base}/case?case=6")  # a link, in the same browser: the session cookie keeps ann signed in
    page.get_by_text("Opened from review alert").wait_for(timeout=30_000)
    _tab_button(page, "Progress", "Start the review")
    _done(page, "status Open, not started → In review")
    _tab_button(page, "Request source of funds", "Send the request")
    _done(page, "customer asked for the source of funds")
    _tab_button(page, "Progress", "The customer replied")
    _done(page, "status Waiting for the customer → In review")
    _tab(page, "Propose")
    page.get_by_label("Reason").fill("Payslips and the exchange statement explain the funds.")
    page.get_by_role("button", name="Propose", exact=True).click()
    _done(page, "Done: release proposed")
    page.get_by_text("ann · Release proposed").first.wait_for(timeout=20_000)  # on the timeline
    shot(page, "analyst-case-from-alert")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for(timeout=20_000)
    context.close()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    sign_in(page, base, "sam", "/case?case=6")  # the link before signing in leads to the case after it
    page.get_by_text("Opened from review alert").wait_for(timeout=30_000)
    _tab(page, "Approve")
    page.get_by_text("Release proposed by ann").wait_for(timeout=20_000)
    expect(page.get_by_role("button", name="Approve", exact=True)).to_be_disabled()
    _confirm(page, "I confirm: approving means the deposit is released")
    page.get_by_role("button", name="Approve", exact=True).click()
    _done(page, "Done: release approved: status In review → Released")
    shot(page, "supervisor-approved")
    detail = queries.show(open_store(url), "sam", 6)
    assert (detail.case.status, detail.proposals[0]["decided_by"]) == ("released", "sam")
    context.close()


def test_support_answers_an_inquiry_from_the_inbox_and_resolves_it(server, browser):
    from datetime import datetime, timezone

    from cases.replies import conversations

    base, url = server
    store = open_store(url)
    detail = queries.show(store, "ann", 2)
    asked, _ = conversations.receive(store, "sue", now=datetime.now(timezone.utc), channel="email",
                                     topic="frozen_deposit", locale="en", body="Why is my deposit on hold?", case_id=2)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    sign_in(page, base, "sue")
    page.get_by_text("Why is my deposit on hold?").first.wait_for(timeout=30_000)
    html = page.content()
    leaks = [detail.case.from_address, *(s["address"] for e in detail.exposures for s in e["evidence"]["sources"]),
             "sanctions", "Sanctions"]
    assert asked.tracking_number in html and not [value for value in leaks if value in html]
    shot(page, "support-inbox")
    page.get_by_role("button", name="Send", exact=True).click()
    _done(page, "Sent (message")
    page.get_by_role("button", name="Mark resolved").click()
    _done(page, f"Inquiry {asked.id} resolved.")
    page.get_by_text(f"{asked.tracking_number} · Resolved").wait_for(timeout=20_000)  # the linked inquiry, now done
    [row] = [r for r in inbox_rows(url) if r.id == asked.id]
    assert row.resolved_at is not None and row.last_reply_at is not None
    page.close()


def audit_events(url: str) -> list:
    from sqlmodel import select

    from cases.models import AuditEvent

    with open_store(url).session() as session:
        return list(session.exec(select(AuditEvent).order_by(AuditEvent.seq)))


def inbox_rows(url: str):
    from cases.replies import inbox

    return inbox.inbox(open_store(url), "sue", shown="all")


def test_support_looks_up_copies_a_reply_and_is_blocked_on_a_leaking_edit(server, browser):
    base, url = server
    store = open_store(url)
    detail = queries.show(store, "ann", 3)
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, base, "sue")
    _tab(page, "Look up a case")
    page.get_by_label("Look up", exact=True).fill(detail.case.tracking_number)
    page.get_by_label("Look up", exact=True).press("Enter")
    page.get_by_text(f"{detail.case.tracking_number}: Under review").wait_for(timeout=20_000)
    code = page.locator("[data-testid='stCode']").last
    code.hover()
    code.get_by_role("button").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert detail.case.tracking_number in copied
    html = page.content()
    leaks = [detail.case.from_address, *(s["address"] for e in detail.exposures for s in e["evidence"]["sources"])]
    assert not [value for value in leaks if value in html]
    shot(page, "support-lookup")
    editor = page.get_by_label("Edit before sending (checked as you go)").last
    editor.fill(copied + "\nWe had to tell the police about your deposit.")
    editor.press("Control+Enter")
    page.get_by_text("Blocked: this text would tip the customer off").wait_for(timeout=20_000)
    expect(page.get_by_role("button", name="Send").last).to_be_disabled(timeout=20_000)
    shot(page, "support-blocked")
    context.close()


def test_the_supervisor_approves_a_held_reply_with_its_findings_in_view_and_reads_the_figures(server, browser):
    from datetime import datetime, timezone

    from cases.replies import conversations

    base, url = server
    held = conversations.send(open_store(url), "sia", 4, template_id="status_update", locale="en", channel="chat",
                              now=datetime.now(timezone.utc),
                              text="Hello, your deposit is still restricted under the sanctions rules. The people "
                                   "who need to know about deposits like yours already know.")
    assert held.status == "held"
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "sam")
    page.get_by_role("heading", name="Deadlines and approvals").wait_for(timeout=20_000)
    page.get_by_text("Why the linter held it").first.wait_for(timeout=20_000)
    approve = page.locator(f".st-key-approve-{held.id} button")  # the controls of this held reply (by their keys)
    expect(approve).to_be_disabled()
    # the learned signal's finding with its words, and the case's evidence as a supervisor's note
    page.get_by_text("Learned signal (signal.learned)").first.wait_for(timeout=20_000)
    page.get_by_text("What of this case's evidence the text names").first.wait_for(timeout=20_000)
    shot(page, "supervisor-deadlines")
    why = page.locator(f".st-key-why-{held.id} input")
    why.fill("Sanctions are named on purpose: the customer asked which rule applies.")
    why.press("Enter")
    page.wait_for_timeout(1500)
    box = page.locator(f".st-key-confirm-{held.id} input")
    box.check(force=True)
    expect(box).to_be_checked(timeout=20_000)
    page.wait_for_timeout(1500)
    approve.click()
    page.get_by_text("Replies held for approval").wait_for(timeout=20_000)
    page.wait_for_timeout(2000)
    assert held.id not in [m["id"] for m in conversations.held(open_store(url), "sam")]
    [approved] = [e for e in audit_events(url) if e.action == "message.approved"]
    assert approved.actor == "sam" and approved.after["reason"].startswith("Sanctions are named on purpose")
    for link, heading, name in (("Figures", "Figures", "supervisor-figures"),
                                ("Lists and rules", "Lists, rules and templates", "supervisor-rules")):
        page.get_by_role("link", name=link).click()
        page.get_by_role("heading", name=heading).first.wait_for(timeout=20_000)
        shot(page, name)
    page.get_by_role("link", name="Batch scoring").click()
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(
        str(ROOT / "fixtures" / "scenario" / "deposits.csv"))
    page.get_by_role("button", name="Score and open the frozen cases").click()
    page.get_by_text("16 deposits scored: 5 freeze, 5 review, 6 allow; 0 cases opened, 5 already open").wait_for(
        timeout=60_000)
    shot(page, "supervisor-batch")
    page.close()


def test_the_admin_adds_a_user(server, browser):
    base, url = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "ada")
    page.get_by_role("heading", name="Users").wait_for(timeout=20_000)
    page.get_by_label("Name", exact=True).fill("tom")
    page.get_by_label("First password (at least 8 characters)").fill("a long first password")
    page.get_by_role("button", name="Add the user").click()
    _done(page, "tom added as analyst.")
    shot(page, "admin-users")
    from cases import staff

    assert ("tom", "analyst") in [(u.name, u.role) for u in staff.people(open_store(url), "ada")[0]]
    page.close()


def test_a_reload_keeps_the_user_signed_in_and_a_sign_out_ends_the_session(server, browser):
    base, _ = server
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    sign_in(page, base, "bob")
    for _ in range(100):  # the page's script hands the browser its cookie just after the sign-in shows
        if any(c["name"] == "freezecase_session" for c in context.cookies()):
            break
        page.wait_for_timeout(100)
    page.reload()
    page.get_by_text("Signed in as bob").wait_for(timeout=20_000)
    [cookie] = [c for c in context.cookies() if c["name"] == "freezecase_session"]
    assert cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for(timeout=20_000)
    page.reload()
    page.get_by_role("button", name="Sign in").wait_for(timeout=20_000)
    other = browser.new_context()  # the old token, replayed, opens nothing
    other.add_cookies([{**cookie, "value": cookie["value"]}])
    stale = other.new_page()
    stale.goto(base)
    stale.get_by_text("Your session has ended or expired; sign in again.").wait_for(timeout=20_000)
    assert stale.get_by_text("Signed in as bob").count() == 0
    other.close()
    context.close()


def test_the_server_refuses_a_write_without_its_xsrf_token(server):
    """ui/console/streamlit.toml is applied: an upload from another site (no XSRF cookie) is refused (403),
    where a server without XSRF protection would have answered 400 (no such session)."""
    import urllib.error

    base, _ = server
    request = urllib.request.Request(f"{base}/_stcore/upload_file/any-session/any-file", data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
