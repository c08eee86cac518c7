"""Freeze requests on the fixture scenario: the funds traced to the deposits they reached, cases opened or linked,
the request's deadline on each case and in its timeline, and the answer from an approved template."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from cases import freeze_requests, maintenance, queries, timeline
from cases.errors import AccessDenied, InvalidRequest
from graph import readers
from graph.times import parse_time
from kyt import freeze_trace
from tests.cases.conftest import NOW

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
KYBERSWAP_EXPLOIT = "0xe1fbc1d527ca03fe4f554cc005138a49917294f6c1996ff9e867f1386dc45928"
"""The KyberSwap exploiter paying ivan's wallet $600 in the scenario."""
LAZARUS = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"


def traced(reference: str, **seeds):
    found = freeze_trace.parse_seeds(reference, **{"tx_hashes": (), "wallets": (), "since": None, "hops": 3, **seeds})
    return freeze_trace.trace(found, readers.read_transfers(FIXTURES / "scenario" / "transfers.csv"),
                              readers.read_deposits(FIXTURES / "scenario" / "deposits.csv"),
                              services=readers.read_services(FIXTURES / "lists" / "services.csv"), now=NOW)


def request(store, reference: str, hits, snapshot, **kwargs):
    made = freeze_requests.add(store, "ann", reference=reference, requester="KyberSwap", kind="protocol",
                               deadline=NOW + timedelta(days=3), tx_hashes=kwargs.get("tx", ()), wallets=(),
                               since=None, hops=3, now=NOW)
    return made, freeze_requests.link(store, "ann", made.id, hits=hits, snapshot=snapshot, now=NOW)


def test_a_request_naming_the_exploit_transaction_freezes_the_deposit_its_funds_reached(store, cases):
    hits, snapshot = traced("KS-1", tx_hashes=[KYBERSWAP_EXPLOIT])
    # ivan's wallet got $5,400 clean, then $600 from the exploiter, and deposited $3,000: a tenth of it is stolen
    assert [(h.record.deposit_id, h.hop, h.stolen_usd) for h in hits] == [("D-1009", 2, Decimal("300"))]
    assert hits[0].record.exposures[0].share == Decimal("0.1") and hits[0].record.rule_ids == ("freeze-request",)
    made, linked = request(store, "KS-1", hits, snapshot, tx=[KYBERSWAP_EXPLOIT])
    assert (linked.opened, linked.linked) == (1, 1)  # D-1009 had only a review alert: now a freeze case
    detail = queries.show(store, "ann", linked.case_ids["D-1009"])
    assert detail.case.next_due_at == min(d["due_at"] for d in detail.deadlines if d["status"] == "open")
    assert detail.case.decision == "freeze" and detail.case.categories == ["stolen_funds"]
    assert [d["rule_id"] for d in detail.deadlines if d["rule_id"] == "REQUEST-RESPONSE"] == ["REQUEST-RESPONSE"]
    again = freeze_requests.link(store, "ann", made.id, hits=hits, snapshot=snapshot, now=NOW)
    assert (again.opened, again.linked) == (0, 0)  # the same trace again links nothing twice


def test_a_request_naming_a_wallet_links_the_case_already_open_and_it_shows_in_the_timeline(store, cases):
    hits, snapshot = traced("POL-7", wallets=[LAZARUS], since=parse_time("2026-11-01"))
    found = {h.record.deposit_id: (h.hop, h.stolen_usd) for h in hits}
    assert found["D-1001"] == (2, Decimal("4000"))  # alice: $40,000 of her $50,000 came from Lazarus
    assert "D-1002" not in found  # bob's funds came through Binance 14, a service: the trace stops there
    made = freeze_requests.add(store, "sam", reference="POL-7", requester="Police", kind="authority",
                               deadline=NOW + timedelta(days=2), tx_hashes=(), wallets=[LAZARUS.lower()],
                               since=NOW - timedelta(days=30), hops=3, now=NOW)
    linked = freeze_requests.link(store, "sam", made.id, hits=hits, snapshot=snapshot, now=NOW)
    assert linked.case_ids["D-1001"] == cases["D-1001"]  # linked, not opened again
    entries = timeline.timeline(store, "ann", cases["D-1001"], now=NOW)
    [entry] = [e for e in entries if e.title == "Linked to a freeze request"]
    assert "request POL-7 from Police: $4,000.00 of the stolen funds" in entry.detail
    due = [e for e in entries if e.ahead and "REQUEST-RESPONSE" in e.title and "freeze request POL-7" in e.detail]
    assert due  # the request's deadline is among the case's deadlines ahead


def test_the_answer_comes_from_an_approved_template_and_ends_the_deadlines(store, cases):
    hits, snapshot = traced("KS-2", tx_hashes=[KYBERSWAP_EXPLOIT])
    made, linked = request(store, "KS-2", hits, snapshot, tx=[KYBERSWAP_EXPLOIT])
    with pytest.raises(InvalidRequest, match="no approved answer"):
        freeze_requests.respond(store, "ann", made.id, template_id="we froze it all", now=NOW)
    with pytest.raises(InvalidRequest, match="answer with funds_frozen"):
        freeze_requests.respond(store, "ann", made.id, template_id="no_funds_found", now=NOW)
    with pytest.raises(AccessDenied):
        freeze_requests.respond(store, "sue", made.id, template_id="funds_frozen", now=NOW)
    moved = maintenance.recompute_deadlines(store, "sam", NOW)  # the requester's date is never recomputed
    assert moved is not None
    text = freeze_requests.respond(store, "ann", made.id, template_id="funds_frozen", now=NOW + timedelta(hours=1))
    assert "Re: KS-2" in text and "1 deposit(s)" in text and "300.00 USD" in text
    [(answered, _)] = [(r, h) for r, h in freeze_requests.list_requests(store, "ann") if r.reference == "KS-2"]
    assert answered.status == "answered" and answered.response_template == "funds_frozen"
    with store.engine.connect() as connection:
        status = connection.execute(sa.text("SELECT status FROM deadlines WHERE rule_id = 'REQUEST-RESPONSE' AND "
                                            "case_id = :c"), {"c": linked.case_ids["D-1009"]}).scalar()
    assert status == "met"
    with pytest.raises(InvalidRequest, match="was answered"):
        freeze_requests.respond(store, "ann", made.id, template_id="funds_frozen", now=NOW)
    assert queries.verify_audit(store, "ada").ok


def test_a_request_is_checked_before_anything_is_recorded(store):
    with pytest.raises(Exception, match="names transactions"):
        freeze_trace.parse_seeds("X", tx_hashes=(), wallets=(), since=None, hops=3)
    with pytest.raises(Exception, match="needs the time"):
        freeze_trace.parse_seeds("X", tx_hashes=(), wallets=[LAZARUS], since=None, hops=3)
    with pytest.raises(InvalidRequest, match="has passed"):
        freeze_requests.add(store, "ann", reference="X", requester="P", kind="authority", deadline=NOW,
                            tx_hashes=["0x1"], wallets=(), since=None, hops=3, now=NOW)
