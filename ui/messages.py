"""User-facing wording of every error the lower layers raise on purpose: one place for all of it."""

from __future__ import annotations

from cases.errors import CaseError, ReplyBlocked
from graph.errors import GraphError, InputError
from kyt.errors import InputsRejected, KytError, ListSourceError, OutputError, PolicyError


def render(error: Exception) -> str:
    """The message a person sees for `error` (several lines for several bad input lines).

    >>> render(PolicyError("rules.toml", ["rule 1: unknown action 'block'"]))
    "error: the rules file was rejected:\\n  rules.toml: rule 1: unknown action 'block'"
    """
    if isinstance(error, ReplyBlocked):
        lines = [f"{f['category']}: {f['excerpt']!r}: {f['reason']}" for f in error.findings if f["severity"] == "block"]
        return f"error: {error}:\n" + "\n".join(f"  {line}" for line in lines)
    if isinstance(error, InputsRejected):
        lines = [line for e in error.errors for line in str(e).splitlines()]
        return "error: input rejected, nothing was written:\n" + "\n".join(f"  {line}" for line in lines)
    if isinstance(error, InputError):
        return "error: input rejected, nothing was written:\n" + "\n".join(f"  {line}" for line in str(error).splitlines())
    if isinstance(error, PolicyError):
        return "error: the rules file was rejected:\n" + "\n".join(f"  {line}" for line in str(error).splitlines())
    if isinstance(error, ListSourceError):
        return f"error: a list source could not be used: {error}"
    if isinstance(error, OutputError):
        return f"error: nothing was written: {error}"
    if isinstance(error, (GraphError, KytError, CaseError)):
        return f"error: {error}"
    return f"error: {error.__class__.__name__}: {error}"


HANDLED = (GraphError, KytError, CaseError)
"""The errors the command line turns into a message and a non-zero exit (others are bugs)."""
