"""Behaviour features: exact on a hand-built graph, equal to a plain per-address reference on random ones, and
unchanged when every value is scaled (the unit of value never matters)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.behaviour import EARLY, NAMES, behaviour_features
from graph.index import InboundIndex
from tests.factories import MICRO, addr, flagged, services, transfers
from tests.graph import feature_cases

A, FUNDER, EXCHANGE, SCAMMER, NEXT, STRANGER = 2, 1, 3, 5, 4, 9


def features(t, who, as_of_s, svc=None, f=None) -> list[dict]:
    matrix = behaviour_features(InboundIndex.build(t), pa.array([addr(w) for w in who], pa.string()),
                                as_of_s * MICRO, services=svc, flagged=f)
    return [dict(zip(NAMES, row.tolist())) for row in matrix]


def test_every_feature_of_a_hand_built_address():
    t = transfers([(FUNDER, A, 1, 0, 100, 10), (EXCHANGE, A, 2, 0, 50, 20), (A, NEXT, 3, 0, 120, 30),
                   (A, A, 4, 0, 5, 40), (SCAMMER, A, 5, 0, None, 50), (FUNDER, A, 9, 0, 1000, 500),
                   (NEXT, A, 6, 0, 7, 60)])
    [got, stranger] = features(t, [A, STRANGER], 100, services([EXCHANGE]), flagged([(FUNDER, "scam")]))
    cv = statistics.pstdev([100, 50, 7]) / statistics.mean([100, 50, 7])
    gaps = [10, 10, 20, 10]
    want = {  # neither the self-transfer nor anything at or after the as-of time
        "in_share": 4 / 5, "fan_in": 1, "fan_out": 1, "repeat_sender_share": 0, "back_share": 1,
        "top_sender_share": 100 / 157, "top_receiver_share": 1, "max_in_share": 100 / 157,
        "in_value_cv": cv, "out_in_ratio": 120 / 157, "forward_share": 20 / 50, "early_share": 1 / 5,
        "gap_cv": statistics.pstdev(gaps) / statistics.mean(gaps), "service_in_share": 50 / 157,
        "service_out_share": 0, "flagged_in_share": 100 / 157, "flagged_out_share": 0, "flagged_in_2hop": 0,
        "unpriced_share": 1 / 5}
    assert list(got) == list(want) and all(math.isclose(got[k], want[k], abs_tol=1e-12) for k in want), got
    assert all(math.isnan(v) for v in stranger.values())


def reference(t, address: str, as_of: int, service: set, flags: set) -> dict:
    """The features of one address, transfer by transfer, written from their descriptions."""
    rows = [(s, d, u / 1e6, unknown, ts) for s, d, u, unknown, ts in zip(
        t.from_address.to_pylist(), t.to_address.to_pylist(), t.usd_micro.tolist(), t.unpriced.tolist(),
        t.timestamp.tolist()) if ts < as_of and s != d and (u > 0 or unknown)]
    nan = float("nan")

    def ratio(a, b):
        return a / b if b else nan

    def own(who):
        ins = [r for r in rows if r[1] == who]
        return ins, sum(r[2] for r in ins)

    ins, got = own(address)
    outs = [r for r in rows if r[0] == address]
    gave = sum(r[2] for r in outs)
    senders, receivers = {r[0] for r in ins}, {r[1] for r in outs}
    times = sorted(r[4] for r in ins + outs)
    span = times[-1] - times[0] if times else nan
    per_sender = {s: sum(r[2] for r in ins if r[0] == s) for s in senders}
    per_receiver = {d: sum(r[2] for r in outs if r[1] == d) for d in receivers}
    priced = [r[2] for r in ins if not r[3]]
    gaps = [b - a for a, b in zip(times, times[1:])]

    def cv(values, least):
        if len(values) < least or not statistics.mean(values):
            return nan
        return statistics.pstdev(values) / statistics.mean(values)

    def flagged_share(who):
        received, total = own(who)
        return ratio(sum(r[2] for r in received if r[0] in flags), total)

    forward = nan
    if ins and outs and span and span > 0:
        forward = (min(r[4] for r in outs) - min(r[4] for r in ins)) / span
    second = sum(r[2] * (0 if math.isnan(flagged_share(r[0])) else flagged_share(r[0])) for r in ins)
    return {
        "in_share": ratio(len(ins), len(ins) + len(outs)), "fan_in": ratio(len(senders), len(ins)),
        "fan_out": ratio(len(receivers), len(outs)),
        "repeat_sender_share": ratio(sum(1 for s in senders if sum(r[0] == s for r in ins) >= 2), len(senders)),
        "back_share": ratio(sum(1 for d in receivers if any(r[0] == d and r[1] == address for r in rows)),
                            len(receivers)),
        "top_sender_share": ratio(max(per_sender.values(), default=0), got),
        "top_receiver_share": ratio(max(per_receiver.values(), default=0), gave),
        "max_in_share": ratio(max((r[2] for r in ins), default=0), got), "in_value_cv": cv(priced, 2),
        "out_in_ratio": ratio(gave, got), "forward_share": forward,
        "early_share": ratio(sum(1 for x in times if x <= times[0] + EARLY * span), len(times)) if times and span > 0
        else nan,
        "gap_cv": cv(gaps, 2),
        "service_in_share": ratio(sum(r[2] for r in ins if r[0] in service), got),
        "service_out_share": ratio(sum(r[2] for r in outs if r[1] in service), gave),
        "flagged_in_share": flagged_share(address),
        "flagged_out_share": ratio(sum(r[2] for r in outs if r[1] in flags), gave),
        "flagged_in_2hop": ratio(second, got), "unpriced_share": ratio(sum(r[3] for r in ins + outs), len(times)),
    }


def same(a: float, b: float) -> bool:
    return feature_cases.same(a, b, rel=1e-7, absolute=1e-9)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(*feature_cases.GRAPHS)
def test_the_vectorised_features_equal_the_reference(rows, as_of, svc, flags):
    feature_cases.check_against_reference((rows, as_of, svc, flags), compute=features, reference=reference,
                                          names=NAMES, same=same)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(0, 9), st.integers(0, 2),
                          st.sampled_from([1, 20, 333.25]), st.integers(0, 400)), max_size=30))
def test_scaling_every_value_changes_no_feature(rows):
    scaled = [(a, b, c, d, u * 8, ts) for a, b, c, d, u, ts in rows]
    who = list(range(1, 7))
    for one, other in zip(features(transfers(rows), who, 500), features(transfers(scaled), who, 500)):
        assert all(same(one[n], other[n]) for n in NAMES)
