"""Held withdrawals on the alerts page: withdrawals the screening API blocked or sent to review, to close with a reason."""

from __future__ import annotations

import streamlit as st

from cases import withdrawals
from ui.console import state, words

OUTCOMES = {"kept_blocked": "Keep it blocked (do not send)", "released": "Release it (the platform may send)"}


def held_withdrawals() -> None:
    """The open held withdrawals, oldest first, and closing one (released or kept blocked) with a reason."""
    if "held_done" in st.session_state:
        st.success(st.session_state.pop("held_done"))
    with state.shown():
        rows = withdrawals.held(state.store(), state.actor())
        with st.expander(f"Held withdrawals ({len(rows)}{'+' if len(rows) >= 200 else ''})", expanded=bool(rows)):
            st.caption("Withdrawals the screening API blocked or sent to review before the platform sent them "
                       "(docs/api.md). Each waits here until an analyst keeps it blocked or releases it.")
            if not rows:
                st.info("No withdrawal is held.")
                return
            st.dataframe([{"id": w.id, "withdrawal": w.withdrawal_id, "customer": w.customer_id, "chain": w.chain,
                           "destination": w.address, "amount": f"{w.amount} {w.asset}",
                           "USD": None if w.usd_value is None else float(w.usd_value),
                           "decision": w.decision, "rules": ", ".join(w.rule_ids),
                           "categories": words.categories(w.categories), "held": state.when(w.screened_at)}
                          for w in rows], hide_index=True, width="stretch",
                         column_config={"USD": st.column_config.NumberColumn(format="dollar"),
                                        "held": st.column_config.TextColumn(help=state.zone_help())})
            chosen = st.selectbox("Held withdrawal", [w.id for w in rows], key="held_withdrawal",
                                  format_func=lambda i: f"held withdrawal {i}")
            outcome = st.radio("Outcome", list(OUTCOMES), format_func=OUTCOMES.get, key="held_outcome")
            reason = st.text_area("Why", key="held_reason")
            sure = st.checkbox("I confirm this outcome; it is recorded in the audit trail.", key="held_confirm")
            if st.button("Close the held withdrawal", type="primary", disabled=not sure, key="held_close"):
                withdrawals.close(state.store(), state.actor(), chosen, outcome=outcome, reason=reason,
                                  now=state.now())
                st.session_state["held_done"] = f"Done: held withdrawal {chosen} closed ({OUTCOMES[outcome]}; recorded in "\
                                                "the audit trail)"
                st.rerun()
