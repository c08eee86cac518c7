"""The engines that compute exposures and evidence, behind one small interface.

- `LocalEngine` indexes a transfers table held in memory: the whole table (in-memory), or
  only the transfers into the deposits' senders (the pruned scan, graph/pruned.py);
- `graph.spark_engine.SparkEngine` runs the same definition on Apache Spark.

All of them give the same exposures and evidence, to the digit; they differ in where the
transfers are and how much memory the process needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from graph import evidence
from graph.evidence import Evidence
from graph.exposure import Exposures, FlagView, score
from graph.index import InboundIndex
from graph.model import Deposits, Services

ENGINES = ("auto", "memory", "pruned", "spark")
"""What `kyt score --engine` accepts; auto picks memory or pruned by the size of the transfers."""


class Engine(Protocol):
    """Exposures of deposits, and the evidence behind them."""

    name: str
    """What ran, in words, for the run's summary (e.g. "pruned scan")."""

    def score(self, deposits: Deposits, progress: Callable[[int], None] | None = None) -> Exposures: ...

    def evidence(self, deposits: Deposits, exposures: Exposures,
                 which: np.ndarray | None = None) -> list[Evidence]: ...

    def close(self) -> None: ...


@dataclass
class LocalEngine:
    """The inbound index of a transfers table in memory, with the flags laid over it."""

    index: InboundIndex
    flags: FlagView
    services: Services | None
    method: str = "haircut"
    lookback: int | None = None
    """Window in microseconds (None: none)."""
    name: str = "in-memory"

    def score(self, deposits: Deposits, progress: Callable[[int], None] | None = None) -> Exposures:
        """The exposures of every deposit (graph.exposure.score)."""
        return score(self.index, self.flags, deposits, services=self.services, method=self.method,
                     lookback=self.lookback, progress=progress)

    def evidence(self, deposits: Deposits, exposures: Exposures, which: np.ndarray | None = None) -> list[Evidence]:
        """Evidence of the exposures at positions `which`, all when None (graph.evidence.collect)."""
        return evidence.collect(self.index, self.flags, deposits, exposures=exposures, which=which)

    def close(self) -> None:
        """Nothing to let go of."""
