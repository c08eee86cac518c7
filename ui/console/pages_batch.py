"""Batch scoring from an uploaded deposits file, and what is loaded: lists, policy, deadline rules, templates."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import streamlit as st

from cases.access import may
from cases.deadlines import RULES as DEADLINE_RULES, VERSION as DEADLINE_VERSION
from cases.replies.templates import catalog
from cases.replies.terms import load_terms
from kyt.rules import default_policy
from ui.console import state


class _Bar:
    """kyt.batch progress shown as a Streamlit progress bar."""

    def __init__(self) -> None:
        self.bar = st.progress(0.0, text="starting")
        self.total, self.done, self.name = 1, 0, ""

    def stage(self, name: str, total: int | None = None) -> None:
        self.name, self.total, self.done = name, max(total or 1, 1), 0
        self.bar.progress(0.0 if total else 1.0, text=name)

    def advance(self, amount: int) -> None:
        self.done += amount
        self.bar.progress(min(self.done / self.total, 1.0), text=f"{self.name}: {self.done:,} of {self.total:,}")


def batch_page() -> None:
    """Upload deposits, score them against the loaded lists, see the decisions, open the frozen cases."""
    from cases.opening import open_run
    from graph.times import parse_time
    from kyt import batch

    st.title("Batch scoring")
    sources = state.sources()
    st.caption(" · ".join(f"{k}: {v.name}" for k, v in sources.items()))
    uploaded = st.file_uploader("Deposits file (CSV or Parquet; format: docs/formats.md)", type=["csv", "parquet"])
    role = state.signed()["role"]
    opening = may(role, "open_cases")
    if uploaded is None or not st.button("Score" + (" and open the frozen cases" if opening else ""), type="primary"):
        if not opening:
            st.caption("Your role scores and sees decisions; opening cases is for supervisors and admins.")
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("deposits" + Path(uploaded.name).suffix.lower())  # never the browser's name
        path.write_bytes(uploaded.getvalue())
        request = batch.ScoreRequest(deposits=path, transfers=sources["transfers"], flagged=sources["flagged"],
                                     services=sources["services"], as_of=parse_time(state.now().isoformat()))
        with state.shown():
            bar = _Bar()
            result = batch.score(replace(request, evidence="frozen" if opening else "none"), bar)
            opened = None
            if opening:
                bar.stage("opening cases")
                opened = open_run(state.store(), result, state.now(), actor=state.actor())
            counts = result.decisions.counts()
            st.success(f"{len(result.deposits):,} deposits scored: {counts['freeze']:,} freeze, "
                       f"{counts['review']:,} review, {counts['allow']:,} allow"
                       + (f"; {opened.opened:,} cases opened, {opened.existing:,} already open" if opened else ""))
            cases = opened.case_ids if opened else {}
            st.dataframe([{"deposit": r.deposit_id, "decision": r.decision, "rules": ", ".join(r.rule_ids),
                           "case": cases.get(r.deposit_id)} for r in result.records()],
                         hide_index=True, width="stretch")


def rules_page() -> None:
    """What is loaded: flagged lists with their sources, the policy and its version, deadline rules, templates, terms."""
    from graph.times import parse_time
    from kyt.lists import flag_summary

    st.title("Lists, rules and templates")
    sources = state.sources()
    st.markdown(f"### Flagged lists · `{sources['flagged']}`")
    with state.shown():
        st.dataframe(flag_summary(sources["flagged"], parse_time(state.now().isoformat())), hide_index=True,
                     width="stretch")
    policy = default_policy()
    st.markdown(f"### Policy {policy.name} version {policy.version}")
    st.caption(policy.description)
    st.dataframe([{"rule": r.id, "category": r.category, "hop": r.hop,
                   "min share": "unknown value" if r.unpriced else str(r.min_share),
                   "min USD": "unknown value" if r.unpriced else str(r.min_usd), "action": r.action, "what it says": r.description} for r in policy.rules],
                 hide_index=True, width="stretch")
    st.markdown(f"### Deadline rules (version {DEADLINE_VERSION})")
    st.dataframe([{k: v for k, v in asdict(r).items() if v is not None} for r in DEADLINE_RULES],
                 hide_index=True, width="stretch")
    st.markdown("### Reply templates")
    st.dataframe([{"template": i.id, "title": i.title, "purpose": i.purpose, "offered when": ", ".join(i.customer_states)}
                  for i in catalog().infos.values()], hide_index=True, width="stretch")
    st.markdown("### Tipping-off terms")
    st.dataframe([{"term": t.id, "category": t.category, "severity": t.severity, "scope": t.scope,
                   "languages": ", ".join(t.languages), "reason": t.reason} for t in load_terms()],
                 hide_index=True, width="stretch")
