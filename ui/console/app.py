"""The console's entrypoint: sign-in, then the pages the signed-in user's role may use.

Run it with `kyt ui` (or `streamlit run ui/console/app.py`); the database comes from KYT_DB
or DATABASE_URL, else sqlite:///freezecase.db.
"""

from __future__ import annotations

import streamlit as st

from cases import signin
from ui.console import state
from ui.console.pages_batch import batch_page, rules_page
from ui.console.pages_cases import case_page, queue_page
from ui.console.pages_supervisor import deadlines_page, figures_page
from ui.console.pages_support import support_page

PAGES = {
    "queue": (queue_page, "Queue", ":material/inbox:"), "case": (case_page, "Case", ":material/search:"),
    "deadlines": (deadlines_page, "Deadlines and approvals", ":material/alarm:"),
    "figures": (figures_page, "Figures", ":material/bar_chart:"),
    "support": (support_page, "Customer support", ":material/support_agent:"),
    "batch": (batch_page, "Batch scoring", ":material/upload_file:"),
    "rules": (rules_page, "Lists and rules", ":material/rule:"),
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
                st.rerun()


def main() -> None:
    st.set_page_config(page_title="freezecase console", page_icon=":material/ac_unit:", layout="wide")
    user = state.user()
    if user is None:
        st.navigation([st.Page(sign_in_page, title="Sign in", url_path="sign-in")]).run()
        return
    pages = {key: st.Page(PAGES[key][0], title=PAGES[key][1], icon=PAGES[key][2], url_path=key)
             for key in state.PAGES_BY_ROLE[user["role"]]}
    st.session_state["pages"] = pages
    with st.sidebar:
        st.markdown(f"Signed in as **{state.plain(user['name'])}** ({user['role']})")
        if st.button("Sign out"):
            state.sign_out("signed out")
            st.rerun()
    st.navigation(list(pages.values())).run()


main()
