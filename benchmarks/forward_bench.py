"""Benchmark forward tracing of stolen funds (graph/forward.py) on generated chain histories.

    python benchmarks/forward_bench.py                          # 1M and 10M transfers, hops 3
    python benchmarks/forward_bench.py --transfers 1000000 --check --hops 2 --hops 3 --hops 4

Generates the transfers of benchmarks/chain_history.py's histories in memory (power-law
background wallets, hub exchanges, 2% of transfers without a price), names a theft (the
transfers of 20 transactions from one busy wallet, and everything 5 flagged wallets sent from
the middle of the history on), traces it forward and prints the time, the rows at each hop,
the stolen USD per hop and the part that reached the hub exchanges. With `--check`, the plain
reference (graph/reference.py) traces the same and must give the same rows. Figures only:
nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import chain_history as history  # noqa: E402
from graph import reference  # noqa: E402
from graph.forward import reaching, trace_forward  # noqa: E402
from graph.model import Services, Transfers  # noqa: E402

DEPOSITS = 20_000
"""Deposit senders of the generated layout (their funding is part of every history)."""


def generated(rows: int, seed: int) -> tuple[Transfers, np.ndarray]:
    """A chain history of `rows` transfers in chain order, in memory, and the id of each address code."""
    layout = history.Layout(DEPOSITS)
    core, _ = history.funding(layout, seed, history.UNPRICED)
    extra = rows - len(core.block)
    share = np.full(history.PARTITIONS, extra // history.PARTITIONS) + (np.arange(history.PARTITIONS)
                                                                          < extra % history.PARTITIONS)
    parts = [core]
    for p in range(history.PARTITIONS):
        rng = np.random.default_rng([seed, DEPOSITS, rows, p])
        parts.append(history.background(rng, layout=layout, rows=rows, n=int(share[p]),
                                        first_block=history.START_BLOCK + p * history.PARTITION_BLOCKS,
                                        unpriced=history.UNPRICED))
    every = history.Rows.concat(parts)
    rng = np.random.default_rng([seed, rows])
    order = np.argsort(every.block << 20 | rng.integers(0, 1 << 20, len(every.block)))
    every = every.take(order)
    n = len(every.block)
    starts = np.flatnonzero(np.r_[True, every.block[1:] != every.block[:-1]])
    position = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    ids, codes = np.unique(np.r_[every.src, every.dst], return_inverse=True)
    usd = np.where(every.unpriced, 0, every.usd)
    times = (history.START_TIME + (every.block - history.START_BLOCK) * history.BLOCK_SECONDS) * 1_000_000
    hashes = history.hex_text(np.arange(n, dtype=np.uint64).view(np.uint8).reshape(n, 8))
    transfers = Transfers(hashes, every.block, position, times, codes[:n].astype(np.int32),
                          codes[n:].astype(np.int32), history.addresses(ids), pa.nulls(n, pa.string()), usd,
                          every.unpriced)
    return transfers, ids


def theft(transfers: Transfers, ids: np.ndarray) -> dict:
    """The named theft: 20 transactions of the busiest background sender in the first fifth, and 5 flagged
    wallets' transfers from the middle of the history on."""
    layout = history.Layout(DEPOSITS)
    sender_ids = ids[transfers.src]
    busy = sender_ids == layout.background  # the busiest background wallet (power-law rank 0)
    early = np.flatnonzero(busy & (np.arange(len(transfers)) < len(transfers) // 5))[:20]
    flagged = layout.flagged + np.arange(1, 30, 6)[:5]  # five of the stolen_funds category
    return dict(tx_hashes=transfers.tx_hash.take(pa.array(early)).to_pylist(),
                wallets=history.addresses(flagged).to_pylist(), since=int(transfers.timestamp[len(transfers) // 2]))


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run(rows: int, *, seed: int, hops: list[int], check: bool) -> None:
    started = time.perf_counter()
    transfers, ids = generated(rows, seed)
    named = theft(transfers, ids)
    services = Services(history.addresses(np.arange(history.SERVICES)), pa.nulls(history.SERVICES, pa.string()),
                        pa.nulls(history.SERVICES, pa.string()))
    platform = history.addresses(np.arange(5))  # five of the hub exchanges: "the platform's deposit addresses"
    print(f"  generated in {time.perf_counter() - started:.1f} s ({len(named['tx_hashes'])} named transactions,"
          f" {len(named['wallets'])} named wallets)", flush=True)
    for n in hops:
        tick = time.perf_counter()
        traced = trace_forward(transfers, **named, hops=n, services=services)
        traced_s = time.perf_counter() - tick
        tick = time.perf_counter()
        reached = reaching(traced, transfers, platform)
        reaching_s = time.perf_counter() - tick
        per_hop = ", ".join(f"hop {h}: {int((traced.hop == h).sum()):,} rows ${traced.stolen_micro[traced.hop == h].sum() / 1e6:,.0f}"
                            for h in range(1, n + 1))
        print(f"  hops {n}: traced in {traced_s:.2f} s, {len(traced):,} rows ({per_hop});"
              f" {int(traced.unpriced.sum()):,} rows with an unknown part; reaching the platform"
              f" ({reaching_s * 1000:.0f} ms): {len(reached):,} rows ${reached.stolen_micro.sum() / 1e6:,.0f};"
              f" peak memory {peak_gb():.2f} GB", flush=True)
        if check:
            tick = time.perf_counter()
            plain = reference.traced_forward(transfers, **named, hops=n, services=services)
            same = [(t.row, t.hop, t.stolen_micro, t.unpriced) for t in plain] == list(
                zip(traced.row.tolist(), traced.hop.tolist(), traced.stolen_micro.tolist(), traced.unpriced.tolist()))
            print(f"  reference: {time.perf_counter() - tick:.1f} s, {'the same rows' if same else 'DIFFERENT ROWS'}",
                  flush=True)
            if not same:
                raise SystemExit("the engine and the reference differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, action="append", help="sizes (default: 1M and 10M)")
    parser.add_argument("--hops", type=int, action="append", help="hops to trace (default: 3)")
    parser.add_argument("--check", action="store_true", help="also run the plain reference and compare")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for n in args.transfers or [1_000_000, 10_000_000]:
        print(f"{n:,} transfers:", flush=True)
        run(n, seed=args.seed, hops=args.hops or [3], check=args.check)


if __name__ == "__main__":
    main()
