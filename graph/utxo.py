"""Bitcoin's UTXO transactions as account-style transfers: each input address pays each output address its share.

A transaction spends inputs (address, satoshis) and creates outputs (address, satoshis).
Every output is funded by the inputs in proportion to what each put in: input i (value
w_i of the inputs' total W) pays output j (value v_j) the amount v_j x w_i / W. The fee
(W minus the outputs' total) goes to no one. Values are integer satoshis, and each
output's split is rounded so that it adds up to the output's value exactly:

- every input gets floor(v_j x w_i / W);
- the satoshis left (fewer than the number of inputs) go one each to the inputs with the
  largest remainders (v_j x w_i mod W), ties to the input that comes first in the
  transaction (**largest remainder**).

So every transfer is within one satoshi of its exact share, each output receives exactly
its value, and each input pays its exact share of the outputs within one satoshi per output.

Inputs from one address are merged (their values added), and so are outputs to one
address; an address keeps the place of its first input (or output). An address that is
both an input and an output (change) would pay itself: that self-transfer is dropped, as
the exposure engine ignores self-transfers anyway. An input or output without an address
(None: OP_RETURN, non-standard or bare multisig scripts) still takes part in the split,
but no transfer is made from or to it. A transfer that rounds to zero is not made.

>>> [tuple(f) for f in split([("a", 60), ("b", 40)], [("c", 50), ("a", 45)])]
[('a', 'c', 30), ('b', 'c', 20), ('b', 'a', 18)]
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

SATOSHIS_PER_BTC = 100_000_000
MAX_SATOSHIS = 21_000_000 * SATOSHIS_PER_BTC
"""All the bitcoin there will ever be: no input or output holds more."""


class Flow(NamedTuple):
    """One transfer of a transaction: satoshis (above zero) from an input address to an output address."""

    from_address: str
    to_address: str
    satoshis: int


def merged(parts: Sequence[tuple[str | None, int]]) -> list[tuple[str | None, int]]:
    """(address, value) pairs with each address once, its values added, in order of first appearance.

    >>> merged([("a", 1), ("b", 2), ("a", 3), (None, 4), (None, 5)])
    [('a', 4), ('b', 2), (None, 9)]
    """
    total: dict[str | None, int] = {}
    for address, value in parts:
        total[address] = total.get(address, 0) + value
    return list(total.items())


def problem(inputs: Sequence[tuple[str | None, int]], outputs: Sequence[tuple[str | None, int]]) -> str | None:
    """Why a transaction with these inputs and outputs cannot be split (None when it can).

    >>> problem([("a", 5)], [("b", 6)])
    'outputs (6 satoshis) exceed inputs (5 satoshis)'
    """
    for side, parts in (("input", inputs), ("output", outputs)):
        for n, (_, value) in enumerate(parts):
            if value < 0:
                return f"{side} {n}: value {value} is negative"
    paid, spent = sum(v for _, v in outputs), sum(v for _, v in inputs)
    if paid > spent:
        return f"outputs ({paid} satoshis) exceed inputs ({spent} satoshis)"
    return None


def allocate(value: int, weights: Sequence[int], total: int) -> list[int]:
    """`value` split in proportion to `weights` (summing to `total` > 0), by largest remainder, adding up exactly.

    >>> allocate(10, [1, 1, 1], 3)
    [4, 3, 3]
    """
    shares, remainders = [], []
    for weight in weights:
        share, remainder = divmod(value * weight, total)
        shares.append(share)
        remainders.append(remainder)
    left = value - sum(shares)
    if left:
        for i in sorted(range(len(weights)), key=lambda i: -remainders[i])[:left]:  # stable: ties keep input order
            shares[i] += 1
    return shares


def split(inputs: Sequence[tuple[str | None, int]], outputs: Sequence[tuple[str | None, int]]) -> list[Flow]:
    """The transfers of one transaction, output by output, each output's from its inputs in input order.

    A transaction without inputs (a coinbase) makes none. ValueError (see `problem`) for a
    negative value or outputs exceeding the inputs.
    """
    if not inputs:
        return []
    wrong = problem(inputs, outputs)
    if wrong:
        raise ValueError(wrong)
    sources = merged(inputs)
    total = sum(value for _, value in sources)
    if total == 0:
        return []  # nothing spent: every output is empty too
    weights = [value for _, value in sources]
    flows = []
    for target, value in merged(outputs):
        if target is None or value == 0:
            continue
        for (source, _), satoshis in zip(sources, allocate(value, weights, total)):
            if satoshis and source is not None and source != target:
                flows.append(Flow(source, target, satoshis))
    return flows

