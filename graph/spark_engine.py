"""The exposure definition as Spark DataFrame joins and window sums, for transfer tables of any size.

The same definition as graph/exposure.py, to the digit: the executors read the transfers
(a Parquet file or dataset), keep only the transfers into the deposits' senders, parse and
check them with the project's own column parsers (graph/readers.py, in `mapInArrow`), and
sum their USD in integer micro-dollars. The driver holds the deposits, the flags and the
results, never the transfers table.

- Without a lookback window, each sender's inbound transfers and its deposits are one
  stream sorted by (order key, deposits first); a running sum per category, read at each
  deposit, is what came strictly before it.
- With a window, deposits are joined to their sender's inbound transfers on
  order < deposit order and time >= deposit time - window, and summed.
- Evidence (the top flagged sources of an exposure and their transactions) is grouped
  by (deposit, category, source) and ranked the same way as graph/evidence.py.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph import fields, readers, wallet_keys
from graph.errors import GraphError, InputError, Problem
from graph.evidence import TOP_SOURCES, TX_PER_SOURCE, Evidence, SourceEvidence, rank_sources
from graph.exposure import METHODS, ActiveFlags, Exposures, assemble, direct_cells, is_service
from graph.formats import CHAIN_COLUMN, TRANSFER_COLUMNS
from graph.index import window_start
from graph.model import POSITION_BITS, Deposits, Services

MAX_PROBLEMS = 50
_PARSED = pa.schema([("s", pa.string()), ("src", pa.string()), ("k", pa.int64()), ("ts", pa.int64()),
                     ("usd", pa.int64()), ("unp", pa.int64()), ("tx", pa.string()), ("file", pa.string()),
                     ("row", pa.int64()), ("error", pa.string())])
_SPARK_SCHEMA = "s string, src string, k long, ts long, usd long, unp long, tx string, file string, row long, error string"


def parse_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """One batch of raw transfer rows, parsed and checked like graph.readers.read_transfers.

    Rows that do not parse keep their file, row and what is wrong in `error`; the rows
    that never count (no value, or to oneself) are dropped here already.
    """
    column = {name: batch.column(name) for name in batch.schema.names}
    codes, parsed = readers.transfer_columns(column)
    errors: dict[int, list[str]] = {}
    for p in parsed:
        for i in p.bad.tolist():
            errors.setdefault(i, []).append(p.describe(i))
    usd, unknown = fields.unpriced(parsed[8], parsed[7])
    counts = ((usd > 0) | unknown) & (codes.codes[0] != codes.codes[1])
    bad = np.zeros(len(batch), dtype=bool)
    bad[list(errors)] = True
    keep = np.flatnonzero(counts | bad)
    message = np.full(len(batch), None, dtype=object)
    for i, found in errors.items():
        message[i] = "; ".join(found)
    picked = pa.array(keep, pa.int64())
    order = (parsed[1].values.astype(np.int64) << POSITION_BITS) | parsed[2].values.astype(np.int64)
    return pa.RecordBatch.from_arrays([
        codes.dictionary.take(pa.array(codes.codes[1][keep])),
        codes.dictionary.take(pa.array(codes.codes[0][keep])),
        pa.array(order[keep]), pa.array(parsed[3].values[keep]), pa.array(usd[keep]),
        pa.array(unknown[keep].astype(np.int64)), parsed[0].values.take(picked),
        column["file"].take(picked), column["row"].take(picked), pa.array(message[keep], pa.string()),
    ], schema=_PARSED)


def _parse_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield parse_batch(batch)


@dataclass
class SparkEngine:
    """Exposures and evidence on Spark; `transfers` is a path every executor can read."""

    session: object
    transfers: str
    active: ActiveFlags
    services: Services | None
    method: str = "haircut"
    lookback: int | None = None
    """Window in microseconds (None: none)."""
    name: str = "spark"
    owns_session: bool = False
    """Whether `close` stops the session too (when the engine started it)."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise GraphError(f"method must be one of {', '.join(METHODS)}, not {self.method!r}")
        self._inbound = None
        self._deposits = None
        self._candidates: np.ndarray | None = None
        self.rows_read = 0

    # -- the transfers into the deposits' senders, parsed once ---------------------------------

    def _load(self, deposits: Deposits) -> None:
        """Read, prune, parse and check the transfers into the senders of `deposits` (kept for evidence)."""
        from pyspark import StorageLevel
        from pyspark.sql import functions as F

        spark = self.session
        senders = deposits.from_address
        service = is_service(self.services, senders)
        self._candidates = np.flatnonzero(~service)
        wanted = pc.unique(senders.take(pa.array(self._candidates)))
        raw = spark.read.parquet(self.transfers)
        missing = [c for c in TRANSFER_COLUMNS if c not in raw.columns]
        if missing:
            raise InputError(self.transfers, [Problem(1, f"missing column{'s' if len(missing) > 1 else ''}: "
                                                         + ", ".join(missing))])
        receivers = spark.createDataFrame(pa.table({"s": wallet_keys.spellings(wanted)}))
        normal = F.lower(F.col("to_address").cast("string"))
        chain = [CHAIN_COLUMN] if CHAIN_COLUMN in raw.columns else []
        pruned = (raw.select(*TRANSFER_COLUMNS, *chain, F.col("_metadata.file_path").alias("file"),
                             F.col("_metadata.row_index").alias("row"))
                  .join(F.broadcast(receivers), normal == F.col("s"), "left_semi"))
        parsed = pruned.mapInArrow(_parse_batches, _SPARK_SCHEMA)
        parsed = parsed.persist(StorageLevel.MEMORY_AND_DISK)
        bad = parsed.where(F.col("error").isNotNull()).orderBy("file", "row").limit(MAX_PROBLEMS + 1).collect()
        if bad:
            parsed.unpersist()
            raise _rejected(self.transfers, bad)
        flags = spark.createDataFrame(pa.table({"src": self.active.addresses,
                                                "bits": pa.array(self.active.bits.astype(np.int64))}))
        self._inbound = (parsed.drop("error", "file", "row")
                         .join(F.broadcast(flags), "src", "left")
                         .withColumn("bits", F.coalesce(F.col("bits"), F.lit(0).cast("long"))))
        self._parsed = parsed

    def _deposit_frame(self, deposits: Deposits, rows: np.ndarray):
        """The deposits at `rows` as (d, s, k, w): number, sender, order key and window start."""
        times = deposits.timestamp[rows]
        start = window_start(times, self.lookback) if self.lookback is not None else times
        return self.session.createDataFrame(pa.table({
            "d": pa.array(rows.astype(np.int64)), "s": deposits.from_address.take(pa.array(rows)),
            "dk": pa.array(deposits.order[rows]), "w": pa.array(np.asarray(start, dtype=np.int64))}))

    def _present(self) -> list[int]:
        """The category codes some flagged address carries."""
        bits = np.bitwise_or.reduce(self.active.bits) if len(self.active.bits) else np.uint64(0)
        return [c for c in range(len(self.active.categories)) if int(bits) >> c & 1]

    # -- exposures ---------------------------------------------------------------------------------

    def score(self, deposits: Deposits, progress=None) -> Exposures:
        """The exposures of every deposit, equal to graph.exposure.score on the same inputs."""
        with spark_failures():
            return self._score(deposits, progress)

    def _score(self, deposits: Deposits, progress=None) -> Exposures:
        """See `score`."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        self._load(deposits)
        k = len(self.active.categories)
        sender_bits = self.active.bits_of(deposits.from_address)
        cells, unknown = direct_cells(sender_bits, k)
        n = len(deposits)
        total, unknown_total = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        present = self._present()
        if present and len(self._candidates):
            frame = self._deposit_frame(deposits, self._candidates)
            flagged = [F.when((F.col("bits").bitwiseAND(F.lit(1 << c)) != 0), F.col("usd")).otherwise(0).alias(f"f{c}")
                       for c in present]
            unknowns = [F.when((F.col("bits").bitwiseAND(F.lit(1 << c)) != 0), F.col("unp")).otherwise(0).alias(f"n{c}")
                        for c in present]
            sums = ["usd", "unp"] + [f"f{c}" for c in present] + [f"n{c}" for c in present]
            inbound = self._inbound.select("s", "k", "ts", "usd", "unp", *flagged, *unknowns)
            if self.lookback is None:
                events = inbound.drop("ts").withColumn("kind", F.lit(1)).withColumn("d", F.lit(None).cast("long"))
                marks = frame.select("d", "s", F.col("dk").alias("k"), F.lit(0).alias("kind"),
                                     *[F.lit(0).cast("long").alias(c) for c in sums])
                window = Window.partitionBy("s").orderBy("k", "kind").rowsBetween(Window.unboundedPreceding, 0)
                found = (events.unionByName(marks)
                         .select("d", "kind", *[F.sum(c).over(window).alias(c) for c in sums])
                         .where(F.col("kind") == 0).drop("kind"))
            else:
                joined = frame.join(inbound, (frame.s == inbound.s) & (inbound.k < frame.dk) & (inbound.ts >= frame.w))
                found = joined.groupBy("d").agg(*[F.sum(c).alias(c) for c in sums])
            hit = F.lit(False)
            for c in present:
                hit = hit | (F.col(f"f{c}") > 0) | (F.col(f"n{c}") > 0)
            table = found.where(hit).toArrow()
            d = table.column("d").to_numpy()
            total[d] = table.column("usd").to_numpy()
            unknown_total[d] = table.column("unp").to_numpy()
            for c in present:
                cells[d, k + c] = table.column(f"f{c}").to_numpy()
                unknown[d, k + c] = table.column(f"n{c}").to_numpy()
        if progress:
            progress(n)
        zeros = np.zeros(n, dtype=np.int64)
        return assemble(self.active.categories, method=self.method, lookback=self.lookback, deposits=deposits,
                        offset=0, cells=cells, unknown=unknown, funding=(total, unknown_total), rows=(zeros, zeros))

    # -- evidence ----------------------------------------------------------------------------------

    def evidence(self, deposits: Deposits, exposures: Exposures, which: np.ndarray | None = None,
                 *, top: int = TOP_SOURCES) -> list[Evidence]:
        """Evidence of the exposures at positions `which` (all when None), equal to graph.evidence.collect."""
        positions = np.arange(len(exposures)) if which is None else np.asarray(which, dtype=np.int64)
        indirect = positions[exposures.hop[positions] == 2]
        with spark_failures():
            found = self._indirect(deposits, exposures, indirect, top=top) if len(indirect) else {}
        order = deposits.order
        out = []
        for i in positions.tolist():
            d, c = int(exposures.deposit[i]), int(exposures.category[i])
            category = exposures.categories[c]
            if int(exposures.hop[i]) == 1:
                value, unknown = int(deposits.usd_micro[d]), bool(deposits.unpriced[d])
                sources, count = rank_sources(category, self.active, [(deposits.from_address[d].as_py(), value,
                                                                       int(order[d]), deposits.tx_hash[d].as_py(),
                                                                       unknown)], top=top)
                transfers, unpriced = 1, int(unknown)
            else:
                sources, count, transfers, unpriced = found.get((d, c), ((), 0, 0, 0))
                sources = tuple(SourceEvidence(a, u, n, h, self.active.lists.get((a, category), ()), x)
                                for a, u, n, h, x in sources)
            out.append(Evidence(deposits.deposit_id[d].as_py(), category, int(exposures.hop[i]),
                                int(exposures.flagged[i]), int(exposures.total[i]), sources, count, transfers,
                                unpriced))
        return out

    def _indirect(self, deposits: Deposits, exposures: Exposures, positions: np.ndarray, *, top: int) -> dict:
        """(deposit, category) -> (top sources as tuples, source count, transfer count, unpriced count)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        spark = self.session
        pairs = spark.createDataFrame(pa.table({"d": pa.array(exposures.deposit[positions].astype(np.int64)),
                                                "c": pa.array(exposures.category[positions].astype(np.int64))}))
        rows = np.unique(exposures.deposit[positions])
        frame = self._deposit_frame(deposits, rows)
        inbound = self._inbound.where(F.col("bits") != 0)
        condition = (frame.s == inbound.s) & (inbound.k < frame.dk)
        if self.lookback is not None:
            condition = condition & (inbound.ts >= frame.w)
        codes = F.array(*[F.when(F.col("bits").bitwiseAND(F.lit(1 << c)) != 0, F.lit(c)) for c in self._present()])
        funding = (frame.join(inbound, condition)
                   .select("d", "src", "usd", "unp", "tx", inbound.k.alias("k"), F.explode(codes).alias("c"))
                   .where(F.col("c").isNotNull())
                   .join(pairs, ["d", "c"], "left_semi"))
        per_source = funding.groupBy("d", "c", "src").agg(
            F.sum("usd").alias("usd"), F.count(F.lit(1)).alias("n"), F.sum("unp").alias("unp"),
            F.slice(F.array_sort(F.collect_list(F.struct((-F.col("usd")).alias("neg"), "k", "tx"))), 1,
                    TX_PER_SOURCE).alias("best")).persist()
        stats = per_source.groupBy("d", "c").agg(F.count(F.lit(1)).alias("sources"), F.sum("n").alias("transfers"),
                                                 F.sum("unp").alias("unpriced")).collect()
        rank = Window.partitionBy("d", "c").orderBy(F.desc("usd"), F.asc("src"))
        best = (per_source.withColumn("r", F.row_number().over(rank)).where(F.col("r") <= top)
                .orderBy("d", "c", "r").collect())
        per_source.unpersist()
        out: dict = {(r["d"], r["c"]): ([], r["sources"], r["transfers"], r["unpriced"]) for r in stats}
        for r in best:
            out[(r["d"], r["c"])][0].append((r["src"], r["usd"], r["n"], tuple(t["tx"] for t in r["best"]), r["unp"]))
        return {key: (tuple(v[0]), v[1], v[2], v[3]) for key, v in out.items()}

    def close(self) -> None:
        """Let go of the parsed transfers kept for evidence (and of the session, when the engine owns it)."""
        if self._inbound is not None:
            self._parsed.unpersist()
            self._inbound = None
        if self.owns_session:
            from graph.spark_session import stop_session

            stop_session(self.session)
            self.owns_session = False


@contextmanager
def spark_failures():
    """Turn a failed Spark job into a GraphError with its first line (the executors' log has the rest)."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (PySparkException, Py4JError) as error:
        text = str(error).strip().splitlines()
        raise GraphError(f"the Spark job failed: {text[0] if text else error.__class__.__name__}") from None


def _rejected(path: str, bad: list) -> InputError:
    """The bad rows found by the executors, as FILE:ROW problems (one InputError for the whole dataset)."""
    files = sorted({r["file"] for r in bad})
    single = len(files) == 1
    problems = []
    for r in bad[:MAX_PROBLEMS]:
        name = r["file"].removeprefix("file://")
        line = int(r["row"]) + 1
        problems.append(Problem(line, r["error"]) if single else Problem(None, f"{name}:{line}: {r['error']}"))
    where = files[0].removeprefix("file://") if single else path
    return InputError(where, problems, max(0, len(bad) - MAX_PROBLEMS))
