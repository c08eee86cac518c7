"""What the feature tests share: random small graphs with lists, and comparing values where NaN equals NaN."""

from __future__ import annotations

import math

from hypothesis import strategies as st

USD = st.sampled_from([0, 0.5, 1, 20, 333.333333, None])
GRAPHS = (st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(0, 9), st.integers(0, 2), USD,
                             st.integers(0, 400)), max_size=30),
          st.integers(0, 450), st.lists(st.integers(1, 8), max_size=2), st.lists(st.integers(1, 8), max_size=3))
"""(transfer rows, as-of second, service ids, flagged ids): the arguments of `given`."""


def same(a: float, b: float, rel: float = 1e-9, absolute: float = 1e-12) -> bool:
    """Equal values, NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rel, abs_tol=absolute)


def check_against_reference(graph: tuple, *, compute, reference, names: tuple[str, ...], same=same) -> None:
    """Every feature `compute` gives addresses 1..8 of a drawn graph (rows, as-of second, service ids, flagged
    ids) equals what `reference` gives, transfer by transfer."""
    from tests.factories import MICRO, addr, flagged, services, transfers

    rows, as_of, svc, flags = graph
    t = transfers(rows)
    who = list(range(1, 9))
    got = compute(t, who, as_of, services(svc) if svc else None, flagged([(x, "scam") for x in flags]))
    for w, row in zip(who, got):
        want = reference(t, addr(w), as_of * MICRO, {addr(x) for x in svc}, {addr(x) for x in flags})
        assert all(same(row[n], want[n]) for n in names), (w, {n: (row[n], want[n]) for n in names
                                                                if not same(row[n], want[n])})
