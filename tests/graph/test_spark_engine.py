"""The Spark engine on a real standalone cluster equals the in-memory engine: exposures and evidence.

Each hypothesis example packs several random graphs into one table (each graph in its own
range of addresses), so that one Spark job checks many graphs.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import evidence
from graph.errors import InputError
from graph.exposure import ActiveFlags, FlagView, score
from graph.index import InboundIndex
from graph.money import micro_text
from graph.spark_engine import SparkEngine
from tests.factories import MICRO, deposits, flagged, services, transfers

CATEGORIES = ("sanctions", "scam", "mixer")
USD = st.sampled_from([0, 0.01, 1, 2.5, 100, 333.333333, 10**6, None])
WIDTH = 10  # addresses per graph: graph g uses the numbers g * WIDTH + 1 .. g * WIDTH + 7


def transfers_table(t) -> pa.Table:
    """Transfers in the project's file format (text times and exact decimal USD, empty when unknown)."""
    times = np.datetime_as_string(t.timestamp.astype("datetime64[us]"), unit="us")
    usd = ["" if unknown else micro_text(int(v)) for v, unknown in zip(t.usd_micro.tolist(), t.unpriced.tolist())]
    return pa.table({"tx_hash": t.tx_hash, "block_number": pa.array(t.block), "position": pa.array(t.position),
                     "timestamp": pa.array([f"{x}Z" for x in times]), "from_address": t.from_address,
                     "to_address": t.to_address, "asset": t.asset, "amount": pa.array(["1"] * len(t)),
                     "usd_value": pa.array(usd, pa.string())})


def write_dataset(table: pa.Table, folder, parts: int = 3) -> str:
    """The table as a Parquet dataset of `parts` files (hive-style block ranges)."""
    folder.mkdir(parents=True, exist_ok=True)
    step = max(1, -(-table.num_rows // parts))
    for i, start in enumerate(range(0, max(table.num_rows, 1), step)):
        part = folder / f"block_range={i}"
        part.mkdir()
        pq.write_table(table.slice(start, step), part / "part-0.parquet")
    return str(folder)


@st.composite
def graph_rows(draw, g: int):
    a = st.integers(1, 7).map(lambda n: g * WIDTH + n)
    t_rows = draw(st.lists(st.tuples(a, a, st.integers(0, 12), st.integers(0, 3), USD), max_size=25))
    if draw(st.booleans()):  # times that do not follow block order
        t_rows = [row + (max(0, row[2] * 12 + draw(st.integers(-30, 30))),) for row in t_rows]  # never before 1970
    else:
        t_rows = [row + (row[2] * 12,) for row in t_rows]
    d_rows = draw(st.lists(st.tuples(a, st.integers(0, 14), st.integers(0, 3), USD), min_size=1, max_size=6))
    f_rows = draw(st.lists(st.tuples(a, st.sampled_from(CATEGORIES), st.one_of(st.none(), st.integers(0, 200)),
                                     st.one_of(st.none(), st.integers(201, 400))), max_size=6))
    svc = draw(st.lists(a, max_size=1, unique=True))
    return t_rows, d_rows, f_rows, svc


@st.composite
def batches(draw):
    graphs = [draw(graph_rows(g)) for g in range(draw(st.integers(1, 5)))]
    t_rows = [row for t, _, _, _ in graphs for row in t]
    return dict(t=transfers(t_rows), d=deposits([row for _, d, _, _ in graphs for row in d]),
                f=flagged([row for _, _, f, _ in graphs for row in f]),
                svc=[n for _, _, _, s in graphs for n in s],
                as_of=draw(st.sampled_from([100, 250, 500])) * MICRO,
                method=draw(st.sampled_from(["haircut", "poison"])),
                lookback=draw(st.sampled_from([None, None, 0, 24, 60])))


def exposure_rows(e) -> list[tuple]:
    """Exposures by value (index rows lo/hi differ between engines by design)."""
    return list(zip(*(getattr(e, name).tolist() for name in
                      ("deposit", "category", "hop", "value", "flagged", "total", "unpriced_total",
                       "unpriced_flagged", "value_known"))))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(s=batches())
def test_spark_equals_the_in_memory_engine(spark_session, tmp_path_factory, s):
    svc = services(s["svc"]) if s["svc"] else None
    lookback = None if s["lookback"] is None else s["lookback"] * MICRO
    index = InboundIndex.build(s["t"])
    view = FlagView.build(index, s["f"], s["as_of"], categories=list(CATEGORIES))
    local = score(index, view, s["d"], services=svc, method=s["method"], lookback=lookback)
    path = write_dataset(transfers_table(s["t"]), tmp_path_factory.mktemp("transfers") / "t")
    engine = SparkEngine(spark_session, path, ActiveFlags.build(s["f"], s["as_of"], list(CATEGORIES)), svc,
                         s["method"], lookback)
    try:
        found = engine.score(s["d"])
        assert exposure_rows(found) == exposure_rows(local)
        assert found.categories == local.categories
        assert engine.evidence(s["d"], found) == evidence.collect(index, view, s["d"], exposures=local)
        some = np.arange(len(local))[::2]
        assert engine.evidence(s["d"], found, some) == evidence.collect(index, view, s["d"], exposures=local,
                                                                        which=some)
    finally:
        engine.close()


def test_a_hand_built_graph_gives_the_exact_numbers(spark_session, tmp_path):
    # 1 (sanctioned) pays 3 $100, 2 pays 3 $50, 4 (scam) pays 3 an unpriced amount; 3 deposits $20.
    t = transfers([(1, 3, 1, 0, 100), (2, 3, 2, 0, 50), (4, 3, 3, 0, None), (1, 3, 9, 0, 1000)])
    d = deposits([(3, 5, 0, 20)])
    f = flagged([(1, "sanctions"), (4, "scam")])
    pq.write_table(transfers_table(t), tmp_path / "t.parquet")
    engine = SparkEngine(spark_session, str(tmp_path / "t.parquet"), ActiveFlags.build(f, 10 * MICRO), None)
    try:
        e = engine.score(d)
        rows = {(e.categories[c], h): (fl, tot, up) for c, h, fl, tot, up in
                zip(e.category.tolist(), e.hop.tolist(), e.flagged.tolist(), e.total.tolist(),
                    e.unpriced_flagged.tolist())}
        # the $1000 of block 9 comes after the deposit (block 5) and does not count
        assert rows == {("sanctions", 2): (100 * MICRO, 150 * MICRO, 0), ("scam", 2): (0, 150 * MICRO, 1)}
        [sanctions, scam] = engine.evidence(d, e)
        assert sanctions.sources[0].tx_hashes == ("0xt0",) and sanctions.source_count == 1
        assert scam.unpriced_count == 1 and scam.sources[0].usd_micro == 0
    finally:
        engine.close()


def test_bad_rows_of_the_transfers_read_are_reported_by_file_and_row(spark_session, tmp_path):
    t = transfers([(1, 3, 1, 0, 100), (2, 3, 2, 0, 50)])
    table = transfers_table(t)
    table = table.set_column(table.schema.get_field_index("usd_value"), "usd_value", pa.array(["100", "lots"]))
    pq.write_table(table, tmp_path / "t.parquet")
    engine = SparkEngine(spark_session, str(tmp_path / "t.parquet"), ActiveFlags.build(flagged([(1, "scam")]), 0),
                         None)
    with pytest.raises(InputError) as caught:
        engine.score(deposits([(3, 5, 0, 20)]))
    assert caught.value.path.endswith("t.parquet")
    assert [(p.line, "usd_value" in p.message) for p in caught.value.problems] == [(2, True)]


def test_a_missing_column_is_named(spark_session, tmp_path):
    table = transfers_table(transfers([(1, 3, 1, 0, 100)])).drop_columns(["usd_value"])
    pq.write_table(table, tmp_path / "t.parquet")
    engine = SparkEngine(spark_session, str(tmp_path / "t.parquet"), ActiveFlags.build(flagged([]), 0), None)
    with pytest.raises(InputError, match="missing column: usd_value"):
        engine.score(deposits([(3, 5, 0, 20)]))


def test_the_same_graph_on_tron_gives_the_same_numbers_whatever_the_spelling(spark_session, tmp_path):
    """Tron wallets (`chain` tron, base58 senders, receivers in the hex form) score as their Ethereum twins."""
    from graph import chains

    t = transfers([(1, 3, 1, 0, 100), (2, 3, 2, 0, 50), (4, 3, 3, 0, None), (1, 3, 9, 0, 1000)])
    table = transfers_table(t)
    tron = [chains.tron_from_evm(a) for a in table.column("from_address").to_pylist()]
    hexed = ["41" + a[2:] for a in table.column("to_address").to_pylist()]
    on_tron = table.set_column(4, "from_address", pa.array(tron)).set_column(5, "to_address", pa.array(hexed))
    pq.write_table(on_tron.append_column("chain", pa.array(["tron"] * len(t))), tmp_path / "t.parquet")
    d = deposits([(3, 5, 0, 20)])
    d.from_address = pa.array([chains.wallet_key("tron", chains.tron_from_evm(a)) for a in d.from_address.to_pylist()])
    f = flagged([(1, "sanctions"), (4, "scam")])
    f.address = pa.array([chains.wallet_key("tron", chains.tron_from_evm(a)) for a in f.address.to_pylist()])
    engine = SparkEngine(spark_session, str(tmp_path / "t.parquet"), ActiveFlags.build(f, 10 * MICRO), None)
    try:
        e = engine.score(d)
        assert sorted(zip(e.hop.tolist(), e.flagged.tolist(), e.total.tolist(), e.unpriced_flagged.tolist())) == [
            (2, 0, 150 * MICRO, 1), (2, 100 * MICRO, 150 * MICRO, 0)]
        sources = [s.address for ev in engine.evidence(d, e) for s in ev.sources]
        assert sorted(sources) == sorted(f.address.to_pylist())
    finally:
        engine.close()
