"""A real local Ethereum node (anvil, from tools/node) and the test tokens compiled with solc-js.

Skipped when the node tools are not installed (scripts/test installs them when npm is
there), unless REQUIRE_NODE is set, as in CI.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / "tools" / "node" / "node_modules" / ".bin"
SOURCES = [Path(__file__).with_name("Token.sol"), Path(__file__).with_name("Payments.sol")]


def _missing(tool: str) -> None:
    if os.environ.get("REQUIRE_NODE"):
        pytest.fail(f"REQUIRE_NODE is set but {BIN / tool} is missing (npm install in tools/node)")
    pytest.skip(f"{tool} is not installed (npm install in tools/node)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def anvil(*options: str, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """A fresh anvil chain on 127.0.0.1 (ten funded accounts, and `options`), ready: (its URL, its process)."""
    if not (BIN / "anvil").exists():
        _missing("anvil")
    port = port or free_port()
    process = subprocess.Popen([str(BIN / "anvil"), "--host", "127.0.0.1", "--port", str(port), "--accounts", "10",
                                "--silent", *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    from web3 import Web3
    w3 = Web3(Web3.HTTPProvider(url))
    for _ in range(100):
        try:
            w3.eth.chain_id
            break
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("anvil did not start")
    try:
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def node():
    """A fresh anvil chain on 127.0.0.1 (chain id 31337, ten funded accounts); its URL."""
    with anvil() as (url, _):
        yield url


@pytest.fixture
def mainnet_node():
    """A fresh anvil chain that says it is chain 1 (ethereum): its rows are on the default chain; its URL."""
    with anvil("--chain-id", "1") as (url, _):
        yield url


@pytest.fixture(scope="session")
def contracts(tmp_path_factory):
    """{name: (abi, bytecode)} of the test tokens and payment contracts, compiled by solc-js."""
    if not (BIN / "solcjs").exists():
        _missing("solcjs")
    out = tmp_path_factory.mktemp("solc")
    subprocess.run([str(BIN / "solcjs"), "--bin", "--abi", "--optimize", "--base-path", str(SOURCES[0].parent),
                    "-o", str(out), *map(str, SOURCES)], check=True, capture_output=True)
    built = {}
    for name in ("Token", "RawToken", "Splitter"):
        [abi] = out.glob(f"*_{name}.abi")
        [binary] = out.glob(f"*_{name}.bin")
        built[name] = (json.loads(abi.read_text()), "0x" + binary.read_text().strip())
    return built
