"""Which engine scores a batch, and how it is set up: in memory, by a pruned scan, or on Spark.

- memory: the whole transfers file is read, checked and indexed (needed by the address-risk model);
- pruned: only the transfers into the deposits' senders are read from a file or a Parquet
  dataset larger than memory (graph/pruned.py), then indexed as in memory;
- spark: the same definition on Apache Spark (graph/spark_engine.py); the driver never holds
  the transfers;
- auto: memory for a file whose table fits comfortably in memory, pruned otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from graph.engines import ENGINES, LocalEngine
from graph.formats import CHAIN_COLUMN
from graph.exposure import ActiveFlags, FlagView, is_service
from graph.index import InboundIndex
from graph.model import Deposits, FlaggedWallets, Services, Transfers
from kyt.errors import KytError

if TYPE_CHECKING:
    from kyt.batch import Progress, ScoreRequest

BYTES_PER_TRANSFER = 320
"""What one transfer costs the in-memory engine (read, checked and indexed), measured on 10M rows."""
MEMORY_SHARE = 0.25
"""auto reads the whole table when it needs at most this share of the machine's memory."""


def machine_memory() -> int:
    """Physical memory in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def choose(engine: str, transfers: Path, *, needs_whole: bool = False, memory: int | None = None) -> str:
    """The engine that will run: `engine` itself, or for auto memory / pruned by the table's size.

    `needs_whole` (the address-risk model reads every transfer) asks for memory; another
    engine then is refused with KytError.
    """
    if engine not in ENGINES:
        raise KytError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if needs_whole and engine not in ("auto", "memory"):
        raise KytError(f"the address-risk model (--model) needs the whole transfers table: use --engine memory, "
                       f"not {engine}")
    if engine == "spark" and transfers.suffix.lower() in (".csv", ".gz"):
        raise KytError(f"--engine spark reads Parquet (a file or a dataset directory), and {transfers} is CSV: "
                       "write it as Parquet, or use --engine pruned")
    if engine != "auto":
        if engine == "memory" and transfers.is_dir():
            raise KytError(f"{transfers} is a directory: the in-memory engine reads one file; use --engine pruned "
                           "or --engine spark")
        return engine
    if needs_whole:
        return "memory"
    if transfers.is_dir():
        return "pruned"
    from graph.pruned import transfers_size

    size = transfers_size(transfers)
    rows = size.rows if size.rows is not None else size.bytes // 100  # a CSV line is about 200 bytes
    budget = (memory if memory is not None else machine_memory()) * MEMORY_SHARE
    return "memory" if rows * BYTES_PER_TRANSFER <= budget else "pruned"


def build(kind: str, request: "ScoreRequest", *, deposits: Deposits, flagged: FlaggedWallets,
          services: Services | None, transfers: Transfers | None, categories: list[str], lookback: int | None,
          progress: "Progress"):
    """The engine of `kind`, ready to score `deposits` (for memory, `transfers` is the whole table).

    With no deposit to score, no transfer is read and no Spark started: an engine on an empty table.
    """
    if not len(deposits):
        from graph.pruned import no_transfers

        index = InboundIndex.build(no_transfers())
        return LocalEngine(index, FlagView.build(index, flagged, request.as_of, categories=categories), services,
                           request.method, lookback, name="none: no deposit left to score")
    if kind == "spark":
        return _spark(request, flagged=flagged, services=services, categories=categories, lookback=lookback,
                      progress=progress)
    if kind == "pruned":
        from graph.pruned import read_transfers_into

        progress.stage("scanning transfers")
        senders = deposits.from_address.filter(~is_service(services, deposits.from_address))
        transfers = read_transfers_into(request.transfers, senders.unique())
        name = f"pruned scan: {len(transfers):,} transfers into the deposits' senders read"
    else:
        name = f"in-memory: {len(transfers):,} transfers"
    progress.stage("indexing transfers")
    return local_engine(request, transfers, flagged=flagged, services=services, categories=categories,
                        lookback=lookback, senders=deposits.from_address, name=name)


def local_engine(request: "ScoreRequest", transfers: Transfers, *, flagged: FlaggedWallets, services: Services | None,
                 categories: list[str], lookback: int | None, senders: pa.Array, name: str) -> LocalEngine:
    """The transfers indexed in memory with the flags active at the request's time laid over them (list entries
    whose case was lost matched against the indexed wallets and `senders`)."""
    index = InboundIndex.build(transfers)
    flagged = flagged.matched(pa.concat_arrays([index.addresses, senders]))
    flags = FlagView.build(index, flagged, request.as_of, categories=categories)
    return LocalEngine(index, flags, services, request.method, lookback, name=name)


READY_SECONDS = 120
"""How long executors may take to register and run a first job: a busy machine is slow to start JVMs.
(A master that cannot be reached at all is reported at once, before any JVM starts.)"""
SPARK_DEFAULTS = {"spark.sql.shuffle.partitions": "16"}
"""Few shuffle partitions: adaptive execution splits large ones, and small batches skip 200 empty tasks."""


def spark_config(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The session settings: SPARK_DEFAULTS, overridden by KYT_SPARK_CONF ("key=value,key=value").

    >>> spark_config({"KYT_SPARK_CONF": "spark.executor.memory=4g"})["spark.executor.memory"]
    '4g'
    """
    found = dict(SPARK_DEFAULTS)
    text = (environ if environ is not None else os.environ).get("KYT_SPARK_CONF", "")
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise KytError(f"KYT_SPARK_CONF: {item!r} is not key=value")
        found[key.strip()] = value.strip()
    return found


def _spark(request: "ScoreRequest", *, flagged: FlaggedWallets, services: Services | None, categories: list[str],
           lookback: int | None, progress: "Progress"):
    """The Spark engine on a session with the request's master."""
    from graph.spark_engine import SparkEngine
    from graph.spark_session import check_readable, start_session, stop_session

    progress.stage("starting Spark")
    session = start_session(master=request.spark_master, app_name="kyt score", config=spark_config(),
                            ready_timeout=READY_SECONDS)
    path = str(request.transfers.resolve()) if "://" not in str(request.transfers) else str(request.transfers)
    try:
        check_readable(session, path)
        flagged = _matched_on_spark(session, path, flagged)
    except BaseException:
        stop_session(session)
        raise
    return SparkEngine(session, path, ActiveFlags.build(flagged, request.as_of, categories), services,
                       request.method, lookback, name=f"spark: {request.spark_master}", owns_session=True)


def _matched_on_spark(session, path: str, flagged: FlaggedWallets) -> FlaggedWallets:
    """The flagged list with its lost-case entries matched (`FlaggedWallets.matched`) against the senders of the
    transfers on the cluster, as written in base58 (a Tron sender written in hex is not matched here)."""
    if flagged.case_lost is None or not flagged.case_lost.any():
        return flagged
    from pyspark.sql import functions as F

    lost = pc.filter(flagged.address, pa.array(flagged.case_lost)).to_pylist()
    raw = session.read.parquet(path)
    chain = F.coalesce(F.col(CHAIN_COLUMN).cast("string"), F.lit("")) if CHAIN_COLUMN in raw.columns else F.lit("")
    key = F.concat(chain, F.lit(":"), F.col("from_address").cast("string"))
    found = raw.select(key.alias("k")).where(F.lower(F.col("k")).isin(lost)).distinct().collect()
    return flagged.matched(pa.array([row.k for row in found], pa.string()))
