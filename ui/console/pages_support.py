"""The support agent's page: the inbox of inquiries, a case looked up, an approved reply sent, an inquiry resolved.

Nothing of the evidence, exposures, notes or reports is fetched here: the page calls only
the inbox, the customer-safe view and the reply services.
"""

from __future__ import annotations

import streamlit as st

from cases import queries
from cases.replies import conversations, inbox, surveys, views
from cases.replies.templates import LOCALES
from ui.console import state, words


def support_page() -> None:
    """The inbox first; a lookup by tracking number, customer id or deposit transaction hash beside it."""
    st.title("Customer support")
    if "support_done" in st.session_state:
        st.success(st.session_state.pop("support_done"))
    inbox_tab, lookup_tab = st.tabs(["Inbox", "Look up a case"], key="support_tabs", on_change="rerun")
    with inbox_tab:
        _inbox()
    with lookup_tab:
        _lookup()


def _inbox() -> None:
    left, right = st.columns([1, 2])
    shown = left.radio("Show", ("open", "resolved", "all"), horizontal=True, key="inbox_shown")
    tracking = right.text_input("Tracking number", key="inbox_tracking", placeholder="FC-7KQ2-9XMD")
    with state.shown():
        rows = inbox.inbox(state.store(), state.actor(), shown=shown, tracking_number=tracking or None)
        moment = state.now()
        figures = inbox.response_times(rows, moment)
        a, b, c = st.columns(3)
        a.metric("Open", figures["open"], help="inquiries not yet resolved")
        b.metric("Past the 24-hour target", figures["overdue"])
        c.metric("Resolved within 24 hours", f"{figures['resolved_within_target']} of {figures['resolved']}",
                 help=f"median {figures['median_hours_to_resolve']} h" if figures["resolved"] else "none resolved yet")
        linked = st.query_params.get("inquiry")
        if linked and linked.isdigit() and int(linked) not in [r.id for r in rows]:  # a link to one not listed
            rows.insert(0, inbox.inquiry(state.store(), state.actor(), int(linked)))
        if not rows:
            st.info("No inquiry here. New inquiries arrive with `kyt reply receive` or the platform's support channel.")
            return
        st.dataframe([{"inquiry": r.id, "tracking": r.tracking_number, "customer": r.customer_id,
                       "about": words.topic(r.topic), "kind": r.kind, "channel": r.channel,
                       "received": state.when(r.received_at),
                       "first response": ("✓ " + state.when(r.first_response_at)) if r.first_response_at else "due "
                       + state.when(r.first_response_due),
                       "answered": state.when(r.last_reply_at), "resolve by": state.when(r.resolution_due),
                       "state": words.inquiry_state(r.state(moment))} for r in rows],
                     hide_index=True, width="stretch",
                     column_config={"received": st.column_config.TextColumn(help=state.zone_help())})
        ids = [r.id for r in rows]
        start = ids.index(int(linked)) if linked and linked.isdigit() else 0
        chosen = st.selectbox("Inquiry", ids, index=start, format_func=lambda i: f"inquiry {i}")
        if st.query_params.get("inquiry") != str(chosen):
            st.query_params["inquiry"] = str(chosen)
        _inquiry(next(r for r in rows if r.id == chosen))


def _inquiry(row) -> None:
    st.subheader(f"{row.tracking_number} · {words.inquiry_state(row.state(state.now()))}")
    st.markdown(f"**Customer** {state.plain(row.customer_id)} · **about** {words.topic(row.topic)} · "
                f"{row.kind} by {row.channel}, in {words.language(row.locale)}  \n**Case status the customer may know** "
                f"{words.customer_status(row.case_status) if row.case_status else 'no case'}",
                help=f"Received {state.utc(row.received_at)}; resolve by {state.utc(row.resolution_due)}")
    st.markdown("**The customer wrote**")
    st.text(row.customer_words)
    if row.case_id is not None:
        view = queries.customer_view(state.store(), state.actor(), tracking_number=row.tracking_number)[0]
        _messages(view)
        _reply(view, inquiry_id=row.id if row.resolved_at is None else None)
    if row.resolved_at is None:
        if st.button("Mark resolved", key=f"resolve-{row.id}"):
            with state.shown():
                conversations.resolve(state.store(), state.actor(), row.id, now=state.now(),
                                      request_key=state.request_key("resolve", row.id), settings=state.settings())
                st.session_state["support_done"] = f"Inquiry {row.id} resolved. " + (
                    "The customer was sent the satisfaction survey." if surveys.sent(
                        state.store(), state.actor(), row.id) else "No satisfaction survey went out (the linter "
                                                                   "held its text).")
                st.rerun()
    else:
        st.caption(f"Resolved at {state.when(row.resolved_at)}.")


def _lookup() -> None:
    how = st.radio("Look up by", ("tracking number", "customer id", "deposit tx hash"), horizontal=True)
    typed = st.text_input("Look up", key="support_lookup", placeholder="FC-7KQ2-9XMD")
    if not typed.strip():
        st.info("Type what the customer gave you.")
        return
    with state.shown():
        field = {"tracking number": "tracking_number", "customer id": "customer_id", "deposit tx hash": "tx_hash"}[how]
        found = queries.customer_view(state.store(), state.actor(), **{field: typed})
        if not found:
            st.warning("No case matches.")
            return
        labels = [f"{v.tracking_number} · {v.amount} {v.asset} · {words.customer_status(v.status)}" for v in found]
        view = found[labels.index(st.selectbox("Case", labels))] if len(found) > 1 else found[0]
        _status(view)
        _messages(view)
        _reply(view)


def _status(view) -> None:
    st.subheader(f"{view.tracking_number}: {words.customer_status(view.status)}")
    st.markdown(f"**Customer** {state.plain(view.customer_id)}  \n**Deposit** {view.amount} {state.plain(view.asset)} on "
                f"{state.when(view.deposit_time)}  \n**Next update due** {state.when(view.next_update_due)}")


def _messages(view) -> None:
    sent = views.messages(state.store(), state.actor(), view.case_id)
    with st.expander(f"Messages ({len(sent)})", expanded=False):
        for m in sent:
            arrow = "←" if m["direction"] == "in" else "→"
            st.markdown(f"{arrow} **{state.when(m['at'])}** · {m['channel']} · "
                        f"{(m['template_id'] or 'customer').replace('_', ' ')} · {words.message_status(m['status'])}")
            st.text(m["body"])


def _reply(view, inquiry_id: int | None = None) -> None:
    st.markdown("### Reply")
    offered = views.offered_templates(state.store(), state.actor(), view.case_id, settings=state.settings())
    left, middle, right = st.columns(3)
    titles = {info.title: info for info in offered}
    info = titles[left.selectbox("Template", list(titles), key=f"template-{inquiry_id}")]
    locale = middle.selectbox("Language", LOCALES, key=f"reply_locale-{inquiry_id}", format_func=words.language)
    channel = right.selectbox("Channel", ("email", "chat"), key=f"reply_channel-{inquiry_id}")
    name = st.text_input("Customer's name (for the greeting)", key=f"reply_name-{inquiry_id}")
    st.caption(info.purpose)
    draft = views.draft(state.store(), state.actor(), view.case_id, template_id=info.id, locale=locale, channel=channel,
                        now=state.now(), text=None, customer_name=name or None, settings=state.settings())
    if draft.rendered.subject:
        st.markdown(f"**Subject:** {state.plain(draft.rendered.subject)}")
    st.code(draft.rendered.body, language=None, wrap_lines=True)
    key = f"edit-{view.case_id}-{info.id}-{locale}-{channel}-{inquiry_id}"
    text = st.text_area("Edit before sending (checked as you go)", value=draft.rendered.body, key=key, height=220)
    checked = views.draft(state.store(), state.actor(), view.case_id, template_id=info.id, locale=locale,
                          channel=channel, now=state.now(), text=text, customer_name=name or None,
                          settings=state.settings())
    verdict = checked.verdict
    if verdict.status == "blocked":
        st.error("Blocked: this text would tip the customer off. "
                 + " ".join(f"«{f.excerpt}» {f.reason}." for f in verdict.blocking))
    elif verdict.status == "warn":
        st.warning("Needs a supervisor's approval before it goes: "
                   + " ".join(f"«{f.excerpt[:60]}» {f.reason}." for f in verdict.findings))
    else:
        st.success("Clean: nothing in this text tips the customer off.")
    if st.button("Send", type="primary", disabled=verdict.status == "blocked", key=f"send-{inquiry_id}"):
        with state.shown():
            message = conversations.send(state.store(), state.actor(), view.case_id, template_id=info.id, locale=locale,
                                         channel=channel, now=state.now(), text=text if checked.edited else None,
                                         customer_name=name or None, settings=state.settings(), inquiry_id=inquiry_id,
                                         request_key=state.request_key("send", view.case_id, inquiry_id, state.now().date(),
                                                                       info.id, locale, channel, text))
            # the same text on the same case (and inquiry) on the same day is one request: a second click sends nothing
            if message.status == "sent":
                st.success(f"Sent (message {message.id}); recorded on the case.")
            else:
                st.info(f"Held for a supervisor's approval (message {message.id}).")
