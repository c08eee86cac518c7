"""A seeded console database: the fixture scenario scored, its cases opened, one user per role."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
USERS = {"ada": "admin", "abe": "admin", "ann": "analyst", "bob": "analyst", "sam": "supervisor",
         "sia": "supervisor", "sue": "support"}
PASSWORD = "correct horse battery"
OPENED = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)


def seed(url: str) -> None:
    """Score the scenario into the database at `url` and add USERS (all with PASSWORD)."""
    from cases import staff
    from cases.db import open_store
    from cases.opening import open_run
    from graph.times import parse_time
    from kyt import batch

    store = open_store(url)
    for name, role in USERS.items():
        _, grant = staff.add_user(store, "system:tests" if name == "ada" else "ada", name, role=role, now=OPENED,
                                  password=PASSWORD)
        if grant is not None:  # the supervisors: abe, the second admin, approves what ada asked for
            staff.decide(store, "abe", grant.id, approve=True, now=OPENED)
    fixtures = ROOT / "fixtures"
    request = batch.ScoreRequest(fixtures / "scenario" / "deposits.csv", fixtures / "scenario" / "transfers.csv",
                                 fixtures / "lists" / "flagged.csv", parse_time("2026-11-20"),
                                 fixtures / "lists" / "services.csv")
    open_run(store, batch.run(request), OPENED)
    store.dispose()


@pytest.fixture
def console_db(tmp_path, monkeypatch):
    """A fresh seeded SQLite database that the console pages use (KYT_DB)."""
    url = f"sqlite:///{tmp_path / 'console.db'}"
    seed(url)
    monkeypatch.setenv("KYT_DB", url)
    return url
