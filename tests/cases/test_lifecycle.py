"""The lifecycle as data: every state and action pair either moves as the table says or is refused."""

from __future__ import annotations

import pytest

from cases import lifecycle
from cases.errors import IllegalTransition

EXPECTED = {
    ("open", "start_review"): "in_review",
    ("in_review", "request_information"): "awaiting_customer",
    ("awaiting_customer", "customer_replied"): "in_review",
    ("awaiting_customer", "resume_review"): "in_review",
    ("in_review", "propose_release"): "in_review",
    ("in_review", "propose_escalation"): "in_review",
    ("in_review", "reject_proposal"): "in_review",
    ("in_review", "approve_release"): "released",
    ("in_review", "approve_escalation"): "escalated",
    ("released", "close"): "closed",
    ("escalated", "close"): "closed",
}


@pytest.mark.parametrize("state", lifecycle.STATES)
@pytest.mark.parametrize("action", [s.action for s in lifecycle.STEPS])
def test_every_pair_moves_as_the_table_says_or_names_state_and_action(state, action):
    if (state, action) in EXPECTED:
        assert lifecycle.next_state(state, action) == EXPECTED[(state, action)]
    else:
        with pytest.raises(IllegalTransition) as caught:
            lifecycle.next_state(state, action)
        assert caught.value.state == state and caught.value.action == action
        assert state.replace("_", " ") in str(caught.value) and action.replace("_", " ") in str(caught.value)


def test_closed_is_the_end_and_unknown_actions_are_refused():
    assert lifecycle.allowed_actions("closed") == []
    with pytest.raises(IllegalTransition):
        lifecycle.next_state("open", "teleport")


def test_every_step_is_documented_and_leads_somewhere_known():
    for step in lifecycle.STEPS:
        assert step.description.endswith(".")
        assert step.to is None or step.to in lifecycle.STATES
        assert set(step.from_states) <= set(lifecycle.STATES)
