"""The documentation stays complete: every command, every shipped rule, every page, nothing cited from outside."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import typer

from ui.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OUTSIDE = ("DESIGN" + ".md", "REGULATORY" + ".md", "../" + "shared")
"""Documents that live outside the repository (spelt in parts so that this file does not cite them)."""


def docs_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in sorted(DOCS.glob("*.md")))


def mentioned(name: str, text: str) -> bool:
    """Whether `name` appears as a whole command or id: not as part of a longer one ("train" in "train-triage")."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def command_names(command, prefix: str = "kyt") -> list[str]:
    """`kyt NAME` for every command and sub-command of the app, groups included (a group has `commands`)."""
    names = []
    for name, sub in getattr(command, "commands", {}).items():
        names.append(f"{prefix} {name}")
        if hasattr(sub, "commands"):
            names += command_names(sub, f"{prefix} {name}")
    return names


def project_files() -> list[Path]:
    """The files of the project as git sees them: tracked, and new ones not ignored."""
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                                capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / name for name in listed.decode().split("\0") if name and (ROOT / name).is_file()]


def test_the_command_walk_finds_nested_commands():
    names = command_names(typer.main.get_command(app))
    assert {"kyt score", "kyt cases", "kyt cases assign", "kyt deadlines recompute"} <= set(names)
    assert mentioned("kyt model train", "run `kyt model train --out m`")
    assert not mentioned("kyt model train", "run `kyt model train-triage`")


def test_every_command_is_documented():
    text = docs_text()
    missing = [name for name in command_names(typer.main.get_command(app)) if not mentioned(name, text)]
    assert missing == [], f"not mentioned anywhere in docs/: {missing}"


def test_every_rule_of_the_shipped_policies_is_in_the_rules_page():
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    policies = sorted((ROOT / "kyt" / "policies").glob("*.toml"))
    assert policies
    for policy in policies:
        ids = [rule["id"] for rule in tomllib.loads(policy.read_text(encoding="utf-8"))["rules"]]
        missing = [rule_id for rule_id in ids if not mentioned(rule_id, text)]
        assert missing == [], f"{policy.name}: rules missing from docs/rules.md: {missing}"


def test_every_page_is_in_the_index():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    pages = [page.name for page in sorted(DOCS.glob("*.md")) if page.name != "README.md"]
    assert pages
    assert [page for page in pages if f"]({page})" not in index] == []


def test_no_file_cites_a_document_outside_the_repository():
    citing = []
    for path in project_files():
        text = path.read_bytes().decode("utf-8", errors="ignore").lower()
        citing += [f"{path.relative_to(ROOT)}: {name}" for name in OUTSIDE if name.lower() in text]
    assert citing == []
