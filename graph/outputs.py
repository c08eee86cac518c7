"""Where ingested rows go: a CSV file here; the case database's tables in `cases.chain_tables`.

An output is written a batch at a time and measured by a mark (a CSV file's length in
bytes, a table's row count). The ingestion's checkpoint keeps each output's mark and the
mark before each recent block; a rerun cuts every output back to the checkpoint's marks,
and a reorganisation cuts them back to the fork point's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Protocol

from graph.errors import ChainError


def replace_json(path: Path, value: Any) -> None:
    """Write `value` as JSON to `path` durably and whole: into a neighbour file, fsynced, then renamed over it."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps(value))  # json.dump to a file encodes in Python, about 3x slower
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(path)


class Output(Protocol):
    """A place rows are appended to and cut back from."""

    name: str

    def start(self) -> int:
        """Make the output empty and ready; its mark. ChainError if it already holds rows."""

    def cut(self, mark: int) -> None:
        """Drop everything after `mark`; ChainError if the output is shorter than that."""

    def write(self, mark: int, blocks: list[list[list[str]]]) -> list[int]:
        """Append each block's rows (cells) after `mark`, durably; the mark before each block, then the end."""


class CsvOutput:
    """A CSV file with a header line; marks are byte lengths."""

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.path, self.columns, self.name = path, columns, str(path)

    def start(self) -> int:
        if self.path.exists() and self.path.stat().st_size > 0:
            raise ChainError(f"{self.path} already exists and has no checkpoint; choose a new file or move it away")
        header = (",".join(self.columns) + "\n").encode()
        with self.path.open("wb") as handle:
            handle.write(header)
            handle.flush()
            os.fsync(handle.fileno())
        return len(header)

    def cut(self, mark: int) -> None:
        if not self.path.exists() or self.path.stat().st_size < mark:
            raise ChainError(f"{self.path} is shorter than its checkpoint says ({mark:,} bytes): it was changed "
                             f"outside this tool; start a new output")
        with self.path.open("r+b") as handle:
            handle.truncate(mark)
            handle.flush()
            os.fsync(handle.fileno())

    def write(self, mark: int, blocks: list[list[list[str]]]) -> list[int]:
        marks = []
        with self.path.open("r+b") as handle:
            handle.seek(mark)
            for rows in blocks:
                marks.append(handle.tell())
                handle.writelines((",".join(cells) + "\n").encode() for cells in rows)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
            marks.append(handle.tell())
        return marks
