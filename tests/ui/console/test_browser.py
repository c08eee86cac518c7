"""The console in a real browser (Debian's Chromium driven by Playwright) against a real server.

An analyst signs in, opens a case, sees the provenance picture and proposes a release; a
support agent looks the tracking number up, copies a reply, and sees a leaking edit blocked.
Screenshots go to test-artifacts/screenshots/. Skipped when Chromium is not installed,
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


def sign_in(page, base: str, name: str) -> None:
    page.goto(base)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password", exact=True).and_(page.get_by_role("textbox")).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=20_000)


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(3000)  # charts and the graph draw after the page settles
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_an_analyst_opens_a_case_sees_its_provenance_and_proposes_a_release(server, browser):
    base, url = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "ann")
    page.get_by_role("heading", name="Queue").wait_for()
    page.get_by_text("5 cases · page 1").wait_for()
    shot(page, "queue")
    page.get_by_role("button", name="Open case").click()
    page.get_by_text("Provenance").wait_for(timeout=20_000)
    page.locator("[data-testid='stGraphVizChart'] svg").first.wait_for(timeout=20_000)
    assert page.locator("[data-testid='stGraphVizChart'] svg g.node").count() >= 3
    shot(page, "case")
    page.get_by_role("tab", name="Progress").click()
    page.get_by_role("button", name="Start the review").click()
    page.get_by_text("status open → in_review").wait_for(timeout=20_000)
    page.get_by_role("tab", name="Propose").click()
    page.get_by_label("Reason").fill("Payslips and the exchange statement explain the funds.")
    page.get_by_role("button", name="Propose", exact=True).click()
    page.get_by_text("Done: release proposed").wait_for(timeout=20_000)
    store = open_store(url)
    [proposal] = queries.show(store, "ann", 1).proposals
    assert (proposal["kind"], proposal["proposed_by"], proposal["status"]) == ("release", "ann", "pending")
    page.close()


def test_support_looks_up_copies_a_reply_and_is_blocked_on_a_leaking_edit(server, browser):
    base, url = server
    store = open_store(url)
    detail = queries.show(store, "ann", 2)
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, base, "sue")
    page.get_by_label("Look up", exact=True).fill(detail.case.tracking_number)
    page.get_by_label("Look up", exact=True).press("Enter")
    page.get_by_text("Under review").first.wait_for(timeout=20_000)
    code = page.locator("[data-testid='stCode']").first
    code.hover()
    code.get_by_role("button").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert detail.case.tracking_number in copied
    html = page.content()
    leaks = [detail.case.from_address, *(s["address"] for e in detail.exposures for s in e["evidence"]["sources"])]
    assert not [value for value in leaks if value in html]
    shot(page, "support")
    editor = page.get_by_label("Edit before sending (checked as you go)")
    editor.fill(copied + "\nWe had to tell the police about your deposit.")
    editor.press("Control+Enter")
    page.get_by_text("Blocked: this text would tip the customer off").wait_for(timeout=20_000)
    expect(page.get_by_role("button", name="Send")).to_be_disabled(timeout=20_000)
    shot(page, "support-blocked")
    context.close()


def test_a_supervisor_sees_deadlines_figures_lists_and_batch(server, browser):
    base, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "sam")
    for link, heading, name in (("Deadlines and approvals", "Deadlines and approvals", "deadlines"),
                                ("Figures", "Figures", "figures"), ("Batch scoring", "Batch scoring", "batch"),
                                ("Lists and rules", "Lists, rules and templates", "rules")):
        page.get_by_role("link", name=link).click()
        page.get_by_role("heading", name=heading).first.wait_for(timeout=20_000)
        shot(page, name)
    page.get_by_role("link", name="Batch scoring").click()
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(
        str(ROOT / "fixtures" / "scenario" / "deposits.csv"))
    page.get_by_role("button", name="Score and open the frozen cases").click()
    page.get_by_text("16 deposits scored: 5 freeze, 5 review, 6 allow; 0 cases opened, 5 already open").wait_for(
        timeout=60_000)
    page.get_by_role("link", name="Figures").click()
    page.get_by_text("Frozen value", exact=True).wait_for(timeout=20_000)
    assert page.get_by_text("$24,200.00").count() >= 1  # 5,000 + 1,000 + 12,000 + 1,200 + 5,000 frozen
    page.close()


def test_the_server_refuses_a_write_without_its_xsrf_token(server):
    """ui/console/streamlit.toml is applied: an upload from another site (no XSRF cookie) is refused (403),
    where a server without XSRF protection would have answered 400 (no such session)."""
    import urllib.error

    base, _ = server
    request = urllib.request.Request(f"{base}/_stcore/upload_file/any-session/any-file", data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
