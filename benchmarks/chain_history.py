"""Synthetic chain histories for benchmarks/chain_scale_bench.py: partitioned Parquet transfers and the lists scored against them.

Every address is a fixed function of an integer id, so the deposits, flagged wallets and
services are the same whatever the history's size. The ids are laid out as

    services (the first HUBS are hubs with many transfers) | flagged | deposit senders | background

Each history holds the *funding* transfers (size-independent: every deposit sender receives one
or more transfers, some from flagged wallets, some from services) plus background transfers
among power-law-active background addresses and the hubs, generated one block-range partition
at a time with numpy in bounded memory. Files follow `kyt import ethereum-etl`'s output:
`block_range=N/part-0.parquet`, rows in (block_number, position) order, the chain column last.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

VERSION = 1
"""Bump when the data a seed gives changes: datasets with another version are regenerated."""
START_BLOCK, START_TIME, BLOCK_SECONDS = 18_000_000, 1_693_000_000, 12  # 2023-08-25 to 2024-05-29
PARTITIONS, PARTITION_BLOCKS = 200, 10_000
END_BLOCK = START_BLOCK + PARTITIONS * PARTITION_BLOCKS
SERVICES, HUBS, FLAGGED = 300, 20, 3_000
MIN_BACKGROUND, MAX_BACKGROUND = 50_000, 20_000_000
CATEGORIES = ("sanctions", "stolen_funds", "scam", "mixer", "ransomware", "phishing")
ASSETS = ("ETH", "USDT", "USDC")
ROW_GROUP = 262_144
UNPRICED = 0.02
"""The default share of transfers without a price (empty usd_value)."""
SCHEMA = pa.schema([("tx_hash", pa.string()), ("block_number", pa.int64()), ("position", pa.int64()),
                    ("timestamp", pa.timestamp("ms", tz="UTC")), ("from_address", pa.string()),
                    ("to_address", pa.string()), ("asset", pa.string()), ("amount", pa.string()),
                    ("usd_value", pa.string()), ("chain", pa.string())])


@dataclass(frozen=True)
class Layout:
    """The id ranges of one deposit count: services, flagged wallets, the deposit senders' pool, background."""

    deposits: int

    @property
    def flagged(self) -> int:
        return SERVICES

    @property
    def pool(self) -> int:
        return SERVICES + FLAGGED

    @property
    def senders(self) -> int:
        return max(self.deposits // 2, 1)

    @property
    def background(self) -> int:
        return self.pool + self.senders


def background_count(rows: int) -> int:
    """How many background addresses a history of `rows` transfers has (a tenth of the rows, within bounds)."""
    return int(min(MAX_BACKGROUND, max(MIN_BACKGROUND, rows // 10)))


_HEX_PAIRS = np.frombuffer(b"".join(f"{b:02x}".encode() for b in range(256)), dtype=np.uint16)


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, a bijection on uint64."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def hex_text(raw: np.ndarray) -> pa.Array:
    """Rows of bytes as '0x' + lowercase hex strings, without Python loops."""
    n, width = raw.shape
    text = np.empty((n, 1 + width), dtype=np.uint16)  # two characters per byte, "0x" first
    text[:, 0] = np.frombuffer(b"0x", dtype=np.uint16)[0]
    text[:, 1:] = _HEX_PAIRS[raw]
    offsets = np.arange(n + 1, dtype=np.int64) * (2 + 2 * width)
    small = offsets[-1] < 2**31
    return pa.Array.from_buffers(pa.string() if small else pa.large_string(), n,
                                 [None, pa.py_buffer(offsets.astype(np.int32) if small else offsets), pa.py_buffer(text)])


def addresses(ids: np.ndarray) -> pa.Array:
    """The address of each id: 20 bytes of mixed id, the same in every history (ids are unique, so are addresses)."""
    ids = np.asarray(ids, dtype=np.uint64)
    words = np.stack([_mix(ids * np.uint64(3) + np.uint64(k)) for k in (1, 2, 3)], axis=1)
    return hex_text(words.view(np.uint8).reshape(len(ids), 24)[:, :20])


def random_hashes(rng: np.random.Generator, n: int) -> pa.Array:
    return hex_text(np.frombuffer(rng.bytes(32 * n), dtype=np.uint8).reshape(n, 32))


def decimal_text(micro: np.ndarray) -> pa.Array:
    """Whole micro-units as exact decimal text without trailing zeros ("12.5", "3", "0.000001")."""
    micro = np.asarray(micro, dtype=np.int64)
    whole = pc.cast(pa.array(micro // 1_000_000), pa.string())
    part = pc.utf8_lpad(pc.cast(pa.array(micro % 1_000_000), pa.string()), 6, "0")
    return pc.utf8_rtrim(pc.utf8_rtrim(pc.binary_join_element_wise(whole, part, "."), "0"), ".")


def usd_micro(rng: np.random.Generator, n: int) -> np.ndarray:
    """Log-normal USD values in micro-dollars, most of them whole cents."""
    micro = np.clip(np.rint(rng.lognormal(5.0, 2.2, n) * 1e6), 1, 10**15).astype(np.int64)
    cents = rng.random(n) < 0.7
    micro[cents] = np.maximum(micro[cents] // 10_000 * 10_000, 10_000)
    return micro


def power_law(rng: np.random.Generator, n_items: int, size: int, alpha: float = 1.1) -> np.ndarray:
    """`size` ranks in 0..n_items-1 with P(rank r) about proportional to (r + 1) ** -alpha (inverse CDF, no table)."""
    tail = (n_items + 1.0) ** (1 - alpha)
    x = (1 - rng.random(size) * (1 - tail)) ** (1 / (1 - alpha))
    return np.clip(np.floor(x).astype(np.int64) - 1, 0, n_items - 1)


def block_times(blocks: np.ndarray) -> pa.Array:
    millis = (START_TIME + (blocks - START_BLOCK) * BLOCK_SECONDS) * 1000
    return pa.array(millis.astype("datetime64[ms]"), pa.timestamp("ms", tz="UTC"))


@dataclass
class Rows:
    """Transfers as numbers (addresses as ids), before they are spelled out."""

    block: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    usd: np.ndarray
    unpriced: np.ndarray
    amount: np.ndarray
    asset: np.ndarray

    def take(self, which) -> Rows:
        return Rows(*(getattr(self, f)[which] for f in self.__dataclass_fields__))

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        return Rows(*(np.concatenate([getattr(p, f) for p in parts]) for f in Rows.__dataclass_fields__))


def _values(rng: np.random.Generator, block: np.ndarray, src: np.ndarray, dst: np.ndarray, unpriced: float) -> Rows:
    n = len(block)
    return Rows(block, src, dst, usd_micro(rng, n), rng.random(n) < unpriced,
                np.maximum(usd_micro(rng, n) // 7, 1), rng.choice(len(ASSETS), n, p=[0.6, 0.3, 0.1]))


def funding(layout: Layout, seed: int, unpriced: float) -> tuple[Rows, np.ndarray]:
    """The size-independent transfers into the deposit senders, sorted by block, and their tx hash bytes."""
    rng = np.random.default_rng([seed, layout.deposits, 1])
    k = 1 + rng.poisson(1.0, layout.senders)
    dst = np.repeat(layout.pool + np.arange(layout.senders), k)
    n = len(dst)
    kind = rng.random(n)
    services = np.where(rng.random(n) < 0.7, rng.integers(0, HUBS, n), rng.integers(0, SERVICES, n))
    src = np.where(kind < 0.08, layout.flagged + rng.integers(0, FLAGGED, n),
                   np.where(kind < 0.38, services, layout.background + rng.integers(0, MIN_BACKGROUND, n)))
    every = np.r_[layout.flagged + np.arange(FLAGGED), np.arange(SERVICES)]  # each list entry sends at least once
    src[rng.choice(n, min(n, len(every)), replace=False)] = every[:n]
    rows = _values(rng, rng.integers(START_BLOCK, END_BLOCK, n), src, dst, unpriced)
    order = np.argsort(rows.block, kind="stable")
    return rows.take(order), np.frombuffer(rng.bytes(32 * n), dtype=np.uint8).reshape(n, 32)[order]


def background(rng: np.random.Generator, *, layout: Layout, rows: int, n: int, first_block: int,
               unpriced: float) -> Rows:
    """`n` background transfers in one partition: power-law active addresses, 5% to or from a hub, some flagged senders."""
    count = background_count(rows)
    block = rng.integers(first_block, first_block + PARTITION_BLOCKS, n)
    src = layout.background + power_law(rng, count, n)
    dst = layout.background + power_law(rng, count, n)
    kind = rng.random(n)
    src = np.where(kind < 0.05, rng.integers(0, HUBS, n), np.where(kind < 0.055, layout.flagged + rng.integers(0, FLAGGED, n), src))
    dst = np.where(rng.random(n) < 0.05, rng.integers(0, HUBS, n), dst)
    return _values(rng, block, src, dst, unpriced)


def transfers_table(rows: Rows, hashes: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """The rows in chain order (random order within a block), numbered per block, in the transfers format."""
    order = np.argsort(rows.block << 20 | rng.integers(0, 1 << 20, len(rows.block)))
    rows, hashes = rows.take(order), hashes[order]
    starts = np.flatnonzero(np.r_[True, rows.block[1:] != rows.block[:-1]])
    position = np.arange(len(rows.block)) - np.repeat(starts, np.diff(np.r_[starts, len(rows.block)]))
    usd = pc.if_else(pa.array(rows.unpriced), "", decimal_text(rows.usd))
    return pa.Table.from_arrays([
        hex_text(hashes), pa.array(rows.block), pa.array(position), block_times(rows.block),
        addresses(rows.src), addresses(rows.dst), pa.array(ASSETS).take(pa.array(rows.asset)),
        decimal_text(rows.amount), usd, pa.nulls(len(rows.block), pa.string()).fill_null("ethereum")], schema=SCHEMA)


def write_history(folder: Path, *, rows: int, deposits: int, seed: int, unpriced: float = UNPRICED) -> dict:
    """Write a history of `rows` transfers (a share `unpriced` without a price) as folder/dataset/block_range=N/part-0.parquet."""
    layout = Layout(deposits)
    core, core_hashes = funding(layout, seed, unpriced)
    if len(core.block) > rows // 2:
        raise SystemExit(f"{rows:,} transfers are too few for {deposits:,} deposits ({len(core.block):,} funding "
                         "transfers): use fewer deposits or a larger size")
    started = time.perf_counter()
    work = folder.with_name(folder.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    (work / "dataset").mkdir(parents=True)
    extra = rows - len(core.block)
    share = np.full(PARTITIONS, extra // PARTITIONS) + (np.arange(PARTITIONS) < extra % PARTITIONS)
    bounds = np.searchsorted(core.block, START_BLOCK + PARTITION_BLOCKS * np.arange(PARTITIONS + 1))
    for p in range(PARTITIONS):
        rng = np.random.default_rng([seed, deposits, rows, p])
        first = START_BLOCK + p * PARTITION_BLOCKS
        mine = slice(bounds[p], bounds[p + 1])
        noise = background(rng, layout=layout, rows=rows, n=int(share[p]), first_block=first, unpriced=unpriced)
        hashes = np.concatenate([core_hashes[mine], np.frombuffer(rng.bytes(32 * int(share[p])), np.uint8).reshape(-1, 32)])
        table = transfers_table(Rows.concat([core.take(mine), noise]), hashes, rng)
        target = work / "dataset" / f"block_range={first}"
        target.mkdir()
        pq.write_table(table, target / "part-0.parquet", compression="zstd", row_group_size=ROW_GROUP)
    manifest = {"version": VERSION, "rows": rows, "deposits": deposits, "seed": seed, "unpriced": unpriced, "partitions": PARTITIONS,
                "funding_rows": int(len(core.block)), "background_addresses": background_count(rows),
                "generation_s": round(time.perf_counter() - started, 2), "bytes": disk_bytes(work / "dataset")}
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(work, folder)
    return manifest


def write_single_file(dataset: Path, target: Path) -> float:
    """The dataset's partitions, in order, as one Parquet file (for the in-memory engine); seconds taken."""
    started = time.perf_counter()
    partial = target.with_name(target.name + ".partial")
    with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
        for part in sorted(dataset.glob("block_range=*/part-0.parquet"), key=lambda p: int(p.parent.name.split("=")[1])):
            writer.write_table(pq.read_table(part, schema=SCHEMA), row_group_size=ROW_GROUP)
    os.replace(partial, target)
    return time.perf_counter() - started


def disk_bytes(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def write_inputs(folder: Path, *, deposits: int, seed: int) -> dict:
    """deposits.parquet, flagged.csv and services.csv for `deposits` deposits (independent of the history's size)."""
    layout, rng = Layout(deposits), np.random.default_rng([seed, deposits, 2])
    work = folder.with_name(folder.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    kinds = ["exchange", "bridge", "payments", "defi"]
    pcsv.write_csv(pa.table({
        "address": addresses(np.arange(SERVICES)),
        "entity": pa.array([f"Hub exchange {i}" if i < HUBS else f"Service {i}" for i in range(SERVICES)]),
        "kind": pa.array(["exchange" if i < HUBS else kinds[i % 4] for i in range(SERVICES)])}),
        work / "services.csv", pcsv.WriteOptions(quoting_style="none"))
    flagged = _flagged_rows(rng, layout)
    pcsv.write_csv(flagged, work / "flagged.csv", pcsv.WriteOptions(quoting_style="none"))
    m = deposits
    kind = rng.random(m)
    sender = np.where(kind < 0.02, layout.flagged + rng.integers(0, FLAGGED, m),
                      np.where(kind < 0.04, rng.integers(0, SERVICES, m), layout.pool + power_law(rng, layout.senders, m, 0.8)))
    block = rng.integers(START_BLOCK + PARTITIONS * PARTITION_BLOCKS // 5, END_BLOCK, m)
    usd = pc.if_else(pa.array(rng.random(m) < 0.01), "", decimal_text(usd_micro(rng, m)))
    numbers = pc.cast(pa.array(np.arange(m)), pa.string())
    pq.write_table(pa.table({
        "deposit_id": pc.binary_join_element_wise("dep-", pc.utf8_lpad(numbers, 8, "0"), ""),
        "tx_hash": random_hashes(rng, m),
        "customer_id": pc.binary_join_element_wise("cust-", pc.cast(pa.array(rng.integers(0, max(m // 5, 1), m)), pa.string()), ""),
        "timestamp": block_times(block), "block_number": pa.array(block), "position": pa.array(rng.integers(0, 300, m)),
        "from_address": addresses(sender), "to_address": addresses(10**12 + rng.integers(0, max(m // 5, 1), m)),
        "asset": pa.array(ASSETS).take(pa.array(rng.choice(3, m, p=[0.6, 0.3, 0.1]))),
        "amount": decimal_text(np.maximum(usd_micro(rng, m) // 7, 1)), "usd_value": usd,
        "chain": pa.nulls(m, pa.string()).fill_null("ethereum")}), work / "deposits.parquet", compression="zstd")
    manifest = {"version": VERSION, "deposits": deposits, "seed": seed, "flagged_rows": flagged.num_rows,
                "services": SERVICES, "hop1_share": 0.02, "service_share": 0.02}
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(work, folder)
    return manifest


def _flagged_rows(rng: np.random.Generator, layout: Layout) -> pa.Table:
    """Every flagged id once, 5% of them again in another category; some listed late or delisted."""
    ids = np.arange(FLAGGED)
    again = rng.choice(FLAGGED, FLAGGED // 20, replace=False)
    who = np.r_[ids, again]
    category = np.r_[ids % len(CATEGORIES), (again + 1 + rng.integers(0, len(CATEGORIES) - 1, len(again))) % len(CATEGORIES)]
    n = len(who)
    listed_day = rng.integers(np.datetime64("2022-01-01", "D").astype(int), np.datetime64("2024-09-01", "D").astype(int), n)
    listed = np.where(rng.random(n) < 0.4, -1, listed_day)
    delisted = np.where(rng.random(n) < 0.1, np.where(listed < 0, listed_day, listed) + rng.integers(30, 400, n), -1)
    return pa.table({
        "address": addresses(layout.flagged + who), "category": pa.array(CATEGORIES).take(pa.array(category)),
        "source": pa.array(["benchmark list A" if c % 2 else "benchmark list B" for c in category]),
        "listed_at": _dates(listed), "delisted_at": _dates(delisted)})


def _dates(days: np.ndarray) -> pa.Array:
    text = pc.cast(pa.array(np.maximum(days, 0).astype("datetime64[D]")), pa.string())
    return pc.if_else(pa.array(days < 0), "", text)
