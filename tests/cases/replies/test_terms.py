"""The tipping-off terms file: every term well formed, and a bad file rejected with every problem named."""

from __future__ import annotations

import pytest

from cases.errors import InvalidRequest
from cases.replies.terms import BLOCK_CATEGORIES, load_terms, parse_terms


def test_the_shipped_terms_cover_every_blocking_category_and_have_reasons():
    terms = load_terms()
    assert {t.category for t in terms if t.severity == "block"} == set(BLOCK_CATEGORIES)
    assert len({t.id for t in terms}) == len(terms)
    assert all(t.reason.strip() and t.patterns for t in terms)


def test_a_bad_terms_file_is_rejected_with_each_problem():
    data = {"term": [
        {"id": "x", "category": "gossip", "severity": "block", "scope": "hold", "languages": ["en"],
         "reason": "r", "patterns": ["a"]},
        {"id": "y", "category": "reporting", "severity": "loud", "scope": "sometimes", "languages": ["xx"],
         "reason": "r", "patterns": ["(unclosed"]},
        {"id": "z", "category": "reporting", "severity": "block", "scope": "hold", "languages": ["en"],
         "reason": "r", "patterns": ["a"], "colour": "red"},
    ]}
    with pytest.raises(InvalidRequest) as caught:
        parse_terms(data, "t.toml")
    message = str(caught.value)
    for expected in ("category 'gossip'", "severity must be block or warn", "scope must be always or hold",
                     "languages must be", "is not a regular expression", "unknown key 'colour'"):
        assert expected in message
