"""Lists from the real public sources kept in fixtures/sources (OFAC, Forta, exchange labels)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from graph import readers
from kyt import lists
from kyt.errors import ListSourceError

SOURCES = Path(__file__).resolve().parents[2] / "fixtures" / "sources"
TORNADO = "0x722122df12d4e14e13ac3b6895a86e84145b6967"
LAZARUS_RONIN = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"


@pytest.fixture(scope="module")
def ofac():
    rows = lists.ofac_flags(SOURCES / "ofac", lists.load_designations(SOURCES / "ofac" / "designations.csv"))
    return {(r.address, r.category): r for r in rows}, rows


def test_tornado_cash_is_sanctioned_only_between_designation_and_delisting(ofac):
    by_key, _ = ofac
    tornado = by_key[(TORNADO, "sanctions")]
    assert (tornado.listed_at, tornado.delisted_at) == (date(2022, 8, 8), date(2025, 3, 21))
    assert by_key[(TORNADO, "mixer")].listed_at is None and by_key[(TORNADO, "mixer")].delisted_at is None
    tornado_rows = [r for r in ofac[1] if r.category == "sanctions" and "TORNADO CASH" in r.source]
    assert len(tornado_rows) == 90 and {r.delisted_at for r in tornado_rows} == {date(2025, 3, 21)}


def test_lazarus_listing_date_and_entity_in_the_source(ofac):
    row = ofac[0][(LAZARUS_RONIN, "sanctions")]
    assert row.listed_at == date(2022, 4, 14) and row.delisted_at is None
    assert row.source == "OFAC SDN: LAZARUS GROUP (DPRK3)"


def test_additions_take_their_sdn_list_date_and_sdgt_adds_terrorist_financing(ofac):
    by_key, rows = ofac
    assert by_key[("0x57ec89a0c056163a0314e413320f9b3abe761259", "sanctions")].listed_at == date(2025, 8, 14)
    gaza = "0x21b8d56bda776bbe68655a16895afd96f5534fed"
    assert by_key[(gaza, "terrorist_financing")].listed_at == by_key[(gaza, "sanctions")].listed_at
    assert all(r.address.startswith("0x") and len(r.address) == 42 for r in rows if r.chain == "ethereum")


def test_an_address_dropped_from_the_lists_is_delisted_the_day_after_it_was_last_seen(ofac):
    row = ofac[0][("0x905b63fff465b9ffbf41dea908ceb12478ec7601", "sanctions")]
    assert row.delisted_at == date(2022, 9, 17)


def test_intervals_handle_relisting():
    events = [(date(2020, 1, 1), "listed"), (date(2021, 1, 1), "delisted"), (date(2022, 1, 1), "listed")]
    assert lists.intervals(events) == [(date(2020, 1, 1), date(2021, 1, 1)), (date(2022, 1, 1), None)]


def test_forta_labels_map_to_scam_and_stolen_funds():
    rows = {(r.address, r.category): r for r in lists.forta_flags(SOURCES / "forta")}
    assert ("0x9bc22f7e0234029eaf2c570588d829f07123fdd6", "stolen_funds") in rows  # KyberSwap Attacker 5
    phish = rows[("0x000000000532b45f47779fce440748893b257865", "scam")]
    assert phish.source == "Etherscan via Forta: Fake_Phishing3901" and phish.listed_at is None


def test_exchanges_become_services_with_their_names():
    services = {a: (e, k) for a, e, k in lists.exchange_services(SOURCES / "labels")}
    assert services["0x28c6c06298d514db089934071355e5743bf21d60"] == ("Binance 14", "exchange")


def test_the_committed_fixture_lists_are_what_the_loaders_make(tmp_path):
    flagged = tmp_path / "flagged.csv"
    rows = lists.ofac_flags(SOURCES / "ofac", lists.load_designations(SOURCES / "ofac" / "designations.csv"))
    lists.write_flagged(rows + lists.forta_flags(SOURCES / "forta"), flagged)
    assert flagged.read_text() == (SOURCES.parent / "lists" / "flagged.csv").read_text()
    services = tmp_path / "services.csv"
    lists.write_services(lists.exchange_services(SOURCES / "labels"), services)
    assert services.read_text() == (SOURCES.parent / "lists" / "services.csv").read_text()
    assert list(csv.reader(flagged.open()))[0] == list(lists.FLAGGED_HEADER)


def test_a_source_missing_columns_is_reported(tmp_path):
    (tmp_path / "cex_addresses_from_brianleect.csv").write_text("addr,name\n")
    with pytest.raises(ListSourceError, match="missing column"):
        lists.exchange_services(tmp_path)


def test_every_sdn_address_is_kept_on_its_chain_the_lost_case_ones_marked(ofac, tmp_path):
    _, rows = ofac
    written = set()
    for name, column in (("ofac_crypto_addresses_with_entities_history.csv", "address_lowercased"),
                         ("0xB10C_lists_history.csv", "address"), ("ofac_listing_change_events.csv", "address_lowercased")):
        with (SOURCES / "ofac" / name).open(newline="") as handle:
            written |= {row[column].strip().lower() for row in csv.DictReader(handle)}
    assert {r.address.lower() for r in rows} == written  # none dropped
    counts = lists.chain_counts(rows)
    assert counts["ethereum"] == (196, 0)
    assert counts["tron"][1] == 259 and counts["bitcoin"][1] == 29  # TRX and USDT on Tron; XBT: case unknown
    assert sum(lost for _, lost in counts.values()) == 307
    by_address = {(r.chain, r.address): r for r in rows}
    assert by_address[("tron", "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq")].case_lost is False  # listed under XBT
    assert by_address[("bitcoin", "bc1q4yzd2rjmshm8ucrwy6dzj5rna20j0zlf8hf8vz")].case_lost is False  # bech32
    lists.write_flagged(rows, tmp_path / "flagged.csv")
    flagged = readers.read_flagged(tmp_path / "flagged.csv")  # every address passes its chain's checks
    assert int(flagged.case_lost.sum()) == sum(r.case_lost for r in rows)


def test_evm_chains_flag_each_ofac_evm_address_on_those_networks_too():
    rows = lists.ofac_flags(SOURCES / "ofac", lists.load_designations(SOURCES / "ofac" / "designations.csv"),
                            evm_chains=("bsc", "polygon"))
    on = {chain: {r.address for r in rows if r.chain == chain} for chain in ("ethereum", "bsc", "polygon", "arbitrum")}
    assert len(on["ethereum"]) == 196 and on["ethereum"] <= on["bsc"] and on["ethereum"] <= on["polygon"]
    assert on["arbitrum"] <= on["bsc"] and on["arbitrum"] <= on["polygon"]  # listed under ARB: on the others too
    assert lists.chain_counts(rows)["tron"] == lists.chain_counts(lists.ofac_flags(SOURCES / "ofac", {}))["tron"]
