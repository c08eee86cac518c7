"""The audit hash: the fast way it is computed hashes exactly the canonical JSON of the event."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from hypothesis import given, settings, strategies as st

from cases.audit import GENESIS, _canonical, _plain, digest

TEXT = st.text(max_size=12)  # any characters: quotes, backslashes, non-ASCII, control characters
PLAIN = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                     max_leaves=8)


def canonical_digest(seq, *, case_id, actor, at, action, before, after, prev_hash) -> str:
    """The definition: SHA-256 of the whole event as JSON with sorted keys and no spaces."""
    body = json.dumps({"seq": seq, "case_id": case_id, "actor": actor, "at": at.isoformat(), "action": action,
                       "before": before, "after": after, "prev": prev_hash}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@settings(max_examples=300, deadline=None)
@given(seq=st.integers(1, 10**12), case_id=st.none() | st.integers(1, 10**9), actor=TEXT, action=TEXT,
       before=st.dictionaries(TEXT, PLAIN, max_size=3), after=st.dictionaries(TEXT, PLAIN, max_size=4),
       at=st.datetimes(timezones=st.just(timezone.utc)), prev=st.just(GENESIS) | st.text("0123456789abcdef", min_size=64,
                                                                                        max_size=64))
def test_the_event_hash_is_the_hash_of_its_canonical_json(seq, case_id, actor, action, before, after, at, prev):
    event = dict(case_id=case_id, actor=actor, at=at, action=action, before=before, after=after, prev_hash=prev)
    assert digest(seq, **event) == canonical_digest(seq, **event)


NAME = st.text("abz09-_.:;,[]{} e", max_size=8)  # what events mostly hold: the fast path's texts
EVENTISH = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | NAME | TEXT,
                        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAME, inner, max_size=4),
                        max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(value=EVENTISH)
def test_the_canonical_text_is_what_json_dumps_writes(value):
    assert _canonical(value) == json.dumps(value, sort_keys=True, separators=(",", ":"))


def test_the_canonical_text_of_numbers_that_orjson_writes_differently():
    for value in (1.234e-05, 1e16, 1e-7, 2**64, float("nan"), float("inf"), -0.0, {"a": [1.5, "x"]}, "caf\u00e9\x7f"):
        assert _canonical(value) == json.dumps(value, sort_keys=True, separators=(",", ":"))


def test_a_known_event_keeps_its_hash():
    at = datetime(2026, 12, 6, 5, 0, tzinfo=timezone.utc)
    assert digest(1, case_id=7, actor="ann", at=at, action="case.released", before={"status": "open"},
                  after={"status": "released"}, prev_hash=GENESIS) == canonical_digest(
        1, case_id=7, actor="ann", at=at, action="case.released", before={"status": "open"},
        after={"status": "released"}, prev_hash=GENESIS)


def test_values_are_made_plain_as_they_are_stored():
    from decimal import Decimal
    assert _plain({"a": (1, Decimal("2.50")), 3: datetime(2026, 1, 2, tzinfo=timezone.utc), "n": [None, True]}) == {
        "a": [1, "2.50"], "3": "2026-01-02T00:00:00+00:00", "n": [None, True]}
