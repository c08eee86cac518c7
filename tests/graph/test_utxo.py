"""Bitcoin transactions split into transfers: hand-worked examples, and the invariants against the exact reference."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from graph.utxo import MAX_SATOSHIS, allocate, merged, problem, split
from graph.utxo_reference import exact_shares, split_exactly

BTC = 100_000_000


def flows(inputs, outputs):
    return [tuple(flow) for flow in split(inputs, outputs)]


def test_two_inputs_three_outputs_with_a_fee():
    # A puts in 70%, B 30%; the outputs take 90,000 of 100,000 satoshis: the 10,000 fee goes to no one.
    # C's 50,001: A 35,000.7, B 15,000.3 -> the left satoshi to A (remainder .7); D's 29,999: A 20,999.3,
    # B 8,999.7 -> to B.
    got = flows([("A", 70_000), ("B", 30_000)], [("C", 50_001), ("D", 29_999), ("E", 10_000)])
    assert got == [("A", "C", 35_001), ("B", "C", 15_000), ("A", "D", 20_999), ("B", "D", 9_000),
                   ("A", "E", 7_000), ("B", "E", 3_000)]
    assert sum(s for f, _, s in got if f == "A") == 63_000  # exactly 70% of the 90,000 paid out
    assert sum(s for f, _, s in got if f == "B") == 27_000


def test_change_back_to_an_input_address_is_a_dropped_self_transfer():
    # A 1 BTC and B 0.5 BTC pay C 1.2 BTC and 0.2999 BTC back to A (fee 0.0001): A's two thirds of its own
    # change (19,993,333.33) would be A -> A; B's third (9,996,666.67, remainder 2/3 beats 1/3) is B -> A.
    got = flows([("A", BTC), ("B", BTC // 2)], [("C", 120_000_000), ("A", 29_990_000)])
    assert got == [("A", "C", 80_000_000), ("B", "C", 40_000_000), ("B", "A", 9_996_667)]


def test_the_same_address_twice_is_merged_on_both_sides():
    # A spends two outputs (30 + 20) beside B's 50; C is paid twice (40 + 50). D's 5 satoshis split 2.5 / 2.5:
    # the tie goes to the input that comes first (A).
    got = flows([("A", 30), ("B", 50), ("A", 20)], [("C", 40), ("D", 5), ("C", 50)])
    assert got == [("A", "C", 45), ("B", "C", 45), ("A", "D", 3), ("B", "D", 2)]
    assert merged([("A", 30), ("B", 50), ("A", 20)]) == [("A", 50), ("B", 50)]


def test_an_op_return_output_is_dropped_and_its_value_goes_to_no_one():
    assert flows([("A", 10_000)], [(None, 0), ("B", 9_000)]) == [("A", "B", 9_000)]
    assert flows([("A", 10_000)], [(None, 600), ("B", 9_000)]) == [("A", "B", 9_000)]  # a burn: 600 to no one


def test_an_input_without_an_address_keeps_its_share_unwritten():
    # Half of the inputs come from a script without an address: B gets 4,000 from A, and 4,000 from no one.
    assert flows([(None, 5_000), ("A", 5_000)], [("B", 8_000)]) == [("A", "B", 4_000)]


def test_a_coinbase_makes_no_transfer():
    assert flows([], [("A", 625_000_000)]) == []


def test_shares_that_round_to_zero_are_not_written():
    # 1 satoshi from three equal inputs: the first input gets it, the others nothing (no zero-value transfer).
    assert flows([("A", 10), ("B", 10), ("C", 10)], [("D", 1)]) == [("A", "D", 1)]


def test_nothing_spent_and_nothing_paid_makes_no_transfer():
    assert flows([("A", 0)], [("B", 0)]) == []


def test_bad_transactions_are_refused_with_the_reason():
    assert problem([("A", 5)], [("B", 6)]) == "outputs (6 satoshis) exceed inputs (5 satoshis)"
    assert problem([("A", -1)], [("B", 0)]) == "input 0: value -1 is negative"
    assert problem([("A", 5)], [("B", 1), ("C", -1)]) == "output 1: value -1 is negative"
    assert problem([("A", 5)], [("B", 5)]) is None
    with pytest.raises(ValueError, match="exceed"):
        split([("A", 5)], [("B", 6)])


def test_allocate_hands_the_left_satoshis_to_the_largest_remainders():
    assert allocate(10, [1, 1, 1], 3) == [4, 3, 3]
    assert allocate(10, [1, 2, 3], 6) == [2, 3, 5]  # 1.67, 3.33, 5: the left satoshi to the first (.67 > .33)
    assert allocate(7, [0, 5, 5], 10) == [0, 4, 3]  # a zero input never gets one


# -- properties ----------------------------------------------------------------------------------------------

values = st.one_of(st.integers(0, 1_000), st.integers(0, MAX_SATOSHIS // 1_000))


@st.composite
def transactions(draw, sources=("a", "b", "c", None), targets=("a", "x", "y", None)):
    """(inputs, outputs) of a valid transaction: outputs never exceed the inputs."""
    inputs = draw(st.lists(st.tuples(st.sampled_from(sources), values), min_size=1, max_size=7))
    left = sum(v for _, v in inputs)
    outputs = []
    for _ in range(draw(st.integers(0, 7))):
        value = draw(st.integers(0, left))
        outputs.append((draw(st.sampled_from(targets)), value))
        left -= value
    return inputs, outputs


@settings(max_examples=300, deadline=None)
@given(transactions(sources=("a", "b", "c"), targets=("x", "y", "z")))
def test_each_output_receives_exactly_its_value(tx):
    inputs, outputs = tx
    got = split(inputs, outputs)
    if sum(v for _, v in inputs) == 0:
        assert got == []
        return
    for target, value in merged(outputs):
        assert sum(f.satoshis for f in got if f.to_address == target) == value


@settings(max_examples=300, deadline=None)
@given(transactions(sources=("a", "b", "c"), targets=("x", "y", "z")))
def test_each_input_pays_its_share_within_a_satoshi_per_output(tx):
    inputs, outputs = tx
    got = split(inputs, outputs)
    spent, paid = sum(v for _, v in inputs), sum(v for _, v in outputs)
    if spent == 0:
        return
    receivers = len(merged(outputs))
    for source, put in merged(inputs):
        exact = Fraction(put * paid, spent)
        assert abs(sum(f.satoshis for f in got if f.from_address == source) - exact) < max(receivers, 1)


@settings(max_examples=400, deadline=None)
@given(transactions())
def test_the_split_is_the_exact_reference_rounded(tx):
    inputs, outputs = tx
    assert [tuple(f) for f in split(inputs, outputs)] == split_exactly(inputs, outputs)


@settings(max_examples=300, deadline=None)
@given(transactions())
def test_every_transfer_is_positive_between_two_addresses_and_within_a_satoshi_of_exact(tx):
    inputs, outputs = tx
    shares = exact_shares(inputs, outputs) if sum(v for _, v in inputs) else {}
    for flow in split(inputs, outputs):
        assert flow.satoshis > 0
        assert flow.from_address is not None and flow.to_address is not None
        assert flow.from_address != flow.to_address
        assert abs(flow.satoshis - shares[(flow.from_address, flow.to_address)]) < 1
