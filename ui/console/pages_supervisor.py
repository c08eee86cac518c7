"""Supervisors' pages: deadlines at risk and overdue, approvals waiting, and the figures with charts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta, timezone

import streamlit as st

from cases import figures, queries
from cases.access import may
from cases.replies import conversations, standards
from ui.console import state


def deadlines_page() -> None:
    """Deadlines at risk and overdue, by rule and jurisdiction; proposals and replies waiting for approval."""
    st.title("Deadlines and approvals")
    days = st.slider("Due within (days)", 1, 30, 3)
    with state.shown():
        due = queries.due(state.store(), state.actor(), state.now(), within=timedelta(days=days))
        overdue = [d for d in due if d.overdue]
        left, right = st.columns(2)
        left.metric("Overdue", len(overdue))
        right.metric("At risk or due soon", len(due) - len(overdue))
        counts = Counter((d.rule_id, d.jurisdiction, "overdue" if d.overdue else "at risk") for d in due)
        st.markdown("**By rule and jurisdiction**")
        st.dataframe([{"rule": r, "jurisdiction": j, "state": s, "deadlines": n} for (r, j, s), n in sorted(counts.items())],
                     hide_index=True, width="stretch")
        st.dataframe([{"case": d.case_id, "tracking": d.tracking_number, "case status": d.case_status, "rule": d.rule_id,
                       "where": d.jurisdiction, "due": state.when(d.due_at),
                       "state": "🔴 overdue" if d.overdue else "🟠 at risk"} for d in due],
                     hide_index=True, width="stretch")
        st.markdown("### Proposals waiting for a second person")
        pending = queries.pending_proposals(state.store(), state.actor())
        st.dataframe([{**p, "proposed_at": state.when(p["proposed_at"])} for p in pending], hide_index=True,
                     width="stretch")
        if pending and st.button("Open the oldest in its case page"):
            st.session_state["case_id"] = pending[0]["case_id"]
            st.switch_page(st.session_state["pages"]["case"])
        if may(state.user()["role"], "approve_message"):
            _held_replies()


def _held_replies() -> None:
    st.markdown("### Replies held for approval")
    held = conversations.held(state.store(), state.actor())
    if not held:
        st.caption("None.")
        return
    for m in held:
        with st.container(border=True):
            st.markdown(f"**Message {m['id']}** on case {m['case_id']} by {state.plain(m['author'])} · {m['template_id']} · "
                        f"{m['locale']} {m['channel']}")
            st.text(m["body"])
            st.caption(state.plain("; ".join(f"{f['category']}: {f['reason']}" for f in m["findings"])))
            approve, reject = st.columns(2)
            if approve.button("Approve and send", key=f"approve-{m['id']}"):
                with state.shown():
                    conversations.approve(state.store(), state.actor(), m["id"], now=state.now(),
                                          settings=state.settings())
                    st.rerun()
            if reject.button("Reject", key=f"reject-{m['id']}"):
                with state.shown():
                    conversations.reject(state.store(), state.actor(), m["id"], note="rejected in the console",
                                         now=state.now())
                    st.rerun()


def figures_page() -> None:
    """Cases opened and closed, frozen value, outcomes, time to decision, service standards against targets."""
    st.title("Figures")
    today = state.now().date()
    period = st.date_input("Period", value=(today - timedelta(days=30), today))
    if not isinstance(period, tuple) or len(period) != 2:
        st.info("Pick the last day of the period too.")
        return
    start_day, end_day = period
    start = datetime.combine(start_day, time(0), tzinfo=timezone.utc)
    end = datetime.combine(end_day, time(0), tzinfo=timezone.utc) + timedelta(days=1)
    with state.shown():
        found = figures.case_figures(state.store(), state.actor(), start=start, end=end)
        rows, updates = standards.service_rows(state.store(), state.actor(), start=start, end=end)
        service = standards.figures(rows, updates, min(end, state.now()))
        a, b, c, d = st.columns(4)
        a.metric("Frozen now", found["frozen_cases"], help="open or escalated cases")
        unpriced = found["frozen_cases_without_price"]
        b.metric("Frozen value", state.money(found["frozen_usd"]),
                 help=f"plus {unpriced} cases of assets without a USD price" if unpriced else "all cases priced")
        rate = found["release_rate"]
        c.metric("Released / decided", "—" if rate is None else f"{rate:.0%}",
                 help=f"{found['released']} released, {found['escalated']} escalated")
        hours = found["median_hours_to_decision"]
        d.metric("Median hours to decision", "—" if hours is None else f"{hours:.1f}",
                 help=f"target {figures.DECISION_TARGET_HOURS} h; {found['decided_within_target']} of "
                      f"{found['decided']} within it")
        st.markdown("**Cases opened and closed per day**")
        per_day = {r["day"]: r for r in found["per_day"]}
        days = figures.day_range(start_day, end_day)
        st.bar_chart({"opened": {str(d): per_day[d]["opened"] if d in per_day else 0 for d in days},
                      "closed": {str(d): per_day[d]["closed"] if d in per_day else 0 for d in days}},
                     stack=False)
        st.markdown("**Frozen value by category (USD)**")
        st.bar_chart({k: float(v) for k, v in found["frozen_usd_by_category"].items()})
        st.markdown("**Cases by category and hop**")
        st.bar_chart({f"hop {h}": {r["category"]: r["cases"] for r in found["cases_by_category_and_hop"] if r["hop"] == h}
                      for h in (1, 2)})
        st.markdown("**Service standards**")
        e, f = st.columns(2)
        answered = sum(g["received"] - g["unanswered"] for g in service["groups"])
        within = sum(g["first_response_within_target"] for g in service["groups"])
        e.metric("First responses within 5 minutes", f"{within} of {answered}")
        f.metric("Status updates on time", f"{service['updates_on_time']} of {service['updates_due']}")
        st.dataframe(service["groups"], hide_index=True, width="stretch")
