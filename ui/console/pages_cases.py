"""Analysts' pages: the queue (server-side pages, filters, deadline badges) and one case with its timeline.

The case's actions are in ui.console.case_actions.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import streamlit as st

from cases import queries, timeline
from cases.queries import QueueFilter
from ui.console import state, words
from ui.console.case_actions import actions, conflict_notice
from ui.console.provenance import provenance_graph, to_dot

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
        status = left.selectbox("Status", STATUSES, format_func=lambda s: s if s == "open (all)" else words.status(s))
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
        rows = [{"id": r.id, "tracking": r.tracking_number, "status": words.status(r.status), "customer": r.customer_id,
                 "USD": None if r.usd_value is None else float(r.usd_value), "categories": words.categories(r.categories),
                 "hop": r.min_hop, "assignee": r.assignee or "", "next due": state.when(r.next_due_at),
                 "deadlines": _badge(r),
                 **({"priority": "not ranked" if r.priority is None else
                     f"{r.priority:.2f} · {r.queue_order} order · {r.priority_model}"} if by_priority else {})}
                for r in found.rows]
        total = f"{found.total:,}{'+' if found.more else ''}"
        st.caption(f"{total} cases · page {found.page} · " + (
            "each deadline day by triage priority" if by_priority else "nearest deadline first"))
        if not rows:
            st.info("No case matches. Clear the filters, or look at the alerts waiting for review.")
            return
        st.dataframe(rows, hide_index=True, width="stretch",
                     column_config={"USD": st.column_config.NumberColumn(format="dollar", help="None when the asset has no USD price (unknown, never $0)"),
                                    "next due": st.column_config.TextColumn(help=state.zone_help())})
        previous, following, _ = st.columns([1, 1, 6])
        if previous.button("◀ Previous", disabled=page <= 1):
            st.session_state["queue_page"] = page - 1
            st.rerun()
        if following.button("Next ▶", disabled=page * page_size >= found.total and not found.more):
            st.session_state["queue_page"] = page + 1
            st.rerun()
        choice = st.selectbox("Open a case", [f"{r['id']} · {r['tracking']} · {r['customer']}" for r in rows])
        if st.button("Open case", type="primary"):
            case_id = int(choice.split(" · ")[0])
            st.session_state["case_id"] = case_id
            st.switch_page(st.session_state["pages"]["case"], query_params={"case": str(case_id)})


def case_page() -> None:
    """One case: deposit, decision, exposures, provenance picture beside the timeline, evidence, and the actions."""
    st.title("Case")
    linked = st.query_params.get("case")
    chosen = linked or st.session_state.get("case_id")
    typed = st.text_input("Case id or tracking number", value=str(chosen or ""))
    if not typed.strip():
        st.info("Open a case from the queue, or type its id or tracking number.")
        return
    with state.shown():
        case_id = _resolve(typed.strip())
        detail = queries.show(state.store(), state.actor(), case_id)
        st.session_state["case_id"] = case_id
        if st.query_params.get("case") != str(case_id):
            st.query_params["case"] = str(case_id)  # the address bar is a link to this case
        # an action applies to the case as the user last saw it on screen, not as this run reloaded it
        seen = st.session_state.get("seen_version", {}).get(case_id, detail.case.version)
        st.session_state["seen_version"] = {case_id: detail.case.version}
        conflict_notice(detail)
        _case_view(detail)
        actions(detail, seen)


def _resolve(typed: str) -> int:
    if typed.isdigit():
        return int(typed)
    views = queries.customer_view(state.store(), state.actor(), tracking_number=typed)
    if not views:
        return -1
    return views[0].case_id


def _case_view(detail) -> None:
    case = detail.case
    st.subheader(f"{case.tracking_number} · {words.status(case.status)}"
                 + (f" · {case.outcome}" if case.outcome else ""))
    left, right = st.columns(2)
    left.markdown(f"**Customer** {state.plain(case.customer_id)}  \n**Deposit** {case.amount} {state.plain(case.asset)} "
                  f"({state.money(case.usd_value)}) on {state.when(case.deposit_time)}  \n"
                  f"**Chain** {state.plain(case.chain)}  \n**Transaction** `{case.tx_hash}`  \n"
                  f"**From** `{case.from_address}`  \n**To** `{case.to_address}`",
                  help=f"Deposit time in UTC: {state.utc(case.deposit_time)}")
    right.markdown(f"**Decision** {words.decision(case.decision)} · snapshot `{case.snapshot_id[:12]}`  \n"
                   f"**Categories** {words.categories(case.categories)}  \n"
                   f"**Jurisdictions** {', '.join(case.jurisdictions)}  \n**Assignee** {state.plain(case.assignee) or '—'}"
                   f"  \n**Opened** {state.when(case.opened_at)} · **next due** {state.when(case.next_due_at)}",
                   help=f"In UTC: opened {state.utc(case.opened_at)}, next due {state.utc(case.next_due_at)}")
    if case.snapshot.get("from_alert"):
        st.info(f"Opened from review alert {case.snapshot['from_alert']} by {state.plain(case.snapshot['opened_by'])}: "
                f"{state.plain((case.snapshot.get('reason') or '').rstrip('.'))}. A review alert keeps its rules and categories but not "
                "its exposures; re-screen the deposit (`kyt rescreen`) for the evidence.")
    st.markdown("**Matched rules**")
    st.dataframe([{"rule": r, "what it says": words.rule_sentence(r)} for r in case.rule_ids], hide_index=True,
                 width="stretch")
    if case.sender_risk:
        st.markdown(words.sender_risk(case.sender_risk))
    st.markdown("**Exposures by category and hop**")
    if detail.exposures:
        st.dataframe([{"category": words.category(e["category"]), "hop": e["hop"],
                       "share": "unknown (no price)" if e["share"] is None else f"{Decimal(e['share']):.2%}",
                       "USD": state.money(None if e["usd"] is None else Decimal(e["usd"])),
                       "transfers without a price": (e.get("evidence") or {}).get("unpriced_transfers", 0)}
                      for e in detail.exposures], hide_index=True, width="stretch")
    else:
        st.caption("No exposure is kept with this case.")
    picture, history = st.columns([1, 1])
    with picture:
        st.markdown("**Provenance**")
        st.graphviz_chart(to_dot(provenance_graph(case.model_dump(), detail.exposures)), width="stretch")
    with history:
        _timeline(case.id)
    st.markdown("**Evidence**")
    sources = [s for e in detail.exposures for s in e["evidence"].get("sources", [])]
    if not sources:
        st.caption("No flagged source is kept with this case.")
        return _deadlines_and_notes(detail)
    st.dataframe([{"category": words.category(e["category"]), "hop": e["hop"], "source": s["address"],
                   "USD": state.money(Decimal(s["usd_micro"]) / 1_000_000), "transfers": s["transfers"],
                   "tx hashes": ", ".join(s["tx_hashes"]), "lists": "; ".join(s["lists"])}
                  for e in detail.exposures for s in e["evidence"].get("sources", [])],
                 hide_index=True, width="stretch")
    _deadlines_and_notes(detail)


def _deadlines_and_notes(detail) -> None:
    with st.expander(f"Deadlines ({len(detail.deadlines)})"):
        st.dataframe([{"rule": d["rule_id"], "where": d["jurisdiction"], "due": state.when(d["due_at"]),
                       "at risk from": state.when(d["warn_at"]), "status": d["status"]} for d in detail.deadlines],
                     hide_index=True, width="stretch",
                     column_config={"due": st.column_config.TextColumn(help=state.zone_help())})
    with st.expander(f"Proposals and notes ({len(detail.proposals)} / {len(detail.notes)})"):
        for p in detail.proposals:
            st.markdown(f"- **{p['kind']}** by {state.plain(p['proposed_by'])} ({p['status']}): {state.plain(p['reason'])}")
        for n in detail.notes:
            st.markdown(f"- note by {state.plain(n['author'])} at {state.when(n['written_at'])}: {state.plain(n['body'])}")


def _timeline(case_id: int) -> None:
    """Every recorded event of the case, newest first, and the deadlines still ahead."""
    entries = timeline.timeline(state.store(), state.actor(), case_id, now=state.now())
    past = [e for e in entries if not e.ahead]
    ahead = [e for e in entries if e.ahead]
    st.markdown(f"**Timeline** ({len(past)} events)")
    with st.container(height=420, border=True):
        for entry in ahead[:3]:
            st.markdown(f"**Ahead: {state.when(entry.at)}** · {entry.title}  \n{state.plain(entry.detail)}",
                        help=state.utc(entry.at))
        for entry in reversed(past):
            st.markdown(f"**{state.when(entry.at)}** · {state.plain(entry.actor)} · {entry.title}"
                        + (f"  \n{state.plain(entry.detail)}" if entry.detail else ""), help=state.utc(entry.at))
            if entry.message:
                st.text(entry.message[:1500])
