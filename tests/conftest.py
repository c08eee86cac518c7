"""What every test shares: no identity from the machine running the tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_identity_of_the_machine(tmp_path_factory, monkeypatch):
    """Sessions go to a folder of the test's own, and no service account or user name comes from the environment."""
    monkeypatch.setenv("KYT_CONFIG_DIR", str(tmp_path_factory.mktemp("kyt-config")))
    for name in ("KYT_USER", "KYT_SERVICE", "KYT_SERVICE_SECRET", "KYT_SERVICE_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)
