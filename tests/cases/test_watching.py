"""Watching a real node: new deposits are scored as they arrive and their cases opened, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from web3 import Web3

from cases.watching import Watch
from graph.chain import Node
from graph.ingestion import Ingestion
from kyt import batch
from tests.graph.chain.conftest import anvil, contracts  # noqa: F401 - the real node and the test tokens
from tests.graph.chain.test_ingestion import deploy, send

KYT = Path(sys.executable).parent / "kyt"
ETH = 10**18


@pytest.fixture
def node():
    """anvil as chain 1 (ethereum), the chain of the flagged file's wallets (it has no chain column); its URL."""
    with anvil("--chain-id", "1") as (url, _):
        yield url


def now() -> datetime:
    return datetime.now(timezone.utc)


def setup(node_url: str, tmp_path: Path):
    """Accounts (funder F flagged as sanctioned, user U, platform address P, clean C) and the watch's inputs."""
    w3 = Web3(Web3.HTTPProvider(node_url))
    a = w3.eth.accounts
    flagged = tmp_path / "flagged.csv"
    flagged.write_text(f"address,category,source,listed_at,delisted_at\n{a[1].lower()},sanctions,test list,,\n")
    addresses = tmp_path / "addresses.csv"
    addresses.write_text(f"address,customer_id\n{a[3].lower()},cust-3\n")
    prices = tmp_path / "prices.csv"
    prices.write_text("asset,day,price\n" + "".join(f"ETH,{date.today() + timedelta(days=d)},2000\n" for d in (-1, 0, 1)))
    return w3, a, flagged, addresses, prices


def make_watch(node_url: str, tmp_path: Path, store, flagged: Path, addresses: Path, prices: Path) -> Watch:
    from graph.ingest_inputs import load_deposit_addresses, load_prices

    folder = tmp_path / "watch"
    folder.mkdir(exist_ok=True)
    ingestion = Ingestion(Node(node_url), folder / "transfers.csv", folder / "transfers.csv.checkpoint.json",
                          from_block=0, confirmations=0, prices=load_prices(prices),
                          deposits_out=folder / "deposits.csv", deposit_addresses=load_deposit_addresses(addresses))
    return Watch(ingestion, folder, store, request=batch.ScoreRequest(folder / "deposits.csv", folder / "transfers.csv",
                                                                      flagged, 0))


def cases_by_customer(store) -> list[tuple]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT deposit_id, usd_value, rule_ids FROM cases")).all())


def alerts(store) -> list[tuple]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(sa.text("SELECT deposit_id, usd_value FROM alerts")).all())


def test_deposits_are_scored_as_they_arrive_and_each_case_opens_once(node, contracts, tmp_path, store):
    w3, a, flagged, addresses, prices = setup(node, tmp_path)
    loot = deploy(w3, contracts, "Token", "Loot", "LOOT", 18, 10**24, sender=a[1])  # priced below
    junk = deploy(w3, contracts, "Token", "Junk", "JUNK", 18, 10**24, sender=a[1])  # no price for it
    with prices.open("a") as handle:  # a token is named by its contract: longer than any ticker
        handle.write("".join(f"{loot.address.lower()},{date.today() + timedelta(days=d)},3\n" for d in (-1, 0, 1)))
    send(w3, a[1], a[2], 10 * ETH)  # F funds U
    send(w3, a[4], a[2], 30 * ETH)  # C funds U
    indirect = send(w3, a[2], a[3], 4 * ETH)  # U deposits: a quarter of U's funding is sanctioned
    direct = send(w3, a[1], a[3], 1 * ETH)  # F deposits itself
    send(w3, a[4], a[3], 2 * ETH)  # C deposits: clean
    tokens = loot.functions.transfer(a[3], 5 * ETH).transact({"from": a[1]}).hex()  # F deposits 5 LOOT ($15)
    junk.functions.transfer(a[3], 5 * ETH).transact({"from": a[1]})  # and 5 JUNK, of unknown value
    watch = make_watch(node, tmp_path, store, flagged, addresses, prices)
    first = watch.cycle(now)
    assert (first.deposits, first.decisions, first.opened, first.alerts) == (
        5, {"allow": 1, "review": 1, "freeze": 3}, 3, 1)
    opened = cases_by_customer(store)
    assert [(d, Decimal(v)) for d, v, _ in opened] == sorted(
        [("0x" + indirect.removeprefix("0x") + ":0", Decimal("8000")), ("0x" + direct.removeprefix("0x") + ":0",
                                                                       Decimal("2000")),
         ("0x" + tokens.removeprefix("0x") + ":0", Decimal("15"))])
    [(_, value)] = alerts(store)
    assert value is None  # JUNK has no price: unknown, not $0
    assert watch.cycle(now).deposits == 0  # nothing new
    watch.close()

    again = make_watch(node, tmp_path, store, flagged, addresses, prices)  # a restart
    assert again.cycle(now).deposits == 0
    send(w3, a[1], a[3], 3 * ETH)
    later = again.cycle(now)
    assert (later.deposits, later.opened) == (1, 1)
    assert len(cases_by_customer(store)) == 4
    again.close()


def test_a_reorganisation_that_replaces_a_scored_deposit_scores_the_new_chain(node, tmp_path, sqlite_store):
    w3, a, flagged, addresses, prices = setup(node, tmp_path)
    send(w3, a[4], a[3], 2 * ETH)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    send(w3, a[4], a[3], 3 * ETH)  # scored, then abandoned
    watch = make_watch(node, tmp_path, sqlite_store, flagged, addresses, prices)
    assert watch.cycle(now).deposits == 2
    w3.provider.make_request("evm_revert", [snapshot])
    for _ in range(2):
        send(w3, a[1], a[3], 1 * ETH)  # the winning branch: two sanctioned deposits
    cycle = watch.cycle(now)
    assert (cycle.reorgs, cycle.withdrawn, cycle.deposits, cycle.opened) == (1, 1, 2, 2)
    assert watch.scored == 3
    watch.close()


def test_the_command_shows_progress_and_stops_cleanly_on_ctrl_c(node, tmp_path):
    w3, a, flagged, addresses, prices = setup(node, tmp_path)
    send(w3, a[1], a[3], 1 * ETH)
    db = f"sqlite:///{tmp_path / 'cases.db'}"
    command = [str(KYT), "watch", "--rpc", node, "--deposit-addresses", str(addresses), "--flagged", str(flagged),
               "--prices", str(prices), "--dir", str(tmp_path / "w"), "--from-block", "0", "--confirmations", "0",
               "--poll", "0.2", "--db", db, "--traces", "--batch", "50"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (tmp_path / "w" / "watch.json").exists() and '"scored": 1' in (tmp_path / "w" / "watch.json").read_text():
            break
        time.sleep(0.2)
    send(w3, a[1], a[3], 2 * ETH)  # arrives while watching
    while time.monotonic() < deadline:
        if '"scored": 2' in (tmp_path / "w" / "watch.json").read_text():
            break
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGINT)
    try:
        _, stderr = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("kyt watch did not stop on Ctrl-C: " + process.communicate()[1])
    assert process.returncode == 130, stderr
    assert "watching" in stderr and "2 deposits scored, 2 frozen" in stderr and "2 cases opened" in stderr
    assert "stopping after this cycle" in stderr and "stopped after 2 deposits scored" in stderr
    assert "Traceback" not in stderr
    engine = sa.create_engine(db)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT customer_id FROM cases")).scalars().all() == ["cust-3", "cust-3"]
    engine.dispose()


def test_a_reorganisation_counts_back_before_it_cuts_so_a_failure_after_it_loses_nothing(node, tmp_path,
                                                                                         sqlite_store):
    import pytest

    from kyt.errors import InputsRejected

    w3, a, flagged, addresses, prices = setup(node, tmp_path)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    send(w3, a[1], a[3], 1 * ETH)  # scored, then abandoned
    watch = make_watch(node, tmp_path, sqlite_store, flagged, addresses, prices)
    assert watch.cycle(now).opened == 1
    w3.provider.make_request("evm_revert", [snapshot])
    for _ in range(2):
        send(w3, a[1], a[3], 2 * ETH)
    good = flagged.read_text()
    flagged.write_text("not,a,flagged,list\n")  # the cycle repairs the reorg, then fails to score
    with pytest.raises(InputsRejected):
        watch.cycle(now)
    watch.close()
    assert '"scored": 0' in (tmp_path / "watch" / "watch.json").read_text()  # counted back before the cut
    flagged.write_text(good)
    again = make_watch(node, tmp_path, sqlite_store, flagged, addresses, prices)  # as after a kill
    cycle = again.cycle(now)
    assert (cycle.deposits, cycle.opened, cycle.noted_withdrawn) == (2, 2, 1)  # the abandoned deposit's case
    again.close()


def reorg_notes(store) -> list[tuple]:
    with store.engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT c.deposit_id, a.action, a.after FROM audit_events a JOIN cases c ON c.id = a.case_id "
            "WHERE a.action IN ('case.withdrawn', 'case.restored') ORDER BY a.seq")).all()


def test_a_case_whose_deposit_a_reorganisation_removes_is_noted_and_noted_again_when_it_returns(node, tmp_path,
                                                                                                 store):
    import json

    w3, a, flagged, addresses, prices = setup(node, tmp_path)
    send(w3, a[4], a[3], 2 * ETH)  # clean: no case
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    gone = send(w3, a[1], a[3], 1 * ETH)  # sanctioned: a case, then off the chain
    raw = w3.provider.make_request("eth_getRawTransactionByHash", [gone])["result"]
    watch = make_watch(node, tmp_path, store, flagged, addresses, prices)
    assert watch.cycle(now).opened == 1
    deposit = "0x" + gone.removeprefix("0x") + ":0"
    old_block = int(w3.eth.get_transaction(gone)["blockNumber"])
    w3.provider.make_request("evm_revert", [snapshot])
    send(w3, a[4], a[3], 3 * ETH)  # the winning branch is longer, without that deposit
    send(w3, a[4], a[3], 4 * ETH)
    cycle = watch.cycle(now)
    assert (cycle.reorgs, cycle.withdrawn, cycle.noted_withdrawn, cycle.noted_restored) == (1, 1, 1, 0)
    assert json.loads((tmp_path / "watch" / "watch.json").read_text())["gone"] == {deposit: old_block}
    assert watch.cycle(now).noted_withdrawn == 0  # noted once
    with store.engine.connect() as connection:
        [(status, note)] = connection.execute(sa.text(
            "SELECT c.status, n.body FROM notes n JOIN cases c ON c.id = n.case_id")).all()
    assert status == "open" and f"removed this deposit's transaction from block {old_block:,}" in note
    w3.provider.make_request("eth_sendRawTransaction", [raw])  # the same transaction, mined again
    back = watch.cycle(now)
    assert (back.deposits, back.opened, back.noted_restored) == (1, 0, 1)  # its case, not a second one
    new_block = int(w3.eth.get_transaction(gone)["blockNumber"])
    assert [(d, action, after["block"]) for d, action, after in
            [(d, x, json.loads(y) if isinstance(y, str) else y) for d, x, y in reorg_notes(store)]] == [
        (deposit, "case.withdrawn", old_block), (deposit, "case.restored", new_block)]
    watch.close()


def test_a_watch_killed_before_it_writes_its_notes_writes_the_same_ones_after(node, tmp_path, sqlite_store,
                                                                             monkeypatch):
    import cases.watching

    w3, a, flagged, addresses, prices = setup(node, tmp_path)
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    kept = send(w3, a[1], a[3], 1 * ETH)  # both sanctioned: two cases
    lost = send(w3, a[1], a[3], 2 * ETH)
    raw = w3.provider.make_request("eth_getRawTransactionByHash", [kept])["result"]
    watch = make_watch(node, tmp_path, sqlite_store, flagged, addresses, prices)
    assert watch.cycle(now).opened == 2
    w3.provider.make_request("evm_revert", [snapshot])
    w3.provider.make_request("eth_sendRawTransaction", [raw])  # the new chain holds one of them again
    send(w3, a[4], a[3], 1 * ETH)
    send(w3, a[4], a[3], 1 * ETH)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as a kill right after the count and the notes due were saved

    monkeypatch.setattr(cases.watching, "annotate_reorganised", killed)
    with pytest.raises(KeyboardInterrupt):
        watch.cycle(now)
    watch.close()
    monkeypatch.undo()
    again = make_watch(node, tmp_path, sqlite_store, flagged, addresses, prices)
    cycle = again.cycle(now)  # nothing new on the chain: only the notes due
    assert (cycle.deposits, cycle.noted_withdrawn, cycle.noted_restored) == (0, 1, 0)
    assert [(d, action) for d, action, _ in reorg_notes(sqlite_store)] == [
        ("0x" + lost.removeprefix("0x") + ":0", "case.withdrawn")]  # not the deposit mined again
    again.close()


def test_a_watch_with_a_model_scores_as_kyt_score_does(node, tmp_path, sqlite_store):
    from dataclasses import replace

    from kyt import learning, risk
    from kyt.batch import file_digest
    from cases.models import Case
    from sqlmodel import select
    from tests.kyt.learning_world import write_world

    (tmp_path / "world").mkdir()
    world = write_world(tmp_path / "world", per_class=30)
    model, _ = learning.train(learning.load_graph(world[0]), learning.read_labels(world[1]),
                              now=datetime.now(timezone.utc), validate=False)
    path = tmp_path / "model.joblib"
    risk.save(model, path)
    w3, a, flagged, addresses, prices = setup(node, tmp_path)
    send(w3, a[1], a[3], 1 * ETH)  # sanctioned: a case
    send(w3, a[4], a[3], 2 * ETH)  # clean
    watch = make_watch(node, tmp_path, sqlite_store, flagged, addresses, prices)
    watch.request = replace(watch.request, model=path, engine="memory")
    cycle = watch.cycle(now)
    assert cycle.deposits == 2 and cycle.opened == 1
    with sqlite_store.session() as session:
        [case] = session.exec(select(Case)).all()
    assert case.snapshot["model"] == model.version and case.snapshot["model_digest"] == file_digest(path)
    assert 0 <= case.sender_risk["probability"] <= 1 and case.sender_risk["model"] == model.version


def test_the_command_refuses_a_model_file_that_is_not_one_before_watching(tmp_path):
    bogus = tmp_path / "model.joblib"
    bogus.write_bytes(b"not a model")
    flagged = tmp_path / "flagged.csv"
    flagged.write_text("address,category,source,listed_at,delisted_at\n", encoding="utf-8")
    addresses = tmp_path / "addresses.csv"
    addresses.write_text("address,customer_id\n", encoding="utf-8")
    done = subprocess.run([str(KYT), "watch", "--rpc", "http://127.0.0.1:9", "--deposit-addresses", str(addresses),
                           "--flagged", str(flagged), "--dir", str(tmp_path / "w"), "--db",
                           f"sqlite:///{tmp_path / 'cases.db'}", "--model", str(bogus)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "not a model file of this tool" in done.stderr and "Traceback" not in done.stderr
    assert "watching" not in done.stderr
