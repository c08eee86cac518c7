"""The T-EDGE sample of Ethereum (XBlock: 445 phishing and 445 normal accounts), as transfers and labels.

The dataset names accounts by integer ids and aggregates each sender/receiver pair into one
edge (total ETH, number of transactions, one timestamp). This adapter writes it in the
product's own formats, so that it goes through the same readers and checks as any input:
account i becomes the address 0x000...i (40 hex digits), and each edge becomes as many
transfers as it had transactions, splitting its amount evenly, at its timestamp (the
dataset keeps no finer times). Values are in ETH: the dataset has no prices, so the
`usd_value` column holds ETH and the features read it as the unit of value.

>>> address(1470)
'0x00000000000000000000000000000000000005be'
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from kyt.errors import KytError

EDGES = "edges.csv.gz"
NODES = "nodes_train_test_split.csv.gz"


def address(node: int) -> str:
    """The address standing for a dataset's account id."""
    return f"0x{node:040x}"


def _addresses(ids: np.ndarray) -> pa.Array:
    return pa.array([address(int(i)) for i in ids], pa.string())


def convert(folder: Path, out: Path) -> tuple[Path, Path, dict[str, int]]:
    """Write `transfers.parquet` and `labels.csv` (address, label, split) into `out`; their paths and counts."""
    edges_path, nodes_path = folder / EDGES, folder / NODES
    for path in (edges_path, nodes_path):
        if not path.exists():
            raise KytError(f"{folder} is not the T-EDGE folder: {path.name} is missing")
    edges = pcsv.read_csv(edges_path)
    nodes = pcsv.read_csv(nodes_path)
    for table, columns, path in ((edges, ("from", "to", "amount", "n_transactions", "timestamp"), edges_path),
                                 (nodes, ("id", "label", "has_label", "is_train", "is_test"), nodes_path)):
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise KytError(f"{path}: missing columns {', '.join(missing)}")
    times_s = edges["timestamp"].to_numpy()
    counts = np.maximum(edges["n_transactions"].to_numpy(), 1)
    repeat = np.repeat(np.arange(edges.num_rows), counts)
    # one transfer per transaction, in time order; rows sharing a second get positions 0, 1, 2...
    order = repeat[np.argsort(times_s[repeat], kind="stable")]
    block = times_s[order]
    starts = np.r_[0, np.flatnonzero(np.diff(block)) + 1]
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    amounts = [format(Decimal(repr(a)) / int(n), "f") for a, n in zip(edges["amount"].to_pylist(), counts.tolist())]
    amount = pa.array(amounts, pa.string()).take(pa.array(order))
    if out.exists() and not out.is_dir():
        raise KytError(f"{out} is a file, not a folder to write into")
    out.mkdir(parents=True, exist_ok=True)
    transfers = pa.table({
        "tx_hash": pa.array([f"0x{int(e):064x}" for e in order], pa.string()),
        "block_number": pa.array(block, pa.int64()),
        "position": pa.array(position, pa.int64()),
        "timestamp": pa.array(block, pa.int64()),
        "from_address": _addresses(edges["from"].to_numpy()[order]),
        "to_address": _addresses(edges["to"].to_numpy()[order]),
        "asset": pa.array(["ETH"] * len(order), pa.string()),
        "amount": amount,
        "usd_value": amount,
    })
    transfers_path, labels_path = out / "transfers.parquet", out / "labels.csv"
    pq.write_table(transfers, transfers_path)
    labelled = nodes.filter(pc.equal(nodes["has_label"], True))
    split = np.where(labelled["is_test"].to_numpy(zero_copy_only=False), "test",
                     np.where(labelled["is_train"].to_numpy(zero_copy_only=False), "train", ""))
    labels = pa.table({"address": _addresses(labelled["id"].to_numpy()),
                       "label": pa.array(labelled["label"].to_numpy().astype(np.int64)),
                       "split": pa.array(split.tolist(), pa.string())})
    pcsv.write_csv(labels, labels_path)
    positives = int(pc.sum(labels["label"]).as_py() or 0)
    return transfers_path, labels_path, {"transfers": len(order), "edges": edges.num_rows, "labelled": len(labels),
                                         "phishing": positives, "train": int((split == "train").sum()),
                                         "test": int((split == "test").sum())}
