"""The alerts queue: deposits the rules sent to review, to assign, dismiss with a reason, or freeze in a case."""

from __future__ import annotations

import streamlit as st

from cases import alerts
from cases.alerts import AlertFilter
from ui.console import state, words
from ui.console.held_withdrawals import held_withdrawals

SHOWN = ("open", "dismissed", "case_opened", "all")


def alerts_page() -> None:
    """Open review alerts, oldest first, with filters; one alert's deposit, rules and actions."""
    st.title("Alerts")
    st.caption("A review alert is a deposit the rules sent to review: its funds are not frozen. Dismiss it with a "
               "reason, or open a freeze case for it.")
    held_withdrawals()
    left, middle, right = st.columns(3)
    status = left.selectbox("Status", SHOWN, format_func=lambda s: "All" if s == "all" else words.alert_status(s))
    category = middle.text_input("Category", placeholder="e.g. sanctions", key="alert_category")
    assignee = right.text_input("Assignee", key="alert_assignee")
    page = st.session_state.get("alerts_page", 1)
    with state.shown():
        found = alerts.alert_queue(state.store(), state.actor(), AlertFilter(
            status=None if status == "all" else status, category=category or None, assignee=assignee or None,
            page=page, page_size=50))
        moment = state.now()
        st.caption(f"{found.total:,}{'+' if found.more else ''} alerts · page {found.page} · oldest first")
        if found.rows:
            st.dataframe([{"id": a.id, "deposit": a.deposit_id, "customer": a.customer_id,
                           "USD": None if a.usd_value is None else float(a.usd_value),
                           "categories": words.categories(a.categories), "rules": ", ".join(a.rule_ids),
                           "raised": state.when(a.created_at),
                           "waiting (hours)": round((moment - a.created_at).total_seconds() / 3600, 1),
                           "assignee": a.assignee or "", "status": words.alert_status(a.status)} for a in found.rows],
                         hide_index=True, width="stretch",
                         column_config={"USD": st.column_config.NumberColumn(format="dollar", help="None when the asset has no USD price (unknown, never $0)"),
                                        "raised": st.column_config.TextColumn(help=state.zone_help())})
        else:
            st.info("No alert matches. Alerts appear when a batch or a watch sends deposits to review.")
        previous, following, _ = st.columns([1, 1, 6])
        if previous.button("◀ Previous", disabled=page <= 1, key="alerts_previous"):
            st.session_state["alerts_page"] = page - 1
            st.rerun()
        if following.button("Next ▶", disabled=page * 50 >= found.total and not found.more, key="alerts_next"):
            st.session_state["alerts_page"] = page + 1
            st.rerun()
        ids = [a.id for a in found.rows]
        linked = st.query_params.get("alert")
        if linked and linked.isdigit() and int(linked) not in ids:
            ids.insert(0, int(linked))
        if not ids:
            return
        chosen = st.selectbox("Alert", ids, index=ids.index(int(linked)) if linked and linked.isdigit() else 0,
                              format_func=lambda i: f"alert {i}")
        if st.query_params.get("alert") != str(chosen):
            st.query_params["alert"] = str(chosen)
        alert = alerts.get_alert(state.store(), state.actor(), chosen)
        # an action applies to the alert as the user last saw it on screen, not as this run reloaded it
        seen = st.session_state.get("seen_alert", {}).get(alert.id, alert.version)
        st.session_state["seen_alert"] = {alert.id: alert.version}
        _alert(alert, seen)


def _alert(alert, seen: int) -> None:
    if "alert_done" in st.session_state:
        st.success(st.session_state.pop("alert_done"))
    st.subheader(f"Alert {alert.id} · {words.alert_status(alert.status)}")
    left, right = st.columns(2)
    left.markdown(f"**Customer** {state.plain(alert.customer_id)}  \n**Deposit** {state.plain(alert.deposit_id)}: "
                  f"{alert.amount} {state.plain(alert.asset)} ({state.money(alert.usd_value)}) on "
                  f"{state.when(alert.deposit_time)}  \n**Chain** {state.plain(alert.chain)}  \n**Transaction** "
                  f"{state.plain(alert.tx_hash)}  \n**From** {state.plain(alert.from_address)}", help=f"Deposit time in UTC: {state.utc(alert.deposit_time)}")
    right.markdown(f"**Categories** {words.categories(alert.categories)}  \n**Raised** {state.when(alert.created_at)}"
                   f" · snapshot `{alert.snapshot_id[:12]}`  \n**Assignee** {state.plain(alert.assignee) or '—'}",
                   help=f"Raised in UTC: {state.utc(alert.created_at)}")
    st.markdown("**Rules that sent it to review**  \n" + "  \n".join(
        f"- {state.plain(words.rule_names([r]))}" for r in alert.rule_ids))
    if alert.sender_risk:
        st.markdown(words.sender_risk(alert.sender_risk))
    if alert.status != "open":
        where = f" (case {alert.case_id})" if alert.case_id else ""
        st.info(f"Decided by {state.plain(alert.decided_by)} at {state.when(alert.decided_at)}{where}: "
                f"{state.plain(alert.reason)}")
        if alert.case_id and "case" in st.session_state.get("pages", {}):
            if st.button("Open its case"):
                st.switch_page(st.session_state["pages"]["case"], query_params={"case": str(alert.case_id)})
        return
    assign, dismiss, freeze = st.tabs(["Assign", "Dismiss", "Open a freeze case"], key="alert_tabs", on_change="rerun")
    with assign:
        who = st.text_input("Assign to (user name; empty to unassign)", value=state.actor(), key="alert_assign_to")
        if st.button("Assign", key="alert_assign"):
            _act(alerts.assign, alert, seen, done=f"assigned to {who.strip() or 'nobody'}", assignee=who.strip() or None)
    with dismiss:
        reason = st.text_area("Why it needs no freeze", key="alert_dismiss_reason",
                              placeholder="e.g. the flagged share is an exchange's hot wallet, documented")
        if st.button("Dismiss the alert", key="alert_dismiss"):
            _act(alerts.dismiss, alert, seen, done="alert dismissed", reason=reason)
    with freeze:
        why = st.text_area("Why the deposit must be frozen", key="alert_freeze_reason")
        sure = st.checkbox("I confirm: the customer's deposit is frozen and a case with its legal deadlines opens.",
                           key="alert_freeze_confirm")
        if st.button("Open a freeze case", type="primary", disabled=not sure, key="alert_freeze"):
            _act(alerts.open_case, alert, seen, done="case opened", reason=why)


def _act(call, alert, seen: int, *, done: str, **kwargs) -> None:
    """Carry out `call` on the alert as the user saw it (version `seen`): a change made meanwhile by someone else
    is a conflict that says who made it; the page below then shows the alert as it is."""
    key = state.request_key(call.__name__, "alert", alert.id, seen, *sorted(kwargs.items()))
    with state.shown():
        result = call(state.store(), state.actor(), alert.id, now=state.now(), expected_version=seen,
                      request_key=key, **kwargs)
        if call is alerts.open_case:
            done = f"case {result.id} opened ({result.tracking_number}); its deadlines have started"
        st.session_state["alert_done"] = "Done: " + done + " (recorded in the audit trail)"
        st.rerun()
