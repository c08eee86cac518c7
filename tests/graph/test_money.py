"""Exact decimal text: the vectorised writers agree with the exact one-at-a-time functions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.money import share_text, share_texts, usd_text, usd_texts

AMOUNT = st.one_of(st.integers(0, 10**6), st.integers(0, 10**18), st.sampled_from([1, 2, 3, 5, 10**10, 2**53 + 1]))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(AMOUNT, AMOUNT, AMOUNT), min_size=1, max_size=30))
def test_vectorised_text_equals_exact_text(rows):
    rows = [(v, min(f, t), max(t, 1)) for v, f, t in rows]
    value, num, den = (np.array(column, dtype=np.int64) for column in zip(*rows))
    assert share_texts(num, den).to_pylist() == [share_text(n, d) for n, d in zip(num, den)]
    assert usd_texts(value, num, den).to_pylist() == [usd_text(v, n, d) for v, n, d in zip(value, num, den)]


def test_ties_round_half_to_even_in_vectors_too():
    value = np.array([1, 3, 5, 100_000_000], dtype=np.int64)
    num = np.array([1, 1, 1, 1], dtype=np.int64)
    den = np.array([2, 2, 2, 3], dtype=np.int64)
    assert usd_texts(value, num, den).to_pylist() == ["0", "0.000002", "0.000002", "33.333333"]
    assert share_texts(np.array([1, 5, 0], dtype=np.int64), np.array([4, 10**11 * 2, 7], dtype=np.int64)).to_pylist() \
        == ["0.25", "0", "0"]
