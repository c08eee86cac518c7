"""Flagged-wallet and services lists from public sources, written in the formats of docs/formats.md.

- OFAC SDN digital-currency addresses (laid out like fixtures/sources/ofac): every address,
  on the chain its asset and form show (`ASSET_CHAINS`), with listing and delisting dates
  from three histories (0xB10C's lists 2022-09..2024-09, the entity history 2024-12..2026-08,
  and its add/remove events), plus designation dates of entities listed before those
  histories begin (`designations.csv`). The newer histories lowercase every address: a
  base58 address gets its case back from 0xB10C's lists when they hold it, else it is kept
  lowercase with `address_case = lost` (it then matches without letter case).
- Forta's Etherscan labels (laid out like fixtures/sources/forta): phishing as `scam`, exploits
  and heists as `stolen_funds`, without dates (listed since always).
- Exchange addresses (laid out like fixtures/sources/labels) as services.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable, Iterator

from graph import chains
from graph.formats import spreadsheet_safe
from kyt.errors import ListSourceError

FLAGGED_HEADER = ("address", "category", "source", "listed_at", "delisted_at", "chain", "address_case")
SERVICES_HEADER = ("address", "entity", "kind")
OXB10C_START = date(2022, 9, 3)
"""The first snapshot of 0xB10C's lists: an address first seen then was listed earlier."""
ENTITY_HISTORY_START = date(2024, 12, 30)
"""The first snapshot of the entity history: same meaning."""
MIXER_ENTITIES = {"TORNADO CASH", "BLENDER.IO", "SINBAD.IO"}
TERRORISM_PROGRAMS = {"SDGT", "FTO"}


ASSET_CHAINS = {"ETH": "ethereum", "XBT": "bitcoin", "TRX": "tron", "ARB": "arbitrum", "BSC": "bsc",
                "ETC": "ethereum-classic", "BCH": "bitcoin-cash", "BSV": "bitcoin-sv", "BTG": "bitcoin-gold",
                "DASH": "dash", "DOGE": "dogecoin", "LTC": "litecoin", "SOL": "solana", "XMR": "monero",
                "XRP": "ripple", "XVG": "verge", "ZEC": "zcash", "BNB": "bnb-beacon"}
"""The chain of each SDN digital-currency asset; tokens (USDT, USDC) are on the chain their address's form shows
(0x: ethereum; T: tron; 1, 3, bc1: bitcoin, USDT on the Omni layer)."""
CASE_FREE_PREFIXES = ("0x", "bc1", "ltc1", "bnb1")
"""Address forms whose letter case carries nothing (hex, bech32): lowercased, they are still exact."""


@dataclass(frozen=True)
class FlagRow:
    """One row of a flagged-wallets file."""

    address: str
    category: str
    source: str
    listed_at: date | None
    delisted_at: date | None
    chain: str = "ethereum"
    case_lost: bool = False


def ofac_chain(asset: str, address: str) -> str:
    """The chain an SDN address of `asset` is on: its form's when the form is unmistakable (a Tron address
    listed under XBT is on tron), else the asset's.

    >>> ofac_chain("USDT", "TBHTJqAy4DhHhmT3dNceJYNRz4SdLofLre"), ofac_chain("XBT", "bc1q..."), ofac_chain("XBT", "T" * 34)
    ('tron', 'bitcoin', 'tron')
    """
    asset, lowered = asset.strip().upper(), address.strip().lower()
    named = ASSET_CHAINS.get(asset)
    if len(lowered) == 42 and lowered.startswith("0x"):
        return named if named is not None and chains.is_evm(named) else "ethereum"
    if len(lowered) == 34 and lowered.startswith("t"):
        return "tron"
    if named is not None:
        return named
    if lowered.startswith(("1", "3", "bc1")):
        return "bitcoin"  # a token on Bitcoin (USDT on the Omni layer)
    raise ValueError(f"SDN asset {asset!r} (address {address}) is on no chain known here: add it to ASSET_CHAINS")


def _case_known(chain: str, lowered: str) -> bool:
    return lowered.startswith(CASE_FREE_PREFIXES) or (chain == "bitcoin-cash" and lowered[:1] in ("q", "p"))


def _rows(path: Path, required: Iterable[str]) -> Iterator[dict[str, str]]:
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as error:
        raise ListSourceError(str(path), f"cannot be read: {error.strerror or error}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ListSourceError(str(path), f"missing column(s): {', '.join(missing)}")
        yield from reader


def _day(text: str) -> date | None:
    text = (text or "").strip()
    if not text or text.lower() == "unknown":
        return None
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r}")


def _is_evm(address: str) -> bool:
    return address.startswith("0x") and len(address) == 42


def intervals(events: list[tuple[date | None, str]]) -> list[tuple[date | None, date | None]]:
    """Listing intervals from ('listed' | 'delisted', day) events; a None listing day means 'before records'.

    >>> intervals([(date(2022, 8, 8), "listed"), (date(2025, 3, 21), "delisted")])
    [(datetime.date(2022, 8, 8), datetime.date(2025, 3, 21))]
    """
    ordered = sorted(events, key=lambda e: (e[0] or date.min, e[1] == "listed"))
    out: list[tuple[date | None, date | None]] = []
    start: date | None = None
    open_ = False
    for day, kind in ordered:
        if kind == "listed" and not open_:
            start, open_ = day, True
        elif kind == "delisted" and open_:
            out.append((start, day))
            open_ = False
    if open_:
        out.append((start, None))
    return out


def resolve_before(events: list[tuple[date, str]], designated: date | None) -> list[tuple[date | None, str]]:
    """Replace 'listed before day H' (a history's first snapshot) by what is known.

    A dated listing on or before H already explains it; otherwise the entity's designation
    date stands in (when it is on or before H), else the listing date is unknown (None).

    >>> resolve_before([(date(2022, 9, 3), "before")], date(2022, 8, 8))
    [(datetime.date(2022, 8, 8), 'listed')]
    """
    out: list[tuple[date | None, str]] = [e for e in events if e[1] != "before"]
    for day, _ in (e for e in events if e[1] == "before"):
        if any(kind == "listed" and when is not None and when <= day for when, kind in out):
            continue
        out.append((designated if designated is not None and designated <= day else None, "listed"))
    return out


def load_designations(path: Path) -> dict[str, date]:
    """Entity -> SDN designation date, for entities listed before the histories begin."""
    return {row["entity"].strip().upper(): _day(row["designated_on"])
            for row in _rows(path, ("entity", "designated_on", "source"))}


def ofac_flags(ofac_dir: Path, designations: dict[str, date], *, evm_chains: tuple[str, ...] = ()) -> list[FlagRow]:
    """Flag rows for every address OFAC has listed, on its chain, with listing intervals; each EVM address also
    on every network of `evm_chains` (the same key controls it there)."""
    events: dict[tuple[str, str], list[tuple[date | None, str]]] = {}
    entity: dict[tuple[str, str], str] = {}
    programs: dict[tuple[str, str], set[str]] = {}
    cased: dict[str, str] = {}
    try:
        oxb10c = list(_rows(ofac_dir / "0xB10C_lists_history.csv",
                            ("asset", "address", "first_seen_in_lists_branch", "last_seen_in_lists_branch",
                             "in_final_2024-09-27_list")))
        cased = {row["address"].strip().lower(): row["address"].strip() for row in oxb10c}

        def wallet(asset: str, text: str) -> tuple[str, str]:
            chain = ofac_chain(asset, text)
            lowered = text.strip().lower()
            address = lowered if chains.is_evm(chain) or _case_known(chain, lowered) else cased.get(lowered, lowered)
            return chain, address

        for row in _rows(ofac_dir / "ofac_crypto_addresses_with_entities_history.csv",
                         ("address_lowercased", "asset_type", "entities", "programs", "first_seen_in_repo",
                          "first_seen_sdn_list_date", "last_seen_in_repo", "currently_listed")):
            key = wallet(row["asset_type"], row["address_lowercased"])
            entity[key] = row["entities"].strip()
            programs[key] = {p.strip() for p in row["programs"].split(",") if p.strip()}
            first = _day(row["first_seen_sdn_list_date"]) or _day(row["first_seen_in_repo"])
            events.setdefault(key, []).append((first, "before" if first == ENTITY_HISTORY_START else "listed"))
            if row["currently_listed"].strip() == "0":
                events[key].append((_day(row["last_seen_in_repo"]) + timedelta(days=1), "delisted"))
        for row in oxb10c:
            key = wallet(row["asset"], row["address"])
            first = _day(row["first_seen_in_lists_branch"])
            events.setdefault(key, []).append((first, "before" if first == OXB10C_START else "listed"))
            if row["in_final_2024-09-27_list"].strip() == "0" and key not in entity:
                events[key].append((_day(row["last_seen_in_lists_branch"]) + timedelta(days=1), "delisted"))
        removals: dict[tuple[str, str], date] = {}
        for row in _rows(ofac_dir / "ofac_listing_change_events.csv",
                         ("sdn_list_date", "event", "address_lowercased", "asset_type", "entities")):
            key = wallet(row["asset_type"], row["address_lowercased"])
            day = _day(row["sdn_list_date"])
            entity.setdefault(key, row["entities"].strip())
            if row["event"] == "added":
                events.setdefault(key, []).append((day, "listed"))
            elif row["event"] == "removed":
                removals[key] = day
    except ValueError as error:
        raise ListSourceError(str(ofac_dir), str(error)) from None
    for key, day in removals.items():  # the exact removal date replaces the snapshot estimate
        events[key] = [e for e in events[key] if e[1] != "delisted"] + [(day, "delisted")]
    out: list[FlagRow] = []
    for key in sorted(events):
        chain, address = key
        lost = not chains.is_evm(chain) and not _case_known(chain, address) and address == address.lower() \
            and address not in cased.values()
        name = entity.get(key, "")
        known = resolve_before(events[key], designations.get(name.upper()))
        program_text = ", ".join(sorted(programs.get(key, ())))
        source = "OFAC SDN" + (f": {name}" if name else "") + (f" ({program_text})" if program_text else "")
        on = [chain, *(c for c in evm_chains if c != chain)] if chains.is_evm(chain) else [chain]
        for network in on:
            for listed, delisted in intervals(known):
                out.append(FlagRow(address, "sanctions", source, listed, delisted, network, lost))
                if programs.get(key, set()) & TERRORISM_PROGRAMS:
                    out.append(FlagRow(address, "terrorist_financing", source, listed, delisted, network, lost))
            if name.upper() in MIXER_ENTITIES:
                out.append(FlagRow(address, "mixer", f"OFAC SDN entity {name}: a mixer", None, None, network, lost))
    return out


def chain_counts(rows: Iterable[FlagRow]) -> dict[str, tuple[int, int]]:
    """Per chain: distinct addresses, and how many of them had their letter case lost."""
    seen: dict[str, dict[str, bool]] = {}
    for row in rows:
        seen.setdefault(row.chain, {})[row.address] = row.case_lost
    return {chain: (len(found), sum(found.values())) for chain, found in sorted(seen.items())}


def _forta_category(label: str) -> str | None:
    label = label.lower()
    if "exploit" in label or "heist" in label:
        return "stolen_funds"
    if "phish" in label or "scam" in label:
        return "scam"
    return None


def forta_flags(forta_dir: Path) -> list[FlagRow]:
    """Flag rows from Forta's Etherscan-labelled Ethereum datasets (no dates)."""
    seen: set[tuple[str, str]] = set()
    out: list[FlagRow] = []

    def add(address: str, label: str, tag: str) -> None:
        address = address.strip().lower()
        category = _forta_category(label)
        if category and _is_evm(address) and (address, category) not in seen:
            seen.add((address, category))
            out.append(FlagRow(address, category, f"Etherscan via Forta: {tag.strip() or label}", None, None))

    for row in _rows(forta_dir / "chain1_etherscan_malicious_labels.csv", ("banned_address", "wallet_tag", "data_source")):
        add(row["banned_address"], row["data_source"], row["wallet_tag"])
    for row in _rows(forta_dir / "chain1_phishing_scams.csv", ("address", "etherscan_tag", "etherscan_labels")):
        add(row["address"], row["etherscan_labels"], row["etherscan_tag"])
    for row in _rows(forta_dir / "chain1_malicious_smart_contracts.csv",
                     ("contract_address", "contract_tag", "contract_creator", "contract_creator_tag",
                      "contract_creator_etherscan_label")):
        label = row["contract_creator_etherscan_label"]
        add(row["contract_address"], label, row["contract_tag"] or row["contract_creator_tag"])
        add(row["contract_creator"], label, row["contract_creator_tag"] or row["contract_tag"])
    return sorted(out, key=lambda r: (r.address, r.category))


def exchange_services(labels_dir: Path) -> list[tuple[str, str, str]]:
    """(address, entity, kind) of exchange addresses from the two public label sets."""
    found: dict[str, tuple[str, str, str]] = {}
    for row in _rows(labels_dir / "cex_addresses_from_brianleect.csv", ("address", "exchange_label", "name_tag")):
        address = row["address"].strip().lower()
        if _is_evm(address):
            found[address] = (address, (row["name_tag"] or row["exchange_label"]).strip(), "exchange")
    for row in _rows(labels_dir / "dawsbot_mainnet_exchange.csv", ("address", "nameTag")):
        address = row["address"].strip().lower()
        if _is_evm(address) and address not in found:
            found[address] = (address, row["nameTag"].strip() or "exchange (unnamed)", "exchange")
    return [found[a] for a in sorted(found)]


def write_flagged(rows: Iterable[FlagRow], path: Path) -> int:
    """Write flag rows as a flagged-wallets CSV of docs/formats.md (atomically); returns the row count."""
    lines = [(r.address, r.category, r.source, r.listed_at.isoformat() if r.listed_at else "",
              r.delisted_at.isoformat() if r.delisted_at else "", r.chain, "lost" if r.case_lost else "")
             for r in sorted(rows, key=lambda r: r.chain != "ethereum")]
    return _write(path, FLAGGED_HEADER, lines)


def write_services(rows: Iterable[tuple[str, str, str]], path: Path) -> int:
    """Write services as a services CSV of docs/formats.md (atomically); returns the row count."""
    return _write(path, SERVICES_HEADER, list(rows))


def _write(path: Path, header: tuple[str, ...], rows: list[tuple]) -> int:
    temporary = path.with_name(path.name + ".partial")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([spreadsheet_safe(value) for value in row] for row in rows)
    temporary.replace(path)
    return len(rows)


def flag_summary(path: Path, as_of: int) -> list[dict]:
    """Rows of a flagged-wallets file by list and category: rows, distinct addresses, rows active at `as_of`."""
    from graph.readers import read_flagged

    flagged = read_flagged(path)
    groups: dict[tuple[str, str], dict] = {}
    active = flagged.active(as_of)
    source, category = flagged.source.to_pylist(), flagged.category.to_pylist()
    address = flagged.address.to_pylist()
    for i in range(len(flagged)):
        key = (source[i].split(":")[0].split(" entity")[0].strip(), category[i])
        group = groups.setdefault(key, {"list": key[0], "category": key[1], "rows": 0, "addresses": set(), "active": 0})
        group["rows"] += 1
        group["addresses"].add(address[i])
        group["active"] += int(active[i])
    return [{**g, "addresses": len(g["addresses"])} for _, g in sorted(groups.items())]
