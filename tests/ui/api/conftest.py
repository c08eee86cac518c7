"""The screening API's shared set-up: `kyt demo`, then `kyt serve` (real uvicorn on 127.0.0.1) on its database."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
KYT = Path(sys.executable).parent / "kyt"
FIXTURES = ROOT / "fixtures"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The demo's database and key, and a server on it: (base URL, database URL, demo key)."""
    folder = tmp_path_factory.mktemp("api")
    url = f"sqlite:///{folder / 'demo.db'}"
    subprocess.run([str(KYT), "demo", "--out-dir", str(folder / "demo"), "--db", url], check=True,
                   capture_output=True, cwd=folder)
    key = (folder / "demo" / "api-key").read_text().strip()
    assert (folder / "demo" / "api-key").stat().st_mode & 0o777 == 0o600
    port = free_port()
    log = open(folder / "serve.log", "w")
    process = subprocess.Popen([str(KYT), "serve", "--transfers", str(FIXTURES / "scenario" / "transfers.csv"),
                                "--flagged", str(FIXTURES / "lists" / "flagged.csv"), "--services",
                                str(FIXTURES / "lists" / "services.csv"), "--db", url, "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if requests.get(f"{base}/v1/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("kyt serve did not start: " + (folder / "serve.log").read_text())
    yield base, url, key
    process.terminate()
    process.wait(timeout=10)


def deposit(deposit_id: str = "D-1001", **changes) -> dict:
    """A row of the fixture deposits as JSON, with changes."""
    import csv

    with (FIXTURES / "scenario" / "deposits.csv").open(newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["deposit_id"] == "D-1001")
    return {**row, "deposit_id": deposit_id, "block_number": int(row["block_number"]),
            "position": int(row["position"]), **changes}


def post(base: str, key: str | None, body: dict, path: str = "/v1/deposits/screen") -> requests.Response:
    return requests.post(base + path, json=body, headers={"Authorization": f"Bearer {key}"} if key else {}, timeout=30)
