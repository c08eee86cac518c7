"""The resident screener decides like `kyt score`, also for a sender matched to a list entry whose case was lost."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from graph import chains, readers
from graph.times import parse_time
from kyt import batch, screening
from tests.kyt.test_tron_copy import FIXTURES, on_tron

NEW = chains.tron_from_evm("0x" + "5e" * 20)
"""A Tron wallet in no transfer, listed with its letter case lost."""


def test_a_new_sender_on_a_lost_case_entry_is_frozen_as_the_batch_would(tmp_path):
    transfers = on_tron(FIXTURES / "scenario" / "transfers.csv", tmp_path / "transfers.csv")
    flagged = tmp_path / "flagged.csv"
    flagged.write_text(f"address,category,source,chain,address_case\n{NEW.lower()},sanctions,OFAC,tron,lost\n")
    deposits = tmp_path / "deposits.csv"
    deposits.write_text("deposit_id,tx_hash,customer_id,timestamp,block_number,position,from_address,to_address,asset,"
                        f"amount,usd_value,chain\nN-1,0xabc,zed,2026-11-10,23900000,0,{NEW},"
                        f"{chains.tron_from_evm('0x' + '6f' * 20)},USDT,500,500,tron\n")
    request = batch.ScoreRequest(deposits, transfers, flagged, parse_time("2026-11-20"))
    screener = screening.Screener(screening.load(request, now=datetime.now(timezone.utc)))
    found = screener.screen(readers.read_deposits(deposits)).records()
    assert [(r.decision, r.rule_ids[0]) for r in found] == [("freeze", "sanctions-direct")]
    assert [(r.decision, r.rule_ids[0]) for r in batch.run(request).records()] == [("freeze", "sanctions-direct")]
    again = screener.screen(readers.read_deposits(deposits)).records()  # the flags were laid over once
    assert again[0].decision == "freeze" and screener.loaded.flagged is screener.loaded.flagged
