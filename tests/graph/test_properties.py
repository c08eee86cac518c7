"""Invariants on random graphs: the indexed engine equals the networkx reference, and more."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import evidence, reference
from graph.exposure import FlagView, score
from graph.index import InboundIndex
from tests.factories import MICRO, deposits, flagged, services, transfers

CATEGORIES = ("sanctions", "scam", "mixer")
USD = st.sampled_from([0, 0.01, 1, 2.5, 100, 333.333333, 10**6, None])  # None: no price known
ADDRESS = st.integers(1, 7)


@st.composite
def scenarios(draw):
    t_rows = draw(st.lists(st.tuples(ADDRESS, ADDRESS, st.integers(0, 12), st.integers(0, 3), USD), max_size=40))
    if draw(st.booleans()):  # times that do not follow block order, as a careless file may have
        t_rows = [row + (row[2] * 12 + draw(st.integers(-30, 30)),) for row in t_rows]
    d_rows = draw(st.lists(st.tuples(ADDRESS, st.integers(0, 14), st.integers(0, 3), USD), min_size=1, max_size=8))
    f_rows = draw(st.lists(st.tuples(ADDRESS, st.sampled_from(CATEGORIES),
                                     st.one_of(st.none(), st.integers(0, 200)),
                                     st.one_of(st.none(), st.integers(201, 400))), max_size=8))
    svc = draw(st.lists(ADDRESS, max_size=2, unique=True))
    return dict(
        t=transfers(t_rows), d=deposits(d_rows), f=flagged(f_rows), f_rows=f_rows,
        svc=services(svc) if svc else None,
        as_of=draw(st.sampled_from([100, 250, 500])) * MICRO,
        method=draw(st.sampled_from(["haircut", "poison"])),
        lookback=draw(st.sampled_from([None, 0, 24, 60])),
    )


def engine(s, f=None):
    index = InboundIndex.build(s["t"])
    view = FlagView.build(index, f or s["f"], s["as_of"], categories=list(CATEGORIES))
    lookback = None if s["lookback"] is None else s["lookback"] * MICRO
    e = score(index, view, s["d"], services=s["svc"], method=s["method"], lookback=lookback)
    return index, view, e


def as_map(e):
    """(deposit, category, hop) -> (share, usd, flagged, total, unpriced total, unpriced flagged); None = unknown."""
    out = {}
    for i in range(len(e)):
        share = Fraction(int(e.share_num[i]), int(e.share_den[i])) if e.share_known[i] else None
        usd = Fraction(int(e.value[i]) * int(e.share_num[i]), int(e.share_den[i])) if e.usd_known[i] else None
        out[(int(e.deposit[i]), e.categories[int(e.category[i])], int(e.hop[i]))] = (
            share, usd, int(e.flagged[i]), int(e.total[i]), int(e.unpriced_total[i]), int(e.unpriced_flagged[i]))
    return out


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_engine_equals_reference(s):
    index, view, e = engine(s)
    graph = reference.build_graph(s["t"])
    lookback = None if s["lookback"] is None else s["lookback"] * MICRO
    ref = reference.exposures(graph, s["d"], s["f"], as_of=s["as_of"], services=s["svc"], method=s["method"],
                              lookback=lookback)
    assert as_map(e) == {(r.deposit, r.category, r.hop): (r.share, r.usd_micro, r.flagged, r.total,
                                                          r.unpriced_total, r.unpriced_flagged) for r in ref}
    assert [(int(a), int(h)) for a, h in zip(e.deposit, e.hop)] == [(r.deposit, r.hop) for r in ref]
    found = evidence.collect(index, view, s["d"], exposures=e)
    assert found == [reference.evidence(graph, s["d"], view, exposure=r, lookback=lookback) for r in ref]


@SETTINGS
@given(scenarios(), ADDRESS, st.sampled_from(CATEGORIES))
def test_adding_a_flagged_wallet_never_lowers_exposure(s, address, category):
    before = as_map(engine(s)[2])
    after = as_map(engine(s, flagged(s["f_rows"] + [(address, category)]))[2])
    for key, (share, usd, _, _, _, unknown) in before.items():
        assert key in after
        assert after[key][5] >= unknown  # flagged funding of unknown value never shrinks either
        if share is not None:
            assert after[key][0] >= share
        if usd is not None:
            assert after[key][1] >= usd


@SETTINGS
@given(scenarios())
def test_shares_stay_between_zero_and_one_and_usd_within_the_deposit(s):
    _, _, e = engine(s)
    for i in range(len(e)):
        assert 0 <= e.share_num[i] <= e.share_den[i]
        assert e.share_num[i] > 0 or e.unpriced_flagged[i] > 0  # an exposure is never made of nothing
        assert e.share_known[i] or e.unpriced_total[i] > 0  # a share is unknown only through unpriced funding
        assert int(e.value[i]) * int(e.share_num[i]) <= int(e.value[i]) * int(e.share_den[i])
        assert e.flagged[i] <= e.total[i]
        assert e.unpriced_flagged[i] <= e.unpriced_total[i] or e.hop[i] == 1
        assert e.value_known[i] or e.value[i] == 0
