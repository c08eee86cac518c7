"""Wallet keys of whole columns: an address column and its chain column made into `chain:address` keys, checked.

The per-value rules are in graph/chains.py; here they run once per distinct key, and the
default chain's bare addresses are left to the vectorised checks of graph/fields.py.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graph import chains


def keyed(address: pa.Array | pa.ChunkedArray, chain: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Each row's wallet key as written: the address on the default chain (or an empty chain), else `chain:address`.

    >>> keyed(pa.array(["0xab", "T1"]), pa.array(["", "tron"])).to_pylist()
    ['0xab', 'tron:T1']
    """
    chain = pc.fill_null(pc.cast(chain, pa.string()), "")
    address = pc.fill_null(pc.cast(address, pa.string()), "")
    default = pc.or_(pc.equal(chain, ""), pc.equal(chain, chains.DEFAULT))
    if pc.all(default).as_py() is not False:
        return address
    joined = pc.binary_join_element_wise(chain, address, ":")
    return pc.if_else(default, address, joined)


def canonical_keys(spelled: pa.Array, keyed_rows: np.ndarray) -> tuple[pa.Array, dict[int, str]]:
    """For each distinct key with a chain: its canonical form (others ""), and what is wrong with the bad ones."""
    out = [""] * len(spelled)
    problems: dict[int, str] = {}
    for i in np.flatnonzero(keyed_rows):
        key = spelled[int(i)].as_py()
        try:
            out[int(i)] = canonical(key)
        except chains.ChainNameError as error:
            problems[int(i)] = str(error)
        except chains.AddressError as error:
            problems[int(i)] = f"{error} (chain {chains.split_key(key)[0]})"
    return pa.array(out, pa.string()), problems


def canonical(key: str) -> str:
    """The canonical wallet key of a key as written, or ChainNameError / AddressError.

    >>> canonical("polygon:0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B")
    'polygon:0xab5801a7d398351b8be11c439e05c5b3259aec9b'
    """
    chain, address = chains.split_key(key)
    chain = chains.check_chain(chain)
    return chains.wallet_key(chain, chains.normalise(chain, address))


def spellings(keys: pa.Array) -> pa.Array:
    """The lowercase texts a file's address column may hold for these wallets (any chain): what a scan that
    reads only the address column keeps before parsing the rows it kept into exact keys.

    >>> spellings(pa.array(["tron:T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"])).to_pylist()
    ['t9yd14nj9j7xab4dbgeix9h8unkkhxuwwb', '410000000000000000000000000000000000000000', '0x410000000000000000000000000000000000000000']
    """
    out: list[str] = []
    for key in pc.unique(pa.array(keys, pa.string())).to_pylist():
        chain, address = chains.split_key(key)
        out.append(address.lower())
        if chain == "tron":
            import base58

            hexed = base58.b58decode_check(address).hex()
            out += [hexed, "0x" + hexed]
    return pa.array(out, pa.string())
