"""Ingested transfers and deposits kept in the case database (`kyt ingest --db`), and written out as files.

Each table is an ingestion output (see graph.outputs): its mark is its row count, rows are
numbered in order (`seq`), a batch is one transaction, and cutting back deletes the rows
from a mark on. The engine reads files, so `export` writes a table in the transfers or
deposits format for `kyt score`, with each row's `chain`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from cases.db import Store
from cases.chain_models import ChainDeposit, ChainTransfer
from cases.service import unit_of_work
from graph.chains import DEFAULT
from graph.errors import ChainError
from graph.formats import CHAIN_COLUMN, DEPOSIT_COLUMNS, TRANSFER_COLUMNS, spreadsheet_safe

TABLES = {"transfers": (ChainTransfer, TRANSFER_COLUMNS + (CHAIN_COLUMN,)),
          "deposits": (ChainDeposit, DEPOSIT_COLUMNS + (CHAIN_COLUMN,))}
"""Each table's model and columns: its file format's, then the chain (rows of a checkpoint made before the
column are written as ethereum's, the column's default)."""
NUMBERS = ("block_number", "position", "timestamp")


class TableOutput:
    """One of the chain tables as an ingestion output."""

    def __init__(self, store: Store, kind: str) -> None:
        self.store, self.kind = store, kind
        self.model, self.columns = TABLES[kind]
        self.name = f"{store.shown_url}#{self.model.__tablename__}"

    def _count(self, session) -> int:
        return int(session.exec(select(sa.func.count()).select_from(self.model)).one())

    def start(self) -> int:
        with self.store.session() as session:
            if self._count(session):
                raise ChainError(f"{self.name} already holds rows and there is no checkpoint for them; "
                                 f"use the checkpoint that made them, or another database")
        return 0

    def cut(self, mark: int) -> None:
        with unit_of_work(self.store) as session:
            if self._count(session) < mark:
                raise ChainError(f"{self.name} holds fewer rows than its checkpoint says ({mark:,}): they were "
                                 f"deleted outside this tool")
            session.execute(sa.delete(self.model).where(self.model.seq >= mark))

    def write(self, mark: int, blocks: list[list[list[str]]]) -> list[int]:
        marks, rows, seq = [], [], mark
        for cells_of_block in blocks:
            marks.append(seq)
            for cells in cells_of_block:
                row = dict(zip(self.columns, cells))
                row.setdefault(CHAIN_COLUMN, DEFAULT)
                row.update({name: int(row[name]) for name in NUMBERS}, seq=seq,
                           usd_value=row["usd_value"] or None)
                rows.append(row)
                seq += 1
        marks.append(seq)
        if rows:
            with unit_of_work(self.store) as session:  # the batch is there whole, or not at all
                session.execute(sa.insert(self.model), rows)
        return marks


def export(store: Store, kind: str, path: Path) -> int:
    """Write the table in its file format (CSV), in chain order; how many rows."""
    model, columns = TABLES[kind]
    partial = path.with_name(path.name + ".partial")
    count = 0
    with store.session() as session, partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        query = select(*[getattr(model, name) for name in columns]).order_by(model.seq)
        for row in session.exec(query.execution_options(yield_per=10_000)):
            writer.writerow(["" if value is None else spreadsheet_safe(value) for value in row])
            count += 1
    partial.replace(path)
    return count
