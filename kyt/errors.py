"""Errors raised by the kyt layer; the command line renders them (see ui.messages)."""

from __future__ import annotations


class KytError(Exception):
    """Base of every error the kyt layer raises on purpose."""


class PolicyError(KytError):
    """A rules file was rejected; `problems` says what is wrong, one line each."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__(path, problems)
        self.path = path
        self.problems = problems

    def __str__(self) -> str:
        return "\n".join(f"{self.path}: {p}" for p in self.problems)


class ListSourceError(KytError):
    """A source file of a flagged or services list cannot be read as expected."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"


class InputsRejected(KytError):
    """One or more input files of a batch were rejected; each error lists its bad lines."""

    def __init__(self, errors: list) -> None:
        super().__init__(errors)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class OutputError(KytError):
    """The requested outputs cannot be written as asked (nothing was written)."""
