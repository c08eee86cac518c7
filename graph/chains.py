"""Chains and their addresses: which chains there are, how an address is checked on each, and the wallet key.

A wallet is an address on a chain. The engine keys it by one text, `chain:address`; on
the default chain, ethereum, the key is the bare address, so files without a `chain`
column read as before. Addresses are checked with the chain's own rules and written in
one canonical form:

- EVM networks (ethereum, bsc, polygon, ... and `evm-<chain id>`): `0x` + 40 hex digits,
  lowercase; a mixed-case address must carry a valid EIP-55 checksum.
- tron: base58check `T...` (version byte 0x41), case kept; the hex form `41` + 40 hex
  digits is turned into it.
- bitcoin: base58check P2PKH (`1...`) and P2SH (`3...`), case kept; segwit bech32
  (version 0) and bech32m (versions 1 to 16) with the `bc` prefix, lowercase.
- other chains (litecoin, monero, ...): checked for form only (20 to 120 letters, digits,
  and `:` `_` `-` `.`), case kept.

>>> wallet_key("tron", normalise("tron", "41" + "00" * 20))
'tron:T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb'
>>> split_key("0xab5801a7d398351b8be11c439e05c5b3259aec9b")
('ethereum', '0xab5801a7d398351b8be11c439e05c5b3259aec9b')
"""

from __future__ import annotations

import re

from graph.errors import GraphError

DEFAULT = "ethereum"
"""The chain of a row without a `chain` column (or with an empty one)."""

EVM_IDS = {"ethereum": 1, "optimism": 10, "bsc": 56, "ethereum-classic": 61, "polygon": 137, "base": 8453,
           "arbitrum": 42161, "avalanche": 43114}
"""EVM networks known by name, with their chain ids; any other EVM network is `evm-<chain id>`."""
NATIVE_ASSETS = {"ethereum": "ETH", "optimism": "ETH", "base": "ETH", "arbitrum": "ETH", "bsc": "BNB",
                 "polygon": "POL", "avalanche": "AVAX", "ethereum-classic": "ETC", "evm-31337": "ETH"}
"""The coin each known EVM network pays in (the asset its native transfers are written with); 31337 is the local
development chain of anvil and Hardhat, which pays in ETH."""
BASE58_CHAINS = ("tron", "bitcoin")
"""Chains whose addresses are base58check (case matters), checked by their checksum."""
OTHER_CHAINS = ("litecoin", "bitcoin-cash", "bitcoin-sv", "bitcoin-gold", "dash", "dogecoin", "zcash", "monero",
                "ripple", "verge", "solana", "bnb-beacon", "cardano", "stellar")
"""Further chains the sanctions lists name, whose addresses are checked for form only."""

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
_EVM_OTHER = re.compile(r"^evm-([1-9][0-9]{0,17})$")
_HEX = re.compile(r"^0x[0-9a-fA-F]{40}$")
_TRON_HEX = re.compile(r"^(?:0x)?41[0-9a-fA-F]{40}$")
_BASE58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+$")
_LOST_BASE58 = re.compile(r"^[1-9a-z]+$")
"""A base58 address lowercased: its letters folded, so `l` and `o` may appear."""
_FORM = re.compile(r"^[0-9A-Za-z:_.\-]{20,120}$")


class AddressError(GraphError, ValueError):
    """An address that is not valid on its chain; the message says why."""


class ChainNameError(GraphError, ValueError):
    """A chain name this project does not know."""


def is_evm(chain: str) -> bool:
    """Whether the chain is an EVM network (0x addresses)."""
    return chain in EVM_IDS or _EVM_OTHER.match(chain) is not None


def native_asset(chain: str) -> str:
    """The asset of an EVM network's native transfers: its coin, or `<chain>:native` for a network not known here
    (so that no price table prices it by mistake).

    >>> native_asset("polygon"), native_asset("evm-5"), native_asset("evm-31337")
    ('POL', 'evm-5:native', 'ETH')
    """
    return NATIVE_ASSETS.get(chain, f"{chain}:native")


def chain_for_id(chain_id: int) -> str:
    """The name of an EVM network from its chain id.

    >>> chain_for_id(1), chain_for_id(137), chain_for_id(31337)
    ('ethereum', 'polygon', 'evm-31337')
    """
    for name, known in EVM_IDS.items():
        if known == chain_id:
            return name
    return f"evm-{chain_id}"


def check_chain(chain: str) -> str:
    """The chain's name, or ChainNameError; an empty name is the default chain."""
    if chain == "":
        return DEFAULT
    if is_evm(chain) or chain in BASE58_CHAINS or chain in OTHER_CHAINS:
        return chain
    if not _NAME.match(chain):
        raise ChainNameError(f"chain {chain!r} is not a chain name (lowercase letters, digits and dashes)")
    known = ", ".join([*EVM_IDS, "evm-<chain id>", *BASE58_CHAINS, *OTHER_CHAINS])
    raise ChainNameError(f"chain {chain!r} is not known here; known: {known}")


def normalise(chain: str, address: str) -> str:
    """The address in its canonical form on `chain`, or AddressError saying why it is not one."""
    if address == "":
        raise AddressError("missing address")
    if is_evm(chain):
        return _evm(address)
    if chain == "tron":
        return _tron(address)
    if chain == "bitcoin":
        return _bitcoin(address)
    if not _FORM.match(address):
        raise AddressError(f"{address!r} is not an address on {chain} (20 to 120 letters and digits)")
    return address


def normalise_lost_case(chain: str, address: str) -> str:
    """A base58 address whose letters' case was lost (a list that lowercased it), lowercase, checked for form.

    Its checksum cannot be verified; it matches the wallet whose address lowercases to it (see `folded`).
    """
    lowered = address.lower()
    if is_evm(chain) or (chain == "bitcoin" and lowered.startswith("bc1")):
        return normalise(chain, lowered)  # case-insensitive formats: nothing was lost
    if chain == "tron":
        if len(lowered) != 34 or not lowered.startswith("t") or not _LOST_BASE58.match(lowered):
            raise AddressError(f"{address!r} is not a Tron address with its case lost (t + 33 base58 letters)")
        return lowered
    if chain == "bitcoin":
        if not 26 <= len(lowered) <= 35 or lowered[0] not in "13" or not _LOST_BASE58.match(lowered):
            raise AddressError(f"{address!r} is not a Bitcoin address with its case lost (1 or 3, then base58)")
        return lowered
    return normalise(chain, lowered).lower()


def folded(key: str) -> str:
    """A wallet key with its address's case folded, what a list entry with its case lost is compared to."""
    return key.lower()


def wallet_key(chain: str, address: str) -> str:
    """The engine's key of a wallet: the canonical address on the default chain, else `chain:address`."""
    return address if chain == DEFAULT else f"{chain}:{address}"


def split_key(key: str) -> tuple[str, str]:
    """(chain, address) of a wallet key."""
    chain, colon, address = key.partition(":")
    return (chain, address) if colon and not key.startswith("0x") else (DEFAULT, key)


def tron_from_evm(address: str) -> str:
    """The Tron address with the same 20 bytes as an EVM address (what Tron's own ABI and logs carry).

    >>> tron_from_evm("0x" + "00" * 20)
    'T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb'
    """
    return _tron("41" + _evm(address)[2:])


def _evm(address: str) -> str:
    if not _HEX.match(address):
        raise AddressError(f"{address!r} is not an address (0x followed by 40 hex digits)")
    lowered = address.lower()
    if address != lowered and address[2:] != address[2:].upper():
        from eth_utils import is_checksum_address

        if not is_checksum_address(address):
            raise AddressError(f"{address} has a bad EIP-55 checksum (mixed case that does not match)")
    return lowered


def _tron(address: str) -> str:
    import base58

    if _TRON_HEX.match(address):
        return base58.b58encode_check(bytes.fromhex(address.removeprefix("0x"))).decode()
    if not address.startswith("T") or not _BASE58.match(address):
        raise AddressError(f"{address!r} is not a Tron address (T + 33 base58 letters, or 41 + 40 hex digits)")
    payload = _base58check(address, "Tron")
    if len(payload) != 21 or payload[0] != 0x41:
        raise AddressError(f"{address} is not a Tron address (a 21-byte payload starting 0x41)")
    return address


def _bitcoin(address: str) -> str:
    if address[:3].lower() == "bc1":
        return _segwit(address)
    if address[:1] not in ("1", "3") or not _BASE58.match(address):
        raise AddressError(f"{address!r} is not a Bitcoin address (1..., 3... or bc1...)")
    payload = _base58check(address, "Bitcoin")
    if len(payload) != 21 or payload[0] not in (0x00, 0x05):
        raise AddressError(f"{address} is not a Bitcoin address (P2PKH or P2SH: 21 bytes, version 0 or 5)")
    return address


_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32M = 0x2BC830A3
"""BIP 350's checksum constant (bech32's is 1)."""


def _segwit(address: str) -> str:
    """A segwit address (BIP 173 bech32 for version 0, BIP 350 bech32m for versions 1 to 16), lowercase."""
    import bech32

    if address != address.lower() and address != address.upper():
        raise AddressError(f"{address} mixes upper and lower case (bech32 allows one or the other)")
    lowered = address.lower()
    hrp, _, body = lowered.rpartition("1")
    bad = AddressError(f"{address} is not a valid segwit address (bad bech32/bech32m checksum or program)")
    if hrp != "bc" or len(lowered) > 90 or len(body) < 7 or any(ch not in _BECH32_CHARSET for ch in body):
        raise bad
    data = [_BECH32_CHARSET.index(ch) for ch in body]
    version, checked = data[0], bech32.bech32_polymod(bech32.bech32_hrp_expand(hrp) + data)
    program = bech32.convertbits(data[1:-6], 5, 8, False)
    if checked != (1 if version == 0 else _BECH32M) or version > 16 or program is None \
            or not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        raise bad
    return lowered


def _base58check(address: str, name: str) -> bytes:
    import base58

    try:
        return base58.b58decode_check(address)
    except ValueError:
        raise AddressError(f"{address} has a bad base58check checksum (not a {name} address as written)") from None
