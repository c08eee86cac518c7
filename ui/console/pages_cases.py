"""Analysts' pages: the queue (server-side pages, filters, deadline badges) and one case with its actions."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation

import streamlit as st

from cases import queries, service
from cases.queries import QueueFilter
from cases.replies import conversations
from cases.replies.templates import LOCALES
from kyt.rules import default_policy
from ui.console import state
from ui.console.provenance import provenance_graph, to_dot

SIMPLE_STEPS = {"start_review": "Start the review", "customer_replied": "The customer replied",
                "resume_review": "Resume the review without the customer", "close": "Close the case"}
STATUSES = ("open (all)", "open", "in_review", "awaiting_customer", "released", "escalated", "closed")


def _amount(text: str, label: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        st.warning(f"{label}: {text!r} is not an amount; ignored")
        return None
    return value


def _badge(row) -> str:
    if row.overdue:
        return "🔴 overdue: " + ", ".join(row.overdue)
    if row.at_risk:
        return "🟠 at risk: " + ", ".join(row.at_risk)
    return ""


def queue_page() -> None:
    """Open cases, nearest deadline first, one page at a time."""
    st.title("Queue")
    with st.expander("Filters", expanded=False):
        left, middle, right = st.columns(3)
        status = left.selectbox("Status", STATUSES)
        category = middle.text_input("Category", placeholder="e.g. sanctions")
        hop = right.selectbox("Hop", ("any", 1, 2))
        jurisdiction = left.text_input("Jurisdiction", placeholder="e.g. NY")
        assignee = middle.text_input("Assignee")
        min_usd = right.text_input("Min USD")
        max_usd = right.text_input("Max USD")
    order = st.radio("Order", ("nearest deadline", "triage priority within each deadline day"), horizontal=True,
                     help="Triage priority comes from `kyt model rank`; a share of cases always stays in rule order.")
    by_priority = order.startswith("triage")
    st.session_state["queue_view"] = "priority" if by_priority else "deadline"
    page_size = 50
    page = st.session_state.get("queue_page", 1)
    with state.shown():
        chosen = QueueFilter(status=None if status == "open (all)" else status, category=category or None,
                             hop=None if hop == "any" else hop, jurisdiction=jurisdiction or None,
                             assignee=assignee or None, min_usd=_amount(min_usd, "Min USD"),
                             max_usd=_amount(max_usd, "Max USD"), order="priority" if by_priority else "deadline",
                             page=page, page_size=page_size)
        found = queries.queue(state.store(), chosen, actor=state.actor(), now=state.now())
        rows = [{"id": r.id, "tracking": r.tracking_number, "status": r.status, "customer": r.customer_id,
                 "USD": None if r.usd_value is None else float(r.usd_value), "categories": ", ".join(r.categories), "hop": r.min_hop,
                 "assignee": r.assignee or "", "next due": state.when(r.next_due_at), "deadlines": _badge(r),
                 **({"priority": "not ranked" if r.priority is None else
                     f"{r.priority:.2f} · {r.queue_order} order · {r.priority_model}"} if by_priority else {})}
                for r in found.rows]
        total = f"{found.total:,}{'+' if found.more else ''}"
        st.caption(f"{total} cases · page {found.page} · " + (
            "each deadline day by triage priority" if by_priority else "nearest deadline first"))
        st.dataframe(rows, hide_index=True, width="stretch",
                     column_config={"USD": st.column_config.NumberColumn(format="$%.2f")})
        previous, following, _ = st.columns([1, 1, 6])
        if previous.button("◀ Previous", disabled=page <= 1):
            st.session_state["queue_page"] = page - 1
            st.rerun()
        if following.button("Next ▶", disabled=page * page_size >= found.total and not found.more):
            st.session_state["queue_page"] = page + 1
            st.rerun()
        if rows:
            choice = st.selectbox("Open a case", [f"{r['id']} · {r['tracking']} · {r['customer']}" for r in rows])
            if st.button("Open case", type="primary"):
                st.session_state["case_id"] = int(choice.split(" · ")[0])
                st.switch_page(st.session_state["pages"]["case"])


def _rule_descriptions(rule_ids: list[str]) -> list[dict]:
    from kyt.sender_risk import MODEL_RULE

    rules = {rule.id: rule for rule in default_policy().rules + (MODEL_RULE,)}
    return [{"rule": r, "what it says": rules[r].description if r in rules else "(not in the shipped policy)"}
            for r in rule_ids]


def case_page() -> None:
    """One case: deposit, decision, exposures, provenance picture, evidence, deadlines, and the actions."""
    st.title("Case")
    chosen = st.session_state.get("case_id") or st.query_params.get("case")
    typed = st.text_input("Case id or tracking number", value=str(chosen or ""))
    if not typed.strip():
        st.info("Open a case from the queue, or type its id.")
        return
    with state.shown():
        case_id = _resolve(typed.strip())
        detail = queries.show(state.store(), state.actor(), case_id)
        st.session_state["case_id"] = case_id
        _case_view(detail)
        _actions(detail)


def _resolve(typed: str) -> int:
    if typed.isdigit():
        return int(typed)
    views = queries.customer_view(state.store(), state.actor(), tracking_number=typed)
    if not views:
        return -1
    return views[0].case_id


def _case_view(detail) -> None:
    case = detail.case
    st.subheader(f"{case.tracking_number} · {case.status.replace('_', ' ')}" + (f" · {case.outcome}" if case.outcome else ""))
    left, right = st.columns(2)
    left.markdown(f"**Customer** {case.customer_id}  \n**Deposit** {case.amount} {case.asset} "
                  f"({state.money(case.usd_value)}) on {state.when(case.deposit_time)}  \n"
                  f"**Transaction** `{case.tx_hash}`  \n**From** `{case.from_address}`  \n**To** `{case.to_address}`")
    right.markdown(f"**Decision** {case.decision} · snapshot `{case.snapshot_id[:12]}`  \n"
                   f"**Jurisdictions** {', '.join(case.jurisdictions)}  \n**Assignee** {case.assignee or '—'}  \n"
                   f"**Opened** {state.when(case.opened_at)} · **next due** {state.when(case.next_due_at)}")
    st.markdown("**Matched rules**")
    st.dataframe(_rule_descriptions(case.rule_ids), hide_index=True, width="stretch")
    if case.sender_risk:
        risk = case.sender_risk
        reasons = ", ".join(f"{name} (+{weight:.0%})" for name, weight in risk.get("top_features", [])) or "none above its median"
        st.markdown(f"**Sender's address risk** {risk['probability']:.0%} by model `{risk['model']}` (reviews from "
                    f"{risk['threshold']:.0%}; it ranks, it never freezes) · raised most by: {reasons}")
    st.markdown("**Exposures by category and hop**")
    st.dataframe([{"category": e["category"], "hop": e["hop"],
                   "share": "unknown (no price)" if e["share"] is None else f"{Decimal(e['share']):.2%}",
                   "USD": state.money(None if e["usd"] is None else Decimal(e["usd"])),
                   "transfers without a price": (e.get("evidence") or {}).get("unpriced_transfers", 0)}
                  for e in detail.exposures],
                 hide_index=True, width="stretch")
    st.markdown("**Provenance**")
    st.graphviz_chart(to_dot(provenance_graph(case.model_dump(), detail.exposures)), width="stretch")
    st.markdown("**Evidence**")
    st.dataframe([{"category": e["category"], "hop": e["hop"], "source": s["address"],
                   "USD": state.money(Decimal(s["usd_micro"]) / 1_000_000), "transfers": s["transfers"],
                   "tx hashes": ", ".join(s["tx_hashes"]), "lists": "; ".join(s["lists"])}
                  for e in detail.exposures for s in e["evidence"].get("sources", [])],
                 hide_index=True, width="stretch")
    with st.expander(f"Deadlines ({len(detail.deadlines)})"):
        st.dataframe([{"rule": d["rule_id"], "where": d["jurisdiction"], "due": state.when(d["due_at"]),
                       "at risk from": state.when(d["warn_at"]), "status": d["status"]} for d in detail.deadlines],
                     hide_index=True, width="stretch")
    with st.expander(f"Proposals, notes and messages ({len(detail.proposals)} / {len(detail.notes)})"):
        for p in detail.proposals:
            st.markdown(f"- **{p['kind']}** by {state.plain(p['proposed_by'])} ({p['status']}): {state.plain(p['reason'])}")
        for n in detail.notes:
            st.markdown(f"- note by {state.plain(n['author'])} at {state.when(n['written_at'])}: {state.plain(n['body'])}")


def _changed(before, after) -> None:
    st.session_state["changed"] = (f"status {before.status} → {after.status}, version {before.version} → "
                                   f"{after.version}" if before.status != after.status else
                                   f"version {before.version} → {after.version}")


def _actions(detail) -> None:
    case = detail.case
    if "changed" in st.session_state:
        st.success("Done: " + st.session_state.pop("changed") + " (recorded in the audit trail)")
    st.markdown("### Actions")
    store, actor, now = state.store(), state.actor(), state.now()
    tabs = st.tabs(["Progress", "Assign", "Note", "Request source of funds", "Propose", "Approve", "Snooze"])
    with tabs[0]:
        simple = [a for a in detail.allowed_actions if a in SIMPLE_STEPS]
        if not simple:
            st.caption("No step can be taken from here without a proposal or approval.")
        for action in simple:
            if st.button(SIMPLE_STEPS[action], key=f"step-{action}"):
                with state.shown():
                    _changed(case,
                             service.transition(store, actor, case.id, action=action, now=now,
                                                expected_version=case.version,
                                                queue_view=st.session_state.get("queue_view")))
                    st.rerun()
    tabs = tabs[1:]
    with tabs[0]:
        who = st.text_input("Assign to (user name; empty to unassign)", key="assign_to")
        if st.button("Assign"):
            with state.shown():
                _changed(case,
                         service.assign(store, actor, case.id, assignee=who.strip() or None, now=now,
                                        expected_version=case.version))
                st.rerun()
    with tabs[1]:
        body = st.text_area("Note", key="note_body")
        if st.button("Add note"):
            with state.shown():
                service.add_note(store, actor, case.id, body=body, now=now)
                st.session_state["changed"] = "note added"
                st.rerun()
    with tabs[2]:
        locale = st.selectbox("Customer's language", LOCALES, key="sof_locale")
        channel = st.selectbox("Channel", ("email", "chat"), key="sof_channel")
        if st.button("Send the request"):
            with state.shown():
                message = conversations.request_source_of_funds(store, actor, case.id, locale=locale, channel=channel,
                                                                now=now, settings=state.settings())
                st.session_state["changed"] = f"customer asked for the source of funds (message {message.id})"
                st.rerun()
    with tabs[3]:
        kind = st.radio("Propose", ("release", "escalation"), horizontal=True)
        reason = st.text_area("Reason", key="propose_reason")
        if st.button("Propose"):
            with state.shown():
                service.propose(store, actor, case.id, kind=kind, reason=reason, now=now, expected_version=case.version)
                st.session_state["changed"] = f"{kind} proposed; a supervisor other than you must approve it"
                st.rerun()
    with tabs[4]:
        pending = [p for p in detail.proposals if p["status"] == "pending"]
        if not pending:
            st.caption("No proposal is waiting.")
        else:
            st.markdown(f"{pending[0]['kind']} proposed by {state.plain(pending[0]['proposed_by'])}: "
                        f"{state.plain(pending[0]['reason'])}")
            ref = st.text_input("Report reference (escalation)", key="report_ref")
            note = st.text_input("Note", key="approve_note")
            approve, reject = st.columns(2)
            if approve.button("Approve", type="primary"):
                with state.shown():
                    _changed(case,
                             service.approve(store, actor, case.id, now=now, expected_version=case.version, note=note,
                                             report_ref=ref or None, report_date=now if ref else None))
                    st.rerun()
            if reject.button("Reject"):
                with state.shown():
                    service.reject(store, actor, case.id, note=note or "rejected", now=now,
                                   expected_version=case.version)
                    st.session_state["changed"] = "proposal rejected"
                    st.rerun()
    with tabs[5]:
        until = st.date_input("Snooze until", value=(now + timedelta(days=1)).date())
        why = st.text_input("Why", key="snooze_reason")
        if st.button("Snooze"):
            with state.shown():
                moment = datetime.combine(until, time(9), tzinfo=timezone.utc)
                _changed(case,
                         service.snooze(store, actor, case.id, until=moment, reason=why, now=now,
                                        expected_version=case.version))
                st.rerun()
