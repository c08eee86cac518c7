"""Held withdrawals: kept once per id, opened with an audit event, closed by an analyst with a reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cases import queries, withdrawals
from cases.errors import AccessDenied, InvalidRequest, NotFound
from tests.cases.conftest import NOW


def answer(withdrawal_id: str, decision: str) -> dict:
    return {"withdrawal_id": withdrawal_id, "customer_id": "bob", "chain": "ethereum", "address": "0x" + "ab" * 20,
            "asset": "ETH", "amount": "1", "usd_value": None, "decision": decision,
            "rule_ids": ["sanctioned-destination"] if decision != "allow" else [], "categories": [],
            "exposures": [], "snapshot_id": "s1"}


def test_a_held_withdrawal_opens_once_and_an_analyst_closes_it_with_a_reason(store):
    kept = withdrawals.keep(store, [answer("W-1", "block"), answer("W-2", "allow")], key_name="pay", now=NOW)
    assert [(k["decision"], k["alert_id"] is not None, k["replayed"]) for k in kept] == [
        ("block", True, False), ("allow", False, False)]
    again = withdrawals.keep(store, [answer("W-1", "allow")], key_name="pay", now=NOW)  # a racing second call
    assert again[0]["decision"] == "block" and again[0]["replayed"] is True  # the first answer stands
    open_ones = withdrawals.held(store, "ann")
    assert [w.withdrawal_id for w in open_ones] == ["W-1"]
    with pytest.raises(InvalidRequest, match="needs a reason"):
        withdrawals.close(store, "ann", open_ones[0].id, outcome="released", reason=" ", now=NOW)
    with pytest.raises(AccessDenied):
        withdrawals.close(store, "sue", open_ones[0].id, outcome="released", reason="checked", now=NOW)
    closed = withdrawals.close(store, "ann", open_ones[0].id, outcome="kept_blocked", reason="OFAC match confirmed",
                               now=NOW + timedelta(minutes=5))
    assert (closed.status, closed.closed_by) == ("kept_blocked", "ann")
    assert withdrawals.held(store, "ann") == []
    with pytest.raises(InvalidRequest, match="already closed"):
        withdrawals.close(store, "ann", closed.id, outcome="released", reason="again", now=NOW)
    with pytest.raises(NotFound):
        withdrawals.close(store, "ann", 999, outcome="released", reason="x", now=NOW)
    assert queries.verify_audit(store, "ada").ok
