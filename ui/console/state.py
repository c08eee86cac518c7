"""What every console page shares: the database, the signed-in user and their session, the clock, request keys,
and error display.

Views stay thin: they call cases/kyt services and render; every domain error is shown by `shown`.
A sign-in opens a database session whose token the browser keeps in a cookie (SameSite=Strict,
12 hours), so a reload or a link opened in a new tab finds the user signed in; the session
ends on sign-out, after 30 minutes without activity, or when the user is disabled.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from cases import identity, once, signin
from cases.db import Store, open_store
from cases.errors import AlreadyDone, NotSignedIn
from cases.replies.case_text import ReplySettings
from ui.messages import HANDLED, render

COOKIE = "freezecase_session"
"""The cookie that holds the console session's token (only its hash is in the database)."""

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PAGES_BY_ROLE = {
    "analyst": ("queue", "alerts", "case", "requests", "batch", "rules"),
    "supervisor": ("deadlines", "queue", "alerts", "case", "requests", "figures", "batch", "rules"),
    "support": ("support",),
    "admin": ("users", "queue", "alerts", "case", "requests", "deadlines", "figures", "batch", "rules"),
}
"""The pages each role sees (the services refuse the rest anyway)."""


@st.cache_resource
def _store(url: str | None) -> Store:
    return open_store(url)


def store() -> Store:
    """The case database: KYT_DB, else DATABASE_URL, else sqlite:///freezecase.db."""
    return _store(os.environ.get("KYT_DB") or None)


def sources() -> dict[str, Path]:
    """The transfers, flagged and services files the console scores and traces with (KYT_TRANSFERS, KYT_FLAGGED,
    KYT_SERVICES; the fixtures by default)."""
    return {"transfers": Path(os.environ.get("KYT_TRANSFERS", FIXTURES / "scenario" / "transfers.csv")),
            "flagged": Path(os.environ.get("KYT_FLAGGED", FIXTURES / "lists" / "flagged.csv")),
            "services": Path(os.environ.get("KYT_SERVICES", FIXTURES / "lists" / "services.csv"))}


def now() -> datetime:
    return datetime.now(timezone.utc)


def settings() -> ReplySettings:
    """The reply settings from the environment (KYT_SUPPORT_CONTACT, KYT_SURVEY_URL)."""
    return ReplySettings.from_environment(os.environ)


def user() -> dict | None:
    """The signed-in user as {name, role}, or None.

    A browser session without a user is brought back from the session cookie when it holds
    a live session; a session idle for too long, ended elsewhere, or of a disabled user is
    signed out first, with a notice saying why.
    """
    signed = st.session_state.get("user")
    token = st.session_state.get("token") or (None if signed else _cookie())
    moment = now()
    if token:
        try:
            found = identity.console_user(store(), token, now=moment, source=source())
        except NotSignedIn as error:
            idle = "without activity" in str(error)
            _forget_browser("You were signed out after a time without activity; sign in again." if idle else
                            "Your session has ended or expired; sign in again.")
            return None
        signed = {"name": found.name, "role": found.role}
        st.session_state["user"], st.session_state["token"] = signed, token
        return signed
    if signed is None:
        return None
    last = st.session_state.get("last_active")  # a browser session without a cookie (a test's script runner)
    if last is not None and moment - last > signin.DEFAULT_POLICY.idle_timeout:
        sign_out("idle for too long")
        st.session_state["notice"] = "You were signed out after a time without activity; sign in again."
        return None
    st.session_state["last_active"] = moment
    return signed


def _cookie() -> str | None:
    """The session token the browser sent when this browser session began (None once it was dropped: the cookies
    Streamlit shows are those of the connection's start, for its whole life)."""
    if st.session_state.get("cookie_dropped"):
        return None
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # noqa: BLE001 - no browser behind this run (a test's script runner)
        return None
    return value if isinstance(value, str) and value else None


def _forget_browser(notice: str | None = None) -> None:
    """Forget everything this browser session held, and have the browser drop its session cookie."""
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    if notice:
        st.session_state["notice"] = notice
    st.session_state["cookie"] = ""
    st.session_state["cookie_dropped"] = True


def signed_in(name: str, role: str) -> None:
    """Start this browser session's sign-in: a database session whose token the browser keeps in a cookie."""
    token = identity.open_session(store(), name, now=now(), source=source())
    st.session_state.pop("cookie_dropped", None)
    st.session_state["user"] = {"name": name, "role": role}
    st.session_state["token"] = st.session_state["cookie"] = token
    st.session_state["last_active"] = now()


def write_cookie() -> None:
    """Give the browser the session cookie to keep (after a sign-in) or to drop (after a sign-out), once."""
    value = st.session_state.pop("cookie", None)
    if value is None:
        return
    age = int(signin.DEFAULT_POLICY.session_lifetime.total_seconds()) if value else 0
    # the token is URL-safe base64 (letters, digits, - and _): nothing in it can end the string
    st.html(f"<script>document.cookie = '{COOKIE}={value}; Path=/; Max-Age={age}; SameSite=Strict'"
            " + (location.protocol === 'https:' ? '; Secure' : '');</script>", unsafe_allow_javascript=True)


def source() -> str:
    """Where the browser session comes from (its address, as Streamlit sees it), for throttling and the audit trail."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - no browser behind this run (a test's script runner)
        address = None
    return f"console:{address or 'local'}"


def signed() -> dict:
    """The user this run signed in as (`user()`, called once by the app, checked the session); stops a run without
    one."""
    found = st.session_state.get("user")
    if found is None:
        st.stop()
    return found


def actor() -> str:
    return signed()["name"]


def sign_out(reason: str) -> None:
    """End the sign-in (audited, with `reason`), drop the cookie, and forget everything this browser session held."""
    signed, token = st.session_state.get("user"), st.session_state.get("token")
    if signed is not None:
        with shown():
            if token:
                identity.end_session(store(), token, now=now(), source=source(), reason=reason)
            else:
                signin.sign_out(store(), signed["name"], now=now(), source=source(), reason=reason)
    _forget_browser()


def request_key(form: str, *parts: object) -> str:
    """The key of what this form asks for: the same click sent twice names the same request (cases.once)."""
    return once.request_key(actor(), form, *parts)


@contextmanager
def shown() -> Iterator[None]:
    """Show a domain error (ui.messages words it) next to the action and as a notice over the page, whichever
    tab the user now looks at; never a traceback, never silence."""
    try:
        yield
    except AlreadyDone as error:
        st.info(literal(str(error)[:1].upper() + str(error)[1:] + "."))
    except HANDLED as error:
        message = literal(render(error).removeprefix("error: "))
        st.error(message)
        st.toast(message, icon=":material/error:")


def money(value) -> str:
    """Dollars with cents; a value without a USD price says so, never $0.00."""
    return "unknown (no price)" if value is None else f"${value:,.2f}"


def zone() -> ZoneInfo | timezone:
    """The browser's time zone (UTC when the browser does not say)."""
    try:
        name = st.context.timezone
    except Exception:  # noqa: BLE001 - no browser behind this run
        name = None
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def when(value: datetime | None) -> str:
    """A time in the user's zone, e.g. 2026-11-24 16:00 CET (UTC when the browser gives no zone)."""
    if not value:
        return "—"
    local = value.astimezone(zone())
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "UTC")


def utc(value: datetime | None) -> str:
    """A time in UTC, for the tooltip beside a local one."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def zone_help() -> str:
    """What a table's time column says on hover: the zone its times are in, and how far from UTC."""
    offset = now().astimezone(zone()).strftime("%z")
    return f"In your time zone ({zone()}, UTC{offset[:3]}:{offset[3:]})."


_LINKS = str.maketrans({c: "\\" + c for c in "\\[]()<>!`$"})


def literal(message: str) -> str:
    r"""A message that may hold text from data (a name, an id, a file's value), kept to its lines and words: no
    link, image, HTML, code or formula is made of it.

    >>> literal("no alert [x](http://evil.example)")
    'no alert \\[x\\]\\(http://evil.example\\)'
    """
    return "  \n".join(line.translate(_LINKS) for line in message.splitlines())


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()#+-.!|<>~$:="})


def plain(value: object) -> str:
    r"""Text from data as Markdown shows it literally: no link, image, emphasis, colour or formula.

    >>> plain("![x](http://evil.example/x.png) *bold* :red[hi]")
    '\\!\\[x\\]\\(http\\://evil\\.example/x\\.png\\) \\*bold\\* \\:red\\[hi\\]'
    """
    return " ".join(str(value).translate(_MARKDOWN).split()) if value is not None else ""
