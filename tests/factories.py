"""Small hand-built tables for tests: addresses by number, USD in dollars, times in seconds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from graph.fields import encode_addresses
from graph.model import ALWAYS, NEVER, Deposits, FlaggedWallets, Services, Transfers

MICRO = 1_000_000


def addr(n: int) -> str:
    """A lowercase address made from a number: addr(1) == '0x000...001'."""
    return f"0x{n:040x}"


def transfers(rows: list[tuple]) -> Transfers:
    """Transfers from (src, dst, block, position, usd[, time_s[, tx]]) with src/dst as numbers; usd None = unknown."""
    src, dst, block, position, usd, ts, tx = [], [], [], [], [], [], []
    unknown = [row[4] is None for row in rows]
    for i, row in enumerate(rows):
        s, d, b, p, u = row[:5]
        src.append(addr(s))
        dst.append(addr(d))
        block.append(b)
        position.append(p)
        usd.append(0 if u is None else round(u * MICRO))
        ts.append((row[5] if len(row) > 5 else b * 12) * MICRO)
        tx.append(row[6] if len(row) > 6 else f"0xt{i}")
    codes, _ = encode_addresses({"from": pa.array(src, pa.string()), "to": pa.array(dst, pa.string())})
    return Transfers(pa.array(tx, pa.string()), np.array(block, dtype=np.int64), np.array(position, dtype=np.int64),
                     np.array(ts, dtype=np.int64), codes.codes[0], codes.codes[1], codes.dictionary,
                     pa.array(["ETH"] * len(rows), pa.string()), np.array(usd, dtype=np.int64),
                     np.array(unknown, dtype=bool))


def deposits(rows: list[tuple]) -> Deposits:
    """Deposits from (sender, block, position, usd[, time_s]) with the sender as a number; usd None = unknown."""
    n = len(rows)
    return Deposits(
        deposit_id=pa.array([f"d{i}" for i in range(n)], pa.string()),
        tx_hash=pa.array([f"0xd{i}" for i in range(n)], pa.string()),
        customer_id=pa.array([f"c{i}" for i in range(n)], pa.string()),
        timestamp=np.array([(r[4] if len(r) > 4 else r[1] * 12) * MICRO for r in rows], dtype=np.int64),
        block=np.array([r[1] for r in rows], dtype=np.int64),
        position=np.array([r[2] for r in rows], dtype=np.int64),
        from_address=pa.array([addr(r[0]) for r in rows], pa.string()),
        to_address=pa.array([addr(999_999)] * n, pa.string()),
        asset=pa.array(["ETH"] * n, pa.string()),
        amount=pa.array(["1"] * n, pa.string()),
        usd_micro=np.array([0 if r[3] is None else round(r[3] * MICRO) for r in rows], dtype=np.int64),
        unpriced=np.array([r[3] is None for r in rows], dtype=bool),
    )


def flagged(rows: list[tuple]) -> FlaggedWallets:
    """Flags from (address number, category[, listed_s[, delisted_s]]), None for an empty date."""
    def when(row: tuple, i: int, empty: int) -> int:
        return row[i] * MICRO if len(row) > i and row[i] is not None else empty

    return FlaggedWallets(
        address=pa.array([addr(r[0]) for r in rows], pa.string()),
        category=pa.array([r[1] for r in rows], pa.string()),
        source=pa.array([f"list-{r[1]}" for r in rows], pa.string()),
        listed_at=np.array([when(r, 2, ALWAYS) for r in rows], dtype=np.int64),
        delisted_at=np.array([when(r, 3, NEVER) for r in rows], dtype=np.int64),
    )


def services(numbers: list[int]) -> Services:
    """Services from address numbers."""
    return Services(pa.array([addr(n) for n in numbers], pa.string()),
                    pa.array([f"exchange {n}" for n in numbers], pa.string()),
                    pa.array(["exchange"] * len(numbers), pa.string()))
