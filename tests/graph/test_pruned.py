"""The pruned scan reads only the transfers into the deposits' senders, and scores them exactly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from graph import evidence
from graph.errors import InputError
from graph.exposure import FlagView, score
from graph.index import InboundIndex
from graph.pruned import read_transfers_into, transfers_size
from tests.factories import MICRO, addr, transfers
from tests.graph.test_spark_engine import CATEGORIES, batches, exposure_rows, transfers_table, write_dataset


def test_only_the_transfers_into_the_receivers_are_read(tmp_path):
    t = transfers([(1, 3, 1, 0, 100), (2, 4, 2, 0, 50), (4, 3, 3, 0, 7)])
    table = transfers_table(t)
    upper = table.column("to_address").to_pylist()
    upper[2] = upper[2].upper().replace("0X", "0x")  # all-caps hex needs no checksum
    table = table.set_column(table.schema.get_field_index("to_address"), "to_address", pa.array(upper))
    folder = write_dataset(table, tmp_path / "t", parts=2)
    found = read_transfers_into(folder, pa.array([addr(3)]))
    assert found.tx_hash.to_pylist() == ["0xt0", "0xt2"]
    assert found.to_address.to_pylist() == [addr(3), addr(3)]
    assert transfers_size(tmp_path / "t").rows == 3 and transfers_size(tmp_path / "t").files == 2


def test_a_csv_is_streamed_and_bad_rows_are_reported_by_line(tmp_path):
    table = transfers_table(transfers([(1, 3, 1, 0, 100), (2, 3, 2, 0, 50), (2, 5, 2, 1, 50)]))
    table = table.set_column(table.schema.get_field_index("usd_value"), "usd_value", pa.array(["1", "x", "y"]))
    pcsv.write_csv(table, tmp_path / "t.csv")
    with pytest.raises(InputError) as caught:
        read_transfers_into(tmp_path / "t.csv", pa.array([addr(3)]))
    # line 3 is the second data row; the bad row into 5 (line 4) is not read, so not reported
    assert [p.line for p in caught.value.problems] == [3]


def test_a_missing_column_is_named(tmp_path):
    pq.write_table(transfers_table(transfers([(1, 3, 1, 0, 1)])).drop_columns(["asset"]), tmp_path / "t.parquet")
    with pytest.raises(InputError, match="missing column: asset"):
        read_transfers_into(tmp_path / "t.parquet", pa.array([addr(3)]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(s=batches())
def test_the_pruned_scan_scores_exactly_like_the_whole_table(tmp_path_factory, s):
    lookback = None if s["lookback"] is None else s["lookback"] * MICRO
    index = InboundIndex.build(s["t"])
    view = FlagView.build(index, s["f"], s["as_of"], categories=list(CATEGORIES))
    whole = score(index, view, s["d"], services=None, method=s["method"], lookback=lookback)
    folder = write_dataset(transfers_table(s["t"]), tmp_path_factory.mktemp("t") / "t")
    pruned_index = InboundIndex.build(read_transfers_into(folder, s["d"].from_address))
    pruned_view = FlagView.build(pruned_index, s["f"], s["as_of"], categories=list(CATEGORIES))
    pruned = score(pruned_index, pruned_view, s["d"], services=None, method=s["method"], lookback=lookback)
    assert exposure_rows(pruned) == exposure_rows(whole)
    assert (evidence.collect(pruned_index, pruned_view, s["d"], exposures=pruned)
            == evidence.collect(index, view, s["d"], exposures=whole))
    assert len(pruned_index) <= len(index) and np.isin(pruned_index.addresses, index.addresses).all()
