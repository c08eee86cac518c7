"""Scoring time with and without the address-risk model, on the exposure benchmark's files.

    python benchmarks/model_bench.py [--size t10000000-a1000000-f1000-d1000000-s7] [--tedge DIR]

Trains a model on the T-EDGE sample (XBlock's xblock_tedge_445 folder, given with --tedge the
first time; converted into benchmarks/out/tedge once), then scores the benchmark's deposits
twice in fresh processes, without and with `--model`, opening no cases; prints each run's time
breakdown, peak memory and the ratio. Run benchmarks/exposure_bench.py first to generate the files.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out"


def model_file(tedge_dir: Path | None) -> Path:
    """A model trained on T-EDGE's train split (made once, from `tedge_dir`)."""
    from kyt import learning, risk, tedge

    path = OUT / "tedge" / "model.joblib"
    if not path.exists():
        if tedge_dir is None:
            sys.exit(f"{path} is not made yet: give the T-EDGE folder with --tedge DIR")
        transfers, labels, _ = tedge.convert(tedge_dir, OUT / "tedge")
        model, _ = learning.train(learning.load_graph(transfers), learning.read_labels(labels),
                                  now=datetime.now(timezone.utc))
        risk.save(model, path)
    return path


def child(folder: Path, model: str) -> None:
    """One scoring run in this process; prints its figures as JSON."""
    from graph.times import parse_time
    from kyt import batch

    request = batch.ScoreRequest(folder / "deposits.parquet", folder / "transfers.parquet", folder / "flagged.csv",
                                 parse_time("2026-11-20"), model=Path(model) if model else None)
    clock = time.perf_counter()
    result = batch.run(request)
    seconds = time.perf_counter() - clock
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(json.dumps({"seconds": seconds, "parts": result.seconds, "peak_gb": peak, "counts": result.decisions.counts(),
                      "raised": int(len(result.risk.raised)) if result.risk is not None else 0}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="t10000000-a1000000-f1000-d1000000-s7")
    parser.add_argument("--tedge", type=Path, help="The T-EDGE folder (edges.csv.gz, nodes_train_test_split.csv.gz); "
                                                   "needed until the model is made")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    folder = OUT / args.size
    if not (folder / "transfers.parquet").exists():
        sys.exit(f"{folder} has no benchmark files: run benchmarks/exposure_bench.py first")
    model = model_file(args.tedge)
    runs = {}
    for name, chosen in (("without the model", ""), ("with the model", str(model))):
        done = subprocess.run([sys.executable, __file__, "--child", str(folder), chosen], check=True,
                              capture_output=True, text=True)
        runs[name] = json.loads(done.stdout.strip().splitlines()[-1])
        found = runs[name]
        parts = ", ".join(f"{k} {v:.2f} s" for k, v in found["parts"].items())
        print(f"{name}: {found['seconds']:.2f} s ({parts}); peak {found['peak_gb']:.2f} GB; {found['counts']}"
              + (f"; {found['raised']:,} allowed deposits raised to review" if found["raised"] else ""))
    ratio = runs["with the model"]["seconds"] / runs["without the model"]["seconds"]
    print(f"ratio: scoring with the model takes {ratio:.2f}x the time without it (target: within 2x)")


if __name__ == "__main__":
    main()
