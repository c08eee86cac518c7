"""Supervisors' pages: deadlines at risk and overdue, approvals waiting, and the figures with charts."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import streamlit as st

from cases import alerts, figures, queries
from cases.access import may
from cases.replies import conversations, standards, surveys
from ui.console import state, words


SHOWN_DUE = 200
"""Deadlines listed at most on the page (the counts cover all of them)."""


def deadlines_page() -> None:
    """Deadlines at risk and overdue, the backlog by due day, alerts waiting; proposals and replies to approve."""
    st.title("Deadlines and approvals")
    days = st.slider("Due within (days)", 1, 30, 3)
    with state.shown():
        moment = state.now()
        due = queries.due(state.store(), state.actor(), moment, within=timedelta(days=days), limit=SHOWN_DUE)
        counts = queries.due_counts(state.store(), state.actor(), moment, within=timedelta(days=days))
        waiting = alerts.summary(state.store(), state.actor(), now=moment)
        a, b, c, d = st.columns(4)
        a.metric("Overdue deadlines", f"{counts['overdue']:,}")
        b.metric("At risk or due soon", f"{counts['at_risk']:,}")
        c.metric("Alerts waiting for review", waiting["by_status"]["open"],
                 help=f"{waiting['open_over_a_day']} of them for more than a day")
        oldest = waiting["oldest_open_hours"]
        d.metric("Oldest alert waiting", "—" if oldest is None else f"{oldest:,.1f} h")
        backlog = figures.backlog(state.store(), state.actor(), now=moment, days=max(days, 14))
        st.markdown("**Backlog of open deadlines by the day they fall due**")
        if backlog:
            import altair as alt

            st.altair_chart(alt.Chart(alt.Data(values=backlog)).mark_bar().encode(  # overdue first, then by day
                x=alt.X("due:N", sort=None, title="due"), y=alt.Y("sum(deadlines):Q", title="open deadlines"),
                color=alt.Color("rule:N"), tooltip=["due:N", "rule:N", "deadlines:Q"]), width="stretch")
        else:
            st.caption("No open deadline: nothing is waiting.")
        if waiting["open_by_category"]:
            st.markdown("**Alerts waiting, by category**")
            st.bar_chart({words.category(k): v for k, v in waiting["open_by_category"].items()}, horizontal=True)
        st.markdown("**Deadlines at risk and overdue**" + (
            f" (the {SHOWN_DUE:,} soonest of {counts['overdue'] + counts['at_risk']:,})"
            if counts["overdue"] + counts["at_risk"] > SHOWN_DUE else ""))
        if due:
            st.dataframe([{"case": d.case_id, "tracking": d.tracking_number, "case status": words.status(d.case_status),
                           "rule": d.rule_id, "where": d.jurisdiction, "due": state.when(d.due_at),
                           "state": "🔴 overdue" if d.overdue else "🟠 at risk"} for d in due],
                         hide_index=True, width="stretch",
                         column_config={"due": st.column_config.TextColumn(help=state.zone_help())})
        else:
            st.caption(f"Nothing overdue or due within {days} days.")
        st.markdown("### Proposals waiting for a second person")
        pending = queries.pending_proposals(state.store(), state.actor())
        if pending:
            st.dataframe([{**p, "proposed_at": state.when(p["proposed_at"])} for p in pending], hide_index=True,
                         width="stretch")
            if st.button("Open the oldest in its case page"):
                st.session_state["case_id"] = pending[0]["case_id"]
                st.switch_page(st.session_state["pages"]["case"], query_params={"case": str(pending[0]["case_id"])})
        else:
            st.caption("None.")
        if may(state.signed()["role"], "approve_message"):
            _held_replies()


def _held_replies() -> None:
    st.markdown("### Replies held for approval")
    held = conversations.held(state.store(), state.actor())
    if not held:
        st.caption("None.")
        return
    for m in held:
        with st.container(border=True):
            st.markdown(f"**Message {m['id']}** on case {m['case_id']} by {state.plain(m['author'])} · "
                        f"{(m['template_id'] or '').replace('_', ' ')} · {m['locale']} {m['channel']}")
            st.text(m["body"])
            found = [f for f in m["findings"] if f.get("severity") != "note"]
            notes = [f for f in m["findings"] if f.get("severity") == "note"]
            st.warning("Why the linter held it:  \n" + "  \n".join(
                f"- **{words.finding(f['rule_id'], f['category'])}**: «{state.plain(f['excerpt'][:80])}» "
                f"{state.plain(f['reason'])}" for f in found) if found else "The linter gave no finding.")
            if notes:
                st.info("What of this case's evidence the text names (shown to supervisors only):  \n" + "  \n".join(
                    f"- «{state.plain(f['excerpt'][:80])}»" for f in notes))
            why = st.text_input("Why it may go despite the findings (kept in the audit trail)", key=f"why-{m['id']}")
            sure = st.checkbox("I have read the findings: this text does not tell the customer what the "
                               "investigation found. Sending cannot be undone.", key=f"confirm-{m['id']}")
            approve, reject = st.columns(2)
            if approve.button("Approve and send", key=f"approve-{m['id']}", disabled=not sure):
                with state.shown():
                    conversations.approve(state.store(), state.actor(), m["id"], reason=why, now=state.now(),
                                          settings=state.settings(),
                                          request_key=state.request_key("approve-message", m["id"]))
                    st.rerun()
            if reject.button("Reject", key=f"reject-{m['id']}"):
                with state.shown():
                    conversations.reject(state.store(), state.actor(), m["id"], note="rejected in the console",
                                         now=state.now(), request_key=state.request_key("reject-message", m["id"]))
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
        rows = standards.inquiry_rows(state.store(), state.actor(), start=start, end=end)
        service = standards.figures(rows, [], min(end, state.now())) | standards.status_updates(
            state.store(), state.actor(), start=start, end=end, now=min(end, state.now()))
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
        st.bar_chart({words.category(k): float(v) for k, v in found["frozen_usd_by_category"].items()})
        st.markdown("**Cases by category and hop**")
        st.bar_chart({f"hop {h}": {words.category(r["category"]): r["cases"]
                                   for r in found["cases_by_category_and_hop"] if r["hop"] == h} for h in (1, 2)})
        st.markdown("**Service standards**")
        e, f = st.columns(2)
        answered = sum(g["received"] - g["unanswered"] for g in service["groups"])
        within = sum(g["first_response_within_target"] for g in service["groups"])
        e.metric("First responses within 5 minutes", f"{within} of {answered}")
        f.metric("Status updates on time", f"{service['updates_on_time']} of {service['updates_due']}")
        per_day = standards.daily(rows)
        left, right = st.columns(2)
        with left:
            st.markdown("**First response (median seconds) against the 5-minute target** (dashed)")
            _against_target([(r["day"], r["first_response_s"]) for r in per_day], standards.FIRST_RESPONSE_TARGET_S,
                            "seconds")
        with right:
            st.markdown("**Time to resolve (median hours) against the 24-hour target** (dashed)")
            _against_target([(r["day"], r["hours_to_resolve"]) for r in per_day], 24, "hours")
        if service["groups"]:
            st.dataframe([{"kind": g["kind"], "channel": g["channel"], "about": words.topic(g["topic"]),
                           "received": g["received"], "resolved": g["resolved"], "open at the end": g["open_at_end"],
                           "mean hours to resolve": g["avg_hours_to_resolve"],
                           "median first response (s)": g["median_first_response_s"],
                           "first responses within 5 minutes": g["first_response_within_target"]}
                          for g in service["groups"]], hide_index=True, width="stretch")
        _satisfaction(start, end)
        raised = alerts.per_day(state.store(), state.actor(), start=start, end=end)
        st.markdown("**Review alerts raised per day, by category**")
        if raised:
            st.bar_chart([{**r, "category": words.category(r["category"])} for r in raised],
                         x="day", y="alerts", color="category", stack=True)
        else:
            st.caption("No alert was raised in this period.")


def _satisfaction(start: datetime, end: datetime) -> None:
    """CSAT (share of survey answers rated 4 or 5) against the 80% target: overall, per week, per agent, channel
    and week, and the latest comments (shown as plain text)."""
    rows = surveys.survey_rows(state.store(), state.actor(), start=start, end=end)
    st.markdown("**Customer satisfaction** (surveys sent in the period; CSAT is the share of answers rated 4 or 5)")
    [overall] = surveys.csat(rows, by=()) or [None]
    g, h = st.columns(2)
    share = overall and overall["csat"]
    g.metric("CSAT", "—" if share is None else f"{share:.0%}",
             help=f"target {surveys.CSAT_TARGET:.0%}; " + (f"{overall['satisfied']} of {overall['answered']} answers "
                                                           f"rated 4 or 5" if overall else "no survey sent"))
    h.metric("Surveys answered", f"{overall['answered']} of {overall['sent']}" if overall else "0 of 0")
    if not rows:
        st.caption("No survey was sent in this period: surveys go out when inquiries are resolved.")
        return
    weekly = surveys.csat(rows, by=("week",))
    _against_target([(w["week"], None if w["csat"] is None else 100 * w["csat"]) for w in weekly],
                    100 * surveys.CSAT_TARGET, "CSAT (%)", axis="week sent")
    st.dataframe([{"agent": r["agent"], "channel": r["channel"], "week": r["week"], "sent": r["sent"],
                   "answered": r["answered"], "rated 4-5": r["satisfied"],
                   "CSAT": None if r["csat"] is None else f"{r['csat']:.0%}",
                   "meets 80%": {True: "✅", False: "❌", None: "—"}[r["meets_target"]]}
                  for r in surveys.csat(rows, by=("agent", "channel", "week"))], hide_index=True, width="stretch")
    said = surveys.comments(state.store(), state.actor(), start=start, end=end, limit=20)
    if said:
        st.markdown("**Latest comments** (the customer's words, as written)")
        st.dataframe([{"answered": state.when(c["answered_at"]), "rating": c["rating"], "agent": c["agent"],
                       "channel": c["channel"], "comment": c["comment"]} for c in said], hide_index=True,
                     width="stretch")


def _against_target(points: list[tuple[str, float | None]], target: float, unit: str, *,
                    axis: str = "day received") -> None:
    """Daily values as points joined by a line, the target as a dashed line; words when there is nothing to draw."""
    import altair as alt

    values = [{"day": day, "value": value} for day, value in points if value is not None]
    if not values:
        st.caption("Nothing was answered or resolved in this period.")
        return
    line = alt.Chart(alt.Data(values=values)).mark_line(point=True).encode(
        x=alt.X("day:N", title=axis), y=alt.Y("value:Q", title=unit), tooltip=["day:N", "value:Q"])
    rule = alt.Chart(alt.Data(values=[{"target": target}])).mark_rule(color="#b91c1c", strokeDash=[4, 4]).encode(
        y="target:Q")
    st.altair_chart(line + rule, width="stretch")
