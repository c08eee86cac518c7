"""The case lifecycle as data: which action leads from which state to which, and who may take it.

open -> in_review -> awaiting_customer -> in_review -> released | escalated -> closed.
Release and escalation go through a proposal that a second person approves (four eyes).

>>> next_state("open", "start_review")
'in_review'
>>> allowed_actions("released")
['close']
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.errors import IllegalTransition

STATES = ("open", "in_review", "awaiting_customer", "released", "escalated", "closed")
OPEN_STATES = ("open", "in_review", "awaiting_customer")
"""States in which the deposit is frozen and the case is worked (the queue)."""


@dataclass(frozen=True)
class Step:
    """One action of the lifecycle: the states it may start from, where it leads, who may take it."""

    action: str
    from_states: tuple[str, ...]
    to: str | None
    """The new state; None when the action leaves the state as it is."""
    permission: str
    description: str


STEPS: tuple[Step, ...] = (
    Step("start_review", ("open",), "in_review", "work_case", "An analyst starts looking at the case."),
    Step("request_information", ("in_review",), "awaiting_customer", "work_case",
         "The customer is asked for information, such as the source of the funds."),
    Step("customer_replied", ("awaiting_customer",), "in_review", "work_case",
         "The customer's answer arrived; the review goes on."),
    Step("resume_review", ("awaiting_customer",), "in_review", "work_case",
         "The review goes on without the customer's answer."),
    Step("propose_release", ("in_review",), None, "work_case",
         "Propose to release the funds; a supervisor other than the proposer must approve."),
    Step("propose_escalation", ("in_review",), None, "work_case",
         "Propose to report the case (SAR/STR); a supervisor other than the proposer must approve."),
    Step("reject_proposal", ("in_review",), None, "approve", "A supervisor turns the pending proposal down."),
    Step("approve_release", ("in_review",), "released", "approve", "A second person approves the release."),
    Step("approve_escalation", ("in_review",), "escalated", "approve",
         "A second person approves the report; the report reference and date are recorded."),
    Step("close", ("released", "escalated"), "closed", "work_case", "The case is finished."),
)
BY_ACTION = {step.action: step for step in STEPS}


def step(action: str) -> Step:
    """The step for an action name (IllegalTransition for an unknown one)."""
    try:
        return BY_ACTION[action]
    except KeyError:
        raise IllegalTransition("any state", action, sorted(BY_ACTION)) from None


def allowed_actions(state: str) -> list[str]:
    """The actions that may start from `state`, in lifecycle order."""
    return [s.action for s in STEPS if state in s.from_states]


def next_state(state: str, action: str) -> str:
    """The state after `action`; IllegalTransition naming the state and the action if not allowed."""
    chosen = step(action)
    if state not in chosen.from_states:
        raise IllegalTransition(state, action, allowed_actions(state))
    return chosen.to or state


CUSTOMER_STATUS = {"open": "under_review", "in_review": "under_review", "escalated": "under_review",
                   "awaiting_customer": "awaiting_your_information", "released": "released"}
"""The status a customer may be told, for each state (a report is never hinted at)."""


def customer_status(state: str, outcome: str | None) -> str:
    """What the customer may know of a case: under_review, awaiting_your_information, released or closed."""
    return CUSTOMER_STATUS.get(state) or ("released" if outcome == "released" else "closed")
