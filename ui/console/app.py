"""The console's entrypoint: sign-in, then the pages the signed-in user's role may use.

Run it with `kyt ui` (or `streamlit run ui/console/app.py`); the database comes from KYT_DB
or DATABASE_URL, else sqlite:///freezecase.db. Every page has its own address
(`/case?case=12`, `/alerts?alert=3`, `/support?inquiry=7`): opened before signing in, the
address asks for the sign-in and then shows what it names.
"""

from __future__ import annotations

import streamlit as st

from cases import signin
from ui.console import state
from ui.console.pages_admin import users_page
from ui.console.pages_alerts import alerts_page
from ui.console.pages_batch import batch_page, rules_page
from ui.console.pages_cases import case_page, queue_page
from ui.console.pages_requests import requests_page
from ui.console.pages_supervisor import deadlines_page, figures_page
from ui.console.pages_support import support_page

PAGES = {
    "queue": (queue_page, "Queue", ":material/inbox:"), "alerts": (alerts_page, "Alerts", ":material/notifications:"),
    "case": (case_page, "Case", ":material/search:"),
    "requests": (requests_page, "Freeze requests", ":material/gavel:"),
    "deadlines": (deadlines_page, "Deadlines and approvals", ":material/alarm:"),
    "figures": (figures_page, "Figures", ":material/bar_chart:"),
    "support": (support_page, "Customer support", ":material/support_agent:"),
    "batch": (batch_page, "Batch scoring", ":material/upload_file:"),
    "rules": (rules_page, "Lists and rules", ":material/rule:"),
    "users": (users_page, "Users", ":material/group:"),
}


def sign_in_page() -> None:
    st.title("freezecase console")
    notice = st.session_state.pop("notice", None)
    if notice:
        st.info(notice)
    with st.form("sign_in"):
        name = st.text_input("Name")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            with state.shown():
                user = signin.sign_in(state.store(), name, password, now=state.now(), source=state.source())
                state.signed_in(user.name, user.role)
                st.rerun()  # the same address: a link to a case opens that case once signed in


def main() -> None:
    st.set_page_config(page_title="freezecase console", page_icon=":material/ac_unit:", layout="wide")
    user = state.user()
    state.write_cookie()
    if user is None:  # every page's address leads to the sign-in, and keeps its query (a deep link)
        doors = [st.Page(sign_in_page, title="Sign in", url_path="sign-in", default=True)]
        doors += [st.Page(sign_in_page, title="Sign in", url_path=key, visibility="hidden") for key in PAGES]
        st.navigation(doors, position="hidden").run()
        return
    keys = state.PAGES_BY_ROLE[user["role"]]
    pages = {key: st.Page(PAGES[key][0], title=PAGES[key][1], icon=PAGES[key][2], url_path=key, default=i == 0)
             for i, key in enumerate(keys)}
    st.session_state["pages"] = pages
    with st.sidebar:
        st.markdown(f"Signed in as **{state.plain(user['name'])}** ({user['role']})")
        if st.button("Sign out"):
            state.sign_out("signed out")
            st.session_state["notice"] = "You are signed out."
            st.rerun()
    st.navigation(list(pages.values())).run()


main()
