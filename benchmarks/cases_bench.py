"""What opening cases costs a batch: `kyt score` with cases against `--no-cases`, a re-run, and the floor.

    python benchmarks/cases_bench.py                                   # 2M transfers, 500k deposits, 3 rounds
    python benchmarks/cases_bench.py --transfers 200000 --deposits 50000 --rounds 1
    python benchmarks/cases_bench.py --postgres postgresql://postgres@127.0.0.1:5432/postgres

Generates (once, kept in benchmarks/out/) a power-law transfers graph with the generator of
benchmarks/exposure_bench.py, as CSV in and out like a user's batch, then runs in
alternation, `--rounds` times, each as a whole process with its wall time and peak memory:

- floor:       a bare pyarrow + numpy computation of hop-1 and hop-2 shares, written as CSV
               (no checks, no exact decimals, no evidence: what any engine must at least do);
- no-cases:    `kyt score --no-cases --out --exposures-out`;
- cases:       the same with cases, on a fresh SQLite database;
- rerun:       the same again on that database: every deposit decided under this snapshot;
- rescore:     the same with `--rescore`: every deposit scored again, every case already open;
- postgresql:  `cases` on a fresh PostgreSQL database (with --postgres, an admin URL).

It prints the medians, the ratios the targets are about, and cases and alerts opened per
second (from the `cases` and `alerts` steps of the run's `time:` line). Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from chain_scale_bench import PeakMemory  # noqa: E402

KYT = HERE.parent / ".venv" / "bin" / "kyt"
AS_OF = "2024-06-01T00:00:00Z"
GB = 1 << 30


def ensure_data(args: argparse.Namespace) -> Path:
    """transfers.csv, deposits.csv and flagged.csv (exposure_bench's generator), generated once per size and seed."""
    import exposure_bench
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    folder = exposure_bench.OUT / (f"t{args.transfers}-a{args.addresses}-f{args.flagged}-d{args.deposits}"
                                   f"-s{args.seed}")
    if all((folder / name).exists() for name in ("transfers.csv", "deposits.csv", "flagged.csv")):
        print(f"data: reusing {folder}")
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    exposure_bench.generate(argparse.Namespace(transfers=args.transfers, addresses=args.addresses,
                                               flagged=args.flagged, deposits=args.deposits, seed=args.seed,
                                               formats="csv"), folder)
    deposits = pq.read_table(folder / "deposits.parquet")
    unix = pc.cast(pc.cast(pc.cast(deposits["timestamp"], pa.timestamp("s", "UTC")), pa.int64()), pa.string())
    pcsv.write_csv(deposits.set_column(3, "timestamp", unix), folder / "deposits.csv")
    print(f"data: generated in {folder} in {time.perf_counter() - clock:.1f} s")
    return folder


def floor(folder: Path, out: Path) -> None:
    """The bare computation: read the CSVs, hop-1 flags and hop-2 shares by sorting and prefix sums, write a CSV."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    transfers = pcsv.read_csv(folder / "transfers.csv")
    deposits = pcsv.read_csv(folder / "deposits.csv")
    flagged = pcsv.read_csv(folder / "flagged.csv")
    names = pc.unique(pa.chunked_array(transfers["to_address"].chunks + transfers["from_address"].chunks
                                       + deposits["from_address"].chunks))
    code = {name: pc.index_in(column, value_set=names).to_numpy(zero_copy_only=False)
            for name, column in (("src", transfers["from_address"]), ("dst", transfers["to_address"]),
                                 ("sender", deposits["from_address"]))}
    is_flagged = np.zeros(len(names) + 1, dtype=bool)
    listed = pc.index_in(flagged["address"], value_set=names).to_numpy(zero_copy_only=False)
    is_flagged[np.nan_to_num(listed, nan=len(names)).astype(np.int64)] = True
    order = (transfers["block_number"].to_numpy().astype(np.int64) << 20) | transfers["position"].to_numpy()
    usd = pc.fill_null(transfers["usd_value"], 0).to_numpy().astype(np.float64)
    by = np.lexsort((order, code["dst"]))
    dst, order, usd = code["dst"][by], order[by], usd[by]
    dirty = usd * is_flagged[code["src"][by]]
    total, bad = np.r_[0, np.cumsum(usd)], np.r_[0, np.cumsum(dirty)]
    sender = code["sender"]
    d_order = (deposits["block_number"].to_numpy().astype(np.int64) << 20) | deposits["position"].to_numpy()
    first = np.searchsorted(dst, sender, "left")
    keys = dst.astype(np.int64) << 44 | order
    stop = np.searchsorted(keys, sender.astype(np.int64) << 44 | d_order, "left")
    funded, flagged_usd = total[stop] - total[first], bad[stop] - bad[first]
    share = np.divide(flagged_usd, funded, out=np.zeros_like(funded), where=funded > 0)
    direct = is_flagged[sender]
    decision = np.where(direct | (share >= 0.5), "freeze", np.where(share > 0, "review", "allow"))
    pcsv.write_csv(pa.table({"deposit_id": deposits["deposit_id"], "share": share, "decision": decision}),
                   out / "decisions.csv")


def timed(line: list[str], out: Path) -> dict:
    """Run one process: wall seconds, peak RSS of its tree, and its stderr."""
    out.mkdir(parents=True, exist_ok=True)
    clock = time.perf_counter()
    process = subprocess.Popen(line, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=out)
    memory = PeakMemory(process.pid)
    _, errors = process.communicate()
    wall = time.perf_counter() - clock
    memory.stop()
    if process.returncode:
        raise SystemExit(f"failed ({process.returncode}): {' '.join(line)}\n{errors}")
    return {"wall_s": wall, "peak_gb": memory.peak / GB, "stderr": errors}


def score_line(folder: Path, out: Path, *extra: str) -> list[str]:
    return [str(KYT), "score", str(folder / "deposits.csv"), "--transfers", str(folder / "transfers.csv"),
            "--flagged", str(folder / "flagged.csv"), "--as-of", AS_OF, "--out", str(out / "decisions.csv"),
            "--exposures-out", str(out / "exposures.csv"), *extra]


def phase(stderr: str, name: str) -> float:
    """Seconds of one step from the `time:` line (0 when absent)."""
    found = re.search(rf"{name} ([0-9.]+) s", stderr)
    return float(found.group(1)) if found else 0.0


def opened(stderr: str) -> tuple[int, int]:
    """(cases opened, alerts added) from the summary."""
    found = re.search(r": ([0-9,]+) opened, [0-9,]+ already open; ([0-9,]+) review alerts", stderr)
    return (int(found.group(1).replace(",", "")), int(found.group(2).replace(",", ""))) if found else (0, 0)


def fresh_postgres(admin: str, name: str) -> str:
    """A new, empty database `name` on the server of `admin` (dropped first if there); its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    return admin.rsplit("/", 1)[0] + "/" + name


def one_round(folder: Path, work: Path, args: argparse.Namespace, r: int) -> dict[str, dict]:
    """Each variant once, in a fixed alternation."""
    runs: dict[str, dict] = {}
    runs["floor"] = timed([sys.executable, __file__, "--floor-of", str(folder), "--floor-out", str(work / "floor")],
                          work / "floor")
    runs["no-cases"] = timed(score_line(folder, work / "no-cases", "--no-cases"), work / "no-cases")
    database = work / f"cases-{r}.db"
    for path in work.glob(f"cases-{r}.db*"):
        path.unlink()
    sqlite = ["--db", f"sqlite:///{database}"]
    runs["cases"] = timed(score_line(folder, work / "cases", *sqlite), work / "cases")
    runs["rerun"] = timed(score_line(folder, work / "rerun", *sqlite), work / "rerun")
    runs["rescore"] = timed(score_line(folder, work / "rescore", *sqlite, "--rescore"), work / "rescore")
    if args.postgres:
        url = fresh_postgres(args.postgres, f"cases_bench_{r}")
        runs["postgresql"] = timed(score_line(folder, work / "postgresql", "--db", url), work / "postgresql")
    for name, run in runs.items():
        cases, alerts = opened(run["stderr"])
        run.update(cases=cases, alerts=alerts, opening_s=phase(run["stderr"], "cases"),
                   alerts_s=phase(run["stderr"], "alerts"),
                   time_line=next((line for line in run["stderr"].splitlines() if line.startswith("time: ")), ""))
        print(f"  round {r + 1} {name:<11} {run['wall_s']:7.2f} s  peak {run['peak_gb']:.2f} GB"
              + (f"  {cases:,} cases opened in {run['opening_s']:.2f} s, {alerts:,} alerts in {run['alerts_s']:.2f} s"
                 if cases else ""),
              flush=True)
    return runs


def report(rounds: list[dict[str, dict]]) -> dict:
    names = list(rounds[0])
    wall = {n: statistics.median(r[n]["wall_s"] for r in rounds) for n in names}
    peak = {n: max(r[n]["peak_gb"] for r in rounds) for n in names}
    print(f"\nmedians of {len(rounds)} round(s), whole process, CSV in and out:")
    for n in names:
        print(f"  {n:<11} {wall[n]:7.2f} s   peak {peak[n]:.2f} GB   ({wall[n] / wall['floor']:.2f}x the floor)")
    figures = {"wall_s": wall, "peak_gb": peak}
    print("targets:")
    print(f"  with cases / --no-cases           {wall['cases'] / wall['no-cases']:.2f}x   (at most 2x)")
    print(f"  with cases / floor                {wall['cases'] / wall['floor']:.2f}x   (at most 3x)")
    print(f"  re-run, all decided / --no-cases  {wall['rerun'] / wall['no-cases']:.2f}x   (at most 1.2x)")
    print(f"  re-score, all open / --no-cases   {wall['rescore'] / wall['no-cases']:.2f}x")
    print(f"  memory with cases / --no-cases    {peak['cases'] / peak['no-cases']:.2f}x   (at most 1.2x)")
    for n in ("cases", "postgresql"):
        if n in names:
            database = "SQLite" if n == "cases" else "PostgreSQL"
            for kind, seconds in (("cases", "opening_s"), ("alerts", "alerts_s")):
                rates = [r[n][kind] / r[n][seconds] for r in rounds if r[n][seconds]]
                figures[f"{n}_{kind}_per_s"] = statistics.median(rates) if rates else 0
                print(f"  {kind} opened per second ({database}): {figures[f'{n}_{kind}_per_s']:,.0f}"
                      + (f"  ({rounds[0][n]['cases']:,} cases with their exposures, evidence, deadlines and audit "
                         "events, records built included)" + ("   (at least 5,000 on SQLite)" if n == "cases" else "")
                         if kind == "cases" else f"  ({rounds[0][n]['alerts']:,} alerts with their audit events)"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transfers", type=int, default=2_000_000)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--flagged", type=int, default=1_000)
    parser.add_argument("--deposits", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", help="an admin URL of a PostgreSQL server: also open the cases there")
    parser.add_argument("--work", type=Path, default=HERE / "out" / "cases-bench")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--floor-of", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_of:
        floor(args.floor_of, args.floor_out)
        return
    folder = ensure_data(args)
    rounds = [one_round(folder, args.work, args, r) for r in range(args.rounds)]
    figures = report(rounds)
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "rounds": [
            {n: {k: v for k, v in run.items() if k != "stderr"} for n, run in r.items()} for r in rounds]}, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
