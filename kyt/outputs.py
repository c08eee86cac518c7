"""The files a scoring run writes (decisions, exposures, evidence), all in place together or none.

This is the one edge where a scored batch becomes text: exact decimals, rule ids and
categories joined by ';', evidence as JSON lines.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from graph.exposure import Exposures
from graph.cells import spreadsheet_safe_column, value_bytes
from graph.money import share_texts, usd_texts
from kyt.decide import DECISIONS
from kyt.errors import OutputError
from kyt.record import ScoreResult

EXPOSURE_COLUMNS = ("category", "hop", "share", "usd", "unpriced_transfers", "unpriced_flagged_transfers")


def check_outputs(targets: list[Path]) -> None:
    """OutputError unless the targets are distinct paths that are not directories."""
    if len({t.resolve() for t in targets}) < len(targets):
        raise OutputError("two outputs name the same file: " + ", ".join(str(t) for t in targets))
    for target in targets:
        if target.is_dir():
            raise OutputError(f"{target} is a directory, not a file to write")


def write_together(outputs: list[tuple[Path, Callable[[Path], None]]]) -> list[Path]:
    """Write each output beside its target, then put them all in place; on failure none has changed.

    Targets that exist are set aside first and restored if any step fails.
    """
    targets = [target for target, _ in outputs]
    check_outputs(targets)
    token = secrets.token_hex(4)
    staged = [(target.with_name(f".{target.name}.{token}.partial"), target) for target in targets]
    kept = [(target, target.with_name(f".{target.name}.{token}.previous")) for target in targets if target.exists()]
    placed: list[Path] = []
    try:
        for (temporary, target), (_, write) in zip(staged, outputs):
            target.parent.mkdir(parents=True, exist_ok=True)
            write(temporary)
        for target, previous in kept:
            os.replace(target, previous)
        for temporary, target in staged:
            os.replace(temporary, target)
            placed.append(target)
    except BaseException:
        for target in placed:
            target.unlink(missing_ok=True)
        for target, previous in kept:
            if previous.exists():
                os.replace(previous, target)
        raise
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    for _, previous in kept:
        previous.unlink(missing_ok=True)
    return targets


def write_outputs(result: ScoreResult, *, out: Path | None = None, exposures_out: Path | None = None,
                  evidence_out: Path | None = None, case_ids: Mapping[str, int] | None = None) -> list[Path]:
    """Write the asked-for files of a scored batch together; `case_ids` (deposit id -> case) fills `case_id`."""
    outputs = []
    if out:
        outputs.append((out, lambda path: write_decisions(result, path, case_ids)))
    if exposures_out:
        outputs.append((exposures_out, lambda path: write_exposures(result, path)))
    if evidence_out:
        outputs.append((evidence_out, lambda path: write_evidence(result, path)))
    return write_together(outputs)


def write_decisions(result: ScoreResult, path: Path, case_ids: Mapping[str, int] | None = None) -> None:
    """One row per deposit: deposit_id, customer_id, decision, rule_ids, categories, snapshot_id, and with a
    model risk_probability and risk_features (for the deposits reviewed or frozen); case_id when cases open."""
    n = len(result.deposits)
    table = pa.table({
        "deposit_id": result.deposits.deposit_id,
        "customer_id": result.deposits.customer_id,
        "decision": pa.array(np.array(DECISIONS, dtype=object)[result.decisions.code]),
        "rule_ids": pa.array(result.decisions.rule_texts, pa.string()),
        "categories": pa.array(result.categories_text(), pa.string()),
        "snapshot_id": pa.array([result.snapshot.id] * n, pa.string()),
    })
    if result.risk is not None:
        rounded = pa.array(np.round(result.risk.probability, 4), pa.float64())
        table = table.append_column("risk_probability", pc.cast(rounded, pa.string()))
        reasons = np.full(n, "", dtype=object)
        for d, found in result.risk.explained.items():
            reasons[d] = ";".join(f"{name}:+{weight:g}" for name, weight in found)
        table = table.append_column("risk_features", pa.array(reasons, pa.string()))
    if case_ids is not None:
        where = pc.index_in(result.deposits.deposit_id, value_set=pa.array(list(case_ids), pa.string()))
        texts = pa.array([str(c) for c in case_ids.values()], pa.string())
        table = table.append_column("case_id", pc.fill_null(texts.take(where), ""))
    write_table_csv(table, path)


def write_table_csv(table: pa.Table, path: Path) -> None:
    """Write a table of text as CSV, quoting only when some value needs it, no value able to run as a formula."""
    for position, name in enumerate(table.column_names):
        if pa.types.is_string(table.column(name).type):
            table = table.set_column(position, name, spreadsheet_safe_column(table.column(name)))
    needs = any(_needs_quotes(table.column(name)) for name in table.column_names
                if pa.types.is_string(table.column(name).type))
    with path.open("wb") as handle:
        handle.write((",".join(table.column_names) + "\n").encode())
        pcsv.write_csv(table, handle, write_options=pcsv.WriteOptions(
            include_header=False, quoting_style="needed" if needs else "none"))


def _needs_quotes(column: pa.ChunkedArray) -> bool:
    """Whether some value holds a comma, a quote or a line break (a byte search of the values' buffer)."""
    for chunk in column.chunks:
        values = value_bytes(chunk).tobytes()
        if any(mark in values for mark in (b",", b'"', b"\r", b"\n")):
            return True
    return False


def exposure_arrays(exposures: Exposures, rows: np.ndarray | None = None) -> list[pa.Array]:
    """The EXPOSURE_COLUMNS of the exposures at `rows` (all when None) as Arrow arrays.

    Share and USD are exact decimal text, empty when unknown (no price); the counts say how
    many transfers of unknown value the funding (hop 2) and its flagged part hold.
    """
    e = exposures if rows is None else exposures.take(rows)
    num, den = np.where(e.share_known, e.share_num, 0), np.where(e.share_known, e.share_den, 1)  # unknown: no text
    return [pa.array(np.array(e.categories, dtype=object)[e.category] if len(e) else [], pa.string()),
            pa.array(e.hop, pa.int64()),
            pc.if_else(pa.array(e.share_known), share_texts(num, den), ""),
            pc.if_else(pa.array(e.usd_known), usd_texts(e.value, num, den), ""),
            pa.array(e.unpriced_total, pa.int64()), pa.array(e.unpriced_flagged, pa.int64())]


def exposure_columns(exposures: Exposures, rows: np.ndarray) -> list[list]:
    """The EXPOSURE_COLUMNS of the exposures at `rows` as Python lists."""
    return [array.to_pylist() for array in exposure_arrays(exposures, rows)]


def exposure_table(result: ScoreResult) -> pa.Table:
    """deposit_id and the EXPOSURE_COLUMNS, one row per exposure of the batch."""
    ids = result.deposits.deposit_id.take(pa.array(result.exposures.deposit, pa.int64()))
    return pa.Table.from_arrays([ids, *exposure_arrays(result.exposures)], names=["deposit_id", *EXPOSURE_COLUMNS])


def exposure_rows(result: ScoreResult) -> list[tuple]:
    """The rows of `exposure_table` as tuples."""
    table = exposure_table(result)
    return list(zip(*(table.column(name).to_pylist() for name in table.column_names)))


def write_exposures(result: ScoreResult, path: Path) -> None:
    """One row per exposure (see `exposure_table`)."""
    write_table_csv(exposure_table(result), path)


def write_evidence(result: ScoreResult, path: Path) -> None:
    """JSON lines: one evidence record per exposure, in exposure order, with the snapshot id."""
    with path.open("w", encoding="utf-8") as handle:
        for position in range(len(result.exposures)):
            record = result.evidence[position].to_dict()
            record["snapshot_id"] = result.snapshot.id
            handle.write(json.dumps(record) + "\n")
