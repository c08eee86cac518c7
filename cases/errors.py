"""Errors raised by the cases layer; the command line and the console render them (ui.messages)."""

from __future__ import annotations

from datetime import datetime


class CaseError(Exception):
    """Base of every error the cases layer raises on purpose."""


class NotFound(CaseError):
    """No such case, user, proposal or tracking number."""


class AccessDenied(CaseError):
    """The acting user's role may not do this."""

    def __init__(self, user: str, role: str, permission: str) -> None:
        super().__init__(user, role, permission)
        self.user, self.role, self.permission = user, role, permission

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) may not {self.permission.replace('_', ' ')}"


class IllegalTransition(CaseError):
    """The action is not allowed from the case's current state."""

    def __init__(self, state: str, action: str, allowed: list[str]) -> None:
        super().__init__(state, action, allowed)
        self.state, self.action, self.allowed = state, action, allowed

    def __str__(self) -> str:
        options = ", ".join(self.allowed) if self.allowed else "none"
        return f"cannot {self.action.replace('_', ' ')} a case that is {self.state.replace('_', ' ')} (allowed: {options})"


class FourEyesViolation(CaseError):
    """A proposal was approved by its proposer, or by someone who may not approve."""


class Conflict(CaseError):
    """Someone else changed the case first; reload it and try again. `last` says who did what, and when."""

    def __init__(self, case_id: int, expected: int, actual: int, *,
                 last: tuple[str, str, datetime] | None = None, thing: str = "case") -> None:
        super().__init__(case_id, expected, actual)
        self.case_id, self.expected, self.actual, self.last, self.thing = case_id, expected, actual, last, thing

    def __str__(self) -> str:
        change = ""
        if self.last is not None:
            who, action, when = self.last
            change = (f"; the last change was {action.split('.')[-1].replace('_', ' ')} by {who} "
                      f"at {when:%Y-%m-%d %H:%M} UTC")
        return (f"{self.thing} {self.case_id} was changed by someone else (you had version {self.expected}, "
                f"it is now {self.actual}{change}); reload it and try again")


class AlreadyDone(CaseError):
    """The same request (the same click, sent twice) was carried out already; nothing was done again."""

    def __init__(self, action: str, actor: str, at: datetime) -> None:
        super().__init__(action, actor, at)
        self.action, self.actor, self.at = action, actor, at

    def __str__(self) -> str:
        what = self.action.split(".")[-1].replace("_", " ")
        return f"already done: {what} by {self.actor} at {self.at:%Y-%m-%d %H:%M:%S} UTC; nothing was done twice"


class InvalidRequest(CaseError):
    """A request is incomplete or contradictory (a missing report reference, a snooze in the past...)."""


class ReplyBlocked(CaseError):
    """The linter blocked an outgoing text: it would tip the customer off."""

    def __init__(self, findings: list) -> None:
        super().__init__(findings)
        self.findings = findings

    def __str__(self) -> str:
        return "the reply was not sent: it would tip the customer off"


class SignInFailed(CaseError):
    """Wrong name or password (the message never says which)."""

    def __str__(self) -> str:
        return "wrong name or password"


class SignInThrottled(CaseError):
    """Too many failed sign-ins for this name or from this place: wait before trying again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = max(1, round(seconds))

    def __str__(self) -> str:
        return f"too many failed sign-ins: try again in {self.seconds} s"


class NotSignedIn(CaseError):
    """The command cannot prove who runs it (no session, an expired one, a wrong secret); the message says what
    to do."""
