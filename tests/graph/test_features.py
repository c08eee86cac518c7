"""Address features: exact on a hand-built graph, and equal to a plain per-address reference on random ones."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.features import DAY, NAMES, address_features
from graph.index import InboundIndex
from tests.factories import MICRO, addr, flagged, services, transfers
from tests.graph import feature_cases

A, FUNDER, EXCHANGE, SCAMMER, NEXT, STRANGER = 2, 1, 3, 5, 4, 9


def features(t, who, as_of_s, svc=None, f=None) -> list[dict]:
    matrix = address_features(InboundIndex.build(t), pa.array([addr(w) for w in who], pa.string()), as_of_s * MICRO,
                              services=svc, flagged=f)
    return [dict(zip(NAMES, row.tolist())) for row in matrix]


def test_every_feature_of_a_hand_built_address():
    t = transfers([(FUNDER, A, 1, 0, 100, 10), (EXCHANGE, A, 2, 0, 50, 20), (A, NEXT, 3, 0, 120, 30),
                   (A, A, 4, 0, 5, 40), (SCAMMER, A, 5, 0, None, 50), (FUNDER, A, 9, 0, 1000, 500),
                   (STRANGER, A, 6, 0, 0, 60)])
    [got, stranger] = features(t, [A, STRANGER], 100, services([EXCHANGE]), flagged([(FUNDER, "scam"),
                                                                                    (STRANGER, "sanctions")]))
    day = DAY / MICRO
    assert got == {  # neither the self-transfer, nor the zero-value one, nor anything at or after the as-of time
        "in_count": 3, "out_count": 1, "in_usd": 150, "out_usd": 120, "in_partners": 3, "out_partners": 1,
        "fan_in": 1, "fan_out": 1, "in_mean_usd": 75, "in_max_usd": 100, "out_in_ratio": 0.8,
        "age_days": 90 / day, "span_days": 40 / day, "idle_days": 50 / day, "forward_delay_days": 20 / day,
        "per_day": 4, "service_in_share": 50 / 150, "service_out_share": 0, "flagged_in_share": 100 / 150,
        "flagged_out_share": 0, "flagged": 1 - 1, "unpriced_share": 0.25}
    assert stranger["flagged"] == 1 and stranger["in_count"] == 0 and math.isnan(stranger["age_days"])


def reference(t, address: str, as_of: int, service: set, flags: set) -> dict:
    """The features of one address, transfer by transfer, written from their descriptions."""
    rows = [(s, d, u, unknown, ts) for s, d, u, unknown, ts in zip(
        t.from_address.to_pylist(), t.to_address.to_pylist(), t.usd_micro.tolist(), t.unpriced.tolist(),
        t.timestamp.tolist()) if ts < as_of and s != d and (u > 0 or unknown)]
    ins = [r for r in rows if r[1] == address]
    outs = [r for r in rows if r[0] == address]
    got = sum(r[2] for r in ins) / 1e6
    gave = sum(r[2] for r in outs) / 1e6
    times = [r[4] for r in ins + outs]
    nan = float("nan")

    def ratio(a, b):
        return a / b if b else nan

    first = min(times) if times else nan
    last = max(times) if times else nan
    span = (last - first) / DAY if times else nan
    priced_in = [r for r in ins if not r[3]]
    return {
        "in_count": len(ins), "out_count": len(outs), "in_usd": got, "out_usd": gave,
        "in_partners": len({r[0] for r in ins}), "out_partners": len({r[1] for r in outs}),
        "fan_in": ratio(len({r[0] for r in ins}), len(ins)), "fan_out": ratio(len({r[1] for r in outs}), len(outs)),
        "in_mean_usd": ratio(got, len(priced_in)), "in_max_usd": max(r[2] for r in priced_in) / 1e6 if priced_in else nan,
        "out_in_ratio": ratio(gave, got), "age_days": (as_of - first) / DAY if times else nan, "span_days": span,
        "idle_days": (as_of - last) / DAY if times else nan,
        "forward_delay_days": (min(r[4] for r in outs) - min(r[4] for r in ins)) / DAY if ins and outs else nan,
        "per_day": (len(ins) + len(outs)) / max(span if times else 0, 1.0),
        "service_in_share": ratio(sum(r[2] for r in ins if r[0] in service) / 1e6, got),
        "service_out_share": ratio(sum(r[2] for r in outs if r[1] in service) / 1e6, gave),
        "flagged_in_share": ratio(sum(r[2] for r in ins if r[0] in flags) / 1e6, got),
        "flagged_out_share": ratio(sum(r[2] for r in outs if r[1] in flags) / 1e6, gave),
        "flagged": float(address in flags), "unpriced_share": ratio(sum(r[3] for r in ins + outs), len(ins) + len(outs)),
    }


same = feature_cases.same


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(*feature_cases.GRAPHS)
def test_the_vectorised_features_equal_the_reference(rows, as_of, svc, flags):
    feature_cases.check_against_reference((rows, as_of, svc, flags), compute=features, reference=reference,
                                          names=NAMES)


def test_no_transfers_at_all_gives_rows_of_no_history():
    matrix = address_features(InboundIndex.build(transfers([])), pa.array([addr(1)], pa.string()), 10 * MICRO)
    assert matrix.shape == (1, len(NAMES)) and matrix[0, NAMES.index("in_count")] == 0
    assert np.isnan(matrix[0, NAMES.index("age_days")])
