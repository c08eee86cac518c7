"""The support agent's page: look a case up, see what the customer may know, send an approved reply.

Nothing of the evidence, exposures, notes or reports is fetched here: the page calls only
the customer-safe view and the reply services.
"""

from __future__ import annotations

import streamlit as st

from cases import queries
from cases.replies import conversations, views
from cases.replies.templates import LOCALES
from ui.console import state

STATUS_WORDS = {"under_review": "Under review", "awaiting_your_information": "Waiting for the customer's information",
                "released": "Released", "closed": "Closed"}


def support_page() -> None:
    """Look up by tracking number, customer id or deposit transaction hash."""
    st.title("Customer support")
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
        labels = [f"{v.tracking_number} · {v.amount} {v.asset} · {STATUS_WORDS[v.status]}" for v in found]
        view = found[labels.index(st.selectbox("Case", labels))] if len(found) > 1 else found[0]
        _status(view)
        _messages(view)
        _reply(view)


def _status(view) -> None:
    st.subheader(f"{view.tracking_number}: {STATUS_WORDS[view.status]}")
    st.markdown(f"**Customer** {state.plain(view.customer_id)}  \n**Deposit** {view.amount} {state.plain(view.asset)} on "
                f"{state.when(view.deposit_time)}  \n**Next update due** {state.when(view.next_update_due)}")


def _messages(view) -> None:
    sent = views.messages(state.store(), state.actor(), view.case_id)
    with st.expander(f"Messages ({len(sent)})", expanded=False):
        for m in sent:
            arrow = "←" if m["direction"] == "in" else "→"
            st.markdown(f"{arrow} **{state.when(m['at'])}** · {m['channel']} · {m['template_id'] or 'customer'} · "
                        f"{m['status']}")
            st.text(m["body"])


def _reply(view) -> None:
    st.markdown("### Reply")
    offered = views.offered_templates(state.store(), state.actor(), view.case_id, settings=state.settings())
    left, middle, right = st.columns(3)
    titles = {info.title: info for info in offered}
    info = titles[left.selectbox("Template", list(titles))]
    locale = middle.selectbox("Language", LOCALES, key="reply_locale")
    channel = right.selectbox("Channel", ("email", "chat"), key="reply_channel")
    name = st.text_input("Customer's name (for the greeting)", key="reply_name")
    st.caption(info.purpose)
    draft = views.draft(state.store(), state.actor(), view.case_id, template_id=info.id, locale=locale, channel=channel,
                        now=state.now(), text=None, customer_name=name or None, settings=state.settings())
    if draft.rendered.subject:
        st.markdown(f"**Subject:** {state.plain(draft.rendered.subject)}")
    st.code(draft.rendered.body, language=None, wrap_lines=True)
    key = f"edit-{view.case_id}-{info.id}-{locale}-{channel}"
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
    if st.button("Send", type="primary", disabled=verdict.status == "blocked"):
        with state.shown():
            message = conversations.send(state.store(), state.actor(), view.case_id, template_id=info.id, locale=locale,
                                         channel=channel, now=state.now(), text=text if checked.edited else None,
                                         customer_name=name or None, settings=state.settings())
            if message.status == "sent":
                st.success(f"Sent (message {message.id}); recorded on the case.")
            else:
                st.info(f"Held for a supervisor's approval (message {message.id}).")
