"""Ingestion speed against a local node, side by side with ethereum-etl on the same node and blocks.

    python benchmarks/ingest_bench.py [--blocks 1000] [--per-block 5]

Starts anvil (tools/node), makes `--blocks` blocks of native transfers, then times `kyt ingest`'s engine (graph.ingestion, confirmations 0) and
`ethereumetl export_blocks_and_transactions` with 1 and with 5 workers (installed once into benchmarks/out/etl-venv,
with parsimonious 0.9.0 so that ethereum-etl 2.4.2 runs on Python 3.11). ethereum-etl
exports blocks and transactions only; ours also reads receipts and Transfer logs. ethereum-etl
and `kyt ingest` are both timed as commands (start-up included); ethereum-etl's start-up
(timed on a one-block export) is also subtracted for a work-only ratio against our
in-process run.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--per-block", type=int, default=5)
    args = parser.parse_args()
    from graph.chain import Node
    from graph.ingestion import Ingestion

    command = etl()
    port = _port()
    anvil = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--accounts", "10",
                              "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        time.sleep(1.5)
        sent = make_traffic(url, args.blocks, args.per_block)
        folder = Path(tempfile.mkdtemp())
        started = time.perf_counter()
        job = Ingestion(Node(url), folder / "t.csv", folder / "t.json", 0, confirmations=0, batch=100)
        summary = job.run()
        ours = time.perf_counter() - started
        assert summary.transfers == sent, (summary.transfers, sent)
        last = job.state.next_block - 1
        kyt = Path(sys.executable).parent / "kyt"
        started = time.perf_counter()
        subprocess.run([str(kyt), "ingest", "--rpc", url, "--from-block", "0", "--to-block", str(last), "--out",
                        str(folder / "cli.csv"), "--confirmations", "0", "--batch", "100"], check=True,
                       capture_output=True)
        ours_command = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([str(command), "export_blocks_and_transactions", "--start-block", "0", "--end-block", "0",
                        "--provider-uri", url, "--blocks-output", str(folder / "b0.csv"),
                        "--transactions-output", str(folder / "t0.csv")], check=True, capture_output=True)
        startup = time.perf_counter() - started
        theirs = {}
        for workers in (1, 5):
            started = time.perf_counter()
            subprocess.run([str(command), "export_blocks_and_transactions", "--start-block", "0", "--end-block",
                            str(last), "--provider-uri", url, "--blocks-output", str(folder / "blocks.csv"),
                            "--transactions-output", str(folder / "transactions.csv"), "--batch-size", "100",
                            "--max-workers", str(workers)], check=True, capture_output=True)
            theirs[workers] = time.perf_counter() - started
        exported = sum(1 for _ in (folder / "transactions.csv").open()) - 1
        shutil.rmtree(folder)
    finally:
        anvil.terminate()
    blocks = last + 1
    print(f"{blocks:,} blocks, {sent:,} transfers sent")
    print(f"kyt ingest:   {ours:.2f} s = {blocks / ours:,.0f} blocks/s, {summary.transfers / ours:,.0f} transfers/s "
          f"(blocks, receipts and Transfer logs)")
    print(f"kyt ingest as a command (start-up included): {ours_command:.2f} s = {blocks / ours_command:,.0f} blocks/s")
    print(f"ethereum-etl start-up (a one-block export): {startup:.2f} s")
    for workers, seconds in theirs.items():
        work = max(seconds - startup, 1e-9)
        print(f"ethereum-etl, {workers} worker(s): {seconds:.2f} s = {blocks / seconds:,.0f} blocks/s, "
              f"{exported / seconds:,.0f} transactions/s; without start-up {work:.2f} s = {blocks / work:,.0f} blocks/s")
        print(f"  ratio: kyt ingest is {seconds / ours_command:.2f}x the speed of ethereum-etl with {workers} worker(s) "
              f"as commands are run; {work / ours:.2f}x on the work alone")


if __name__ == "__main__":
    main()
