"""A small labelled world for the learning tests: drain wallets (risky) and ordinary ones, as files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tests.factories import addr

HEADER = ["tx_hash", "block_number", "position", "timestamp", "from_address", "to_address", "asset", "amount",
          "usd_value"]
START = 1_700_000_000


def write_world(folder: Path, per_class: int = 100, seed: int = 1, split: bool = True) -> tuple[Path, Path]:
    """Risky wallets take many small payments from fresh victims and pass them on within hours; ordinary
    ones receive a few larger payments from a few partners over months and spend slowly. Returns
    (transfers.csv, labels.csv); with `split`, a third of each class is labelled test."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    counter = iter(range(10**9))
    victim = iter(range(10**6, 10**7))

    def transfer(src: int, dst: int, when: int, usd: float) -> None:
        n = next(counter)
        rows.append([f"0x{n:064x}", when // 12, n % 1000, when, addr(src), addr(dst), "ETH", f"{usd / 2000:.8f}",
                     f"{usd:.2f}"])

    for i in range(per_class):
        risky, normal = 1000 + i, 5000 + i
        born = START + int(rng.integers(0, 300)) * 86_400
        for _ in range(int(rng.integers(6, 15))):
            when = born + int(rng.integers(0, 3 * 86_400))
            transfer(next(victim), risky, when, float(rng.uniform(50, 900)))
            transfer(risky, 9000 + i % 7, when + int(rng.integers(600, 7_200)), float(rng.uniform(50, 900)))
        born = START - int(rng.integers(200, 900)) * 86_400
        partners = [20_000 + int(p) for p in rng.integers(0, 40, size=3)]
        for k in range(int(rng.integers(2, 6))):
            when = born + k * int(rng.integers(20, 60)) * 86_400
            transfer(partners[k % 3], normal, when, float(rng.uniform(500, 5000)))
            if rng.random() < 0.5:
                transfer(normal, 30_000 + i, when + int(rng.integers(5, 40)) * 86_400, float(rng.uniform(100, 800)))
        test = split and i % 3 == 0
        labels += [(addr(risky), 1, "test" if test else "train"), (addr(normal), 0, "test" if test else "train")]
    rows.sort(key=lambda r: (r[1], r[2]))
    transfers = folder / "transfers.csv"
    with transfers.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        seen = set()
        for row in rows:  # positions unique within a block
            while (row[1], row[2]) in seen:
                row[2] += 1000
            seen.add((row[1], row[2]))
            writer.writerow(row)
    labels_path = folder / "labels.csv"
    with labels_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["address", "label"] + (["split"] if split else []))
        for address, label, part in labels:
            writer.writerow([address, label] + ([part] if split else []))
    return transfers, labels_path
