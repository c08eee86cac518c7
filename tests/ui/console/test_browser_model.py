"""The address-risk model's suggestion on a review alert, in a real browser: the probability and the features that
raised it, as a suggestion for review. The screenshot goes to test-artifacts/screenshots/ (docs/console.md)."""

from __future__ import annotations

import csv
from datetime import datetime, timezone

import sqlalchemy as sa

from cases.db import open_store
from cases.opening import open_run
from graph.times import parse_time
from tests.factories import addr
from tests.ui.console.conftest import ROOT
from tests.ui.console.test_browser import browser, server, shot, sign_in  # noqa: F401

RISKY = {addr(1000 + i) for i in range(3)}
"""Three of the learning world's drain wallets: their payments to a collector become deposits of customer mia."""


def _model_run(folder):
    """Train a model on the learning world and score three drain wallets' payments to a collector as deposits."""
    from kyt import batch, learning, risk
    from tests.kyt.learning_world import write_world

    transfers, labels = write_world(folder)
    model, _ = learning.train(learning.load_graph(transfers), learning.read_labels(labels),
                              now=datetime(2026, 11, 25, tzinfo=timezone.utc), validate=False)
    risk.save(model, folder / "model.joblib")
    with transfers.open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["from_address"] in RISKY][:3]
    deposits = folder / "deposits.csv"
    with deposits.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["deposit_id", "tx_hash", "customer_id", "timestamp", "block_number", "position", "from_address",
                      "to_address", "asset", "amount", "usd_value"])
        out.writerows([f"M-{n}", r["tx_hash"], "mia", r["timestamp"], r["block_number"], r["position"],
                       r["from_address"], r["to_address"], "ETH", r["amount"], r["usd_value"]]
                      for n, r in enumerate(rows, 1))
    request = batch.ScoreRequest(deposits, transfers, ROOT / "fixtures" / "lists" / "flagged.csv",
                                 parse_time("2030-01-01"), model=folder / "model.joblib")
    return batch.run(request), model


def test_the_analyst_reads_the_models_suggestion_with_its_reasons_on_a_review_alert(server, browser, tmp_path):
    base, url = server
    run, model = _model_run(tmp_path)
    store = open_store(url)
    open_run(store, run, datetime.now(timezone.utc))
    with store.engine.connect() as connection:
        alerts = connection.execute(sa.text("SELECT id, rule_ids FROM alerts WHERE customer_id = 'mia' ORDER BY id"))
        found = [(i, r) for i, r in alerts]
    assert found and all("address-risk-model" in r for _, r in found)  # a suggestion for review, never a freeze
    with store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM cases WHERE customer_id = 'mia'")).scalar() == 0
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, base, "ann", f"/alerts?alert={found[0][0]}")
    suggestion = page.locator("p", has_text="Sender's address risk").first
    suggestion.wait_for(timeout=20_000)
    text = suggestion.inner_text()
    assert f"by model {model.version}" in text and "it never freezes" in text and "raised most by:" in text
    assert "(+" in text  # at least one feature, with how much it raised the score
    shot(page, "analyst-alert-model-suggestion")
    page.close()
