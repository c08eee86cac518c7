"""A plain, slow statement of graph.utxo's split, with exact fractions, for the property tests to check it against.

Every (input address, output address) pair gets the exact share Fraction(v_out x w_in, W)
of the merged values; each output's shares are then rounded by largest remainder (ties
to the earlier input), and pairs without an address, self-pairs and zeros are left out.

>>> split_exactly([("a", 60), ("b", 40)], [("c", 50), ("a", 45)])
[('a', 'c', 30), ('b', 'c', 20), ('b', 'a', 18)]
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Sequence


def totals(parts: Sequence[tuple[str | None, int]]) -> dict[str | None, int]:
    """Each address's total value, addresses in order of first appearance."""
    found: dict[str | None, int] = {}
    for address, value in parts:
        found[address] = found.get(address, 0) + value
    return found


def exact_shares(inputs: Sequence[tuple[str | None, int]],
                 outputs: Sequence[tuple[str | None, int]]) -> dict[tuple[str | None, str | None], Fraction]:
    """(input address, output address) -> the exact satoshis the one pays the other, before rounding."""
    sources, targets = totals(inputs), totals(outputs)
    spent = sum(sources.values())
    return {(source, target): Fraction(paid * put, spent)
            for target, paid in targets.items() for source, put in sources.items()}


def split_exactly(inputs: Sequence[tuple[str | None, int]],
                  outputs: Sequence[tuple[str | None, int]]) -> list[tuple[str, str, int]]:
    """The rounded transfers (from, to, satoshis), output by output, in input order; none without inputs."""
    if not inputs or sum(v for _, v in inputs) == 0:
        return []
    shares = exact_shares(inputs, outputs)
    sources = list(totals(inputs))
    found = []
    for target, paid in totals(outputs).items():
        exact = [shares[(source, target)] for source in sources]
        whole = [math.floor(share) for share in exact]
        left = paid - sum(whole)
        by_remainder = sorted(range(len(sources)), key=lambda i: (-(exact[i] - whole[i]), i))
        for i in by_remainder[:left]:
            whole[i] += 1
        found += [(source, target, amount) for source, amount in zip(sources, whole)
                  if target is not None and source is not None and source != target and amount > 0]
    return found
