"""What every console page shares: the database, the signed-in user, the clock, and error display.

Views stay thin: they call cases/kyt services and render; every domain error is shown by `shown`.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import streamlit as st

from cases import signin
from cases.db import Store, open_store
from cases.replies.case_text import ReplySettings
from ui.messages import HANDLED, render

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PAGES_BY_ROLE = {
    "analyst": ("queue", "case", "batch", "rules"),
    "supervisor": ("queue", "case", "deadlines", "figures", "batch", "rules"),
    "support": ("support",),
    "admin": ("queue", "case", "deadlines", "figures", "batch", "rules"),
}
"""The pages each role sees (the services refuse the rest anyway)."""


@st.cache_resource
def _store(url: str | None) -> Store:
    return open_store(url)


def store() -> Store:
    """The case database: KYT_DB, else DATABASE_URL, else sqlite:///freezecase.db."""
    return _store(os.environ.get("KYT_DB") or None)


def now() -> datetime:
    return datetime.now(timezone.utc)


def settings() -> ReplySettings:
    return ReplySettings(support_contact=os.environ.get("KYT_SUPPORT_CONTACT", "support@example.com"))


def user() -> dict | None:
    """The signed-in user as {name, role}, or None; a session idle for too long is signed out first."""
    signed = st.session_state.get("user")
    if signed is None:
        return None
    moment, last = now(), st.session_state.get("last_active")
    if last is not None and moment - last > signin.DEFAULT_POLICY.idle_timeout:
        sign_out("idle for too long")
        st.session_state["notice"] = "You were signed out after a time without activity; sign in again."
        return None
    st.session_state["last_active"] = moment
    return signed


def signed_in(name: str, role: str) -> None:
    """Start this browser session's sign-in."""
    st.session_state["user"] = {"name": name, "role": role}
    st.session_state["last_active"] = now()


def source() -> str:
    """Where the browser session comes from (its address, as Streamlit sees it), for throttling and the audit trail."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - no browser behind this run (a test's script runner)
        address = None
    return f"console:{address or 'local'}"


def actor() -> str:
    signed = user()
    if signed is None:
        st.stop()
    return signed["name"]


def sign_out(reason: str) -> None:
    """End the sign-in (audited, with `reason`) and forget everything this browser session held."""
    signed = st.session_state.get("user")
    if signed is not None:
        with shown():
            signin.sign_out(store(), signed["name"], now=now(), source=source(), reason=reason)
    for key in list(st.session_state.keys()):
        del st.session_state[key]


@contextmanager
def shown() -> Iterator[None]:
    """Show a domain error (ui.messages words it) next to the action and as a notice over the page, whichever
    tab the user now looks at; never a traceback, never silence."""
    try:
        yield
    except HANDLED as error:
        message = render(error).removeprefix("error: ")
        st.error(message)
        st.toast(message, icon=":material/error:")


def money(value) -> str:
    """Dollars with cents; a value without a USD price says so, never $0.00."""
    return "unknown (no price)" if value is None else f"${value:,.2f}"


def when(value: datetime | None) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~$:="})


def plain(value: object) -> str:
    r"""Text from data as Markdown shows it literally: no link, image, emphasis, colour or formula.

    >>> plain("![x](http://evil.example/x.png) *bold* :red[hi]")
    '\\!\\[x\\]\\(http\\://evil\\.example/x\\.png\\) \\*bold\\* \\:red\\[hi\\]'
    """
    return " ".join(str(value).translate(_MARKDOWN).split()) if value is not None else ""
