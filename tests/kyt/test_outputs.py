"""The exposure columns as text: exact decimals, empty when unknown, whatever the size of the amounts."""

from __future__ import annotations

from graph.exposure import FlagView, score
from graph.index import InboundIndex
from kyt.outputs import exposure_columns
from tests.factories import MICRO, deposits, flagged, transfers

S, SANCTIONED, CLEAN = 1, 10, 20


def test_an_unknown_share_is_empty_text_even_behind_millions_of_flagged_dollars():
    # $40M from a sanctioned wallet and clean funding of unknown value: the share cannot be known
    t = transfers([(SANCTIONED, S, 10, 0, 40_000_000), (CLEAN, S, 11, 0, None)])
    index = InboundIndex.build(t)
    e = score(index, FlagView.build(index, flagged([(SANCTIONED, "sanctions")]), 10**10 * MICRO),
              deposits([(S, 20, 0, 1_000), (S, 21, 0, 500)]))
    assert list(zip(*exposure_columns(e, range(len(e))))) == [("sanctions", 2, "", "", 1, 0)] * 2


def test_a_known_share_and_its_usd_are_exact_text():
    t = transfers([(SANCTIONED, S, 10, 0, 30_000_000), (CLEAN, S, 11, 0, 60_000_000)])
    index = InboundIndex.build(t)
    e = score(index, FlagView.build(index, flagged([(SANCTIONED, "sanctions")]), 10**10 * MICRO),
              deposits([(S, 20, 0, 1_000)]))
    [(category, hop, share, usd, unpriced, flagged_unpriced)] = zip(*exposure_columns(e, range(len(e))))
    assert (category, hop, usd, unpriced, flagged_unpriced) == ("sanctions", 2, "333.333333", 0, 0)
    assert share.startswith("0.33333333")


def test_values_are_quoted_only_when_some_value_needs_it(tmp_path):
    import pyarrow as pa

    from kyt.outputs import write_table_csv

    plain = pa.table({"a": pa.chunked_array([["x,1", "y"], ["z", None]]).slice(1), "b": ["1", "2", "3"]})
    write_table_csv(plain, tmp_path / "plain.csv")  # the comma is in a row the slice left out
    assert (tmp_path / "plain.csv").read_text() == "a,b\ny,1\nz,2\n,3\n"
    for mark in (",", '"', "\r", "\n"):
        table = pa.table({"a": pa.chunked_array([["y"], ["", f"p{mark}q"]]), "b": ["1", "2", "3"]})
        write_table_csv(table, tmp_path / "quoted.csv")
        lines = (tmp_path / "quoted.csv").read_bytes().decode()
        assert lines.startswith('a,b\n"y","1"\n'), mark
        assert mark.replace('"', '""') in lines


def test_no_value_reaches_a_file_as_a_formula(tmp_path):
    import pyarrow as pa

    from kyt.outputs import write_table_csv

    table = pa.table({"customer_id": ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "alice"],
                      "hop": pa.array([1, 2, 1, 2, 1])})
    write_table_csv(table, tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines == ["customer_id,hop", '"\'=HYPERLINK(""http://x"",""y"")",1', '"\'+1",2', '"\'-2",1',
                     '"\'@SUM(A1)",2', '"alice",1']
