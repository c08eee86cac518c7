"""Benchmark withdrawal-destination screening: the one-time view build, then one destination at a time.

    python benchmarks/withdrawal_bench.py                      # 1M and 10M transfers
    python benchmarks/withdrawal_bench.py --transfers 1000000  # one size

Generates the same kind of power-law graph as exposure_bench.py in memory (addresses one
tenth of the transfers, 1,000 flagged among the busiest tenth, 100 services among the
busiest hundredth), builds the inbound index and the DestinationView, then screens
destinations one call each, as the API will, and prints p50 / p95 / p99 latency, plus one
batch of 100,000 destinations. Figures only: nothing here asserts a time.
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

from exposure_bench import CATEGORIES, START_BLOCK, START_TIME, hex_strings, power_law  # noqa: E402
from graph.exposure import FlagView  # noqa: E402
from graph.index import InboundIndex  # noqa: E402
from graph.model import ALWAYS, NEVER, FlaggedWallets, Services, Transfers  # noqa: E402
from graph.withdrawal_exposure import DestinationView  # noqa: E402

MICRO = 1_000_000


def world(n: int, seed: int) -> tuple[Transfers, FlaggedWallets, Services, int]:
    """Transfers in chain order, flags, services, and the time just after the last transfer."""
    rng = np.random.default_rng(seed)
    n_addresses = max(n // 10, 10_000)
    addresses = hex_strings(rng.integers(0, 256, size=(n_addresses, 20), dtype=np.uint8))
    src, dst = power_law(rng, n_addresses, n), power_law(rng, n_addresses, n)
    blocks = np.sort(rng.integers(START_BLOCK, START_BLOCK + n // 100 + 1, size=n))
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
    positions = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    usd = np.round(rng.lognormal(4, 2.5, size=n) * MICRO).astype(np.int64)
    usd[rng.random(n) < 0.05] = 0
    unpriced = rng.random(n) < 0.002
    usd[unpriced] = 0
    times = (START_TIME + (blocks - START_BLOCK) * 12) * MICRO
    transfers = Transfers(pa.nulls(n, pa.string()), blocks, positions, times, src.astype(np.int32),
                          dst.astype(np.int32), addresses, pa.nulls(n, pa.string()), usd, unpriced)
    chosen = rng.choice(n_addresses // 10, size=1000, replace=False)
    flagged = FlaggedWallets(addresses.take(pa.array(chosen)),
                             pa.array([CATEGORIES[i % len(CATEGORIES)] for i in range(1000)]),
                             pa.array(["benchmark"] * 1000), np.full(1000, ALWAYS), np.full(1000, NEVER))
    exchanges = rng.choice(n_addresses // 100, size=100, replace=False)
    services = Services(addresses.take(pa.array(exchanges)), pa.array(["exchange"] * 100),
                        pa.array(["exchange"] * 100))
    return transfers, flagged, services, int(times[-1]) + MICRO


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run(n: int, *, seed: int, calls: int) -> None:
    transfers, flagged, services, now = world(n, seed)
    started = time.perf_counter()
    index = InboundIndex.build(transfers)
    indexed = time.perf_counter()
    flags = FlagView.build(index, flagged, now)
    view = DestinationView.build(index, flags, services=services, lookback=None)
    built = time.perf_counter()
    windowed = DestinationView.build(index, flags, services=services, lookback=3600 * MICRO)
    built_windowed = time.perf_counter()
    rng = np.random.default_rng(seed + 1)
    n_addresses = len(index.addresses)
    # Half the destinations drawn by activity (busy wallets), half uniformly (mostly quiet ones); the synthetic history spans n / 100 blocks of 12 s (10M: 14 days).
    picks = np.r_[power_law(rng, n_addresses, calls // 2), rng.integers(0, n_addresses, calls - calls // 2)]
    names = index.addresses.take(pa.array(picks)).to_pylist()
    for label, chosen in (("no window", view), ("1-hour window", windowed)):
        latencies, exposures = [], 0
        for name in names:
            tick = time.perf_counter()
            e = chosen.exposures([name], as_of=now)
            latencies.append(time.perf_counter() - tick)
            exposures += len(e)
        ms = np.percentile(np.array(latencies) * 1000, [50, 95, 99])
        print(f"  one destination per call, {label}: p50 {ms[0]:.3f} ms, p95 {ms[1]:.3f} ms, p99 {ms[2]:.3f} ms"
              f" ({calls:,} calls, {exposures / calls:.2f} exposures each)")
    batch = index.addresses.take(pa.array(rng.integers(0, n_addresses, 100_000)))
    tick = time.perf_counter()
    e = view.exposures(batch, as_of=now)
    print(f"  batch of 100,000 destinations: {time.perf_counter() - tick:.2f} s ({len(e):,} exposures)")
    print(f"  index {indexed - started:.1f} s, destination view {built - indexed:.1f} s"
          f" ({view.traced.marked(0) if view.traced.k else 0:,} traced {flags.categories[0]} rows),"
          f" with a 1-hour window {built_windowed - built:.1f} s; peak memory {peak_gb():.2f} GB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, action="append", help="sizes (default: 1M and 10M)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    for n in args.transfers or [1_000_000, 10_000_000]:
        print(f"{n:,} transfers:", flush=True)
        run(n, seed=args.seed, calls=args.calls)


if __name__ == "__main__":
    main()
