"""The admin's page: the users and their roles, new users, role changes, and the grants a second admin decides."""

from __future__ import annotations

import streamlit as st

from cases import staff
from cases.models import ROLES
from ui.console import state

PEOPLE_ROLES = tuple(r for r in ROLES if r != "system")


def users_page() -> None:
    """Every user with role and state; add one, change a role, disable or enable, decide a waiting grant."""
    st.title("Users")
    if "users_done" in st.session_state:
        st.success(st.session_state.pop("users_done"))
    users, grants = [], []
    with state.shown():
        users, grants = staff.people(state.store(), state.actor())
        st.dataframe([{"name": u.name, "role": u.role, "active": "yes" if u.active else "no (disabled)"}
                      for u in users], hide_index=True, width="stretch")
        st.markdown("### Waiting for a second admin")
        if not grants:
            st.caption("No role change is waiting.")
        for grant in grants:
            with st.container(border=True):
                what = f"make {grant.user_name} {grant.role}" if grant.kind == "role" else f"{grant.kind} {grant.user_name}"
                st.markdown(f"**{state.plain(what)}**, asked by {state.plain(grant.requested_by)} at "
                            f"{state.when(grant.requested_at)}")
                yes, no = st.columns(2)
                for column, approve, label in ((yes, True, "Approve"), (no, False, "Reject")):
                    if column.button(label, key=f"grant-{grant.id}-{label}"):
                        with state.shown():
                            staff.decide(state.store(), state.actor(), grant.id, approve=approve, now=state.now())
                            done = "Approved" if approve else "Rejected"
                            st.session_state["users_done"] = f"{done}: {state.plain(what)}."
                            st.rerun()
    add, change = st.tabs(["Add a user", "Change a user"], key="users_tabs", on_change="rerun")
    with add:
        with st.form("add_user", clear_on_submit=True):
            name = st.text_input("Name")
            role = st.selectbox("Role", PEOPLE_ROLES)
            password = st.text_input("First password (at least 8 characters)", type="password")
            if st.form_submit_button("Add the user"):
                with state.shown():
                    _, grant = staff.add_user(state.store(), state.actor(), name.strip(), role=role, now=state.now(),
                                              password=password)
                    st.session_state["users_done"] = f"{state.plain(name.strip())} added" + (
                        f"; the {role} role waits for a second admin" if grant else f" as {role}") + "."
                    st.rerun()
    with change:
        names = [u.name for u in users]
        if not names:
            return
        who = st.selectbox("User", names, key="change_user")
        new_role = st.selectbox("New role", PEOPLE_ROLES, key="change_role")
        left, middle, right = st.columns(3)
        if left.button("Change the role"):
            with state.shown():
                grant = staff.set_role(state.store(), state.actor(), who, role=new_role, now=state.now())
                st.session_state["users_done"] = (f"{state.plain(who)}: the {new_role} role waits for a second admin."
                                                  if grant else f"{state.plain(who)} is now {new_role}.")
                st.rerun()
        sure = right.checkbox("I confirm: the user can no longer sign in.", key="confirm-disable")
        for column, active, label in ((middle, False, "Disable"), (right, True, "Enable")):
            if column.button(label, disabled=not (sure or active)):
                with state.shown():
                    grant = staff.set_active(state.store(), state.actor(), who, active=active, now=state.now())
                    st.session_state["users_done"] = (f"{label}d: {state.plain(who)}" + (", once a second admin approves."
                                                                           if grant else "."))
                    st.rerun()
