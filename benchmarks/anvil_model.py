"""How many ordinary senders the address-risk model sends to review on a fresh local chain.

    .venv/bin/python benchmarks/anvil_model.py --model M [--accounts 18] [--transfers 60] [--seed 0]

Starts anvil (chain id 1) on a free local port, sends `--transfers` plain ETH transfers among
its funded accounts (seeded random senders, receivers and values of 0.05-3 ETH, hours to days
apart), about a third of them into two platform deposit addresses (customers alice and bob),
the rest among the other accounts so that the senders have some history. Then it ingests the
chain with `kyt ingest` and scores the deposits with `kyt score --model M` against an empty
flagged list, and prints how many deposits' senders are at or above the model's threshold
(they would go to review), their share, and the probabilities' minimum, median and maximum.
Nothing on this chain is risky: a model that flags most of it has learned something other
than behaviour. anvil is stopped at the end, also on error.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
ANVIL = ROOT / "tools" / "node" / "node_modules" / ".bin" / "anvil"
KYT = ROOT / ".venv" / "bin" / "kyt"
CUSTOMERS = ("alice", "bob")
DEPOSIT_SHARE = 1 / 3
MIN_ETH, MAX_ETH = 0.05, 3.0
MIN_GAP, MAX_GAP = 3_600, 3 * 86_400  # seconds between transfers: an hour to three days
ETH_PRICE = 2000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def anvil_node(accounts: int) -> Iterator[str]:
    """A fresh anvil chain (chain id 1, `accounts` funded accounts) on a free local port, ready: its URL."""
    from web3 import Web3

    if not ANVIL.exists():
        sys.exit(f"{ANVIL} is missing (npm install in tools/node)")
    port = free_port()
    process = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--chain-id", "1", "--port", str(port), "--silent",
                                "--accounts", str(accounts)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)  # its own group: the node wrapper and the anvil it starts
    url = f"http://127.0.0.1:{port}"
    try:
        w3 = Web3(Web3.HTTPProvider(url))
        for _ in range(100):
            try:
                w3.eth.chain_id
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.1)
        else:
            raise RuntimeError(f"anvil did not answer on {url} within 10 s")
        yield url
    finally:
        stop_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop_group(process, signal.SIGKILL)
            process.wait()


def stop_group(process: subprocess.Popen, signal_number: int) -> None:
    """Send `signal_number` to the process group `process` leads (nothing if it is gone already)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal_number)


def send_transfers(url: str, *, count: int, seed: int) -> dict[str, str]:
    """Send `count` seeded random ETH transfers, a share into the deposit addresses; {deposit address: customer}."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url))
    accounts = list(w3.eth.accounts)
    if len(accounts) < len(CUSTOMERS) + 2:
        sys.exit(f"--accounts must be at least {len(CUSTOMERS) + 2}")
    deposit_addresses = dict(zip(accounts[-len(CUSTOMERS):], CUSTOMERS))
    others = accounts[:-len(CUSTOMERS)]
    rng = random.Random(seed)
    for _ in range(count):
        w3.provider.make_request("evm_increaseTime", [rng.randint(MIN_GAP, MAX_GAP)])
        sender = rng.choice(others)
        if rng.random() < DEPOSIT_SHARE:
            receiver = rng.choice(list(deposit_addresses))
        else:
            receiver = rng.choice([a for a in others if a != sender])
        value = Web3.to_wei(round(rng.uniform(MIN_ETH, MAX_ETH), 4), "ether")
        tx = w3.eth.send_transaction({"from": sender, "to": receiver, "value": value})
        w3.eth.wait_for_transaction_receipt(tx)  # anvil mines each transaction in its own block
    return {address.lower(): customer for address, customer in deposit_addresses.items()}


def chain_span(url: str) -> tuple[int, int, int]:
    """The head's number, and the genesis and head timestamps (unix seconds)."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url))
    head = w3.eth.get_block("latest")
    return head["number"], w3.eth.get_block(0)["timestamp"], head["timestamp"]


def write_inputs(folder: Path, deposit_addresses: dict[str, str], *, first: int, last: int) -> dict[str, Path]:
    """Write the deposit addresses, prices (ETH at ETH_PRICE each day from `first` to `last`) and an empty flagged list."""
    paths = {name: folder / f"{name}.csv" for name in ("addresses", "prices", "flagged")}
    with paths["addresses"].open("w", newline="") as sink:
        out = csv.writer(sink)
        out.writerow(["address", "customer_id"])
        out.writerows(deposit_addresses.items())
    day = datetime.fromtimestamp(first, timezone.utc).date()
    end = datetime.fromtimestamp(last, timezone.utc).date()
    with paths["prices"].open("w", newline="") as sink:
        out = csv.writer(sink)
        out.writerow(["asset", "day", "price"])
        while day <= end:
            out.writerow(["ETH", day.isoformat(), ETH_PRICE])
            day += timedelta(days=1)
    paths["flagged"].write_text("address,category,source,listed_at,delisted_at\n")
    return paths


def run_kyt(*arguments: str) -> str:
    """Run `kyt` with `arguments`; its standard output, or exit with its error."""
    done = subprocess.run([str(KYT), *arguments], capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        sys.exit(f"kyt {' '.join(arguments)} failed ({done.returncode}):\n{done.stderr or done.stdout}")
    return done.stdout


def score(url: str, folder: Path, inputs: dict[str, Path], *, model: Path, head: int, as_of: int) -> list[dict]:
    """Ingest the chain to files with `kyt ingest` and score its deposits with `kyt score --model`; the rows written."""
    transfers, deposits, decisions = folder / "transfers.csv", folder / "deposits.csv", folder / "decisions.csv"
    run_kyt("ingest", "--rpc", url, "--from-block", "0", "--to-block", str(head), "--confirmations", "0",
            "--chain-id", "1", "--out", str(transfers), "--prices", str(inputs["prices"]),
            "--deposit-addresses", str(inputs["addresses"]), "--deposits-out", str(deposits))
    run_kyt("score", str(deposits), "--transfers", str(transfers), "--flagged", str(inputs["flagged"]),
            "--as-of", str(as_of), "--no-cases", "--model", str(model), "--out", str(decisions))
    with decisions.open(newline="") as source:
        return list(csv.DictReader(source))


def report(rows: list[dict], threshold: float, *, seconds: float) -> None:
    """Print the deposits scored, the threshold, how many senders reach it, and the probabilities' spread."""
    probabilities = sorted(float(row["risk_probability"]) for row in rows)
    flagged = sum(p >= threshold for p in probabilities)
    raised = sum("address-risk-model" in row["rule_ids"] for row in rows)
    print(f"deposits scored: {len(rows)}")
    print(f"model threshold: {threshold:g}")
    if not rows:
        return
    print(f"senders at or above the threshold (would go to review): {flagged} of {len(rows)} "
          f"({flagged / len(rows):.1%}); reviews by rule address-risk-model: {raised}")
    print(f"probability: min {probabilities[0]:.4f}, median {statistics.median(probabilities):.4f}, "
          f"max {probabilities[-1]:.4f}")
    print(f"time: {seconds:.1f} s (anvil, transfers, ingest and score)")


def main() -> None:
    """Parse the options, build the chain, score its deposits and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="address-risk model (kyt model train)")
    parser.add_argument("--accounts", type=int, default=18, help="anvil's funded accounts (two are deposit addresses)")
    parser.add_argument("--transfers", type=int, default=60, help="ETH transfers to send")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    threshold = float(json.loads(run_kyt("model", "show", str(args.model)))["threshold"])
    with anvil_node(args.accounts) as url, tempfile.TemporaryDirectory(prefix="anvil-model-") as temp:
        deposit_addresses = send_transfers(url, count=args.transfers, seed=args.seed)
        head, first, last = chain_span(url)
        inputs = write_inputs(Path(temp), deposit_addresses, first=first, last=last)
        rows = score(url, Path(temp), inputs, model=args.model.resolve(), head=head, as_of=last + 1)
    print(f"chain: {head} blocks, {args.transfers} transfers among {args.accounts} accounts over "
          f"{(last - first) / 86_400:.1f} days (seed {args.seed})")
    report(rows, threshold, seconds=time.perf_counter() - started)


if __name__ == "__main__":
    main()
