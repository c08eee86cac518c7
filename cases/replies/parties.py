"""The names of every listed party (sanctioned persons and entities, exploiters, scams, services) as replies block them.

A reply about a hold that names any listed party is blocked on every case, so that the verdict a
support agent sees never depends on which parties one case's evidence holds.

>>> names = Parties.of(["OFAC SDN: Roman SEMENOV (DPRK3)", "OFAC SDN: GARANTEX EUROPE OU (CYBER4)"])
>>> [m.group(0) for m in names.pattern.finditer("semenov and garantex europe ou")]
['semenov', 'garantex europe ou']
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from cases.errors import InvalidRequest
from cases.replies.folding import fold
from cases.replies.terms import words

SHIPPED = Path(__file__).with_name("parties.txt")
"""The register built from the project's lists (`kyt reply parties`); a platform builds its own from its lists."""
NOISE = frozenset(
    "ofac sdn entity entities list listed label labels forta etherscan the and for with from cash group exchange "
    "wallet wallets router proxy fund funds network labs finance protocol token tokens pool bank market service "
    "services team deployer address addresses contract account user bridge hot cold main known other fake "
    "unknown cyber dprk spam via drugs illicit now new inc ltd llc company limited trading global international "
    "capital digital crypto coin swap dao exploiter exploiters exploit hacker hackers hack heist attacker drainer "
    "scam scammer phishing phish malicious actor abuser whitehat deposit deposits withdrawal withdrawals "
    "pro plus one two old big best first gold best smart money pay payment payments online first high".split())
"""Words of names too common to block on their own; the whole name still blocks."""
ORDINARY = frozenset(
    "alpha beta gamma delta omega open free easy safe fast true real good nice rich moon star sun blue red green "
    "black white gate bridge chain block link space time life home king lion tiger eagle wolf fox bear bull cream "
    "inverse indexed index nomad harvest rune value vesper chronic rolex ocean river lake stone rock gold silver "
    "paper cloud zero prime royal union unit world earth north south east west wave flow tide light dark "
    "approval association bacon bent benz belle browser buddies build bureau charity com commerce controller "
    "cooperation corporate credit design development direct earning eigen europe extension farm flash float force "
    "forged front funder gram happy imaginary impossible industry initiative iran gaza hebei la lego liquid "
    "liquidity loan louis mana meta metaverse meter mining miscellaneous mutual name netflix nexus ones originals "
    "panda passport presale proceeds pull punk rainbow recovery research sale siren solution sparrow task "
    "technology transfer treasury trade vault vector voltage warm warp wedding winter wrapped year multisig "
    "bitcoin ether ethereum tether usdt usdc wbtc bnb eurt gusd xaut "
    "depositor unlock fortress fuse nirvana pancake popsicle bunny uranium visor vulcan suisse profanity deus valerian "
    "crema artis uphold flata luno rari islami miso kuna turba atun revest patek "
    "wang zhang chen shen tian zheng huang hoang jamal castro jimenez alarcon raza philippe"
    .split())
"""Ordinary words, assets and common names that a listed name may consist of ("Cream Finance", "Nomad Bridge"):
blocked only within the whole name."""
SURNAME_LENGTH = 6
"""A person's surname blocks on its own from this length (shorter ones only with the first name)."""
PREFIXES = ("ofac sdn entity", "ofac sdn", "etherscan via forta")
LONGEST_PARTY = 200


def party_name(raw: str) -> str:
    """The named party of a list entry, without the list's prefix, programs and numbers.

    >>> party_name("OFAC SDN entity TORNADO CASH: a mixer"), party_name("Etherscan via Forta: Fake_Phishing3901")
    ('TORNADO CASH', 'Fake Phishing')
    """
    text = re.sub(r"\([^)]*\)?", " ", raw.replace("_", " "))
    entity = re.match(r"\s*ofac sdn entity (.*?):", text, flags=re.I)
    if entity:
        text = entity.group(1)
    elif ":" in text and text.split(":", 1)[0].strip().lower() in PREFIXES:
        text = text.split(":", 1)[1]
    text = re.sub(r"(?<=[A-Za-z])\d+\b|\b\d+\b", " ", text)
    return " ".join(text.split()).lstrip("#").strip()


def phrases(name: str) -> list[str]:
    """The folded phrases that block for one name: the whole name, the name without common words,
    a person's surname (written in capitals) and any distinctive word of it."""
    raw_words = [w for w in re.split(r"[^\w]+", party_name(name)) if w.isalnum() and not w.isdigit()]
    if not raw_words:
        return []
    folded = [fold(w).text for w in raw_words]
    core = [w for w in folded if w not in NOISE]
    person = any(w.isupper() and len(w) >= 2 for w in raw_words) and not all(w.isupper() for w in raw_words)
    if person:
        singles = [fold(w).text for w in raw_words if w.isupper() and len(w) >= SURNAME_LENGTH]
    else:
        singles = core
    out = {" ".join(folded), " ".join(core)} | set(singles)
    kept = {p for p in out if p and any(_distinctive(w) for w in p.split()) and (" " in p or len(p) >= 4)}
    if person and len(folded) >= 2:
        kept.add(" ".join(folded))  # a person's whole name is specific, whatever its parts
    return sorted(kept)


def _distinctive(word: str) -> bool:
    """A word that names something on its own: four letters or more, neither common nor ordinary."""
    return len(word) >= 4 and word not in NOISE and word not in ORDINARY


@dataclass(frozen=True)
class Parties:
    """Listed parties' names and the pattern that finds any of them in folded text."""

    names: tuple[str, ...]
    phrases: tuple[str, ...]
    pattern: re.Pattern | None

    @classmethod
    def of(cls, names: Iterable[str]) -> "Parties":
        """The register of these names (list entries as written in the lists' `source` or `entity` column)."""
        kept = tuple(sorted({" ".join(n.split()) for n in names if n and n.strip()}))
        found = sorted({p for n in kept for p in phrases(n)}, key=lambda p: (-len(p), p))
        pattern = words("|".join(re.escape(p) for p in found)) if found else None
        return cls(kept, tuple(found), pattern)


def _column(path: Path, column: str) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)  # utf-8-sig: a byte-order mark is not part of the first column
            if column not in (reader.fieldnames or []):
                raise InvalidRequest(f"{path}: no {column!r} column (columns: {', '.join(reader.fieldnames or [])})")
            return [row[column] for row in reader if row.get(column)]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InvalidRequest(f"{path}: cannot be read as a CSV file: {error}") from None


def from_lists(*, flagged: Path | None = None, services: Path | None = None, ofac: Path | None = None) -> list[str]:
    """Party names from the project's lists: flagged.csv's `source`, services.csv's `entity`, and the
    `entities` of an OFAC address history (every chain's, EVM or not)."""
    names = []
    if flagged is not None:
        names += _column(flagged, "source")
    if services is not None:
        names += _column(services, "entity")
    if ofac is not None:
        names += [part for entry in _column(ofac, "entities") for part in entry.split(";")]
    return sorted({party_name(n) for n in names} - {""})


def write(names: Iterable[str], path: Path) -> int:
    """Write a register (one name a line, sorted), whole or not at all; returns how many names."""
    kept = sorted({" ".join(n.split()).lstrip("#").strip() for n in names if n.strip()} - {""})
    too_long = [n for n in kept if len(n) > LONGEST_PARTY]
    if too_long:
        raise InvalidRequest(f"a party's name has at most {LONGEST_PARTY} characters: {too_long[0][:80]!r}…")
    text = "# Listed parties whose names no reply about a hold may contain (kyt reply parties).\n" + \
        "".join(f"{n}\n" for n in kept)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise InvalidRequest(f"{path}: cannot write the parties register: {error.strerror or error}") from None
    return len(kept)


def read(path: Path) -> list[str]:
    """The names of a register file; lines starting with # are comments."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidRequest(f"{path}: cannot read the parties register: {error}") from None
    names = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    too_long = [n for n in names if len(n) > LONGEST_PARTY]
    if too_long:
        raise InvalidRequest(f"{path}: a party's name has at most {LONGEST_PARTY} characters: {too_long[0][:80]!r}…")
    return names


@lru_cache(maxsize=4)
def load(path: Path = SHIPPED) -> Parties:
    """The register of a file, read and compiled once."""
    return Parties.of(read(path))


def configured() -> Parties:
    """The register the platform configured (the file KYT_PARTIES names), else the shipped one."""
    path = os.environ.get("KYT_PARTIES")
    return load(Path(path)) if path else load()
