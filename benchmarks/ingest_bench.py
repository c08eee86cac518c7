"""Ingestion speed against a local node, side by side with ethereum-etl on the same node and blocks.

    python benchmarks/ingest_bench.py [--blocks 1000] [--per-block 5] [--rounds 5]

Starts anvil (tools/node), makes `--blocks` blocks of native transfers, then, in each of
`--rounds` rounds (in a rotating order, so that neither tool always runs first), times:

- `kyt ingest`'s engine in this process (graph.ingestion, confirmations 0);
- `kyt ingest` as a command over every block, and over one block (its start-up);
- `ethereumetl export_blocks_and_transactions` with 1 and with 5 workers over every block,
  and over one block (its start-up); installed once into benchmarks/out/etl-venv, with
  parsimonious 0.9.0 so that ethereum-etl 2.4.2 runs on Python 3.11.

ethereum-etl exports blocks and transactions only; ours also reads receipts and Transfer
logs. Each figure is the median over the rounds, and each ratio the median of the rounds'
ratios (a shared machine's speed drifts; a round's runs are close in time). Throughput is a
command's time minus its own one-block run, for both tools alike. The node's CPU time per
run is read from /proc when it can be.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
ANVIL = ROOT / "tools" / "node" / "node_modules" / ".bin" / "anvil"
ETL_VENV = ROOT / "benchmarks" / "out" / "etl-venv"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def etl() -> Path:
    """The ethereumetl command, installed into its own virtual environment on first use."""
    command = ETL_VENV / "bin" / "ethereumetl"
    if not command.exists():
        print("installing ethereum-etl into benchmarks/out/etl-venv (once)...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(ETL_VENV)], check=True)
        pip = str(ETL_VENV / "bin" / "pip")
        subprocess.run([pip, "install", "-q", "ethereum-etl==2.4.2"], check=True)
        # its eth-abi pins parsimonious < 0.9, whose 0.8 fails on Python 3.11 (inspect.getargspec); 0.9 works
        subprocess.run([pip, "install", "-q", "--no-deps", "parsimonious==0.9.0", "regex"], check=True)
    return command


def make_traffic(url: str, blocks: int, per_block: int) -> int:
    """`blocks` blocks with `per_block` native transfers each; the number of transfers sent."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url))
    accounts = w3.eth.accounts
    w3.provider.make_request("evm_setAutomine", [False])
    sent = 0
    for b in range(blocks):
        calls = [("eth_sendTransaction", [{"from": accounts[(b + i) % 10], "to": accounts[(b + i + 1) % 10],
                                           "value": hex(10**15 + b * per_block + i)}]) for i in range(per_block)]
        w3.provider.make_batch_request(calls)
        w3.provider.make_request("evm_mine", [])
        sent += per_block
        if b % 100 == 99:
            print(f"  {b + 1} blocks made", file=sys.stderr)
    return sent


def node_cpu(pid: int) -> float | None:
    """CPU seconds used so far by the node process and its children (None where /proc is not there)."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        total = 0.0
        for p in [pid, *children]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total
    except (OSError, ValueError, IndexError):
        return None


class Runs:
    """Named timed runs: wall seconds, the node's CPU seconds and this side's CPU seconds, per round."""

    def __init__(self, node_pid: int) -> None:
        self.node_pid = node_pid
        self.times: dict[str, list[tuple[float, float | None, float]]] = {}

    def time(self, name: str, run: Callable[[], None]) -> None:
        node_before, cpu_before = node_cpu(self.node_pid), _cpu()
        started = time.perf_counter()
        run()
        wall = time.perf_counter() - started
        node_after = node_cpu(self.node_pid)
        node = None if node_before is None or node_after is None else node_after - node_before
        self.times.setdefault(name, []).append((wall, node, _cpu() - cpu_before))

    def wall(self, name: str) -> list[float]:
        return [w for w, _, _ in self.times[name]]

    def line(self, name: str, blocks: int) -> str:
        walls = self.wall(name)
        middle = statistics.median(walls)
        nodes = [n for _, n, _ in self.times[name] if n is not None]
        own = statistics.median(c for _, _, c in self.times[name])
        cpu = f"; CPU: node {statistics.median(nodes):.2f} s, client {own:.2f} s" if nodes else f"; client CPU {own:.2f} s"
        rate = f" = {blocks / middle:,.0f} blocks/s" if blocks else ""
        return f"{name}: {middle:.2f} s{rate} (min {min(walls):.2f}, max {max(walls):.2f}){cpu}"


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _ratios(slower: list[float], faster: list[float]) -> str:
    ratios = sorted(s / f for s, f in zip(slower, faster))
    return f"{statistics.median(ratios):.2f}x (rounds {ratios[0]:.2f}-{ratios[-1]:.2f}x)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--per-block", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from graph.chain import Node
    from graph.ingestion import Ingestion

    command = etl()
    kyt = Path(sys.executable).parent / "kyt"
    port = _port()
    anvil = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--accounts", "10",
                              "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    folder = Path(tempfile.mkdtemp())
    try:
        time.sleep(1.5)
        sent = make_traffic(url, args.blocks, args.per_block)
        last = Node(url).head()
        counter = iter(range(10**6))
        exported: dict[int, int] = {}

        def ours_in_process() -> None:
            name = f"in{next(counter)}"
            job = Ingestion(Node(url), folder / f"{name}.csv", folder / f"{name}.json", from_block=0, confirmations=0,
                            batch=100)
            summary = job.run(to_block=last)
            assert summary.transfers == sent, (summary.transfers, sent)

        def ours_command(to: int) -> Callable[[], None]:
            def run() -> None:
                out = folder / f"cli{next(counter)}.csv"
                subprocess.run([str(kyt), "ingest", "--rpc", url, "--from-block", "0", "--to-block", str(to), "--out",
                                str(out), "--confirmations", "0", "--batch", "100"], check=True, capture_output=True)
            return run

        def theirs(to: int, workers: int) -> Callable[[], None]:
            def run() -> None:
                subprocess.run([str(command), "export_blocks_and_transactions", "--start-block", "0", "--end-block",
                                str(to), "--provider-uri", url, "--blocks-output", str(folder / "blocks.csv"),
                                "--transactions-output", str(folder / "transactions.csv"), "--batch-size", "100",
                                "--max-workers", str(workers)], check=True, capture_output=True)
                if to == last:
                    exported[workers] = sum(1 for _ in (folder / "transactions.csv").open()) - 1
            return run

        plan: list[tuple[str, Callable[[], None]]] = [
            ("ours in process", ours_in_process), ("kyt ingest", ours_command(last)),
            ("kyt ingest, one block", ours_command(0)), ("ethereum-etl, 1 worker", theirs(last, 1)),
            ("ethereum-etl, 5 workers", theirs(last, 5)), ("ethereum-etl, one block", theirs(0, 5))]
        runs = Runs(anvil.pid)
        for _, run in plan:  # a warm-up of each: caches, the node's and the disk's
            run()
        for round_ in range(args.rounds):
            shift = round_ % len(plan)
            for name, run in plan[shift:] + plan[:shift]:
                runs.time(name, run)
            print(f"  round {round_ + 1} of {args.rounds} done", file=sys.stderr)
    finally:
        anvil.terminate()
        shutil.rmtree(folder, ignore_errors=True)
    blocks = last + 1
    print(f"{blocks:,} blocks, {sent:,} transfers sent; ethereum-etl exported {exported[5]:,} transactions; "
          f"median of {args.rounds} rounds")
    for name, _ in plan:
        print(runs.line(name, 0 if "one block" in name else blocks))
    ours_work = [a - b for a, b in zip(runs.wall("kyt ingest"), runs.wall("kyt ingest, one block"))]
    print(f"kyt ingest throughput (start-up subtracted): {blocks / statistics.median(ours_work):,.0f} blocks/s, "
          f"{sent / statistics.median(ours_work):,.0f} transfers/s")
    for workers in (1, 5):
        name = f"ethereum-etl, {workers} worker{'s' if workers > 1 else ''}"
        work = [a - b for a, b in zip(runs.wall(name), runs.wall("ethereum-etl, one block"))]
        print(f"{name} throughput (start-up subtracted): {blocks / statistics.median(work):,.0f} blocks/s")
        print(f"  ours / theirs, {workers} worker(s): throughput {_ratios(work, ours_work)}; "
              f"as commands (start-up included) {_ratios(runs.wall(name), runs.wall('kyt ingest'))}; "
              f"in process against their throughput {_ratios(work, runs.wall('ours in process'))}")


if __name__ == "__main__":
    main()
