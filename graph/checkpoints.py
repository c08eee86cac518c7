"""An ingestion's checkpoint: where it stands, saved whole after each batch, and the outputs it belongs to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from graph.errors import ChainError
from graph.outputs import replace_json


@dataclass
class Checkpoint:
    """Where an ingestion stands: the next block, the outputs' lengths, recent (block, hash, offsets)."""

    chain_id: int
    next_block: int
    offsets: list[int]
    """The length of each output (transfers, then deposits if asked for)."""
    recent: list[list] = field(default_factory=list)
    """[number, hash, [each output's length before the block's rows]], oldest first."""
    decimals: dict[str, int | None] = field(default_factory=dict)
    first_block: int = 0
    outputs: list[str] = field(default_factory=list)
    """The outputs written: files by absolute path (older checkpoints: as given), tables by name."""
    traces: bool = False
    """Whether internal transfers (from trace_block) are ingested too."""
    chain: str | None = None
    """The chain's name (graph.chains), written in each row's `chain` column; None in checkpoints made before
    that column, whose files go on without it."""

    def save(self, path: Path) -> None:
        replace_json(path, vars(self))

    @classmethod
    def load(cls, path: Path) -> "Checkpoint | None":
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, TypeError) as error:
            raise ChainError(f"{path}: not a checkpoint of this tool ({error}); move it away to start afresh")


def same_outputs(saved: list[str], names: list[str]) -> bool:
    """Whether a checkpoint's outputs are these: files compared by resolved path (`./x.csv` is `x.csv`).

    >>> same_outputs(["./x.csv"], ["x.csv"]), same_outputs(["x.csv"], ["y.csv"])
    (True, False)
    """
    def resolved(name: str) -> str:
        return name if "://" in name else str(Path(name).resolve())
    return len(saved) == len(names) and all(resolved(a) == resolved(b) for a, b in zip(saved, names))
