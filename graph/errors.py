"""Errors raised by the graph layer; the command line renders them (see ui.messages)."""

from __future__ import annotations

from dataclasses import dataclass, field


class GraphError(Exception):
    """Base of every error the graph layer raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One bad line of an input file: where it is and what is wrong with it."""

    line: int | None
    message: str


@dataclass
class InputError(GraphError):
    """An input file was rejected; `problems` lists its bad lines (up to a limit)."""

    path: str
    problems: list[Problem] = field(default_factory=list)
    more: int = 0

    def __post_init__(self) -> None:
        super().__init__(self.path, len(self.problems) + self.more)

    def __str__(self) -> str:
        head = [f"{self.path}:{p.line}: {p.message}" if p.line else f"{self.path}: {p.message}"
                for p in self.problems]
        if self.more:
            head.append(f"{self.path}: ... and {self.more} more bad lines")
        return "\n".join(head)


class ChainError(GraphError):
    """The Ethereum node could not be used: unreachable, refusing, on the wrong chain, or lacking a method."""


class ReorgTooDeep(ChainError):
    """The chain changed below the blocks remembered for repair; ingestion cannot splice it safely."""


class SparkUnavailable(GraphError):
    """Spark could not be used: pyspark or Java missing, the master or its workers unreachable, or a path unreadable."""
