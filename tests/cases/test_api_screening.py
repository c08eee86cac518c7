"""The API's stored deposit answers: the first answer of a deposit id stands, on SQLite and PostgreSQL."""

from __future__ import annotations

from cases.api_screening import known, store_answers
from tests.cases.conftest import NOW


def answer(deposit_id: str, decision: str, key: str = "k") -> dict:
    return {"deposit_id": deposit_id, "record": {"deposit_id": deposit_id, "decision": decision}, "case_id": None,
            "key_name": key, "screened_at": NOW}


def test_an_id_stored_once_keeps_its_first_answer_even_when_asked_to_store_it_again(store):
    store_answers(store, [answer("D-1", "review", "first"), answer("D-1", "allow", "same-batch")])
    store_answers(store, [answer("D-1", "freeze", "a-racing-call"), answer("D-2", "allow")])
    found = known(store, ["D-1", "D-2", "D-3"])
    assert {d: a["decision"] for d, a in found.items()} == {"D-1": "review", "D-2": "allow"}
    assert all(a["replayed"] for a in found.values())
