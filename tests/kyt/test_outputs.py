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
