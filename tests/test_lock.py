"""requirements.lock pins, with hashes, every dependency pyproject.toml names (scripts/lock refreshes it)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_declared_dependency_is_pinned_with_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + [d for extra in ("dev", "spark") for d in project["optional-dependencies"][extra]]
    names = {normalised(re.match(r"[A-Za-z0-9_.\-]+", d).group(0)) for d in declared}
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {normalised(m.group(1)): m.group(2) for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$", lock, re.M)}
    assert names <= set(pinned), names - set(pinned)
    hashed = re.findall(r"^[A-Za-z0-9_.\-]+==\S+ \\\n    --hash=sha256:[0-9a-f]{64}", lock, re.M)
    assert len(hashed) == len(pinned) > 50  # every pin carries at least one hash
