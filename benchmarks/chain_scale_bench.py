"""How the exposure engines scale with the size of the chain history: wall time, peak memory, exactness.

    python benchmarks/chain_scale_bench.py --sizes 10M,50M,200M            # the issue's run (hours, ~40 GB disk)
    python benchmarks/chain_scale_bench.py --sizes 200k,1M --deposits 20000  # a few minutes

For each size it generates (once; reused while the manifest matches) a partitioned Parquet history
in the transfers format (benchmarks/chain_history.py) with the same deposits, flagged wallets and
services at every size, then runs `kyt score` as a subprocess with each engine: memory (sizes up
to --memory-max, on one Parquet file of the same rows), pruned, spark-local (local[2]) and
spark-cluster (a standalone master and worker on 127.0.0.1, started once). It measures the wall
time and the peak RSS of the process tree (polled from /proc every 0.2 s; for the cluster, also the
worker's executor tree), checks that every engine's decisions and exposures are the same lines,
and prints the ratios the issue asks about. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import chain_history  # noqa: E402

KYT = ROOT / ".venv" / "bin" / "kyt"
ENGINES = ("memory", "pruned", "spark-local", "spark-cluster")
AS_OF = "2024-06-01T00:00:00Z"
PAGE = os.sysconf("SC_PAGE_SIZE")
GB = 1 << 30


def parse_count(text: str) -> int:
    """A count such as 200k, 10M, 1.5M or 2000000.

    >>> parse_count("200k"), parse_count("1.5M"), parse_count("7")
    (200000, 1500000, 7)
    """
    found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgGbB]?)\s*", text)
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count (e.g. 200k, 10M)")
    scale = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9}[found.group(2).lower()]
    return int(round(float(found.group(1)) * scale))


def count_text(n: int) -> str:
    """200000 -> '200k', 10000000 -> '10M'."""
    for unit, scale in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= scale and n % (scale // 10) == 0:
            return f"{n / scale:g}{unit}"
    return str(n)


# -- memory of process trees -------------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat[stat.rindex(")") + 2:].split()[1]), []).append(int(entry.name))
    return children


def tree(root: int, children: dict[int, list[int]]) -> list[int]:
    """`root` and all its descendants."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def rss(pids: list[int]) -> int:
    """Resident bytes of the processes (those that have exited count zero)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError):
            pass
    return total


def find_worker() -> int | None:
    """The pid of a Spark standalone Worker JVM started (indirectly) by this process."""
    for pid in tree(os.getpid(), _children()):
        try:
            if b"deploy.worker.Worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return pid
        except OSError:
            continue
    return None


class PeakMemory:
    """Polls the peak RSS of a process tree (and of a worker's children) every 0.2 s in a thread."""

    def __init__(self, root: int, worker: int | None = None) -> None:
        self.root, self.worker = root, worker
        self.peak = self.executors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            children = _children()
            self.peak = max(self.peak, rss(tree(self.root, children)))
            if self.worker is not None:
                self.executors = max(self.executors, rss(tree(self.worker, children)[1:]))
            self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# -- datasets ---------------------------------------------------------------------------------

def _manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}


def ensure_inputs(data: Path, *, deposits: int, seed: int) -> Path:
    folder = data / f"inputs-d{deposits}-s{seed}"
    found = _manifest(folder)
    if found.get("version") == chain_history.VERSION and found.get("deposits") == deposits and found.get("seed") == seed:
        print(f"inputs: reusing {folder}")
        return folder
    started = time.perf_counter()
    chain_history.write_inputs(folder, deposits=deposits, seed=seed)
    print(f"inputs: {deposits:,} deposits, flagged and services written to {folder} in "
          f"{time.perf_counter() - started:.1f} s")
    return folder


def ensure_history(data: Path, *, rows: int, deposits: int, seed: int, unpriced: float,
                   single: bool) -> tuple[Path, dict]:
    """The history of `rows` transfers (generated unless a matching one is there), with one file too if `single`."""
    folder = data / f"history-{count_text(rows)}-d{deposits}-s{seed}-u{unpriced:g}"
    found = _manifest(folder)
    wanted = {"version": chain_history.VERSION, "rows": rows, "deposits": deposits, "seed": seed, "unpriced": unpriced}
    if all(found.get(k) == v for k, v in wanted.items()):
        print(f"{count_text(rows)}: reusing {folder} (generated in {found['generation_s']:.1f} s)")
        found["reused"] = True
    else:
        found = chain_history.write_history(folder, rows=rows, deposits=deposits, seed=seed, unpriced=unpriced)
        print(f"{count_text(rows)}: generated {rows:,} transfers in {found['generation_s']:.1f} s "
              f"({rows / found['generation_s']:,.0f} rows/s), {found['bytes'] / GB:.2f} GB on disk "
              f"({found['bytes'] / rows * 1e6 / 2**20:.1f} MiB per million rows), {found['partitions']} files")
    if single and not (folder / "transfers.parquet").exists():
        seconds = chain_history.write_single_file(folder / "dataset", folder / "transfers.parquet")
        print(f"{count_text(rows)}: one-file copy for the memory engine written in {seconds:.1f} s, "
              f"{chain_history.disk_bytes(folder / 'transfers.parquet') / GB:.2f} GB")
    return folder, found


# -- runs -------------------------------------------------------------------------------------

def command(engine: str, *, inputs: Path, history: Path, out: Path, master: str) -> list[str]:
    transfers = history / ("transfers.parquet" if engine == "memory" else "dataset")
    line = [str(KYT), "score", str(inputs / "deposits.parquet"), "--transfers", str(transfers),
            "--flagged", str(inputs / "flagged.csv"), "--services", str(inputs / "services.csv"),
            "--as-of", AS_OF, "--no-cases", "--engine", engine.split("-")[0],
            "--out", str(out / "decisions.csv"), "--exposures-out", str(out / "exposures.csv")]
    return line + (["--spark-master", master] if engine.startswith("spark") else [])


def run(line: list[str], *, out: Path, env: dict, worker: int | None) -> dict:
    """Run one `kyt score`: wall seconds, peak RSS of its tree (and of the executors), its summary lines."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print("  $ " + " ".join(line), flush=True)
    with open(out / "stderr.txt", "wb") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(line, stdout=subprocess.DEVNULL, stderr=stderr, env=env, cwd=out)
        memory = PeakMemory(process.pid, worker)
        code = process.wait()
        wall = time.perf_counter() - started
        memory.stop()
    text = (out / "stderr.txt").read_text(errors="replace")
    summary = {f"{key}_line": next((ln[len(key) + 2:] for ln in text.splitlines() if ln.startswith(key + ": ")), "")
               for key in ("engine", "time")}
    result = {"wall_s": round(wall, 2), "peak_gb": round(memory.peak / GB, 3), "exit": code, **summary}
    if worker is not None:
        result["executors_peak_gb"] = round(memory.executors / GB, 3)
    if code:
        result["error"] = "\n".join(text.strip().splitlines()[-8:])
    return result


def sorted_lines(path: Path) -> list[bytes]:
    with open(path, "rb") as handle:
        return sorted(handle.read().splitlines())


def difference(reference: Path, other: Path) -> str:
    """'identical', or the first differing line of the two files after sorting their lines."""
    for name in ("decisions.csv", "exposures.csv"):
        a, b = sorted_lines(reference / name), sorted_lines(other / name)
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return f"{name} sorted line {i + 1}: {x.decode()[:160]!r} != {y.decode()[:160]!r}"
        if len(a) != len(b):
            return f"{name}: {len(a):,} lines != {len(b):,} lines"
    return "identical"


def spark_env(args: argparse.Namespace) -> dict:
    """The environment of a Spark run: driver and executor memory through PYSPARK_SUBMIT_ARGS."""
    submit = f"--driver-memory {args.driver_memory} --conf spark.executor.memory={args.executor_memory} pyspark-shell"
    return {**os.environ, "PYSPARK_SUBMIT_ARGS": submit}


# -- report ------------------------------------------------------------------------------------

def report(records: list[dict], sizes: list[int]) -> None:
    print(f"\n{'size':>6} {'engine':<14} {'wall s':>9} {'peak GB':>8} {'s per M':>8} {'exec GB':>8}  check")
    for r in records:
        if r["exit"]:
            print(f"{count_text(r['size']):>6} {r['engine']:<14} {'failed':>9}  (exit {r['exit']}, see below)")
            continue
        executors = f"{r['executors_peak_gb']:8.2f}" if "executors_peak_gb" in r else f"{'':>8}"
        print(f"{count_text(r['size']):>6} {r['engine']:<14} {r['wall_s']:9.1f} {r['peak_gb']:8.2f} "
              f"{r['s_per_m']:8.2f} {executors}  {r.get('check', '')}")
    ok = {(r["size"], r["engine"]): r for r in records if not r["exit"]}
    print("\npruned / memory wall time (target <= 2x at 10M):")
    for size in sizes:
        if (size, "pruned") in ok and (size, "memory") in ok:
            print(f"  {count_text(size)}: {ok[size, 'pruned']['wall_s'] / ok[size, 'memory']['wall_s']:.2f}x")
    print("per engine, smallest -> largest size (targets: peak memory independent of size; s per M within 30%):")
    for engine in ENGINES:
        ran = [ok[s, engine] for s in sizes if (s, engine) in ok]
        if len(ran) >= 2:
            first, last = ran[0], ran[-1]
            print(f"  {engine:<14} {count_text(first['size'])} -> {count_text(last['size'])}: peak "
                  f"{first['peak_gb']:.2f} -> {last['peak_gb']:.2f} GB ({last['peak_gb'] / first['peak_gb']:.2f}x), "
                  f"s per M {first['s_per_m']:.2f} -> {last['s_per_m']:.2f} ({last['s_per_m'] / first['s_per_m']:.2f}x)")
    for r in records:
        if r["exit"]:
            print(f"\n{count_text(r['size'])} {r['engine']} failed (exit {r['exit']}):\n{r['error']}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10M,50M,200M", help="transfers per history, e.g. 200k,1M,10M")
    parser.add_argument("--engines", default=",".join(ENGINES), help="any of " + ", ".join(ENGINES))
    parser.add_argument("--deposits", type=parse_count, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/chain-scale"))
    parser.add_argument("--memory-max", type=parse_count, default=10_000_000,
                        help="largest size the memory engine runs at (a 10M table costs about 3 GB)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--unpriced", type=float, default=chain_history.UNPRICED,
                        help="share of transfers without a price (empty usd_value)")
    parser.add_argument("--worker-memory", default="8g", help="memory of the standalone worker (2 cores)")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory (via PYSPARK_SUBMIT_ARGS)")
    parser.add_argument("--executor-memory", default="6g", help="spark.executor.memory on the standalone worker")
    parser.add_argument("--keep", action="store_true",
                        help="keep the generated datasets and the runs' outputs under DATA_DIR/runs (default: remove them)")
    parser.add_argument("--generate-only", action="store_true", help="generate the datasets and stop")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    sizes = sorted(parse_count(s) for s in args.sizes.split(","))
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engines {', '.join(sorted(unknown))}: use {', '.join(ENGINES)}")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    inputs = ensure_inputs(args.data_dir, deposits=args.deposits, seed=args.seed)
    histories = {size: ensure_history(args.data_dir, rows=size, deposits=args.deposits, seed=args.seed,
                                      unpriced=args.unpriced, single="memory" in engines and size <= args.memory_max)
                 for size in sizes}
    records: list[dict] = []
    if not args.generate_only:
        records = run_all(args, sizes=sizes, engines=engines, inputs=inputs, histories=histories)
        report(records, sizes)
    if args.json:
        generation = {count_text(size): manifest for size, (_, manifest) in histories.items()}
        args.json.write_text(json.dumps({"sizes": sizes, "deposits": args.deposits, "generation": generation,
                                         "runs": records}, indent=2))
        print(f"wrote {args.json}")
    if not args.keep:
        shutil.rmtree(args.data_dir / "runs", ignore_errors=True)
        for folder, _ in histories.values():
            shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(inputs, ignore_errors=True)


def wait_idle(cluster, timeout: float = 120.0) -> None:
    """Wait until the cluster runs no application and its worker has given back every core and all memory."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = cluster.state() or {}
        workers = state.get("workers", [])
        if state and not state.get("activeapps") and all(not w.get("coresused") and not w.get("memoryused")
                                                          for w in workers):
            return
        time.sleep(0.5)
    print(f"  (the cluster was still busy {timeout:g} s after the run)")


def run_all(args: argparse.Namespace, *, sizes: list[int], engines: list[str], inputs: Path,
            histories: dict) -> list[dict]:
    """Every (size, engine) run, the standalone cluster started once around them when asked for."""
    cluster, master, worker = None, "local[2]", None
    if "spark-cluster" in engines:
        from tests.spark_cluster import StandaloneCluster

        cluster = StandaloneCluster(cores=2, memory=args.worker_memory).__enter__()
        worker = find_worker()
        print(f"standalone cluster {cluster.master_url} (worker pid {worker}, 2 cores, {args.worker_memory})")
    records = []
    try:
        for size in sizes:
            folder, _ = histories[size]
            done: dict[str, Path] = {}
            for engine in engines:
                if engine == "memory" and size > args.memory_max:
                    continue
                out = args.data_dir / "runs" / f"{count_text(size)}-{engine}"
                spark_master = cluster.master_url if engine == "spark-cluster" else master
                line = command(engine, inputs=inputs, history=folder, out=out, master=spark_master)
                env = spark_env(args) if engine.startswith("spark") else dict(os.environ)
                record = run(line, out=out, env=env, worker=worker if engine == "spark-cluster" else None)
                if record["exit"] and "did not accept this application" in record.get("error", ""):
                    print("  the master was slow to accept the application (a loaded machine): once more", flush=True)
                    record = run(line, out=out, env=env, worker=worker if engine == "spark-cluster" else None)
                    record["retried"] = True
                record.update(size=size, engine=engine, s_per_m=round(record["wall_s"] / (size / 1e6), 3))
                if not record["exit"]:
                    if done:
                        first = next(iter(done))
                        record["check"] = f"vs {first}: {difference(done[first], out)}"
                    done[engine] = out
                print(f"  {engine}: {record['wall_s']:.1f} s, peak {record['peak_gb']:.2f} GB, exit {record['exit']}"
                      + (f"; {record['engine_line']}" if record.get("engine_line") else "")
                      + (f"; {record['check']}" if record.get("check") else ""), flush=True)
                records.append(record)
                if engine == "spark-cluster":
                    wait_idle(cluster)
    finally:
        if cluster is not None:
            cluster.__exit__(None, None, None)
    return records


if __name__ == "__main__":
    main()
