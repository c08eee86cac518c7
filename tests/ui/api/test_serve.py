"""The screening API as the platform calls it: `kyt demo`, then `kyt serve` (real uvicorn on 127.0.0.1), over HTTP."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import requests
import sqlalchemy as sa

from cases import api_keys
from cases.db import open_store

from tests.ui.api.conftest import deposit, post


def test_the_demos_frozen_deposit_screened_again_returns_its_existing_case(api):
    base, url, key = api
    found = post(base, key, deposit())
    assert found.status_code == 200
    body = found.json()
    assert body["decision"] == "freeze" and body["case_id"] is not None and body["replayed"] is True
    with open_store(url).engine.connect() as connection:
        cases = connection.execute(sa.text("SELECT id FROM cases WHERE deposit_id = 'D-1001'")).scalars().all()
    assert cases == [body["case_id"]]


def test_a_new_frozen_deposit_opens_one_case_and_a_retry_gets_the_same_answer(api):
    base, url, key = api
    first = post(base, key, deposit("API-1"))
    assert first.status_code == 200
    answer = first.json()
    assert answer["decision"] == "freeze" and answer["rule_ids"][0] == "sanctions-indirect-share"
    assert answer["exposures"] == [{"category": "sanctions", "hop": 2, "share": "0.8", "usd": "4000",
                                    "unpriced_transfers": 0, "unpriced_flagged_transfers": 0}]  # no evidence scope
    again = post(base, key, deposit("API-1")).json()
    assert again["case_id"] == answer["case_id"] and again["replayed"] is True
    assert {k: v for k, v in again.items() if k != "replayed"} == {k: v for k, v in answer.items() if k != "replayed"}
    with open_store(url).engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM cases WHERE deposit_id = 'API-1'")).scalar() == 1
        actor = connection.execute(sa.text("SELECT actor FROM audit_events WHERE case_id = :c ORDER BY seq LIMIT 1"),
                                   {"c": answer["case_id"]}).scalar()
    assert actor.startswith("system:api:demo-")


def test_a_batch_is_answered_in_order_and_a_clean_deposit_is_allowed(api):
    base, _, key = api
    clean = deposit("API-2", from_address="0x" + "12" * 20)  # a wallet with no history
    answer = post(base, key, {"deposits": [clean, deposit("API-1")]})
    assert answer.status_code == 200
    found = answer.json()["deposits"]
    assert [(d["deposit_id"], d["decision"]) for d in found] == [("API-2", "allow"), ("API-1", "freeze")]
    assert found[0]["case_id"] is None and found[0]["exposures"] == []


def test_bad_bodies_get_422_naming_the_field_never_a_traceback(api):
    base, _, key = api
    checks = [
        (deposit("B-1", from_address="0x12"), "from_address"),
        (deposit("B-2", amount="-5"), "amount"),
        (deposit("B-3", chain="dogechain"), "not known"),
        (deposit("B-4", block_number=-1), "block_number"),
        ({"deposit_id": "B-5"}, "tx_hash"),
        (deposit("B-6", from_address="TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLrf", chain="tron"), "base58check"),
    ]
    for body, named in checks:
        found = post(base, key, body)
        assert found.status_code == 422, body
        assert named in json.dumps(found.json()), (named, found.json())
        assert "Traceback" not in found.text
    broken = requests.post(base + "/v1/deposits/screen", data="{not json", timeout=10,
                           headers={"Authorization": f"Bearer {key}", "content-type": "application/json"})
    assert broken.status_code == 422


def test_keys_no_key_401_wrong_scope_403_over_the_rate_429_revoked_401(api):
    base, url, key = api
    assert post(base, None, deposit()).status_code == 401
    assert post(base, "kyt_" + "x" * 43, deposit()).status_code == 401
    store = open_store(url)
    now = datetime.now(timezone.utc)
    _, reader = api_keys.add_key(store, "ada", "support-tool", scopes=["inquiries:read"], now=now)
    _, slow = api_keys.add_key(store, "ada", "slow", scopes=["deposits:screen", "evidence:read"], now=now,
                               rate_per_second=1)
    time.sleep(5.5)  # the server reads the keys again every 5 seconds
    assert post(base, reader, deposit()).status_code == 403
    answers = [post(base, slow, deposit()) for _ in range(4)]  # a burst of two, then the limit
    assert [a.status_code for a in answers][:2] == [200, 200] and answers[-1].status_code == 429
    assert int(answers[-1].headers["Retry-After"]) >= 1
    evidence = post(base, slow, deposit("API-3"))
    while evidence.status_code == 429:
        time.sleep(1)
        evidence = post(base, slow, deposit("API-3"))
    sources = evidence.json()["exposures"][0]["evidence"]["sources"]  # the evidence scope shows the sources
    assert sources[0]["lists"] == ["OFAC SDN: LAZARUS GROUP (DPRK3)"]
    api_keys.revoke_key(store, "ada", "slow", now=now)
    time.sleep(5.5)
    assert post(base, slow, deposit()).status_code == 401


def test_every_answered_call_is_logged_by_key_name(api):
    base, url, key = api
    post(base, key, deposit("API-1"))
    time.sleep(1.5)  # the log is written every half second
    with open_store(url).engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT key_name, path, status, subject FROM api_calls "
                                          "WHERE subject = 'API-1'")).all()
    assert rows and all(r[0].startswith("demo-") and r[1] == "/v1/deposits/screen" and r[2] == 200 for r in rows)


def test_refused_calls_are_logged_too_by_the_key_they_sent(api):
    base, url, key = api
    assert post(base, None, deposit("API-R1")).status_code == 401
    assert post(base, "kyt_not-a-key", deposit("API-R1")).status_code == 401
    assert post(base, key, {"withdrawal_id": "w-r1"}, path="/v1/withdrawals/screen").status_code == 422
    request = {"reference": "R-1", "requester": "police", "deadline": "2099-01-01T00:00:00Z", "tx_hashes": ["0x1"]}
    assert post(base, key, request, path="/v1/requests").status_code == 403  # the demo key may not
    found = []
    for _ in range(20):  # the log is written in batches: look again, each time in a new transaction
        time.sleep(0.5)
        with open_store(url).engine.connect() as connection:
            found = connection.execute(sa.text(
                "SELECT key_name, path, status FROM api_calls WHERE status IN (401, 403, 422) ORDER BY id")).all()
        if len(found) >= 4:
            break
    assert [("(no valid key)", "/v1/deposits/screen", 401)] * 2 == [tuple(r) for r in found if r[2] == 401][-2:]
    named = [tuple(r) for r in found if r[2] in (403, 422)]
    assert (named[-2][1:], named[-1][1:]) == (("/v1/withdrawals/screen", 422), ("/v1/requests", 403))
    assert named[-1][0] == named[-2][0] and named[-1][0].startswith("demo-")


def test_health_and_the_openapi_docs_need_no_key(api):
    base, _, _ = api
    health = requests.get(base + "/v1/health", timeout=10).json()
    assert health["status"] == "ok" and health["transfers"] == 26
    assert "/v1/deposits/screen" in requests.get(base + "/openapi.json", timeout=10).json()["paths"]
    assert requests.get(base + "/docs", timeout=10).status_code == 200


def test_reload_reads_the_lists_again_and_decisions_name_the_new_snapshot(api):
    base, url, key = api
    _, admin = api_keys.add_key(open_store(url), "ada", "ops", scopes=["lists:reload", "deposits:screen"],
                                now=datetime.now(timezone.utc))
    time.sleep(5.5)
    assert post(base, key, {}, "/v1/admin/reload").status_code == 403  # the demo key has no reload scope
    before = requests.get(base + "/v1/health", timeout=10).json()["snapshot_id"]
    reloaded = post(base, admin, {}, "/v1/admin/reload")
    assert reloaded.status_code == 200 and reloaded.json()["transfers"] == 26
    after = requests.get(base + "/v1/health", timeout=10).json()["snapshot_id"]
    assert after == reloaded.json()["snapshot_id"] != before  # the flags' time moved on
    assert post(base, admin, deposit("API-4")).json()["snapshot_id"] == after


LAZARUS = "0x098B716B8Aaf21512996dC57EB0615e2383E2f96"  # the Ronin-bridge wallet, on the OFAC list


def withdrawal(withdrawal_id: str, address: str, **changes) -> dict:
    return {"withdrawal_id": withdrawal_id, "customer_id": "bob", "chain": "ethereum", "address": address,
            "asset": "ETH", "amount": "2.5", "usd_value": "7500", **changes}


def test_a_withdrawal_to_a_sanctioned_address_is_blocked_and_held_for_an_analyst(api):
    base, url, key = api
    found = post(base, key, withdrawal("W-1", LAZARUS), "/v1/withdrawals/screen")
    assert found.status_code == 200
    answer = found.json()
    assert answer["decision"] == "block" and "sanctioned-destination" in answer["rule_ids"]
    assert answer["address"] == LAZARUS.lower() and answer["categories"] == ["sanctions"]
    assert {"category": "sanctions", "kind": "self", "hop": 0} in answer["exposures"]
    assert answer["alert_id"] is not None and answer["replayed"] is False
    again = post(base, key, withdrawal("W-1", LAZARUS), "/v1/withdrawals/screen").json()
    assert again["replayed"] is True and again["alert_id"] == answer["alert_id"]
    with open_store(url).engine.connect() as connection:
        status = connection.execute(sa.text("SELECT status FROM withdrawal_screenings WHERE withdrawal_id = 'W-1'"))
        actor = connection.execute(sa.text("SELECT actor FROM audit_events WHERE action = 'withdrawal.held'"))
        assert status.scalars().all() == ["open"] and actor.scalar().startswith("system:api:demo-")


def test_a_withdrawal_to_an_address_with_no_history_is_allowed(api):
    base, _, key = api
    answer = post(base, key, withdrawal("W-2", "0x" + "34" * 20), "/v1/withdrawals/screen").json()
    assert (answer["decision"], answer["rule_ids"], answer["exposures"], answer["alert_id"]) == ("allow", [], [], None)


def test_a_wallet_funded_by_sanctioned_funds_is_judged_by_what_it_received(api):
    base, _, key = api
    alice = "0xf223E272271A2F150cBfdd339428B6C21dB0DE5c"  # 80% of what she received came from Lazarus
    answer = post(base, key, {"withdrawals": [withdrawal("W-3", alice), withdrawal("W-4", "0x" + "56" * 20)]},
                  "/v1/withdrawals/screen").json()["withdrawals"]
    assert [a["decision"] for a in answer] == ["block", "allow"]
    received = next(e for e in answer[0]["exposures"] if e["kind"] == "received" and e["hop"] == 1)
    assert (received["share"], received["flagged_usd"], received["total_usd"]) == ("0.8", "40000", "50000")


def test_bad_withdrawals_get_422_naming_the_field(api):
    base, _, key = api
    checks = [(withdrawal("W-5", "0x1234"), "address"), (withdrawal("W-6", LAZARUS, amount="-1"), "amount"),
              (withdrawal("W-7", LAZARUS, chain="dogechain"), "chain"),
              (withdrawal("W-8", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLrf", chain="tron"), "address"),
              (withdrawal("W-9", LAZARUS, amount="lots"), "amount")]
    for body, field in checks:
        found = post(base, key, body, "/v1/withdrawals/screen")
        assert found.status_code == 422 and found.json()["detail"][0]["loc"][-1] == field, found.json()
    assert post(base, None, withdrawal("W-10", LAZARUS), "/v1/withdrawals/screen").status_code == 401


def test_a_freeze_request_naming_the_fixture_hacks_transaction_finds_the_deposit_that_received_the_funds(api):
    base, url, key = api
    _, writer = api_keys.add_key(open_store(url), "ada", "police-portal", scopes=["requests:write"],
                                 now=datetime.now(timezone.utc))
    time.sleep(5.5)
    body = {"reference": "KS-API-1", "requester": "KyberSwap security", "kind": "protocol",
            "deadline": "2099-01-01T00:00:00Z",
            "tx_hashes": ["0xe1fbc1d527ca03fe4f554cc005138a49917294f6c1996ff9e867f1386dc45928"]}
    assert post(base, key, body, "/v1/requests").status_code == 403  # the demo key screens, it does not write requests
    found = post(base, writer, body, "/v1/requests")
    assert found.status_code == 200, found.text
    answer = found.json()
    assert [(d["deposit_id"], d["hop"], d["stolen_usd"]) for d in answer["deposits"]] == [("D-1009", 2, "300")]
    assert answer["deposits"][0]["case_id"] is not None and answer["cases_opened"] == 1
    again = post(base, writer, body, "/v1/requests")  # a retry: the same request, the same deposit and case
    assert again.status_code == 200 and again.json()["request_id"] == answer["request_id"]
    assert again.json()["deposits"] == answer["deposits"] and again.json()["cases_opened"] == 0
    other = post(base, writer, {**body, "requester": "someone else"}, "/v1/requests")
    assert other.status_code == 422 and "already a request 'KS-API-1' with other contents" in other.text
    nothing = post(base, writer, {**body, "reference": "KS-API-2", "tx_hashes": []}, "/v1/requests")
    assert nothing.status_code == 422 and "names transactions" in nothing.text


def test_a_batch_repeating_a_deposit_id_is_refused(api):
    base, _, key = api
    found = post(base, key, {"deposits": [deposit("R-1"), deposit("R-1")]})
    assert found.status_code == 422 and found.json()["detail"][0]["loc"] == ["body", "deposits", 1, "deposit_id"]
