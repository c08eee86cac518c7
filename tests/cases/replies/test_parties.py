"""The register of listed parties: the phrases each name blocks, built from the lists, and the shipped file current."""

from __future__ import annotations

from pathlib import Path

import pytest

from cases.errors import InvalidRequest
from cases.replies import parties as listed

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def test_a_name_blocks_whole_without_common_words_and_by_its_distinctive_words():
    assert listed.party_name("OFAC SDN: GARANTEX EUROPE OU (CYBER2, RUSSIA-EO14024)") == "GARANTEX EUROPE OU"
    assert listed.party_name("Etherscan via Forta: Multichain Exploiter 4 (Whitehat)") == "Multichain Exploiter"
    assert listed.phrases("OFAC SDN: GARANTEX EUROPE OU (CYBER2)") == ["garantex", "garantex europe ou"]
    # a name made only of common words names nobody in particular ("exploiter" blocks by its own term)
    assert listed.phrases("Etherscan via Forta: Cream Finance Exploiter 2") == []
    assert listed.phrases("Exchange A") == listed.phrases("Happy New Year") == []
    assert listed.phrases("C2CX: Hot Wallet") == ["c2cx", "c2cx hot wallet"]
    # a person's surname alone from six letters; a short one only with the first name
    assert listed.phrases("OFAC SDN: Roman SEMENOV (DPRK3)") == ["roman semenov", "semenov"]
    assert listed.phrases("OFAC SDN: Yi WANG (CYBER2)") == ["yi wang"]
    assert listed.phrases("Etherscan via Forta: Fake_Phishing3901") == []


def test_the_register_finds_names_in_folded_text():
    register = listed.Parties.of(["OFAC SDN: LAZARUS GROUP (DPRK3)", "Binance 9", "Etherscan via Forta: Spam Token",
                                  "Etherscan via Forta: Nowswap Exploiter"])
    found = [m.group(0) for m in register.pattern.finditer("lazarus group sent it via binance, a spam token, nowswap")]
    assert found == ["lazarus group", "binance", "nowswap"]  # "spam token" names nobody
    assert listed.Parties.of([]).pattern is None


def test_the_shipped_register_is_built_from_the_project_lists(tmp_path):
    rebuilt = tmp_path / "parties.txt"
    names = listed.from_lists(flagged=FIXTURES / "lists" / "flagged.csv", services=FIXTURES / "lists" / "services.csv",
                              ofac=FIXTURES / "sources" / "ofac" / "ofac_crypto_addresses_with_entities_history.csv")
    listed.write(names, rebuilt)
    assert rebuilt.read_text(encoding="utf-8") == listed.SHIPPED.read_text(encoding="utf-8")
    # OFAC entities of every chain are in, not only those with an Ethereum address
    assert {"SECONDEYE SOLUTION", "SOUTHFRONT", "LAZARUS GROUP", "TORNADO CASH"} <= set(names)


def test_a_byte_order_mark_a_hash_and_a_name_too_long_are_handled(tmp_path):
    marked = tmp_path / "flagged.csv"
    marked.write_text("\ufeffsource\n#Acme Mixing Co\n", encoding="utf-8")
    assert listed.from_lists(flagged=marked) == ["Acme Mixing Co"]
    with pytest.raises(InvalidRequest, match="at most 200 characters"):
        listed.write(["x" * 300], tmp_path / "parties.txt")
    assert not (tmp_path / "parties.txt").exists()


def test_a_list_without_its_column_or_unreadable_is_refused(tmp_path):
    bad = tmp_path / "flagged.csv"
    bad.write_text("address,category\n0x01,mixer\n", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="no 'source' column"):
        listed.from_lists(flagged=bad)
    with pytest.raises(InvalidRequest, match="cannot be read"):
        listed.from_lists(services=tmp_path / "missing.csv")
    long = tmp_path / "parties.txt"
    long.write_text("x" * 300 + "\n", encoding="utf-8")
    with pytest.raises(InvalidRequest, match="at most 200 characters"):
        listed.read(long)


def test_a_platform_register_replaces_the_shipped_one(tmp_path, monkeypatch):
    own = tmp_path / "ours.txt"
    listed.write(["Acme Mixing Co"], own)
    monkeypatch.setenv("KYT_PARTIES", str(own))
    assert listed.configured().phrases == ("acme mixing co", "mixing", "acme")
