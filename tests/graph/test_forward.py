"""Forward tracing of stolen funds: hand-built graphs with exact numbers, and the engine against the reference."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import reference
from graph.errors import GraphError
from graph.forward import reaching, segmented_running_min, trace_forward
from tests.factories import MICRO, addr, services, transfers

HACKED, T, X, Y, A, B, EXCHANGE, C, DEPOSIT, F, G = range(1, 12)

# docs/exposure.md, "Tracing stolen funds forward", worked example: (from, to, block, position, $, time s, tx).
WORKED = [(X, T, 1, 0, 1000), (HACKED, T, 2, 0, 3000, 24, "0xhack"), (T, A, 3, 0, 2000), (Y, T, 4, 0, 1500),
          (T, B, 5, 0, 3000), (A, EXCHANGE, 6, 0, 1000), (B, DEPOSIT, 7, 0, 1000), (T, C, 8, 0, 5000),
          (C, DEPOSIT, 9, 0, 100), (B, F, 10, 0, 500), (F, G, 11, 0, 100)]


def traced(rows, **named):
    """[(row, hop, stolen micro-dollars, unpriced)] of the engine, after checking the reference gives the same."""
    t = transfers(rows)
    if "services" in named:
        named["services"] = services(named["services"])
    found = trace_forward(t, **named)
    got = list(zip(found.row.tolist(), found.hop.tolist(), found.stolen_micro.tolist(), found.unpriced.tolist()))
    assert got == [(r.row, r.hop, r.stolen_micro, r.unpriced) for r in reference.traced_forward(t, **named)]
    return got


def test_the_worked_example():
    assert traced(WORKED, tx_hashes=["0xhack"], services=[EXCHANGE]) == [
        (1, 1, 3000 * MICRO, False),  # the theft
        (2, 2, 1500 * MICRO, False),  # T holds 3,000 of 4,000: 2,000 x 3/4
        (4, 2, 1_285_714_285, False),  # T holds 1,500 of 3,500: 3,000 x 3/7 = 1,285.7142857, rounded down
        (5, 3, 750 * MICRO, False),  # A holds 1,500 of 2,000; the exchange keeps it
        (6, 3, 428_571_428, False),  # B holds 1,285.714285 of 3,000: a third of it
        (7, 2, 214_285_715, False),  # T sends more than its pool of 500: all it still holds
        (8, 3, 4_285_714, False),  # C holds 214.285715 of 5,000: 100 x that / 5,000
        (9, 3, 214_285_714, False),  # B holds 857.142857 of 2,000: a quarter of it
    ]


def test_the_worked_example_conserves_the_stolen_value_at_each_hop():
    rows = traced(WORKED, tx_hashes=["0xhack"], services=[EXCHANGE])
    assert sum(s for _, hop, s, _ in rows if hop == 2) == 3000 * MICRO  # T passed on all it received, no more
    assert sum(s for _, hop, s, _ in rows if hop == 3) == 1_397_142_856  # B and C keep some


def test_one_more_hop_adds_rows_at_that_hop_only():
    three = traced(WORKED, tx_hashes=["0xhack"], services=[EXCHANGE])
    four = traced(WORKED, tx_hashes=["0xhack"], services=[EXCHANGE], hops=4)
    # F holds 214.285714 of 500 at hop 3 and sends 100 to G; DEPOSIT sends nothing.
    assert four == sorted(three + [(10, 4, 42_857_142, False)])


def test_only_deposits_to_the_platform_are_kept():
    t = transfers(WORKED)
    found = reaching(trace_forward(t, tx_hashes=["0xhack"], services=services([EXCHANGE])), t,
                     pa.array([addr(DEPOSIT), addr(99)]))
    assert list(zip(found.row.tolist(), found.hop.tolist(), found.stolen_micro.tolist())) == [
        (6, 3, 428_571_428), (8, 3, 4_285_714)]


def test_a_peel_chain():
    rows = [(1, 2, 1, 0, 1000, 12, "0xs"), (2, 3, 2, 0, 950), (2, DEPOSIT, 2, 1, 50), (3, 4, 3, 0, 900),
            (3, DEPOSIT, 3, 1, 50), (4, 5, 4, 0, 850)]
    assert traced(rows, tx_hashes=["0xs"]) == [(0, 1, 1000 * MICRO, False), (1, 2, 950 * MICRO, False),
                                               (2, 2, 50 * MICRO, False), (3, 3, 900 * MICRO, False),
                                               (4, 3, 50 * MICRO, False)]  # hop 4 (4 -> 5) is past the default 3


def test_a_split_into_two():
    rows = [(1, 2, 1, 0, 1000, 12, "0xs"), (2, 3, 2, 0, 600), (2, 4, 2, 1, 400), (3, 5, 3, 0, 600)]
    assert traced(rows, tx_hashes=["0xs"], hops=2) == [(0, 1, 1000 * MICRO, False), (1, 2, 600 * MICRO, False),
                                                       (2, 2, 400 * MICRO, False)]


def test_mixing_with_clean_funds_dilutes_and_what_was_sent_is_gone():
    rows = [(5, 2, 1, 0, 3000), (1, 2, 2, 0, 1000, 24, "0xs"), (2, 3, 3, 0, 2000), (6, 2, 4, 0, 2000),
            (2, 4, 5, 0, 1000)]
    # 2 holds 1,000 stolen of 4,000: it sends 500 to 3 and keeps 500 of 2,000; 2,000 clean more: 500 of 4,000.
    assert traced(rows, tx_hashes=["0xs"]) == [(1, 1, 1000 * MICRO, False), (2, 2, 500 * MICRO, False),
                                               (4, 2, 125 * MICRO, False)]


def test_clean_funds_received_after_a_transfer_do_not_change_it():
    rows = [(1, 2, 1, 0, 1000, 12, "0xs"), (2, 3, 2, 0, 500), (6, 2, 3, 0, 10_000)]
    assert traced(rows, tx_hashes=["0xs"]) == [(0, 1, 1000 * MICRO, False), (1, 2, 500 * MICRO, False)]


def test_a_service_is_reported_and_stops_the_trace():
    rows = [(1, 2, 1, 0, 1000, 12, "0xs"), (1, EXCHANGE, 1, 1, 300, 12, "0xs"), (2, EXCHANGE, 2, 0, 400),
            (EXCHANGE, 3, 3, 0, 5000), (3, 4, 4, 0, 5000)]
    assert traced(rows, tx_hashes=["0xs"], services=[EXCHANGE]) == [
        (0, 1, 1000 * MICRO, False), (1, 1, 300 * MICRO, False), (2, 2, 400 * MICRO, False)]


def test_a_named_wallet_seeds_what_it_sent_from_the_time_given():
    rows = [(1, 2, 1, 0, 100, 10), (1, 3, 2, 0, 200, 20), (1, 4, 3, 0, 300, 30), (5, 1, 4, 0, 50, 40)]
    assert traced(rows, wallets=[addr(1)], since=20 * MICRO, hops=1) == [(1, 1, 200 * MICRO, False),
                                                                         (2, 1, 300 * MICRO, False)]
    assert [r[0] for r in traced(rows, wallets=[addr(1)], hops=1)] == [0, 1, 2]
    assert traced(rows, wallets=[addr(99)], tx_hashes=["0xnone"]) == []


def test_every_transfer_of_a_named_transaction_is_stolen_but_not_to_itself_or_of_no_value():
    rows = [(1, 2, 1, 0, 100, 12, "0xs"), (1, 3, 1, 1, 200, 12, "0xs"), (1, 1, 1, 2, 300, 12, "0xs"),
            (3, 2, 1, 3, 0, 12, "0xs"), (2, 2, 2, 0, 50), (2, 4, 3, 0, 100)]
    # 2's self-transfer neither carries nor changes its pool: it sends all 100 it holds to 4.
    assert traced(rows, tx_hashes=["0xs"]) == [(0, 1, 100 * MICRO, False), (1, 1, 200 * MICRO, False),
                                               (5, 2, 100 * MICRO, False)]


def test_sending_more_than_was_seen_received_sends_everything_held():
    rows = [(1, 2, 1, 0, 10, 12, "0xs"), (2, 3, 2, 0, 70), (2, 4, 3, 0, 5)]
    assert traced(rows, tx_hashes=["0xs"]) == [(0, 1, 10 * MICRO, False), (1, 2, 10 * MICRO, False)]


def test_the_stolen_part_is_rounded_down_to_a_micro_dollar():
    rows = [(5, 2, 1, 0, 2), (1, 2, 2, 0, 1, 24, "0xs"), (2, 3, 3, 0, 1), (2, 4, 4, 0, 0.000001)]
    # 2 holds $1 of $3: $1 carries 333,333.33 micro-dollars; then 666,667 of 2,000,000: 0.33 of a micro-dollar.
    assert traced(rows, tx_hashes=["0xs"]) == [(1, 1, MICRO, False), (2, 2, 333_333, False)]


def test_the_hops_cap():
    rows = [(1, 2, 1, 0, 100, 12, "0xs"), (2, 3, 2, 0, 100), (3, 4, 3, 0, 100), (4, 5, 4, 0, 100)]
    assert [(r, h) for r, h, _, _ in traced(rows, tx_hashes=["0xs"], hops=1)] == [(0, 1)]
    assert [(r, h) for r, h, _, _ in traced(rows, tx_hashes=["0xs"], hops=2)] == [(0, 1), (1, 2)]
    assert [(r, h) for r, h, _, _ in traced(rows, tx_hashes=["0xs"], hops=5)] == [(0, 1), (1, 2), (2, 3), (3, 4)]
    with pytest.raises(GraphError, match="hops must be at least 1"):
        trace_forward(transfers(rows), tx_hashes=["0xs"], hops=0)


def test_a_stolen_transfer_without_a_price_is_unknown_downstream():
    rows = [(1, 2, 1, 0, None, 12, "0xs"), (2, 3, 2, 0, 100), (2, 4, 3, 0, 100), (3, 5, 4, 0, 10)]
    # 2 holds stolen value of unknown size: all it sends may carry some, however much it sends.
    assert traced(rows, tx_hashes=["0xs"]) == [(0, 1, 0, True), (1, 2, 0, True), (2, 2, 0, True), (3, 3, 0, True)]


def test_value_without_a_price_mixed_in_leaves_the_share_unknown():
    rows = [(1, 2, 1, 0, 1000, 12, "0xs"), (6, 2, 2, 0, None), (2, 3, 3, 0, 500), (7, 4, 3, 1, 10), (4, 5, 4, 0, 5)]
    # 2's pool holds an unknown amount besides the $1,000: the $500 is the priced figure, flagged.
    assert traced(rows, tx_hashes=["0xs"]) == [(0, 1, 1000 * MICRO, False), (2, 2, 500 * MICRO, True)]


def test_a_holder_sending_without_a_price_carries_an_unknown_part_and_keeps_its_holding_unknown():
    rows = [(1, 2, 1, 0, 1000, 12, "0xs"), (2, 3, 2, 0, None), (2, 4, 3, 0, 400), (3, 5, 4, 0, 50)]
    assert traced(rows, tx_hashes=["0xs"]) == [(0, 1, 1000 * MICRO, False), (1, 2, 0, True),
                                               (2, 2, 400 * MICRO, True), (3, 3, 0, True)]


def test_the_chain_order_not_the_file_order_decides():
    ordered = [(1, 2, 1, 0, 1000, 12, "0xs"), (2, 3, 2, 0, 500), (6, 2, 2, 1, 1000), (2, 4, 3, 0, 1000)]
    expected = traced(ordered, tx_hashes=["0xs"])
    shuffled = list(range(len(ordered)))
    random.Random(3).shuffle(shuffled)
    got = traced([ordered[i] for i in shuffled], tx_hashes=["0xs"])
    assert sorted((shuffled[r], h, s, u) for r, h, s, u in got) == expected


# Invariants on random graphs.

TX = st.sampled_from(["0xa", "0xb", "0xc", "0xd", "0xe"])
USD = st.sampled_from([0, 0.000001, 0.01, 1, 2.5, 100, 333.333333, 10**6, None])  # None: no price
WALLET = st.integers(1, 7)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def scenarios(draw):
    rows = draw(st.lists(st.tuples(WALLET, WALLET, st.integers(0, 10), st.integers(0, 2), USD), max_size=40))
    rows = [row + (row[2] * 12 + draw(st.integers(-5, 5)), draw(TX)) for row in rows]
    return dict(rows=rows, tx_hashes=draw(st.lists(TX, max_size=2, unique=True)),
                wallets=draw(st.lists(WALLET, max_size=2, unique=True)),
                since=draw(st.one_of(st.none(), st.integers(0, 130))), hops=draw(st.integers(1, 4)),
                services=draw(st.lists(WALLET, max_size=2, unique=True)))


def run(s, *, engine=True, **changes):
    """The traced rows of scenario `s` (with `changes`): the engine's, or the reference's."""
    s = {**s, **changes}
    t = transfers(s["rows"])
    named = dict(tx_hashes=s["tx_hashes"], wallets=[addr(w) for w in s["wallets"]], hops=s["hops"],
                 since=None if s["since"] is None else s["since"] * MICRO,
                 services=services(s["services"]) if s["services"] else None)
    if engine:
        found = trace_forward(t, **named)
        return list(zip(found.row.tolist(), found.hop.tolist(), found.stolen_micro.tolist(), found.unpriced.tolist()))
    return [(r.row, r.hop, r.stolen_micro, r.unpriced) for r in reference.traced_forward(t, **named)]


def seeds(s) -> set[int]:
    return {i for i, (w, _, _, _, _, time, tx) in enumerate(s["rows"])
            if tx in s["tx_hashes"] or (w in s["wallets"] and (s["since"] is None or time >= s["since"]))}


@SETTINGS
@given(scenarios())
def test_engine_equals_reference(s):
    assert run(s) == run(s, engine=False)


@SETTINGS
@given(scenarios())
def test_stolen_value_is_conserved(s):
    got, seeded = run(s), seeds(s)
    rows = s["rows"]
    received: dict[tuple[int, int], int] = {}
    sent: dict[tuple[int, int], int] = {}
    per_hop: dict[int, int] = {}
    per_row: dict[int, int] = {}
    for row, hop, stolen, _ in got:
        w, x = rows[row][0], rows[row][1]
        if x not in s["services"]:
            received[(x, hop)] = received.get((x, hop), 0) + stolen
        if row not in seeded:
            sent[(w, hop)] = sent.get((w, hop), 0) + stolen
        per_hop[hop] = per_hop.get(hop, 0) + stolen
        per_row[row] = per_row.get(row, 0) + stolen
    for (w, hop), out in sent.items():  # what a wallet passes on at hop h + 1, it received at hop h
        assert out <= received.get((w, hop - 1), 0)
    for hop in range(2, s["hops"] + 1):
        assert per_hop.get(hop, 0) <= per_hop.get(hop - 1, 0) <= per_hop.get(1, 0)
    for row, stolen in per_row.items():  # no transfer carries more than its value
        value = rows[row][4]
        assert stolen <= (0 if value is None else round(value * MICRO))


@SETTINGS
@given(scenarios(), st.one_of(TX.map(lambda tx: ("tx", tx)), WALLET.map(lambda w: ("wallet", w))))
def test_adding_a_seed_never_lowers_any_transfers_stolen_value(s, added):
    kind, name = added
    more = dict(tx_hashes=sorted(set(s["tx_hashes"]) | {name})) if kind == "tx" else \
        dict(wallets=sorted(set(s["wallets"]) | {name}))
    before, after = run(s), run(s, **more)

    def up_to(found, row, hop):
        return sum(stolen for r, h, stolen, _ in found if r == row and h <= hop)

    for row in {r for r, _, _, _ in before}:
        for hop in range(1, s["hops"] + 1):  # at hops <= h, for every h: nearer stolen value counts for more
            assert up_to(after, row, hop) >= up_to(before, row, hop)


@SETTINGS
@given(scenarios())
def test_one_hop_gives_the_seeds_only(s):
    rows = s["rows"]
    counted = {i for i in seeds(s) if rows[i][0] != rows[i][1] and rows[i][4] != 0}
    assert run(s, hops=1) == [(i, 1, 0 if rows[i][4] is None else round(rows[i][4] * MICRO), rows[i][4] is None)
                              for i in sorted(counted)]


@SETTINGS
@given(scenarios())
def test_one_more_hop_only_adds_rows_at_that_hop(s):
    fewer, more = run(s), run(s, hops=s["hops"] + 1)
    assert [r for r in more if r[1] <= s["hops"]] == fewer


def test_a_long_history_whose_pool_runs_dry():
    rows = [(9, 2, b, 0, 1) for b in range(1, 101)] + [(2, 3, 101, 0, 250), (1, 2, 102, 0, 10, 0, "0xs"),
                                                       (9, 2, 103, 0, 30), (2, 4, 104, 0, 5)]
    # 2 received $100 and sent $250: its pool is 0, not -150; then $10 stolen and $30 clean: 5 x 10 / 40.
    assert traced(rows, tx_hashes=["0xs"]) == [(101, 1, 10 * MICRO, False), (103, 2, 1_250_000, False)]


@given(st.lists(st.lists(st.integers(-1000, 1000), min_size=1, max_size=200), min_size=1, max_size=20))
def test_the_running_minimum_restarts_with_each_run(runs):
    lengths = np.array([len(r) for r in runs])
    got = segmented_running_min(np.concatenate([np.array(r) for r in runs]),
                                starts=np.r_[0, np.cumsum(lengths)[:-1]], lengths=lengths)
    assert got.tolist() == [min(r[:i + 1]) for r in runs for i in range(len(r))]
