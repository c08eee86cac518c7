"""Chains and addresses: each chain's checks on known-good and known-bad addresses, the wallet keys, two EVM
networks kept apart, and list entries whose letter case was lost."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph import chains, readers
from graph.errors import InputError

GOOD = [
    ("ethereum", "0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B", "0xab5801a7d398351b8be11c439e05c5b3259aec9b"),
    ("polygon", "0xab5801a7d398351b8be11c439e05c5b3259aec9b", "0xab5801a7d398351b8be11c439e05c5b3259aec9b"),
    ("tron", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"),
    ("tron", "41" + "00" * 20, "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"),
    ("tron", "0x41" + "00" * 20, "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"),
    ("bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),  # P2PKH
    ("bitcoin", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),  # P2SH
    # BIP 173 and BIP 350 test vectors: segwit v0 (bech32), v1 taproot, v2 and v16 (bech32m)
    ("bitcoin", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
    ("bitcoin", "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
     "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3"),
    ("bitcoin", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
    ("bitcoin", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs"),
    ("bitcoin", "BC1SW50QGDZ25J", "bc1sw50qgdz25j"),
    ("litecoin", "LPhmc9PuTAvBGyDXkRMSaEAMXKUp8ymKh7", "LPhmc9PuTAvBGyDXkRMSaEAMXKUp8ymKh7"),  # form only
]
BAD = [
    ("ethereum", "0xAB5801a7D398351b8bE11C439e05C5B3259aeC9B", "EIP-55"),
    ("ethereum", "0x1234", "40 hex digits"),
    ("tron", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLrf", "base58check checksum"),  # last letter changed
    ("tron", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "not a Tron address"),  # a Bitcoin address
    ("tron", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofL0e", "not a Tron address"),  # 0 is not base58
    ("bitcoin", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "base58check checksum"),
    ("bitcoin", "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb", "not a Bitcoin address"),
    ("bitcoin", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "segwit"),  # checksum
    ("bitcoin", "bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "segwit"),  # v2 with a bech32 (not bech32m) checksum
    ("bitcoin", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "segwit"),  # v0 with a bech32m checksum
    ("bitcoin", "bc1QW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "mixes upper and lower"),
    ("bitcoin", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "not a Bitcoin address"),  # testnet
    ("monero", "short", "not an address on monero"),
]


@pytest.mark.parametrize("chain, written, canonical", GOOD)
def test_good_addresses_take_their_canonical_form(chain, written, canonical):
    assert chains.normalise(chain, written) == canonical


@pytest.mark.parametrize("chain, written, reason", BAD)
def test_bad_addresses_are_refused_with_the_reason(chain, written, reason):
    with pytest.raises(chains.AddressError, match=reason):
        chains.normalise(chain, written)


def test_chain_names_and_ids():
    assert chains.check_chain("") == "ethereum"
    assert chains.check_chain("evm-31337") == "evm-31337" and chains.is_evm("evm-31337")
    assert chains.chain_for_id(56) == "bsc" and chains.chain_for_id(5) == "evm-5"
    with pytest.raises(chains.ChainNameError, match="not known"):
        chains.check_chain("namecoin")
    with pytest.raises(chains.ChainNameError, match="not a chain name"):
        chains.check_chain("Tron")


@given(st.binary(min_size=20, max_size=20))
def test_a_tron_twin_is_a_valid_tron_address_that_keys_back_to_its_bytes(raw):
    evm = "0x" + raw.hex()
    tron = chains.tron_from_evm(evm)
    assert chains.normalise("tron", tron) == tron
    assert chains.normalise("tron", "41" + raw.hex()) == tron
    assert chains.split_key(chains.wallet_key("tron", tron)) == ("tron", tron)
    assert chains.split_key(chains.wallet_key("ethereum", evm)) == ("ethereum", evm)


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(header)
        out.writerows(rows)
    return path


EVM = "0xab5801a7d398351b8be11c439e05c5b3259aec9b"


def test_one_hex_address_on_two_evm_networks_is_two_wallets(tmp_path):
    header = ["tx_hash", "block_number", "position", "timestamp", "from_address", "to_address", "asset", "amount",
              "usd_value", "chain"]
    other = "0x" + "11" * 20
    path = write(tmp_path / "t.csv", header, [["0x1", "1", "0", "2026-01-01", other, EVM, "ETH", "1", "10", ""],
                                              ["0x2", "1", "1", "2026-01-01", other, EVM.upper().replace("0X", "0x"), "BNB",
                                               "1", "10", "bsc"],
                                              ["0x3", "1", "2", "2026-01-01", other, EVM, "ETH", "1", "10", "ethereum"]])
    transfers = readers.read_transfers(path)
    assert transfers.to_address.to_pylist() == [EVM, f"bsc:{EVM}", EVM]
    assert len(transfers.addresses) == 4  # two senders (ethereum, bsc) and two receivers


def test_a_bad_address_or_chain_in_a_file_is_reported_with_its_line(tmp_path):
    header = ["tx_hash", "block_number", "position", "timestamp", "from_address", "to_address", "asset", "amount",
              "usd_value", "chain"]
    good = "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"
    path = write(tmp_path / "t.csv", header, [["0x1", "1", "0", "2026-01-01", good, good[:-1] + "f", "TRX", "1", "1", "tron"],
                                              ["0x2", "1", "1", "2026-01-01", good, EVM, "X", "1", "1", "Tron"]])
    with pytest.raises(InputError) as raised:
        readers.read_transfers(path)
    text = str(raised.value)
    assert f"{path}:2: to_address: " in text and "bad base58check checksum" in text
    assert f"{path}:3: " in text and "not a chain name" in text


def test_a_list_entry_whose_case_was_lost_matches_the_wallet_that_lowercases_to_it(tmp_path):
    tron = "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"
    path = write(tmp_path / "f.csv", ["address", "category", "source", "chain", "address_case"],
                 [[tron.lower(), "sanctions", "OFAC", "tron", "lost"], [EVM, "sanctions", "OFAC", "", ""]])
    flagged = readers.read_flagged(path)
    assert flagged.address.to_pylist() == [f"tron:{tron.lower()}", EVM]
    matched = flagged.matched(pa.array([f"tron:{tron}", f"tron:T{tron[1:].lower()}x", f"bsc:{EVM}"]))
    assert matched.address.to_pylist()[2:] == [f"tron:{tron}"]
    assert matched.source.to_pylist()[2] == "OFAC" + flagged.CASE_LOST_NOTE
    assert flagged.matched(pa.array([f"bitcoin:{tron}"])) is flagged  # another chain: no match


def test_a_lost_case_entry_is_checked_for_form(tmp_path):
    path = write(tmp_path / "f.csv", ["address", "category", "source", "chain", "address_case"],
                 [["t0o", "sanctions", "OFAC", "tron", "lost"], ["tbhtjqay4dhhhmt3dncejynrz4sdlofire", "s", "x",
                                                                  "tron", "perhaps"]])
    with pytest.raises(InputError) as raised:
        readers.read_flagged(path)
    assert f"{path}:2: address: " in str(raised.value) and "case lost" in str(raised.value)
    assert f"{path}:3: address_case 'perhaps'" in str(raised.value)
