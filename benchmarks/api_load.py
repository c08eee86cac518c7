"""The screening API under load: `kyt serve` over a generated history, called by an async HTTP client.

    python benchmarks/api_load.py [--transfers 10M] [--seconds 20] [--concurrency 16]

Generates (once; reused while its manifest matches) a history of `--transfers` transfers with
its deposits, flagged wallets and services (benchmarks/chain_history.py), makes a fresh case
database with an admin, a service account and an API key, starts `kyt serve` on it (the real
uvicorn on 127.0.0.1) and waits for it to load. Then, for `--seconds` each, `--concurrency`
clients call without pause:

- withdrawals: `POST /v1/withdrawals/screen`, destinations drawn from flagged wallets,
  deposit senders (with funding histories) and wallets never seen, each withdrawal id new;
- deposits: `POST /v1/deposits/screen` with the history's deposits, each id new (so each is
  scored, and a case or an alert is opened where the rules say);
- replays: deposits already screened, asked again (the stored answer).

It prints, per scenario, the calls, calls a second, latency p50 / p95 / p99 as the client saw
them (milliseconds, over a kept-alive connection each), and errors (any answer not 200), and
the server's start-up time and peak memory. Client and server share this machine's cores.
The client is wrk (`--client wrk`, the default where it is installed: apt-get install wrk),
one C thread that costs the server little of the machine, or the Python async client
(`--client python`, aiohttp), which takes about a core of its own at these rates.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import chain_history  # noqa: E402

KYT = ROOT / ".venv" / "bin" / "kyt"
OUT = ROOT / "benchmarks" / "out" / "api-load"


def size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * scale)


def prepare(rows: int, deposits: int) -> dict[str, Path]:
    """The history as one Parquet file, and the lists and deposits, made once."""
    folder = OUT / f"history-{rows}"
    manifest = folder / "manifest.json"
    if not manifest.exists() or json.loads(manifest.read_text()).get("version") != chain_history.VERSION:
        print(f"generating {rows:,} transfers...", flush=True)
        chain_history.write_history(folder, rows=rows, deposits=deposits, seed=7)
    single = folder / "transfers.parquet"
    if not single.exists():
        chain_history.write_single_file(folder / "dataset", single)
    inputs = OUT / f"inputs-{deposits}"
    if not (inputs / "manifest.json").exists():
        chain_history.write_inputs(inputs, deposits=deposits, seed=7)
    return {"transfers": single, "flagged": inputs / "flagged.csv", "services": inputs / "services.csv",
            "deposits": inputs / "deposits.parquet"}


def database(folder: Path) -> tuple[str, dict[str, str], str]:
    """A fresh database with an admin and a service account; its URL, the server's environment, an API key."""
    from cases import api_keys, staff
    from cases.db import open_store

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "api.db"
    for stale in folder.glob("api.db*"):
        stale.unlink()
    url = f"sqlite:///{path}"
    store = open_store(url)
    now = datetime.now(timezone.utc)
    staff.add_user(store, "system:bench", "ada", role="admin", now=now, password=secrets.token_urlsafe(12))
    secret = secrets.token_urlsafe(24)
    staff.add_user(store, "ada", "api-bench", role="system", now=now, password=secret)
    _, key = api_keys.add_key(store, "ada", "load", now=now, rate_per_second=100_000,
                              scopes=["deposits:screen", "withdrawals:screen"])
    store.dispose()
    return url, {**os.environ, "KYT_SERVICE": "api-bench", "KYT_SERVICE_SECRET": secret}, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_gb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


async def hammer(base: str, key: str, bodies, *, path: str, seconds: float, concurrency: int) -> dict:
    """Call `path` from `concurrency` clients for `seconds`; latencies (ms) and errors."""
    import aiohttp

    latencies: list[float] = []
    errors: dict[str, int] = {}
    stop = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}

    async def client() -> None:
        connector = aiohttp.TCPConnector(limit=1)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            while time.perf_counter() < stop:
                body = next(bodies)
                started = time.perf_counter()
                try:
                    async with session.post(base + path, data=body) as answer:
                        await answer.read()
                        status = answer.status
                except aiohttp.ClientError as error:
                    status = type(error).__name__
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    spent = time.perf_counter() - began
    found = np.array(latencies)
    return {"calls": len(found), "per_second": len(found) / spent, "p50": float(np.percentile(found, 50)),
            "p95": float(np.percentile(found, 95)), "p99": float(np.percentile(found, 99)), "errors": errors}


WRK_SCRIPT = r"""
local bodies, counter, mode = {}, 0, "cycle"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
init = function(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
  mode = args[2]
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end
request = function()
  counter = counter + 1
  local body
  if mode == "unique" then
    body = string.gsub(bodies[(counter - 1) % #bodies + 1], "{n}", tostring(counter))
  elseif mode == "each" then
    body = bodies[(counter - 1) % #bodies + 1]
  else
    body = bodies[math.random(#bodies)]
  end
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"calls": %d, "seconds": %f, "non_200": %d, "socket_errors": %d, ' ..
    '"p50": %f, "p95": %f, "p99": %f}\n', summary.requests, summary.duration / 1e6, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


def wrk_hammer(url: str, key: str, lines: list[str], *, mode: str, seconds: float, concurrency: int) -> dict:
    """Call `url` with wrk (C, one thread, `concurrency` kept-alive connections) for `seconds`: bodies from `lines`,
    each once in order (`each`), drawn at random (`cycle`), or with `{n}` made unique per call (`unique`)."""
    folder = OUT / "wrk"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bodies.txt").write_text("\n".join(lines) + "\n")
    (folder / "load.lua").write_text(WRK_SCRIPT)
    done = subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                           "-s", str(folder / "load.lua"), url, "--", str(folder / "bodies.txt"), mode, key],
                          capture_output=True, text=True, check=True)
    found = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))[7:])
    errors = {k: v for k, v in (("not 200", found["non_200"]), ("socket", found["socket_errors"])) if v}
    return {"calls": found["calls"], "per_second": found["calls"] / found["seconds"], "p50": found["p50"],
            "p95": found["p95"], "p99": found["p99"], "errors": errors}


def wrk_lines(inputs: dict[str, Path], rng: np.random.Generator, *, tag: str) -> dict[str, list[str]]:
    """Bodies for wrk: withdrawal templates (ids made unique per call), the deposits in order (each new once)."""
    table = pq.read_table(inputs["deposits"]).to_pylist()
    flagged = [line.split(",")[0] for line in inputs["flagged"].read_text().splitlines()[1:]]
    senders = [row["from_address"] for row in table]
    withdrawals = []
    for n in range(50_000):
        pick = rng.random()
        address = (flagged[rng.integers(len(flagged))] if pick < 0.2 else
                   senders[rng.integers(len(senders))] if pick < 0.8 else "0x" + rng.bytes(20).hex())
        withdrawals.append(json.dumps({"withdrawal_id": f"w-{tag}-{n}-{{n}}", "customer_id": "c", "address": address,
                                       "asset": "ETH", "amount": "1.5", "usd_value": "4500"}))
    deposits = [json.dumps({k: (v if not isinstance(v, datetime) else v.isoformat()) for k, v in row.items()})
                for row in table]
    return {"withdrawals": withdrawals, "deposits": deposits}


def bodies_for(inputs: dict[str, Path], rng: np.random.Generator):
    """Endless withdrawal bodies, endless fresh deposit bodies, and the deposits sent (for replays)."""
    table = pq.read_table(inputs["deposits"]).to_pylist()
    flagged = [line.split(",")[0] for line in inputs["flagged"].read_text().splitlines()[1:]]
    senders = [row["from_address"] for row in table]

    def withdrawals():
        n = 0
        while True:
            n += 1
            pick = rng.random()
            address = (flagged[rng.integers(len(flagged))] if pick < 0.2 else
                       senders[rng.integers(len(senders))] if pick < 0.8 else "0x" + rng.bytes(20).hex())
            yield json.dumps({"withdrawal_id": f"w-{n}", "customer_id": "c", "address": address, "asset": "ETH",
                              "amount": "1.5", "usd_value": "4500"})

    sent: list[str] = []

    def deposits():
        for row in table:
            body = json.dumps({k: (v if not isinstance(v, datetime) else v.isoformat()) for k, v in row.items()})
            sent.append(body)
            yield body
        raise SystemExit("ran out of deposits: give --deposits more")

    def replays():
        while True:
            yield sent[rng.integers(len(sent))]

    return withdrawals(), deposits(), replays()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", default="10M")
    parser.add_argument("--deposits", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk" if shutil.which("wrk") else "python",
                        help="the load generator: wrk (C; apt-get install wrk) or the Python async client")
    parser.add_argument("--only", default="withdrawals,deposits,replays",
                        help="the scenarios to run, comma-separated (replays need deposits first)")
    args = parser.parse_args()
    rows = size(args.transfers)
    inputs = prepare(rows, args.deposits)
    url, env, key = database(OUT / "db")
    port = free_port()
    log = open(OUT / "serve.log", "w")
    started = time.perf_counter()
    server = subprocess.Popen([str(KYT), "serve", "--transfers", str(inputs["transfers"]), "--flagged",
                               str(inputs["flagged"]), "--services", str(inputs["services"]), "--db", url,
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    import urllib.request

    while True:
        try:
            urllib.request.urlopen(base + "/v1/health", timeout=1)
            break
        except OSError:
            if server.poll() is not None:
                raise SystemExit("kyt serve stopped: " + (OUT / "serve.log").read_text())
            time.sleep(0.5)
    ready = time.perf_counter() - started
    print(f"kyt serve on {rows:,} transfers: ready in {ready:.1f} s, {peak_rss_gb(server.pid):.2f} GB peak so far "
          f"(pid {server.pid})", flush=True)
    rng = np.random.default_rng(1)
    withdrawals, deposits, replays = bodies_for(inputs, rng)
    wrk_bodies = wrk_lines(inputs, rng, tag=secrets.token_hex(4)) if args.client == "wrk" else {}
    sent_deposits = 0
    results = {}
    try:
        chosen = set(args.only.split(","))
        for short, name, path, bodies in (("withdrawals", "withdrawals", "/v1/withdrawals/screen", withdrawals),
                                          ("deposits", "deposits (new)", "/v1/deposits/screen", deposits),
                                          ("replays", "deposits (replayed)", "/v1/deposits/screen", replays)):
            if short not in chosen:
                continue
            if args.client == "wrk":
                lines = wrk_bodies[short if short != "replays" else "deposits"]
                if short == "replays":  # the deposits the run before sent, asked again at random
                    lines = lines[:max(1, sent_deposits)]
                results[name] = wrk_hammer(base + path, key, lines, seconds=args.seconds,
                                           concurrency=args.concurrency,
                                           mode={"withdrawals": "unique", "deposits": "each"}.get(short, "cycle"))
                if short == "deposits":
                    sent_deposits = results[name]["calls"]
            else:
                results[name] = asyncio.run(hammer(base, key, bodies, path=path, seconds=args.seconds,
                                                   concurrency=args.concurrency))
            r = results[name]
            print(f"{name:20s} {r['calls']:>7,} calls  {r['per_second']:>7.0f}/s  p50 {r['p50']:6.1f} ms  "
                  f"p95 {r['p95']:6.1f} ms  p99 {r['p99']:6.1f} ms  errors {r['errors'] or 0}", flush=True)
    finally:
        print(f"server peak memory {peak_rss_gb(server.pid):.2f} GB")
        server.terminate()
        server.wait(timeout=30)
    (OUT / "results.json").write_text(json.dumps({"transfers": rows, "ready_s": ready, "results": results}, indent=2))


if __name__ == "__main__":
    main()
