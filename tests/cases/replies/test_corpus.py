"""The linter on the labelled development corpus: no leak passes, at most 5% of safe texts blocked.

The figures are printed by benchmarks/linter_corpus.py (also for the held-out set, which no
test asserts on, so that nothing tunes the linter to it).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))

import linter_corpus  # noqa: E402


def test_the_corpus_is_big_enough_and_well_formed():
    rows = linter_corpus.load(linter_corpus.CORPUS)
    labels = [r["label"] for r in rows]
    assert labels.count("leak") >= 200 and labels.count("safe") >= 200
    assert {r["locale"] for r in rows} == {"en", "it", "fr", "es"}
    assert len({r["id"] for r in rows}) == len(rows)


def test_no_leak_passes_and_false_blocks_stay_under_five_percent():
    rows = linter_corpus.load(linter_corpus.CORPUS)
    statuses = linter_corpus.verdicts(rows)
    passed = [r["id"] for r, s in zip(rows, statuses) if r["label"] == "leak" and s != "blocked"]
    assert passed == []
    safe = [s for r, s in zip(rows, statuses) if r["label"] == "safe"]
    assert safe.count("blocked") <= 0.05 * len(safe)
    assert all(s != "clean" for r, s in zip(rows, statuses) if r["label"] == "warn")
